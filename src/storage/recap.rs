//! The weekly recap's setting (which weekday, since when) and the claims
//! that post each server's recap of a week once.

use crate::ids::GuildId;
use chrono::{DateTime, Utc, Weekday};

/// A server's recap, as an admin set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecapSetting {
    pub guild: GuildId,
    /// The day it is posted on.
    pub weekday: Weekday,
    /// When the admin chose it: a recap time before this is not posted.
    pub since: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulletins::week::PrayerWeek;
    use crate::storage::StorageError;
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
