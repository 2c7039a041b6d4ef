//! The weekly posts that go out by themselves: [`tick`] posts whatever is
//! due at one instant; [`run`] loops around it, sleeping until the next
//! post time, waking early when a schedule or a bulletin changes, and never
//! giving up: a failed post is retried with backoff while other servers'
//! posts go on, and reported once where the server's admins will see it.
//! Many servers are posted at once ([`POSTS_AT_ONCE`]); each post's lease
//! (see `posting::post_week`) is what keeps two runs off one week.
//!
//! What is due is decided in pure code (`schedule::due_posts`) from each
//! server's schedule, the week it is on in its own time zone, whether that
//! week has a bulletin and is posted, when the schedule was set and the
//! newest week posted there. So a bot that was down at post time posts when
//! it comes back within the week; a bulletin imported after the time is
//! posted at once; a week that is over, a week whose time passed before the
//! schedule was set, and a week older than one already posted are never
//! posted by the scheduler.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use futures::stream::{self, StreamExt};
use tokio::sync::Notify;

use crate::backoff::Backoff;
use crate::bulletins::week::PrayerWeek;
use crate::ids::GuildId;
use crate::posting::{Messenger, OutgoingMessage, PostError, PostOutcome, PostRun, post_week};
use crate::recap::{next_recap, post_recaps};
use crate::schedule::clock::Clock;
use crate::schedule::notices::warn_empty_weeks;
use crate::schedule::nudges::{next_nudge_time, send_nudges};
use crate::schedule::{
    DuePost, ServerState, due_posts, next_notice_time, next_wake, scheduled_week,
};
use crate::shards::{ShardRange, is_mine};
use crate::storage::{StorageError, Store};

/// The longest the loop sleeps without looking again, whatever the
/// schedules say (a safety net for a missed wake-up).
const LONGEST_SLEEP: Duration = Duration::from_secs(15 * 60);

/// The first pause after a server's post failed, doubled each time, up to
/// [`LONGEST_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(30);
const LONGEST_BACKOFF: Duration = Duration::from_secs(60 * 60);

/// The first pause after the database could not be read, doubled each
/// time, up to [`LONGEST_SLEEP`].
const FIRST_PAUSE_AFTER_ERROR: Duration = Duration::from_secs(1);

/// Servers whose last attempt failed: when to try again, and the backoff
/// that gives the pause after that.
#[derive(Debug, Default)]
pub struct Retries(HashMap<GuildId, (DateTime<Utc>, Backoff)>);

impl Retries {
    fn waiting(&self, guild: GuildId, now: DateTime<Utc>) -> bool {
        self.0.get(&guild).is_some_and(|(at, _)| *at > now)
    }

    fn failed(&mut self, guild: GuildId, now: DateTime<Utc>) {
        let (at, backoff) = self
            .0
            .entry(guild)
            .or_insert((now, Backoff::new(FIRST_BACKOFF, LONGEST_BACKOFF)));
        *at = later_by(now, backoff.failed());
    }

    fn succeeded(&mut self, guild: GuildId) {
        self.0.remove(&guild);
    }

    fn next_retry(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.0
            .values()
            .map(|(at, _)| *at)
            .filter(|at| *at > now)
            .min()
    }
}

/// `now` plus `pause`, or the end of time if that overflows.
fn later_by(now: DateTime<Utc>, pause: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(pause)
        .ok()
        .and_then(|pause| now.checked_add_signed(pause))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// What one tick did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tick {
    /// Posts sent (or found already finished by another run).
    pub posted: Vec<(GuildId, PrayerWeek)>,
    /// Posts that failed, with the reason.
    pub failed: Vec<(GuildId, PrayerWeek, String)>,
    /// The process is stopping: the posts in hand stopped at a message
    /// boundary, those not started did not start, and all resume on the
    /// next start.
    pub stopped: bool,
    /// When something may next be due.
    pub next_wake: Option<DateTime<Utc>>,
    /// Servers whose admins were told that a week due within a day has no
    /// bulletin.
    pub warned: Vec<(GuildId, PrayerWeek)>,
    /// Members sent their mid-week reminder.
    pub nudged: Vec<(GuildId, crate::ids::UserId)>,
    /// Servers whose recap of a week was posted.
    pub recapped: Vec<(GuildId, PrayerWeek)>,
}

/// Each scheduled server's current week and whether it is due.
async fn server_states(
    store: &Store,
    now: DateTime<Utc>,
) -> Result<Vec<ServerState>, StorageError> {
    let schedules = store.schedules().await?;
    let wanted: Vec<(GuildId, PrayerWeek)> = schedules
        .iter()
        .map(|(guild, schedule)| (*guild, scheduled_week(*schedule, now)))
        .collect();
    let states = store.week_states(&wanted).await?;
    Ok(schedules
        .into_iter()
        .zip(wanted)
        .zip(states)
        .map(|(((guild, schedule), (_, week)), state)| state.of_server(guild, schedule, week))
        .collect())
}

/// How many servers' posts [`tick`] runs at once. Each post is sequential
/// (a message, its 🙏, the next message), and on Discord it spends most of
/// its time waiting on its own channel's buckets (5 messages per 5 s, one
/// reaction per 250 ms): a header, 8 requests and their 🙏 are 17 requests
/// in about 5 s, some 3.4 a second. So 15 posts at once fill Discord's
/// default 50 requests a second; 64 also fill a global limit a few times
/// higher (`DISCORD_GLOBAL_RATE_LIMIT`) and absorb slow answers, while
/// what is in hand at once stays bounded: leases held, database calls
/// queued, and the posts a stop waits for at their next message boundary.
/// Beyond the global limit more posts would only wait in the limiter,
/// each taking longer from its first message to its last.
pub const POSTS_AT_ONCE: usize = 64;

/// What one server's post came to, for [`tick`] to apply.
enum Attempt {
    /// Not started: the process is stopping, or another post met a
    /// database error.
    NotStarted {
        stopping: bool,
    },
    Posted,
    /// Another run holds the week until then.
    InProgress(DateTime<Utc>),
    /// Stopped at a message boundary because the process is stopping.
    Stopped,
    /// Failed at `at`; `reported` is how noting it for the admins went.
    Failed {
        reason: String,
        at: DateTime<Utc>,
        reported: Result<(), StorageError>,
    },
    Storage(StorageError),
}

/// Posts everything due at `now`, up to [`POSTS_AT_ONCE`] servers at a
/// time, each server's post sequential inside. Nothing else keeps posts
/// apart: each post holds its week's lease, so a `/prayer post` of the
/// same week (or another process) answers that the week is in progress,
/// and a resumed post reads back what its channels show. A server that
/// fails is noted for `/prayer status`, its admins are told once, and it
/// is tried again after a pause; the others go on. A database error stops
/// new posts from starting; the posts in hand finish, then it is returned.
pub async fn tick(
    store: &Store,
    messenger: &impl Messenger,
    clock: Clock,
    retries: &mut Retries,
) -> Result<Tick, StorageError> {
    tick_for(store, messenger, clock, retries, None).await
}

/// [`tick`] for the servers on the shards `mine` names (every server when
/// `None`): a process that runs some of the shards posts, warns, nudges
/// and recaps for its own servers only, so each server's work has one
/// owner while its process lives (and the week's lease hands it on when it
/// dies).
pub async fn tick_for(
    store: &Store,
    messenger: &impl Messenger,
    clock: Clock,
    retries: &mut Retries,
    mine: Option<ShardRange>,
) -> Result<Tick, StorageError> {
    let now = clock.now();
    let mut servers = server_states(store, now).await?;
    servers.retain(|server| is_mine(mine.as_ref(), server.guild));
    let due: Vec<DuePost> = due_posts(&servers, now)
        .into_iter()
        .filter(|due| !retries.waiting(due.guild, now))
        .collect();
    let attempts = attempt_all(store, messenger, clock, due).await;
    let (mut done, in_progress) = apply(attempts, retries)?;
    let mut nudging = store.nudge_servers().await?;
    nudging.retain(|server| is_mine(mine.as_ref(), server.guild));
    let mut recaps = store.recap_settings().await?;
    recaps.retain(|recap| is_mine(mine.as_ref(), recap.guild));
    if !done.stopped {
        done.warned = warn_empty_weeks(store, messenger, &servers, now).await?;
        done.nudged = send_nudges(store, messenger, &nudging, now).await?;
        done.recapped = post_recaps(store, messenger, &servers, &recaps, now).await?;
    }
    // The next post times depend only on the schedules read above, not on
    // what this tick posted: no second read of the database.
    let now = clock.now();
    done.next_wake = [
        next_wake(&servers, now),
        next_notice_time(&servers, now),
        next_nudge_time(&nudging, now),
        next_recap(&servers, &recaps, now),
        retries.next_retry(now),
        in_progress,
    ]
    .into_iter()
    .flatten()
    .min();
    Ok(done)
}

/// Runs the posts `due`, up to [`POSTS_AT_ONCE`] at once; what each came
/// to, in the order the servers were due, whichever finished first.
async fn attempt_all(
    store: &Store,
    messenger: &impl Messenger,
    clock: Clock,
    due: Vec<DuePost>,
) -> Vec<(DuePost, Attempt)> {
    let storage_failed = AtomicBool::new(false);
    let mut attempts: Vec<(usize, DuePost, Attempt)> = stream::iter(due.into_iter().enumerate())
        .map(|(place, due)| {
            let storage_failed = &storage_failed;
            async move {
                let attempt = post_one(store, messenger, clock, &due, storage_failed).await;
                (place, due, attempt)
            }
        })
        .buffer_unordered(POSTS_AT_ONCE)
        .collect()
        .await;
    attempts.sort_by_key(|(place, _, _)| *place);
    attempts
        .into_iter()
        .map(|(_, due, attempt)| (due, attempt))
        .collect()
}

/// Applies what the posts came to: the retries are updated and the tick
/// told; the earliest lease another run holds is returned beside it. The
/// first database error is returned instead, once all are applied.
fn apply(
    attempts: Vec<(DuePost, Attempt)>,
    retries: &mut Retries,
) -> Result<(Tick, Option<DateTime<Utc>>), StorageError> {
    let mut done = Tick::default();
    let mut in_progress: Option<DateTime<Utc>> = None;
    let mut storage_error = None;
    for (due, attempt) in attempts {
        match attempt {
            Attempt::NotStarted { stopping } => done.stopped |= stopping,
            Attempt::Posted => {
                retries.succeeded(due.guild);
                done.posted.push((due.guild, due.week));
            }
            // Another process holds the week; it is tried again once that
            // lease has run out, in case that process died.
            Attempt::InProgress(until) => {
                in_progress = Some(in_progress.map_or(until, |at| at.min(until)));
            }
            Attempt::Stopped => done.stopped = true,
            Attempt::Failed {
                reason,
                at,
                reported,
            } => {
                retries.failed(due.guild, at);
                done.failed.push((due.guild, due.week, reason));
                if let Err(error) = reported {
                    storage_error.get_or_insert(error);
                }
            }
            Attempt::Storage(error) => {
                storage_error.get_or_insert(error);
            }
        }
    }
    match storage_error {
        Some(error) => Err(error),
        None => Ok((done, in_progress)),
    }
}

/// One server's post in a [`tick`]: sent under a lease of its own,
/// then the server's problem cleared, or the failure reported.
async fn post_one(
    store: &Store,
    messenger: &impl Messenger,
    clock: Clock,
    due: &DuePost,
    storage_failed: &AtomicBool,
) -> Attempt {
    let stopping = messenger.stopping();
    if stopping || storage_failed.load(Ordering::Relaxed) {
        return Attempt::NotStarted { stopping };
    }
    // A run of its own for each post: its lease keeps another process
    // (or a `/prayer post`) from sending the same week at once.
    let run = PostRun::new(PostRun::LEASE);
    let posted = post_week(store, messenger, due.guild, due.week, &run, || clock.now()).await;
    let attempt = match posted {
        Ok(PostOutcome::InProgress { until, .. }) => Ok(Attempt::InProgress(until)),
        Ok(PostOutcome::Posted { .. } | PostOutcome::AlreadyPosted { .. }) => store
            .clear_post_problem(due.guild, due.week)
            .await
            .map(|()| Attempt::Posted),
        Err(PostError::Stopped { .. }) => Ok(Attempt::Stopped),
        Err(PostError::Storage(error)) => Err(error),
        Err(error) => {
            let reason = error.to_string();
            let at = clock.now();
            if error.needs_admin() {
                tracing::warn!(guild = %due.guild, week = %due.week, %reason, "a scheduled post failed; the server's admins must act");
            } else {
                tracing::warn!(guild = %due.guild, week = %due.week, %reason, "a scheduled post failed on Discord's side; trying again later");
            }
            let problem = format!("{reason}. {}", error.advice());
            let reported = report(store, messenger, due.guild, due.week, &problem, clock).await;
            if reported.is_err() {
                storage_failed.store(true, Ordering::Relaxed);
            }
            Ok(Attempt::Failed {
                reason,
                at,
                reported,
            })
        }
    };
    attempt.unwrap_or_else(|error| {
        storage_failed.store(true, Ordering::Relaxed);
        Attempt::Storage(error)
    })
}

/// Notes a failed post for `/prayer status` and, the first time for that
/// week, tells the server's admins in its default channel if the bot may
/// write there. `problem` says what failed and whether they must act.
async fn report(
    store: &Store,
    messenger: &impl Messenger,
    guild: GuildId,
    week: PrayerWeek,
    problem: &str,
    clock: Clock,
) -> Result<(), StorageError> {
    if !store
        .record_post_problem(guild, week, problem, clock.now())
        .await?
    {
        return Ok(());
    }
    let Some(channel) = store.channel_settings(guild).await?.admin_channel() else {
        return Ok(());
    };
    let message = OutgoingMessage {
        content: crate::posting::render::fit_reply(&format!(
            "⚠️ I could not post the prayer week of {week}: {problem}."
        )),
        buttons_for: None,
        nonce: crate::posting::stable_nonce('e', (guild.get(), week.to_string())),
        reply_to: None,
        notify: Vec::new(),
        notify_role: None,
        buttons: Vec::new(),
    };
    match messenger.send(channel, &message).await {
        Ok(_) => store.problem_announced(guild, week, clock.now()).await,
        Err(error) => {
            tracing::warn!(%guild, %error, "could not tell the admins about a failed post");
            Ok(())
        }
    }
}

/// Runs [`tick`] until `stop` completes: after each tick it sleeps until
/// the next post time (at most [`LONGEST_SLEEP`]), or until `wake` is
/// notified (a schedule set, a bulletin imported). An error is logged and
/// retried after a pause; the loop itself never ends on one.
pub async fn run(
    store: Store,
    messenger: impl Messenger + Sync,
    clock: Clock,
    wake: Arc<Notify>,
    mine: Option<ShardRange>,
    stop: impl Future<Output = ()>,
) {
    let mut posts = Posts {
        store: &store,
        messenger: &messenger,
        clock,
        retries: Retries::default(),
        mine,
    };
    keep_ticking(&mut posts, clock, &wake, stop).await;
}

/// One look at what is due, as [`run`] repeats it.
trait Step {
    fn tick(&mut self) -> impl Future<Output = Result<Tick, StorageError>> + Send;
}

/// The scheduled posts: [`tick`] on a store, with the retries kept from one
/// tick to the next.
struct Posts<'a, M> {
    store: &'a Store,
    messenger: &'a M,
    clock: Clock,
    retries: Retries,
    /// The shards this process runs; `None` for all.
    mine: Option<ShardRange>,
}

impl<M: Messenger + Sync> Step for Posts<'_, M> {
    async fn tick(&mut self) -> Result<Tick, StorageError> {
        let (store, messenger, clock) = (self.store, self.messenger, self.clock);
        tick_for(store, messenger, clock, &mut self.retries, self.mine).await
    }
}

/// The loop of [`run`] around any [`Step`], its waits on tokio's clock
/// (so tests pause it).
async fn keep_ticking(
    step: &mut impl Step,
    clock: Clock,
    wake: &Notify,
    stop: impl Future<Output = ()>,
) {
    let mut stop = std::pin::pin!(stop);
    let mut errors = Backoff::new(FIRST_PAUSE_AFTER_ERROR, LONGEST_SLEEP);
    loop {
        let sleep = match step.tick().await {
            Ok(done) => {
                errors.succeeded();
                if done.stopped {
                    return;
                }
                sleep_until(done.next_wake, clock.now())
            }
            Err(error) => {
                tracing::error!(%error, "the scheduler could not read the database; trying again");
                errors.failed()
            }
        };
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            () = wake.notified() => {}
            () = &mut stop => return,
        }
    }
}

/// How long to sleep at `now` for `next_wake`: none if it has passed,
/// never more than [`LONGEST_SLEEP`], and that long if nothing is ahead.
fn sleep_until(next_wake: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Duration {
    let Some(at) = next_wake else {
        return LONGEST_SLEEP;
    };
    at.signed_duration_since(now)
        .to_std()
        .unwrap_or(Duration::ZERO)
        .min(LONGEST_SLEEP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posting::scripted::{Gate, Scripted};
    use crate::schedule::Schedule;
    use crate::storage::fixtures::*;
    use chrono::{NaiveTime, Weekday};

    fn at(text: &str) -> Clock {
        let instant: DateTime<Utc> = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        // A clock that stands still enough for a test: it started at the
        // instant a moment ago.
        Clock::starting_at(instant)
    }

    async fn scheduled(zone: chrono_tz::Tz) -> Result<Store, StorageError> {
        let store = store().await;
        let w = week("2026-11-23");
        put(&store, Scope::Shared, ONE, Placement::Exactly(w)).await?;
        store
            .set_default_channel(GUILD, ChannelId::of::<10>(), now())
            .await?;
        let schedule = Schedule {
            weekday: Weekday::Mon,
            time: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
            zone,
            auto: true,
        };
        store.set_schedule(GUILD, &schedule, now()).await?;
        Ok(store)
    }

    #[tokio::test]
    async fn the_week_is_posted_at_its_local_time_once() -> Result<(), StorageError> {
        let store = scheduled(chrono_tz::America::New_York).await?;
        let messenger = Scripted::default();
        let mut retries = Retries::default();
        // 09:00 in New York on Monday 23 November 2026 is 14:00 UTC.
        let early = tick(&store, &messenger, at("2026-11-23T13:59:00Z"), &mut retries).await?;
        assert_eq!(messenger.count(), 0);
        let wake = early.next_wake.expect("a post ahead");
        assert_eq!(
            wake,
            "2026-11-23T14:00:00Z"
                .parse::<DateTime<Utc>>()
                .unwrap_or_default()
        );
        let done = tick(&store, &messenger, at("2026-11-23T14:00:01Z"), &mut retries).await?;
        assert_eq!(done.posted, [(GUILD, week("2026-11-23"))]);
        let sent = messenger.count();
        assert!(sent >= 3, "a header and the requests: {sent}");
        let again = tick(&store, &messenger, at("2026-11-23T15:00:00Z"), &mut retries).await?;
        assert_eq!(again.posted, []);
        assert_eq!(messenger.count(), sent, "nothing twice");
        Ok(())
    }

    #[tokio::test]
    async fn a_bot_back_on_wednesday_posts_but_one_back_next_week_does_not()
    -> Result<(), StorageError> {
        let store = scheduled(chrono_tz::UTC).await?;
        let messenger = Scripted::default();
        let mut retries = Retries::default();
        let done = tick(&store, &messenger, at("2026-11-25T12:00:00Z"), &mut retries).await?;
        assert_eq!(done.posted.len(), 1, "caught up on Wednesday");

        let store = scheduled(chrono_tz::UTC).await?;
        let messenger = Scripted::default();
        let done = tick(&store, &messenger, at("2026-11-30T12:00:00Z"), &mut retries).await?;
        assert_eq!(done.posted, [], "the week of the 23rd is over");
        assert_eq!(messenger.count(), 0);
        Ok(())
    }

    #[tokio::test]
    async fn a_failing_post_is_reported_once_and_retried_after_a_pause() -> Result<(), StorageError>
    {
        let store = scheduled(chrono_tz::UTC).await?;
        let messenger = Scripted {
            refuse: Some(|m| !m.content.starts_with("⚠️")),
            ..Scripted::default()
        };
        let mut retries = Retries::default();
        let clock = at("2026-11-23T09:30:00Z");
        let done = tick(&store, &messenger, clock, &mut retries).await?;
        assert_eq!(done.failed.len(), 1);
        assert_eq!(messenger.count(), 1, "the admins are told");
        let retry = done.next_wake.expect("a retry");
        assert!(retry <= clock.now() + FIRST_BACKOFF, "{retry}");
        // Within the pause nothing is tried; after it, tried again but not
        // announced again.
        let done = tick(&store, &messenger, clock, &mut retries).await?;
        assert_eq!(done.failed.len(), 0);
        let later = at("2026-11-23T09:31:00Z");
        let done = tick(&store, &messenger, later, &mut retries).await?;
        assert_eq!(done.failed.len(), 1);
        assert_eq!(messenger.count(), 1, "told once");
        let problem = store.post_problem(GUILD).await?.expect("kept");
        assert!(
            problem.problem.contains("Missing Permissions"),
            "{problem:?}"
        );
        // A refusal is the admins' to fix, and the notice says so.
        assert!(problem.problem.contains("shows what to fix"), "{problem:?}");
        let told = messenger
            .sent
            .lock()
            .map(|s| s[0].1.content.clone())
            .unwrap_or_default();
        assert!(
            told.contains("Admins: `/prayer status` shows what to fix"),
            "{told}"
        );
        Ok(())
    }

    #[tokio::test]
    async fn an_outage_is_told_apart_from_a_refusal() -> Result<(), StorageError> {
        let store = scheduled(chrono_tz::UTC).await?;
        // The post's first message fails as Discord's 503 does; the notice
        // after it goes through.
        let messenger = Scripted {
            fail_after: Some(0),
            refuse: None,
            ..Scripted::default()
        };
        let clock = at("2026-11-23T09:30:00Z");
        let done = tick(&store, &messenger, clock, &mut Retries::default()).await?;
        assert_eq!(done.failed.len(), 1);
        let problem = store.post_problem(GUILD).await?.expect("kept");
        assert!(problem.problem.contains("503"), "{problem:?}");
        assert!(
            problem
                .problem
                .contains("Discord is having trouble on its side")
                && !problem.problem.contains("shows what to fix"),
            "an outage is not the admins' to fix: {problem:?}"
        );
        Ok(())
    }

    #[tokio::test]
    async fn two_due_servers_are_posted_at_once() -> Result<(), StorageError> {
        let store = scheduled(chrono_tz::UTC).await?;
        let other = GuildId::of::<{ GUILD.get() + 1 }>();
        store
            .set_default_channel(other, ChannelId::of::<20>(), now())
            .await?;
        store
            .set_schedule(other, &Schedule::default(), now())
            .await?;
        let messenger = Scripted {
            meet: Some(tokio::sync::Barrier::new(2)),
            ..Scripted::default()
        };
        let clock = at("2026-11-23T09:30:00Z");
        let done = tick(&store, &messenger, clock, &mut Retries::default()).await?;
        assert_eq!(done.failed, [], "each post's first message met the other's");
        let mut posted = done.posted;
        posted.sort();
        let w = week("2026-11-23");
        assert_eq!(posted, [(GUILD, w), (other, w)]);
        let sent = messenger.channels();
        assert!(
            sent.contains(&ChannelId::of::<10>()) && sent.contains(&ChannelId::of::<20>()),
            "{sent:?}"
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_post_by_hand_while_the_schedule_posts_that_week_is_told_it_is_in_progress()
    -> Result<(), StorageError> {
        let store = scheduled(chrono_tz::UTC).await?;
        let opened = Arc::new(Gate::closed());
        let gate = Scripted {
            gate: Some(opened.clone()),
            ..Scripted::default()
        };
        let clock = at("2026-11-23T09:30:00Z");
        let w = week("2026-11-23");
        let mut retries = Retries::default();
        let by_hand = async {
            opened.sending.notified().await;
            // As `/prayer post` does: a run of its own, no lock.
            let run = PostRun::new(PostRun::LEASE);
            let answer = post_week(&store, &gate, GUILD, w, &run, || clock.now()).await;
            opened.open.add_permits(100);
            answer
        };
        let (scheduled, by_hand) = tokio::join!(tick(&store, &gate, clock, &mut retries), by_hand);
        assert!(
            matches!(by_hand, Ok(PostOutcome::InProgress { week, .. }) if week == w),
            "{by_hand:?}"
        );
        assert_eq!(scheduled?.posted, [(GUILD, w)]);
        Ok(())
    }

    #[test]
    fn a_servers_retries_double_from_thirty_seconds_to_an_hour() {
        let guild = GUILD;
        let start = now();
        let mut retries = Retries::default();
        let mut waits = Vec::new();
        let mut at = start;
        for _ in 0..9 {
            retries.failed(guild, at);
            let next = retries.next_retry(at).expect("a retry");
            assert!(retries.waiting(guild, at), "not tried within the pause");
            assert!(!retries.waiting(guild, next), "tried once it is over");
            waits.push((next - at).num_seconds());
            at = next;
        }
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        retries.succeeded(guild);
        assert_eq!(retries.next_retry(at), None);
        retries.failed(guild, at);
        assert_eq!(retries.next_retry(at), Some(at + TimeDelta::seconds(30)));
    }

    /// A step that answers from a script, noting the clock's time at each
    /// tick; past the script, it says the process is stopping.
    struct Script {
        clock: Clock,
        answers: std::collections::VecDeque<Result<Tick, StorageError>>,
        ticked: Vec<DateTime<Utc>>,
    }

    impl Script {
        fn new(clock: Clock, answers: Vec<Result<Tick, StorageError>>) -> Self {
            Script {
                clock,
                answers: answers.into(),
                ticked: Vec::new(),
            }
        }

        /// The ticks, in seconds after `start`.
        fn seconds_after(&self, start: DateTime<Utc>) -> Vec<i64> {
            self.ticked
                .iter()
                .map(|at| (*at - start).num_seconds())
                .collect()
        }
    }

    impl Step for Script {
        async fn tick(&mut self) -> Result<Tick, StorageError> {
            self.ticked.push(self.clock.now());
            self.answers.pop_front().unwrap_or(Ok(Tick {
                stopped: true,
                ..Tick::default()
            }))
        }
    }

    fn waking_at(at: Option<DateTime<Utc>>) -> Result<Tick, StorageError> {
        Ok(Tick {
            next_wake: at,
            ..Tick::default()
        })
    }

    fn unreadable() -> Result<Tick, StorageError> {
        Err(StorageError::Corrupt("a test's database error".into()))
    }

    fn start() -> DateTime<Utc> {
        "2026-11-23T13:59:00Z"
            .parse()
            .unwrap_or_else(|e| panic!("an instant: {e}"))
    }

    #[tokio::test(start_paused = true)]
    async fn the_loop_sleeps_until_the_next_post_time_and_looks_then_not_before() {
        let clock = Clock::starting_at(start());
        let nine = start() + TimeDelta::seconds(60);
        let mut script = Script::new(clock, vec![waking_at(Some(nine))]);
        keep_ticking(&mut script, clock, &Notify::new(), std::future::pending()).await;
        assert_eq!(script.ticked, [start(), nine]);
    }

    #[tokio::test(start_paused = true)]
    async fn it_looks_at_once_for_a_time_passed_and_after_the_longest_sleep_at_most() {
        let clock = Clock::starting_at(start());
        let answers = vec![
            waking_at(Some(start() - TimeDelta::seconds(5))),
            waking_at(Some(start() + TimeDelta::hours(2))),
            waking_at(None),
        ];
        let mut script = Script::new(clock, answers);
        keep_ticking(&mut script, clock, &Notify::new(), std::future::pending()).await;
        assert_eq!(script.seconds_after(start()), [0, 0, 900, 1800]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wake_up_makes_the_loop_look_again_at_once() {
        let clock = Clock::starting_at(start());
        let wake = Notify::new();
        let ahead = start() + TimeDelta::minutes(10);
        let mut script = Script::new(clock, vec![waking_at(Some(ahead))]);
        let schedule_set = async {
            tokio::time::sleep(Duration::from_secs(20)).await;
            wake.notify_one();
        };
        tokio::join!(
            keep_ticking(&mut script, clock, &wake, std::future::pending()),
            schedule_set
        );
        assert_eq!(script.seconds_after(start()), [0, 20]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_database_error_is_retried_after_a_pause_that_doubles_until_a_tick_succeeds() {
        let clock = Clock::starting_at(start());
        let answers = vec![
            unreadable(),
            unreadable(),
            unreadable(),
            // Read at last, with a post due now: looked at again at once.
            waking_at(Some(start() + TimeDelta::seconds(7))),
            unreadable(),
        ];
        let mut script = Script::new(clock, answers);
        keep_ticking(&mut script, clock, &Notify::new(), std::future::pending()).await;
        // Paused 1 s, 2 s, 4 s; then, after the success, 1 s again.
        assert_eq!(script.seconds_after(start()), [0, 1, 3, 7, 7, 8]);
    }

    #[tokio::test(start_paused = true)]
    async fn stop_ends_the_loop_while_it_sleeps() {
        let clock = Clock::starting_at(start());
        let mut script = Script::new(clock, vec![waking_at(None)]);
        let stop = tokio::time::sleep(Duration::from_secs(5));
        keep_ticking(&mut script, clock, &Notify::new(), stop).await;
        assert_eq!(script.ticked, [start()], "no tick after the stop");
        assert_eq!(clock.now(), start() + TimeDelta::seconds(5));
    }
}
