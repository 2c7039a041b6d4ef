//! The weekly posts: the claim and the lease that keep a week from being
//! posted twice, even by two processes on one database, and every message a
//! post sent.

use chrono::{DateTime, Utc};
use sqlx::{Row, SqlitePool};

use super::{StorageError, Store};
use crate::bulletins::week::PrayerWeek;
use crate::ids::{ChannelId, GuildId, MessageId, RequestId};

/// The state of a server's post of a week, as found when leasing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeekPostClaim {
    /// Nobody had begun posting this week; the caller now holds the post.
    Claimed,
    /// A post was begun and not finished, and nobody held it any more (its
    /// process died and the lease ran out, or it stopped and let go): the
    /// caller now holds it and resumes it, skipping what was already sent.
    Unfinished,
    /// The week has been posted.
    Finished,
    /// Another owner is posting the week; its lease runs until `until`
    /// unless it renews it.
    Held { until: DateTime<Utc> },
}

/// A message a weekly post sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostedMessage {
    pub message_id: MessageId,
    pub channel_id: ChannelId,
    /// `None` for a channel's header.
    pub request_id: Option<RequestId>,
    pub part: u32,
}

/// An instant as `week_posts.lease_until` holds it: UTC, always the same
/// width, so SQLite comparing the text compares the instants. sqlx's own
/// encoding leaves out a zero fraction (`…:05+00:00` beside
/// `…:05.250+00:00`), which does not compare so.
fn lease_time(instant: DateTime<Utc>) -> String {
    instant.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

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
async fn insert_week_post(pool: &SqlitePool, lease: &Lease<'_>) -> Result<bool, StorageError> {
    let inserted = sqlx::query(
        "INSERT INTO week_posts (guild_id, week, bulletin_id, started_at, owner, lease_until)
         VALUES (?, ?, ?, ?, ?, ?)
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
async fn take_over_week_post(pool: &SqlitePool, lease: &Lease<'_>) -> Result<bool, StorageError> {
    let taken = sqlx::query(
        "UPDATE week_posts SET owner = ?, lease_until = ?
         WHERE guild_id = ? AND week = ? AND finished_at IS NULL
           AND (owner IS NULL OR lease_until IS NULL OR lease_until < ? OR owner = ?)",
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
async fn look_at_week_post(pool: &SqlitePool, lease: &Lease<'_>) -> Result<Looked, StorageError> {
    let row = sqlx::query(
        "SELECT finished_at, owner, lease_until FROM week_posts
         WHERE guild_id = ? AND week = ?",
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

impl Store {
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
            "UPDATE week_posts SET lease_until = ?
             WHERE guild_id = ? AND week = ? AND owner = ? AND finished_at IS NULL",
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
             WHERE guild_id = ? AND week = ? AND owner = ?",
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
             WHERE guild_id = ? AND week = ? AND finished_at IS NULL AND owner IS NOT NULL",
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
             VALUES (?, ?, ?, ?, ?, ?, ?)
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
             WHERE guild_id = ? AND week = ? ORDER BY rowid",
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
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE week_posts
             SET finished_at = COALESCE(finished_at, ?), owner = NULL, lease_until = NULL
             WHERE guild_id = ? AND week = ?",
        )
        .bind(now)
        .bind(guild)
        .bind(week.to_string())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM post_problems WHERE guild_id = ? AND week = ?")
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
impl Store {
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

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::ids::{ChannelId, GuildId, MessageId};
    use crate::storage::fixtures::*;
    use chrono::TimeDelta;

    const LEASE: TimeDelta = TimeDelta::seconds(60);

    async fn stored_week(store: &Store) -> Result<(PrayerWeek, i64), StorageError> {
        let w = week("2026-11-23");
        put(store, Scope::Shared, ONE, Placement::Exactly(w)).await?;
        let stored = store.week(Scope::Guild(GUILD), w).await?.expect("stored");
        Ok((w, stored.bulletin_id))
    }

    #[tokio::test]
    async fn a_week_post_is_claimed_once_and_its_messages_recorded() -> Result<(), StorageError> {
        let store = store().await;
        let (w, bulletin) = stored_week(&store).await?;
        let stored = store.week(Scope::Guild(GUILD), w).await?.expect("stored");
        let until = now() + LEASE;
        assert_eq!(
            store
                .lease_week_post(GUILD, w, bulletin, "a", until, now())
                .await?,
            WeekPostClaim::Claimed
        );
        assert_eq!(
            store
                .lease_week_post(GUILD, w, bulletin, "a", until, now())
                .await?,
            WeekPostClaim::Unfinished,
            "the owner may take its own post again"
        );
        let message = PostedMessage {
            message_id: MessageId::try_new(u64::MAX - 1).expect("ids are not 0"),
            channel_id: ChannelId::of::<42>(),
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
        assert_eq!(store.week_post_lease(GUILD, w).await?, None);
        for owner in ["a", "b"] {
            assert_eq!(
                store
                    .lease_week_post(GUILD, w, bulletin, owner, until, now())
                    .await?,
                WeekPostClaim::Finished
            );
        }
        assert!(!store.renew_week_post(GUILD, w, "a", until).await?);
        assert_eq!(
            store
                .lease_week_post(GuildId::of::<7>(), w, bulletin, "a", until, now())
                .await?,
            WeekPostClaim::Claimed
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_second_owner_gets_the_post_only_once_the_first_ones_lease_has_run_out()
    -> Result<(), StorageError> {
        let store = store().await;
        let (w, bulletin) = stored_week(&store).await?;
        let t0 = now();
        let lease = |owner, at: DateTime<Utc>| {
            store.lease_week_post(GUILD, w, bulletin, owner, at + LEASE, at)
        };
        assert_eq!(lease("a", t0).await?, WeekPostClaim::Claimed);
        let held = WeekPostClaim::Held { until: t0 + LEASE };
        assert_eq!(lease("b", t0).await?, held);
        assert_eq!(store.week_post_lease(GUILD, w).await?, Some(t0 + LEASE));
        // Up to the last instant of the lease, it is still a's.
        assert_eq!(lease("b", t0 + LEASE).await?, held);
        // a renews between messages: b still waits, past the first lease.
        let later = t0 + LEASE - TimeDelta::seconds(1);
        assert!(store.renew_week_post(GUILD, w, "a", later + LEASE).await?);
        assert_eq!(
            lease("b", t0 + LEASE + TimeDelta::milliseconds(1)).await?,
            WeekPostClaim::Held {
                until: later + LEASE
            }
        );
        // a stops renewing (its process died): once the lease is over, b
        // takes the unfinished post over, and a can no longer renew.
        let over = later + LEASE + TimeDelta::milliseconds(1);
        assert_eq!(lease("b", over).await?, WeekPostClaim::Unfinished);
        assert!(!store.renew_week_post(GUILD, w, "a", over + LEASE).await?);
        assert_eq!(
            lease("a", over).await?,
            WeekPostClaim::Held {
                until: over + LEASE
            }
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_released_post_is_resumed_at_once_by_the_next_owner() -> Result<(), StorageError> {
        let store = store().await;
        let (w, bulletin) = stored_week(&store).await?;
        let until = now() + LEASE;
        store
            .lease_week_post(GUILD, w, bulletin, "a", until, now())
            .await?;
        // Only the holder can let go.
        store.release_week_post(GUILD, w, "b").await?;
        assert!(matches!(
            store
                .lease_week_post(GUILD, w, bulletin, "b", until, now())
                .await?,
            WeekPostClaim::Held { .. }
        ));
        store.release_week_post(GUILD, w, "a").await?;
        assert_eq!(store.week_post_lease(GUILD, w).await?, None);
        assert_eq!(
            store
                .lease_week_post(GUILD, w, bulletin, "b", until, now())
                .await?,
            WeekPostClaim::Unfinished
        );
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn of_many_owners_in_two_processes_claiming_at_once_exactly_one_gets_the_post()
    -> Result<(), StorageError> {
        let dir = tempfile::tempdir().map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let path = dir.path().join("prayer.db");
        let location = path.to_str().unwrap_or_default();
        // Two pools on one file, as two bot processes would have.
        let stores = [Store::open(location).await?, Store::open(location).await?];
        let (w, bulletin) = stored_week(&stores[0]).await?;
        for round in 0..2 {
            let at = now() + TimeDelta::minutes(10) * round;
            let tasks: Vec<_> = (0..8)
                .map(|i| {
                    let store = stores[i % 2].clone();
                    tokio::spawn(async move {
                        store
                            .lease_week_post(GUILD, w, bulletin, &format!("{i}"), at + LEASE, at)
                            .await
                    })
                })
                .collect();
            let mut claims = Vec::new();
            for task in tasks {
                claims.push(
                    task.await
                        .map_err(|e| StorageError::Corrupt(e.to_string()))??,
                );
            }
            let won = claims
                .iter()
                .filter(|c| matches!(c, WeekPostClaim::Claimed | WeekPostClaim::Unfinished))
                .count();
            assert_eq!(won, 1, "round {round}: {claims:?}");
            assert_eq!(
                claims
                    .iter()
                    .filter(|c| **c == WeekPostClaim::Held { until: at + LEASE })
                    .count(),
                7,
                "{claims:?}"
            );
        }
        for store in stores {
            store.close().await;
        }
        Ok(())
    }
}
