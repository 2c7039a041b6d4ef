//! The weekly posts that go out by themselves: [`tick`] posts whatever is
//! due at one instant; [`run`] loops around it, sleeping until the next
//! post time, waking early when a schedule or a bulletin changes, and never
//! giving up: a failed post is retried with backoff while other servers'
//! posts go on, and reported once where the server's admins will see it.
//!
//! What is due is decided in pure code (`schedule::due_posts`) from each
//! server's schedule, its current week in its own time zone, and whether
//! that week has a bulletin and is posted. So a bot that was down at post
//! time posts when it comes back within the week; a bulletin imported after
//! the time is posted at once; a week that is over is never posted.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::{Mutex, Notify};

use crate::clock::Clock;
use crate::ids::GuildId;
use crate::posting::{Messenger, OutgoingMessage, PostError, PostOutcome, PostRun, post_week};
use crate::schedule::{ServerState, current_week, due_posts, next_wake};
use crate::storage::{StorageError, Store};
use crate::week::PrayerWeek;

/// The longest the loop sleeps without looking again, whatever the
/// schedules say (a safety net for a missed wake-up).
const LONGEST_SLEEP: Duration = Duration::from_secs(15 * 60);

/// The first pause after a server's post failed, doubled each time, up to
/// [`LONGEST_BACKOFF`].
const FIRST_BACKOFF: TimeDelta = TimeDelta::seconds(30);
const LONGEST_BACKOFF: TimeDelta = TimeDelta::hours(1);

/// Servers whose last attempt failed: when to try again, and the pause
/// after that.
#[derive(Debug, Default)]
pub struct Backoff(HashMap<GuildId, (DateTime<Utc>, TimeDelta)>);

impl Backoff {
    fn waiting(&self, guild: GuildId, now: DateTime<Utc>) -> bool {
        self.0.get(&guild).is_some_and(|(at, _)| *at > now)
    }

    fn failed(&mut self, guild: GuildId, now: DateTime<Utc>) {
        let pause = self.0.get(&guild).map_or(FIRST_BACKOFF, |(_, pause)| {
            (*pause * 2).min(LONGEST_BACKOFF)
        });
        self.0.insert(guild, (now + pause, pause));
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

/// What one tick did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tick {
    /// Posts sent (or found already finished by another run).
    pub posted: Vec<(GuildId, PrayerWeek)>,
    /// Posts that failed, with the reason.
    pub failed: Vec<(GuildId, PrayerWeek, String)>,
    /// The process is stopping: the post in hand stopped at a message
    /// boundary and resumes on the next start.
    pub stopped: bool,
    /// When something may next be due.
    pub next_wake: Option<DateTime<Utc>>,
}

/// Each scheduled server's current week and whether it is due.
pub async fn server_states(
    store: &Store,
    now: DateTime<Utc>,
) -> Result<Vec<ServerState>, StorageError> {
    let schedules = store.schedules().await?;
    let wanted: Vec<(GuildId, PrayerWeek)> = schedules
        .iter()
        .map(|(guild, schedule)| (*guild, current_week(schedule.zone, now)))
        .collect();
    let states = store.week_states(&wanted).await?;
    Ok(schedules
        .into_iter()
        .zip(wanted)
        .zip(states)
        .map(|(((guild, schedule), (_, week)), state)| ServerState {
            guild,
            schedule,
            week,
            has_bulletin: state.has_bulletin,
            posted: state.posted,
        })
        .collect())
}

/// Posts everything due at `now`, one server after another (each post
/// under `posting`, so it never runs beside a `/prayer post` of this
/// process). A server that fails is noted for `/prayer status`, its admins
/// are told once, and it is tried again after a pause; the others go on.
pub async fn tick(
    store: &Store,
    messenger: &impl Messenger,
    clock: Clock,
    backoff: &mut Backoff,
    posting: &Mutex<()>,
) -> Result<Tick, StorageError> {
    let now = clock.now();
    let servers = server_states(store, now).await?;
    let mut done = Tick::default();
    let mut in_progress = None;
    for due in due_posts(&servers, now) {
        if backoff.waiting(due.guild, now) {
            continue;
        }
        if messenger.stopping() {
            done.stopped = true;
            break;
        }
        let _one_post_at_a_time = posting.lock().await;
        // A run of its own for each post: its lease keeps another process
        // (or a `/prayer post`) from sending the same week at once.
        let run = PostRun::new(PostRun::LEASE);
        let posted = post_week(store, messenger, due.guild.get(), due.week, &run, || {
            clock.now()
        })
        .await;
        match posted {
            // Another process holds the week; it is tried again once that
            // lease has run out, in case that process died.
            Ok(PostOutcome::InProgress { until, .. }) => {
                in_progress = Some(in_progress.map_or(until, |at: DateTime<Utc>| at.min(until)));
            }
            Ok(PostOutcome::Posted { .. } | PostOutcome::AlreadyPosted { .. }) => {
                backoff.succeeded(due.guild);
                store.clear_post_problem(due.guild, due.week).await?;
                done.posted.push((due.guild, due.week));
            }
            Err(PostError::Stopped { .. }) => {
                done.stopped = true;
                break;
            }
            Err(PostError::Storage(error)) => return Err(error),
            Err(error) => {
                let reason = error.to_string();
                tracing::warn!(guild = %due.guild, week = %due.week, %reason, "a scheduled post failed");
                backoff.failed(due.guild, clock.now());
                report(store, messenger, due.guild, due.week, &reason, clock).await?;
                done.failed.push((due.guild, due.week, reason));
            }
        }
    }
    let now = clock.now();
    let servers = server_states(store, now).await?;
    done.next_wake = [
        next_wake(&servers, now),
        backoff.next_retry(now),
        in_progress,
    ]
    .into_iter()
    .flatten()
    .min();
    Ok(done)
}

/// Notes a failed post for `/prayer status` and, the first time for that
/// week, tells the server's admins in its default channel if the bot may
/// write there.
async fn report(
    store: &Store,
    messenger: &impl Messenger,
    guild: GuildId,
    week: PrayerWeek,
    reason: &str,
    clock: Clock,
) -> Result<(), StorageError> {
    if !store
        .record_post_problem(guild, week, reason, clock.now())
        .await?
    {
        return Ok(());
    }
    let Some(channel) = store.channel_settings(guild.get()).await?.default_channel else {
        return Ok(());
    };
    let message = OutgoingMessage {
        content: crate::render::fit_reply(&format!(
            "⚠️ I could not post the prayer week of {week}: {reason}. Admins: `/prayer status` shows what to fix; I will keep trying."
        )),
        buttons_for: None,
        nonce: crate::posting::stable_nonce('e', (guild.get(), week.to_string())),
        reply_to: None,
        notify: Vec::new(),
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
    messenger: impl Messenger,
    clock: Clock,
    wake: Arc<Notify>,
    posting: Arc<Mutex<()>>,
    stop: impl Future<Output = ()>,
) {
    let mut stop = std::pin::pin!(stop);
    let mut backoff = Backoff::default();
    let mut pause_after_error = Duration::from_secs(1);
    loop {
        let sleep = match tick(&store, &messenger, clock, &mut backoff, &posting).await {
            Ok(done) => {
                pause_after_error = Duration::from_secs(1);
                if done.stopped {
                    return;
                }
                let until = done
                    .next_wake
                    .map(|at| at.signed_duration_since(clock.now()));
                until
                    .and_then(|delta| delta.to_std().ok())
                    .unwrap_or(if until.is_some() {
                        Duration::ZERO
                    } else {
                        LONGEST_SLEEP
                    })
                    .min(LONGEST_SLEEP)
            }
            Err(error) => {
                tracing::error!(%error, "the scheduler could not read the database; trying again");
                let pause = pause_after_error;
                pause_after_error = (pause_after_error * 2).min(LONGEST_SLEEP);
                pause
            }
        };
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            () = wake.notified() => {}
            () = &mut stop => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posting::{SeenMessage, SendError};
    use crate::schedule::Schedule;
    use crate::storage::fixtures::*;
    use chrono::{NaiveTime, Weekday};
    use std::sync::Mutex as StdMutex;

    /// Accepts every message, or refuses them all.
    #[derive(Default)]
    struct Recording {
        sent: StdMutex<Vec<(u64, String)>>,
        refuse: bool,
    }

    impl Messenger for Recording {
        async fn send(&self, channel: u64, message: &OutgoingMessage) -> Result<u64, SendError> {
            if self.refuse && !message.content.starts_with("⚠️") {
                return Err(SendError("Missing Permissions".into()));
            }
            let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
            sent.push((channel, message.content.clone()));
            Ok(1000 + sent.len() as u64)
        }

        async fn react(&self, _: u64, _: u64, _: &str) -> Result<(), SendError> {
            Ok(())
        }

        fn stopping(&self) -> bool {
            false
        }

        async fn recent_messages(&self, _: u64) -> Result<Vec<SeenMessage>, SendError> {
            Ok(Vec::new())
        }
    }

    impl Recording {
        fn count(&self) -> usize {
            self.sent.lock().map(|s| s.len()).unwrap_or(0)
        }
    }

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
        store.set_default_channel(GUILD, 10, now()).await?;
        let schedule = Schedule {
            weekday: Weekday::Mon,
            time: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
            zone,
            auto: true,
        };
        store
            .set_schedule(GuildId::new(GUILD), &schedule, now())
            .await?;
        Ok(store)
    }

    #[tokio::test]
    async fn the_week_is_posted_at_its_local_time_once() -> Result<(), StorageError> {
        let store = scheduled(chrono_tz::America::New_York).await?;
        let messenger = Recording::default();
        let posting = Mutex::new(());
        let mut backoff = Backoff::default();
        // 09:00 in New York on Monday 23 November 2026 is 14:00 UTC.
        let early = tick(
            &store,
            &messenger,
            at("2026-11-23T13:59:00Z"),
            &mut backoff,
            &posting,
        )
        .await?;
        assert_eq!(messenger.count(), 0);
        let wake = early.next_wake.expect("a post ahead");
        assert_eq!(
            wake,
            "2026-11-23T14:00:00Z"
                .parse::<DateTime<Utc>>()
                .unwrap_or_default()
        );
        let done = tick(
            &store,
            &messenger,
            at("2026-11-23T14:00:01Z"),
            &mut backoff,
            &posting,
        )
        .await?;
        assert_eq!(done.posted, [(GuildId::new(GUILD), week("2026-11-23"))]);
        let sent = messenger.count();
        assert!(sent >= 3, "a header and the requests: {sent}");
        let again = tick(
            &store,
            &messenger,
            at("2026-11-23T15:00:00Z"),
            &mut backoff,
            &posting,
        )
        .await?;
        assert_eq!(again.posted, []);
        assert_eq!(messenger.count(), sent, "nothing twice");
        Ok(())
    }

    #[tokio::test]
    async fn a_bot_back_on_wednesday_posts_but_one_back_next_week_does_not()
    -> Result<(), StorageError> {
        let posting = Mutex::new(());
        let store = scheduled(chrono_tz::UTC).await?;
        let messenger = Recording::default();
        let mut backoff = Backoff::default();
        let done = tick(
            &store,
            &messenger,
            at("2026-11-25T12:00:00Z"),
            &mut backoff,
            &posting,
        )
        .await?;
        assert_eq!(done.posted.len(), 1, "caught up on Wednesday");

        let store = scheduled(chrono_tz::UTC).await?;
        let messenger = Recording::default();
        let done = tick(
            &store,
            &messenger,
            at("2026-11-30T12:00:00Z"),
            &mut backoff,
            &posting,
        )
        .await?;
        assert_eq!(done.posted, [], "the week of the 23rd is over");
        assert_eq!(messenger.count(), 0);
        Ok(())
    }

    #[tokio::test]
    async fn a_failing_post_is_reported_once_and_retried_after_a_pause() -> Result<(), StorageError>
    {
        let store = scheduled(chrono_tz::UTC).await?;
        let messenger = Recording {
            refuse: true,
            ..Recording::default()
        };
        let posting = Mutex::new(());
        let mut backoff = Backoff::default();
        let clock = at("2026-11-23T09:30:00Z");
        let done = tick(&store, &messenger, clock, &mut backoff, &posting).await?;
        assert_eq!(done.failed.len(), 1);
        assert_eq!(messenger.count(), 1, "the admins are told");
        let retry = done.next_wake.expect("a retry");
        assert!(retry <= clock.now() + FIRST_BACKOFF, "{retry}");
        // Within the pause nothing is tried; after it, tried again but not
        // announced again.
        let done = tick(&store, &messenger, clock, &mut backoff, &posting).await?;
        assert_eq!(done.failed.len(), 0);
        let later = at("2026-11-23T09:31:00Z");
        let done = tick(&store, &messenger, later, &mut backoff, &posting).await?;
        assert_eq!(done.failed.len(), 1);
        assert_eq!(messenger.count(), 1, "told once");
        let problem = store
            .post_problem(GuildId::new(GUILD))
            .await?
            .expect("kept");
        assert!(
            problem.problem.contains("Missing Permissions"),
            "{problem:?}"
        );
        Ok(())
    }
}
