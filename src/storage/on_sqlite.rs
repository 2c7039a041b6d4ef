//! The statements of `sql/` on SQLite, with what SQLite says its own way.

pub(crate) type Db = sqlx::Sqlite;
pub(crate) const POSTGRES: bool = false;

/// An instant as a lease column holds it: UTC text, always the same
/// width, so SQLite comparing the text compares the instants. sqlx's
/// own encoding leaves out a zero fraction (`…:05+00:00` beside
/// `…:05.250+00:00`), which does not compare so.
pub(crate) fn lease_time(instant: chrono::DateTime<chrono::Utc>) -> String {
    instant.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The integers of the JSON array bound as parameter `$p`, as a
/// subquery.
macro_rules! ids_in {
    ($p:literal) => {
        concat!("(SELECT value FROM json_each(", $p, "))")
    };
}

/// The (n, guild_id, week) rows of the JSON array of `[guild, "week"]`
/// pairs bound as parameter `$p`, n counting from 0.
macro_rules! pairs_in {
    ($p:literal) => {
        concat!(
            "SELECT key, json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(",
            $p,
            ")"
        )
    };
}

/// 16 random bytes.
macro_rules! random_salt {
    () => {
        "SELECT randomblob(16)"
    };
}

// Deliberately the same files as the other backend's: one text of each
// statement, compiled for this backend's types.
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
pub(crate) mod sql;
