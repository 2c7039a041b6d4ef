//! Backups: a consistent copy of the database while others write to it
//! (`prayer-bot backup`), and the copy taken by itself before a migration
//! changes the schema of a database that already holds data.

use std::path::{Path, PathBuf};

use sqlx::SqliteConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use super::{Backend, MIGRATOR, StorageError, Store, sqlx_message};

/// What a database holds, as `run` and `backup` report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contents {
    /// Bulletins stored, shared and per server.
    pub bulletins: usize,
    /// Servers that ran `/prayer setup`.
    pub servers: usize,
}

impl Store {
    /// Writes one consistent snapshot of the database to `file`, a new file
    /// (SQLite's `VACUUM INTO`: the pages as of one read transaction, so a
    /// writer going on at the same time is neither blocked for long nor
    /// half copied). Returns what the copy holds, read from the copy.
    pub async fn backup_to(&self, file: &Path) -> Result<Contents, StorageError> {
        let target = file.to_string_lossy().into_owned();
        let Some(pool) = self.sqlite() else {
            return Err(StorageError::Unsupported(
                "`prayer-bot backup` copies a SQLite database; back up Postgres with pg_dump",
            ));
        };
        sqlx::query("VACUUM INTO ?")
            .bind(&target)
            .execute(pool)
            .await?;
        let copy = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                SqliteConnectOptions::new()
                    .filename(file)
                    .read_only(true)
                    .immutable(true),
            )
            .await
            .map_err(|e| StorageError::Open {
                location: target.clone(),
                reason: sqlx_message(&e),
            })?;
        let mut connection = copy.acquire().await?;
        let check: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut *connection)
            .await?;
        if check != "ok" {
            return Err(StorageError::Corrupt(format!(
                "the backup {target} failed its integrity check: {check}"
            )));
        }
        let contents = contents(&mut connection).await;
        drop(connection);
        copy.close().await;
        contents
    }

    /// What this database holds, for the log line at start.
    pub async fn contents(&self) -> Result<Contents, StorageError> {
        let (bulletins, servers): (i64, i64) = match &self.backend {
            Backend::Sqlite(sql) => sqlx::query_as(CONTENTS).fetch_one(&sql.pool).await?,
            Backend::Postgres(sql) => sqlx::query_as(CONTENTS).fetch_one(&sql.pool).await?,
        };
        Ok(Contents::counted(bulletins, servers))
    }
}

/// What [`Contents`] counts, in one statement both backends read.
const CONTENTS: &str = "SELECT (SELECT COUNT(*) FROM bulletins WHERE kind = 'bulletin'), (SELECT COUNT(*) FROM guild_settings)";

impl Contents {
    fn counted(bulletins: i64, servers: i64) -> Contents {
        Contents {
            bulletins: usize::try_from(bulletins).unwrap_or(0),
            servers: usize::try_from(servers).unwrap_or(0),
        }
    }
}

async fn contents(connection: &mut SqliteConnection) -> Result<Contents, StorageError> {
    let (bulletins, servers): (i64, i64) =
        sqlx::query_as(CONTENTS).fetch_one(&mut *connection).await?;
    Ok(Contents::counted(bulletins, servers))
}

/// Before migrating a database that already has part of the schema, copies
/// it to `<database>.before-<first pending version>.bak`, so an upgrade that
/// goes wrong can be undone. Returns the copy's path when one was taken. A
/// new database (no migration applied yet) and one already up to date are
/// not copied; a copy left by an earlier attempt at the same upgrade is
/// kept as it is.
pub(super) async fn backup_before_migrating(
    connection: &mut SqliteConnection,
    database: &Path,
) -> Result<Option<PathBuf>, StorageError> {
    let has_table: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&mut *connection)
    .await?;
    if has_table == 0 {
        return Ok(None);
    }
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = 1")
            .fetch_all(&mut *connection)
            .await?;
    if applied.is_empty() {
        return Ok(None);
    }
    let Some(first_pending) = MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| m.version)
        .find(|version| !applied.contains(version))
    else {
        return Ok(None);
    };
    let mut name = database.as_os_str().to_owned();
    name.push(format!(".before-{first_pending}.bak"));
    let path = PathBuf::from(name);
    if !path.exists() {
        sqlx::query("VACUUM INTO ?")
            .bind(path.to_string_lossy().into_owned())
            .execute(&mut *connection)
            .await?;
    }
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use std::borrow::Cow;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default()
    }

    #[tokio::test]
    async fn a_backup_taken_while_another_task_writes_is_whole_and_consistent() {
        let dir = tempfile::tempdir().expect("a directory");
        let location = dir.path().join("bot.db");
        let store = Store::open(&location.to_string_lossy())
            .await
            .expect("opens");
        let writer = {
            let store = store.clone();
            tokio::spawn(async move {
                for guild in 1..=400u64 {
                    store
                        .set_default_channel(
                            crate::ids::GuildId::try_new(guild).expect("ids are not 0"),
                            crate::ids::ChannelId::of::<7>(),
                            now(),
                        )
                        .await
                        .expect("writes");
                }
            })
        };
        // Several copies while the writes go on; each is one instant's.
        let mut seen = Vec::new();
        for i in 0..4 {
            let copy = dir.path().join(format!("copy-{i}.db"));
            let contents = store.backup_to(&copy).await.expect("backs up");
            seen.push(contents.servers);
            tokio::task::yield_now().await;
        }
        writer.await.expect("the writer ends");
        let last = dir.path().join("last.db");
        let contents = store.backup_to(&last).await.expect("backs up");
        assert_eq!(contents.servers, 400, "the last copy has every write");
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
        let reopened = Store::open_read_only(&last.to_string_lossy())
            .await
            .expect("the copy opens as a database of this version");
        assert_eq!(reopened.contents().await.expect("reads").servers, 400);
        assert!(
            store.backup_to(&last).await.is_err(),
            "VACUUM INTO never overwrites"
        );
    }

    #[tokio::test]
    async fn a_database_is_copied_before_a_migration_changes_it_and_only_then() {
        let dir = tempfile::tempdir().expect("a directory");
        let location = dir.path().join("old.db");
        // The database as an older version left it: all but the last
        // migration applied, and some data.
        let all = MIGRATOR.migrations.len();
        let older = sqlx::migrate::Migrator {
            migrations: Cow::Owned(MIGRATOR.migrations[..all - 1].to_vec()),
            ..sqlx::migrate::Migrator::DEFAULT
        };
        {
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(
                    SqliteConnectOptions::new()
                        .filename(&location)
                        .create_if_missing(true),
                )
                .await
                .expect("creates");
            older
                .run(&pool)
                .await
                .expect("migrates to the older schema");
            sqlx::query("INSERT INTO guild_settings (guild_id, default_channel_id, updated_at) VALUES (5, 6, '2026-12-01T00:00:00Z')")
                .execute(&pool)
                .await
                .expect("writes");
            pool.close().await;
        }
        let pending = MIGRATOR.migrations[all - 1].version;
        let expected = dir.path().join(format!("old.db.before-{pending}.bak"));
        let store = Store::open(&location.to_string_lossy())
            .await
            .expect("opens and migrates");
        store.close().await;
        assert!(expected.exists(), "a copy was taken before migrating");
        let copy = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                SqliteConnectOptions::new()
                    .filename(&expected)
                    .read_only(true),
            )
            .await
            .expect("the copy opens");
        let versions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&copy)
            .await
            .expect("reads");
        assert_eq!(
            versions,
            i64::try_from(all - 1).unwrap_or(0),
            "the copy is the old schema"
        );
        copy.close().await;
        std::fs::remove_file(&expected).expect("removes the copy");
        // Up to date now: opening again copies nothing, nor does a new one.
        Store::open(&location.to_string_lossy())
            .await
            .expect("opens")
            .close()
            .await;
        let fresh = dir.path().join("new.db");
        Store::open(&fresh.to_string_lossy())
            .await
            .expect("creates")
            .close()
            .await;
        let copies: Vec<_> = std::fs::read_dir(dir.path())
            .expect("lists")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".bak"))
            .collect();
        assert!(copies.is_empty(), "{copies:?}");
    }
}
