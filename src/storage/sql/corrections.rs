//! The statements of `storage/corrections.rs`, once per backend.

use super::{DbRow, Sql, lease_time};
use crate::bulletins::week::PrayerWeek;
use crate::ids::{GuildId, MessageId, RequestId, UserId};
use crate::storage::*;
use chrono::{DateTime, Utc};
use sqlx::Row;

impl Sql {
    /// Stores `record`'s text as `guild`'s text of the request (replacing an
    /// earlier correction) and logs it, in one transaction.
    pub async fn correct_request(&self, record: &CorrectionRecord<'_>) -> Result<(), StorageError> {
        let mut tx = self.begin_writing().await?;
        sqlx::query(
            "INSERT INTO request_corrections (guild_id, request_id, text, corrected_by, corrected_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (guild_id, request_id)
             DO UPDATE SET text = $3, corrected_by = $4, corrected_at = $5",
        )
        .bind(record.guild)
        .bind(record.request)
        .bind(record.text)
        .bind(record.admin)
        .bind(record.now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO admin_actions (guild_id, admin_id, action, week, detail, at)
             VALUES ($1, $2, 'correct', $3, $4, $5)",
        )
        .bind(record.guild)
        .bind(record.admin)
        .bind(record.week.to_string())
        .bind(record.detail)
        .bind(record.now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The messages of `guild`'s post that carry `request`, by part.
    pub async fn request_messages(
        &self,
        guild: GuildId,
        request: RequestId,
    ) -> Result<Vec<PostedMessage>, StorageError> {
        sqlx::query(
            "SELECT message_id, channel_id, request_id, part FROM posted_messages
             WHERE guild_id = $1 AND request_id = $2 ORDER BY part, message_id",
        )
        .bind(guild)
        .bind(request)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(posted_from_row)
        .collect()
    }

    /// Takes `guild`'s post of `week` for `owner` until `until`, to take it
    /// down: only when nobody holds it (a post sending it, or another
    /// unpost). One statement, so of two callers only one gets it. The post
    /// counts as finished from now on (whatever it was), so no post resumes
    /// it while its messages go.
    pub async fn claim_unpost(
        &self,
        guild: GuildId,
        week: PrayerWeek,
        owner: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<UnpostClaim, StorageError> {
        let claimed = sqlx::query(
            "UPDATE week_posts
             SET owner = $1, lease_until = $2, finished_at = COALESCE(finished_at, $3)
             WHERE guild_id = $4 AND week = $5
               AND (owner IS NULL OR lease_until IS NULL OR lease_until < $6)",
        )
        .bind(owner)
        .bind(lease_time(until))
        .bind(now)
        .bind(guild)
        .bind(week.to_string())
        .bind(lease_time(now))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if claimed == 1 {
            let mut messages = self.posted_messages(guild, week).await?;
            messages.reverse();
            return Ok(UnpostClaim::Claimed(messages));
        }
        let held: Option<Option<DateTime<Utc>>> = sqlx::query_scalar(
            "SELECT lease_until FROM week_posts WHERE guild_id = $1 AND week = $2",
        )
        .bind(guild)
        .bind(week.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(match held {
            None => UnpostClaim::NotPosted,
            Some(until) => UnpostClaim::Held {
                until: until.unwrap_or(now),
            },
        })
    }

    /// Whether a post of `week` was begun in `guild` (and not taken down).
    pub async fn week_post_begun(
        &self,
        guild: GuildId,
        week: PrayerWeek,
    ) -> Result<bool, StorageError> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM week_posts WHERE guild_id = $1 AND week = $2)",
        )
        .bind(guild)
        .bind(week.to_string())
        .fetch_one(&self.pool)
        .await?)
    }

    /// Whether `guild`'s post of `week` was begun and is not finished
    /// (being sent now, or stopped part-way).
    pub async fn week_post_unfinished(
        &self,
        guild: GuildId,
        week: PrayerWeek,
    ) -> Result<bool, StorageError> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM week_posts
                            WHERE guild_id = $1 AND week = $2 AND finished_at IS NULL)",
        )
        .bind(guild)
        .bind(week.to_string())
        .fetch_one(&self.pool)
        .await?)
    }

    /// Extends `owner`'s hold on the unpost; false when it lost it.
    pub async fn renew_unpost(
        &self,
        guild: GuildId,
        week: PrayerWeek,
        owner: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let renewed = sqlx::query(
            "UPDATE week_posts SET lease_until = $1 WHERE guild_id = $2 AND week = $3 AND owner = $4",
        )
        .bind(lease_time(until))
        .bind(guild)
        .bind(week.to_string())
        .bind(owner)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(renewed == 1)
    }

    /// Forgets a message of `guild`'s post once Discord deleted it, with the
    /// notes catch-up kept on it. The 🙏 marks members left on it stay: they
    /// are prayers, counted per request.
    pub async fn forget_posted_message(
        &self,
        guild: GuildId,
        message: MessageId,
    ) -> Result<(), StorageError> {
        let mut tx = self.begin_writing().await?;
        for sql in [
            "DELETE FROM posted_messages WHERE guild_id = $1 AND message_id = $2",
            "DELETE FROM unread_messages WHERE guild_id = $1 AND message_id = $2",
            "DELETE FROM forgotten_reactions WHERE guild_id = $1 AND message_id = $2",
        ] {
            sqlx::query(sql)
                .bind(guild)
                .bind(message)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ends `owner`'s unpost of `guild`'s `week`: the week's post records
    /// and problems go, so the week can be posted again from a clean slate,
    /// and the unpost is logged; all in one transaction, and only if
    /// `owner` still holds the week (false otherwise, and nothing changes).
    pub async fn finish_unpost(
        &self,
        guild: GuildId,
        week: PrayerWeek,
        owner: &str,
        admin: UserId,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut tx = self.begin_writing().await?;
        let held: Option<String> = sqlx::query_scalar(
            "SELECT owner FROM week_posts WHERE guild_id = $1 AND week = $2 AND owner = $3",
        )
        .bind(guild)
        .bind(week.to_string())
        .bind(owner)
        .fetch_optional(&mut *tx)
        .await?;
        if held.is_none() {
            return Ok(false);
        }
        for sql in [
            "DELETE FROM posted_messages WHERE guild_id = $1 AND week = $2",
            "DELETE FROM post_problems WHERE guild_id = $1 AND week = $2",
            "DELETE FROM week_posts WHERE guild_id = $1 AND week = $2",
        ] {
            sqlx::query(sql)
                .bind(guild)
                .bind(week.to_string())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO admin_actions (guild_id, admin_id, action, week, detail, at)
             VALUES ($1, $2, 'unpost', $3, $4, $5)",
        )
        .bind(guild)
        .bind(admin)
        .bind(week.to_string())
        .bind(detail)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Lets go of `owner`'s unpost that stopped part-way: the week stays
    /// posted (as finished) with the messages not yet deleted, and the next
    /// unpost deletes the rest.
    pub async fn release_unpost(
        &self,
        guild: GuildId,
        week: PrayerWeek,
        owner: &str,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE week_posts SET owner = NULL, lease_until = NULL
             WHERE guild_id = $1 AND week = $2 AND owner = $3",
        )
        .bind(guild)
        .bind(week.to_string())
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// How many times `guild`'s post of `week` was taken down: the round
    /// its next post is.
    pub async fn post_round(&self, guild: GuildId, week: PrayerWeek) -> Result<u32, StorageError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM admin_actions
             WHERE guild_id = $1 AND week = $2 AND action = 'unpost'",
        )
        .bind(guild)
        .bind(week.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    /// `guild`'s latest admin changes, newest first, at most `limit`.
    pub async fn admin_actions(
        &self,
        guild: GuildId,
        limit: u32,
    ) -> Result<Vec<AdminAction>, StorageError> {
        sqlx::query(
            "SELECT admin_id, action, week, detail, at FROM admin_actions
             WHERE guild_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(guild)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(AdminAction {
                admin: row.try_get("admin_id")?,
                action: row.try_get("action")?,
                week: parse_week(&row.try_get::<String, _>("week")?)?,
                detail: row.try_get("detail")?,
                at: row.try_get("at")?,
            })
        })
        .collect()
    }
}

fn posted_from_row(row: &DbRow) -> Result<PostedMessage, StorageError> {
    let part: i64 = row.try_get("part")?;
    Ok(PostedMessage {
        message_id: row.try_get("message_id")?,
        channel_id: row.try_get("channel_id")?,
        request_id: row.try_get("request_id")?,
        part: u32::try_from(part)
            .map_err(|_| StorageError::Corrupt(format!("message part {part}")))?,
    })
}
