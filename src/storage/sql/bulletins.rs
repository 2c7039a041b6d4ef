//! The statements of `storage/bulletins.rs`, once per backend.

use super::{Db, DbRow, Sql};
use crate::bulletins::parse::{Bulletin, Kind, Note, PrayerRequest, Verse};
use crate::bulletins::week::{Placement, PrayerWeek, first_free_week};
use crate::ids::{GuildId, RequestId, UserId};
use crate::members::{Author, labelled};
use crate::storage::*;
use chrono::NaiveDate;
use sqlx::{QueryBuilder, Row, Transaction};

/// A week as `scope` (`?1`) sees it (`?2`), in one statement: the chosen
/// bulletin's requests, then the server's members' own requests, then the
/// bulletin's notes, each row carrying the bulletin's own columns; a
/// request's text is this server's correction of it where there is one.
const WEEK_ROWS: &str = "WITH chosen AS (
                 SELECT * FROM bulletins WHERE id =
                     (SELECT id FROM bulletins WHERE guild_id IN ($1, 0) AND week = $2
                        AND kind = 'bulletin'
                      ORDER BY guild_id DESC LIMIT 1)),
             members AS (
                 SELECT * FROM bulletins WHERE guild_id = $1 AND week = $2 AND kind = 'members')
             SELECT b.id AS bulletin_id, b.title, b.date, b.verse_text, b.verse_reference,
                    CAST(0 AS BIGINT) AS note, CAST(0 AS BIGINT) AS member, r.position, r.id, r.region, r.kind,
                    COALESCE((SELECT c.text FROM request_corrections AS c
                              WHERE c.guild_id = $1 AND c.request_id = r.id), r.text) AS text,
                    r.countries, NULL AS author_id
             FROM chosen AS b LEFT JOIN requests AS r ON r.bulletin_id = b.id
             UNION ALL
             SELECT b.id, b.title, b.date, b.verse_text, b.verse_reference,
                    0, 1, r.position, r.id, r.region, r.kind,
                    COALESCE((SELECT c.text FROM request_corrections AS c
                              WHERE c.guild_id = $1 AND c.request_id = r.id), r.text),
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

impl Sql {
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
        let mut tx = self.begin_writing().await?;
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
            "SELECT min(week) FROM bulletins WHERE guild_id IN ($1, 0) AND week >= $2 AND kind = 'bulletin'",
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
             WHERE b.guild_id IN ($1, 0) AND b.week >= $2
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
    tx: &mut Transaction<'static, Db>,
    scope: Scope,
    import: &BulletinImport<'_>,
) -> Result<StoredCopy, StorageError> {
    // A server sees its own bulletins and the shared ones: the same
    // bulletin in either is already there. Its own comes first.
    let existing = sqlx::query(
        "SELECT id, guild_id, week,
                EXISTS (SELECT 1 FROM week_posts WHERE bulletin_id = bulletins.id) AS posted
         FROM bulletins WHERE guild_id IN ($1, 0) AND hash = $2 AND kind = 'bulletin'
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
    tx: &mut Transaction<'static, Db>,
    scope: Scope,
    placement: Placement,
) -> Result<PrayerWeek, StorageError> {
    Ok(match placement {
        Placement::Exactly(week) => week,
        Placement::FirstFreeFrom(start) => {
            // A server's week is taken by its own bulletin or a shared one.
            let taken: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT week FROM bulletins
                 WHERE guild_id IN ($1, 0) AND week >= $2 AND kind = 'bulletin' ORDER BY week",
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
    tx: &mut Transaction<'static, Db>,
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
        "SELECT EXISTS (SELECT 1 FROM week_posts WHERE guild_id = $1 AND week = $2)",
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
    tx: &mut Transaction<'static, Db>,
    scope: Scope,
    week: PrayerWeek,
    force: bool,
) -> Result<Cleared, StorageError> {
    let occupant = sqlx::query(
        "SELECT id, title, EXISTS (SELECT 1 FROM week_posts WHERE bulletin_id = bulletins.id) AS posted
         FROM bulletins WHERE guild_id = $1 AND week = $2 AND kind = 'bulletin'",
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
    sqlx::query("DELETE FROM bulletins WHERE id = $1")
        .bind(row.try_get::<i64, _>("id")?)
        .execute(&mut **tx)
        .await?;
    Ok(Cleared::Free(Some(row.try_get("title")?)))
}

/// Moves the stored bulletin `id` to `week`: the same rows, so request
/// ids, and any marks, stay.
async fn move_bulletin(
    tx: &mut Transaction<'static, Db>,
    id: i64,
    week: PrayerWeek,
    import: &BulletinImport<'_>,
) -> Result<(), StorageError> {
    sqlx::query("UPDATE bulletins SET week = $1, source = $2, imported_at = $3 WHERE id = $4")
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
    tx: &mut Transaction<'static, Db>,
    scope: Scope,
    week: PrayerWeek,
    import: &BulletinImport<'_>,
) -> Result<(), StorageError> {
    let bulletin = import.bulletin;
    let verse = bulletin.verse.as_ref();
    let bulletin_id: i64 = sqlx::query_scalar(
        "INSERT INTO bulletins
             (guild_id, week, hash, title, date, verse_text, verse_reference, source, imported_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
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
    tx: &mut Transaction<'static, Db>,
    bulletin_id: i64,
    requests: &[PrayerRequest],
) -> Result<(), StorageError> {
    for (chunk_index, chunk) in requests.chunks(ROWS_PER_INSERT).enumerate() {
        let mut insert = QueryBuilder::<Db>::new(
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
    tx: &mut Transaction<'static, Db>,
    bulletin_id: i64,
    notes: &[Note],
) -> Result<(), StorageError> {
    for (chunk_index, chunk) in notes.chunks(ROWS_PER_INSERT).enumerate() {
        let mut insert =
            QueryBuilder::<Db>::new("INSERT INTO notes (bulletin_id, position, region, text) ");
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
fn notes_from_rows(rows: &[DbRow]) -> Result<Vec<Note>, StorageError> {
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
    rows: &[DbRow],
) -> Result<(Vec<RequestId>, Vec<PrayerRequest>), StorageError> {
    let rows: Vec<&DbRow> = rows
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
fn verse_from_row(row: &DbRow) -> Result<Option<Verse>, StorageError> {
    Ok(match row.try_get::<Option<String>, _>("verse_text")? {
        Some(text) => Some(Verse {
            text,
            reference: row.try_get("verse_reference")?,
        }),
        None => None,
    })
}

fn request_from_row(row: &DbRow) -> Result<PrayerRequest, StorageError> {
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

impl Sql {
    /// The weeks whose bulletin `guild` sees (its own, or the shared one),
    /// oldest first.
    pub async fn weeks_seen(&self, guild: GuildId) -> Result<Vec<PrayerWeek>, StorageError> {
        let weeks: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT week FROM bulletins WHERE guild_id IN (0, $1) ORDER BY week",
        )
        .bind(guild)
        .fetch_all(&self.pool)
        .await?;
        weeks.iter().map(|week| parse_week(week)).collect()
    }
}
