//! Bulletins, their requests and their notes: importing one whole or not at
//! all, and reading a week back.

use crate::bulletins::parse::Bulletin;
use crate::bulletins::week::{Placement, PrayerWeek};
use crate::ids::RequestId;
use chrono::{DateTime, Utc};

/// What importing a bulletin did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Stored for `week`; `replaced` names the bulletin that held it before.
    Added {
        week: PrayerWeek,
        replaced: Option<String>,
    },
    /// The same bulletin is already stored, for `week`; nothing changed.
    AlreadyImported { week: PrayerWeek },
    /// `week` holds another bulletin that has already been posted; nothing
    /// changed. Importing with `force` replaces it.
    AlreadyPosted { week: PrayerWeek },
    /// The same bulletin was stored for `from`, not yet posted; the admin
    /// named `to`, and it is now stored there instead (the same rows, so
    /// its request ids stay). `replaced` names the bulletin `to` held.
    Moved {
        from: PrayerWeek,
        to: PrayerWeek,
        replaced: Option<String>,
    },
    /// The same bulletin is stored for `week` and cannot leave it for the
    /// week the admin named (`named`); nothing changed. A bulletin lands in
    /// one week, so its requests are never posted twice.
    HeldElsewhere {
        week: PrayerWeek,
        named: PrayerWeek,
        held: Held,
    },
}

/// What keeps a bulletin in the week it is stored for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// That week has been posted, by some server.
    Posted,
    /// It is the bulletin every server shares, which one server's import
    /// does not move.
    Shared,
}

/// A week's bulletin as stored, with the ids later events refer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredWeek {
    pub week: PrayerWeek,
    pub bulletin_id: i64,
    pub bulletin: Bulletin,
    /// The id of each of `bulletin.requests`, in the same order.
    pub request_ids: Vec<RequestId>,
}

/// The facts of one import: the bulletin, where it goes, and how.
#[derive(Debug, Clone, Copy)]
pub struct BulletinImport<'a> {
    pub bulletin: &'a Bulletin,
    /// What tells the same bulletin imported again.
    pub fingerprint: &'a str,
    pub placement: Placement,
    /// The admin named the week (`placement` is then that week).
    pub named: bool,
    /// Replace a week's bulletin even if it has been posted.
    pub force: bool,
    /// Where the bulletin came from (a file name).
    pub source: &'a str,
    pub now: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::ids::GuildId;
    use crate::storage::fixtures::*;

    /// Imports [`ONE`] for `scope`, into `week` when named.
    async fn again(
        store: &Store,
        scope: Scope,
        named: Option<PrayerWeek>,
    ) -> Result<ImportOutcome, StorageError> {
        let b = bulletin(ONE);
        let placement = match named {
            Some(week) => Placement::Exactly(week),
            None => Placement::FirstFreeFrom(week("2026-11-23")),
        };
        let import = BulletinImport {
            bulletin: &b,
            fingerprint: &b.fingerprint(),
            placement,
            named: named.is_some(),
            force: false,
            source: "again",
            now: now(),
        };
        store.import_to(scope, &import).await
    }

    #[tokio::test]
    async fn a_bulletin_lands_in_one_week_and_moves_only_when_named_and_not_posted()
    -> Result<(), StorageError> {
        let store = store().await;
        let (a, b, c) = (week("2026-11-23"), week("2026-11-30"), week("2026-12-07"));
        put(&store, Scope::Shared, ONE, Placement::Exactly(a)).await?;
        let ids = store
            .week(Scope::Shared, a)
            .await?
            .expect("stored")
            .request_ids;
        let guild = Scope::Guild(GUILD);
        // A server importing the shared bulletin again adds nothing: it is
        // there already (before, it was stored again for the next week).
        assert_eq!(
            again(&store, guild, None).await?,
            ImportOutcome::AlreadyImported { week: a }
        );
        assert_eq!(
            again(&store, guild, Some(b)).await?,
            ImportOutcome::HeldElsewhere {
                week: a,
                named: b,
                held: Held::Shared
            }
        );
        assert_eq!(store.week(guild, b).await?, None);
        // Named for another week, not yet posted: it moves, ids and all.
        assert_eq!(
            again(&store, Scope::Shared, Some(b)).await?,
            ImportOutcome::Moved {
                from: a,
                to: b,
                replaced: None
            }
        );
        assert_eq!(store.week(Scope::Shared, a).await?, None);
        let moved = store.week(Scope::Shared, b).await?.expect("moved");
        assert_eq!(moved.request_ids, ids);
        assert_eq!(store.bulletin_count().await?, 1);
        // Once posted, it stays.
        store
            .claim_week_post(GUILD, b, moved.bulletin_id, now())
            .await?;
        assert_eq!(
            again(&store, Scope::Shared, Some(c)).await?,
            ImportOutcome::HeldElsewhere {
                week: b,
                named: c,
                held: Held::Posted
            }
        );
        assert_eq!(
            again(&store, Scope::Shared, None).await?,
            ImportOutcome::AlreadyImported { week: b }
        );
        assert_eq!(store.week(Scope::Shared, c).await?, None);
        assert_eq!(store.bulletin_count().await?, 1);
        Ok(())
    }

    #[tokio::test]
    async fn a_stored_week_reads_back_as_it_was_parsed_in_order() -> Result<(), StorageError> {
        let store = store().await;
        let w = week("2026-11-23");
        let outcome = put(&store, Scope::Shared, ONE, Placement::Exactly(w)).await?;
        assert_eq!(
            outcome,
            ImportOutcome::Added {
                week: w,
                replaced: None
            }
        );
        let stored = store
            .week(Scope::Shared, w)
            .await?
            .expect("the week has its bulletin");
        assert_eq!(stored.bulletin, bulletin(ONE));
        assert_eq!(stored.request_ids.len(), 2);
        assert!(stored.request_ids[0] < stored.request_ids[1]);
        Ok(())
    }

    #[tokio::test]
    async fn reimporting_the_same_bulletin_adds_nothing() -> Result<(), StorageError> {
        let store = store().await;
        let w = week("2026-11-23");
        put(&store, Scope::Shared, ONE, Placement::FirstFreeFrom(w)).await?;
        let again = put(&store, Scope::Shared, ONE, Placement::FirstFreeFrom(w)).await?;
        assert_eq!(again, ImportOutcome::AlreadyImported { week: w });
        assert_eq!(store.bulletin_count().await?, 1);
        Ok(())
    }

    #[tokio::test]
    async fn undated_bulletins_fill_the_following_free_weeks() -> Result<(), StorageError> {
        let store = store().await;
        let start = week("2026-11-23");
        put(
            &store,
            Scope::Shared,
            "IJM Prayer Requests\n\nAsia\n• Pray for Nepal.\n",
            Placement::Exactly(week("2026-11-30")),
        )
        .await?;
        let first = put(
            &store,
            Scope::Guild(GUILD),
            ONE,
            Placement::FirstFreeFrom(start),
        )
        .await?;
        let second = put(
            &store,
            Scope::Guild(GUILD),
            TWO,
            Placement::FirstFreeFrom(start),
        )
        .await?;
        assert_eq!(
            first,
            ImportOutcome::Added {
                week: start,
                replaced: None
            }
        );
        assert_eq!(
            second,
            ImportOutcome::Added {
                week: week("2026-12-07"),
                replaced: None
            }
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_new_bulletin_for_a_taken_week_replaces_the_old_one() -> Result<(), StorageError> {
        let store = store().await;
        let w = week("2026-11-23");
        put(&store, Scope::Shared, ONE, Placement::Exactly(w)).await?;
        let outcome = put(&store, Scope::Shared, TWO, Placement::Exactly(w)).await?;
        assert_eq!(
            outcome,
            ImportOutcome::Added {
                week: w,
                replaced: Some("IJM Prayer Requests".into())
            }
        );
        let stored = store
            .week(Scope::Shared, w)
            .await?
            .expect("the week has its bulletin");
        assert_eq!(stored.bulletin.requests.len(), 1);
        assert_eq!(store.bulletin_count().await?, 1);
        let leftover: i64 = on_pool!(store, pool => {
            sqlx::query_scalar("SELECT count(*) FROM requests")
                .fetch_one(pool)
                .await?
        });
        assert_eq!(leftover, 1, "the old bulletin's requests went with it");
        Ok(())
    }

    #[tokio::test]
    async fn a_posted_week_is_replaced_only_when_forced() -> Result<(), StorageError> {
        let store = store().await;
        let w = week("2026-11-23");
        put(&store, Scope::Guild(GUILD), ONE, Placement::Exactly(w)).await?;
        let stored = store.week(Scope::Guild(GUILD), w).await?.expect("stored");
        store
            .claim_week_post(GUILD, w, stored.bulletin_id, now())
            .await?;
        let refused = put(&store, Scope::Guild(GUILD), TWO, Placement::Exactly(w)).await?;
        assert_eq!(refused, ImportOutcome::AlreadyPosted { week: w });
        assert_eq!(
            store
                .week(Scope::Guild(GUILD), w)
                .await?
                .map(|s| s.bulletin_id),
            Some(stored.bulletin_id)
        );
        let b = bulletin(TWO);
        let forced = store
            .import_to(
                Scope::Guild(GUILD),
                &BulletinImport {
                    bulletin: &b,
                    fingerprint: &b.fingerprint(),
                    placement: Placement::Exactly(w),
                    named: false,
                    force: true,
                    source: "t",
                    now: now(),
                },
            )
            .await?;
        assert!(matches!(
            forced,
            ImportOutcome::Added {
                replaced: Some(_),
                ..
            }
        ));
        Ok(())
    }

    #[tokio::test]
    async fn a_server_that_posted_the_shared_bulletin_cannot_replace_its_week()
    -> Result<(), StorageError> {
        let store = store().await;
        let w = week("2026-11-23");
        put(&store, Scope::Shared, ONE, Placement::Exactly(w)).await?;
        let shared = store.week(Scope::Guild(GUILD), w).await?.expect("stored");
        store
            .claim_week_post(GUILD, w, shared.bulletin_id, now())
            .await?;
        let refused = put(&store, Scope::Guild(GUILD), TWO, Placement::Exactly(w)).await?;
        assert_eq!(refused, ImportOutcome::AlreadyPosted { week: w });
        let seen = store
            .week(Scope::Guild(GUILD), w)
            .await?
            .expect("still there");
        assert_eq!(
            seen.bulletin_id, shared.bulletin_id,
            "the posted week is what it shows"
        );
        // Another server, which has not posted the week, may still import its own.
        let other = put(
            &store,
            Scope::Guild(GuildId::of::<1_234_567_890_123_456_790>()),
            TWO,
            Placement::Exactly(w),
        )
        .await?;
        assert!(matches!(other, ImportOutcome::Added { .. }), "{other:?}");
        Ok(())
    }

    #[tokio::test]
    async fn a_server_sees_its_own_bulletin_before_the_shared_one() -> Result<(), StorageError> {
        let store = store().await;
        let w = week("2026-11-23");
        put(&store, Scope::Shared, ONE, Placement::Exactly(w)).await?;
        put(&store, Scope::Guild(GUILD), TWO, Placement::Exactly(w)).await?;
        let own = store.week(Scope::Guild(GUILD), w).await?.expect("own");
        let other = store
            .week(Scope::Guild(GuildId::of::<7>()), w)
            .await?
            .expect("shared");
        assert_eq!(own.bulletin, bulletin(TWO));
        assert_eq!(other.bulletin, bulletin(ONE));
        Ok(())
    }

    #[tokio::test]
    async fn the_first_week_with_a_bulletin_is_found_from_any_week() -> Result<(), StorageError> {
        let store = store().await;
        let from = week("2026-11-23");
        assert_eq!(
            store.first_week_with_bulletin(Scope::Shared, from).await?,
            None
        );
        put(
            &store,
            Scope::Shared,
            ONE,
            Placement::Exactly(week("2026-12-07")),
        )
        .await?;
        assert_eq!(
            store
                .first_week_with_bulletin(Scope::Guild(GUILD), from)
                .await?,
            Some(week("2026-12-07"))
        );
        assert_eq!(
            store
                .first_week_with_bulletin(Scope::Shared, week("2026-12-14"))
                .await?,
            None
        );
        Ok(())
    }
}
