//! Members' own requests: each is a row of `requests` in its server's
//! container for the week (a `bulletins` row of kind 'members'), with a
//! `member_requests` row saying who asked (openly, or only by hash) and
//! whether it was withdrawn.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{StorageError, Store, parse_week};
use crate::bulletins::week::PrayerWeek;
use crate::ids::{ChannelId, GuildId, MessageId, RequestId, UserId};
use crate::members::{GROUP_TITLE, StoredAuthor, author_hash};

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

/// The columns a [`MemberRequest`] is read from.
macro_rules! select_member {
    () => {
        "SELECT m.request_id, m.series, m.author_id, m.author_salt, m.author_hash,
                m.withdrawn_at IS NOT NULL AS withdrawn, b.week
         FROM member_requests AS m
         JOIN requests AS r ON r.id = m.request_id
         JOIN bulletins AS b ON b.id = r.bulletin_id"
    };
}

impl Store {
    /// Adds `new` as one request per week it runs, in one transaction;
    /// `None` (nothing added) when its author already added `limit` in the
    /// first week in this server. Returns each week's request id.
    pub async fn add_member_request(
        &self,
        new: &NewMemberRequest<'_>,
        limit: usize,
    ) -> Result<Option<Vec<(PrayerWeek, RequestId)>>, StorageError> {
        let Some(&first) = new.weeks.first() else {
            return Ok(Some(Vec::new()));
        };
        // IMMEDIATE: two adds by one member at once count each other.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let earlier = week_requests(&mut tx, new.guild, first).await?;
        let by_author = earlier
            .iter()
            .filter(|r| r.author.is(new.guild, new.author))
            .count();
        if by_author >= limit {
            return Ok(None);
        }
        let salt: Vec<u8> = sqlx::query_scalar("SELECT randomblob(16)")
            .fetch_one(&mut *tx)
            .await?;
        let hash = author_hash(&salt, new.guild, new.author);
        let mut added = Vec::with_capacity(new.weeks.len());
        for &week in new.weeks {
            let container = container(&mut tx, new.guild, week, new.now).await?;
            let id: RequestId = sqlx::query_scalar(
                "INSERT INTO requests (bulletin_id, position, region, kind, text, countries)
                 VALUES (?1, (SELECT COALESCE(MAX(position) + 1, 0) FROM requests
                              WHERE bulletin_id = ?1), ?2, 'petition', ?3, '[]')
                 RETURNING id",
            )
            .bind(container)
            .bind(new.region)
            .bind(new.text)
            .fetch_one(&mut *tx)
            .await?;
            let series = added.first().map_or(id, |(_, first)| *first);
            sqlx::query(
                "INSERT INTO member_requests
                     (request_id, guild_id, series, author_id, author_salt, author_hash, created_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(new.guild.to_sql())
            .bind(series)
            .bind((!new.anonymous).then(|| new.author.to_sql()))
            .bind(&salt)
            .bind(hash.as_slice())
            .bind(new.now)
            .execute(&mut *tx)
            .await?;
            added.push((week, id));
        }
        tx.commit().await?;
        Ok(Some(added))
    }

    /// `request`, if it is a member's request of `guild`.
    pub async fn member_request(
        &self,
        guild: GuildId,
        request: RequestId,
    ) -> Result<Option<MemberRequest>, StorageError> {
        let row = sqlx::query(concat!(
            select_member!(),
            " WHERE m.guild_id = ? AND m.request_id = ?"
        ))
        .bind(guild.to_sql())
        .bind(request.get())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(member_from_row).transpose()
    }

    /// Every request `user` asked in `guild`, openly or anonymously.
    pub async fn member_requests_by(
        &self,
        guild: GuildId,
        user: UserId,
    ) -> Result<Vec<MemberRequest>, StorageError> {
        let rows = sqlx::query(concat!(
            select_member!(),
            " WHERE m.guild_id = ? ORDER BY m.request_id"
        ))
        .bind(guild.to_sql())
        .fetch_all(&self.pool)
        .await?;
        let mut found = Vec::new();
        for row in &rows {
            let request = member_from_row(row)?;
            if request.author.is(guild, user) {
                found.push(request);
            }
        }
        Ok(found)
    }

    /// Marks every request of `series` in `guild` withdrawn (by its author
    /// or an admin); returns the messages they were posted in, to edit.
    pub async fn withdraw_member_series(
        &self,
        guild: GuildId,
        series: RequestId,
        by_admin: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<(ChannelId, MessageId)>, StorageError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE member_requests SET withdrawn_at = ?, withdrawn_by = ?
             WHERE guild_id = ? AND series = ? AND withdrawn_at IS NULL",
        )
        .bind(now)
        .bind(if by_admin { "admin" } else { "author" })
        .bind(guild.to_sql())
        .bind(series.get())
        .execute(&mut *tx)
        .await?;
        let posts = series_posts(&mut tx, guild, series).await?;
        tx.commit().await?;
        Ok(posts)
    }

    /// Deletes the requests of `series` in `guild` and their records of
    /// posts: an add that Discord refused to post, taken back.
    pub async fn delete_member_series(
        &self,
        guild: GuildId,
        series: RequestId,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM posted_messages WHERE guild_id = ?1 AND request_id IN
                 (SELECT request_id FROM member_requests WHERE guild_id = ?1 AND series = ?2)",
        )
        .bind(guild.to_sql())
        .bind(series.get())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM requests WHERE id IN
                 (SELECT request_id FROM member_requests WHERE guild_id = ? AND series = ?)",
        )
        .bind(guild.to_sql())
        .bind(series.get())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes `user`'s requests in `guild` (for forget-me), with the marks
    /// and praises' links on them; returns the messages they were posted
    /// in, to edit.
    pub async fn erase_member_requests(
        &self,
        guild: GuildId,
        user: UserId,
    ) -> Result<Vec<(ChannelId, MessageId)>, StorageError> {
        let theirs = self.member_requests_by(guild, user).await?;
        let mut tx = self.pool.begin().await?;
        let mut posts = Vec::new();
        for request in &theirs {
            posts.extend(request_posts(&mut tx, guild, request.id).await?);
            sqlx::query("DELETE FROM requests WHERE id = ?")
                .bind(request.id.get())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(posts)
    }
}

fn member_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<MemberRequest, StorageError> {
    let week: String = row.try_get("week")?;
    Ok(MemberRequest {
        id: row.try_get("request_id")?,
        series: row.try_get("series")?,
        week: parse_week(&week)?,
        author: StoredAuthor {
            author: row.try_get("author_id")?,
            salt: row.try_get("author_salt")?,
            hash: row.try_get("author_hash")?,
        },
        withdrawn: row.try_get("withdrawn")?,
    })
}

/// The members' requests of `guild` in `week`, withdrawn ones too.
async fn week_requests(
    tx: &mut sqlx::SqliteConnection,
    guild: GuildId,
    week: PrayerWeek,
) -> Result<Vec<MemberRequest>, StorageError> {
    sqlx::query(concat!(
        select_member!(),
        " WHERE m.guild_id = ? AND b.week = ? AND b.kind = 'members'"
    ))
    .bind(guild.to_sql())
    .bind(week.to_string())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(member_from_row)
    .collect()
}

/// The id of `guild`'s container of members' requests for `week`, made if
/// need be.
async fn container(
    tx: &mut sqlx::SqliteConnection,
    guild: GuildId,
    week: PrayerWeek,
    now: DateTime<Utc>,
) -> Result<i64, StorageError> {
    sqlx::query(
        "INSERT INTO bulletins (guild_id, week, hash, title, source, imported_at, kind)
         VALUES (?1, ?2, 'members ' || ?2, ?3, 'members', ?4, 'members')
         ON CONFLICT DO NOTHING",
    )
    .bind(guild.to_sql())
    .bind(week.to_string())
    .bind(GROUP_TITLE)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(sqlx::query_scalar(
        "SELECT id FROM bulletins WHERE guild_id = ? AND week = ? AND kind = 'members'",
    )
    .bind(guild.to_sql())
    .bind(week.to_string())
    .fetch_one(&mut *tx)
    .await?)
}

async fn series_posts(
    tx: &mut sqlx::SqliteConnection,
    guild: GuildId,
    series: RequestId,
) -> Result<Vec<(ChannelId, MessageId)>, StorageError> {
    sqlx::query(
        "SELECT p.channel_id, p.message_id FROM posted_messages AS p
         JOIN member_requests AS m ON m.request_id = p.request_id
         WHERE p.guild_id = ?1 AND m.guild_id = ?1 AND m.series = ?2 ORDER BY p.rowid",
    )
    .bind(guild.to_sql())
    .bind(series.get())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|row| Ok((row.try_get("channel_id")?, row.try_get("message_id")?)))
    .collect()
}

async fn request_posts(
    tx: &mut sqlx::SqliteConnection,
    guild: GuildId,
    request: RequestId,
) -> Result<Vec<(ChannelId, MessageId)>, StorageError> {
    sqlx::query(
        "SELECT channel_id, message_id FROM posted_messages
         WHERE guild_id = ? AND request_id = ? ORDER BY rowid",
    )
    .bind(guild.to_sql())
    .bind(request.get())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|row| Ok((row.try_get("channel_id")?, row.try_get("message_id")?)))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::members::PER_WEEK_LIMIT;
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
        let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
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
                .fetch_all(&store.pool)
                .await?;
        assert!(broken.is_empty(), "{broken:?}");
        Ok(())
    }
}
