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
    SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};

use crate::bulletin::{Bulletin, Kind, Note, PrayerRequest, Verse};
use crate::week::{Placement, PrayerWeek, first_free_week};

/// What went wrong in the store.
///
/// One rule for every error here: its `Display` is a whole sentence that
/// already says the cause, so no variant also exposes that cause through
/// `source()`; printing the error chain would otherwise repeat it.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot open the database {location}: {reason}")]
    Open { location: String, reason: String },
    /// Only from [`Store::open_read_only`], which never creates a database.
    #[error("no database at {location}")]
    Missing { location: String },
    #[error("cannot bring the database {location} up to date: {reason}")]
    Migrate { location: String, reason: String },
    /// A database opened read-only whose schema is not the one this
    /// version of prayer-bot writes; `problem` ends the sentence.
    #[error("the database {location} {problem}")]
    Schema { location: String, problem: String },
    #[error("database error: {}", sqlx_message(.0))]
    Database(sqlx::Error),
    #[error("the database holds a value this version cannot read: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StorageError {
    fn from(error: sqlx::Error) -> Self {
        StorageError::Database(error)
    }
}

/// A sqlx error in words: SQLite's own message where there is one, without
/// sqlx's "error returned from database: (code: 14)" wrapping.
fn sqlx_message(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(error) => error.message().to_owned(),
        sqlx::Error::Io(error) => crate::read::io_message(error),
        other => other.to_string(),
    }
}

fn migrate_message(error: &sqlx::migrate::MigrateError) -> String {
    match error {
        sqlx::migrate::MigrateError::Execute(error) => sqlx_message(error),
        other => other.to_string(),
    }
}

/// SQLite's primary result code for an error, if it came from SQLite.
fn sqlite_code(error: &sqlx::Error) -> Option<i64> {
    match error {
        sqlx::Error::Database(error) => error
            .code()
            .and_then(|code| code.parse::<i64>().ok())
            .map(|code| code & 0xff),
        _ => None,
    }
}

/// The schema, as the files under `migrations/` say it should be.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a connection waits for another one's write lock before it
/// fails with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long opening waits for another process that is creating or
/// migrating the same database file.
const SETUP_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Whose bulletins: every server's (imported from the command line by
/// whoever runs the bot) or one server's own. A server sees its own
/// bulletin for a week where it has one, else the shared one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Shared,
    Guild(u64),
}

impl Scope {
    /// The `guild_id` column's value: 0 for shared bulletins.
    fn column(self) -> i64 {
        match self {
            Scope::Shared => 0,
            Scope::Guild(id) => sql_id(id),
        }
    }
}

/// A Discord id (a u64 snowflake) as SQLite's INTEGER. The bits are kept as
/// they are, so ids above `i64::MAX` (none exist yet) still round-trip.
pub fn sql_id(id: u64) -> i64 {
    i64::from_ne_bytes(id.to_ne_bytes())
}

/// The inverse of [`sql_id`].
pub fn discord_id(value: i64) -> u64 {
    u64::from_ne_bytes(value.to_ne_bytes())
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
    /// `week` holds another bulletin that has already been posted; nothing
    /// changed. Importing with `force` replaces it.
    AlreadyPosted { week: PrayerWeek },
}

/// A week's bulletin as stored, with the ids later events refer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredWeek {
    pub week: PrayerWeek,
    pub bulletin_id: i64,
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
    ///
    /// Several processes may open one new database at once (six imports
    /// started together, or the bot and an import). Creating the file,
    /// switching it to WAL and migrating are not safe to run side by side:
    /// sqlx's migrator takes no lock on SQLite, so two processes both see a
    /// migration missing and the second fails with "table … already
    /// exists"; and switching to WAL needs an exclusive lock that SQLite's
    /// busy timeout does not wait for, so it fails with "database is
    /// locked". So these steps run while holding an exclusive advisory lock
    /// on `<database>.lock`: one process sets the database up, the others
    /// wait and then find it set up. The lock is a file of its own, not the
    /// database: SQLite's POSIX locks on the database file are dropped when
    /// any descriptor of that file in the process closes, so a second
    /// descriptor of ours on it could silently release SQLite's locks.
    pub async fn open(location: &str) -> Result<Store, StorageError> {
        let open_error = |reason: String| StorageError::Open {
            location: location.to_owned(),
            reason,
        };
        let options = base_options(location)?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        if is_in_memory(location, &options) {
            // Each connection to `:memory:` is its own empty database, and
            // no other process can see it: one connection, no lock.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .map_err(|e| open_error(sqlx_message(&e)))?;
            MIGRATOR
                .run(&pool)
                .await
                .map_err(|e| StorageError::Migrate {
                    location: location.to_owned(),
                    reason: migrate_message(&e),
                })?;
            return Ok(Store { pool });
        }
        let lock = lock_for_setup(options.get_filename())
            .await
            .map_err(open_error)?;
        // With WAL, NORMAL sync never corrupts the file; a power cut can
        // lose only the last commits, which a re-import restores. The
        // journal mode is set once below, under the lock, not by every new
        // connection: WAL is a property of the file and stays.
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.synchronous(SqliteSynchronous::Normal))
            .await
            .map_err(|e| open_error(sqlx_message(&e)))?;
        let set_up = async {
            let mut connection = pool.acquire().await?;
            // WAL lets readers and the writer work at once.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&mut *connection)
                .await?;
            MIGRATOR
                .run(&mut *connection)
                .await
                .map_err(|e| StorageError::Migrate {
                    location: location.to_owned(),
                    reason: migrate_message(&e),
                })
        };
        let result = set_up.await;
        drop(lock);
        match result {
            Ok(()) => Ok(Store { pool }),
            Err(error) => {
                pool.close().await;
                Err(error)
            }
        }
    }

    /// Opens the existing database at `location` for reading only: nothing
    /// is created, migrated or written, so a database the user may only
    /// read (a read-only file, a backup) can still be shown. Refuses a
    /// database whose schema is not the one this version writes.
    ///
    /// A reader of a WAL database needs its `-shm` and `-wal` files, and
    /// SQLite creates them if they are missing; in a directory we cannot
    /// write to it cannot, and the open fails. Then the file is opened as
    /// `immutable`: SQLite reads it without locks or those files. That is
    /// safe for what such a database is (a copy nothing writes to); a
    /// database being written has its `-shm` and `-wal` files already.
    pub async fn open_read_only(location: &str) -> Result<Store, StorageError> {
        let options = base_options(location)?
            .read_only(true)
            .create_if_missing(false)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        if is_in_memory(location, &options) {
            // A new in-memory database is empty; reading it needs no care.
            return Store::open(location).await;
        }
        match std::fs::metadata(options.get_filename()) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(StorageError::Missing {
                    location: location.to_owned(),
                });
            }
            Err(error) => {
                return Err(StorageError::Open {
                    location: location.to_owned(),
                    reason: crate::read::io_message(&error),
                });
            }
            Ok(metadata) if !metadata.is_file() => {
                return Err(StorageError::Open {
                    location: location.to_owned(),
                    reason: "it is not a file".to_owned(),
                });
            }
            Ok(_) => {}
        }
        match connect_read_only(options.clone(), location).await {
            Err(ReadOnlyError::CannotShare(_)) => {
                match connect_read_only(options.immutable(true), location).await {
                    Ok(store) => Ok(store),
                    Err(ReadOnlyError::CannotShare(error) | ReadOnlyError::Other(error)) => {
                        Err(error)
                    }
                }
            }
            Ok(store) => Ok(store),
            Err(ReadOnlyError::Other(error)) => Err(error),
        }
    }

    /// Waits for every connection to finish and closes the database.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Stores `bulletin` for `scope` in one transaction, unless the same
    /// bulletin (`fingerprint`) is already stored there. A week that holds
    /// another bulletin gets this one instead, unless that one has been
    /// posted and `force` is not set.
    #[allow(clippy::too_many_arguments)] // each is one plain fact of the import
    pub async fn import(
        &self,
        scope: Scope,
        bulletin: &Bulletin,
        fingerprint: &str,
        placement: Placement,
        force: bool,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<ImportOutcome, StorageError> {
        // IMMEDIATE takes the write lock up front, so two imports at once
        // queue instead of both reading the free weeks and colliding.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let existing: Option<String> =
            sqlx::query_scalar("SELECT week FROM bulletins WHERE guild_id = ? AND hash = ?")
                .bind(scope.column())
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
                // A server's week is taken by its own bulletin or a shared one.
                let taken: Vec<String> = sqlx::query_scalar(
                    "SELECT DISTINCT week FROM bulletins
                     WHERE guild_id IN (?, 0) AND week >= ? ORDER BY week",
                )
                .bind(scope.column())
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
        // A server that has posted the week (whichever bulletin it posted,
        // its own or the shared one) keeps what its channels show: a new
        // bulletin of its own would make `/prayer week` differ from them.
        if let Scope::Guild(guild) = scope
            && !force
        {
            let posted: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM week_posts WHERE guild_id = ? AND week = ?)",
            )
            .bind(sql_id(guild))
            .bind(week.to_string())
            .fetch_one(&mut *tx)
            .await?;
            if posted {
                return Ok(ImportOutcome::AlreadyPosted { week });
            }
        }
        let occupant = sqlx::query(
            "SELECT id, title, EXISTS (SELECT 1 FROM week_posts WHERE bulletin_id = bulletins.id) AS posted
             FROM bulletins WHERE guild_id = ? AND week = ?",
        )
        .bind(scope.column())
        .bind(week.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let mut replaced = None;
        if let Some(row) = occupant {
            if row.try_get::<bool, _>("posted")? && !force {
                return Ok(ImportOutcome::AlreadyPosted { week });
            }
            sqlx::query("DELETE FROM bulletins WHERE id = ?")
                .bind(row.try_get::<i64, _>("id")?)
                .execute(&mut *tx)
                .await?;
            replaced = Some(row.try_get("title")?);
        }
        let verse = bulletin.verse.as_ref();
        let bulletin_id: i64 = sqlx::query_scalar(
            "INSERT INTO bulletins
                 (guild_id, week, hash, title, date, verse_text, verse_reference, source, imported_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             RETURNING id",
        )
        .bind(scope.column())
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

    /// The bulletin `scope` sees for `week`, if any: a server's own, else
    /// the shared one.
    pub async fn week(
        &self,
        scope: Scope,
        week: PrayerWeek,
    ) -> Result<Option<StoredWeek>, StorageError> {
        // Two statements on one connection, no transaction: `/prayer week`
        // runs this for every call, and each statement is a round trip to
        // SQLite's thread. Notes are read by the bulletin's id, so a bulletin
        // replaced in between only leaves them empty.
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(
            "SELECT b.id AS bulletin_id, b.title, b.date, b.verse_text, b.verse_reference,
                    r.id, r.region, r.kind, r.text, r.countries
             FROM bulletins AS b LEFT JOIN requests AS r ON r.bulletin_id = b.id
             WHERE b.id = (SELECT id FROM bulletins WHERE guild_id IN (?, 0) AND week = ?
                           ORDER BY guild_id DESC LIMIT 1)
             ORDER BY r.position",
        )
        .bind(scope.column())
        .bind(week.to_string())
        .fetch_all(&mut *conn)
        .await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let bulletin_id: i64 = first.try_get("bulletin_id")?;
        let notes =
            sqlx::query("SELECT region, text FROM notes WHERE bulletin_id = ? ORDER BY position")
                .bind(bulletin_id)
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|row| {
                    Ok(Note {
                        region: row.try_get("region")?,
                        text: row.try_get("text")?,
                    })
                })
                .collect::<Result<Vec<_>, StorageError>>()?;
        drop(conn);

        let verse = match first.try_get::<Option<String>, _>("verse_text")? {
            Some(text) => Some(Verse {
                text,
                reference: first.try_get("verse_reference")?,
            }),
            None => None,
        };
        let mut request_ids = Vec::with_capacity(rows.len());
        let mut requests = Vec::with_capacity(rows.len());
        for row in &rows {
            let Some(id) = row.try_get::<Option<i64>, _>("id")? else {
                continue; // a bulletin without requests: the LEFT JOIN's one empty row
            };
            request_ids.push(id);
            requests.push(request_from_row(row)?);
        }
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
            "SELECT min(week) FROM bulletins WHERE guild_id IN (?, 0) AND week >= ?",
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
        Ok(sqlx::query_scalar("SELECT count(*) FROM bulletins")
            .fetch_one(&self.pool)
            .await?)
    }
}

/// Where a server's posts go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelSettings {
    pub default_channel: Option<u64>,
    /// Regions routed to a channel of their own, by name as the admin typed it.
    pub region_channels: Vec<(String, u64)>,
}

/// The state of a server's post of a week, as found when claiming it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeekPostClaim {
    /// Nobody had begun posting this week; the caller now owns the post.
    Claimed,
    /// A post was begun and not finished (a crash, or one running now):
    /// the caller may resume it, skipping what was already sent.
    Unfinished,
    /// The week has been posted.
    Finished,
}

/// A message a weekly post sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostedMessage {
    pub message_id: u64,
    pub channel_id: u64,
    /// `None` for a channel's header.
    pub request_id: Option<i64>,
    pub part: u32,
}

impl Store {
    /// Where `guild`'s posts go.
    pub async fn channel_settings(&self, guild: u64) -> Result<ChannelSettings, StorageError> {
        let default_channel: Option<i64> =
            sqlx::query_scalar("SELECT default_channel_id FROM guild_settings WHERE guild_id = ?")
                .bind(sql_id(guild))
                .fetch_optional(&self.pool)
                .await?
                .flatten();
        let region_channels = sqlx::query(
            "SELECT region, channel_id FROM region_channels WHERE guild_id = ? ORDER BY region",
        )
        .bind(sql_id(guild))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get("region")?,
                discord_id(row.try_get("channel_id")?),
            ))
        })
        .collect::<Result<Vec<_>, StorageError>>()?;
        Ok(ChannelSettings {
            default_channel: default_channel.map(discord_id),
            region_channels,
        })
    }

    /// Sends `guild`'s posts to `channel` by default.
    pub async fn set_default_channel(
        &self,
        guild: u64,
        channel: u64,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO guild_settings (guild_id, default_channel_id, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (guild_id) DO UPDATE
             SET default_channel_id = excluded.default_channel_id, updated_at = excluded.updated_at",
        )
        .bind(sql_id(guild))
        .bind(sql_id(channel))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Sends `guild`'s requests for `region` (any letter case) to `channel`.
    pub async fn set_region_channel(
        &self,
        guild: u64,
        region: &str,
        channel: u64,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO region_channels (guild_id, region, channel_id) VALUES (?, ?, ?)
             ON CONFLICT (guild_id, region) DO UPDATE
             SET region = excluded.region, channel_id = excluded.channel_id",
        )
        .bind(sql_id(guild))
        .bind(region)
        .bind(sql_id(channel))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Claims `guild`'s post of `week`. Only one caller ever gets
    /// [`WeekPostClaim::Claimed`] for a server and week.
    pub async fn claim_week_post(
        &self,
        guild: u64,
        week: PrayerWeek,
        bulletin_id: i64,
        now: DateTime<Utc>,
    ) -> Result<WeekPostClaim, StorageError> {
        let inserted = sqlx::query(
            "INSERT INTO week_posts (guild_id, week, bulletin_id, started_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (guild_id, week) DO NOTHING",
        )
        .bind(sql_id(guild))
        .bind(week.to_string())
        .bind(bulletin_id)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(WeekPostClaim::Claimed);
        }
        let finished: Option<DateTime<Utc>> = sqlx::query_scalar(
            "SELECT finished_at FROM week_posts WHERE guild_id = ? AND week = ?",
        )
        .bind(sql_id(guild))
        .bind(week.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(match finished {
            Some(_) => WeekPostClaim::Finished,
            None => WeekPostClaim::Unfinished,
        })
    }

    /// Records a message of `guild`'s post of `week`, right after sending it.
    /// Recording the same message again (Discord answers a resent nonce with
    /// the message it already made) changes nothing.
    pub async fn record_posted_message(
        &self,
        guild: u64,
        week: PrayerWeek,
        message: PostedMessage,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO posted_messages (message_id, guild_id, week, channel_id, request_id, part, sent_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(sql_id(message.message_id))
        .bind(sql_id(guild))
        .bind(week.to_string())
        .bind(sql_id(message.channel_id))
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
        guild: u64,
        week: PrayerWeek,
    ) -> Result<Vec<PostedMessage>, StorageError> {
        sqlx::query(
            "SELECT message_id, channel_id, request_id, part FROM posted_messages
             WHERE guild_id = ? AND week = ? ORDER BY rowid",
        )
        .bind(sql_id(guild))
        .bind(week.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            let part: i64 = row.try_get("part")?;
            Ok(PostedMessage {
                message_id: discord_id(row.try_get("message_id")?),
                channel_id: discord_id(row.try_get("channel_id")?),
                request_id: row.try_get("request_id")?,
                part: u32::try_from(part)
                    .map_err(|_| StorageError::Corrupt(format!("message part {part}")))?,
            })
        })
        .collect()
    }

    /// Marks `guild`'s post of `week` complete.
    pub async fn finish_week_post(
        &self,
        guild: u64,
        week: PrayerWeek,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        sqlx::query("UPDATE week_posts SET finished_at = ? WHERE guild_id = ? AND week = ?")
            .bind(now)
            .bind(sql_id(guild))
            .bind(week.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
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

/// The connect options for `location`, before any choice of mode.
fn base_options(location: &str) -> Result<SqliteConnectOptions, StorageError> {
    if location.starts_with("sqlite:") {
        SqliteConnectOptions::from_str(location).map_err(|e| StorageError::Open {
            location: location.to_owned(),
            reason: sqlx_message(&e),
        })
    } else {
        Ok(SqliteConnectOptions::new().filename(location))
    }
}

fn is_in_memory(location: &str, options: &SqliteConnectOptions) -> bool {
    location.contains(":memory:") || options.get_filename().as_os_str().is_empty()
}

/// Takes the exclusive lock on `<database>.lock`, waiting up to
/// [`SETUP_LOCK_TIMEOUT`] for another process to finish setting up. The
/// lock is released when the returned file is dropped (or the process
/// ends, however it ends). The empty file stays: removing it would let a
/// third process lock a new file while a second still holds the old one.
async fn lock_for_setup(database: &std::path::Path) -> Result<std::fs::File, String> {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    let path = std::path::PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| {
            format!(
                "cannot create its lock file {}: {}",
                path.display(),
                crate::read::io_message(&e)
            )
        })?;
    let deadline = std::time::Instant::now() + SETUP_LOCK_TIMEOUT;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(format!(
                    "another process has held its lock file {} for {} seconds; is one stuck?",
                    path.display(),
                    SETUP_LOCK_TIMEOUT.as_secs()
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(format!(
                    "cannot lock {}: {}",
                    path.display(),
                    crate::read::io_message(&e)
                ));
            }
        }
    }
}

/// Why a read-only open failed: because SQLite could not make the files
/// that let readers share a WAL database (try again as immutable), or
/// anything else.
enum ReadOnlyError {
    CannotShare(StorageError),
    Other(StorageError),
}

async fn connect_read_only(
    options: SqliteConnectOptions,
    location: &str,
) -> Result<Store, ReadOnlyError> {
    let open_error = |error: &sqlx::Error| StorageError::Open {
        location: location.to_owned(),
        reason: sqlx_message(error),
    };
    // SQLITE_READONLY (8) and SQLITE_CANTOPEN (14) are what SQLite answers
    // when it cannot create or write the `-shm` file a WAL reader needs.
    let classify = |error: &sqlx::Error| match sqlite_code(error) {
        Some(8 | 14) => ReadOnlyError::CannotShare(open_error(error)),
        _ => ReadOnlyError::Other(open_error(error)),
    };
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(|e| classify(&e))?;
    let checked = check_schema(&pool, location).await;
    match checked {
        Ok(()) => Ok(Store { pool }),
        Err(SchemaCheck::Failed(error)) => {
            pool.close().await;
            Err(classify(&error))
        }
        Err(SchemaCheck::Differs(error)) => {
            pool.close().await;
            Err(ReadOnlyError::Other(error))
        }
    }
}

enum SchemaCheck {
    /// The check could not be made.
    Failed(sqlx::Error),
    /// The check was made and the schema is not this version's.
    Differs(StorageError),
}

impl From<sqlx::Error> for SchemaCheck {
    fn from(error: sqlx::Error) -> Self {
        SchemaCheck::Failed(error)
    }
}

/// Compares the migrations applied to the database with the ones this
/// version embeds; a read-only open cannot apply what is missing.
async fn check_schema(pool: &SqlitePool, location: &str) -> Result<(), SchemaCheck> {
    let differs = |problem: String| {
        SchemaCheck::Differs(StorageError::Schema {
            location: location.to_owned(),
            problem,
        })
    };
    let has_table: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
    )
    .fetch_one(pool)
    .await?;
    if !has_table {
        return Err(differs(
            "is not a prayer-bot database: it has none of its tables".to_owned(),
        ));
    }
    let applied: Vec<(i64, Vec<u8>)> = sqlx::query_as(
        "SELECT version, checksum FROM _sqlx_migrations WHERE success = 1 ORDER BY version",
    )
    .fetch_all(pool)
    .await?;
    let known: Vec<(i64, &[u8])> = MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| (m.version, m.checksum.as_ref()))
        .collect();
    if applied
        .iter()
        .any(|(version, _)| !known.iter().any(|(v, _)| v == version))
    {
        return Err(differs(
            "was written by a newer prayer-bot; use that version to read it".to_owned(),
        ));
    }
    for (version, checksum) in &known {
        match applied.iter().find(|(v, _)| v == version) {
            None => {
                return Err(differs(
                    "was written by an older prayer-bot and is not up to date; \
                     `prayer-bot import` or `prayer-bot run` brings it up to date"
                        .to_owned(),
                ));
            }
            Some((_, stored)) if stored.as_slice() != *checksum => {
                return Err(differs(format!(
                    "has a schema that does not match this version's migration {version}"
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
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
    const GUILD: u64 = 1_234_567_890_123_456_789;

    /// Imports `text` without force, its fingerprint standing for the text.
    async fn put(
        store: &Store,
        scope: Scope,
        text: &str,
        placement: Placement,
    ) -> Result<ImportOutcome, StorageError> {
        let b = bulletin(text);
        store
            .import(scope, &b, &b.fingerprint(), placement, false, "test", now())
            .await
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
            TWO,
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
            .import(
                Scope::Guild(GUILD),
                &b,
                &b.fingerprint(),
                Placement::Exactly(w),
                true,
                "t",
                now(),
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
        let other = put(&store, Scope::Guild(GUILD + 1), TWO, Placement::Exactly(w)).await?;
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
        let other = store.week(Scope::Guild(7), w).await?.expect("shared");
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

    #[tokio::test]
    async fn a_week_post_is_claimed_once_and_its_messages_recorded() -> Result<(), StorageError> {
        let store = store().await;
        let w = week("2026-11-23");
        put(&store, Scope::Shared, ONE, Placement::Exactly(w)).await?;
        let stored = store.week(Scope::Guild(GUILD), w).await?.expect("stored");
        assert_eq!(
            store
                .claim_week_post(GUILD, w, stored.bulletin_id, now())
                .await?,
            WeekPostClaim::Claimed
        );
        assert_eq!(
            store
                .claim_week_post(GUILD, w, stored.bulletin_id, now())
                .await?,
            WeekPostClaim::Unfinished
        );
        let message = PostedMessage {
            message_id: u64::MAX - 1,
            channel_id: 42,
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
        assert_eq!(
            store
                .claim_week_post(GUILD, w, stored.bulletin_id, now())
                .await?,
            WeekPostClaim::Finished
        );
        assert_eq!(
            store
                .claim_week_post(7, w, stored.bulletin_id, now())
                .await?,
            WeekPostClaim::Claimed
        );
        Ok(())
    }

    #[tokio::test]
    async fn channel_settings_route_regions_case_insensitively() -> Result<(), StorageError> {
        let store = store().await;
        assert_eq!(
            store.channel_settings(GUILD).await?,
            ChannelSettings::default()
        );
        store.set_default_channel(GUILD, 10, now()).await?;
        store.set_region_channel(GUILD, "latin america", 11).await?;
        store.set_region_channel(GUILD, "Latin America", 12).await?;
        let settings = store.channel_settings(GUILD).await?;
        assert_eq!(settings.default_channel, Some(10));
        assert_eq!(settings.region_channels, [("Latin America".to_owned(), 12)]);
        Ok(())
    }

    #[test]
    fn discord_ids_round_trip_through_sqlite_integers() {
        for id in [0, 1, i64::MAX as u64, u64::MAX] {
            assert_eq!(discord_id(sql_id(id)), id);
        }
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

    fn temporary() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("prayer.db");
        let location = path.to_str().expect("a UTF-8 path").to_owned();
        (dir, location)
    }

    #[tokio::test]
    async fn reading_a_database_that_is_not_there_creates_nothing() {
        let (dir, location) = temporary();
        let error = Store::open_read_only(&location)
            .await
            .err()
            .expect("no database");
        assert_eq!(error.to_string(), format!("no database at {location}"));
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("reads").collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[tokio::test]
    async fn a_database_missing_a_migration_is_refused_read_only_saying_how_to_update_it()
    -> Result<(), StorageError> {
        let (_dir, location) = temporary();
        let store = Store::open(&location).await?;
        store
            .import(
                Scope::Shared,
                &bulletin(TWO),
                "two",
                Placement::Exactly(week("2026-11-23")),
                false,
                "two.txt",
                now(),
            )
            .await?;
        sqlx::query("DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)")
            .execute(&store.pool)
            .await?;
        store.close().await;
        let error = Store::open_read_only(&location)
            .await
            .err()
            .expect("outdated");
        assert_eq!(
            error.to_string(),
            format!(
                "the database {location} was written by an older prayer-bot and is not up to date; `prayer-bot import` or `prayer-bot run` brings it up to date"
            )
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_prayer_bot_database_is_refused_read_only() {
        let (_dir, location) = temporary();
        std::fs::write(&location, b"").expect("an empty file");
        let error = Store::open_read_only(&location)
            .await
            .err()
            .expect("refused");
        assert_eq!(
            error.to_string(),
            format!(
                "the database {location} is not a prayer-bot database: it has none of its tables"
            )
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_database_in_a_directory_we_cannot_write_is_still_read() -> Result<(), StorageError> {
        use std::os::unix::fs::PermissionsExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } == 0 {
            eprintln!("skipped: root writes to any directory, so this cannot be tested as root");
            return Ok(());
        }
        let (dir, location) = temporary();
        let store = Store::open(&location).await?;
        store
            .import(
                Scope::Shared,
                &bulletin(TWO),
                "two",
                Placement::Exactly(week("2026-11-23")),
                false,
                "two.txt",
                now(),
            )
            .await?;
        store.close().await;
        let mode =
            |mode| std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(mode));
        mode(0o555).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let read = async {
            let store = Store::open_read_only(&location).await?;
            let found = store.week(Scope::Shared, week("2026-11-23")).await;
            store.close().await;
            found
        }
        .await;
        mode(0o755).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        assert!(read?.is_some());
        Ok(())
    }
}
