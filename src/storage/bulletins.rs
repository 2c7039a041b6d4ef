//! Bulletins, their requests and their notes: importing one whole or not at
//! all, and reading a week back.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};

use super::{Scope, StorageError, Store, parse_week};
use crate::bulletins::parse::{Bulletin, Kind, Note, PrayerRequest, Verse};
use crate::bulletins::week::{Placement, PrayerWeek, first_free_week};
use crate::ids::{GuildId, RequestId, UserId};
use crate::members::{Author, labelled};

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

/// A week as `scope` (`?1`) sees it (`?2`), in one statement: the chosen
/// bulletin's requests, then the server's members' own requests, then the
/// bulletin's notes, each row carrying the bulletin's own columns; a
/// request's text is this server's correction of it where there is one.
const WEEK_ROWS: &str = "WITH chosen AS (
                 SELECT * FROM bulletins WHERE id =
                     (SELECT id FROM bulletins WHERE guild_id IN (?1, 0) AND week = ?2
                        AND kind = 'bulletin'
                      ORDER BY guild_id DESC LIMIT 1)),
             members AS (
                 SELECT * FROM bulletins WHERE guild_id = ?1 AND week = ?2 AND kind = 'members')
             SELECT b.id AS bulletin_id, b.title, b.date, b.verse_text, b.verse_reference,
                    0 AS note, 0 AS member, r.position, r.id, r.region, r.kind,
                    COALESCE((SELECT c.text FROM request_corrections AS c
                              WHERE c.guild_id = ?1 AND c.request_id = r.id), r.text) AS text,
                    r.countries, NULL AS author_id
             FROM chosen AS b LEFT JOIN requests AS r ON r.bulletin_id = b.id
             UNION ALL
             SELECT b.id, b.title, b.date, b.verse_text, b.verse_reference,
                    0, 1, r.position, r.id, r.region, r.kind,
                    COALESCE((SELECT c.text FROM request_corrections AS c
                              WHERE c.guild_id = ?1 AND c.request_id = r.id), r.text),
                    r.countries, m.author_id
             FROM members AS b JOIN requests AS r ON r.bulletin_id = b.id
             JOIN member_requests AS m ON m.request_id = r.id AND m.withdrawn_at IS NULL
             UNION ALL
             SELECT b.id, b.title, b.date, b.verse_text, b.verse_reference,
                    1, 0, n.position, NULL, n.region, NULL, n.text, NULL, NULL
             FROM chosen AS b JOIN notes AS n ON n.bulletin_id = b.id
             ORDER BY note, member, position";

/// Rows per multi-row INSERT: well under SQLite's limit on bound values.
const ROWS_PER_INSERT: usize = 500;

impl Store {
    /// Stores `import.bulletin` for `scope` in one transaction, unless the
    /// same bulletin (`fingerprint`) is already stored there. A week that
    /// holds another bulletin gets this one instead, unless that one has
    /// been posted and `force` is not set. `import.named` says the admin
    /// named the week (`import.placement` is then that week). One rule for a bulletin
    /// already stored (for `scope`, or shared with every server when `scope`
    /// is a server): it stays in its one week and nothing is added, unless
    /// the admin named another week; then it moves there if its week has not
    /// been posted and it is `scope`'s own, else nothing changes
    /// ([`ImportOutcome::HeldElsewhere`]).
    pub async fn import_to(
        &self,
        scope: Scope,
        import: &BulletinImport<'_>,
    ) -> Result<ImportOutcome, StorageError> {
        // IMMEDIATE takes the write lock up front, so two imports at once
        // queue instead of both reading the free weeks and colliding.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let moving = match stored_copy(&mut tx, scope, import).await? {
            StoredCopy::None => None,
            StoredCopy::Movable { id, week } => Some((id, week)),
            StoredCopy::Stays(outcome) => return Ok(outcome),
        };
        let week = choose_week(&mut tx, scope, import.placement).await?;
        if !import.force && posted_by_server(&mut tx, scope, week).await? {
            return Ok(ImportOutcome::AlreadyPosted { week });
        }
        let replaced = match clear_week(&mut tx, scope, week, import.force).await? {
            Cleared::Free(replaced) => replaced,
            Cleared::Posted => return Ok(ImportOutcome::AlreadyPosted { week }),
        };
        if let Some((id, from)) = moving {
            move_bulletin(&mut tx, id, week, import).await?;
            tx.commit().await?;
            return Ok(ImportOutcome::Moved {
                from,
                to: week,
                replaced,
            });
        }
        insert_bulletin(&mut tx, scope, week, import).await?;
        tx.commit().await?;
        Ok(ImportOutcome::Added { week, replaced })
    }

    /// The bulletin `scope` sees for `week`, if any: a server's own, else
    /// the shared one; each request's text as the server corrected it.
    pub async fn week(
        &self,
        scope: Scope,
        week: PrayerWeek,
    ) -> Result<Option<StoredWeek>, StorageError> {
        // One statement, so `/prayer week` and `/prayer stats` (which read
        // this on every call) pay one round trip to SQLite's thread: the
        // bulletin's requests, then its notes, each row carrying the
        // bulletin's own columns.
        let rows = sqlx::query(WEEK_ROWS)
            .bind(scope.column())
            .bind(week.to_string())
            .fetch_all(&self.pool)
            .await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let bulletin_id: i64 = first.try_get("bulletin_id")?;
        let notes = notes_from_rows(&rows)?;
        let verse = verse_from_row(first)?;
        let (request_ids, requests) = requests_from_rows(&rows)?;
        Ok(Some(StoredWeek {
            week,
            bulletin_id,
            bulletin: Bulletin {
                title: first.try_get("title")?,
                date: first.try_get::<Option<NaiveDate>, _>("date")?,
                verse,
                requests,
                notes,
            },
            request_ids,
        }))
    }

    /// The first week from `from` on for which `scope` sees a bulletin.
    pub async fn first_week_with_bulletin(
        &self,
        scope: Scope,
        from: PrayerWeek,
    ) -> Result<Option<PrayerWeek>, StorageError> {
        let week: Option<String> = sqlx::query_scalar(
            "SELECT min(week) FROM bulletins WHERE guild_id IN (?, 0) AND week >= ? AND kind = 'bulletin'",
        )
        .bind(scope.column())
        .bind(from.to_string())
        .fetch_one(&self.pool)
        .await?;
        week.as_deref().map(parse_week).transpose()
    }

    /// The regions of the bulletins `scope` sees from `from` on, in the
    /// order first met: what an admin can route with `/prayer setup`.
    pub async fn regions_from(
        &self,
        scope: Scope,
        from: PrayerWeek,
    ) -> Result<Vec<String>, StorageError> {
        Ok(sqlx::query_scalar(
            "SELECT r.region FROM requests AS r JOIN bulletins AS b ON b.id = r.bulletin_id
             WHERE b.guild_id IN (?, 0) AND b.week >= ?
             GROUP BY r.region ORDER BY min(b.week), min(r.position)",
        )
        .bind(scope.column())
        .bind(from.to_string())
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many bulletins are stored.
    pub async fn bulletin_count(&self) -> Result<i64, StorageError> {
        Ok(
            sqlx::query_scalar("SELECT count(*) FROM bulletins WHERE kind = 'bulletin'")
                .fetch_one(&self.pool)
                .await?,
        )
    }
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

/// What an import finds of the same bulletin already stored.
enum StoredCopy {
    /// Not stored: the bulletin is new.
    None,
    /// Stored as `id` for `week`, and free to move to the week named.
    Movable { id: i64, week: PrayerWeek },
    /// Stored, and it stays where it is: the import ends with this.
    Stays(ImportOutcome),
}

/// Finds the same bulletin already stored for `scope` (or shared) and
/// whether it stays in its week or moves to the one the admin named.
async fn stored_copy(
    tx: &mut Transaction<'static, Sqlite>,
    scope: Scope,
    import: &BulletinImport<'_>,
) -> Result<StoredCopy, StorageError> {
    // A server sees its own bulletins and the shared ones: the same
    // bulletin in either is already there. Its own comes first.
    let existing = sqlx::query(
        "SELECT id, guild_id, week,
                EXISTS (SELECT 1 FROM week_posts WHERE bulletin_id = bulletins.id) AS posted
         FROM bulletins WHERE guild_id IN (?1, 0) AND hash = ?2 AND kind = 'bulletin'
         ORDER BY guild_id DESC LIMIT 1",
    )
    .bind(scope.column())
    .bind(import.fingerprint)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = existing else {
        return Ok(StoredCopy::None);
    };
    let held = parse_week(&row.try_get::<String, _>("week")?)?;
    let target = match import.placement {
        Placement::Exactly(week) if import.named && week != held => week,
        _ => {
            return Ok(StoredCopy::Stays(ImportOutcome::AlreadyImported {
                week: held,
            }));
        }
    };
    let because = if row.try_get::<i64, _>("guild_id")? != scope.column() {
        Some(Held::Shared)
    } else if row.try_get::<bool, _>("posted")? {
        Some(Held::Posted)
    } else {
        None
    };
    Ok(match because {
        Some(held_by) => StoredCopy::Stays(ImportOutcome::HeldElsewhere {
            week: held,
            named: target,
            held: held_by,
        }),
        None => StoredCopy::Movable {
            id: row.try_get::<i64, _>("id")?,
            week: held,
        },
    })
}

/// The week the bulletin goes to: the one placed exactly, or the first
/// week from the start that `scope` has no bulletin for.
async fn choose_week(
    tx: &mut Transaction<'static, Sqlite>,
    scope: Scope,
    placement: Placement,
) -> Result<PrayerWeek, StorageError> {
    Ok(match placement {
        Placement::Exactly(week) => week,
        Placement::FirstFreeFrom(start) => {
            // A server's week is taken by its own bulletin or a shared one.
            let taken: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT week FROM bulletins
                 WHERE guild_id IN (?, 0) AND week >= ? AND kind = 'bulletin' ORDER BY week",
            )
            .bind(scope.column())
            .bind(start.to_string())
            .fetch_all(&mut **tx)
            .await?;
            let taken = taken
                .iter()
                .map(|w| parse_week(w))
                .collect::<Result<Vec<_>, _>>()?;
            first_free_week(start, &taken)
        }
    })
}

/// Whether the server `scope` names has posted `week` (never, for the
/// shared scope).
async fn posted_by_server(
    tx: &mut Transaction<'static, Sqlite>,
    scope: Scope,
    week: PrayerWeek,
) -> Result<bool, StorageError> {
    // A server that has posted the week (whichever bulletin it posted,
    // its own or the shared one) keeps what its channels show: a new
    // bulletin of its own would make `/prayer week` differ from them.
    let Scope::Guild(guild) = scope else {
        return Ok(false);
    };
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM week_posts WHERE guild_id = ? AND week = ?)",
    )
    .bind(guild)
    .bind(week.to_string())
    .fetch_one(&mut **tx)
    .await?)
}

/// What clearing a week for the import found.
enum Cleared {
    /// The week is free; it held the bulletin titled so, now deleted.
    Free(Option<String>),
    /// The week's bulletin has been posted and there is no `force`: kept.
    Posted,
}

/// Deletes the bulletin `scope` has for `week`, unless it has been posted
/// and `force` is not set.
async fn clear_week(
    tx: &mut Transaction<'static, Sqlite>,
    scope: Scope,
    week: PrayerWeek,
    force: bool,
) -> Result<Cleared, StorageError> {
    let occupant = sqlx::query(
        "SELECT id, title, EXISTS (SELECT 1 FROM week_posts WHERE bulletin_id = bulletins.id) AS posted
         FROM bulletins WHERE guild_id = ? AND week = ? AND kind = 'bulletin'",
    )
    .bind(scope.column())
    .bind(week.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = occupant else {
        return Ok(Cleared::Free(None));
    };
    if row.try_get::<bool, _>("posted")? && !force {
        return Ok(Cleared::Posted);
    }
    sqlx::query("DELETE FROM bulletins WHERE id = ?")
        .bind(row.try_get::<i64, _>("id")?)
        .execute(&mut **tx)
        .await?;
    Ok(Cleared::Free(Some(row.try_get("title")?)))
}

/// Moves the stored bulletin `id` to `week`: the same rows, so request
/// ids, and any marks, stay.
async fn move_bulletin(
    tx: &mut Transaction<'static, Sqlite>,
    id: i64,
    week: PrayerWeek,
    import: &BulletinImport<'_>,
) -> Result<(), StorageError> {
    sqlx::query("UPDATE bulletins SET week = ?, source = ?, imported_at = ? WHERE id = ?")
        .bind(week.to_string())
        .bind(import.source)
        .bind(import.now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Inserts the bulletin for `scope` and `week`, with its requests and notes.
async fn insert_bulletin(
    tx: &mut Transaction<'static, Sqlite>,
    scope: Scope,
    week: PrayerWeek,
    import: &BulletinImport<'_>,
) -> Result<(), StorageError> {
    let bulletin = import.bulletin;
    let verse = bulletin.verse.as_ref();
    let bulletin_id: i64 = sqlx::query_scalar(
        "INSERT INTO bulletins
             (guild_id, week, hash, title, date, verse_text, verse_reference, source, imported_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         RETURNING id",
    )
    .bind(scope.column())
    .bind(week.to_string())
    .bind(import.fingerprint)
    .bind(&bulletin.title)
    .bind(bulletin.date)
    .bind(verse.map(|v| &v.text))
    .bind(verse.and_then(|v| v.reference.as_ref()))
    .bind(import.source)
    .bind(import.now)
    .fetch_one(&mut **tx)
    .await?;
    insert_requests(tx, bulletin_id, &bulletin.requests).await?;
    insert_notes(tx, bulletin_id, &bulletin.notes).await?;
    Ok(())
}

async fn insert_requests(
    tx: &mut Transaction<'static, Sqlite>,
    bulletin_id: i64,
    requests: &[PrayerRequest],
) -> Result<(), StorageError> {
    for (chunk_index, chunk) in requests.chunks(ROWS_PER_INSERT).enumerate() {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO requests (bulletin_id, position, region, kind, text, countries) ",
        );
        insert.push_values(chunk.iter().enumerate(), |mut row, (i, request)| {
            row.push_bind(bulletin_id)
                .push_bind(position(chunk_index, i))
                .push_bind(request.region.clone())
                .push_bind(request.kind.as_str())
                .push_bind(request.text.clone())
                .push_bind(countries_json(&request.countries));
        });
        insert.build().execute(&mut **tx).await?;
    }
    Ok(())
}

async fn insert_notes(
    tx: &mut Transaction<'static, Sqlite>,
    bulletin_id: i64,
    notes: &[Note],
) -> Result<(), StorageError> {
    for (chunk_index, chunk) in notes.chunks(ROWS_PER_INSERT).enumerate() {
        let mut insert =
            QueryBuilder::<Sqlite>::new("INSERT INTO notes (bulletin_id, position, region, text) ");
        insert.push_values(chunk.iter().enumerate(), |mut row, (i, note)| {
            row.push_bind(bulletin_id)
                .push_bind(position(chunk_index, i))
                .push_bind(note.region.clone())
                .push_bind(note.text.clone());
        });
        insert.build().execute(&mut **tx).await?;
    }
    Ok(())
}

fn position(chunk_index: usize, index_in_chunk: usize) -> i64 {
    // A bulletin is at most a megabyte, so positions are far below i64::MAX.
    i64::try_from(chunk_index * ROWS_PER_INSERT + index_in_chunk).unwrap_or(i64::MAX)
}

fn countries_json(countries: &[String]) -> String {
    // Serialising a list of strings cannot fail.
    serde_json::to_string(countries).unwrap_or_else(|_| "[]".to_owned())
}

/// The notes of a week's rows (those with `note` = 1), in order.
fn notes_from_rows(rows: &[SqliteRow]) -> Result<Vec<Note>, StorageError> {
    let mut notes = Vec::new();
    for row in rows {
        if row.try_get::<i64, _>("note")? == 1 {
            notes.push(Note {
                region: row.try_get("region")?,
                text: row.try_get("text")?,
            });
        }
    }
    Ok(notes)
}

/// The requests of a week's rows (those with `note` = 0), in order, each
/// with its id.
fn requests_from_rows(
    rows: &[SqliteRow],
) -> Result<(Vec<RequestId>, Vec<PrayerRequest>), StorageError> {
    let rows: Vec<&SqliteRow> = rows
        .iter()
        .filter(|row| row.try_get::<i64, _>("note").is_ok_and(|note| note == 0))
        .collect();
    let mut request_ids = Vec::with_capacity(rows.len());
    let mut requests = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(id) = row.try_get::<Option<RequestId>, _>("id")? else {
            continue; // a bulletin without requests: the LEFT JOIN's one empty row
        };
        request_ids.push(id);
        let mut request = request_from_row(row)?;
        if row.try_get::<i64, _>("member")? == 1 {
            let author = match row.try_get::<Option<UserId>, _>("author_id")? {
                Some(user) => Author::Named(user),
                None => Author::Anonymous,
            };
            request.text = labelled(&request.text, author);
        }
        requests.push(request);
    }
    Ok((request_ids, requests))
}

/// The verse a week's row carries, if its bulletin has one.
fn verse_from_row(row: &SqliteRow) -> Result<Option<Verse>, StorageError> {
    Ok(match row.try_get::<Option<String>, _>("verse_text")? {
        Some(text) => Some(Verse {
            text,
            reference: row.try_get("verse_reference")?,
        }),
        None => None,
    })
}

fn request_from_row(row: &SqliteRow) -> Result<PrayerRequest, StorageError> {
    let kind: String = row.try_get("kind")?;
    let kind = match kind.as_str() {
        "petition" => Kind::Petition,
        "praise" => Kind::Praise,
        other => return Err(StorageError::Corrupt(format!("request kind `{other}`"))),
    };
    let countries: String = row.try_get("countries")?;
    let countries = serde_json::from_str(&countries)
        .map_err(|e| StorageError::Corrupt(format!("request countries `{countries}`: {e}")))?;
    Ok(PrayerRequest {
        region: row.try_get("region")?,
        kind,
        text: row.try_get("text")?,
        countries,
    })
}

impl Store {
    /// The weeks whose bulletin `guild` sees (its own, or the shared one),
    /// oldest first.
    pub async fn weeks_seen(&self, guild: GuildId) -> Result<Vec<PrayerWeek>, StorageError> {
        let weeks: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT week FROM bulletins WHERE guild_id IN (0, ?) ORDER BY week",
        )
        .bind(guild)
        .fetch_all(&self.pool)
        .await?;
        weeks.iter().map(|week| parse_week(week)).collect()
    }
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
        let leftover: i64 = sqlx::query_scalar("SELECT count(*) FROM requests")
            .fetch_one(&store.pool)
            .await?;
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
