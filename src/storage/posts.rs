//! The weekly posts: the claim that keeps a week from being posted twice,
//! and every message a post sent.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{StorageError, Store, discord_id, sql_id};
use crate::week::PrayerWeek;

/// The state of a server's post of a week, as found when claiming it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeekPostClaim {
    /// Nobody had begun posting this week; the caller now owns the post.
    Claimed,
    /// A post was begun and not finished (a crash, or one running now):
    /// the caller may resume it, skipping what was already sent.
    Unfinished,
    /// The week has been posted.
    Finished,
}

/// A message a weekly post sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostedMessage {
    pub message_id: u64,
    pub channel_id: u64,
    /// `None` for a channel's header.
    pub request_id: Option<i64>,
    pub part: u32,
}

impl Store {
    /// Claims `guild`'s post of `week`. Only one caller ever gets
    /// [`WeekPostClaim::Claimed`] for a server and week.
    pub async fn claim_week_post(
        &self,
        guild: u64,
        week: PrayerWeek,
        bulletin_id: i64,
        now: DateTime<Utc>,
    ) -> Result<WeekPostClaim, StorageError> {
        let inserted = sqlx::query(
            "INSERT INTO week_posts (guild_id, week, bulletin_id, started_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (guild_id, week) DO NOTHING",
        )
        .bind(sql_id(guild))
        .bind(week.to_string())
        .bind(bulletin_id)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(WeekPostClaim::Claimed);
        }
        let finished: Option<DateTime<Utc>> = sqlx::query_scalar(
            "SELECT finished_at FROM week_posts WHERE guild_id = ? AND week = ?",
        )
        .bind(sql_id(guild))
        .bind(week.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(match finished {
            Some(_) => WeekPostClaim::Finished,
            None => WeekPostClaim::Unfinished,
        })
    }

    /// Records a message of `guild`'s post of `week`, right after sending it.
    /// Recording the same message again (Discord answers a resent nonce with
    /// the message it already made) changes nothing.
    pub async fn record_posted_message(
        &self,
        guild: u64,
        week: PrayerWeek,
        message: PostedMessage,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO posted_messages (message_id, guild_id, week, channel_id, request_id, part, sent_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(sql_id(message.message_id))
        .bind(sql_id(guild))
        .bind(week.to_string())
        .bind(sql_id(message.channel_id))
        .bind(message.request_id)
        .bind(i64::from(message.part))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The messages already sent for `guild`'s post of `week`.
    pub async fn posted_messages(
        &self,
        guild: u64,
        week: PrayerWeek,
    ) -> Result<Vec<PostedMessage>, StorageError> {
        sqlx::query(
            "SELECT message_id, channel_id, request_id, part FROM posted_messages
             WHERE guild_id = ? AND week = ? ORDER BY rowid",
        )
        .bind(sql_id(guild))
        .bind(week.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            let part: i64 = row.try_get("part")?;
            Ok(PostedMessage {
                message_id: discord_id(row.try_get("message_id")?),
                channel_id: discord_id(row.try_get("channel_id")?),
                request_id: row.try_get("request_id")?,
                part: u32::try_from(part)
                    .map_err(|_| StorageError::Corrupt(format!("message part {part}")))?,
            })
        })
        .collect()
    }

    /// Marks `guild`'s post of `week` complete.
    pub async fn finish_week_post(
        &self,
        guild: u64,
        week: PrayerWeek,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        sqlx::query("UPDATE week_posts SET finished_at = ? WHERE guild_id = ? AND week = ?")
            .bind(now)
            .bind(sql_id(guild))
            .bind(week.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::fixtures::*;

    #[tokio::test]
    async fn a_week_post_is_claimed_once_and_its_messages_recorded() -> Result<(), StorageError> {
        let store = store().await;
        let w = week("2026-11-23");
        put(&store, Scope::Shared, ONE, Placement::Exactly(w)).await?;
        let stored = store.week(Scope::Guild(GUILD), w).await?.expect("stored");
        assert_eq!(
            store
                .claim_week_post(GUILD, w, stored.bulletin_id, now())
                .await?,
            WeekPostClaim::Claimed
        );
        assert_eq!(
            store
                .claim_week_post(GUILD, w, stored.bulletin_id, now())
                .await?,
            WeekPostClaim::Unfinished
        );
        let message = PostedMessage {
            message_id: u64::MAX - 1,
            channel_id: 42,
            request_id: Some(stored.request_ids[0]),
            part: 0,
        };
        for _ in 0..2 {
            // The second is Discord answering a resent nonce with the same message.
            store
                .record_posted_message(GUILD, w, message, now())
                .await?;
        }
        assert_eq!(store.posted_messages(GUILD, w).await?, [message]);
        store.finish_week_post(GUILD, w, now()).await?;
        assert_eq!(
            store
                .claim_week_post(GUILD, w, stored.bulletin_id, now())
                .await?,
            WeekPostClaim::Finished
        );
        assert_eq!(
            store
                .claim_week_post(7, w, stored.bulletin_id, now())
                .await?,
            WeekPostClaim::Claimed
        );
        Ok(())
    }
}
