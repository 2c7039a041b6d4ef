//! The weekly recap's setting (which weekday, since when) and the claims
//! that post each server's recap of a week once.

use chrono::{DateTime, Utc, Weekday};
use sqlx::Row;

use super::{StorageError, Store, parse_weekday};
use crate::bulletins::week::PrayerWeek;
use crate::ids::GuildId;

/// A server's recap, as an admin set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecapSetting {
    pub guild: GuildId,
    /// The day it is posted on.
    pub weekday: Weekday,
    /// When the admin chose it: a recap time before this is not posted.
    pub since: Option<DateTime<Utc>>,
}

fn weekday_from(number: i64) -> Result<Weekday, StorageError> {
    parse_weekday(number, "recap weekday")
}

impl Store {
    /// Sets the day `guild`'s recap is posted on (`None`: no recap).
    pub async fn set_recap_day(
        &self,
        guild: GuildId,
        weekday: Option<Weekday>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO guild_settings (guild_id, recap_weekday, recap_since, updated_at)
             VALUES (?1, ?2, ?3, ?3)
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
            sqlx::query_scalar("SELECT recap_weekday FROM guild_settings WHERE guild_id = ?")
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
            "INSERT INTO recaps (guild_id, week, posted_at) VALUES (?, ?, ?)
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
        sqlx::query("DELETE FROM recaps WHERE guild_id = ? AND week = ?")
            .bind(guild)
            .bind(week.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::fixtures::{GUILD, store};

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[tokio::test]
    async fn a_recap_day_is_set_read_and_turned_off() -> Result<(), StorageError> {
        let store = store().await;
        assert_eq!(store.recap_day(GUILD).await?, None, "off by default");
        assert_eq!(store.recap_settings().await?, []);
        let now = at("2026-11-20T10:00:00Z");
        store.set_recap_day(GUILD, Some(Weekday::Sun), now).await?;
        assert_eq!(store.recap_day(GUILD).await?, Some(Weekday::Sun));
        assert_eq!(
            store.recap_settings().await?,
            [RecapSetting {
                guild: GUILD,
                weekday: Weekday::Sun,
                since: Some(now),
            }]
        );
        store.set_recap_day(GUILD, None, now).await?;
        assert_eq!(store.recap_day(GUILD).await?, None);
        assert_eq!(store.recap_settings().await?, []);
        Ok(())
    }

    #[tokio::test]
    async fn a_weeks_recap_is_taken_once_and_can_be_given_back() -> Result<(), StorageError> {
        let store = store().await;
        let week = "2026-11-23".parse::<PrayerWeek>().expect("a week");
        let now = at("2026-11-29T09:00:00Z");
        assert!(store.take_recap(GUILD, week, now).await?);
        assert!(!store.take_recap(GUILD, week, now).await?, "taken once");
        assert!(store.take_recap(GUILD, week.next(), now).await?);
        store.give_back_recap(GUILD, week).await?;
        assert!(store.take_recap(GUILD, week, now).await?, "given back");
        Ok(())
    }
}
