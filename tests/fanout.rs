//! Several bot processes posting one Monday's week to many servers at
//! once, against the fake Discord enforcing Discord's rate limits: the
//! global limit is the bot token's, so the processes share it.

mod common;

use std::time::{Duration, Instant};

use fake_discord::{FakeChannel, FakeDiscord, FakeGuild, RateLimits};
use prayer_bot::schedule::Schedule;

const WEEK: &str = "2026-11-23";
/// Monday 23 November 2026, an hour after the default post time: every
/// server is due at once.
const CLOCK: &str = "2026-11-23T10:00:00Z";
/// Servers in all, half on each shard: enough that the first process is
/// still posting when the second (which identifies 5 s later) begins.
const SERVERS: u64 = 100;
/// Discord's limits twice as fast: 100 requests a second in all.
const SCALE: f64 = 2.0;
/// The requests in examples/week-1.txt, each posted with a 🙏.
const REQUESTS: usize = 6;
/// The longest the whole fan-out may take before the test fails.
const FAN_OUT_WAIT: Duration = Duration::from_secs(120);

/// Server `n`: consecutive servers differ in the bits Discord shards on,
/// so with two shards they alternate.
fn guild(n: u64) -> u64 {
    1_100_000_000_000_000_000 + (n << 22)
}

fn channel(n: u64) -> u64 {
    1_200_000_000_000_000_000 + n
}

/// The 🙏 the bots have added so far.
fn prayers_added(fake: &FakeDiscord) -> usize {
    fake.requests_matching("PUT", "/channels/*/messages/*/reactions/*/@me$")
        .iter()
        .filter(|r| r.status == 204)
        .count()
}

#[tokio::test]
async fn two_processes_each_keep_to_their_share_of_the_bots_global_limit() {
    let dir = tempfile::tempdir().expect("a directory");
    let db = dir.path().join("prayer-bot.db");
    common::import(&db, &common::project("examples/week-1.txt"), WEEK);
    // The spec check costs the fake, not the bot; the same requests are
    // checked in tests/discord.rs.
    let fake = FakeDiscord::start_with(fake_discord::Options {
        rate_limits: Some(RateLimits::discord().scaled(SCALE)),
        check_spec: false,
        ..fake_discord::Options::default()
    })
    .await;
    fake.set_shard_count(2);
    let store = common::open_store(&db).await;
    for n in 1..=SERVERS {
        fake.add_guild(
            FakeGuild::new(guild(n), format!("Group {n}"), fake.owner().id)
                .with_channel(FakeChannel::text(channel(n), "prayer")),
        );
        common::scheduled(&store, guild(n), channel(n), Schedule::default()).await;
    }
    store.close().await;

    // Each process is told the bot's whole limit (100 a second, as the
    // fake allows), and runs one shard of two.
    let _bots: Vec<_> = ["0..1", "1..2"]
        .iter()
        .enumerate()
        .map(|(i, range)| {
            let mut command = common::bot_command(&fake.base_url(), &db);
            command
                .env("PRAYER_BOT_START_TIME", CLOCK)
                .env("DISCORD_GLOBAL_RATE_LIMIT", "100")
                .args(["--shards", range, "--shard-total", "2"]);
            common::spawn_logged(command, &dir.path().join(format!("bot-{i}.log")))
        })
        .collect();
    let needed = SERVERS as usize * REQUESTS;
    let deadline = Instant::now() + FAN_OUT_WAIT;
    while prayers_added(&fake) < needed {
        let logs = || {
            ["bot-0.log", "bot-1.log"]
                .map(|log| std::fs::read_to_string(dir.path().join(log)).unwrap_or_default())
                .join("\n")
        };
        assert!(
            Instant::now() < deadline,
            "{} of {needed} 🙏 within {FAN_OUT_WAIT:?}: {}",
            prayers_added(&fake),
            logs()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    let stats = fake.rate_limit_stats();
    assert_eq!(
        stats.limited_global, 0,
        "no request met the global limit: {stats:?}"
    );
    assert_eq!(prayers_added(&fake), needed, "each 🙏 added once");
    for n in 1..=SERVERS {
        let sent = common::sent_to(&fake, channel(n));
        let headers = sent.iter().filter(|m| m.starts_with("**")).count();
        assert_eq!(headers, 1, "server {n}'s week posted once: {sent:#?}");
        let requests = common::request_messages(&fake, channel(n));
        assert_eq!(requests.len(), REQUESTS, "server {n}: {sent:#?}");
    }
    // The second process began while the first was still posting, so
    // the two shared the limit for a while.
    let posted = fake.requests_matching("POST", "/channels/*/messages$");
    let span = |shard: u64| {
        let times: Vec<Duration> = posted
            .iter()
            .filter(|r| shard_of(&r.route) == Some(shard))
            .map(|r| r.received_at)
            .collect();
        let first = times.iter().min().copied();
        first.zip(times.iter().max().copied())
    };
    let (Some((first_0, last_0)), Some((first_1, last_1))) = (span(0), span(1)) else {
        panic!("each shard's servers were posted to");
    };
    assert!(
        first_1 < last_0 && first_0 < last_1,
        "the two processes posted at the same time"
    );
}

/// The shard of the server whose channel a `/channels/{id}/...` route names.
fn shard_of(route: &str) -> Option<u64> {
    let id: u64 = route.split('/').nth(2)?.parse().ok()?;
    let n = id.checked_sub(channel(0))?;
    Some((guild(n) >> 22) % 2)
}
