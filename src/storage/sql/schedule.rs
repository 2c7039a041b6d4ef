//! The statements of `storage/schedule.rs`, once per backend.

use super::{DbRow, Sql};
use crate::bulletins::week::PrayerWeek;
use crate::ids::GuildId;
use crate::schedule::Schedule;
use crate::storage::*;
use chrono::{DateTime, NaiveTime, Utc};
use sqlx::Row;

pub(super) fn schedule_from_row(row: &DbRow) -> Result<Schedule, StorageError> {
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

impl Sql {
    /// `guild`'s schedule; the defaults when it has none.
    pub async fn schedule(&self, guild: GuildId) -> Result<Schedule, StorageError> {
        let row = sqlx::query(
            "SELECT post_weekday, post_time, time_zone, auto_post FROM guild_settings
             WHERE guild_id = $1",
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
             VALUES ($1, $2, $3, $4, $5, $6)
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
             WHERE guild_id = $1
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
             VALUES ($1, $2, $3, $4, $5, $6, $7)
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
        let rows = sqlx::query(concat!(
            "WITH wanted (n, guild_id, week) AS (",
            pairs_in!("$1"),
            ")
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
             FROM wanted AS w ORDER BY n"
        ))
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
            "INSERT INTO post_problems (guild_id, week, problem, failed_at) VALUES ($1, $2, $3, $4)
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
            "INSERT INTO empty_week_notices (guild_id, week, told_at) VALUES ($1, $2, $3)
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
        sqlx::query("DELETE FROM empty_week_notices WHERE guild_id = $1 AND week = $2")
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
        sqlx::query("UPDATE post_problems SET announced_at = $1 WHERE guild_id = $2 AND week = $3")
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
        sqlx::query("DELETE FROM post_problems WHERE guild_id = $1 AND week = $2")
            .bind(guild.to_sql())
            .bind(week.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// `guild`'s most recent unsolved post problem.
    pub async fn post_problem(&self, guild: GuildId) -> Result<Option<PostProblem>, StorageError> {
        let row = sqlx::query(
            "SELECT week, problem, failed_at FROM post_problems WHERE guild_id = $1
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
             FROM week_posts AS p WHERE p.guild_id = $1 ORDER BY p.week DESC LIMIT 1",
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
