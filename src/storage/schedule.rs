//! When each server's weekly post goes out (weekday, time, time zone, on or
//! off), what the scheduler needs to know about each server's current week,
//! and the problems a post ran into, for `/prayer status`.

use crate::bulletins::week::PrayerWeek;
use crate::ids::GuildId;
use crate::schedule::{Schedule, ServerState};
use chrono::{DateTime, Utc};

/// What the scheduler needs about one server's week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WeekState {
    /// The server sees a bulletin for the week (its own or the shared one).
    pub has_bulletin: bool,
    /// The week's post is finished.
    pub posted: bool,
    /// When the server's schedule was set (see
    /// `schedule::counts_from_after_change`); `None` if before that was
    /// recorded.
    pub since: Option<DateTime<Utc>>,
    /// The newest week whose post was begun or finished in the server.
    pub newest_posted: Option<PrayerWeek>,
}

impl WeekState {
    /// What the schedule decides from: `guild` on `schedule`, whose
    /// scheduled week is `week`, in this state.
    pub fn of_server(self, guild: GuildId, schedule: Schedule, week: PrayerWeek) -> ServerState {
        ServerState {
            guild,
            schedule,
            week,
            has_bulletin: self.has_bulletin,
            posted: self.posted,
            since: self.since,
            newest_posted: self.newest_posted,
        }
    }
}

/// A server's most recent weekly post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastPost {
    pub week: PrayerWeek,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub messages: u64,
}

/// A weekly post that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostProblem {
    pub week: PrayerWeek,
    pub problem: String,
    pub failed_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::ids::{ChannelId, GuildId};
    use crate::storage::fixtures::*;
    use chrono::NaiveTime;

    const HERE: GuildId = GUILD;

    #[tokio::test]
    async fn a_schedule_round_trips_and_keeps_the_channel() -> Result<(), StorageError> {
        let store = store().await;
        assert_eq!(store.schedule(HERE).await?, Schedule::default());
        store
            .set_default_channel(GUILD, ChannelId::of::<10>(), now())
            .await?;
        let schedule = Schedule {
            weekday: chrono::Weekday::Wed,
            time: NaiveTime::from_hms_opt(18, 30, 0).unwrap_or_default(),
            zone: chrono_tz::Australia::Sydney,
            auto: false,
        };
        store.set_schedule(HERE, &schedule, now()).await?;
        assert_eq!(store.schedule(HERE).await?, schedule);
        assert_eq!(
            store.channel_settings(GUILD).await?.default_channel,
            Some(ChannelId::of::<10>())
        );
        assert_eq!(store.schedules().await?, [(HERE, schedule)]);
        // A server with a schedule but nowhere to post is not scheduled.
        store
            .set_schedule(GuildId::of::<5>(), &Schedule::default(), now())
            .await?;
        assert_eq!(store.schedules().await?.len(), 1);
        assert_eq!(store.schedule_record(GuildId::of::<5>()).await?, None);
        // A schedule set before it was recorded counts from always.
        assert_eq!(store.schedule_record(HERE).await?, Some((schedule, None)));
        assert_eq!(
            store.week_states(&[(HERE, week("2026-11-23"))]).await?[0].since,
            None
        );
        let since = now();
        store
            .change_schedule(HERE, &schedule, Some(since), now())
            .await?;
        assert_eq!(
            store.schedule_record(HERE).await?,
            Some((schedule, Some(since)))
        );
        assert_eq!(
            store.week_states(&[(HERE, week("2026-11-23"))]).await?[0].since,
            Some(since)
        );
        // The plain setter keeps it.
        store.set_schedule(HERE, &schedule, now()).await?;
        assert_eq!(
            store.schedule_record(HERE).await?,
            Some((schedule, Some(since)))
        );
        Ok(())
    }

    #[tokio::test]
    async fn week_states_say_which_weeks_have_a_bulletin_and_which_are_posted()
    -> Result<(), StorageError> {
        let store = store().await;
        let w = week("2026-11-23");
        put(&store, Scope::Guild(GUILD), ONE, Placement::Exactly(w)).await?;
        let stored = store.week(Scope::Guild(GUILD), w).await?.expect("stored");
        let other = GuildId::of::<5>();
        assert_eq!(
            store
                .week_states(&[(HERE, w), (other, w), (HERE, w.next())])
                .await?,
            [
                WeekState {
                    has_bulletin: true,
                    ..WeekState::default()
                },
                WeekState::default(),
                WeekState::default(),
            ]
        );
        store
            .claim_week_post(GUILD, w, stored.bulletin_id, now())
            .await?;
        // Begun: the newest posted week, not yet posted.
        let begun = store.week_states(&[(HERE, w.weeks_before(1))]).await?[0];
        assert_eq!((begun.posted, begun.newest_posted), (false, Some(w)));
        store.finish_week_post(GUILD, w, now()).await?;
        let states = store.week_states(&[(HERE, w), (other, w)]).await?;
        assert!(states[0].posted);
        assert_eq!(states[0].newest_posted, Some(w));
        assert_eq!(states[1].newest_posted, None);
        assert_eq!(store.week_states(&[]).await?, []);
        Ok(())
    }

    #[tokio::test]
    async fn a_post_problem_is_announced_once_and_cleared_by_success() -> Result<(), StorageError> {
        let store = store().await;
        let w = week("2026-11-23");
        assert!(
            store
                .record_post_problem(HERE, w, "no channel", now())
                .await?
        );
        assert!(
            store
                .record_post_problem(HERE, w, "no channel", now())
                .await?
        );
        store.problem_announced(HERE, w, now()).await?;
        assert!(
            !store
                .record_post_problem(HERE, w, "still no channel", now())
                .await?
        );
        assert_eq!(
            store.post_problem(HERE).await?.map(|p| p.problem),
            Some("still no channel".to_owned())
        );
        store.clear_post_problem(HERE, w).await?;
        assert_eq!(store.post_problem(HERE).await?, None);
        Ok(())
    }
}
