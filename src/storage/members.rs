//! Members' own requests: each is a row of `requests` in its server's
//! container for the week (a `bulletins` row of kind 'members'), with a
//! `member_requests` row saying who asked (openly, or only by hash) and
//! whether it was withdrawn.

use crate::bulletins::week::PrayerWeek;
use crate::ids::{GuildId, RequestId, UserId};
use crate::members::StoredAuthor;
use chrono::{DateTime, Utc};

/// A request a member adds: its text and region, the weeks it runs, and
/// who asked.
#[derive(Debug, Clone, Copy)]
pub struct NewMemberRequest<'a> {
    pub guild: GuildId,
    /// In order, the first being the week it is added in.
    pub weeks: &'a [PrayerWeek],
    pub region: &'a str,
    pub text: &'a str,
    pub author: UserId,
    pub anonymous: bool,
    pub now: DateTime<Utc>,
}

/// A member's request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRequest {
    pub id: RequestId,
    /// The first request of the same `add`: one series runs several weeks.
    pub series: RequestId,
    pub week: PrayerWeek,
    pub author: StoredAuthor,
    pub withdrawn: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::members::{GROUP_TITLE, PER_WEEK_LIMIT};
    use crate::storage::fixtures::*;

    const ANA: UserId = UserId::of::<11>();
    const BEN: UserId = UserId::of::<12>();

    fn asked<'a>(weeks: &'a [PrayerWeek], text: &'a str, anonymous: bool) -> NewMemberRequest<'a> {
        NewMemberRequest {
            guild: GUILD,
            weeks,
            region: "Our group",
            text,
            author: ANA,
            anonymous,
            now: now(),
        }
    }

    #[tokio::test]
    async fn a_members_request_sits_beside_the_shared_bulletin_and_never_takes_its_week()
    -> Result<(), StorageError> {
        let store = store().await;
        let w = week("2026-11-23");
        let ids = posted(&store).await?;
        let weeks = [w, w.next()];
        let added = store
            .add_member_request(
                &asked(&weeks, "Pray for Ana's exam.", false),
                PER_WEEK_LIMIT,
            )
            .await?
            .expect("added");
        assert_eq!(added.iter().map(|a| a.0).collect::<Vec<_>>(), weeks);
        // The week shows the bulletin, then the member's request, labelled.
        let stored = store.week(Scope::Guild(GUILD), w).await?.expect("the week");
        assert_eq!(stored.bulletin.title, "IJM Prayer Requests");
        let last = stored.bulletin.requests.last().expect("requests");
        assert_eq!(last.text, "Pray for Ana's exam.\n— asked by <@11>");
        assert_eq!(stored.request_ids.last(), Some(&added[0].1));
        assert_eq!(stored.request_ids.len(), ids.len() + 1);
        // Another server sees none of it; the shared scope neither.
        let other = GuildId::of::<77>();
        let theirs = store
            .week(Scope::Guild(other), w)
            .await?
            .expect("shared week");
        assert_eq!(theirs.request_ids, ids);
        assert!(store.guild_request(other, added[0].1).await?.is_none());
        // It is no bulletin: the next week still has none to post, and a
        // server's own import still lands there.
        assert_eq!(
            store
                .first_week_with_bulletin(Scope::Guild(GUILD), w.next())
                .await?,
            None
        );
        let next = store
            .week(Scope::Guild(GUILD), w.next())
            .await?
            .expect("members only");
        assert_eq!(next.bulletin.title, GROUP_TITLE);
        put(
            &store,
            Scope::Guild(GUILD),
            TWO,
            Placement::Exactly(w.next()),
        )
        .await?;
        let next = store
            .week(Scope::Guild(GUILD), w.next())
            .await?
            .expect("both");
        assert_eq!(next.bulletin.requests.len(), 2, "{next:?}");
        // Counted in the week's tracking like any request.
        store
            .mark(
                GUILD,
                added[0].1,
                BEN,
                crate::tracking::Source::Commit,
                now(),
            )
            .await?;
        let tracking = store.week_tracking(GUILD, w).await?;
        assert!(tracking.marks.iter().any(|m| m.request == added[0].1));
        Ok(())
    }

    #[tokio::test]
    async fn the_per_week_limit_counts_anonymous_requests_and_withdrawal_hides_a_series()
    -> Result<(), StorageError> {
        let store = store().await;
        let w = week("2026-11-23");
        posted(&store).await?;
        let weeks = [w, w.next()];
        let first = store
            .add_member_request(&asked(&weeks, "One.", true), 2)
            .await?
            .expect("added");
        let found = store
            .member_request(GUILD, first[0].1)
            .await?
            .expect("stored");
        assert_eq!(
            found.author.author, None,
            "no id kept for an anonymous request"
        );
        assert!(found.author.is(GUILD, ANA) && !found.author.is(GUILD, BEN));
        store
            .add_member_request(&asked(&weeks[..1], "Two.", false), 2)
            .await?
            .expect("added");
        assert_eq!(
            store
                .add_member_request(&asked(&weeks[..1], "Three.", false), 2)
                .await?,
            None
        );
        store
            .withdraw_member_series(GUILD, found.series, false, now())
            .await?;
        for (week, id) in first {
            assert!(store.guild_request(GUILD, id).await?.is_none(), "{week}");
        }
        let stored = store.week(Scope::Guild(GUILD), w).await?.expect("the week");
        assert!(
            !stored
                .bulletin
                .requests
                .iter()
                .any(|r| r.text.starts_with("One."))
        );
        assert_eq!(store.member_requests_by(GUILD, ANA).await?.len(), 3);
        store.erase_member_requests(GUILD, ANA).await?;
        assert!(store.member_requests_by(GUILD, ANA).await?.is_empty());
        Ok(())
    }

    #[tokio::test]
    async fn the_rebuild_keeps_every_bulletin_request_mark_and_post_of_an_older_database()
    -> Result<(), StorageError> {
        let dir = tempfile::tempdir().map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let old = dir.path().join("old-migrations");
        std::fs::create_dir(&old).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
        for entry in std::fs::read_dir(&source).map_err(|e| StorageError::Corrupt(e.to_string()))? {
            let path = entry
                .map_err(|e| StorageError::Corrupt(e.to_string()))?
                .path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if name < "20261205000600" {
                std::fs::copy(&path, old.join(name))
                    .map_err(|e| StorageError::Corrupt(e.to_string()))?;
            }
        }
        let db = dir.path().join("prayer.db");
        let location = db.to_str().unwrap_or_default().to_owned();
        {
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&db)
                .create_if_missing(true)
                .foreign_keys(true);
            let pool = sqlx::SqlitePool::connect_with(options).await?;
            let migrator = sqlx::migrate::Migrator::new(old.as_path())
                .await
                .map_err(|e| StorageError::Corrupt(e.to_string()))?;
            migrator
                .run(&pool)
                .await
                .map_err(|e| StorageError::Corrupt(e.to_string()))?;
            for statement in [
                "INSERT INTO bulletins (id, guild_id, week, hash, title, source, imported_at)
                 VALUES (7, 0, '2026-11-23', 'h', 'Old', 'test', '2026-11-20T00:00:00Z')",
                "INSERT INTO requests (id, bulletin_id, position, region, kind, text, countries)
                 VALUES (70, 7, 0, 'Africa', 'petition', 'Pray for Kenya.', '[]')",
                "INSERT INTO prayer_marks (guild_id, request_id, user_id, kind, marked_at)
                 VALUES (5, 70, 11, 'commit', '2026-11-24T00:00:00Z')",
                "INSERT INTO week_posts (guild_id, week, bulletin_id, started_at)
                 VALUES (5, '2026-11-23', 7, '2026-11-23T09:00:00Z')",
                "INSERT INTO posted_messages (message_id, guild_id, week, channel_id, request_id, part, sent_at)
                 VALUES (500, 5, '2026-11-23', 42, 70, 0, '2026-11-23T09:00:01Z')",
            ] {
                sqlx::query(statement).execute(&pool).await?;
            }
            pool.close().await;
        }
        let store = Store::open(&location).await?;
        let guild = GuildId::of::<5>();
        let stored = store
            .week(Scope::Guild(guild), week("2026-11-23"))
            .await?
            .expect("the old bulletin");
        assert_eq!(stored.bulletin.requests[0].text, "Pray for Kenya.");
        assert_eq!(store.marks(guild, &stored.request_ids).await?.len(), 1);
        assert_eq!(
            store
                .posted_messages(guild, week("2026-11-23"))
                .await?
                .len(),
            1
        );
        let broken: Vec<(String,)> =
            sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
                .fetch_all(store.sqlite().expect("a SQLite store"))
                .await?;
        assert!(broken.is_empty(), "{broken:?}");
        Ok(())
    }
}
