//! The change feed: how a process hears that another process (the CLI's
//! import, another bot process) changed a server's weeks, and forgets them
//! from its week cache (`cache.rs`). The database tells: triggers on every
//! table a week is shown from (`migrations/*/20261206000000_week_changes.sql`)
//! add a row to `week_changes` on SQLite, read every [`FEED_INTERVAL`],
//! and notify a channel on Postgres, heard as each change commits.

use std::future::Future;
use std::time::Duration;

use sqlx::Row;
use sqlx::postgres::{PgListener, PgPool};
use sqlx::sqlite::SqlitePool;

use super::cache::WeekCache;
use super::{Backend, Scope, Store};
use crate::backoff::Backoff;
use crate::ids::GuildId;

/// How often a SQLite store reads the changes other processes made: the
/// longest a member may see a week that another process changed.
pub const FEED_INTERVAL: Duration = Duration::from_millis(100);

/// The name of the Postgres channel the triggers notify: one per schema,
/// as the migration's trigger function names it.
const CHANNEL: &str = "SELECT 'prayer_bot_weeks_' || md5(current_schema())";

/// Changes read at a time; more waiting means a backlog, and everything is
/// forgotten instead.
const LIMIT: i64 = 1_000;

/// How long a change row is kept, and how often old ones are deleted.
const KEPT_SECONDS: i64 = 600;
const PRUNE_EVERY: Duration = Duration::from_secs(60);

impl Store {
    /// Follows the changes other processes make until `stop` completes;
    /// while it does, [`Store::shown_week`] may answer from memory. A lost
    /// database is retried; while it is lost, nothing is answered from
    /// memory.
    pub async fn follow_changes(&self, stop: impl Future<Output = ()>) {
        let cache = &self.cache;
        let follow = async {
            match &self.backend {
                // Pruning waits for SQLite's write lock: beside the reads,
                // not between them.
                Backend::Sqlite(sql) => tokio::select! {
                    () = poll(&sql.pool, cache) => {}
                    () = prune_old(&sql.pool) => {}
                },
                Backend::Postgres(sql) => listen(&sql.pool, cache).await,
            }
        };
        tokio::select! {
            () = follow => {}
            () = stop => {}
        }
        cache.set_following(false);
    }
}

/// Forgets the server named by a change's `guild_id` (0: every server).
fn forget(cache: &WeekCache, guild_id: i64) {
    match GuildId::from_sql(guild_id) {
        Some(guild) => cache.forget(Scope::Guild(guild)),
        None => cache.forget_everything(),
    }
}

/// Reads `week_changes` every [`FEED_INTERVAL`], until the store closes.
async fn poll(pool: &SqlitePool, cache: &WeekCache) {
    let mut ticker = tokio::time::interval(FEED_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last: Option<i64> = None;
    let mut backoff = Backoff::new(FEED_INTERVAL, Duration::from_secs(30));
    loop {
        ticker.tick().await;
        match read_changes(pool, cache, last).await {
            Ok(seen) => {
                if last.is_none() {
                    cache.set_following(true);
                }
                last = Some(seen);
                backoff.succeeded();
            }
            Err(sqlx::Error::PoolClosed) => return,
            Err(error) => {
                if backoff.failures() == 0 {
                    tracing::warn!(
                        "the weeks members read are read from the database each time \
                         until it answers again: {error}"
                    );
                }
                cache.set_following(false);
                last = None;
                tokio::time::sleep(backoff.failed()).await;
            }
        }
    }
}

/// Deletes old changes every [`PRUNE_EVERY`], until the store closes.
async fn prune_old(pool: &SqlitePool) {
    loop {
        tokio::time::sleep(PRUNE_EVERY).await;
        match prune(pool).await {
            Ok(()) => {}
            Err(sqlx::Error::PoolClosed) => return,
            Err(error) => tracing::debug!("old week changes not deleted yet: {error}"),
        }
    }
}

/// Forgets what changed after `last` (the newest change read), and
/// returns the newest change now; from nothing read yet, only the newest.
async fn read_changes(
    pool: &SqlitePool,
    cache: &WeekCache,
    last: Option<i64>,
) -> Result<i64, sqlx::Error> {
    let Some(last) = last else {
        return sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM week_changes")
            .fetch_one(pool)
            .await;
    };
    let rows = sqlx::query(
        "SELECT seq, guild_id, (SELECT min(seq) FROM week_changes) AS oldest,
                (SELECT max(seq) FROM week_changes) AS newest
         FROM week_changes WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(last)
    .bind(LIMIT)
    .fetch_all(pool)
    .await?;
    let Some(first) = rows.first() else {
        return Ok(last);
    };
    let (oldest, newest): (i64, i64) = (first.try_get("oldest")?, first.try_get("newest")?);
    // Rows deleted before this process read them, or more than a read
    // takes: which servers changed is not known.
    if oldest > last + 1 || rows.len() as i64 >= LIMIT {
        cache.forget_everything();
        return Ok(newest);
    }
    let mut seen = last;
    for row in &rows {
        forget(cache, row.try_get("guild_id")?);
        seen = row.try_get("seq")?;
    }
    Ok(seen)
}

/// Deletes the changes older than [`KEPT_SECONDS`], keeping the newest (so
/// a reader can tell a gap from no change).
async fn prune(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    // The database's clock, as the triggers stamp the rows with.
    sqlx::query(
        "DELETE FROM week_changes
         WHERE changed_at < CAST(strftime('%s', 'now') AS INTEGER) - $1
           AND seq < (SELECT max(seq) FROM week_changes)",
    )
    .bind(KEPT_SECONDS)
    .execute(pool)
    .await?;
    Ok(())
}

/// Listens on the channel [`CHANNEL`] names until the store closes: a lost connection is
/// opened again.
async fn listen(pool: &PgPool, cache: &WeekCache) {
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
    loop {
        let lost = heard_until_lost(pool, cache, &mut backoff).await;
        // Notices sent while no one listened are lost.
        cache.set_following(false);
        if matches!(lost, Err(sqlx::Error::PoolClosed)) {
            return;
        }
        if backoff.failures() == 0 {
            tracing::warn!(
                "the weeks members read are read from the database each time \
                 until it answers again: {}",
                lost.map_or_else(|e| e.to_string(), |()| "the connection closed".to_owned())
            );
        }
        tokio::time::sleep(backoff.failed()).await;
    }
}

/// Forgets each server a notice names, until the connection is lost.
async fn heard_until_lost(
    pool: &PgPool,
    cache: &WeekCache,
    backoff: &mut Backoff,
) -> Result<(), sqlx::Error> {
    let channel: String = sqlx::query_scalar(CHANNEL).fetch_one(pool).await?;
    let mut listener = PgListener::connect_with(pool).await?;
    // A lost connection is reported at once (`Ok(None)` below), not
    // opened again behind our back while notices go unheard.
    listener.eager_reconnect(false);
    listener.listen(&channel).await?;
    cache.set_following(true);
    backoff.succeeded();
    while let Some(notice) = listener.try_recv().await? {
        forget(cache, notice.payload().parse().unwrap_or(0));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{RequestId, UserId};
    use crate::storage::fixtures::*;
    use crate::storage::{CorrectionRecord, NewMemberRequest, StorageError};
    use crate::tracking::Source;

    const MEMBER: UserId = UserId::of::<55>();
    /// How many changes [`change`] makes.
    const CHANGES: usize = 9;

    fn this_week() -> PrayerWeek {
        week("2026-11-23")
    }

    /// The first request of the week [`GUILD`] sees.
    async fn first_request(store: &Store) -> Result<RequestId, StorageError> {
        let stored = store.week(Scope::Guild(GUILD), this_week()).await?;
        Ok(stored.expect("a week").request_ids[0])
    }

    /// The `n`-th of the changes a shown week is made of, made by
    /// `writer`: each table the week is read from, through the store's
    /// writes.
    async fn change(writer: &Store, n: usize) -> Result<&'static str, StorageError> {
        let w = this_week();
        Ok(match n {
            0 => {
                put(writer, Scope::Shared, ONE, Placement::Exactly(w)).await?;
                "a shared bulletin"
            }
            1 => {
                put(writer, Scope::Guild(GUILD), TWO, Placement::Exactly(w)).await?;
                "the server's own bulletin"
            }
            2 => {
                let request = first_request(writer).await?;
                writer
                    .mark(GUILD, request, MEMBER, Source::Prayed, now())
                    .await?;
                "a prayer"
            }
            3 => {
                let request = first_request(writer).await?;
                writer
                    .record_praise(GUILD, Some(request), w, MEMBER, "Answered.", now())
                    .await?;
                "a praise"
            }
            4 => {
                let record = CorrectionRecord {
                    guild: GUILD,
                    request: first_request(writer).await?,
                    week: w,
                    text: "Pray for Ghana's courts.",
                    admin: MEMBER,
                    detail: "the courts",
                    now: now(),
                };
                writer.correct_request(&record).await?;
                "a correction"
            }
            5 => {
                let schedule = crate::schedule::Schedule {
                    zone: chrono_tz::Pacific::Auckland,
                    ..Default::default()
                };
                writer.set_schedule(GUILD, &schedule, now()).await?;
                "the server's time zone"
            }
            6 => {
                let asked = NewMemberRequest {
                    guild: GUILD,
                    weeks: &[w],
                    region: "Our group",
                    text: "Pray for my sister's exams.",
                    author: MEMBER,
                    anonymous: false,
                    now: now(),
                };
                writer.add_member_request(&asked, 3).await?;
                "a member's request"
            }
            7 => {
                writer.forget_member(GUILD, MEMBER).await?;
                "a member forgotten"
            }
            _ => {
                put(writer, Scope::Shared, TWO, Placement::Exactly(w.next())).await?;
                "next week's shared bulletin"
            }
        })
    }

    /// Whether `reader` shows [`GUILD`]'s two weeks as the database holds
    /// them; having read them, it keeps them (when following).
    async fn shows_as_stored(reader: &Store) -> Result<bool, StorageError> {
        let scope = Scope::Guild(GUILD);
        for w in [this_week(), this_week().next()] {
            if reader.shown_week(scope, w).await? != reader.week(scope, w).await?
                || reader.shown_week_tracking(GUILD, w).await?
                    != reader.week_tracking(GUILD, w).await?
            {
                return Ok(false);
            }
        }
        Ok(true)
    }

    #[tokio::test]
    async fn this_process_shows_its_own_change_at_once() -> Result<(), StorageError> {
        let store = store().await;
        // As if the feed ran, but it does not: only the store's own
        // forgetting can keep what it shows true.
        store.cache.set_following(true);
        for n in 0..CHANGES {
            assert!(shows_as_stored(&store).await?);
            assert!(store.cache.size().0 > 0, "the weeks are kept");
            let what = change(&store, n).await?;
            assert!(shows_as_stored(&store).await?, "after {what}");
        }
        Ok(())
    }

    /// Two stores on one database, as two processes would open it.
    async fn two_stores() -> Result<(Store, Store, tempfile::TempDir), StorageError> {
        let dir = tempfile::tempdir().expect("a directory");
        let location = match crate::storage::test_server() {
            Some(server) => crate::storage::test_schema(&server).await,
            None => dir.path().join("feed.db").to_string_lossy().into_owned(),
        };
        Ok((
            Store::open(&location).await?,
            Store::open(&location).await?,
            dir,
        ))
    }

    /// Waits (up to 10 s) until `done` holds.
    async fn until<F: std::future::Future<Output = Result<bool, StorageError>>>(
        mut done: impl FnMut() -> F,
    ) -> Result<bool, StorageError> {
        for _ in 0..200 {
            if done().await? {
                return Ok(true);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(false)
    }

    #[tokio::test]
    async fn a_week_imported_elsewhere_is_found_before_the_feed_hears_of_it()
    -> Result<(), StorageError> {
        let (reader, writer, _dir) = two_stores().await?;
        // Following, as far as the cache knows, but hearing nothing.
        reader.cache.set_following(true);
        let w = this_week();
        assert_eq!(reader.shown_week(Scope::Guild(GUILD), w).await?, None);
        put(&writer, Scope::Shared, ONE, Placement::Exactly(w)).await?;
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).expect("a date");
        let found = crate::bulletins::browse::find_week(&reader, Scope::Guild(GUILD), None, today)
            .await
            .map(|(stored, _)| stored.week);
        assert_eq!(
            found.ok(),
            Some(w),
            "the database's week, not memory's none"
        );
        Ok(())
    }

    #[tokio::test]
    async fn another_process_s_change_is_heard_and_forgotten() -> Result<(), StorageError> {
        let (reader, writer, _dir) = two_stores().await?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let feed = tokio::spawn({
            let reader = reader.clone();
            async move {
                reader
                    .follow_changes(async {
                        let _ = stopped.await;
                    })
                    .await;
            }
        });
        let following = until(|| async { Ok(reader.cache.following()) }).await?;
        assert!(following, "the feed starts");
        for n in 0..CHANGES {
            assert!(shows_as_stored(&reader).await?);
            assert!(reader.cache.size().0 > 0, "the weeks are kept");
            let what = change(&writer, n).await?;
            assert!(until(|| shows_as_stored(&reader)).await?, "{what} is heard");
        }
        let _ = stop.send(());
        feed.await.expect("the feed ends");
        assert!(
            !reader.cache.following(),
            "a stopped feed answers nothing from memory"
        );
        Ok(())
    }
}
