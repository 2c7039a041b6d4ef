//! Posting a week to a server: which channel each region goes to, the
//! messages in order, and the loop that sends them exactly once, even with
//! two processes on one database (a lease on the post) and after a crash
//! that left a sent message unrecorded (what the channel shows is read back
//! before resuming). Knows nothing of serenity: it sends through the small
//! [`Messenger`] trait, which the Discord module implements over
//! serenity's `Http` and tests implement with a recording fake.

pub mod buttons;
pub mod correct;
pub mod region;
pub mod render;
#[cfg(test)]
pub(crate) mod scripted;
pub mod unpost;

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::bulletins::week::PrayerWeek;
use crate::ids::{ChannelId, GuildId, MessageId, RequestId, RoleId, UserId};
use crate::posting::region::region_key;
use crate::posting::render::{Post, render_week};
use crate::storage::{
    ChannelSettings, PostedMessage, Scope, StorageError, Store, StoredWeek, WeekPostClaim,
};

/// The reaction the bot adds under every request.
pub const PRAY_EMOJI: &str = "🙏";

/// One message the bot sends to a channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub content: String,
    /// The request whose **I'll pray** / **Prayed** buttons the message
    /// carries; `None` for no buttons.
    pub buttons_for: Option<RequestId>,
    /// The same for every attempt at the same message, so Discord drops a
    /// second copy of a retried send.
    pub nonce: String,
    /// The message this one replies to (in the same channel), if any.
    pub reply_to: Option<MessageId>,
    /// The members this message may ping: exactly these, at most 100. Empty
    /// for every weekly post.
    pub notify: Vec<UserId>,
    /// The role this message may ping: the one an admin chose, on the
    /// weekly header only.
    pub notify_role: Option<RoleId>,
    /// Buttons of their own, with their labels, in rows of five after the
    /// request's (at most 20): a reminder's **Prayed** per commitment.
    pub buttons: Vec<(buttons::Button, String)>,
}

/// The most buttons of its own a message carries ([`OutgoingMessage::buttons`]):
/// Discord takes five rows of five, and one row stays for a request's.
pub const MAX_BUTTONS: usize = 20;
/// New content for a message the bot posted, as `/prayer correct` edits
/// it: the text, and the buttons it carries (the same as when posted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditedMessage {
    pub content: String,
    /// The request whose **I'll pray** / **Prayed** buttons the message
    /// keeps; `None` for none.
    pub buttons_for: Option<RequestId>,
}

/// A file sent with a message (the recap's chart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The name Discord shows, e.g. `coverage.png`.
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// Why a call to Discord failed for good (after the retries it deserves),
/// sorted by what the caller should do about it. Each reads as a clause an
/// admin can follow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Discord answered and refused (a missing permission is 403, a deleted
    /// channel or message 404); asking again changes nothing until someone
    /// acts. `status` is 200 when Discord's success could not be read.
    #[error("{reason}")]
    Refused { status: u16, reason: String },
    /// Discord did not answer, or failed on its side (5xx), every time it
    /// was asked: an outage, worth trying again later.
    #[error("{0}")]
    Unavailable(String),
    /// Discord asked the bot to wait longer than one call waits.
    #[error("{reason}")]
    RateLimited { wait: Duration, reason: String },
    /// The process is stopping; nothing more is sent.
    #[error("the bot is stopping")]
    Stopping,
}

impl SendError {
    /// A refusal with no status of Discord's: a message the bot could not
    /// even build or read (asking again would fail the same way).
    pub fn invalid(reason: impl Into<String>) -> Self {
        SendError::Refused {
            status: 0,
            reason: reason.into(),
        }
    }

    /// Whether the channel or message is gone (Discord's 404).
    pub fn is_gone(&self) -> bool {
        matches!(self, SendError::Refused { status: 404, .. })
    }

    /// Whether Discord refused for lack of a permission or access (403).
    pub fn is_forbidden(&self) -> bool {
        matches!(self, SendError::Refused { status: 403, .. })
    }

    /// Whether asking again later may succeed without anyone acting.
    pub fn is_transient(&self) -> bool {
        !matches!(self, SendError::Refused { .. })
    }
}

/// A message read back from a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenMessage {
    pub id: MessageId,
    /// Whether the bot itself wrote it.
    pub from_bot: bool,
    pub content: String,
    /// The request whose **I'll pray** / **Prayed** buttons it carries.
    pub request: Option<RequestId>,
}

/// How many of a channel's latest messages a resumed post reads back: one
/// page of Discord's history. A post is at most a few dozen messages per
/// channel, and what a crash left unrecorded is the last of them, so the
/// page reaches it unless members wrote a hundred messages in between.
pub const RECENT_MESSAGES: u8 = 100;

/// Sends to Discord. The implementation disables every mention except
/// the users a message lists in [`OutgoingMessage::notify`].
pub trait Messenger {
    /// Sends `message` to `channel`; returns the new message's id.
    fn send(
        &self,
        channel: ChannelId,
        message: &OutgoingMessage,
    ) -> impl Future<Output = Result<MessageId, SendError>> + Send;

    /// Opens a public thread named `name` on `message` (in `channel`);
    /// returns the thread's id.
    fn open_thread(
        &self,
        channel: ChannelId,
        message: MessageId,
        name: &str,
    ) -> impl Future<Output = Result<ChannelId, SendError>> + Send;

    /// The direct-message channel with `user`, opened if need be.
    fn open_dm(&self, user: UserId) -> impl Future<Output = Result<ChannelId, SendError>> + Send;

    /// Sends `message` to `channel` with `file` attached; returns the new
    /// message's id. As [`Messenger::send`] for everything else.
    fn send_with_file(
        &self,
        channel: ChannelId,
        message: &OutgoingMessage,
        file: &Attachment,
    ) -> impl Future<Output = Result<MessageId, SendError>> + Send;

    /// Adds the bot's `emoji` reaction to a message.
    fn react(
        &self,
        channel: ChannelId,
        message: MessageId,
        emoji: &str,
    ) -> impl Future<Output = Result<(), SendError>> + Send;

    /// Edits a message the bot posted: its text and buttons, mentions off.
    fn edit(
        &self,
        channel: ChannelId,
        message: MessageId,
        edited: &EditedMessage,
    ) -> impl Future<Output = Result<(), SendError>> + Send;

    /// Deletes a message the bot posted. A message already gone fails with
    /// a [`SendError::is_gone`] error.
    fn delete(
        &self,
        channel: ChannelId,
        message: MessageId,
    ) -> impl Future<Output = Result<(), SendError>> + Send;

    /// The latest messages of `channel`, newest first: at most
    /// [`RECENT_MESSAGES`] of them.
    fn recent_messages(
        &self,
        channel: ChannelId,
    ) -> impl Future<Output = Result<Vec<SeenMessage>, SendError>> + Send;

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
    pub channel: ChannelId,
    /// `None` for the channel's header.
    pub request_id: Option<RequestId>,
    /// Which piece of a text too long for one message.
    pub part: u32,
    /// Whether this is a request's last piece.
    pub last_part: bool,
    /// Whether the message carries the **I'll pray** and **Prayed** buttons
    /// and the bot's 🙏: a petition's last piece. A praise is thanked for,
    /// not prayed for, so it goes without them.
    pub prayable: bool,
    pub content: String,
    /// The role the message mentions (and may ping): the server's chosen
    /// role, on the first header of the post only.
    pub ping: Option<RoleId>,
    /// The name of the thread this message opens for the week: on the first
    /// header, when the server asked for threads.
    pub thread: Option<String>,
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
        reason: SendError,
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
    /// A post resumes only once it has read what the channel shows.
    #[error(
        "The week of {week} was partly posted before. To post the rest without repeating anything, the bot first reads the latest messages in <#{channel}>, and Discord refused: {reason}. Nothing more was posted; check that the bot has Read Message History there, then run `/prayer post` again"
    )]
    Unread {
        week: PrayerWeek,
        channel: ChannelId,
        reason: SendError,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl PostError {
    /// Whether someone in the server must act before the post can succeed
    /// (a channel to set, a bulletin to import, a permission Discord
    /// refused for), rather than Discord having trouble on its side, which
    /// passes if the bot keeps trying.
    pub fn needs_admin(&self) -> bool {
        match self {
            PostError::NoChannel | PostError::NoBulletin(_) => true,
            PostError::Interrupted { reason, .. } | PostError::Unread { reason, .. } => {
                !reason.is_transient()
            }
            PostError::Stopped { .. } | PostError::Storage(_) => false,
        }
    }

    /// What the admins are told to do about it, as a clause.
    pub fn advice(&self) -> &'static str {
        if self.needs_admin() {
            "Admins: `/prayer status` shows what to fix; I will keep trying"
        } else {
            "Discord is having trouble on its side, so nothing here needs fixing; I will keep trying"
        }
    }
}

/// One run of a post: who is posting, and how long its hold on the post
/// lasts unless renewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRun {
    /// An id no other run shares, in this process or any other.
    pub owner: String,
    pub lease: TimeDelta,
}

impl PostRun {
    /// How long a post holds its week without renewing. A post renews
    /// before every message, and a message normally takes well under a
    /// second; but one send may sit out a rate limit of up to a minute
    /// (the messenger's longest wait) before it returns. Two minutes
    /// outlast that, so a live post does not lose its week to another
    /// process while it waits; and they are short enough that a post whose
    /// process died is taken over soon, which matters little in a prayer
    /// week. Should a send outlast the lease all the same, the run that
    /// takes over reads back what the channel shows and sends the same
    /// nonces, which Discord answers with the message it already made, so
    /// nothing is posted twice.
    pub const LEASE: TimeDelta = TimeDelta::seconds(120);

    /// A run with an owner id of its own, holding the post for `lease` at
    /// a time.
    pub fn new(lease: TimeDelta) -> PostRun {
        PostRun {
            owner: new_owner(),
            lease,
        }
    }
}

/// An owner id no other run shares: this process's (its pid, and 64
/// random bits so that a pid reused after a restart or on another host
/// differs), then the number of runs before it in the process.
fn new_owner() -> String {
    static PROCESS: OnceLock<String> = OnceLock::new();
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let process = PROCESS.get_or_init(|| {
        let pid = std::process::id();
        // std seeds every `RandomState` from the system's random source,
        // which saves a crate for 64 random bits.
        let random = RandomState::new().hash_one(pid);
        format!("{pid}-{random:016x}")
    });
    format!("{process}-{}", RUNS.fetch_add(1, Ordering::Relaxed))
}

/// The channel each region goes to: its own if an admin routed it (any
/// spelling with the same [`region_key`]), else the default channel. No region is ever dropped; with
/// no default channel, a region without its own is an error.
pub fn route_region(settings: &ChannelSettings, region: &str) -> Option<ChannelId> {
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
    let mut channels: Vec<(ChannelId, Vec<&Post>)> = Vec::new();
    for post in requests {
        let region = post.region.as_deref().unwrap_or_default();
        let channel = route_region(settings, region).ok_or(PostError::NoChannel)?;
        match channels.iter_mut().find(|(c, _)| *c == channel) {
            Some((_, posts)) => posts.push(post),
            None => channels.push((channel, vec![post])),
        }
    }
    let planned = |channel: ChannelId, post: &Post| PlannedMessage {
        channel,
        request_id: post.request.map(|index| stored.request_ids[index]),
        part: post.part,
        last_part: post.last_part,
        prayable: post.last_part
            && post
                .request
                .is_some_and(|index| stored.bulletin.requests[index].is_prayable()),
        content: post.content.clone(),
        ping: None,
        thread: None,
    };
    let mut plan: Vec<PlannedMessage> = channels
        .into_iter()
        .flat_map(|(channel, posts)| {
            header
                .iter()
                .chain(&posts)
                .map(move |post| planned(channel, post))
                .collect::<Vec<_>>()
        })
        .collect();
    if let (Some(role), Some(first)) = (settings.ping_role, plan.first_mut()) {
        // Once a week, in the first channel's header: the role's members
        // chose to be told, and one ping is enough.
        first.content = format!("<@&{role}>\n{}", first.content);
        first.ping = Some(role);
    }
    if let (true, Some(first)) = (settings.threads, plan.first_mut()) {
        first.thread = Some(thread_name(stored.week));
    }
    Ok(plan)
}

/// The name of a week's thread (Discord allows 100 characters).
pub fn thread_name(week: PrayerWeek) -> String {
    format!("Prayer week of {}", week.monday().format("%-d %B %Y"))
}

/// `guild`'s week as stored and the plan of its post.
async fn planned(
    store: &Store,
    guild: GuildId,
    week: PrayerWeek,
) -> Result<(StoredWeek, Vec<PlannedMessage>), PostError> {
    let stored = store
        .week(Scope::Guild(guild), week)
        .await?
        .ok_or(PostError::NoBulletin(week))?;
    let settings = store.channel_settings(guild).await?;
    let plan = plan_post(&stored, &settings)?;
    Ok((stored, plan))
}

/// What `guild`'s post of `week` would send, before anything goes out:
/// each message as it would be posted, under a line naming its channel
/// (and its 🙏 and buttons, where it gets them). Nothing is sent or
/// recorded; the same plan as [`post_week`]'s.
pub async fn preview(
    store: &Store,
    guild: GuildId,
    week: PrayerWeek,
) -> Result<Vec<String>, PostError> {
    let (_, plan) = planned(store, guild, week).await?;
    let mut pieces = vec![format!(
        "**Preview** of the week of {week}: {} messages in {} channels, as they would be posted. Nothing has been sent.",
        plan.len(),
        channels_of(&plan).len()
    )];
    pieces.extend(plan.iter().map(|message| {
        let extras = if message.prayable {
            " · with 🙏 and the buttons"
        } else {
            ""
        };
        format!(
            "─── to <#{}>{extras} ───\n{}",
            message.channel, message.content
        )
    }));
    Ok(pieces)
}

/// What a post did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostOutcome {
    Posted {
        week: PrayerWeek,
        messages: usize,
        channels: Vec<ChannelId>,
        /// Messages found already sent by an earlier, interrupted post.
        resumed: usize,
    },
    AlreadyPosted {
        week: PrayerWeek,
    },
    /// Another run (another process, or the schedule) holds the post and
    /// is sending it; its lease runs until `until` unless renewed. Nothing
    /// was sent by this run, or nothing more once it lost the post.
    InProgress {
        week: PrayerWeek,
        until: DateTime<Utc>,
    },
}

impl PostOutcome {
    /// What the admin who asked for the post reads.
    pub fn words(&self) -> String {
        match self {
            PostOutcome::Posted {
                week,
                messages,
                channels,
                resumed,
            } => {
                let channels: Vec<String> = channels.iter().map(|c| format!("<#{c}>")).collect();
                let resumed = if *resumed > 0 {
                    format!(
                        " ({resumed} had been posted before an interruption and were not sent again)"
                    )
                } else {
                    String::new()
                };
                format!(
                    "Posted the week of {week}: {messages} messages in {}{resumed}.",
                    channels.join(", ")
                )
            }
            PostOutcome::AlreadyPosted { week } => {
                format!(
                    "The week of {week} has already been posted here. Nothing was posted again."
                )
            }
            PostOutcome::InProgress { week, until } => format!(
                "The week of {week} is being posted right now by another run of the bot (the schedule, or a second copy of the bot). Check back in a few minutes; if it is still not finished after {} UTC, run `/prayer post` again to post the rest. Nothing will be posted twice.",
                until.format("%H:%M:%S")
            ),
        }
    }
}

/// Posts `week` to `guild`, exactly once: a week already posted posts
/// nothing; a week another run is posting is left to it; a post
/// interrupted part-way resumes where it stopped, after reading back what
/// its channels show, so a message Discord took but the post never
/// recorded is not sent again. The run renews its lease before every
/// message and stops, sending nothing more, if another run took the post
/// over; on an error it lets the post go, so the next run resumes at once.
#[tracing::instrument(skip(store, messenger, now))]
pub async fn post_week(
    store: &Store,
    messenger: &impl Messenger,
    guild: GuildId,
    week: PrayerWeek,
    run: &PostRun,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<PostOutcome, PostError> {
    let (stored, plan) = planned(store, guild, week).await?;
    let started = now();
    let until = started + run.lease;
    let claim = store
        .lease_week_post(guild, week, stored.bulletin_id, &run.owner, until, started)
        .await?;
    let resuming = match claim {
        WeekPostClaim::Finished => return Ok(PostOutcome::AlreadyPosted { week }),
        WeekPostClaim::Held { until } => return Ok(PostOutcome::InProgress { week, until }),
        WeekPostClaim::Claimed => false,
        WeekPostClaim::Unfinished => true,
    };
    let poster = Poster {
        store,
        messenger,
        guild,
        week,
        round: store.post_round(guild, week).await?,
        run,
        now: &now,
        plan: &plan,
    };
    let sent = poster.send(resuming).await;
    if sent.is_err()
        && let Err(error) = store.release_week_post(guild, week, &run.owner).await
    {
        tracing::warn!(%error, "could not let go of the post after it stopped; the next run waits for its lease to run out");
    }
    sent
}

/// Posts one request of `week` on its own, as the week's post would send
/// it (a member's request, added mid-week): its messages in the channel its
/// region goes to, with the same nonces the week's post uses, each recorded
/// as it is sent, so neither this nor the week's post sends one twice.
/// Returns where each message went.
pub async fn post_request(
    store: &Store,
    messenger: &impl Messenger,
    guild: GuildId,
    week: PrayerWeek,
    request: (RequestId, &crate::bulletins::parse::PrayerRequest),
    now: impl Fn() -> DateTime<Utc>,
) -> Result<Vec<(ChannelId, MessageId)>, PostError> {
    let settings = store.channel_settings(guild).await?;
    let alone = StoredWeek {
        week,
        bulletin_id: 0,
        bulletin: crate::bulletins::parse::Bulletin {
            title: String::new(),
            date: None,
            verse: None,
            requests: vec![request.1.clone()],
            notes: Vec::new(),
        },
        request_ids: vec![request.0],
    };
    let plan: Vec<PlannedMessage> = plan_post(&alone, &settings)?
        .into_iter()
        .filter(|m| m.request_id.is_some())
        .collect();
    let sent_before = store.posted_messages(guild, week).await?;
    // The week's post, if it sends this request too, uses the same nonces.
    let round = store.post_round(guild, week).await?;
    let mut posted = Vec::with_capacity(plan.len());
    for (index, message) in plan.iter().enumerate() {
        if let Some(id) = recorded(&sent_before, message) {
            posted.push((message.channel, id));
            continue;
        }
        let sent = OneMessage {
            store,
            messenger,
            guild,
            week,
            round,
        };
        let id = sent.deliver(message, &now).await.map_err(|stopped| {
            stopped.into_post_error(|sent, reason| PostError::Interrupted {
                week,
                sent: index + sent,
                total: plan.len(),
                reason,
            })
        })?;
        posted.push((message.channel, id));
    }
    Ok(posted)
}

/// One run sending one server's post of one week, holding its lease.
struct Poster<'a, M, N> {
    store: &'a Store,
    messenger: &'a M,
    guild: GuildId,
    week: PrayerWeek,
    /// How many times the week was taken down here (`/prayer unpost`).
    round: u32,
    run: &'a PostRun,
    now: &'a N,
    plan: &'a [PlannedMessage],
}

/// Where the sending loop ended.
enum Sent {
    /// Every message is sent; so many of them by an earlier run.
    All { resumed: usize },
    /// Another run took the post over.
    TakenOver(PostOutcome),
}

impl<M: Messenger, N: Fn() -> DateTime<Utc>> Poster<'_, M, N> {
    /// Sends what of the plan is not sent yet: first, when resuming, what
    /// the channels show was sent though never recorded, and the 🙏 that
    /// may have been lost; then the rest, in order; then the post is done.
    async fn send(&self, resuming: bool) -> Result<PostOutcome, PostError> {
        let mut sent_before = self.store.posted_messages(self.guild, self.week).await?;
        if resuming {
            for (channel, message_id) in self.read_back(&mut sent_before).await? {
                self.messenger
                    .react(channel, message_id, PRAY_EMOJI)
                    .await
                    .map_err(|e| self.interrupted(sent_before.len(), e))?;
            }
        }
        match self.send_unsent(&sent_before).await? {
            Sent::TakenOver(outcome) => Ok(outcome),
            Sent::All { resumed } => self.finish(resumed).await,
        }
    }

    /// Records the messages the channels show were sent but never
    /// recorded (a crash between Discord's answer and the record); returns
    /// the 🙏 to add again: adding one twice is harmless (Discord keeps one
    /// per user), and it may have been lost.
    async fn read_back(
        &self,
        sent_before: &mut Vec<PostedMessage>,
    ) -> Result<Vec<(ChannelId, MessageId)>, PostError> {
        let mut to_react = Vec::new();
        for channel in channels_of(self.plan) {
            let unrecorded = self
                .plan
                .iter()
                .any(|m| m.channel == channel && recorded(sent_before, m).is_none());
            if !unrecorded {
                continue;
            }
            let seen =
                self.messenger
                    .recent_messages(channel)
                    .await
                    .map_err(|e| PostError::Unread {
                        week: self.week,
                        channel,
                        reason: e,
                    })?;
            for (index, message_id) in recognise(self.plan, channel, sent_before, &seen) {
                let message = &self.plan[index];
                sent_before.push(self.record(message, message_id).await?);
                if message.prayable {
                    to_react.push((channel, message_id));
                }
            }
        }
        // A post cut short between its last message and that message's 🙏
        // lost the reaction.
        let last_sent = self
            .plan
            .iter()
            .rev()
            .find_map(|m| recorded(sent_before, m).map(|id| (m, id)));
        if let Some((message, message_id)) = last_sent
            && message.prayable
            && !to_react.contains(&(message.channel, message_id))
        {
            to_react.push((message.channel, message_id));
        }
        Ok(to_react)
    }

    /// Records `message` as sent with `message_id`.
    async fn record(
        &self,
        message: &PlannedMessage,
        message_id: MessageId,
    ) -> Result<PostedMessage, PostError> {
        let posted = PostedMessage {
            message_id,
            channel_id: message.channel,
            request_id: message.request_id,
            part: message.part,
        };
        self.store
            .record_posted_message(self.guild, self.week, posted, (self.now)())
            .await?;
        Ok(posted)
    }

    /// Why the post stopped after `sent` messages: the process is stopping,
    /// or Discord refused for `reason`.
    fn interrupted(&self, sent: usize, reason: SendError) -> PostError {
        let (week, total) = (self.week, self.plan.len());
        if self.messenger.stopping() {
            PostError::Stopped { week, sent, total }
        } else {
            PostError::Interrupted {
                week,
                sent,
                total,
                reason,
            }
        }
    }

    /// Sends, in order, every planned message not in `sent_before`,
    /// renewing the lease before each and recording each right after
    /// Discord takes it.
    async fn send_unsent(&self, sent_before: &[PostedMessage]) -> Result<Sent, PostError> {
        let mut resumed = 0;
        for (index, message) in self.plan.iter().enumerate() {
            if recorded(sent_before, message).is_some() {
                resumed += 1;
                continue;
            }
            // The boundary between messages: nothing is half-sent here.
            if self.messenger.stopping() {
                let (week, total) = (self.week, self.plan.len());
                return Err(PostError::Stopped {
                    week,
                    sent: index,
                    total,
                });
            }
            if let Some(outcome) = self.taken_over().await? {
                return Ok(Sent::TakenOver(outcome));
            }
            self.send_one(index, message).await?;
        }
        Ok(Sent::All { resumed })
    }

    /// Renews the lease; if another run took the post over, what to say.
    async fn taken_over(&self) -> Result<Option<PostOutcome>, PostError> {
        let (store, guild, week) = (self.store, self.guild, self.week);
        let until = (self.now)() + self.run.lease;
        if store
            .renew_week_post(guild, week, &self.run.owner, until)
            .await?
        {
            return Ok(None);
        }
        tracing::warn!("another run took the post over; this one sends nothing more");
        let until = store
            .week_post_lease(guild, week)
            .await?
            .unwrap_or_else(self.now);
        Ok(Some(PostOutcome::InProgress { week, until }))
    }

    /// Sends the plan's message `index`, records it, and adds the 🙏 under
    /// a request that can be prayed for.
    async fn send_one(&self, index: usize, message: &PlannedMessage) -> Result<(), PostError> {
        let sent = OneMessage {
            store: self.store,
            messenger: self.messenger,
            guild: self.guild,
            week: self.week,
            round: self.round,
        };
        sent.deliver(message, self.now).await.map_err(|stopped| {
            stopped.into_post_error(|sent, reason| self.interrupted(index + sent, reason))
        })?;
        Ok(())
    }

    /// Marks the post complete and says what it did.
    async fn finish(&self, resumed: usize) -> Result<PostOutcome, PostError> {
        let (guild, week, plan) = (self.guild, self.week, self.plan);
        self.store
            .finish_week_post(guild, week, (self.now)())
            .await?;
        tracing::info!(
            "posted the week of {week} to server {guild}: {} messages ({resumed} sent before) in {} channels",
            plan.len(),
            channels_of(plan).len()
        );
        Ok(PostOutcome::Posted {
            week,
            messages: plan.len(),
            channels: channels_of(plan),
            resumed,
        })
    }
}

/// The recorded message of `sent_before` that `message` planned.
fn recorded(sent_before: &[PostedMessage], m: &PlannedMessage) -> Option<MessageId> {
    sent_before
        .iter()
        .find(|s| s.channel_id == m.channel && s.request_id == m.request_id && s.part == m.part)
        .map(|s| s.message_id)
}

/// What sends one planned message of `guild`'s post of `week` (its nonces
/// those of `round`): the week's post and a request posted on its own
/// send the same way.
struct OneMessage<'a, M> {
    store: &'a Store,
    messenger: &'a M,
    guild: GuildId,
    week: PrayerWeek,
    round: u32,
}

/// Where sending one message stopped.
enum Undelivered {
    /// Discord refused the message or could not be reached: not sent.
    Send(SendError),
    /// The message is sent and recorded, its 🙏 is not.
    React(SendError),
    Storage(StorageError),
}

impl Undelivered {
    /// The post's error: `interrupted(messages sent, reason)` for Discord's
    /// part (the message counts as sent once recorded).
    fn into_post_error(self, interrupted: impl FnOnce(usize, SendError) -> PostError) -> PostError {
        match self {
            Undelivered::Send(reason) => interrupted(0, reason),
            Undelivered::React(reason) => interrupted(1, reason),
            Undelivered::Storage(error) => PostError::Storage(error),
        }
    }
}

impl<M: Messenger> OneMessage<'_, M> {
    /// Sends `message`, records it right after Discord takes it, opens the
    /// week's thread on it if it is to, and adds the bot's 🙏 under a
    /// request that can be prayed for.
    async fn deliver(
        &self,
        message: &PlannedMessage,
        now: &impl Fn() -> DateTime<Utc>,
    ) -> Result<MessageId, Undelivered> {
        let outgoing = OutgoingMessage {
            content: message.content.clone(),
            buttons_for: message.request_id.filter(|_| message.prayable),
            nonce: nonce_in_round(self.guild, self.week, self.round, message),
            notify_role: message.ping,
            ..OutgoingMessage::default()
        };
        let id = self
            .messenger
            .send(message.channel, &outgoing)
            .await
            .map_err(Undelivered::Send)?;
        let record = PostedMessage {
            message_id: id,
            channel_id: message.channel,
            request_id: message.request_id,
            part: message.part,
        };
        self.store
            .record_posted_message(self.guild, self.week, record, now())
            .await
            .map_err(Undelivered::Storage)?;
        if let Some(name) = &message.thread {
            // The week's talk: worth a warning if refused, never worth
            // holding the week's requests back.
            if let Err(error) = self.messenger.open_thread(message.channel, id, name).await {
                tracing::warn!(%error, "could not open the week's thread");
            }
        }
        if message.prayable {
            self.messenger
                .react(message.channel, id, PRAY_EMOJI)
                .await
                .map_err(Undelivered::React)?;
        }
        Ok(id)
    }
}

/// The channels `plan` sends to, in order.
fn channels_of(plan: &[PlannedMessage]) -> Vec<ChannelId> {
    let mut channels: Vec<ChannelId> = plan.iter().map(|m| m.channel).collect();
    channels.dedup();
    channels
}

/// The messages of `plan` in `channel` that `seen` (the channel's latest
/// messages) shows were sent though never recorded, as (index in the plan,
/// message id): a message of the bot's with the same text, and for a
/// message with buttons the same request in them. A request split in
/// parts carries its buttons on the last part only, so the others match by
/// text alone, as the header does.
///
/// A post sends a channel's messages in order, so each is looked for only
/// after the last one of the post found before it, recorded or seen; this
/// keeps last week's message with the same text (a praise repeated, say)
/// from being taken for this week's. The first in a channel is the
/// header, whose text names the week, so it needs no such bound.
fn recognise(
    plan: &[PlannedMessage],
    channel: ChannelId,
    recorded: &[PostedMessage],
    seen: &[SeenMessage],
) -> Vec<(usize, MessageId)> {
    let mut taken: HashSet<MessageId> = recorded.iter().map(|r| r.message_id).collect();
    let mut after: Option<MessageId> = None;
    let mut found = Vec::new();
    let in_channel = plan
        .iter()
        .enumerate()
        .filter(|(_, m)| m.channel == channel);
    for (position, (index, message)) in in_channel.enumerate() {
        let known = recorded.iter().find(|r| {
            r.channel_id == channel && r.request_id == message.request_id && r.part == message.part
        });
        if let Some(known) = known {
            after = Some(after.map_or(known.message_id, |a| a.max(known.message_id)));
            continue;
        }
        if after.is_none() && position > 0 {
            // Nothing of the post is known in this channel before this
            // message, not even its header: nothing after it was sent.
            break;
        }
        let buttons = message.request_id.filter(|_| message.prayable);
        let matched = seen
            .iter()
            .filter(|s| {
                s.from_bot
                    && !taken.contains(&s.id)
                    && after.is_none_or(|a| s.id > a)
                    && s.request == buttons
                    && s.content.trim() == message.content.trim()
            })
            .map(|s| s.id)
            .min();
        if let Some(id) = matched {
            taken.insert(id);
            after = Some(id);
            found.push((index, id));
        }
    }
    found
}

/// A nonce that names one message of one server's post of one week: at
/// most 25 characters, as Discord allows.
#[cfg(test)]
fn nonce(guild: GuildId, week: PrayerWeek, message: &PlannedMessage) -> String {
    nonce_in_round(guild, week, 0, message)
}

/// The nonce of `message` in the post of `week` after it was taken down
/// `round` times: the first round's nonces are the ones posts always had;
/// each later round has its own, so Discord, which answers a nonce it saw
/// in the last few minutes with the message it made then, never answers
/// a post made again with a message the unpost deleted.
fn nonce_in_round(
    guild: GuildId,
    week: PrayerWeek,
    round: u32,
    message: &PlannedMessage,
) -> String {
    if round > 0 {
        let parts = (
            guild,
            week.to_string(),
            message.channel,
            message.request_id,
            message.part,
        );
        return stable_nonce('p', (parts, round));
    }
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
    use super::scripted::{Crash, Discord, Scripted};
    use super::*;
    use crate::bulletins::week::Placement;
    #[allow(unused_imports)]
    use crate::ids::{ChannelId, GuildId, MessageId, RequestId};
    use std::sync::{Arc, Mutex};
    use tokio::sync::Notify;

    /// A run that posts `week()` to `GUILD` through `recorder`.
    async fn post(
        store: &Store,
        recorder: &Scripted,
        owner: &str,
        at: DateTime<Utc>,
    ) -> Result<PostOutcome, PostError> {
        let run = PostRun {
            owner: owner.to_owned(),
            lease: LEASE,
        };
        post_week(store, recorder, GUILD, week(), &run, || at).await
    }

    /// Runs a post until its messenger crashes, then drops it, as a
    /// process that died.
    async fn post_until_it_crashes(store: &Store, recorder: &Scripted, owner: &str) {
        tokio::select! {
            outcome = post(store, recorder, owner, now()) => {
                panic!("the run was to crash, and ended: {outcome:?}")
            }
            () = recorder.crashed.notified() => {}
        }
    }

    const LEASE: TimeDelta = TimeDelta::seconds(60);

    const GUILD: GuildId = GuildId::of::<99>();
    const BULLETIN: &str = "IJM Prayer Requests\n\nAfrica\n• Pray for Kenya.\n\nLatin America\n• Pray for Peru.\n• Praise God for Chile.\n\nSouth Asia\n• Pray for Nepal.\n";

    fn week() -> PrayerWeek {
        "2026-11-23".parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default()
    }

    async fn store_with_bulletin(text: &str) -> Store {
        let store = crate::storage::fixtures::store().await;
        import_shared(&store, text).await;
        store
    }

    /// Stores `text` as the shared bulletin of [`week`].
    async fn import_shared(store: &Store, text: &str) {
        crate::storage::fixtures::put(store, Scope::Shared, text, Placement::Exactly(week()))
            .await
            .expect("imports");
    }

    /// The bulletin stored, and the server's posts going to channel 1.
    #[tokio::test]
    async fn a_server_that_asked_for_threads_gets_one_on_the_first_header_only() {
        let store = store_with_default_channel().await;
        store
            .set_region_channel(GUILD, "South Asia", ChannelId::of::<2>())
            .await
            .expect("routed");
        store.set_threads(GUILD, true, now()).await.expect("set");
        let recorder = Scripted::default();
        post(&store, &recorder, "run", now()).await.expect("posts");
        let threads = recorder.threads.lock().expect("the threads").clone();
        let sent = recorder.sent.lock().expect("the sends").clone();
        assert_eq!(sent.len(), 6, "two headers and four requests: {sent:?}");
        assert_eq!(
            threads,
            [(
                MessageId::try_new(recorder.first_id + 1_000).expect("not 0"),
                "Prayer week of 23 November 2026".to_owned()
            )],
            "one thread, on the first message sent (the first header)"
        );
        // Posting again posts nothing and opens nothing.
        post(&store, &recorder, "again", now())
            .await
            .expect("posts");
        assert_eq!(recorder.threads.lock().expect("the threads").len(), 1);
    }

    async fn store_with_default_channel() -> Store {
        let store = store_with_bulletin(BULLETIN).await;
        store
            .set_default_channel(GUILD, ChannelId::of::<1>(), now())
            .await
            .expect("sets");
        store
    }

    fn settings(default: Option<u64>, regions: &[(&str, u64)]) -> ChannelSettings {
        ChannelSettings {
            default_channel: default.and_then(ChannelId::try_new),
            region_channels: regions
                .iter()
                .map(|(r, c)| {
                    (
                        (*r).to_owned(),
                        ChannelId::try_new(*c).expect("ids are not 0"),
                    )
                })
                .collect(),
            ping_role: None,
            threads: false,
            notice_channel: None,
        }
    }

    #[test]
    fn a_region_without_its_own_channel_goes_to_the_default_one() {
        let s = settings(Some(1), &[("latin america", 2)]);
        assert_eq!(
            route_region(&s, "Latin America"),
            Some(ChannelId::of::<2>())
        );
        assert_eq!(route_region(&s, "Africa"), Some(ChannelId::of::<1>()));
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
        let shape: Vec<(ChannelId, bool)> = plan
            .iter()
            .map(|m| (m.channel, m.request_id.is_some()))
            .collect();
        assert_eq!(
            shape,
            [
                (ChannelId::of::<1>(), false),
                (ChannelId::of::<1>(), true),
                (ChannelId::of::<1>(), true),
                (ChannelId::of::<2>(), false),
                (ChannelId::of::<2>(), true),
                (ChannelId::of::<2>(), true)
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
        let recorder = Scripted::default();
        let outcome = post(&store, &recorder, "a", now()).await.expect("posts");
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
        let again = post(&store, &recorder, "a", now()).await.expect("answers");
        assert_eq!(again, PostOutcome::AlreadyPosted { week: week() });
        assert_eq!(
            recorder.sent.lock().expect("lock").len(),
            5,
            "nothing sent twice"
        );
    }

    #[tokio::test]
    async fn a_praise_that_asks_for_prayer_gets_buttons_and_a_reaction_and_pure_thanks_does_not() {
        let store = store_with_bulletin(
            "IJM Prayer Requests\n\nAfrica\n• Praise God for a verdict in Kenya. Please pray with us that the police enforce it.\n\nAsia\n• Praise God for rain in Nepal.\n• Pray for Peru.\n",
        )
        .await;
        store
            .set_default_channel(GUILD, ChannelId::of::<1>(), now())
            .await
            .expect("sets");
        let recorder = Scripted::default();
        post(&store, &recorder, "a", now()).await.expect("posts");
        let sent = recorder.sent.lock().expect("lock").clone();
        let find = |word: &str| {
            sent.iter()
                .find(|(_, m)| m.content.contains(word))
                .map(|(_, m)| m.clone())
                .unwrap_or_else(|| panic!("{word} is posted"))
        };
        let (kenya, nepal, peru) = (find("Kenya"), find("Nepal"), find("Peru"));
        assert!(
            kenya.content.starts_with("🎉 Praise ·"),
            "still shown as praise: {}",
            kenya.content
        );
        assert!(kenya.buttons_for.is_some(), "it asks for prayer");
        assert!(peru.buttons_for.is_some());
        assert_eq!(nepal.buttons_for, None, "pure thanks asks for no prayer");
        let reactions = recorder.reactions.lock().expect("lock").clone();
        assert_eq!(reactions.len(), 2, "🙏 under Kenya and Peru: {reactions:?}");
    }

    #[tokio::test]
    async fn an_interrupted_post_resumes_without_sending_anything_twice() {
        let store = store_with_default_channel().await;
        let failing = Scripted {
            fail_after: Some(2),
            ..Scripted::default()
        };
        let error = post(&store, &failing, "a", now()).await.expect_err("fails");
        assert!(
            error
                .to_string()
                .contains("partly posted (2 of 5 messages)"),
            "{error}"
        );
        let recorder = Scripted {
            first_id: 500,
            ..Scripted::default()
        };
        let outcome = post(&store, &recorder, "a", now()).await.expect("resumes");
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
        let stopping = Scripted {
            stop_after: Some(3),
            ..Scripted::default()
        };
        let error = post(&store, &stopping, "a", now())
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
        let recorder = Scripted {
            first_id: 500,
            ..Scripted::default()
        };
        let outcome = post(&store, &recorder, "a", now()).await.expect("resumes");
        assert!(matches!(outcome, PostOutcome::Posted { resumed: 3, .. }));
        assert_eq!(recorder.sent.lock().expect("lock").len(), 2);
    }

    #[tokio::test]
    async fn a_week_without_a_bulletin_or_channel_posts_nothing() {
        let store = store_with_bulletin(BULLETIN).await;
        let recorder = Scripted::default();
        let error = post(&store, &recorder, "a", now())
            .await
            .expect_err("no channel");
        assert!(matches!(error, PostError::NoChannel));
        let later = week().next();
        let error = post_week(&store, &recorder, GUILD, later, &PostRun::new(LEASE), now)
            .await
            .expect_err("no bulletin");
        assert!(matches!(error, PostError::NoBulletin(w) if w == later));
        assert!(recorder.sent.lock().expect("lock").is_empty());
    }

    /// A bulletin whose Nepal petition is too long for one message, posted
    /// to two channels: Latin America to channel 2, the rest to channel 1.
    async fn two_channel_store(location: &str) -> Store {
        let long = "and for the families who wait for justice, ".repeat(60);
        let text = format!(
            "IJM Prayer Requests\n\nAfrica\n• Pray for Kenya.\n\nLatin America\n• Pray for Peru.\n• Praise God for Chile.\n\nSouth Asia\n• Pray for Nepal, {long}amen.\n"
        );
        let store = Store::open(location).await.expect("opens");
        import_shared(&store, &text).await;
        store
            .set_default_channel(GUILD, ChannelId::of::<1>(), now())
            .await
            .expect("sets");
        store
            .set_region_channel(GUILD, "Latin America", ChannelId::of::<2>())
            .await
            .expect("routes");
        store
    }

    async fn plan_of(store: &Store) -> Vec<PlannedMessage> {
        let stored = store
            .week(Scope::Guild(GUILD), week())
            .await
            .expect("reads")
            .expect("stored");
        let settings = store.channel_settings(GUILD).await.expect("reads");
        plan_post(&stored, &settings).expect("plans")
    }

    /// The nonces `plan` posts, sorted: what Discord must hold, each once.
    fn nonces(plan: &[PlannedMessage]) -> Vec<String> {
        let mut nonces: Vec<String> = plan.iter().map(|m| nonce(GUILD, week(), m)).collect();
        nonces.sort();
        nonces
    }

    /// Checks that Discord holds each message of the plan once, that the
    /// store maps each to its message, and that every petition got its 🙏.
    async fn assert_posted_once(store: &Store, discord: &Discord, runs: &[&Scripted], case: &str) {
        let plan = plan_of(store).await;
        assert_eq!(discord.nonces(), nonces(&plan), "{case}");
        let recorded = store.posted_messages(GUILD, week()).await.expect("reads");
        assert_eq!(recorded.len(), plan.len(), "{case}");
        let held = discord.held();
        for message in &plan {
            let nonce = nonce(GUILD, week(), message);
            let id = held
                .iter()
                .find(|h| h.message.nonce == nonce)
                .map(|h| h.id)
                .expect("held");
            let mapped = recorded.iter().find(|r| {
                r.channel_id == message.channel
                    && r.request_id == message.request_id
                    && r.part == message.part
            });
            assert_eq!(
                mapped.map(|r| r.message_id),
                Some(id).and_then(MessageId::try_new),
                "{case}"
            );
            let reacted = runs.iter().any(|run| {
                run.reactions.lock().expect("lock").contains(&(
                    message.channel,
                    MessageId::try_new(id).expect("ids are not 0"),
                ))
            });
            assert_eq!(reacted, message.prayable, "{case}: 🙏 on {message:?}");
        }
    }

    #[tokio::test]
    async fn a_restart_after_any_number_of_messages_posts_each_message_once() {
        let length = plan_of(&two_channel_store("sqlite::memory:").await)
            .await
            .len();
        assert_eq!(length, 7, "two headers, five requests, one split in two");
        let crashes = (0..=length)
            .map(Crash::BeforeSend)
            .chain((0..length).map(Crash::AfterSend));
        for crash in crashes {
            let case = format!("{crash:?}");
            let store = two_channel_store("sqlite::memory:").await;
            let discord = Discord::default();
            let first = Scripted {
                crash: Some(crash),
                discord: discord.clone(),
                ..Scripted::default()
            };
            let after = Scripted {
                discord: discord.clone(),
                ..Scripted::default()
            };
            if matches!(crash, Crash::BeforeSend(n) if n == length) {
                // It got through every message: nothing to crash on.
                let outcome = post(&store, &first, "a", now()).await.expect("posts");
                assert!(matches!(outcome, PostOutcome::Posted { .. }), "{case}");
            } else {
                post_until_it_crashes(&store, &first, "a").await;
                // The dead run's lease holds the post for a while.
                assert_eq!(
                    post(&store, &after, "b", now() + LEASE)
                        .await
                        .expect("answers"),
                    PostOutcome::InProgress {
                        week: week(),
                        until: now() + LEASE
                    },
                    "{case}"
                );
                assert!(after.sent.lock().expect("lock").is_empty(), "{case}");
            }
            let later = now() + LEASE + TimeDelta::seconds(1);
            let outcome = post(&store, &after, "b", later).await.expect("resumes");
            let resumed = match crash {
                Crash::BeforeSend(n) if n == length => {
                    assert_eq!(outcome, PostOutcome::AlreadyPosted { week: week() });
                    length
                }
                Crash::BeforeSend(n) => n,
                Crash::AfterSend(n) => n + 1,
            };
            if resumed < length {
                assert_eq!(
                    outcome,
                    PostOutcome::Posted {
                        week: week(),
                        messages: length,
                        channels: vec![ChannelId::of::<1>(), ChannelId::of::<2>()],
                        resumed
                    },
                    "{case}"
                );
            }
            assert_posted_once(&store, &discord, &[&first, &after], &case).await;
        }
    }

    #[tokio::test]
    async fn a_message_discord_took_but_the_post_never_recorded_is_not_sent_again() {
        let store = two_channel_store("sqlite::memory:").await;
        let discord = Discord::default();
        // The header and Kenya are recorded; Nepal's first part reaches
        // Discord, but its answer never comes back.
        let first = Scripted {
            lose_answer: Some(2),
            discord: discord.clone(),
            ..Scripted::default()
        };
        let error = post(&store, &first, "a", now()).await.expect_err("fails");
        assert!(
            matches!(error, PostError::Interrupted { sent: 2, .. }),
            "{error}"
        );
        // Long after Discord's nonce window, and at once: the failed run
        // let go of the post.
        let later = now() + TimeDelta::hours(1);
        let second = Scripted {
            discord: discord.clone(),
            ..Scripted::default()
        };
        let outcome = post(&store, &second, "b", later).await.expect("resumes");
        assert!(
            matches!(outcome, PostOutcome::Posted { resumed: 3, .. }),
            "{outcome:?}"
        );
        let resent: Vec<String> = second
            .sent
            .lock()
            .expect("lock")
            .iter()
            .map(|(_, m)| m.content.clone())
            .collect();
        assert!(!resent.iter().any(|c| c.contains("Nepal")), "{resent:?}");
        assert_posted_once(&store, &discord, &[&first, &second], "lost answer").await;
    }

    #[tokio::test]
    async fn a_message_of_an_earlier_week_or_a_members_copy_is_not_taken_for_this_weeks() {
        let store = two_channel_store("sqlite::memory:").await;
        let plan = plan_of(&store).await;
        let chile = plan
            .iter()
            .find(|m| m.content.contains("Chile"))
            .expect("planned");
        let peru = plan
            .iter()
            .find(|m| m.content.contains("Peru"))
            .expect("planned");
        let copy = |m: &PlannedMessage| OutgoingMessage {
            content: m.content.clone(),
            buttons_for: None,
            nonce: String::new(),
            reply_to: None,
            notify: Vec::new(),
            notify_role: None,
            buttons: Vec::new(),
        };
        let discord = Discord::default();
        // Last week the bot thanked God for Chile with the same words.
        discord.add(ChannelId::of::<2>(), true, copy(chile));
        // Channel 2's header reaches Discord, unrecorded.
        let first = Scripted {
            crash: Some(Crash::AfterSend(4)),
            discord: discord.clone(),
            ..Scripted::default()
        };
        post_until_it_crashes(&store, &first, "a").await;
        // A member quotes the Peru request, buttons and all, after it.
        discord.add(
            ChannelId::of::<2>(),
            false,
            OutgoingMessage {
                buttons_for: peru.request_id,
                ..copy(peru)
            },
        );
        let second = Scripted {
            discord: discord.clone(),
            ..Scripted::default()
        };
        let later = now() + LEASE + TimeDelta::seconds(1);
        let outcome = post(&store, &second, "b", later).await.expect("resumes");
        assert!(
            matches!(outcome, PostOutcome::Posted { resumed: 5, .. }),
            "{outcome:?}"
        );
        let sent: Vec<String> = second
            .sent
            .lock()
            .expect("lock")
            .iter()
            .map(|(_, m)| m.content.clone())
            .collect();
        assert_eq!(sent, [peru.content.clone(), chile.content.clone()]);
        assert_posted_once(&store, &discord, &[&first, &second], "earlier week").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_processes_posting_at_once_post_each_message_once() {
        let dir = tempfile::tempdir().expect("a directory");
        let path = dir.path().join("prayer.db");
        let location = path.to_str().expect("UTF-8");
        let one = two_channel_store(location).await;
        let two = Store::open(location).await.expect("opens");
        let discord = Discord::default();
        // Whichever run gets the post waits to send its first message
        // until the other has answered, so the two overlap.
        let gate = Arc::new(Notify::new());
        let recorder = || Scripted {
            discord: discord.clone(),
            first_waits: Some(gate.clone()),
            ..Scripted::default()
        };
        let (a, b) = (recorder(), recorder());
        let run = |store, recorder, owner| {
            let gate = gate.clone();
            async move {
                let outcome = post(store, recorder, owner, now()).await;
                gate.notify_one();
                outcome
            }
        };
        let (x, y) = tokio::join!(run(&one, &a, "a"), run(&two, &b, "b"));
        let outcomes = [x.expect("posts"), y.expect("posts")];
        assert_eq!(
            outcomes
                .iter()
                .filter(|o| matches!(o, PostOutcome::Posted { resumed: 0, .. }))
                .count(),
            1,
            "{outcomes:?}"
        );
        assert!(
            outcomes
                .iter()
                .any(|o| matches!(o, PostOutcome::InProgress { .. })),
            "{outcomes:?}"
        );
        assert_posted_once(&one, &discord, &[&a, &b], "two processes").await;
        // Either process, asked again, posts nothing.
        for store in [&one, &two] {
            assert_eq!(
                post(store, &a, "c", now()).await.expect("answers"),
                PostOutcome::AlreadyPosted { week: week() }
            );
        }
        assert_eq!(discord.nonces().len(), 7);
    }

    /// Another run takes the post over at `at`, the first run's lease
    /// having run out.
    async fn take_over(store: Store, at: DateTime<Utc>) {
        let stored = store
            .week(Scope::Guild(GUILD), week())
            .await
            .expect("readable")
            .expect("the week");
        let claim = store
            .lease_week_post(GUILD, week(), stored.bulletin_id, "thief", at + LEASE, at)
            .await
            .expect("the lease");
        assert_eq!(claim, WeekPostClaim::Unfinished);
    }

    #[tokio::test]
    async fn a_run_that_lost_its_post_to_another_sends_nothing_more() {
        let store = two_channel_store("sqlite::memory:").await;
        let discord = Discord::default();
        // The run stalls past its lease after two messages; another run
        // takes the post over.
        let taken_at = now() + LEASE + TimeDelta::seconds(1);
        let slow = Scripted {
            after: Mutex::new(Some((2, Box::pin(take_over(store.clone(), taken_at))))),
            discord: discord.clone(),
            ..Scripted::default()
        };
        let outcome = post(&store, &slow, "a", now()).await.expect("answers");
        assert_eq!(
            outcome,
            PostOutcome::InProgress {
                week: week(),
                until: taken_at + LEASE
            }
        );
        assert_eq!(
            slow.sent.lock().expect("lock").len(),
            2,
            "nothing more sent"
        );
        // The run that took it over posts the rest.
        let thief = Scripted {
            discord: discord.clone(),
            ..Scripted::default()
        };
        let outcome = post(&store, &thief, "thief", taken_at)
            .await
            .expect("posts");
        assert!(
            matches!(outcome, PostOutcome::Posted { resumed: 2, .. }),
            "{outcome:?}"
        );
        assert_posted_once(&store, &discord, &[&slow, &thief], "lost lease").await;
    }

    #[test]
    fn owners_differ_between_runs() {
        let (a, b) = (PostRun::new(LEASE), PostRun::new(LEASE));
        assert_ne!(a.owner, b.owner);
        assert_eq!(a.lease, LEASE);
    }

    #[test]
    fn nonces_fit_discords_limit_and_differ_per_message() {
        let m = |part| PlannedMessage {
            channel: ChannelId::of::<1>(),
            request_id: Some(RequestId::of::<5>()),
            part,
            last_part: true,
            prayable: true,
            content: String::new(),
            ping: None,
            thread: None,
        };
        let a = nonce(
            GuildId::try_new(u64::MAX).expect("ids are not 0"),
            week(),
            &m(0),
        );
        assert!(a.len() <= 25);
        assert_ne!(
            a,
            nonce(
                GuildId::try_new(u64::MAX).expect("ids are not 0"),
                week(),
                &m(1)
            )
        );
        assert_eq!(
            a,
            nonce(
                GuildId::try_new(u64::MAX).expect("ids are not 0"),
                week(),
                &m(0)
            )
        );
    }
}
