//! `/prayer week` through the fake Discord over loopback, against a database
//! of 1,000 servers × 52 weeks, beside the floor: a bare poise command that
//! replies with a fixed text, run the same way in a process of its own.
//! Prints p50 and p99 of the time from the interaction sent to its answer
//! received, and the bot's resident memory. Run with
//! `cargo bench --bench discord`.
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

const SERVERS: u64 = 1_000;
const WEEKS: u64 = 52;
const ROUNDS: usize = 10;
/// Servers whose every week also holds members' own requests, and how many.
const MEMBER_SERVERS: u64 = 10;
const MEMBER_REQUESTS: u64 = 20;

fn main() {
    if let Some(url) = support::flag_value("--floor-bot") {
        return support::floor_bot(url);
    }
    support::run_on(1, measure());
}

async fn build_database(path: &str) -> Vec<PrayerWeek> {
    let store = Store::open(path).await.expect("the store opens");
    let first = PrayerWeek::containing(NaiveDate::from_ymd_opt(2026, 1, 5).expect("a date"));
    let weeks: Vec<PrayerWeek> = std::iter::successors(Some(first), |w| Some(w.next()))
        .take(WEEKS as usize)
        .collect();
    let bulletins = support::bulletins(WEEKS);
    let started = Instant::now();
    for guild in 1..=SERVERS {
        for (week, bulletin) in weeks.iter().zip(&bulletins) {
            support::import(
                &store,
                Scope::Guild(
                    prayer_bot::ids::GuildId::try_new(guild_id(guild)).expect("ids are not 0"),
                ),
                bulletin,
                *week,
            )
            .await;
        }
    }
    println!(
        "database: {SERVERS} servers × {WEEKS} weeks = {} bulletins, built in {:.1} s",
        SERVERS * WEEKS,
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

async fn measure() {
    let dir = tempfile::tempdir().expect("a directory");
    let db = dir.path().join("bench.db").to_string_lossy().into_owned();
    let weeks = build_database(&db).await;

    let bot_fake = fake_with_servers(SERVERS, support::fake_options()).await;
    let mut bot = support::start_bot(&bot_fake, &db);
    support::registered(&bot_fake, "the bot").await;

    let floor_fake = fake_with_servers(SERVERS, support::fake_options()).await;
    let mut floor = support::start_floor(&floor_fake).await;

    let user = FakeUser::new(user_id(1), "reader");
    let week_call = |i: usize| {
        let n = (i as u64 * 7919) % SERVERS + 1;
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
    let ping_call = |i: usize| (CommandCall::new("ping"), (i as u64 * 7919) % SERVERS + 1);

    // One warm-up round each: connections, caches and statements.
    let (mut warm_bot, mut warm_floor) = (Latencies(Vec::new()), Latencies(Vec::new()));
    round(&bot_fake, &user, week_call, &mut warm_bot).await;
    round(&bot_fake, &user, members_call, &mut warm_bot).await;
    round(&floor_fake, &user, ping_call, &mut warm_floor).await;

    let (mut week_times, mut floor_times) = (Latencies(Vec::new()), Latencies(Vec::new()));
    let mut members_times = Latencies(Vec::new());
    for _ in 0..ROUNDS {
        round(&bot_fake, &user, week_call, &mut week_times).await;
        round(&bot_fake, &user, members_call, &mut members_times).await;
        round(&floor_fake, &user, ping_call, &mut floor_times).await;
    }
    let bot_pid = bot.id().unwrap_or(0);
    let (rss, peak) = (
        resident_kib(bot_pid, "VmRSS:"),
        resident_kib(bot_pid, "VmHWM:"),
    );
    let (week50, week99) = (week_times.percentile(0.5), week_times.percentile(0.99));
    let (floor50, floor99) = (floor_times.percentile(0.5), floor_times.percentile(0.99));
    println!(
        "/prayer week: p50 {:.3} ms, p99 {:.3} ms over {} calls (target: p50 <= 2x floor, p99 < 5 ms)",
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
        "bot resident memory: {:.1} MB now, {:.1} MB peak, connected to {SERVERS} servers (target < 50 MB)",
        rss as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    let _ = bot.start_kill();
    let _ = floor.start_kill();
}
