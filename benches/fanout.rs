//! The Monday fan-out (issue 9): 1,000 servers on the default schedule
//! (Monday 09:00 UTC), one shared bulletin of 8 requests, and the real
//! `prayer-bot run` binary started with its clock past 09:00 of that
//! Monday, against the fake Discord with Discord's rate limits
//! [`SCALE`] times faster and `DISCORD_GLOBAL_RATE_LIMIT` raised to match.
//! Each server is owed a header, 8 requests and 8 🙏: 17,000 requests.
//!
//! The time runs from the bot's first message to its last 🙏, as the fake
//! received them, beside the least time the fake's limits allow for those
//! requests (`RateLimits::lower_bound`). Then the 429s the bot met, and
//! from the fake's log: any (channel, text) posted twice, and any message
//! or 🙏 missing. Nothing here asserts on a timing: the table at the end
//! says PASS or MISS for each target. Setup failures panic. Run with
//! `cargo bench --bench fanout`.

mod support;

use std::collections::{HashMap, HashSet};
use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::Utc;
use fake_discord::{FakeDiscord, Options, RateLimits, RecordedRequest};
use prayer_bot::bulletins::parse::parse_bulletin;
use prayer_bot::bulletins::week::PrayerWeek;
use prayer_bot::ids::GuildId;
use prayer_bot::schedule::Schedule;
use prayer_bot::storage::{Scope, Store};
use support::{WAIT, channel_id, guild_id, resident_kib};

const SERVERS: u64 = 1_000;
/// Discord's limits this many times faster: the 17,000 requests need at
/// least 34 s under a global limit of 500/s, so a run ends well inside
/// two minutes.
const SCALE: f64 = 10.0;
const WEEK: &str = "2026-11-23";
/// The bot's clock at start: an hour after that Monday's 09:00 UTC, so
/// every server is due at once.
const START_TIME: &str = "2026-11-23T10:00:00Z";
const REQUESTS: u64 = 8;
/// A header and the requests, in each server's one channel.
const MESSAGES_PER_SERVER: u64 = 1 + REQUESTS;
/// With nothing new served for this long, what has not come is missing.
const STALL: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(250);
/// After the last expected request, the fake is watched this much longer
/// for duplicates.
const SETTLE: Duration = Duration::from_secs(2);
const PRAYER: &str = "🙏";

/// Eight petitions in four regions, each short enough for one message.
const BULLETIN: &str = "IJM Prayer Requests

“Learn to do right; seek justice.”
— Isaiah 1:17

Africa

• Please pray for the families in Kenya waiting for a ruling on their land this week.

• Pray for the social workers in Uganda visiting survivors in their homes.

Latin America

• Please pray for a boy in Bolivia who testifies next month, that he will have courage.

• Pray for the new prosecutors in Guatemala, that they will be trained well and kept safe.

South Asia

• Please pray for seven families freed from a brick kiln, and for the officials deciding their release certificates.

• Pray for the rescue team in Chennai as they plan their next operation.

Southeast Asia

• Please pray for the survivors of online exploitation in the Philippines, for healing and safety.

• Pray for the judges hearing trafficking cases in Cambodia this month.
";

fn main() {
    support::run_on(2, measure());
}

/// 1,000 servers, each with its default channel and the default schedule,
/// and the week's shared bulletin.
async fn build_database(path: &str) {
    let started = Instant::now();
    let store = Store::open(path).await.expect("the store opens");
    let bulletin = parse_bulletin(BULLETIN).expect("the bench bulletin parses");
    assert_eq!(bulletin.requests.len() as u64, REQUESTS, "eight requests");
    let week: PrayerWeek = WEEK.parse().expect("a week");
    support::import(&store, Scope::Shared, &bulletin, week).await;
    for n in 1..=SERVERS {
        store
            .set_default_channel(
                GuildId::try_new(guild_id(n)).expect("ids are not 0"),
                prayer_bot::ids::ChannelId::try_new(channel_id(n)).expect("ids are not 0"),
                Utc::now(),
            )
            .await
            .expect("the channel is set");
        store
            .set_schedule(
                GuildId::try_new(guild_id(n)).expect("ids are not 0"),
                &Schedule::default(),
                Utc::now(),
            )
            .await
            .expect("the schedule is set");
    }
    store.close().await;
    println!(
        "database: {SERVERS} servers on Monday 09:00 UTC, one shared bulletin of {REQUESTS} requests for {WEEK}, built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn limits() -> RateLimits {
    RateLimits::discord().scaled(SCALE)
}

async fn fake_with_servers() -> FakeDiscord {
    let options = Options {
        rate_limits: Some(limits()),
        ..support::fake_options()
    };
    support::fake_with_servers(SERVERS, options).await
}

fn is_message(r: &RecordedRequest) -> bool {
    r.is("POST", "/channels/*/messages$")
}

fn is_reaction(r: &RecordedRequest) -> bool {
    r.is("PUT", "/channels/*/messages/*/reactions/*/@me$")
}

/// The channel id in a `/channels/{id}/...` route.
fn channel_of(r: &RecordedRequest) -> u64 {
    r.route
        .trim_start_matches('/')
        .split('/')
        .nth(1)
        .and_then(|id| id.parse().ok())
        .unwrap_or(0)
}

/// The message id in a `/channels/{c}/messages/{id}/...` route.
fn message_of(r: &RecordedRequest) -> u64 {
    r.route
        .trim_start_matches('/')
        .split('/')
        .nth(3)
        .and_then(|id| id.parse().ok())
        .unwrap_or(0)
}

/// Whether every server has its messages and 🙏 (by count of successful
/// requests; duplicates and misses are sorted out after).
fn complete(requests: &[RecordedRequest]) -> bool {
    let messages = requests
        .iter()
        .filter(|r| is_message(r) && r.status == 200)
        .count() as u64;
    let reactions = requests
        .iter()
        .filter(|r| is_reaction(r) && r.status == 204)
        .count() as u64;
    messages >= SERVERS * MESSAGES_PER_SERVER && reactions >= SERVERS * REQUESTS
}

/// Waits until the fake's log holds every message and 🙏 (then
/// [`SETTLE`] more), or nothing new is served for [`STALL`]; returns the
/// log.
async fn wait_for_the_posts(fake: &FakeDiscord) -> Vec<RecordedRequest> {
    let needed = SERVERS * (MESSAGES_PER_SERVER + REQUESTS);
    let start = fake.rate_limit_stats();
    let (mut last, mut moved) = (start, Instant::now());
    loop {
        tokio::time::sleep(POLL).await;
        let now = fake.rate_limit_stats();
        if now != last {
            (last, moved) = (now, Instant::now());
        }
        if now.served - start.served >= needed && complete(&fake.requests()) {
            tokio::time::sleep(SETTLE).await;
            return fake.requests();
        }
        if moved.elapsed() > STALL {
            return fake.requests();
        }
    }
}

/// What the log says about the fan-out.
struct Figures {
    wall: Duration,
    bound: Duration,
    /// Requests the bot made from its first message to the end, and the
    /// 429s among them (global, bucket).
    requests: usize,
    limited_global: usize,
    limited_bucket: usize,
    /// Other requests in that time (not messages or 🙏), by route.
    others: HashMap<String, usize>,
    duplicates: usize,
    missing_messages: u64,
    missing_reactions: u64,
    /// When 50%, 90% and 99% of the needed requests had been served,
    /// from the first.
    progress: Vec<(u32, Duration)>,
    /// The achieved rate of served requests under the global limit in
    /// the middle of the run (10%–90%).
    middle_rate: f64,
    /// 429s by the second of the run they came in.
    limited_by_second: std::collections::BTreeMap<u64, usize>,
}

fn figures(log: &[RecordedRequest]) -> Figures {
    let first = log
        .iter()
        .position(is_message)
        .expect("the bot sent a message");
    let run = &log[first..];
    let served: Vec<&RecordedRequest> = run
        .iter()
        .filter(|r| (is_message(r) && r.status == 200) || (is_reaction(r) && r.status == 204))
        .collect();
    let started = run[0].received_at;
    let ended = run
        .iter()
        .filter(|r| is_reaction(r) && r.status == 204)
        .map(|r| r.received_at)
        .max()
        .unwrap_or(started);

    let needed: Vec<(String, String, u64)> = (1..=SERVERS)
        .flat_map(|n| {
            let channel = channel_id(n);
            [
                (
                    "POST".to_owned(),
                    format!("/channels/{channel}/messages"),
                    MESSAGES_PER_SERVER,
                ),
                (
                    "PUT".to_owned(),
                    format!("/channels/{channel}/messages/1/reactions/{PRAYER}/@me"),
                    REQUESTS,
                ),
            ]
        })
        .collect();
    let bound = limits().lower_bound(needed.iter().map(|(m, r, c)| (m.as_str(), r.as_str(), *c)));

    let mut texts: HashMap<(u64, String), usize> = HashMap::new();
    let mut made: HashMap<u64, HashSet<u64>> = HashMap::new();
    for r in run.iter().filter(|r| is_message(r) && r.status == 200) {
        let content = r
            .body
            .as_ref()
            .and_then(|b| b["content"].as_str())
            .unwrap_or_default()
            .to_owned();
        *texts.entry((channel_of(r), content)).or_default() += 1;
        let id = r
            .response
            .as_ref()
            .and_then(|b| b["id"].as_str())
            .and_then(|id| id.parse().ok())
            .unwrap_or(0);
        made.entry(channel_of(r)).or_default().insert(id);
    }
    let duplicates = texts.values().map(|n| n - 1).sum();
    let mut reacted: HashMap<u64, HashSet<u64>> = HashMap::new();
    for r in run.iter().filter(|r| is_reaction(r) && r.status == 204) {
        let channel = channel_of(r);
        let message = message_of(r);
        if made.get(&channel).is_some_and(|m| m.contains(&message)) {
            reacted.entry(channel).or_default().insert(message);
        }
    }
    let (mut missing_messages, mut missing_reactions) = (0, 0);
    for n in 1..=SERVERS {
        let channel = channel_id(n);
        let texts_here = texts.keys().filter(|(c, _)| *c == channel).count() as u64;
        missing_messages += MESSAGES_PER_SERVER.saturating_sub(texts_here);
        let reacted_here = reacted.get(&channel).map_or(0, |m| m.len() as u64);
        missing_reactions += REQUESTS.saturating_sub(reacted_here);
    }

    let mut others = HashMap::new();
    for r in run.iter().filter(|r| !is_message(r) && !is_reaction(r)) {
        let shape: Vec<&str> = r
            .route
            .split('/')
            .map(|s| {
                if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                    "{id}"
                } else {
                    s
                }
            })
            .collect();
        *others
            .entry(format!("{} {}", r.method, shape.join("/")))
            .or_insert(0) += 1;
    }

    let total = SERVERS * (MESSAGES_PER_SERVER + REQUESTS);
    let at = |fraction: f64| {
        let index = ((total as f64 * fraction).ceil() as usize).saturating_sub(1);
        served.get(index).map(|r| r.received_at - started)
    };
    let progress = [50u32, 90, 99]
        .iter()
        .filter_map(|p| at(f64::from(*p) / 100.0).map(|d| (*p, d)))
        .collect();
    let middle_rate = match (at(0.1), at(0.9)) {
        (Some(a), Some(b)) if b > a => (total as f64 * 0.8) / (b - a).as_secs_f64(),
        _ => 0.0,
    };

    let mut limited_by_second = std::collections::BTreeMap::new();
    for r in run.iter().filter(|r| r.status == 429) {
        *limited_by_second
            .entry(r.received_at.saturating_sub(started).as_secs())
            .or_insert(0) += 1;
    }

    Figures {
        wall: ended.saturating_sub(started),
        bound,
        requests: run.len(),
        limited_global: run
            .iter()
            .filter(|r| r.status == 429 && r.response.as_ref().is_some_and(|b| b["global"] == true))
            .count(),
        limited_bucket: run
            .iter()
            .filter(|r| r.status == 429 && r.response.as_ref().is_none_or(|b| b["global"] != true))
            .count(),
        others,
        duplicates,
        missing_messages,
        missing_reactions,
        progress,
        middle_rate,
        limited_by_second,
    }
}

async fn measure() {
    let dir = tempfile::tempdir().expect("a directory");
    let db = dir.path().join("fanout.db").to_string_lossy().into_owned();
    build_database(&db).await;

    let fake = fake_with_servers().await;
    let global_rate = (50.0 * SCALE).round() as u32;
    let log_path = dir.path().join("bot.log");
    let log = std::fs::File::create(&log_path).expect("a log file");
    let launched = Instant::now();
    let mut bot = support::bot_command(&fake, &db)
        .env("PRAYER_BOT_START_TIME", START_TIME)
        .env("DISCORD_GLOBAL_RATE_LIMIT", global_rate.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("the bot starts");
    fake.wait_until_ready(WAIT).await.expect("the bot connects");
    println!(
        "the bot connected to {SERVERS} servers {:.1} s after start; fake limits at scale {SCALE}, DISCORD_GLOBAL_RATE_LIMIT={global_rate}",
        launched.elapsed().as_secs_f64()
    );
    let requests = wait_for_the_posts(&fake).await;
    let peak = resident_kib(bot.id().unwrap_or(0), "VmHWM:");
    let _ = bot.start_kill();
    let _ = bot.wait().await;
    let f = figures(&requests);
    let secs = |d: Duration| d.as_secs_f64();
    let ratio = secs(f.wall) / secs(f.bound);
    let limited = f.limited_global + f.limited_bucket;
    let share = 100.0 * limited as f64 / f.requests.max(1) as f64;
    println!(
        "{} requests from the first message on: {} messages and {} 🙏 needed, {limited} answered 429 ({} global, {} bucket)",
        f.requests,
        SERVERS * MESSAGES_PER_SERVER,
        SERVERS * REQUESTS,
        f.limited_global,
        f.limited_bucket
    );
    if limited > 0 {
        let when: Vec<String> = f
            .limited_by_second
            .iter()
            .map(|(second, n)| format!("{n} in second {second}"))
            .collect();
        println!("  429s came {}", when.join(", "));
    }
    let mut others: Vec<_> = f.others.iter().collect();
    others.sort();
    for (route, n) in others {
        println!("  besides: {n} × {route}");
    }
    for (p, d) in &f.progress {
        println!(
            "{p}% of the needed requests served after {:.2} s (the limits allow {:.2} s)",
            secs(*d),
            secs(f.bound) * f64::from(*p) / 100.0
        );
    }
    println!(
        "served {:.0} requests/s between 10% and 90% (the global limit: {global_rate}/s); bot peak memory {:.1} MB",
        f.middle_rate,
        peak as f64 / 1024.0
    );
    let text = std::fs::read_to_string(&log_path).unwrap_or_default();
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .collect();
    println!("bot log: {} warnings or errors", warnings.len());
    for line in warnings.iter().take(5) {
        println!("  {line}");
    }

    let rows: Vec<support::Row> = vec![
        (
            "wall time, first message to last 🙏".to_owned(),
            format!("{:.2} s", secs(f.wall)),
            "(measured)".to_owned(),
            None,
        ),
        (
            "lower bound the limits allow".to_owned(),
            format!("{:.2} s", secs(f.bound)),
            "(RateLimits::lower_bound)".to_owned(),
            None,
        ),
        (
            "wall time / lower bound".to_owned(),
            format!("{ratio:.3}"),
            "<= 1.10".to_owned(),
            Some(ratio <= 1.10),
        ),
        (
            "429 answers".to_owned(),
            format!("{limited} ({share:.2}%)"),
            "< 1% of requests".to_owned(),
            Some(share < 1.0),
        ),
        (
            "duplicates (channel, text)".to_owned(),
            f.duplicates.to_string(),
            "0".to_owned(),
            Some(f.duplicates == 0),
        ),
        (
            format!("missing messages (of {})", SERVERS * MESSAGES_PER_SERVER),
            f.missing_messages.to_string(),
            "0".to_owned(),
            Some(f.missing_messages == 0),
        ),
        (
            format!("missing 🙏 (of {})", SERVERS * REQUESTS),
            f.missing_reactions.to_string(),
            "0".to_owned(),
            Some(f.missing_reactions == 0),
        ),
    ];
    support::print_table(&rows, 14);
    fake.shutdown().await;
}
