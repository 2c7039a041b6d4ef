//! The statements of `storage/nudges.rs`, once per backend.

use super::Sql;
use super::prayers::guild_request_from_row;
use super::schedule::schedule_from_row;
use crate::bulletins::week::PrayerWeek;
use crate::ids::{GuildId, UserId};
use crate::storage::*;
use chrono::{DateTime, Utc, Weekday};
use sqlx::Row;

impl Sql {
    /// Sets (or with `None` turns off) `guild`'s nudge day.
    pub async fn set_nudge(
        &self,
        guild: GuildId,
        day: Option<Weekday>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO guild_settings (guild_id, nudge_weekday, nudge_since, updated_at)
             VALUES ($1, $2, $3, $3)
             ON CONFLICT (guild_id) DO UPDATE
             SET nudge_weekday = excluded.nudge_weekday, nudge_since = excluded.nudge_since,
                 updated_at = excluded.updated_at",
        )
        .bind(guild.to_sql())
        .bind(day.map(|d| i64::from(d.num_days_from_monday())))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// `guild`'s nudge day, if it has one.
    pub async fn nudge_day(&self, guild: GuildId) -> Result<Option<Weekday>, StorageError> {
        let day: Option<Option<i64>> =
            sqlx::query_scalar("SELECT nudge_weekday FROM guild_settings WHERE guild_id = $1")
                .bind(guild.to_sql())
                .fetch_optional(&self.pool)
                .await?;
        day.flatten().map(weekday).transpose()
    }

    /// Every server with a nudge day, with its schedule.
    pub async fn nudge_servers(&self) -> Result<Vec<NudgeServer>, StorageError> {
        let rows = sqlx::query(
            "SELECT guild_id, post_weekday, post_time, time_zone, auto_post, nudge_weekday,
                    nudge_since
             FROM guild_settings WHERE nudge_weekday IS NOT NULL ORDER BY guild_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(NudgeServer {
                    guild: row.try_get("guild_id")?,
                    schedule: schedule_from_row(row)?,
                    day: weekday(row.try_get("nudge_weekday")?)?,
                    since: row.try_get("nudge_since")?,
                })
            })
            .collect()
    }

    /// The members of `guild` who committed to a request of `week` and
    /// have not marked it prayed (by button or 🙏), each with those
    /// requests in bulletin order; leaving out members already reminded
    /// that week and those who said `/prayer notify off`.
    pub async fn nudge_candidates(
        &self,
        guild: GuildId,
        week: PrayerWeek,
    ) -> Result<Vec<(UserId, Vec<GuildRequest>)>, StorageError> {
        let rows = sqlx::query(concat!(
            "WITH ",
            requested_in_week!(),
            ", open AS (
                 SELECT DISTINCT c.user_id, c.request_id FROM prayer_marks AS c
                 WHERE c.guild_id = $1 AND c.kind = 'commit' AND c.request_id IN (SELECT id FROM requested)
                   AND NOT EXISTS (SELECT 1 FROM prayer_marks AS p
                                   WHERE p.guild_id = $1 AND p.request_id = c.request_id
                                     AND p.user_id = c.user_id AND p.kind <> 'commit'))
             SELECT o.user_id, r.id, $2 AS week, r.region, r.kind, r.text
             FROM open AS o JOIN requests AS r ON r.id = o.request_id
             JOIN bulletins AS b ON b.id = r.bulletin_id
             WHERE NOT EXISTS (SELECT 1 FROM notify_off AS n
                               WHERE n.guild_id = $1 AND n.user_id = o.user_id)
               AND NOT EXISTS (SELECT 1 FROM nudges AS d
                               WHERE d.guild_id = $1 AND d.week = $2 AND d.user_id = o.user_id)
             ORDER BY o.user_id, b.kind, r.position"
        ))
        .bind(guild.to_sql())
        .bind(week.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut members: Vec<(UserId, Vec<GuildRequest>)> = Vec::new();
        for row in &rows {
            let user: UserId = row.try_get("user_id")?;
            let request = guild_request_from_row(row)?;
            match members.last_mut() {
                Some((last, requests)) if *last == user => requests.push(request),
                _ => members.push((user, vec![request])),
            }
        }
        Ok(members)
    }

    /// Takes `user`'s reminder of `week` in `guild`: `true` if no one had.
    pub async fn take_nudge(
        &self,
        guild: GuildId,
        week: PrayerWeek,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let taken = sqlx::query(
            "INSERT INTO nudges (guild_id, week, user_id, sent_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
        )
        .bind(guild.to_sql())
        .bind(week.to_string())
        .bind(user.to_sql())
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(taken == 1)
    }

    /// Gives a reminder taken with [`Store::take_nudge`] back, so a later
    /// tick sends it (Discord failed on its side).
    pub async fn give_back_nudge(
        &self,
        guild: GuildId,
        week: PrayerWeek,
        user: UserId,
    ) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM nudges WHERE guild_id = $1 AND week = $2 AND user_id = $3")
            .bind(guild.to_sql())
            .bind(week.to_string())
            .bind(user.to_sql())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

fn weekday(day: i64) -> Result<Weekday, StorageError> {
    parse_weekday(day, "nudge weekday")
}
