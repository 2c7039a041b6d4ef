//! The statements of `storage/identify.rs`, once per backend.

use super::Sql;
use crate::storage::*;
use chrono::{DateTime, Utc};

impl Sql {
    /// Takes IDENTIFY `bucket` for `holder` until `until`, if no one holds
    /// it at `now`; else the instant its holder's lease ends.
    pub async fn take_identify_bucket(
        &self,
        bucket: u32,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Result<(), DateTime<Utc>>, StorageError> {
        let taken = sqlx::query(
            "INSERT INTO identify_leases (bucket, holder, until) VALUES ($1, $2, $3)
             ON CONFLICT (bucket) DO UPDATE SET holder = excluded.holder, until = excluded.until
             WHERE identify_leases.until <= $4",
        )
        .bind(i64::from(bucket))
        .bind(holder)
        .bind(until)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if taken == 1 {
            return Ok(Ok(()));
        }
        let held: Option<DateTime<Utc>> =
            sqlx::query_scalar("SELECT until FROM identify_leases WHERE bucket = $1")
                .bind(i64::from(bucket))
                .fetch_optional(&self.pool)
                .await?;
        Ok(Err(held.unwrap_or(now)))
    }
}
