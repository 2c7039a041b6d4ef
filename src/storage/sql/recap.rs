//! The statements of `storage/recap.rs`, once per backend.

use super::Sql;
use crate::bulletins::week::PrayerWeek;
use crate::ids::GuildId;
use crate::storage::*;
use chrono::{DateTime, Utc, Weekday};
use sqlx::Row;

fn weekday_from(number: i64) -> Result<Weekday, StorageError> {
    parse_weekday(number, "recap weekday")
}

impl Sql {
    /// Sets the day `guild`'s recap is posted on (`None`: no recap).
    pub async fn set_recap_day(
        &self,
        guild: GuildId,
        weekday: Option<Weekday>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO guild_settings (guild_id, recap_weekday, recap_since, updated_at)
             VALUES ($1, $2, $3, $3)
             ON CONFLICT (guild_id) DO UPDATE SET recap_weekday = excluded.recap_weekday,
                 recap_since = excluded.recap_since, updated_at = excluded.updated_at",
        )
        .bind(guild)
        .bind(weekday.map(|d| i64::from(d.num_days_from_monday())))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The day `guild`'s recap is posted on, if it has one.
    pub async fn recap_day(&self, guild: GuildId) -> Result<Option<Weekday>, StorageError> {
        let day: Option<Option<i64>> =
            sqlx::query_scalar("SELECT recap_weekday FROM guild_settings WHERE guild_id = $1")
                .bind(guild)
                .fetch_optional(&self.pool)
                .await?;
        day.flatten().map(weekday_from).transpose()
    }

    /// Every server with a recap day.
    pub async fn recap_settings(&self) -> Result<Vec<RecapSetting>, StorageError> {
        sqlx::query(
            "SELECT guild_id, recap_weekday, recap_since FROM guild_settings
             WHERE recap_weekday IS NOT NULL ORDER BY guild_id",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(RecapSetting {
                guild: row.try_get("guild_id")?,
                weekday: weekday_from(row.try_get("recap_weekday")?)?,
                since: row.try_get("recap_since")?,
            })
        })
        .collect()
    }

    /// Takes the one recap of `guild`'s `week`: `true` for the one caller,
    /// in any process, that should post it; `false` if it was taken before.
    pub async fn take_recap(
        &self,
        guild: GuildId,
        week: PrayerWeek,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let taken = sqlx::query(
            "INSERT INTO recaps (guild_id, week, posted_at) VALUES ($1, $2, $3)
             ON CONFLICT (guild_id, week) DO NOTHING",
        )
        .bind(guild)
        .bind(week.to_string())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(taken.rows_affected() == 1)
    }

    /// Gives back a recap taken but not posted, so a later tick posts it.
    pub async fn give_back_recap(
        &self,
        guild: GuildId,
        week: PrayerWeek,
    ) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM recaps WHERE guild_id = $1 AND week = $2")
            .bind(guild)
            .bind(week.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
