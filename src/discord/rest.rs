//! The one way the bot calls Discord's HTTP API on its own: [`Rest`]. Every
//! request the bot starts (posts, reactions, reading messages and reactions
//! back, the crossed-reaction question, the gateway's address) goes through
//! it; it paces requests by Discord's rate limits (one [`Limiter`] per
//! process, held here, not in a static), waits out `retry_after`, retries
//! an outage with [`PAUSES`], and stops waiting when the process stops. Its
//! errors are [`SendError`]s: refused for good, unavailable, rate limited
//! with the wait, or stopping.
//!
//! Answers to interactions (command replies, button answers) are the one
//! exception: poise sends them on the interaction's own token, which
//! Discord does not count against the bot's global limit.

use std::num::{NonZeroU32, NonZeroU64};
use std::sync::Arc;
use std::time::{Duration, Instant};

use poise::serenity_prelude as serenity;
use reqwest::header::HeaderMap;
use serenity::http::{LightMethod, Request, Route};
use serenity::{Http, ReactionType};
use tokio::sync::{Mutex, OnceCell};

use super::Stop;
use crate::backoff::Backoff;
use crate::discord::ratelimit::{GlobalLimit, Limiter, RateLimitHeaders, RouteKey};
use crate::ids::{ChannelId, MessageId, UserId};
use crate::posting::SendError;
use crate::shards::ShardRange;

/// How often a call that failed on Discord's side (a 5xx, or no answer) is
/// tried before it fails for good and says why.
const ATTEMPTS: u32 = 3;

/// The pauses between those attempts (250 ms, then 500 ms).
const PAUSES: Backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(2));

/// How many rate-limit waits one send may sit through.
const RATE_LIMIT_WAITS: u32 = 5;

/// The longest single wait for a rate limit. A post asked to wait longer
/// stops and tells the admin when to try again, rather than hold the
/// command (and a stopping process) for minutes.
const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// The wait for a 429 that names none.
const UNSTATED_WAIT: Duration = Duration::from_secs(1);

/// The bot's client for Discord's HTTP API; cheap to clone (every clone
/// shares one limiter and one stop).
#[derive(Clone)]
pub struct Rest(Arc<Inner>);

struct Inner {
    http: Arc<Http>,
    /// For requests the bot sends itself, to read a 429's `retry_after`
    /// (serenity's error drops it).
    client: reqwest::Client,
    /// Discord's rate limits as the whole process has met them.
    limiter: Mutex<Limiter>,
    stop: Stop,
    /// The bot's own user id, asked for once.
    bot: OnceCell<UserId>,
}

impl Rest {
    /// A client over `http` whose requests keep under `global_rate` per
    /// second (`DISCORD_GLOBAL_RATE_LIMIT`; see [`GlobalLimit::per_second`]).
    pub fn new(http: Arc<Http>, stop: Stop, global_rate: NonZeroU32) -> Self {
        Rest::with_timeout(
            http,
            stop,
            GlobalLimit::per_second(global_rate),
            crate::config::DEFAULT_HTTP_TIMEOUT,
        )
    }

    /// As [`Rest::new`], keeping to `global` (the process's share of the
    /// global limit, [`GlobalLimit::share`]), each request given up (and
    /// retried, as an outage) after `timeout`: a rate-limit proxy may hold
    /// a request, and a held one must not hang a post. A message retried
    /// this way carries the same nonce, so Discord posts it once.
    pub fn with_timeout(
        http: Arc<Http>,
        stop: Stop,
        global: GlobalLimit,
        timeout: std::time::Duration,
    ) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .unwrap_or_default();
        Rest(Arc::new(Inner {
            http,
            client,
            limiter: Mutex::new(Limiter::new(global)),
            stop,
            bot: OnceCell::new(),
        }))
    }

    /// Whether the process is stopping.
    pub fn stopping(&self) -> bool {
        self.0.stop.is_set()
    }

    /// The bot's own user id, asked for once.
    pub async fn bot(&self) -> Result<UserId, SendError> {
        self.0
            .bot
            .get_or_try_init(|| async {
                let answer = self.get(Route::UserMe, None).await?;
                snowflake_in(&answer, "the bot's user").map(UserId::new)
            })
            .await
            .copied()
    }

    /// A `GET` of `route` (with `params`), paced and retried.
    pub async fn get(
        &self,
        route: Route<'_>,
        params: Option<Vec<(&'static str, String)>>,
    ) -> Result<Vec<u8>, SendError> {
        self.call(|| Request::new(route, LightMethod::Get).params(params.clone()))
            .await
    }

    /// Any request, built afresh for each attempt, paced and retried.
    pub async fn call<'a>(&self, request: impl Fn() -> Request<'a>) -> Result<Vec<u8>, SendError> {
        self.retrying(|| self.execute(request())).await
    }
    /// Whether requests go through the process's [`Limiter`]: behind a
    /// proxy, where serenity's own rate limiter is off. Against Discord
    /// itself serenity's limiter paces them, and one limiter is enough.
    fn paces_itself(&self) -> bool {
        self.0.http.ratelimiter.is_none()
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
                .0
                .http
                .request(request)
                .await
                .map_err(Failure::from_serenity)?;
            return Ok(answer.bytes().await.map_err(Failure::unreachable)?.to_vec());
        }
        let request = request
            .build(
                &self.0.client,
                self.0.http.token(),
                self.0.http.proxy.as_deref(),
            )
            .map_err(Failure::unreachable)?
            .build()
            .map_err(Failure::unreachable)?;
        let route = RouteKey::new(request.method().as_str(), request.url().path());
        self.wait_turn(&route).await?;
        let answer = match self.0.client.execute(request).await {
            Ok(answer) => answer,
            Err(error) => {
                self.0.limiter.lock().await.release(&route, Instant::now());
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
        self.0
            .limiter
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
            self.0
                .limiter
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
            let asked = self
                .0
                .limiter
                .lock()
                .await
                .try_reserve(route, Instant::now());
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
            let mut stop = self.0.stop.clone();
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
    /// [`ATTEMPTS`] times, pausing as [`PAUSES`] says; anything else is final.
    /// A stop signal ends any wait at once.
    async fn retrying<T, F>(&self, mut call: impl FnMut() -> F) -> Result<T, SendError>
    where
        F: Future<Output = Result<T, Failure>>,
    {
        let (mut pauses, mut rate_limits) = (PAUSES, 0);
        loop {
            let failure = match call().await {
                Ok(value) => return Ok(value),
                Err(failure) => failure,
            };
            if self.stopping() {
                return Err(SendError::Stopping);
            }
            let pause = match failure.status {
                Some(429) => {
                    let wait = failure.retry_after.unwrap_or(UNSTATED_WAIT);
                    rate_limits += 1;
                    if wait > LONGEST_WAIT {
                        let reason = rate_limited_for(wait);
                        return Err(SendError::RateLimited { wait, reason });
                    }
                    if rate_limits > RATE_LIMIT_WAITS {
                        let reason = "Discord kept rate-limiting the bot; wait a minute".into();
                        return Err(SendError::RateLimited { wait, reason });
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
                    if pauses.failures() + 1 >= ATTEMPTS {
                        return Err(SendError::Unavailable(failure.reason));
                    }
                    pauses.failed()
                }
                Some(status) => {
                    let reason = failure.reason;
                    return Err(SendError::Refused { status, reason });
                }
            };
            tracing::warn!(reason = %failure.reason, ?pause, "Discord refused a request; trying again");
            let mut stop = self.0.stop.clone();
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = stop.wait() => return Err(SendError::Stopping),
            }
        }
    }

    /// A member of a server, as serenity reads it (the bot's own, for its
    /// permissions when the cache lacks it).
    pub async fn member(
        &self,
        guild: serenity::GuildId,
        user: serenity::UserId,
    ) -> Result<serenity::Member, SendError> {
        let route = Route::GuildMember {
            guild_id: guild,
            user_id: user,
        };
        let mut value: serde_json::Value = serde_json::from_slice(&self.get(route, None).await?)
            .map_err(|e| SendError::invalid(format!("Discord's member could not be read ({e})")))?;
        if let Some(map) = value.as_object_mut() {
            map.insert("guild_id".to_owned(), guild.get().to_string().into());
        }
        serde_json::from_value(value)
            .map_err(|e| SendError::invalid(format!("Discord's member could not be read ({e})")))
    }

    /// Registers `commands` as the application's global commands, replacing
    /// whatever was registered before (Discord's bulk overwrite).
    pub async fn register_commands(
        &self,
        application: serenity::ApplicationId,
        commands: &[serenity::CreateCommand],
    ) -> Result<(), SendError> {
        let body = serde_json::to_vec(commands)
            .map_err(|e| SendError::invalid(format!("the commands could not be encoded ({e})")))?;
        self.call(|| {
            let route = Route::Commands {
                application_id: application,
            };
            Request::new(route, LightMethod::Put).body(Some(body.clone()))
        })
        .await
        .map(drop)
    }

    /// Reads one message (with its reaction counts).
    pub async fn read_message(
        &self,
        channel: ChannelId,
        message: MessageId,
    ) -> Result<Vec<u8>, SendError> {
        let route = Route::ChannelMessage {
            channel_id: channel.into(),
            message_id: message.into(),
        };
        self.get(route, None).await
    }

    /// Reads a page of up to `limit` users of `emoji` on a message, those
    /// with ids after `after`.
    pub async fn read_reaction_users(
        &self,
        channel: ChannelId,
        message: MessageId,
        emoji: &str,
        limit: u8,
        after: Option<UserId>,
    ) -> Result<Vec<u8>, SendError> {
        let reaction = ReactionType::Unicode(emoji.to_owned()).as_data();
        let route = Route::ChannelMessageReactionEmoji {
            channel_id: channel.into(),
            message_id: message.into(),
            reaction: &reaction,
        };
        let mut params = vec![("limit", limit.to_string())];
        if let Some(after) = after {
            params.push(("after", after.to_string()));
        }
        self.get(route, Some(params)).await
    }
}

/// The global limit a process keeps to: `rate` requests per second
/// (`DISCORD_GLOBAL_RATE_LIMIT`), the bot's whole limit, or with `--shards`
/// its shards' share of it, since Discord counts the global limit per bot
/// token, across every process that runs it.
pub fn process_global_limit(rate: NonZeroU32, shards: Option<ShardRange>) -> GlobalLimit {
    let whole = GlobalLimit::per_second(rate);
    shards.map_or(whole, |range| {
        whole.share(range.end.saturating_sub(range.start), range.total)
    })
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
    /// No answer: the error named by its root cause (connection refused,
    /// DNS, TLS), not by the HTTP client's "error sending request".
    fn unreachable(error: impl std::error::Error + 'static) -> Self {
        Failure {
            status: None,
            retry_after: None,
            reason: format!(
                "Discord could not be reached ({})",
                crate::cause::with_cause(&error)
            ),
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

/// A Discord id, which its JSON carries as a string; `None` for 0.
pub(super) fn snowflake(value: &serde_json::Value) -> Option<u64> {
    value
        .as_str()
        .and_then(|id| id.parse::<u64>().ok())
        .filter(|id| *id != 0)
}

/// The `id` of the object Discord answered with (`what` names it).
pub(super) fn snowflake_in(answer: &[u8], what: &str) -> Result<NonZeroU64, SendError> {
    // Discord did answer 200, so these failures are final, not retried.
    let unreadable = |reason: String| SendError::Refused {
        status: 200,
        reason,
    };
    let json: serde_json::Value = serde_json::from_slice(answer)
        .map_err(|e| unreadable(format!("Discord's answer could not be read ({e})")))?;
    snowflake(&json["id"])
        .and_then(NonZeroU64::new)
        .ok_or_else(|| unreadable(format!("Discord's answer carried no id for {what}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_keeps_to_its_shards_share_of_the_global_limit() {
        let rate = NonZeroU32::new(500).expect("not 0");
        let range = |start, end, total| Some(ShardRange { start, end, total });
        let whole = GlobalLimit {
            requests: 50,
            per: Duration::from_millis(100),
        };
        assert_eq!(process_global_limit(rate, None), whole);
        assert_eq!(process_global_limit(rate, range(0, 4, 4)), whole);
        let half = GlobalLimit {
            requests: 25,
            per: Duration::from_millis(100),
        };
        assert_eq!(process_global_limit(rate, range(0, 1, 2)), half);
        assert_eq!(process_global_limit(rate, range(1, 2, 2)), half);
        assert_eq!(process_global_limit(rate, range(2, 4, 4)), half);
        // Discord's 50 a second over 100 processes: one each in 2 s.
        let fifty = NonZeroU32::new(50).expect("not 0");
        assert_eq!(
            process_global_limit(fifty, range(7, 8, 100)),
            GlobalLimit {
                requests: 1,
                per: Duration::from_secs(2),
            }
        );
    }
}
