//! `prayer-bot migrate --to postgres://…`: every row of a SQLite database
//! copied into an empty Postgres one, in one Postgres transaction, and the
//! copy verified by counting each table on both sides.

use super::{Backend, StorageError, Store};

/// The tables, parents before the rows that refer to them. Each is copied
/// whole; `database_secrets` replaces the secret Postgres's migration made,
/// so the hashes of forgotten reactions still match.
const TABLES: [&str; 21] = [
    "bulletins",
    "requests",
    "notes",
    "guild_settings",
    "region_channels",
    "week_posts",
    "posted_messages",
    "prayer_marks",
    "praises",
    "notify_off",
    "post_problems",
    "database_secrets",
    "forgotten_reactions",
    "unread_messages",
    "empty_week_notices",
    "member_requests",
    "nudges",
    "identify_leases",
    "recaps",
    "request_corrections",
    "admin_actions",
];

/// The tables whose `id` Postgres numbers itself: its counter must go on
/// after the copied ids.
const NUMBERED: [&str; 5] = ["bulletins", "requests", "notes", "praises", "admin_actions"];

/// Rows read from SQLite and written to Postgres at a time.
const BATCH: i64 = 2_000;

/// How many rows each table holds, in [`TABLES`] order.
pub type Counts = Vec<(&'static str, i64)>;

impl Store {
    /// Copies every row of this SQLite store into `target`, a Postgres
    /// store that holds nothing yet, and returns each table's count, the
    /// same on both sides. Nothing is left in `target` when it fails.
    pub async fn copy_to(&self, target: &Store) -> Result<Counts, StorageError> {
        let (Backend::Sqlite(source), Backend::Postgres(target)) = (&self.backend, &target.backend)
        else {
            return Err(StorageError::Unsupported(
                "`migrate` copies a SQLite database into a Postgres one",
            ));
        };
        let (source, target) = (&source.pool, &target.pool);
        let mut tx = target.begin().await?;
        for table in TABLES {
            let held: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                    .fetch_one(&mut *tx)
                    .await?;
            if held > 0 && table != "database_secrets" {
                return Err(StorageError::Unsupported(
                    "the Postgres database already holds the bot's data; `migrate` copies into an empty one (nothing was copied)",
                ));
            }
        }
        sqlx::query("DELETE FROM database_secrets")
            .execute(&mut *tx)
            .await?;
        for table in TABLES {
            copy_table(source, &mut tx, table).await?;
        }
        for table in NUMBERED {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 GREATEST((SELECT MAX(id) FROM {table}), 1))"
            )))
            .execute(&mut *tx)
            .await?;
        }
        let counts = verify(source, &mut tx).await?;
        tx.commit().await?;
        Ok(counts)
    }
}

/// Copies `table`, [`BATCH`] rows at a time: SQLite gives each batch as
/// one JSON array of rows (blobs as `\x…` hex, Postgres's `bytea` text),
/// and Postgres reads it back into the table's own types.
async fn copy_table(
    source: &sqlx::SqlitePool,
    tx: &mut sqlx::PgConnection,
    table: &str,
) -> Result<(), StorageError> {
    let columns: Vec<(String, String)> =
        sqlx::query_as("SELECT name, type FROM pragma_table_info($1) ORDER BY cid")
            .bind(table)
            .fetch_all(source)
            .await?;
    let fields: Vec<String> = columns
        .iter()
        .map(|(name, kind)| {
            if kind.eq_ignore_ascii_case("BLOB") {
                format!("'{name}', '\\x' || lower(hex(\"{name}\"))")
            } else {
                format!("'{name}', \"{name}\"")
            }
        })
        .collect();
    let order: Vec<String> = (1..=columns.len()).map(|n| n.to_string()).collect();
    let names: Vec<String> = columns
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect();
    // Audited: every name spliced in is a table of TABLES or a column
    // SQLite itself listed for it; every value is bound.
    let read = format!(
        "SELECT json_group_array(json_object({})) FROM \
         (SELECT * FROM {table} ORDER BY {} LIMIT $1 OFFSET $2)",
        fields.join(", "),
        order.join(", ")
    );
    let write = format!(
        "INSERT INTO {table} ({names}) SELECT {names} FROM \
         jsonb_populate_recordset(NULL::{table}, CAST($1 AS JSONB))",
        names = names.join(", ")
    );
    let mut offset = 0;
    loop {
        let rows: String = sqlx::query_scalar(sqlx::AssertSqlSafe(read.clone()))
            .bind(BATCH)
            .bind(offset)
            .fetch_one(source)
            .await?;
        if rows == "[]" {
            return Ok(());
        }
        sqlx::query(sqlx::AssertSqlSafe(write.clone()))
            .bind(rows)
            .execute(&mut *tx)
            .await?;
        offset += BATCH;
    }
}

/// Counts each table on both sides; an error names the first that differs.
async fn verify(
    source: &sqlx::SqlitePool,
    tx: &mut sqlx::PgConnection,
) -> Result<Counts, StorageError> {
    let mut counts = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let count = format!("SELECT COUNT(*) FROM {table}");
        let from: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count.clone()))
            .fetch_one(source)
            .await?;
        let to: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
            .fetch_one(&mut *tx)
            .await?;
        if from != to {
            return Err(StorageError::Corrupt(format!(
                "the copy of {table} has {to} rows where the SQLite database has {from}; nothing was copied"
            )));
        }
        counts.push((table, from));
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{MessageId, UserId};
    use crate::storage::NewMemberRequest;
    use crate::storage::fixtures::*;
    use crate::tracking::{ReactionChange, ReactionKey, Source};

    const ANN: UserId = UserId::of::<100>();
    const BOB: UserId = UserId::of::<200>();

    /// A SQLite store with a row in most tables: a posted week, a
    /// commitment, 🙏 reactions and a forgotten one, a praise, a member's
    /// request (blobs), threads on (a boolean) and a schedule.
    async fn filled() -> Result<Store, StorageError> {
        let store = Store::open("sqlite::memory:").await?;
        let ids = posted(&store).await?;
        store.set_threads(GUILD, true, now()).await?;
        store
            .set_schedule(GUILD, &crate::schedule::Schedule::default(), now())
            .await?;
        store
            .mark(GUILD, ids[0], ANN, Source::Commit, now())
            .await?;
        let reaction = |user| ReactionKey {
            guild: GUILD,
            channel: ChannelId::of::<42>(),
            message: MessageId::of::<500>(),
            user,
            emoji: "🙏".to_owned(),
        };
        let changes = [
            ReactionChange::Added(reaction(ANN)),
            ReactionChange::Added(reaction(BOB)),
        ];
        store
            .apply_reactions(&crate::tracking::coalesce(changes.to_vec()), now())
            .await?;
        store.forget_member(GUILD, BOB).await?;
        let w = week("2026-11-23");
        store
            .record_praise(GUILD, Some(ids[0]), w, ANN, "Answered!", now())
            .await?;
        store
            .add_member_request(
                &NewMemberRequest {
                    guild: GUILD,
                    weeks: &[w],
                    region: "Our group",
                    text: "Pray for our camp.",
                    author: ANN,
                    anonymous: true,
                    now: now(),
                },
                3,
            )
            .await?
            .expect("added");
        Ok(store)
    }

    #[tokio::test]
    async fn a_sqlite_database_is_copied_into_postgres_and_reads_back_the_same()
    -> Result<(), StorageError> {
        let Some(server) = crate::storage::test_server() else {
            eprintln!("skipped: PRAYER_BOT_TEST_POSTGRES names no Postgres server to copy into");
            return Ok(());
        };
        let source = filled().await?;
        let target = Store::open(&crate::storage::test_schema(&server).await).await?;
        let counts = source.copy_to(&target).await?;
        let count = |table: &str| {
            counts
                .iter()
                .find(|(name, _)| *name == table)
                .map_or(0, |(_, count)| *count)
        };
        for table in [
            "bulletins",
            "requests",
            "guild_settings",
            "week_posts",
            "posted_messages",
            "prayer_marks",
            "praises",
            "forgotten_reactions",
            "member_requests",
        ] {
            assert!(count(table) > 0, "{table} was filled: {counts:?}");
        }
        let w = week("2026-11-23");
        let scope = Scope::Guild(GUILD);
        assert_eq!(source.week(scope, w).await?, target.week(scope, w).await?);
        assert_eq!(
            source.week_tracking(GUILD, w).await?,
            target.week_tracking(GUILD, w).await?
        );
        assert_eq!(
            source.channel_settings(GUILD).await?,
            target.channel_settings(GUILD).await?
        );
        assert_eq!(
            source.schedule_record(GUILD).await?,
            target.schedule_record(GUILD).await?
        );
        assert_eq!(
            source.member_requests_by(GUILD, ANN).await?,
            target.member_requests_by(GUILD, ANN).await?
        );
        assert_eq!(
            source.week_post_lease(GUILD, w).await?,
            target.week_post_lease(GUILD, w).await?
        );
        // The forget-me secret came over: Bob's forgotten 🙏 is still
        // recognised as his.
        let message = MessageId::of::<500>();
        assert_eq!(
            target.forgotten_among(GUILD, message, &[ANN, BOB]).await?,
            std::collections::HashSet::from([BOB])
        );
        // New rows are numbered after the copied ones.
        put(
            &target,
            Scope::Shared,
            TWO,
            Placement::Exactly(week("2026-11-30")),
        )
        .await?;
        assert_eq!(target.bulletin_count().await?, 2);
        // A second copy into a database that holds data is refused, and
        // changes nothing.
        let again = source.copy_to(&target).await.expect_err("refused");
        assert!(again.to_string().contains("already holds"), "{again}");
        assert_eq!(target.bulletin_count().await?, 2);
        Ok(())
    }
}
