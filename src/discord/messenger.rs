//! The real [`Messenger`]: sends through serenity's `Http`, with mentions
//! disabled, the request's buttons, and retries that honour Discord's rate
//! limits and outlast its brief failures; a stop signal cuts a wait short.

use std::num::NonZeroU32;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use poise::serenity_prelude as serenity;
use reqwest::header::HeaderMap;
use serenity::http::{LightMethod, Request, Route};
use serenity::{
    ButtonStyle, ChannelId, CreateActionRow, CreateAllowedMentions, CreateButton, CreateMessage,
    Http, MessageId, MessageReference, Nonce, ReactionType, UserId,
};
use tokio::sync::Mutex;

use super::Stop;
use crate::discord::ratelimit::{GlobalLimit, Limiter, RateLimitHeaders, RouteKey};
use crate::ids::RequestId;
use crate::posting::buttons::{Button, PrayerAction};
use crate::posting::{Messenger, OutgoingMessage, RECENT_MESSAGES, SeenMessage, SendError};

/// How often a send that failed on Discord's side (a 5xx, or no answer) is
/// tried before the post stops and says why.
const ATTEMPTS: u32 = 3;

/// How many rate-limit waits one send may sit through.
const RATE_LIMIT_WAITS: u32 = 5;

/// The longest single wait for a rate limit. A post asked to wait longer
/// stops and tells the admin when to try again, rather than hold the
/// command (and a stopping process) for minutes.
const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// The wait for a 429 that names none.
const UNSTATED_WAIT: Duration = Duration::from_secs(1);

pub struct HttpMessenger {
    http: Arc<Http>,
    /// For requests the bot sends itself, to read a 429's `retry_after`
    /// (serenity's error drops it).
    client: reqwest::Client,
    /// Discord's rate limits as the whole process has met them.
    limiter: Arc<Mutex<Limiter>>,
    stop: Stop,
    /// The bot's own user id, asked for once, the first time a resumed
    /// post reads a channel back.
    bot: tokio::sync::OnceCell<u64>,
}

impl HttpMessenger {
    pub fn new(http: Arc<Http>, stop: Stop) -> Self {
        HttpMessenger {
            http,
            client: reqwest::Client::new(),
            limiter: process_limiter(),
            stop,
            bot: tokio::sync::OnceCell::new(),
        }
    }
}

/// The one [`Limiter`] of the process. Discord counts a bot's requests
/// wherever they come from, and a messenger is made per command, so every
/// messenger must share what any of them learned; a static is the one
/// place they all reach without threading it through every command.
static LIMITER: OnceLock<Arc<Mutex<Limiter>>> = OnceLock::new();

/// Makes the process's limiter hold to `rate` requests per second under
/// the global limit (`DISCORD_GLOBAL_RATE_LIMIT`; see
/// [`GlobalLimit::per_second`]). Called once when the bot starts, before
/// any messenger is made; says `false` and changes nothing if the limiter
/// was already made.
pub fn use_global_rate(rate: NonZeroU32) -> bool {
    let limiter = Limiter::new(GlobalLimit::per_second(rate));
    LIMITER.set(Arc::new(Mutex::new(limiter))).is_ok()
}

/// The process's limiter: Discord's default global limit unless
/// [`use_global_rate`] said otherwise first.
fn process_limiter() -> Arc<Mutex<Limiter>> {
    LIMITER.get_or_init(Arc::default).clone()
}

/// The buttons under a request; their custom ids come from [`Button`].
pub fn request_buttons(request_id: i64) -> CreateActionRow {
    let request = RequestId::new(request_id);
    CreateActionRow::Buttons(vec![
        CreateButton::new(Button::Request(PrayerAction::Commit, request).custom_id())
            .label("I'll pray")
            .style(ButtonStyle::Primary),
        CreateButton::new(Button::Request(PrayerAction::Prayed, request).custom_id())
            .label("Prayed")
            .style(ButtonStyle::Success),
    ])
}

/// Mentions that ping no one: no users, roles or @everyone, whatever the
/// text holds.
pub fn no_pings() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
        .empty_users()
        .empty_roles()
        .everyone(false)
        .replied_user(false)
}

fn channel_id(id: u64) -> Result<ChannelId, SendError> {
    if id == 0 {
        return Err(SendError("the stored channel id is 0".into()));
    }
    Ok(ChannelId::new(id))
}

impl Messenger for HttpMessenger {
    async fn send(&self, channel: u64, message: &OutgoingMessage) -> Result<u64, SendError> {
        let channel = channel_id(channel)?;
        let mentions = no_pings().users(message.notify.iter().map(|u| UserId::new(*u)));
        let mut builder = CreateMessage::new()
            .content(message.content.clone())
            .allowed_mentions(mentions)
            .nonce(Nonce::String(message.nonce.clone()))
            .enforce_nonce(true);
        if let Some(reply_to) = message.reply_to {
            builder = builder.reference_message(
                MessageReference::from((channel, MessageId::new(reply_to)))
                    .fail_if_not_exists(false),
            );
        }
        if let Some(request_id) = message.buttons_for {
            builder = builder.components(vec![request_buttons(request_id)]);
        }
        let body = serde_json::to_vec(&builder)
            .map_err(|e| SendError(format!("the message could not be encoded ({e})")))?;
        self.with_retries(|| async {
            let route = Route::ChannelMessages {
                channel_id: channel,
            };
            let answer = self
                .execute(Request::new(route, LightMethod::Post).body(Some(body.clone())))
                .await?;
            snowflake_in(&answer, "the message")
        })
        .await
    }

    async fn react(&self, channel: u64, message: u64, emoji: &str) -> Result<(), SendError> {
        let channel = channel_id(channel)?;
        if message == 0 {
            return Err(SendError("the message id is 0".into()));
        }
        let reaction = ReactionType::Unicode(emoji.to_owned()).as_data();
        self.with_retries(|| async {
            let route = Route::ChannelMessageReactionMe {
                channel_id: channel,
                message_id: MessageId::new(message),
                reaction: &reaction,
            };
            self.execute(Request::new(route, LightMethod::Put))
                .await
                .map(drop)
        })
        .await
    }

    async fn recent_messages(&self, channel: u64) -> Result<Vec<SeenMessage>, SendError> {
        let channel = channel_id(channel)?;
        let bot = *self
            .bot
            .get_or_try_init(|| {
                self.with_retries(|| async {
                    let answer = self
                        .execute(Request::new(Route::UserMe, LightMethod::Get))
                        .await?;
                    snowflake_in(&answer, "the bot's user")
                })
            })
            .await?;
        // One page: see RECENT_MESSAGES for why that is enough.
        let page = self
            .with_retries(|| async {
                let route = Route::ChannelMessages {
                    channel_id: channel,
                };
                let limit = vec![("limit", RECENT_MESSAGES.to_string())];
                self.execute(Request::new(route, LightMethod::Get).params(Some(limit)))
                    .await
            })
            .await?;
        seen_messages(&page, bot)
    }

    fn stopping(&self) -> bool {
        self.stop.is_set()
    }
}

/// The messages of a page of a channel's history, as a resumed post
/// compares them with what it planned: who wrote each, its text, and the
/// request its buttons name.
fn seen_messages(page: &[u8], bot: u64) -> Result<Vec<SeenMessage>, SendError> {
    let json: serde_json::Value = serde_json::from_slice(page).map_err(|e| {
        SendError(format!(
            "Discord's list of messages could not be read ({e})"
        ))
    })?;
    let messages = json
        .as_array()
        .ok_or_else(|| SendError("Discord's answer was not a list of messages".into()))?;
    Ok(messages
        .iter()
        .filter_map(|message| {
            let id = snowflake(&message["id"])?;
            let request = message["components"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|row| row["components"].as_array())
                .flatten()
                .filter_map(|component| component["custom_id"].as_str())
                .find_map(|custom_id| match Button::parse(custom_id) {
                    Some(Button::Request(_, request)) => Some(request.get()),
                    _ => None,
                });
            Some(SeenMessage {
                id,
                from_bot: snowflake(&message["author"]["id"]) == Some(bot),
                content: message["content"].as_str().unwrap_or_default().to_owned(),
                request,
            })
        })
        .collect())
}

/// A Discord id, which its JSON carries as a string.
fn snowflake(value: &serde_json::Value) -> Option<u64> {
    value
        .as_str()
        .and_then(|id| id.parse::<u64>().ok())
        .filter(|id| *id != 0)
}

/// The `id` of the object Discord answered with (`what` names it).
fn snowflake_in(answer: &[u8], what: &str) -> Result<u64, Failure> {
    // Discord did answer 200, so these failures are final, not retried.
    let unreadable = |reason: String| Failure {
        status: Some(200),
        retry_after: None,
        reason,
    };
    let json: serde_json::Value = serde_json::from_slice(answer)
        .map_err(|e| unreadable(format!("Discord's answer could not be read ({e})")))?;
    snowflake(&json["id"])
        .ok_or_else(|| unreadable(format!("Discord's answer carried no id for {what}")))
}

/// Why one attempt at a request failed.
#[derive(Debug)]
struct Failure {
    /// Discord's status, or `None` when there was no answer.
    status: Option<u16>,
    /// How long Discord asked the bot to wait (a 429).
    retry_after: Option<Duration>,
    /// What went wrong, as a clause an admin can read.
    reason: String,
}

impl Failure {
    fn unreachable(error: impl std::fmt::Display) -> Self {
        Failure {
            status: None,
            retry_after: None,
            reason: format!("Discord could not be reached ({error})"),
        }
    }

    /// Discord's answer: its status, `retry_after` from the body or the
    /// headers, and its own message when the body has one.
    fn from_answer(status: reqwest::StatusCode, headers: &HeaderMap, body: &[u8]) -> Self {
        let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
        };
        let retry_after = json
            .as_ref()
            .and_then(|j| j["retry_after"].as_f64())
            .or_else(|| header("retry-after"))
            .or_else(|| header("x-ratelimit-reset-after"))
            .and_then(|secs| Duration::try_from_secs_f64(secs).ok());
        let said = json.as_ref().and_then(|j| {
            let message = j["message"].as_str()?;
            Some(match j["code"].as_i64() {
                Some(code) if code != 0 => format!("{message}, code {code}"),
                _ => message.to_owned(),
            })
        });
        let reason = match said {
            Some(said) => format!("Discord answered {} ({said})", status.as_u16()),
            None => format!("Discord answered {status}"),
        };
        Failure {
            status: Some(status.as_u16()),
            retry_after,
            reason,
        }
    }

    /// A failure that went through serenity's own `Http` (with its rate
    /// limiter on, which waits out 429s itself).
    fn from_serenity(error: serenity::Error) -> Self {
        match error {
            serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(answer)) => {
                let status = answer.status_code;
                // Code -1 is serenity's own "could not decode" text, not Discord's words.
                let reason = if answer.error.code == -1 {
                    format!("Discord answered {status}")
                } else {
                    format!(
                        "Discord answered {} ({}, code {})",
                        status.as_u16(),
                        answer.error.message,
                        answer.error.code
                    )
                };
                Failure {
                    status: Some(status.as_u16()),
                    retry_after: None,
                    reason,
                }
            }
            other => Failure::unreachable(other),
        }
    }
}

impl HttpMessenger {
    /// Whether requests go through the process's [`Limiter`]: behind a
    /// proxy, where serenity's own rate limiter is off. Against Discord
    /// itself serenity's limiter paces them, and one limiter is enough.
    fn paces_itself(&self) -> bool {
        self.http.ratelimiter.is_none()
    }

    /// Sends one request and returns the body of a successful answer.
    /// Behind a proxy serenity's rate limiter is off and its errors drop
    /// `retry_after`, so the request is built by serenity and sent here,
    /// where the whole answer can be read, after the process's limiter
    /// lets it go; its answer's rate-limit headers (and a 429) teach the
    /// limiter. Against Discord itself serenity's limiter sends it and
    /// waits out rate limits.
    async fn execute(&self, request: Request<'_>) -> Result<Vec<u8>, Failure> {
        if !self.paces_itself() {
            let answer = self
                .http
                .request(request)
                .await
                .map_err(Failure::from_serenity)?;
            return Ok(answer.bytes().await.map_err(Failure::unreachable)?.to_vec());
        }
        let request = request
            .build(&self.client, self.http.token(), self.http.proxy.as_deref())
            .map_err(Failure::unreachable)?
            .build()
            .map_err(Failure::unreachable)?;
        let route = RouteKey::new(request.method().as_str(), request.url().path());
        self.wait_turn(&route).await?;
        let answer = match self.client.execute(request).await {
            Ok(answer) => answer,
            Err(error) => {
                self.limiter.lock().await.release(&route);
                return Err(Failure::unreachable(error));
            }
        };
        let status = answer.status();
        let headers = answer.headers().clone();
        let limits = RateLimitHeaders::from_pairs(
            headers
                .iter()
                .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?))),
        );
        self.limiter
            .lock()
            .await
            .update(&route, &limits, Instant::now());
        let body = answer.bytes().await.map_err(Failure::unreachable)?;
        if status.is_success() {
            return Ok(body.to_vec());
        }
        let failure = Failure::from_answer(status, &headers, &body);
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let global = limits.global || says_global(&body);
            let wait = failure.retry_after.unwrap_or(UNSTATED_WAIT);
            self.limiter
                .lock()
                .await
                .on_429(&route, wait, global, Instant::now());
        }
        Err(failure)
    }

    /// Waits until the process's limiter lets a request on `route` go, and
    /// takes its place. A wait longer than [`LONGEST_WAIT`] is not sat
    /// through but failed as the 429 it stands for; a stop ends the wait.
    async fn wait_turn(&self, route: &RouteKey) -> Result<(), Failure> {
        loop {
            // The lock is held only to ask, never across the wait.
            let asked = self.limiter.lock().await.try_reserve(route, Instant::now());
            let Err(wait) = asked else {
                return Ok(());
            };
            if wait > LONGEST_WAIT {
                return Err(Failure {
                    status: Some(429),
                    retry_after: Some(wait),
                    reason: rate_limited_for(wait),
                });
            }
            let mut stop = self.stop.clone();
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = stop.wait() => {
                    return Err(Failure {
                        status: None,
                        retry_after: None,
                        reason: "the bot is stopping".into(),
                    });
                }
            }
        }
    }

    /// Runs `call` until it succeeds or fails for good. A 429 waits as long
    /// as Discord asks (up to [`LONGEST_WAIT`]); a 5xx or no answer is tried
    /// [`ATTEMPTS`] times with short pauses; anything else is final. A stop
    /// signal ends any wait at once.
    async fn with_retries<T, F>(&self, call: impl FnMut() -> F) -> Result<T, SendError>
    where
        F: Future<Output = Result<T, Failure>>,
    {
        self.retrying(call)
            .await
            .map_err(|failure| SendError(failure.reason))
    }

    /// [`Self::with_retries`], keeping the last failure's status.
    async fn retrying<T, F>(&self, mut call: impl FnMut() -> F) -> Result<T, Failure>
    where
        F: Future<Output = Result<T, Failure>>,
    {
        let stopping = || Failure {
            status: None,
            retry_after: None,
            reason: "the bot is stopping".into(),
        };
        let (mut failures, mut rate_limits) = (0, 0);
        loop {
            let failure = match call().await {
                Ok(value) => return Ok(value),
                Err(failure) => failure,
            };
            if self.stop.is_set() {
                return Err(stopping());
            }
            let pause = match failure.status {
                Some(429) => {
                    let wait = failure.retry_after.unwrap_or(UNSTATED_WAIT);
                    rate_limits += 1;
                    if wait > LONGEST_WAIT {
                        return Err(Failure {
                            reason: rate_limited_for(wait),
                            ..failure
                        });
                    }
                    if rate_limits > RATE_LIMIT_WAITS {
                        return Err(Failure {
                            reason: "Discord kept rate-limiting the bot; wait a minute".into(),
                            ..failure
                        });
                    }
                    // The limiter has the 429 and holds the next attempt
                    // (and every other request it blocks) for the wait.
                    if self.paces_itself() {
                        Duration::ZERO
                    } else {
                        wait
                    }
                }
                None | Some(500..=599) => {
                    failures += 1;
                    if failures >= ATTEMPTS {
                        return Err(failure);
                    }
                    Duration::from_millis(250 * u64::from(failures * failures))
                }
                Some(_) => return Err(failure),
            };
            tracing::warn!(reason = %failure.reason, ?pause, "Discord refused a request; trying again");
            let mut stop = self.stop.clone();
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = stop.wait() => return Err(stopping()),
            }
        }
    }

    /// Reads one message (with its reaction counts), paced and retried as
    /// sends are.
    pub async fn read_message(&self, channel: u64, message: u64) -> Result<Vec<u8>, ReadError> {
        let (channel, message) = (channel_id(channel)?, message_id(message)?);
        self.retrying(|| async {
            let route = Route::ChannelMessage {
                channel_id: channel,
                message_id: message,
            };
            self.execute(Request::new(route, LightMethod::Get)).await
        })
        .await
        .map_err(ReadError::from)
    }

    /// Reads a page of up to `limit` users of `emoji` on a message, those
    /// with ids after `after`, paced and retried as sends are.
    pub async fn read_reaction_users(
        &self,
        channel: u64,
        message: u64,
        emoji: &str,
        limit: u8,
        after: Option<u64>,
    ) -> Result<Vec<u8>, ReadError> {
        let (channel, message) = (channel_id(channel)?, message_id(message)?);
        let reaction = ReactionType::Unicode(emoji.to_owned()).as_data();
        self.retrying(|| async {
            let route = Route::ChannelMessageReactionEmoji {
                channel_id: channel,
                message_id: message,
                reaction: &reaction,
            };
            let mut params = vec![("limit", limit.to_string())];
            if let Some(after) = after {
                params.push(("after", after.to_string()));
            }
            self.execute(Request::new(route, LightMethod::Get).params(Some(params)))
                .await
        })
        .await
        .map_err(ReadError::from)
    }
}

/// Why a read failed for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// Discord's status (404: the message or channel is gone), or `None`
    /// when there was no answer.
    pub status: Option<u16>,
    /// What went wrong, as a clause an admin can read.
    pub reason: String,
}

impl From<Failure> for ReadError {
    fn from(failure: Failure) -> Self {
        ReadError {
            status: failure.status,
            reason: failure.reason,
        }
    }
}

impl From<SendError> for ReadError {
    fn from(error: SendError) -> Self {
        ReadError {
            status: None,
            reason: error.0,
        }
    }
}

fn message_id(id: u64) -> Result<MessageId, SendError> {
    if id == 0 {
        return Err(SendError("the message id is 0".into()));
    }
    Ok(MessageId::new(id))
}

/// The reason a post stops when Discord asks for a wait longer than
/// [`LONGEST_WAIT`]: how long, and the time (UTC) to try again.
fn rate_limited_for(wait: Duration) -> String {
    let secs = wait.as_secs();
    let how_long = match secs {
        0..120 => format!("{secs} seconds"),
        120..7200 => format!("about {} minutes", secs.div_ceil(60)),
        _ => format!("about {} hours", secs.div_ceil(3600)),
    };
    let until = chrono::TimeDelta::from_std(wait)
        .ok()
        .and_then(|wait| super::now().checked_add_signed(wait));
    match until {
        Some(until) => format!(
            "Discord is rate-limiting the bot and asks it to wait {how_long}, so try again after {} UTC",
            until.format("%H:%M")
        ),
        None => format!("Discord is rate-limiting the bot and asks it to wait {how_long}"),
    }
}

/// Whether a 429's body says the limit is the global one.
fn says_global(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .is_ok_and(|json| json["global"].as_bool() == Some(true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fake_discord::{FakeChannel, FakeDiscord, FakeGuild};

    #[test]
    fn a_page_of_history_reads_as_who_wrote_what_and_whose_buttons() {
        let custom_id = Button::Request(PrayerAction::Commit, RequestId::new(42)).custom_id();
        let page = serde_json::json!([
            {"id": "30", "author": {"id": "7"}, "content": "🙏 **Africa**\nPray for Kenya.",
             "components": [{"type": 1, "components": [
                 {"type": 2, "custom_id": custom_id, "label": "I'll pray", "style": 1}]}]},
            {"id": "20", "author": {"id": "8"}, "content": "amen"},
            {"id": "0", "author": {"id": "7"}, "content": "no id"},
        ]);
        let seen = seen_messages(page.to_string().as_bytes(), 7).expect("reads");
        assert_eq!(
            seen,
            [
                SeenMessage {
                    id: 30,
                    from_bot: true,
                    content: "🙏 **Africa**\nPray for Kenya.".into(),
                    request: Some(42),
                },
                SeenMessage {
                    id: 20,
                    from_bot: false,
                    content: "amen".into(),
                    request: None,
                },
            ]
        );
        assert!(seen_messages(b"{}", 7).is_err());
    }

    #[tokio::test]
    async fn what_the_bot_sent_reads_back_from_the_fake_discord() {
        let fake = FakeDiscord::start().await;
        let channel = FakeChannel::text(fake.next_id(), "prayer");
        fake.add_guild(
            FakeGuild::new(fake.next_id(), "Prayer Group", fake.owner().id)
                .with_channel(channel.clone()),
        );
        let http = serenity::HttpBuilder::new(
            "MTA5ODc2NTQzMjEwOTg3NjU0.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789_-",
        )
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .build();
        let (_set, stop) = Stop::new();
        let messenger = HttpMessenger::new(Arc::new(http), stop);
        let message = |content: &str, buttons_for, nonce: &str| OutgoingMessage {
            content: content.into(),
            buttons_for,
            nonce: nonce.into(),
            reply_to: None,
            notify: Vec::new(),
        };
        let first = messenger
            .send(channel.id, &message("part one", None, "n1"))
            .await
            .expect("sends");
        let second = messenger
            .send(channel.id, &message("part two", Some(5), "n2"))
            .await
            .expect("sends");
        let seen = messenger.recent_messages(channel.id).await.expect("reads");
        let shown: Vec<_> = seen
            .iter()
            .map(|s| (s.id, s.from_bot, s.content.as_str(), s.request))
            .collect();
        assert_eq!(
            shown,
            [
                (second, true, "part two", Some(5)),
                (first, true, "part one", None)
            ]
        );
        let reads = fake.requests_matching("GET", "/channels/*/messages$");
        assert_eq!(reads.len(), 1);
        let query = reads[0].query.as_deref().unwrap_or_default();
        assert!(query.split('&').any(|p| p == "limit=100"), "{query}");
        fake.assert_no_spec_violations();
    }
}
