//! `/prayer week` through the fake Discord over loopback, against a database
//! of 10,000 servers × 52 weeks (`BENCH_SERVERS` sets another count), beside
//! the floor: a bare poise command that replies with a fixed text, run the
//! same way in a process of its own. Prints p50 and p99 of the time from
//! the interaction sent to its answer received, and the bot's resident
//! memory: on SQLite, then on Postgres when `PRAYER_BOT_TEST_POSTGRES`
//! names a database (`PRAYER_BOT_TEST_POSTGRES=$(.ci/postgres) cargo bench
//! --bench discord`), each beside a floor measured in the same run. Run
//! with `cargo bench --bench discord`.
//!
//! The first server's 52 bulletins are imported through the store; the
//! other servers' are copies of them made with three SQL statements, so a
//! database of half a million bulletins is built in a minute, not hours.
//!
//! The repeated rounds ask for the same 200 server-weeks each round, as the
//! members of a server ask for their week again and again: after the first
//! round they are answered from the bot's week cache. Another round asks
//! each time for server-weeks never asked before (read from the database),
//! and is printed on its own line.
//!
//! The bot is the real `prayer-bot run` binary; the floor is this bench
//! binary started again with `--floor-bot`. Rounds alternate between them
//! so that machine noise touches both alike.

mod support;

use std::time::Instant;

use chrono::NaiveDate;
use fake_discord::{CommandCall, CommandOption, FakeUser};
use prayer_bot::bulletins::week::PrayerWeek;
use prayer_bot::storage::{Scope, Store};
use support::{Latencies, fake_with_servers, guild_id, millis, resident_kib, round, user_id};

/// How many servers, each with its own 52 bulletins.
fn servers() -> u64 {
    std::env::var("BENCH_SERVERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|n| *n >= MEMBER_SERVERS)
        .unwrap_or(10_000)
}
const WEEKS: u64 = 52;
const ROUNDS: usize = 10;
/// Servers whose every week also holds members' own requests, and how many.
const MEMBER_SERVERS: u64 = 10;
const MEMBER_REQUESTS: u64 = 20;

fn main() {
    if let Some(url) = support::flag_value("--floor-bot") {
        return support::floor_bot(url);
    }
    support::run_on(1, async {
        let dir = tempfile::tempdir().expect("a directory");
        let db = dir.path().join("bench.db").to_string_lossy().into_owned();
        measure("SQLite", &db).await;
        match prayer_bot::storage::test_server() {
            Some(server) => {
                let schema = prayer_bot::storage::test_schema(&server).await;
                measure("Postgres", &schema).await;
            }
            None => println!(
                "Postgres: skipped, PRAYER_BOT_TEST_POSTGRES names no server \
                 (PRAYER_BOT_TEST_POSTGRES=$(.ci/postgres) cargo bench --bench discord)"
            ),
        }
    });
}

/// Copies the first server's bulletins to servers 2 to `$1`: server n's
/// id is `$2 + n`, the first server's `$3`. Both backends read it.
const CLONE_BULLETINS: &str =
    "WITH RECURSIVE n (i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
     INSERT INTO bulletins (guild_id, week, hash, title, date, verse_text, verse_reference,
                            source, imported_at, kind)
     SELECT $2 + n.i, b.week, b.hash, b.title, b.date, b.verse_text, b.verse_reference,
            b.source, b.imported_at, b.kind
     FROM n, bulletins AS b WHERE b.guild_id = $3";

/// Then the requests and notes of the first server (`$1`) to each copy of
/// their bulletin, each bulletin's rows together, as an import leaves them.
const CLONE_ROWS: [&str; 2] = [
    "INSERT INTO requests (bulletin_id, position, region, kind, text, countries)
     SELECT nb.id, r.position, r.region, r.kind, r.text, r.countries
     FROM bulletins AS ob JOIN requests AS r ON r.bulletin_id = ob.id
     JOIN bulletins AS nb ON nb.week = ob.week AND nb.kind = ob.kind AND nb.guild_id <> ob.guild_id
     WHERE ob.guild_id = $1
     ORDER BY nb.id, r.position",
    "INSERT INTO notes (bulletin_id, position, region, text)
     SELECT nb.id, n.position, n.region, n.text
     FROM bulletins AS ob JOIN notes AS n ON n.bulletin_id = ob.id
     JOIN bulletins AS nb ON nb.week = ob.week AND nb.kind = ob.kind AND nb.guild_id <> ob.guild_id
     WHERE ob.guild_id = $1
     ORDER BY nb.id, n.position",
];

/// Runs [`CLONE_BULLETINS`] and [`CLONE_ROWS`] on the database at
/// `location`.
async fn clone_first_server(location: &str, servers: u64) {
    let base = (guild_id(0)) as i64;
    let first = guild_id(1) as i64;
    let count = servers as i64;
    // The same statements on either backend's pool.
    macro_rules! clone_with {
        ($pool:expr) => {
            sqlx::query(CLONE_BULLETINS)
                .bind(count)
                .bind(base)
                .bind(first)
                .execute(&$pool)
                .await
                .expect("copied");
            for statement in CLONE_ROWS {
                sqlx::query(statement)
                    .bind(first)
                    .execute(&$pool)
                    .await
                    .expect("copied");
            }
        };
    }
    if prayer_bot::storage::is_postgres(location) {
        let pool = sqlx::PgPool::connect(location).await.expect("connects");
        clone_with!(pool);
        // Postgres's autovacuum would gather the new rows' statistics
        // within a minute; this gathers them now. SQLite gathers none by
        // itself, and the bot never asks it to (with statistics, SQLite
        // plans `/prayer week`'s statements worse: 1.39 ms p50 beside
        // 0.84 ms at 1,000 servers).
        sqlx::query("ANALYZE")
            .execute(&pool)
            .await
            .expect("analysed");
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{location}"))
            .await
            .expect("connects");
        clone_with!(pool);
        pool.close().await;
    }
}

async fn build_database(path: &str) -> Vec<PrayerWeek> {
    let store = Store::open(path).await.expect("the store opens");
    let first = PrayerWeek::containing(NaiveDate::from_ymd_opt(2026, 1, 5).expect("a date"));
    let weeks: Vec<PrayerWeek> = std::iter::successors(Some(first), |w| Some(w.next()))
        .take(WEEKS as usize)
        .collect();
    let bulletins = support::bulletins(WEEKS);
    let started = Instant::now();
    let first = prayer_bot::ids::GuildId::try_new(guild_id(1)).expect("ids are not 0");
    for (week, bulletin) in weeks.iter().zip(&bulletins) {
        support::import(&store, Scope::Guild(first), bulletin, *week).await;
    }
    let servers = servers();
    clone_first_server(path, servers).await;
    let stored = store.bulletin_count().await.expect("counted");
    assert_eq!(stored as u64, servers * WEEKS, "every server has its weeks");
    println!(
        "database: {servers} servers × {WEEKS} weeks = {} bulletins, built in {:.1} s",
        servers * WEEKS,
        started.elapsed().as_secs_f64()
    );
    add_member_requests(&store, &weeks).await;
    store.close().await;
    weeks
}

/// [`MEMBER_REQUESTS`] members' requests in every week of the first
/// [`MEMBER_SERVERS`] servers, one member each (so the weekly limit holds).
async fn add_member_requests(store: &Store, weeks: &[PrayerWeek]) {
    let started = Instant::now();
    for guild in 1..=MEMBER_SERVERS {
        let guild = prayer_bot::ids::GuildId::try_new(guild_id(guild)).expect("ids are not 0");
        for week in weeks {
            for n in 1..=MEMBER_REQUESTS {
                let text = format!(
                    "Please pray for my family as we face request number {n}; we are grateful for this group."
                );
                let asked = prayer_bot::storage::NewMemberRequest {
                    guild,
                    weeks: std::slice::from_ref(week),
                    region: "Our group",
                    text: &text,
                    author: prayer_bot::ids::UserId::try_new(user_id(n)).expect("ids are not 0"),
                    anonymous: n % 2 == 0,
                    now: chrono::Utc::now(),
                };
                store
                    .add_member_request(&asked, 3)
                    .await
                    .expect("stored")
                    .expect("within the limit");
            }
        }
    }
    println!(
        "members' requests: {} in each week of {MEMBER_SERVERS} servers, added in {:.1} s",
        MEMBER_REQUESTS,
        started.elapsed().as_secs_f64()
    );
}

/// (server, week) pairs for [`ROUNDS`] rounds of calls, each asked once
/// and none asked by the repeated rounds: what a server's first member to
/// ask for a week meets.
fn cold_pairs(servers: u64, weeks: usize) -> Vec<(u64, usize)> {
    let repeated: std::collections::HashSet<(u64, usize)> = (0..support::PER_ROUND)
        .map(|i| ((i as u64 * 7919) % servers + 1, i % weeks))
        .collect();
    // 104,729 is prime: its multiples name every server once before any
    // twice; then the next week.
    (0..servers * weeks as u64)
        .map(|k| {
            let week = (k / servers) as usize % weeks;
            ((k * 104_729) % servers + 1, week)
        })
        .filter(|pair| !repeated.contains(pair))
        .take(ROUNDS * support::PER_ROUND)
        .collect()
}

async fn measure(backend: &str, db: &str) {
    println!("-- {backend}");
    let weeks = build_database(db).await;
    let servers = servers();

    let bot_fake = fake_with_servers(servers, support::fake_options()).await;
    let mut bot = support::start_bot(&bot_fake, db);
    support::registered(&bot_fake, "the bot").await;

    let floor_fake = fake_with_servers(servers, support::fake_options()).await;
    let mut floor = support::start_floor(&floor_fake).await;

    let user = FakeUser::new(user_id(1), "reader");
    let week_call = |i: usize| {
        let n = (i as u64 * 7919) % servers + 1;
        let week = weeks[i % weeks.len()].to_string();
        let call = CommandCall::new("prayer")
            .subcommand("week", vec![CommandOption::string("week", week)]);
        (call, n)
    };
    let members_call = |i: usize| {
        let n = (i as u64 * 7919) % MEMBER_SERVERS + 1;
        let week = weeks[i % weeks.len()].to_string();
        let call = CommandCall::new("prayer")
            .subcommand("week", vec![CommandOption::string("week", week)]);
        (call, n)
    };
    let ping_call = |i: usize| (CommandCall::new("ping"), (i as u64 * 7919) % servers + 1);
    let cold = cold_pairs(servers, weeks.len());
    let cold_call = |round: usize| {
        let cold = &cold;
        let weeks = &weeks;
        move |i: usize| {
            let (n, week) = cold[round * support::PER_ROUND + i];
            let call = CommandCall::new("prayer").subcommand(
                "week",
                vec![CommandOption::string("week", weeks[week].to_string())],
            );
            (call, n)
        }
    };

    // One warm-up round each: connections, caches and statements.
    let (mut warm_bot, mut warm_floor) = (Latencies(Vec::new()), Latencies(Vec::new()));
    round(&bot_fake, &user, week_call, &mut warm_bot).await;
    round(&bot_fake, &user, members_call, &mut warm_bot).await;
    round(&floor_fake, &user, ping_call, &mut warm_floor).await;

    let (mut week_times, mut floor_times) = (Latencies(Vec::new()), Latencies(Vec::new()));
    let (mut members_times, mut cold_times) = (Latencies(Vec::new()), Latencies(Vec::new()));
    for r in 0..ROUNDS {
        round(&bot_fake, &user, week_call, &mut week_times).await;
        round(&bot_fake, &user, members_call, &mut members_times).await;
        round(&floor_fake, &user, ping_call, &mut floor_times).await;
        round(&bot_fake, &user, cold_call(r), &mut cold_times).await;
    }
    let bot_pid = bot.id().unwrap_or(0);
    let (rss, peak) = (
        resident_kib(bot_pid, "VmRSS:"),
        resident_kib(bot_pid, "VmHWM:"),
    );
    let (week50, week99) = (week_times.percentile(0.5), week_times.percentile(0.99));
    let (floor50, floor99) = (floor_times.percentile(0.5), floor_times.percentile(0.99));
    println!(
        "/prayer week: p50 {:.3} ms, p99 {:.3} ms over {} calls (target: p50 <= 1.5x floor, p99 < 5 ms)",
        millis(week50),
        millis(week99),
        week_times.0.len()
    );
    let (members50, members99) = (
        members_times.percentile(0.5),
        members_times.percentile(0.99),
    );
    println!(
        "/prayer week with {MEMBER_REQUESTS} members' requests beside the bulletin: p50 {:.3} ms ({:.2}x the floor's), p99 {:.3} ms over {} calls (same targets)",
        millis(members50),
        members50.as_secs_f64() / floor_times.percentile(0.5).as_secs_f64(),
        millis(members99),
        members_times.0.len()
    );
    let (cold50, cold99) = (cold_times.percentile(0.5), cold_times.percentile(0.99));
    println!(
        "/prayer week of a server's week asked for the first time (read from the database, not memory): p50 {:.3} ms ({:.2}x the floor's), p99 {:.3} ms over {} calls",
        millis(cold50),
        cold50.as_secs_f64() / floor_times.percentile(0.5).as_secs_f64(),
        millis(cold99),
        cold_times.0.len()
    );
    println!(
        "floor (bare poise command): p50 {:.3} ms, p99 {:.3} ms over {} calls",
        millis(floor50),
        millis(floor99),
        floor_times.0.len()
    );
    println!(
        "/prayer week p50 is {:.2}x the floor's",
        week50.as_secs_f64() / floor50.as_secs_f64()
    );
    println!(
        "bot resident memory: {:.1} MB now, {:.1} MB peak, connected to {servers} servers (target < 60 MB at 2,500 servers)",
        rss as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    let _ = bot.start_kill();
    let _ = floor.start_kill();
}
