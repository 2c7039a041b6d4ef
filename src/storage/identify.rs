//! The IDENTIFY buckets processes take before they identify their shards
//! (one statement each, so two processes never both hold one).

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
