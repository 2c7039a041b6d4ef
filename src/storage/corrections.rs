//! What admins change after the fact: a request's text corrected for one
//! server (`request_corrections`), a week's post taken down so it can be
//! posted again (the claim on `week_posts` that keeps it apart from every
//! post and every other unpost), and the log of both (`admin_actions`) that
//! `/prayer status` shows.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{PostedMessage, StorageError, Store, parse_week};
use crate::bulletins::week::PrayerWeek;
use crate::ids::{GuildId, MessageId, RequestId, UserId};

/// An admin's change, as `/prayer status` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAction {
    pub admin: UserId,
    /// `correct` or `unpost`.
    pub action: String,
    pub week: PrayerWeek,
    pub detail: String,
    pub at: DateTime<Utc>,
}

/// What trying to take a week's post down found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnpostClaim {
    /// The caller holds the week now: nothing posts it, nor takes it down,
    /// until the caller finishes or lets go. The messages still to delete,
    /// newest first.
    Claimed(Vec<PostedMessage>),
    /// The week was never posted in the server (or was taken down).
    NotPosted,
    /// A post or another unpost holds it until then.
    Held { until: DateTime<Utc> },
}

/// A correction to store, with its line in the log.
pub struct CorrectionRecord<'a> {
    pub guild: GuildId,
    pub request: RequestId,
    pub week: PrayerWeek,
    pub text: &'a str,
    pub admin: UserId,
    pub detail: &'a str,
    pub now: DateTime<Utc>,
}

/// An instant as `week_posts.lease_until` holds it (see `posts.rs`).
fn lease_time(instant: DateTime<Utc>) -> String {
    instant.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl Store {
    /// Stores `record`'s text as `guild`'s text of the request (replacing an
    /// earlier correction) and logs it, in one transaction.
    pub async fn correct_request(&self, record: &CorrectionRecord<'_>) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO request_corrections (guild_id, request_id, text, corrected_by, corrected_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (guild_id, request_id)
             DO UPDATE SET text = ?3, corrected_by = ?4, corrected_at = ?5",
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
             VALUES (?, ?, 'correct', ?, ?, ?)",
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
             WHERE guild_id = ? AND request_id = ? ORDER BY part, rowid",
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
             SET owner = ?1, lease_until = ?2, finished_at = COALESCE(finished_at, ?3)
             WHERE guild_id = ?4 AND week = ?5
               AND (owner IS NULL OR lease_until IS NULL OR lease_until < ?6)",
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
            "SELECT lease_until FROM week_posts WHERE guild_id = ? AND week = ?",
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
            "SELECT EXISTS (SELECT 1 FROM week_posts WHERE guild_id = ? AND week = ?)",
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
                            WHERE guild_id = ? AND week = ? AND finished_at IS NULL)",
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
            "UPDATE week_posts SET lease_until = ? WHERE guild_id = ? AND week = ? AND owner = ?",
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
        let mut tx = self.pool.begin().await?;
        for sql in [
            "DELETE FROM posted_messages WHERE guild_id = ? AND message_id = ?",
            "DELETE FROM unread_messages WHERE guild_id = ? AND message_id = ?",
            "DELETE FROM forgotten_reactions WHERE guild_id = ? AND message_id = ?",
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
        let mut tx = self.pool.begin().await?;
        let held: Option<String> = sqlx::query_scalar(
            "SELECT owner FROM week_posts WHERE guild_id = ? AND week = ? AND owner = ?",
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
            "DELETE FROM posted_messages WHERE guild_id = ? AND week = ?",
            "DELETE FROM post_problems WHERE guild_id = ? AND week = ?",
            "DELETE FROM week_posts WHERE guild_id = ? AND week = ?",
        ] {
            sqlx::query(sql)
                .bind(guild)
                .bind(week.to_string())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO admin_actions (guild_id, admin_id, action, week, detail, at)
             VALUES (?, ?, 'unpost', ?, ?, ?)",
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
             WHERE guild_id = ? AND week = ? AND owner = ?",
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
             WHERE guild_id = ? AND week = ? AND action = 'unpost'",
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
             WHERE guild_id = ? ORDER BY id DESC LIMIT ?",
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

fn posted_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<PostedMessage, StorageError> {
    let part: i64 = row.try_get("part")?;
    Ok(PostedMessage {
        message_id: row.try_get("message_id")?,
        channel_id: row.try_get("channel_id")?,
        request_id: row.try_get("request_id")?,
        part: u32::try_from(part)
            .map_err(|_| StorageError::Corrupt(format!("message part {part}")))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Scope;
    use crate::storage::fixtures::*;

    const OTHER: GuildId = GuildId::of::<7>();
    const ADMIN: UserId = UserId::of::<3>();

    fn record(request: RequestId, text: &str) -> CorrectionRecord<'_> {
        CorrectionRecord {
            guild: GUILD,
            request,
            week: week("2026-11-23"),
            text,
            admin: ADMIN,
            detail: "corrected",
            now: now(),
        }
    }

    #[tokio::test]
    async fn a_correction_is_read_in_its_server_only_everywhere_the_text_is_read()
    -> Result<(), StorageError> {
        let store = store().await;
        let ids = posted(&store).await?;
        let w = week("2026-11-23");
        store
            .record_praise(GUILD, Some(ids[0]), w, ADMIN, "Thanks!", now())
            .await?;
        store
            .correct_request(&record(ids[0], "Pray for Nairobi."))
            .await?;
        store
            .correct_request(&record(ids[0], "Pray for Mombasa."))
            .await?;
        let text = |stored: Option<crate::storage::StoredWeek>| {
            stored.map(|s| s.bulletin.requests[0].text.clone())
        };
        assert_eq!(
            text(store.week(Scope::Guild(GUILD), w).await?).as_deref(),
            Some("Pray for Mombasa.")
        );
        assert_eq!(
            text(store.week(Scope::Guild(OTHER), w).await?).as_deref(),
            Some("Pray for Kenya.")
        );
        assert_eq!(
            text(store.week(Scope::Shared, w).await?).as_deref(),
            Some("Pray for Kenya.")
        );
        let answered = store.answered_praises(GUILD, w, 10).await?;
        assert_eq!(
            answered[0].request,
            Some(("Africa".to_owned(), "Pray for Mombasa.".to_owned()))
        );
        let log = store.admin_actions(GUILD, 10).await?;
        assert_eq!(log.len(), 2, "each correction is logged");
        assert!(store.admin_actions(OTHER, 10).await?.is_empty());
        // The messages of the request, as posted.
        let messages = store.request_messages(GUILD, ids[0]).await?;
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].message_id, MessageId::of::<500>());
        assert!(store.request_messages(OTHER, ids[0]).await?.is_empty());
        Ok(())
    }

    #[tokio::test]
    async fn an_unpost_claim_is_one_holders_and_its_end_clears_the_week() -> Result<(), StorageError>
    {
        let store = store().await;
        posted(&store).await?;
        let w = week("2026-11-23");
        let until = now() + chrono::TimeDelta::minutes(2);
        // The test post still holds its lease: no unpost yet.
        assert!(matches!(
            store.claim_unpost(GUILD, w, "a", until, now()).await?,
            UnpostClaim::Held { .. }
        ));
        store.finish_week_post(GUILD, w, now()).await?;
        let UnpostClaim::Claimed(messages) =
            store.claim_unpost(GUILD, w, "a", until, now()).await?
        else {
            panic!("not claimed");
        };
        assert_eq!(
            messages.iter().map(|m| m.message_id).collect::<Vec<_>>(),
            [MessageId::of::<500>(), MessageId::of::<499>()],
            "newest first"
        );
        assert!(matches!(
            store.claim_unpost(GUILD, w, "b", until, now()).await?,
            UnpostClaim::Held { .. }
        ));
        assert!(
            !store
                .finish_unpost(GUILD, w, "b", ADMIN, "x", now())
                .await?
        );
        assert!(store.renew_unpost(GUILD, w, "a", until).await?);
        store
            .forget_posted_message(GUILD, MessageId::of::<500>())
            .await?;
        assert_eq!(store.posted_messages(GUILD, w).await?.len(), 1);
        assert_eq!(store.post_round(GUILD, w).await?, 0);
        assert!(
            store
                .finish_unpost(GUILD, w, "a", ADMIN, "took down", now())
                .await?
        );
        assert!(!store.week_post_begun(GUILD, w).await?);
        assert!(store.posted_messages(GUILD, w).await?.is_empty());
        assert_eq!(store.post_round(GUILD, w).await?, 1);
        assert_eq!(
            store.claim_unpost(GUILD, w, "b", until, now()).await?,
            UnpostClaim::NotPosted
        );
        Ok(())
    }
}
