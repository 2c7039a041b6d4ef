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

#[path = "sql/mod.rs"]
pub(crate) mod sql;
