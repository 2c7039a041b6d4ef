//! The SQLite store: every SQL statement of the bot lives in this module, and
//! nothing outside it knows the schema. Knows nothing of Discord or the CLI.
//!
//! Queries are checked at run time (`sqlx::query`), not by `query!` macros,
//! so the project builds without a database or committed `.sqlx` data; every
//! statement here is exercised by the tests at the bottom of this file.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};

use crate::bulletin::{Bulletin, Kind, Note, PrayerRequest, Verse};
use crate::week::{Placement, PrayerWeek, first_free_week};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot open the database `{location}`: {source}")]
    Open {
        location: String,
        source: sqlx::Error,
    },
    #[error("cannot bring the database schema up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the database holds a value this version cannot read: {0}")]
    Corrupt(String),
}

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
}

/// A week's bulletin as stored, with the ids later events refer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredWeek {
    pub week: PrayerWeek,
    pub bulletin: Bulletin,
    /// The id of each of `bulletin.requests`, in the same order.
    pub request_ids: Vec<i64>,
}

/// Rows per multi-row INSERT: well under SQLite's limit on bound values.
const ROWS_PER_INSERT: usize = 500;

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if need be) and migrates the database at `location`:
    /// a path, or an sqlx URL such as `sqlite:prayer.db` or `sqlite::memory:`.
    pub async fn open(location: &str) -> Result<Store, StorageError> {
        let open_error = |source| StorageError::Open {
            location: location.to_owned(),
            source,
        };
        let options = if location.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(location).map_err(open_error)?
        } else {
            SqliteConnectOptions::new().filename(location)
        };
        let in_memory = location.contains(":memory:");
        let options = options
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // WAL lets readers and the writer work at once. With WAL, NORMAL
        // sync never corrupts the file; a power cut can lose only the last
        // commits, which a re-import restores.
        let options = if in_memory {
            options
        } else {
            options
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
        };
        // Each connection to `:memory:` is its own empty database.
        let max_connections = if in_memory { 1 } else { 4 };
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .connect_with(options)
            .await
            .map_err(open_error)?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool })
    }

    /// Waits for every connection to finish and closes the database.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Stores `bulletin` in one transaction, unless the same bulletin
    /// (`fingerprint`) is already stored. A week that already holds another
    /// bulletin gets this one instead.
    pub async fn import(
        &self,
        bulletin: &Bulletin,
        fingerprint: &str,
        placement: Placement,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<ImportOutcome, StorageError> {
        // IMMEDIATE takes the write lock up front, so two imports at once
        // queue instead of both reading the free weeks and colliding.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let existing: Option<String> =
            sqlx::query_scalar("SELECT week FROM bulletins WHERE hash = ?")
                .bind(fingerprint)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(week) = existing {
            return Ok(ImportOutcome::AlreadyImported {
                week: parse_week(&week)?,
            });
        }
        let week = match placement {
            Placement::Exactly(week) => week,
            Placement::FirstFreeFrom(start) => {
                let taken: Vec<String> =
                    sqlx::query_scalar("SELECT week FROM bulletins WHERE week >= ? ORDER BY week")
                        .bind(start.to_string())
                        .fetch_all(&mut *tx)
                        .await?;
                let taken = taken
                    .iter()
                    .map(|w| parse_week(w))
                    .collect::<Result<Vec<_>, _>>()?;
                first_free_week(start, &taken)
            }
        };
        let replaced: Option<String> =
            sqlx::query_scalar("DELETE FROM bulletins WHERE week = ? RETURNING title")
                .bind(week.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        let verse = bulletin.verse.as_ref();
        let bulletin_id: i64 = sqlx::query_scalar(
            "INSERT INTO bulletins
                 (week, hash, title, date, verse_text, verse_reference, source, imported_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             RETURNING id",
        )
        .bind(week.to_string())
        .bind(fingerprint)
        .bind(&bulletin.title)
        .bind(bulletin.date)
        .bind(verse.map(|v| &v.text))
        .bind(verse.and_then(|v| v.reference.as_ref()))
        .bind(source)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        insert_requests(&mut tx, bulletin_id, &bulletin.requests).await?;
        insert_notes(&mut tx, bulletin_id, &bulletin.notes).await?;
        tx.commit().await?;
        Ok(ImportOutcome::Added { week, replaced })
    }

    /// The bulletin stored for `week`, if any.
    pub async fn week(&self, week: PrayerWeek) -> Result<Option<StoredWeek>, StorageError> {
        let mut tx = self.pool.begin().await?;
        let Some(row) = sqlx::query(
            "SELECT id, title, date, verse_text, verse_reference FROM bulletins WHERE week = ?",
        )
        .bind(week.to_string())
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let bulletin_id: i64 = row.try_get("id")?;
        let verse_text: Option<String> = row.try_get("verse_text")?;
        let verse = verse_text.map(|text| -> Result<Verse, sqlx::Error> {
            Ok(Verse {
                text,
                reference: row.try_get("verse_reference")?,
            })
        });
        let request_rows = sqlx::query(
            "SELECT id, region, kind, text, countries FROM requests
             WHERE bulletin_id = ? ORDER BY position",
        )
        .bind(bulletin_id)
        .fetch_all(&mut *tx)
        .await?;
        let notes =
            sqlx::query("SELECT region, text FROM notes WHERE bulletin_id = ? ORDER BY position")
                .bind(bulletin_id)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|row| {
                    Ok(Note {
                        region: row.try_get("region")?,
                        text: row.try_get("text")?,
                    })
                })
                .collect::<Result<Vec<_>, StorageError>>()?;
        tx.commit().await?;

        let mut request_ids = Vec::with_capacity(request_rows.len());
        let mut requests = Vec::with_capacity(request_rows.len());
        for row in &request_rows {
            request_ids.push(row.try_get("id")?);
            requests.push(request_from_row(row)?);
        }
        Ok(Some(StoredWeek {
            week,
            bulletin: Bulletin {
                title: row.try_get("title")?,
                date: row.try_get::<Option<NaiveDate>, _>("date")?,
                verse: verse.transpose()?,
                requests,
                notes,
            },
            request_ids,
        }))
    }

    /// The first week from `week` on that has a bulletin.
    pub async fn first_week_with_bulletin(
        &self,
        from: PrayerWeek,
    ) -> Result<Option<PrayerWeek>, StorageError> {
        let week: Option<String> =
            sqlx::query_scalar("SELECT min(week) FROM bulletins WHERE week >= ?")
                .bind(from.to_string())
                .fetch_one(&self.pool)
                .await?;
        week.as_deref().map(parse_week).transpose()
    }

    /// How many bulletins are stored.
    pub async fn bulletin_count(&self) -> Result<i64, StorageError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM bulletins")
            .fetch_one(&self.pool)
            .await?)
    }
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

fn parse_week(text: &str) -> Result<PrayerWeek, StorageError> {
    text.parse()
        .map_err(|e| StorageError::Corrupt(format!("week `{text}`: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulletin::parse_bulletin;

    async fn store() -> Store {
        match Store::open("sqlite::memory:").await {
            Ok(store) => store,
            Err(error) => panic!("an in-memory store opens: {error}"),
        }
    }

    fn bulletin(text: &str) -> Bulletin {
        parse_bulletin(text).unwrap_or_else(|e| panic!("fixture parses: {e}"))
    }

    fn week(text: &str) -> PrayerWeek {
        text.parse().unwrap_or_else(|e| panic!("fixture week: {e}"))
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default()
    }

    const ONE: &str = "IJM Prayer Requests\n“Seek justice.”\n— Isaiah 1:17\n\nAfrica\n• Pray for Kenya.\n\nNote without a plea.\n\nAsia\n• Praise God for Nepal.\n";
    const TWO: &str = "IJM Prayer Requests\n\nAfrica\n• Pray for Ghana.\n";

    #[tokio::test]
    async fn a_stored_week_reads_back_as_it_was_parsed_in_order() -> Result<(), StorageError> {
        let store = store().await;
        let b = bulletin(ONE);
        let w = week("2026-11-23");
        let outcome = store
            .import(&b, "one", Placement::Exactly(w), "one.txt", now())
            .await?;
        assert_eq!(
            outcome,
            ImportOutcome::Added {
                week: w,
                replaced: None
            }
        );
        let stored = store.week(w).await?.expect("the week has its bulletin");
        assert_eq!(stored.bulletin, b);
        assert_eq!(stored.request_ids.len(), 2);
        assert!(stored.request_ids[0] < stored.request_ids[1]);
        Ok(())
    }

    #[tokio::test]
    async fn reimporting_the_same_bulletin_adds_nothing() -> Result<(), StorageError> {
        let store = store().await;
        let b = bulletin(ONE);
        let w = week("2026-11-23");
        store
            .import(&b, "one", Placement::FirstFreeFrom(w), "a", now())
            .await?;
        let again = store
            .import(&b, "one", Placement::FirstFreeFrom(w), "b", now())
            .await?;
        assert_eq!(again, ImportOutcome::AlreadyImported { week: w });
        assert_eq!(store.bulletin_count().await?, 1);
        Ok(())
    }

    #[tokio::test]
    async fn undated_bulletins_fill_the_following_free_weeks() -> Result<(), StorageError> {
        let store = store().await;
        let start = week("2026-11-23");
        store
            .import(
                &bulletin(TWO),
                "x",
                Placement::Exactly(week("2026-11-30")),
                "x",
                now(),
            )
            .await?;
        let first = store
            .import(
                &bulletin(ONE),
                "one",
                Placement::FirstFreeFrom(start),
                "a",
                now(),
            )
            .await?;
        let second = store
            .import(
                &bulletin(TWO),
                "two",
                Placement::FirstFreeFrom(start),
                "b",
                now(),
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
        store
            .import(&bulletin(ONE), "one", Placement::Exactly(w), "a", now())
            .await?;
        let outcome = store
            .import(&bulletin(TWO), "two", Placement::Exactly(w), "b", now())
            .await?;
        assert_eq!(
            outcome,
            ImportOutcome::Added {
                week: w,
                replaced: Some("IJM Prayer Requests".into())
            }
        );
        let stored = store.week(w).await?.expect("the week has its bulletin");
        assert_eq!(stored.bulletin.requests.len(), 1);
        assert_eq!(store.bulletin_count().await?, 1);
        let leftover: i64 = sqlx::query_scalar("SELECT count(*) FROM requests")
            .fetch_one(&store.pool)
            .await?;
        assert_eq!(leftover, 1, "the old bulletin's requests went with it");
        Ok(())
    }

    #[tokio::test]
    async fn the_first_week_with_a_bulletin_is_found_from_any_week() -> Result<(), StorageError> {
        let store = store().await;
        assert_eq!(
            store.first_week_with_bulletin(week("2026-11-23")).await?,
            None
        );
        store
            .import(
                &bulletin(ONE),
                "one",
                Placement::Exactly(week("2026-12-07")),
                "a",
                now(),
            )
            .await?;
        assert_eq!(
            store.first_week_with_bulletin(week("2026-11-23")).await?,
            Some(week("2026-12-07"))
        );
        assert_eq!(
            store.first_week_with_bulletin(week("2026-12-14")).await?,
            None
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_file_database_is_created_in_wal_mode_with_foreign_keys() -> Result<(), StorageError>
    {
        let dir = tempfile::tempdir().map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let path = dir.path().join("new.db");
        let store = Store::open(path.to_str().unwrap_or_default()).await?;
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&store.pool)
            .await?;
        let keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&store.pool)
            .await?;
        assert_eq!((mode.as_str(), keys), ("wal", 1));
        store.close().await;
        assert!(path.exists());
        Ok(())
    }
}
