//! When each server's weekly post goes out (weekday, time, time zone, on or
//! off), what the scheduler needs to know about each server's current week,
//! and the problems a post ran into, for `/prayer status`.

use chrono::{DateTime, NaiveTime, Utc};
use sqlx::Row;

use super::{StorageError, Store, parse_week, parse_weekday};
use crate::bulletins::week::PrayerWeek;
use crate::ids::GuildId;
use crate::schedule::{Schedule, ServerState};

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

pub(super) fn schedule_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Schedule, StorageError> {
    let weekday: i64 = row.try_get("post_weekday")?;
    let time: String = row.try_get("post_time")?;
    let zone: String = row.try_get("time_zone")?;
    let auto: bool = row.try_get("auto_post")?;
    let weekday = parse_weekday(weekday, "weekday")?;
    Ok(Schedule {
        weekday,
        time: NaiveTime::parse_from_str(&time, "%H:%M")
            .map_err(|_| StorageError::Corrupt(format!("post time `{time}`")))?,
        zone: zone
            .parse()
            .map_err(|_| StorageError::Corrupt(format!("time zone `{zone}`")))?,
        auto,
    })
}

impl Store {
    /// `guild`'s schedule; the defaults when it has none.
    pub async fn schedule(&self, guild: GuildId) -> Result<Schedule, StorageError> {
        let row = sqlx::query(
            "SELECT post_weekday, post_time, time_zone, auto_post FROM guild_settings
             WHERE guild_id = ?",
        )
        .bind(guild.to_sql())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => schedule_from_row(&row),
            None => Ok(Schedule::default()),
        }
    }

    /// Sets `guild`'s schedule, keeping where its posts go.
    pub async fn set_schedule(
        &self,
        guild: GuildId,
        schedule: &Schedule,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO guild_settings
                 (guild_id, updated_at, post_weekday, post_time, time_zone, auto_post)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (guild_id) DO UPDATE SET
                 updated_at = excluded.updated_at, post_weekday = excluded.post_weekday,
                 post_time = excluded.post_time, time_zone = excluded.time_zone,
                 auto_post = excluded.auto_post",
        )
        .bind(guild.to_sql())
        .bind(now)
        .bind(i64::from(schedule.weekday.num_days_from_monday()))
        .bind(schedule.time.format("%H:%M").to_string())
        .bind(schedule.zone.name())
        .bind(schedule.auto)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// `guild`'s schedule and when it was set, if the server is scheduled
    /// (it has somewhere to post); `None` before its first setup.
    pub async fn schedule_record(
        &self,
        guild: GuildId,
    ) -> Result<Option<(Schedule, Option<DateTime<Utc>>)>, StorageError> {
        let row = sqlx::query(
            "SELECT post_weekday, post_time, time_zone, auto_post, schedule_since
             FROM guild_settings AS s
             WHERE guild_id = ?
               AND (default_channel_id IS NOT NULL
                    OR EXISTS (SELECT 1 FROM region_channels AS r WHERE r.guild_id = s.guild_id))",
        )
        .bind(guild.to_sql())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok((schedule_from_row(&row)?, row.try_get("schedule_since")?)))
            .transpose()
    }

    /// Sets `guild`'s schedule as an admin does, with the instant from which
    /// its post times count (`schedule::counts_from_after_change`).
    pub async fn change_schedule(
        &self,
        guild: GuildId,
        schedule: &Schedule,
        since: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO guild_settings
                 (guild_id, updated_at, post_weekday, post_time, time_zone, auto_post,
                  schedule_since)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (guild_id) DO UPDATE SET
                 updated_at = excluded.updated_at, post_weekday = excluded.post_weekday,
                 post_time = excluded.post_time, time_zone = excluded.time_zone,
                 auto_post = excluded.auto_post, schedule_since = excluded.schedule_since",
        )
        .bind(guild.to_sql())
        .bind(now)
        .bind(i64::from(schedule.weekday.num_days_from_monday()))
        .bind(schedule.time.format("%H:%M").to_string())
        .bind(schedule.zone.name())
        .bind(schedule.auto)
        .bind(since)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every server that has somewhere to post (a default channel or a
    /// region's channel), with its schedule.
    pub async fn schedules(&self) -> Result<Vec<(GuildId, Schedule)>, StorageError> {
        Ok(sqlx::query(
            "SELECT guild_id, post_weekday, post_time, time_zone, auto_post FROM guild_settings AS s
             WHERE default_channel_id IS NOT NULL
                OR EXISTS (SELECT 1 FROM region_channels AS r WHERE r.guild_id = s.guild_id)
             ORDER BY guild_id",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .filter_map(|row| {
            let read = || -> Result<(GuildId, Schedule), StorageError> {
                Ok((
                    row.try_get("guild_id")?,
                    schedule_from_row(row)?,
                ))
            };
            // One server's unreadable schedule (a zone a newer time zone
            // database dropped, say) must not stop every other server's.
            read()
                .inspect_err(|error| {
                    tracing::error!(%error, "a server's schedule cannot be read; skipped");
                })
                .ok()
        })
        .collect::<Vec<_>>())
    }

    /// For each (server, week) asked about, in order: whether the server
    /// sees a bulletin for it and whether its post is finished, when the
    /// server's schedule was set and the newest week posted there. One
    /// statement however many servers.
    pub async fn week_states(
        &self,
        wanted: &[(GuildId, PrayerWeek)],
    ) -> Result<Vec<WeekState>, StorageError> {
        let pairs: Vec<String> = wanted
            .iter()
            .map(|(guild, week)| format!("[{},\"{week}\"]", guild.to_sql()))
            .collect();
        let rows = sqlx::query(
            "WITH wanted (n, guild_id, week) AS (
                 SELECT key, json_extract(value, '$[0]'), json_extract(value, '$[1]')
                 FROM json_each(?))
             SELECT
                 EXISTS (SELECT 1 FROM bulletins AS b
                         WHERE b.guild_id IN (w.guild_id, 0) AND b.week = w.week
                           AND b.kind = 'bulletin') AS has_bulletin,
                 EXISTS (SELECT 1 FROM week_posts AS p
                         WHERE p.guild_id = w.guild_id AND p.week = w.week
                           AND p.finished_at IS NOT NULL) AS posted,
                 (SELECT s.schedule_since FROM guild_settings AS s
                  WHERE s.guild_id = w.guild_id) AS since,
                 (SELECT MAX(p.week) FROM week_posts AS p
                  WHERE p.guild_id = w.guild_id) AS newest_posted
             FROM wanted AS w ORDER BY n",
        )
        .bind(format!("[{}]", pairs.join(",")))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let newest: Option<String> = row.try_get("newest_posted")?;
                Ok(WeekState {
                    has_bulletin: row.try_get("has_bulletin")?,
                    posted: row.try_get("posted")?,
                    since: row.try_get("since")?,
                    newest_posted: newest.as_deref().map(parse_week).transpose()?,
                })
            })
            .collect()
    }

    /// Notes that `guild`'s post of `week` failed. Returns whether the
    /// admins have yet to be told (so they are told once per week).
    pub async fn record_post_problem(
        &self,
        guild: GuildId,
        week: PrayerWeek,
        problem: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let announced: Option<Option<DateTime<Utc>>> = sqlx::query_scalar(
            "INSERT INTO post_problems (guild_id, week, problem, failed_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (guild_id, week) DO UPDATE
             SET problem = excluded.problem, failed_at = excluded.failed_at
             RETURNING announced_at",
        )
        .bind(guild.to_sql())
        .bind(week.to_string())
        .bind(problem)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(announced.flatten().is_none())
    }

    /// Takes the one notice that `guild`'s `week` has no bulletin: `true`
    /// for the one caller, in any process, that should send it; `false` if
    /// it was taken before.
    pub async fn take_empty_week_notice(
        &self,
        guild: GuildId,
        week: PrayerWeek,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let taken = sqlx::query(
            "INSERT INTO empty_week_notices (guild_id, week, told_at) VALUES (?, ?, ?)
             ON CONFLICT (guild_id, week) DO NOTHING",
        )
        .bind(guild)
        .bind(week.to_string())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(taken.rows_affected() == 1)
    }

    /// Gives back a notice taken but not sent, so a later tick sends it.
    pub async fn give_back_empty_week_notice(
        &self,
        guild: GuildId,
        week: PrayerWeek,
    ) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM empty_week_notices WHERE guild_id = ? AND week = ?")
            .bind(guild)
            .bind(week.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Notes that the admins were told about `guild`'s problem with `week`.
    pub async fn problem_announced(
        &self,
        guild: GuildId,
        week: PrayerWeek,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        sqlx::query("UPDATE post_problems SET announced_at = ? WHERE guild_id = ? AND week = ?")
            .bind(now)
            .bind(guild.to_sql())
            .bind(week.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets `guild`'s problem with `week` once its post went through.
    pub async fn clear_post_problem(
        &self,
        guild: GuildId,
        week: PrayerWeek,
    ) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM post_problems WHERE guild_id = ? AND week = ?")
            .bind(guild.to_sql())
            .bind(week.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// `guild`'s most recent unsolved post problem.
    pub async fn post_problem(&self, guild: GuildId) -> Result<Option<PostProblem>, StorageError> {
        let row = sqlx::query(
            "SELECT week, problem, failed_at FROM post_problems WHERE guild_id = ?
             ORDER BY week DESC LIMIT 1",
        )
        .bind(guild.to_sql())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let week: String = row.try_get("week")?;
            Ok(PostProblem {
                week: parse_week(&week)?,
                problem: row.try_get("problem")?,
                failed_at: row.try_get("failed_at")?,
            })
        })
        .transpose()
    }

    /// `guild`'s most recent weekly post, begun or finished.
    pub async fn last_post(&self, guild: GuildId) -> Result<Option<LastPost>, StorageError> {
        let row = sqlx::query(
            "SELECT p.week, p.started_at, p.finished_at,
                    (SELECT COUNT(*) FROM posted_messages AS m
                     WHERE m.guild_id = p.guild_id AND m.week = p.week) AS messages
             FROM week_posts AS p WHERE p.guild_id = ? ORDER BY p.week DESC LIMIT 1",
        )
        .bind(guild.to_sql())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let week: String = row.try_get("week")?;
            let messages: i64 = row.try_get("messages")?;
            Ok(LastPost {
                week: parse_week(&week)?,
                started_at: row.try_get("started_at")?,
                finished_at: row.try_get("finished_at")?,
                messages: u64::try_from(messages).unwrap_or(0),
            })
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::ids::{ChannelId, GuildId};
    use crate::storage::fixtures::*;

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
