//! The SQLite store: every SQL statement of the bot lives in this module, and
//! nothing outside it knows the schema. Knows nothing of Discord or the CLI.
//!
//! Queries are checked at run time (`sqlx::query`), not by `query!` macros,
//! so the project builds without a database or committed `.sqlx` data; every
//! statement is exercised by the tests beside it.
//!
//! One file per group of tables, each adding its own methods to [`Store`]:
//! `bulletins.rs` (bulletins, their requests and notes), `settings.rs`
//! (where a server's posts go), `posts.rs` (the weekly posts and the
//! messages they sent), `prayers.rs` (what members said about requests,
//! praises, notify settings), `schedule.rs` (when each server posts, and
//! the problems its posts ran into), `corrections.rs` (admins' corrections,
//! unposts and their log). This file opens the database and holds what they
//! share.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::bulletins::week::PrayerWeek;
use crate::ids::GuildId;

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
    /// What one backend cannot do; the text says what to do instead.
    #[error("{0}")]
    Unsupported(&'static str),
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
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

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
    Guild(GuildId),
}

impl Scope {
    /// The `guild_id` column's value: 0 for shared bulletins.
    fn column(self) -> i64 {
        match self {
            Scope::Shared => 0,
            Scope::Guild(id) => id.to_sql(),
        }
    }
}

pub use crate::ids::{discord_id, sql_id};

/// Runs `$body` with `$pool` bound to the store's own pool, whichever the
/// backend: for tests that look at rows directly.
#[cfg(test)]
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            crate::storage::Backend::Sqlite(sql) => {
                let $pool = &sql.pool;
                $body
            }
            crate::storage::Backend::Postgres(sql) => {
                let $pool = &sql.pool;
                $body
            }
        }
    };
}

mod backup;
mod bulletins;
mod cache;
mod copy;
mod corrections;
mod feed;
mod identify;
mod ids;
mod members;
mod nudges;
mod posts;
mod prayers;
mod recap;
mod schedule;
mod settings;

pub use backup::Contents;
pub use bulletins::{BulletinImport, Held, ImportOutcome, StoredWeek};
pub use copy::Counts;
pub use corrections::{AdminAction, CorrectionRecord, UnpostClaim};
pub use feed::FEED_INTERVAL;
pub use members::{MemberRequest, NewMemberRequest};
pub use nudges::NudgeServer;
pub use posts::{PostedMessage, WeekPostClaim};
pub use prayers::{
    AnsweredPraise, Forgotten, GuildRequest, PostedIn, PraiseOutcome, UnreadPost, WeekTracking,
};
pub use recap::RecapSetting;
pub use schedule::{LastPost, PostProblem, WeekState};
pub use settings::ChannelSettings;

/// Opens and migrates an in-memory database. Each connection to
/// `:memory:` is its own empty database, and no other process can see it:
/// one connection, no lock.
async fn open_in_memory(
    location: &str,
    options: SqliteConnectOptions,
) -> Result<Store, StorageError> {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(|e| StorageError::Open {
            location: location.to_owned(),
            reason: sqlx_message(&e),
        })?;
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|e| migrate_error(location, &e))?;
    Ok(Store::on_sqlite(pool))
}

/// Sets the database file up, under the setup lock: WAL, a copy of it
/// before its schema changes, and the migrations.
async fn set_up_file(
    pool: &SqlitePool,
    location: &str,
    file: &std::path::Path,
) -> Result<(), StorageError> {
    let mut connection = pool.acquire().await?;
    // WAL lets readers and the writer work at once.
    sqlx::query("PRAGMA journal_mode = WAL")
        .execute(&mut *connection)
        .await?;
    if let Some(copy) = backup::backup_before_migrating(&mut connection, file).await? {
        tracing::info!(
            backup = %copy.display(),
            "the database's schema is about to change; a copy of it as it was is kept"
        );
    }
    MIGRATOR
        .run(&mut *connection)
        .await
        .map_err(|e| migrate_error(location, &e))
}

/// The error of a migration that failed on the database at `location`.
fn migrate_error(location: &str, error: &sqlx::migrate::MigrateError) -> StorageError {
    StorageError::Migrate {
        location: location.to_owned(),
        reason: migrate_message(error),
    }
}

/// The bot's store: one interface (the methods listed in `interface.rs`)
/// over two backends, SQLite (embedded, the default) and Postgres (for
/// many processes), each running the statements of `sql/`.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// The weeks `/prayer week` and its like read again and again.
    cache: std::sync::Arc<cache::WeekCache>,
}

#[derive(Clone)]
enum Backend {
    Sqlite(on_sqlite::sql::Sql),
    Postgres(on_postgres::sql::Sql),
}

impl Store {
    fn on_sqlite(pool: SqlitePool) -> Store {
        Store::with(Backend::Sqlite(on_sqlite::sql::Sql { pool }))
    }

    fn with(backend: Backend) -> Store {
        Store {
            backend,
            cache: Default::default(),
        }
    }

    /// The SQLite pool, for what only SQLite has (backups, pragmas).
    fn sqlite(&self) -> Option<&SqlitePool> {
        match &self.backend {
            Backend::Sqlite(sql) => Some(&sql.pool),
            Backend::Postgres(_) => None,
        }
    }
}

mod on_sqlite;

mod on_postgres;

mod interface;

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
        if on_postgres::is_postgres(location) {
            return on_postgres::open(location, true).await;
        }
        let open_error = |reason: String| StorageError::Open {
            location: location.to_owned(),
            reason,
        };
        let options = base_options(location)?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        if is_in_memory(location, &options) {
            return open_in_memory(location, options).await;
        }
        let file = options.get_filename().to_owned();
        let lock = lock_for_setup(&file).await.map_err(open_error)?;
        // With WAL, NORMAL sync never corrupts the file; a power cut can
        // lose only the last commits, which a re-import restores. The
        // journal mode is set once below, under the lock, not by every new
        // connection: WAL is a property of the file and stays.
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.synchronous(SqliteSynchronous::Normal))
            .await
            .map_err(|e| open_error(sqlx_message(&e)))?;
        let result = set_up_file(&pool, location, &file).await;
        drop(lock);
        match result {
            Ok(()) => Ok(Store::on_sqlite(pool)),
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
        if on_postgres::is_postgres(location) {
            return on_postgres::open(location, false).await;
        }
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
        match &self.backend {
            Backend::Sqlite(sql) => sql.pool.close().await,
            Backend::Postgres(sql) => sql.pool.close().await,
        }
    }
}

/// `location` as a person should read it in a log: the database file's
/// absolute path (or the location as given when it names no file).
pub fn describe_location(location: &str) -> String {
    if on_postgres::is_postgres(location) {
        return on_postgres::shown(location);
    }
    match base_options(location) {
        Ok(options) if !is_in_memory(location, &options) => {
            std::path::absolute(options.get_filename())
                .map_or_else(|_| location.to_owned(), |p| p.display().to_string())
        }
        _ => location.to_owned(),
    }
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
        Ok(()) => Ok(Store::on_sqlite(pool)),
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

/// How a database opened read-only is not this version's, in the words of
/// [`StorageError::Schema`], on either backend.
const NOT_OURS: &str = "is not a prayer-bot database: it has none of its tables";
const NEWER: &str = "was written by a newer prayer-bot; use that version to read it";
const OLDER: &str = "was written by an older prayer-bot and is not up to date; \
                     `prayer-bot import` or `prayer-bot run` brings it up to date";

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
        return Err(differs(NOT_OURS.to_owned()));
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
        return Err(differs(NEWER.to_owned()));
    }
    for (version, checksum) in &known {
        match applied.iter().find(|(v, _)| v == version) {
            None => {
                return Err(differs(OLDER.to_owned()));
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

/// A weekday stored as a number (0 = Monday .. 6 = Sunday); `what` names
/// the column for the error.
fn parse_weekday(number: i64, what: &str) -> Result<chrono::Weekday, StorageError> {
    u8::try_from(number)
        .ok()
        .and_then(|day| chrono::Weekday::try_from(day).ok())
        .ok_or_else(|| StorageError::Corrupt(format!("{what} {number}")))
}

fn parse_week(text: &str) -> Result<PrayerWeek, StorageError> {
    text.parse()
        .map_err(|e| StorageError::Corrupt(format!("week `{text}`: {e}")))
}

/// For tests and benches: the Postgres database that
/// `PRAYER_BOT_TEST_POSTGRES` names, if it names one.
#[doc(hidden)]
pub fn test_server() -> Option<String> {
    std::env::var("PRAYER_BOT_TEST_POSTGRES")
        .ok()
        .filter(|server| !server.is_empty())
}

/// Whether `location` names a Postgres database (`postgres://…`).
pub fn is_postgres(location: &str) -> bool {
    on_postgres::is_postgres(location)
}

/// For tests: a new schema in the Postgres database at `server`, and the
/// address that makes it the only one a connection sees.
#[doc(hidden)]
pub async fn test_schema(server: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let schema = format!(
        "test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let pool = sqlx::PgPool::connect(server)
        .await
        .unwrap_or_else(|e| panic!("the test server {server} answers: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&pool)
        .await
        .unwrap_or_else(|e| panic!("a schema is made: {e}"));
    pool.close().await;
    let joiner = if server.contains('?') { '&' } else { '?' };
    format!("{server}{joiner}options=-csearch_path%3D{schema}")
}

/// What the storage tests share: a fresh store, fixtures and an import.
#[cfg(test)]
pub(crate) mod fixtures {
    pub use super::{ImportOutcome, Scope, StorageError, Store};
    pub use crate::bulletins::parse::Bulletin;
    pub use crate::bulletins::week::{Placement, PrayerWeek};
    pub use crate::ids::{ChannelId, GuildId, MessageId};
    pub use chrono::{DateTime, Utc};

    use crate::bulletins::parse::parse_bulletin;

    /// A new empty store: in memory on SQLite, or, when
    /// `PRAYER_BOT_TEST_POSTGRES` names a Postgres database, in a schema of
    /// its own there (so every test that uses this runs on Postgres too).
    pub async fn store() -> Store {
        let location = match super::test_server() {
            Some(server) => super::test_schema(&server).await,
            None => "sqlite::memory:".to_owned(),
        };
        match Store::open(&location).await {
            Ok(store) => store,
            Err(error) => panic!("a new store opens at {location}: {error}"),
        }
    }

    pub fn bulletin(text: &str) -> Bulletin {
        parse_bulletin(text).unwrap_or_else(|e| panic!("fixture parses: {e}"))
    }

    pub fn week(text: &str) -> PrayerWeek {
        text.parse().unwrap_or_else(|e| panic!("fixture week: {e}"))
    }

    pub fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default()
    }

    pub const ONE: &str = "IJM Prayer Requests\n“Seek justice.”\n— Isaiah 1:17\n\nAfrica\n• Pray for Kenya.\n\nNote without a plea.\n\nAsia\n• Praise God for Nepal.\n";
    pub const TWO: &str = "IJM Prayer Requests\n\nAfrica\n• Pray for Ghana.\n";
    pub const GUILD: GuildId = GuildId::of::<1_234_567_890_123_456_789>();

    /// A shared bulletin for the week of 2026-11-23, posted in [`GUILD`]
    /// to channel 42: the header is message 499, the first request's
    /// message 500. Returns the week's request ids.
    pub async fn posted(store: &Store) -> Result<Vec<crate::ids::RequestId>, StorageError> {
        let w = week("2026-11-23");
        put(store, Scope::Shared, ONE, Placement::Exactly(w)).await?;
        let stored = store.week(Scope::Guild(GUILD), w).await?.expect("stored");
        store
            .claim_week_post(GUILD, w, stored.bulletin_id, now())
            .await?;
        for (message_id, request_id) in [(499, None), (500, Some(stored.request_ids[0]))] {
            let message = super::PostedMessage {
                message_id: MessageId::try_new(message_id).expect("ids are not 0"),
                channel_id: ChannelId::of::<42>(),
                request_id,
                part: 0,
            };
            store
                .record_posted_message(GUILD, w, message, now())
                .await?;
        }
        Ok(stored.request_ids.into_iter().collect())
    }

    /// Imports `text` without force, its fingerprint standing for the text.
    pub async fn put(
        store: &Store,
        scope: Scope,
        text: &str,
        placement: Placement,
    ) -> Result<ImportOutcome, StorageError> {
        let b = bulletin(text);
        store
            .import_to(
                scope,
                &crate::storage::BulletinImport {
                    bulletin: &b,
                    fingerprint: &b.fingerprint(),
                    placement,
                    named: false,
                    force: false,
                    source: "test",
                    now: now(),
                },
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::fixtures::*;

    fn temporary() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("prayer.db");
        let location = path.to_str().expect("a UTF-8 path").to_owned();
        (dir, location)
    }

    #[tokio::test]
    async fn a_file_database_is_created_in_wal_mode_with_foreign_keys() -> Result<(), StorageError>
    {
        let dir = tempfile::tempdir().map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let path = dir.path().join("new.db");
        let store = Store::open(path.to_str().unwrap_or_default()).await?;
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(store.sqlite().expect("a SQLite store"))
            .await?;
        let keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(store.sqlite().expect("a SQLite store"))
            .await?;
        assert_eq!((mode.as_str(), keys), ("wal", 1));
        store.close().await;
        assert!(path.exists());
        Ok(())
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
            .import_to(
                Scope::Shared,
                &crate::storage::BulletinImport {
                    bulletin: &bulletin(TWO),
                    fingerprint: "two",
                    placement: Placement::Exactly(week("2026-11-23")),
                    named: false,
                    force: false,
                    source: "two.txt",
                    now: now(),
                },
            )
            .await?;
        sqlx::query("DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)")
            .execute(store.sqlite().expect("a SQLite store"))
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
            .import_to(
                Scope::Shared,
                &crate::storage::BulletinImport {
                    bulletin: &bulletin(TWO),
                    fingerprint: "two",
                    placement: Placement::Exactly(week("2026-11-23")),
                    named: false,
                    force: false,
                    source: "two.txt",
                    now: now(),
                },
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
