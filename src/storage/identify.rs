//! The IDENTIFY buckets processes take before they identify their shards
//! (one statement each, so two processes never both hold one).

use chrono::{DateTime, Utc};

use super::{StorageError, Store};

impl Store {
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
            "INSERT INTO identify_leases (bucket, holder, until) VALUES (?1, ?2, ?3)
             ON CONFLICT (bucket) DO UPDATE SET holder = excluded.holder, until = excluded.until
             WHERE identify_leases.until <= ?4",
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
            sqlx::query_scalar("SELECT until FROM identify_leases WHERE bucket = ?")
                .bind(i64::from(bucket))
                .fetch_optional(&self.pool)
                .await?;
        Ok(Err(held.unwrap_or(now)))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use crate::storage::fixtures::{now, store};

    #[tokio::test]
    async fn one_holder_at_a_time_and_the_next_once_the_lease_ends() {
        let store = store().await;
        let (start, until) = (now(), now() + TimeDelta::seconds(5));
        assert_eq!(
            store
                .take_identify_bucket(0, "a", until, start)
                .await
                .expect("read"),
            Ok(())
        );
        assert_eq!(
            store
                .take_identify_bucket(0, "b", until, start + TimeDelta::seconds(1))
                .await
                .expect("read"),
            Err(until)
        );
        assert_eq!(
            store
                .take_identify_bucket(1, "b", until, start)
                .await
                .expect("read"),
            Ok(()),
            "another bucket is free"
        );
        assert_eq!(
            store
                .take_identify_bucket(0, "b", until + TimeDelta::seconds(5), until)
                .await
                .expect("read"),
            Ok(())
        );
    }
}
