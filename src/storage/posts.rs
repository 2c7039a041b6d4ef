//! The weekly posts: the claim and the lease that keep a week from being
//! posted twice, even by two processes on one database, and every message a
//! post sent.

use crate::ids::{ChannelId, MessageId, RequestId};
use chrono::{DateTime, Utc};

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
