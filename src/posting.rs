//! Posting a week to a server: which channel each region goes to, the
//! messages in order, and the loop that sends them exactly once. Knows
//! nothing of serenity: it sends through the small [`Messenger`] trait,
//! which the Discord module implements over serenity's `Http` and tests
//! implement with a recording fake.

use chrono::{DateTime, Utc};

use crate::bulletin::Kind;
use crate::region::region_key;
use crate::render::{Post, render_week};
use crate::storage::{
    ChannelSettings, PostedMessage, Scope, StorageError, Store, StoredWeek, WeekPostClaim,
};
use crate::week::PrayerWeek;

/// The reaction the bot adds under every request.
pub const PRAY_EMOJI: &str = "🙏";

/// One message the bot sends to a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub content: String,
    /// The request whose **I'll pray** / **Prayed** buttons the message
    /// carries; `None` for no buttons.
    pub buttons_for: Option<i64>,
    /// The same for every attempt at the same message, so Discord drops a
    /// second copy of a retried send.
    pub nonce: String,
    /// The message this one replies to (in the same channel), if any.
    pub reply_to: Option<u64>,
    /// The members this message may ping: exactly these, at most 100. Empty
    /// for every weekly post.
    pub notify: Vec<u64>,
}

/// Why a send failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

/// Sends to Discord. The implementation disables every mention except
/// the users a message lists in [`OutgoingMessage::notify`].
pub trait Messenger {
    /// Sends `message` to `channel`; returns the new message's id.
    fn send(
        &self,
        channel: u64,
        message: &OutgoingMessage,
    ) -> impl Future<Output = Result<u64, SendError>> + Send;

    /// Adds the bot's `emoji` reaction to a message.
    fn react(
        &self,
        channel: u64,
        message: u64,
        emoji: &str,
    ) -> impl Future<Output = Result<(), SendError>> + Send;

    /// Whether the process is stopping: a post then ends at the next
    /// message boundary, with what was sent recorded, so the next start
    /// resumes it.
    fn stopping(&self) -> bool {
        false
    }
}

/// A message of a weekly post, before it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMessage {
    pub channel: u64,
    /// `None` for the channel's header.
    pub request_id: Option<i64>,
    /// Which piece of a text too long for one message.
    pub part: u32,
    /// Whether this is a request's last piece.
    pub last_part: bool,
    /// Whether the message carries the **I'll pray** and **Prayed** buttons
    /// and the bot's 🙏: a petition's last piece. A praise is thanked for,
    /// not prayed for, so it goes without them.
    pub prayable: bool,
    pub content: String,
}

/// Why a week cannot be posted. Each is shown to the admin as it reads.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("no channel is set up: an admin runs `/prayer setup channel:#channel` first")]
    NoChannel,
    #[error("there is no bulletin for the week of {0}; import one with `/prayer import`")]
    NoBulletin(PrayerWeek),
    #[error(
        "the week of {week} was partly posted ({sent} of {total} messages) when Discord refused a message: {reason}. Run `/prayer post` again to post the rest; nothing will be posted twice"
    )]
    Interrupted {
        week: PrayerWeek,
        sent: usize,
        total: usize,
        reason: String,
    },
    /// The process is stopping; what was sent is recorded.
    #[error(
        "Posted {sent} of {total} messages of the week of {week}; the bot is stopping. Run `/prayer post` again to post the rest; nothing will be posted twice."
    )]
    Stopped {
        week: PrayerWeek,
        sent: usize,
        total: usize,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The channel each region goes to: its own if an admin routed it (any
/// spelling with the same [`region_key`]), else the default channel. No region is ever dropped; with
/// no default channel, a region without its own is an error.
pub fn route_region(settings: &ChannelSettings, region: &str) -> Option<u64> {
    let key = region_key(region);
    settings
        .region_channels
        .iter()
        .find(|(name, _)| region_key(name) == key)
        .map(|(_, channel)| *channel)
        .or(settings.default_channel)
}

/// The week's messages in sending order: for each channel that receives
/// requests (in the order its first region appears), its header, then its
/// requests grouped by region. The messages are the ones
/// [`render_week`] renders, so the CLI's preview is what is posted.
pub fn plan_post(
    stored: &StoredWeek,
    settings: &ChannelSettings,
) -> Result<Vec<PlannedMessage>, PostError> {
    let posts = render_week(stored.week, &stored.bulletin);
    let (header, requests): (Vec<&Post>, Vec<&Post>) =
        posts.iter().partition(|post| post.request.is_none());
    let mut channels: Vec<(u64, Vec<&Post>)> = Vec::new();
    for post in requests {
        let region = post.region.as_deref().unwrap_or_default();
        let channel = route_region(settings, region).ok_or(PostError::NoChannel)?;
        match channels.iter_mut().find(|(c, _)| *c == channel) {
            Some((_, posts)) => posts.push(post),
            None => channels.push((channel, vec![post])),
        }
    }
    let planned = |channel: u64, post: &Post| PlannedMessage {
        channel,
        request_id: post.request.map(|index| stored.request_ids[index]),
        part: post.part,
        last_part: post.last_part,
        prayable: post.last_part
            && post
                .request
                .is_some_and(|index| stored.bulletin.requests[index].kind == Kind::Petition),
        content: post.content.clone(),
    };
    Ok(channels
        .into_iter()
        .flat_map(|(channel, posts)| {
            header
                .iter()
                .chain(&posts)
                .map(move |post| planned(channel, post))
                .collect::<Vec<_>>()
        })
        .collect())
}

/// What a post did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostOutcome {
    Posted {
        week: PrayerWeek,
        messages: usize,
        channels: Vec<u64>,
        /// Messages found already sent by an earlier, interrupted post.
        resumed: usize,
    },
    AlreadyPosted {
        week: PrayerWeek,
    },
}

/// Posts `week` to `guild`, exactly once: a week already posted posts
/// nothing; a post interrupted part-way resumes where it stopped.
#[tracing::instrument(skip(store, messenger, now))]
pub async fn post_week(
    store: &Store,
    messenger: &impl Messenger,
    guild: u64,
    week: PrayerWeek,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<PostOutcome, PostError> {
    let stored = store
        .week(Scope::Guild(guild), week)
        .await?
        .ok_or(PostError::NoBulletin(week))?;
    let settings = store.channel_settings(guild).await?;
    let plan = plan_post(&stored, &settings)?;
    match store
        .claim_week_post(guild, week, stored.bulletin_id, now())
        .await?
    {
        WeekPostClaim::Finished => return Ok(PostOutcome::AlreadyPosted { week }),
        WeekPostClaim::Claimed | WeekPostClaim::Unfinished => {}
    }
    let sent_before = store.posted_messages(guild, week).await?;
    let already_sent = |m: &PlannedMessage| {
        sent_before
            .iter()
            .any(|s| s.channel_id == m.channel && s.request_id == m.request_id && s.part == m.part)
    };
    let interrupted = |sent: usize, reason: SendError| {
        if messenger.stopping() {
            PostError::Stopped {
                week,
                sent,
                total: plan.len(),
            }
        } else {
            PostError::Interrupted {
                week,
                sent,
                total: plan.len(),
                reason: reason.0,
            }
        }
    };
    // A post cut short between its last message and that message's 🙏
    // lost the reaction; adding it again is harmless (Discord keeps one
    // per user), so a resumed post does.
    let last_sent = plan.iter().rev().find_map(|m| {
        sent_before
            .iter()
            .find(|s| s.channel_id == m.channel && s.request_id == m.request_id && s.part == m.part)
            .map(|s| (m, s.message_id))
    });
    if let Some((message, message_id)) = last_sent
        && message.request_id.is_some()
        && message.last_part
    {
        messenger
            .react(message.channel, message_id, PRAY_EMOJI)
            .await
            .map_err(|e| interrupted(sent_before.len(), e))?;
    }
    let mut resumed = 0;
    for (index, message) in plan.iter().enumerate() {
        if already_sent(message) {
            resumed += 1;
            continue;
        }
        // The boundary between messages: nothing is half-sent here.
        if messenger.stopping() {
            return Err(PostError::Stopped {
                week,
                sent: index,
                total: plan.len(),
            });
        }
        let outgoing = OutgoingMessage {
            content: message.content.clone(),
            buttons_for: message.request_id.filter(|_| message.prayable),
            nonce: nonce(guild, week, message),
            reply_to: None,
            notify: Vec::new(),
        };
        let message_id = messenger
            .send(message.channel, &outgoing)
            .await
            .map_err(|e| interrupted(index, e))?;
        let posted = PostedMessage {
            message_id,
            channel_id: message.channel,
            request_id: message.request_id,
            part: message.part,
        };
        store
            .record_posted_message(guild, week, posted, now())
            .await?;
        if message.prayable {
            messenger
                .react(message.channel, message_id, PRAY_EMOJI)
                .await
                .map_err(|e| interrupted(index + 1, e))?;
        }
    }
    store.finish_week_post(guild, week, now()).await?;
    let mut channels: Vec<u64> = plan.iter().map(|m| m.channel).collect();
    channels.dedup();
    Ok(PostOutcome::Posted {
        week,
        messages: plan.len(),
        channels,
        resumed,
    })
}

/// A nonce that names one message of one server's post of one week: at
/// most 25 characters, as Discord allows.
fn nonce(guild: u64, week: PrayerWeek, message: &PlannedMessage) -> String {
    stable_nonce(
        'p',
        (
            guild,
            week.to_string(),
            message.channel,
            message.request_id,
            message.part,
        ),
    )
}

/// A message nonce for Discord (at most 25 characters) that is the same for
/// the same `parts` in every run and build: a letter saying what sent it,
/// then a stable 64-bit hash (FNV-1a; std's default hasher changes between
/// runs) in hex.
pub fn stable_nonce(kind: char, parts: impl std::hash::Hash) -> String {
    use std::hash::Hasher;
    struct Fnv(u64);
    impl Hasher for Fnv {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            for byte in bytes {
                self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
            }
        }
    }
    let mut hasher = Fnv(0xcbf2_9ce4_8422_2325);
    parts.hash(&mut hasher);
    format!("{kind}{:x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulletin::parse_bulletin;
    use crate::week::Placement;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder {
        sent: Mutex<Vec<(u64, OutgoingMessage)>>,
        reactions: Mutex<Vec<(u64, u64)>>,
        fail_after: Option<usize>,
        /// Says the process is stopping once this many messages are sent.
        stop_after: Option<usize>,
        /// Message ids start after this, so two recorders never share one.
        first_id: u64,
    }

    impl Messenger for Recorder {
        async fn send(&self, channel: u64, message: &OutgoingMessage) -> Result<u64, SendError> {
            let mut sent = self.sent.lock().map_err(|e| SendError(e.to_string()))?;
            if self.fail_after == Some(sent.len()) {
                return Err(SendError("503 Service Unavailable".into()));
            }
            sent.push((channel, message.clone()));
            Ok(self.first_id + sent.len() as u64)
        }

        async fn react(&self, channel: u64, message: u64, _emoji: &str) -> Result<(), SendError> {
            let mut reactions = self
                .reactions
                .lock()
                .map_err(|e| SendError(e.to_string()))?;
            reactions.push((channel, message));
            Ok(())
        }

        fn stopping(&self) -> bool {
            let sent = self.sent.lock().map_or(0, |sent| sent.len());
            self.stop_after.is_some_and(|n| sent >= n)
        }
    }

    const GUILD: u64 = 99;
    const BULLETIN: &str = "IJM Prayer Requests\n\nAfrica\n• Pray for Kenya.\n\nLatin America\n• Pray for Peru.\n• Praise God for Chile.\n\nSouth Asia\n• Pray for Nepal.\n";

    fn week() -> PrayerWeek {
        "2026-11-23".parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default()
    }

    async fn store_with_bulletin(text: &str) -> Store {
        let store = Store::open("sqlite::memory:").await.expect("opens");
        let b = parse_bulletin(text).expect("parses");
        store
            .import(
                Scope::Shared,
                &b,
                &b.fingerprint(),
                Placement::Exactly(week()),
                false,
                "t",
                now(),
            )
            .await
            .expect("imports");
        store
    }

    /// The bulletin stored, and the server's posts going to channel 1.
    async fn store_with_default_channel() -> Store {
        let store = store_with_bulletin(BULLETIN).await;
        store
            .set_default_channel(GUILD, 1, now())
            .await
            .expect("sets");
        store
    }

    fn settings(default: Option<u64>, regions: &[(&str, u64)]) -> ChannelSettings {
        ChannelSettings {
            default_channel: default,
            region_channels: regions.iter().map(|(r, c)| ((*r).to_owned(), *c)).collect(),
        }
    }

    #[test]
    fn a_region_without_its_own_channel_goes_to_the_default_one() {
        let s = settings(Some(1), &[("latin america", 2)]);
        assert_eq!(route_region(&s, "Latin America"), Some(2));
        assert_eq!(route_region(&s, "Africa"), Some(1));
        assert_eq!(
            route_region(&settings(None, &[("Africa", 3)]), "Asia"),
            None
        );
    }

    #[tokio::test]
    async fn each_receiving_channel_gets_a_header_then_its_requests() {
        let store = store_with_bulletin(BULLETIN).await;
        let stored = store
            .week(Scope::Guild(GUILD), week())
            .await
            .expect("reads")
            .expect("stored");
        let plan = plan_post(&stored, &settings(Some(1), &[("Latin America", 2)])).expect("plans");
        let shape: Vec<(u64, bool)> = plan
            .iter()
            .map(|m| (m.channel, m.request_id.is_some()))
            .collect();
        assert_eq!(
            shape,
            [
                (1, false),
                (1, true),
                (1, true),
                (2, false),
                (2, true),
                (2, true)
            ]
        );
        assert!(plan[1].content.contains("Kenya") && plan[2].content.contains("Nepal"));
        assert!(matches!(
            plan_post(&stored, &settings(None, &[("Africa", 1)])),
            Err(PostError::NoChannel)
        ));
    }

    #[tokio::test]
    async fn a_week_is_posted_once_with_reactions_and_buttons() {
        let store = store_with_default_channel().await;
        let recorder = Recorder::default();
        let outcome = post_week(&store, &recorder, GUILD, week(), now)
            .await
            .expect("posts");
        assert!(matches!(
            outcome,
            PostOutcome::Posted {
                messages: 5,
                resumed: 0,
                ..
            }
        ));
        let sent = recorder.sent.lock().expect("lock").clone();
        assert_eq!(sent.len(), 5);
        // Three petitions get the buttons and 🙏; the praise for Chile is
        // thanked for, not prayed for.
        assert_eq!(
            sent.iter().filter(|(_, m)| m.buttons_for.is_some()).count(),
            3
        );
        let praise = sent
            .iter()
            .find(|(_, m)| m.content.contains("Chile"))
            .expect("the praise is posted");
        assert_eq!(praise.1.buttons_for, None);
        assert_eq!(recorder.reactions.lock().expect("lock").len(), 3);
        let again = post_week(&store, &recorder, GUILD, week(), now)
            .await
            .expect("answers");
        assert_eq!(again, PostOutcome::AlreadyPosted { week: week() });
        assert_eq!(
            recorder.sent.lock().expect("lock").len(),
            5,
            "nothing sent twice"
        );
    }

    #[tokio::test]
    async fn an_interrupted_post_resumes_without_sending_anything_twice() {
        let store = store_with_default_channel().await;
        let failing = Recorder {
            fail_after: Some(2),
            ..Recorder::default()
        };
        let error = post_week(&store, &failing, GUILD, week(), now)
            .await
            .expect_err("fails");
        assert!(
            error
                .to_string()
                .contains("partly posted (2 of 5 messages)"),
            "{error}"
        );
        let recorder = Recorder {
            first_id: 500,
            ..Recorder::default()
        };
        let outcome = post_week(&store, &recorder, GUILD, week(), now)
            .await
            .expect("resumes");
        assert!(matches!(
            outcome,
            PostOutcome::Posted {
                messages: 5,
                resumed: 2,
                ..
            }
        ));
        let first: Vec<_> = failing
            .sent
            .lock()
            .expect("lock")
            .iter()
            .map(|(_, m)| m.nonce.clone())
            .collect();
        let rest: Vec<_> = recorder
            .sent
            .lock()
            .expect("lock")
            .iter()
            .map(|(_, m)| m.nonce.clone())
            .collect();
        assert_eq!(rest.len(), 3);
        assert!(first.iter().all(|n| !rest.contains(n)));
    }

    #[tokio::test]
    async fn a_stop_ends_the_post_between_messages_and_the_next_post_sends_the_rest() {
        let store = store_with_default_channel().await;
        let stopping = Recorder {
            stop_after: Some(3),
            ..Recorder::default()
        };
        let error = post_week(&store, &stopping, GUILD, week(), now)
            .await
            .expect_err("stops");
        assert!(
            matches!(
                error,
                PostError::Stopped {
                    sent: 3,
                    total: 5,
                    ..
                }
            ),
            "{error}"
        );
        assert_eq!(stopping.reactions.lock().expect("lock").len(), 2);
        let recorder = Recorder {
            first_id: 500,
            ..Recorder::default()
        };
        let outcome = post_week(&store, &recorder, GUILD, week(), now)
            .await
            .expect("resumes");
        assert!(matches!(outcome, PostOutcome::Posted { resumed: 3, .. }));
        assert_eq!(recorder.sent.lock().expect("lock").len(), 2);
    }

    #[tokio::test]
    async fn a_week_without_a_bulletin_or_channel_posts_nothing() {
        let store = store_with_bulletin(BULLETIN).await;
        let recorder = Recorder::default();
        let error = post_week(&store, &recorder, GUILD, week(), now)
            .await
            .expect_err("no channel");
        assert!(matches!(error, PostError::NoChannel));
        let later = week().next();
        let error = post_week(&store, &recorder, GUILD, later, now)
            .await
            .expect_err("no bulletin");
        assert!(matches!(error, PostError::NoBulletin(w) if w == later));
        assert!(recorder.sent.lock().expect("lock").is_empty());
    }

    #[test]
    fn nonces_fit_discords_limit_and_differ_per_message() {
        let m = |part| PlannedMessage {
            channel: 1,
            request_id: Some(5),
            part,
            last_part: true,
            prayable: true,
            content: String::new(),
        };
        let a = nonce(u64::MAX, week(), &m(0));
        assert!(a.len() <= 25);
        assert_ne!(a, nonce(u64::MAX, week(), &m(1)));
        assert_eq!(a, nonce(u64::MAX, week(), &m(0)));
    }
}
