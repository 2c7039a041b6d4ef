//! The store's statements, written once and compiled once per backend:
//! `storage/mod.rs` includes this folder twice, in `on_sqlite` (where
//! `Db` is `sqlx::Sqlite`) and in `on_postgres` (`sqlx::Postgres`), so
//! each copy is plain, concrete sqlx code. Statements use `$1`-style
//! parameters, which both backends read; where the two dialects differ, a
//! statement says so with [`POSTGRES`].

pub(crate) use super::{Db, POSTGRES, lease_time};

/// The key of the advisory lock [`Sql::begin_writing`] takes on Postgres
/// ("prayer" in ASCII).
const WRITE_LOCK: i64 = 0x7072_6179_6572;

/// A row and a connection of this backend.
pub(crate) type DbRow = <Db as sqlx::Database>::Row;
pub(crate) type DbConnection = <Db as sqlx::Database>::Connection;

/// The statements of one backend, over its connection pool.
#[derive(Clone)]
pub(crate) struct Sql {
    pub(crate) pool: sqlx::Pool<Db>,
}

impl Sql {
    /// Begins a transaction that writes, queued behind any other: SQLite's
    /// `BEGIN IMMEDIATE` takes its one write lock up front; Postgres takes
    /// one transaction-level advisory lock, released at commit or
    /// rollback. So a transaction that reads and then writes (an import
    /// choosing a free week, a member's weekly limit, forget-me) sees what
    /// the one before it wrote, on either backend and from any process.
    /// Single statements (leases, claims, marks) need no such lock.
    pub(crate) async fn begin_writing(
        &self,
    ) -> Result<sqlx::Transaction<'static, Db>, sqlx::Error> {
        if POSTGRES {
            let mut tx = self.pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(WRITE_LOCK)
                .execute(&mut *tx)
                .await?;
            Ok(tx)
        } else {
            self.pool.begin_with("BEGIN IMMEDIATE").await
        }
    }
}

/// The requests of a week a server sees, as a `requested` CTE (server
/// `$1`, week `$2`): the bulletin it sees for the week, and its members'
/// own requests not withdrawn. A macro, so statements stay literals.
macro_rules! requested_in_week {
    () => {
        "requested AS (
             SELECT id FROM requests WHERE bulletin_id =
                 (SELECT id FROM bulletins WHERE guild_id IN ($1, 0) AND week = $2
                    AND kind = 'bulletin'
                  ORDER BY guild_id DESC LIMIT 1)
             UNION ALL
             SELECT r.id FROM bulletins AS b JOIN requests AS r ON r.bulletin_id = b.id
             JOIN member_requests AS m ON m.request_id = r.id AND m.withdrawn_at IS NULL
             WHERE b.guild_id = $1 AND b.week = $2 AND b.kind = 'members')"
    };
}

mod bulletins;
mod corrections;
mod identify;
mod members;
mod nudges;
mod posts;
mod prayers;
mod recap;
mod schedule;
mod settings;
