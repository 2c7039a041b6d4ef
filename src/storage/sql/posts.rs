//! The statements of `storage/posts.rs`, once per backend.

use super::{Db, Sql, lease_time};
use crate::bulletins::week::PrayerWeek;
use crate::ids::GuildId;
use crate::storage::*;
use chrono::{DateTime, Utc};
use sqlx::Row;

/// One try at leasing a server's post of a week: who asks, until when,
/// and when it is.
struct Lease<'a> {
    guild: GuildId,
    week: PrayerWeek,
    bulletin_id: i64,
    owner: &'a str,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
}

/// Begins the post, leased to the owner; `false` when it was begun before.
async fn insert_week_post(pool: &sqlx::Pool<Db>, lease: &Lease<'_>) -> Result<bool, StorageError> {
    let inserted = sqlx::query(
        "INSERT INTO week_posts (guild_id, week, bulletin_id, started_at, owner, lease_until)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (guild_id, week) DO NOTHING",
    )
    .bind(lease.guild)
    .bind(lease.week.to_string())
    .bind(lease.bulletin_id)
    .bind(lease.now)
    .bind(lease.owner)
    .bind(lease_time(lease.until))
    .execute(pool)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Takes an unfinished post over for the owner, if nobody else holds it;
/// `false` when it is finished or held.
async fn take_over_week_post(
    pool: &sqlx::Pool<Db>,
    lease: &Lease<'_>,
) -> Result<bool, StorageError> {
    let taken = sqlx::query(
        "UPDATE week_posts SET owner = $1, lease_until = $2
         WHERE guild_id = $3 AND week = $4 AND finished_at IS NULL
           AND (owner IS NULL OR lease_until IS NULL OR lease_until < $5 OR owner = $6)",
    )
    .bind(lease.owner)
    .bind(lease_time(lease.until))
    .bind(lease.guild)
    .bind(lease.week.to_string())
    .bind(lease_time(lease.now))
    .bind(lease.owner)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(taken == 1)
}

/// What looking at a post that could be neither begun nor taken over
/// found.
enum Looked {
    /// The post is finished, or held by another owner.
    Settled(WeekPostClaim),
    /// Its holder let go meanwhile; the lease it had, if any.
    LetGo(Option<DateTime<Utc>>),
}

/// Reads whether the post is finished, held by another owner, or was let
/// go since the take-over was refused.
async fn look_at_week_post(
    pool: &sqlx::Pool<Db>,
    lease: &Lease<'_>,
) -> Result<Looked, StorageError> {
    let row = sqlx::query(
        "SELECT finished_at, owner, lease_until FROM week_posts
         WHERE guild_id = $1 AND week = $2",
    )
    .bind(lease.guild)
    .bind(lease.week.to_string())
    .fetch_one(pool)
    .await?;
    let finished: Option<DateTime<Utc>> = row.try_get("finished_at")?;
    if finished.is_some() {
        return Ok(Looked::Settled(WeekPostClaim::Finished));
    }
    let holder: Option<String> = row.try_get("owner")?;
    let held: Option<DateTime<Utc>> = row.try_get("lease_until")?;
    Ok(match (holder, held) {
        (Some(_), Some(until)) if until >= lease.now => {
            Looked::Settled(WeekPostClaim::Held { until })
        }
        (_, held) => Looked::LetGo(held),
    })
}

impl Sql {
    /// Leases `guild`'s post of `week` to `owner` until `until`, if nobody
    /// else holds it: a new post ([`WeekPostClaim::Claimed`]), or an
    /// unfinished one whose lease has run out at `now`, was let go, or is
    /// already `owner`'s ([`WeekPostClaim::Unfinished`]). Otherwise it says
    /// the week is [`Finished`](WeekPostClaim::Finished) or
    /// [`Held`](WeekPostClaim::Held) by another owner, and changes nothing.
    ///
    /// Each step is one statement, so two processes can never both hold
    /// the post: only one INSERT of the row succeeds, and the UPDATE that
    /// takes an unfinished post over checks the lease in its own WHERE.
    pub async fn lease_week_post(
        &self,
        guild: GuildId,
        week: PrayerWeek,
        bulletin_id: i64,
        owner: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<WeekPostClaim, StorageError> {
        let lease = Lease {
            guild,
            week,
            bulletin_id,
            owner,
            until,
            now,
        };
        let mut held = None;
        // A second round only when the holder let go between the UPDATE
        // and the SELECT below.
        for _ in 0..2 {
            if insert_week_post(&self.pool, &lease).await? {
                return Ok(WeekPostClaim::Claimed);
            }
            if take_over_week_post(&self.pool, &lease).await? {
                return Ok(WeekPostClaim::Unfinished);
            }
            match look_at_week_post(&self.pool, &lease).await? {
                Looked::Settled(claim) => return Ok(claim),
                Looked::LetGo(lease_until) => held = lease_until,
            }
        }
        // Let go and taken again twice while we looked: someone is at it.
        Ok(WeekPostClaim::Held {
            until: held.unwrap_or(now),
        })
    }

    /// Extends `owner`'s lease of `guild`'s post of `week` to `until`.
    /// False when `owner` no longer holds it (another owner took it over
    /// after the lease ran out, or it is finished): the caller must then
    /// send nothing more. A lease that ran out but that nobody took over
    /// is still the owner's, so it is renewed.
    pub async fn renew_week_post(
        &self,
        guild: GuildId,
        week: PrayerWeek,
        owner: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let renewed = sqlx::query(
            "UPDATE week_posts SET lease_until = $1
             WHERE guild_id = $2 AND week = $3 AND owner = $4 AND finished_at IS NULL",
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

    /// Lets go of `owner`'s lease of an unfinished post (it stopped on an
    /// error, or the process is stopping), so the next post resumes it at
    /// once instead of waiting for the lease to run out. Does nothing if
    /// `owner` no longer holds it.
    pub async fn release_week_post(
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

    /// When the lease of whoever is posting `guild`'s week ends; `None`
    /// when nobody holds an unfinished post of it.
    pub async fn week_post_lease(
        &self,
        guild: GuildId,
        week: PrayerWeek,
    ) -> Result<Option<DateTime<Utc>>, StorageError> {
        let until: Option<Option<DateTime<Utc>>> = sqlx::query_scalar(
            "SELECT lease_until FROM week_posts
             WHERE guild_id = $1 AND week = $2 AND finished_at IS NULL AND owner IS NOT NULL",
        )
        .bind(guild)
        .bind(week.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(until.flatten())
    }

    /// Records a message of `guild`'s post of `week`, right after sending it.
    /// Recording the same message again (Discord answers a resent nonce with
    /// the message it already made) changes nothing.
    pub async fn record_posted_message(
        &self,
        guild: GuildId,
        week: PrayerWeek,
        message: PostedMessage,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO posted_messages (message_id, guild_id, week, channel_id, request_id, part, sent_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(message.message_id)
        .bind(guild)
        .bind(week.to_string())
        .bind(message.channel_id)
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
        guild: GuildId,
        week: PrayerWeek,
    ) -> Result<Vec<PostedMessage>, StorageError> {
        sqlx::query(
            "SELECT message_id, channel_id, request_id, part FROM posted_messages
             WHERE guild_id = $1 AND week = $2 ORDER BY message_id",
        )
        .bind(guild)
        .bind(week.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            let part: i64 = row.try_get("part")?;
            Ok(PostedMessage {
                message_id: row.try_get("message_id")?,
                channel_id: row.try_get("channel_id")?,
                request_id: row.try_get("request_id")?,
                part: u32::try_from(part)
                    .map_err(|_| StorageError::Corrupt(format!("message part {part}")))?,
            })
        })
        .collect()
    }

    /// Marks `guild`'s post of `week` complete, once every planned message
    /// is recorded, and lets go of its lease. It is complete whoever holds
    /// the lease, so this does not ask; finishing again keeps the first
    /// time.
    pub async fn finish_week_post(
        &self,
        guild: GuildId,
        week: PrayerWeek,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        // A problem noted for the week is solved once it is posted, by
        // whichever run: `/prayer status` stops showing it.
        let mut tx = self.begin_writing().await?;
        sqlx::query(
            "UPDATE week_posts
             SET finished_at = COALESCE(finished_at, $1), owner = NULL, lease_until = NULL
             WHERE guild_id = $2 AND week = $3",
        )
        .bind(now)
        .bind(guild)
        .bind(week.to_string())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM post_problems WHERE guild_id = $1 AND week = $2")
            .bind(guild)
            .bind(week.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// For the tests of the tables that refer to a post.
#[cfg(test)]
impl Sql {
    /// Begins `guild`'s post of `week` as a post does, held by a test owner
    /// for a minute.
    pub(crate) async fn claim_week_post(
        &self,
        guild: GuildId,
        week: PrayerWeek,
        bulletin_id: i64,
        now: DateTime<Utc>,
    ) -> Result<WeekPostClaim, StorageError> {
        let until = now + chrono::TimeDelta::minutes(1);
        self.lease_week_post(guild, week, bulletin_id, "test", until, now)
            .await
    }
}
