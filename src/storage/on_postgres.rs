//! The statements of `sql/` on Postgres, with what Postgres says its own
//! way.

pub(crate) type Db = sqlx::Postgres;
pub(crate) const POSTGRES: bool = true;

/// An instant as a lease column (`TIMESTAMPTZ`) holds it.
pub(crate) fn lease_time(instant: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    instant
}

macro_rules! ids_in {
    ($p:literal) => {
        concat!(
            "(SELECT CAST(value AS BIGINT) FROM jsonb_array_elements_text(CAST(",
            $p,
            " AS JSONB)) AS ids (value))"
        )
    };
}

macro_rules! pairs_in {
    ($p:literal) => {
        concat!(
            "SELECT n - 1, CAST(value->>0 AS BIGINT), value->>1 FROM jsonb_array_elements(CAST(",
            $p,
            " AS JSONB)) WITH ORDINALITY AS pairs (value, n)"
        )
    };
}

macro_rules! random_salt {
    () => {
        "SELECT uuid_send(gen_random_uuid())"
    };
}

// Deliberately the same files as the other backend's: one text of each
// statement, compiled for this backend's types.
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
pub(crate) mod sql;

use std::str::FromStr;
use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};

use super::{Backend, StorageError, Store, migrate_error, sqlx_message};

/// The schema on Postgres, as the files under `migrations/postgres/` say.
/// sqlx's migrator holds an advisory lock while it runs there, so many
/// processes may open one database at once.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connections per process: the scheduler, the reaction recorder and the
/// commands each hold one at a time.
const CONNECTIONS: u32 = 8;

/// How long opening, or a statement waiting for a connection, waits.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Whether `location` names a Postgres database.
pub(super) fn is_postgres(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// How much of an address a log or an error shows.
const SHOWN: usize = 120;

/// `location` as a log or an error may show it: without its password, and
/// cut short past [`SHOWN`] characters.
pub(super) fn shown(location: &str) -> String {
    let whole = match PgConnectOptions::from_str(location) {
        Ok(options) => format!(
            "postgres://{}@{}:{}/{}",
            options.get_username(),
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or_default()
        ),
        Err(_) => "a Postgres address that cannot be read".to_owned(),
    };
    if whole.chars().count() <= SHOWN {
        return whole;
    }
    let mut cut: String = whole.chars().take(SHOWN).collect();
    cut.push('…');
    cut
}

/// Connects to the Postgres database at `location`; with `migrate`,
/// brings its schema up to date, else refuses one that is not this
/// version's.
pub(super) async fn open(location: &str, migrate: bool) -> Result<Store, StorageError> {
    let shown = shown(location);
    let open_error = |reason: String| StorageError::Open {
        location: shown.clone(),
        reason,
    };
    let options = PgConnectOptions::from_str(location).map_err(|e| open_error(sqlx_message(&e)))?;
    // One connection first, so a server that cannot be reached is said in
    // its own words ("Connection refused"), not as a pool's timeout.
    let first = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options))
        .await
        .map_err(|_| open_error(format!("no answer in {} s", CONNECT_TIMEOUT.as_secs())))?
        .map_err(|e| open_error(sqlx_message(&e)))?;
    first
        .close()
        .await
        .map_err(|e| open_error(sqlx_message(&e)))?;
    let pool = PgPoolOptions::new()
        .max_connections(CONNECTIONS)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|e| open_error(sqlx_message(&e)))?;
    let ready = if migrate {
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| migrate_error(&shown, &e))
    } else {
        check_schema(&pool, &shown).await
    };
    if let Err(error) = ready {
        pool.close().await;
        return Err(error);
    }
    Ok(Store::with(Backend::Postgres(sql::Sql { pool })))
}

/// Refuses a database whose applied migrations are not this version's.
async fn check_schema(pool: &sqlx::PgPool, shown: &str) -> Result<(), StorageError> {
    let differs = |problem: &str| StorageError::Schema {
        location: shown.to_owned(),
        problem: problem.to_owned(),
    };
    let has_table: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !has_table {
        return Err(differs(super::NOT_OURS));
    }
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await?;
    let known: Vec<i64> = MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| m.version)
        .collect();
    if applied.iter().any(|version| !known.contains(version)) {
        return Err(differs(super::NEWER));
    }
    if known.iter().any(|version| !applied.contains(version)) {
        return Err(differs(super::OLDER));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_shown_without_its_password_and_cut_short() {
        assert_eq!(
            shown("postgres://bot:secret@db.example:5433/prayer"),
            "postgres://bot@db.example:5433/prayer"
        );
        let long = format!("postgres://bot:secret@db/{}", "a".repeat(100_000));
        let said = shown(&long);
        assert_eq!(said.chars().count(), SHOWN + 1, "{said}");
        assert!(said.ends_with('…') && !said.contains("secret"), "{said}");
    }
}
