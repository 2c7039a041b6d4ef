//! The Monday fan-out (issues 9 and 16): servers on the default schedule
//! (Monday 09:00 UTC), one shared bulletin of 8 requests, and the real
//! `prayer-bot run` binary started with its clock past 09:00 of that
//! Monday, against the fake Discord with Discord's rate limits
//! [`SCALE`] times faster and `DISCORD_GLOBAL_RATE_LIMIT` raised to match.
//! Each server is owed a header, 8 requests and 8 🙏: 17 requests.
//!
//! Two kinds of run, each on its own fresh database and fake:
//! - the baseline: 1,000 servers, one process (17,000 requests);
//! - two processes on one SQLite database, `run --shards 0..1 --shard-total 2`
//!   and `--shards 1..2 --shard-total 2`, the fake delivering each server
//!   to the shard that owns it (`(guild_id >> 22) % 2`; the servers' ids
//!   alternate between the shards, so each process has half). Discord's
//!   global limit is per bot token, so the two share it: the fake counts
//!   both processes' requests against one limit, and the bound is the
//!   same as for one process posting to all the servers.
//!
//! Sizes: the two-process runs are those `FANOUT_SERVERS` lists (servers
//! in all, comma-separated; default `5000`, which is 2,500 servers per
//! process, the size the memory target is set at). The 10,000-server case:
//! `FANOUT_SERVERS=10000 nice -n 10 cargo bench --bench fanout` (some
//! 6 minutes for its 170,000 requests; both can be listed, `5000,10000`).
//! `FANOUT_SERVERS=0` runs the baseline only.
//!
//! The time runs from the first message to the last 🙏, as the fake
//! received them, beside the least time the fake's limits allow for those
//! requests (`RateLimits::lower_bound`). Then the 429s the bots met, and
//! from the fake's log: any (channel, text) posted twice, and any message
//! or 🙏 missing; and each process's resident memory after the fan-out
//! (and its peak). Nothing here asserts on a timing: the tables at the end
//! say PASS or MISS for each target. Setup failures panic. Run with
//! `nice -n 10 cargo bench --bench fanout`.

mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::Utc;
use fake_discord::{FakeChannel, FakeDiscord, FakeGuild, Options, RateLimits, RecordedRequest};
use prayer_bot::bulletins::parse::parse_bulletin;
use prayer_bot::bulletins::week::PrayerWeek;
use prayer_bot::ids::{ChannelId, GuildId};
use prayer_bot::schedule::Schedule;
use prayer_bot::storage::{Scope, Store};
use support::{WAIT, channel_id, resident_kib};

/// The baseline's servers (one process).
const BASELINE_SERVERS: u64 = 1_000;
/// The two-process runs' servers in all, unless `FANOUT_SERVERS` says.
const DEFAULT_SERVERS: &[u64] = &[5_000];
/// Discord's limits this many times faster: 17,000 requests need at
/// least 34 s under a global limit of 500/s, 170,000 need 340 s.
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
/// The memory target per process, at 2,500 servers each.
const MEMORY_TARGET_MB: f64 = 60.0;
const MEMORY_TARGET_SERVERS: u64 = 2_500;

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

/// One fan-out: how many servers, over how many processes (1, or 2 with
/// a shard each).
#[derive(Clone, Copy)]
struct Size {
    servers: u64,
    processes: u32,
}

impl Size {
    fn describe(self) -> String {
        match self.processes {
            1 => format!("{} servers, one process", self.servers),
            n => format!("{} servers, {n} processes", self.servers),
        }
    }
}

/// The two-process sizes `FANOUT_SERVERS` lists (default [`DEFAULT_SERVERS`]).
fn two_process_sizes() -> Vec<Size> {
    let servers = match std::env::var("FANOUT_SERVERS") {
        Ok(list) => list
            .split(',')
            .map(|n| {
                n.trim()
                    .parse::<u64>()
                    .expect("FANOUT_SERVERS lists whole numbers of servers, e.g. 5000,10000")
            })
            .filter(|n| *n > 0)
            .collect(),
        Err(_) => DEFAULT_SERVERS.to_vec(),
    };
    servers
        .into_iter()
        .map(|servers| Size {
            servers,
            processes: 2,
        })
        .collect()
}

/// Server `n`'s id: consecutive servers differ in the bits Discord shards
/// on (`>> 22`), so with 2 shards they alternate.
fn guild_id(n: u64) -> u64 {
    1_100_000_000_000_000_000 + (n << 22)
}

fn shard_of(n: u64, total: u32) -> u32 {
    ((guild_id(n) >> 22) % u64::from(total)) as u32
}

/// `servers` servers, each with its default channel and the default
/// schedule, and the week's shared bulletin (through the public store).
async fn build_database(path: &str, servers: u64) {
    let started = Instant::now();
    let store = Store::open(path).await.expect("the store opens");
    let bulletin = parse_bulletin(BULLETIN).expect("the bench bulletin parses");
    assert_eq!(bulletin.requests.len() as u64, REQUESTS, "eight requests");
    let week: PrayerWeek = WEEK.parse().expect("a week");
    support::import(&store, Scope::Shared, &bulletin, week).await;
    for n in 1..=servers {
        let guild = GuildId::try_new(guild_id(n)).expect("ids are not 0");
        let channel = ChannelId::try_new(channel_id(n)).expect("ids are not 0");
        store
            .set_default_channel(guild, channel, Utc::now())
            .await
            .expect("the channel is set");
        store
            .set_schedule(guild, &Schedule::default(), Utc::now())
            .await
            .expect("the schedule is set");
    }
    store.close().await;
    println!(
        "database: {servers} servers on Monday 09:00 UTC, one shared bulletin of {REQUESTS} requests for {WEEK}, built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn limits() -> RateLimits {
    RateLimits::discord().scaled(SCALE)
}

/// The fake with `size`'s servers, each with its #prayer channel, and as
/// many shards as processes.
async fn fake_with_servers(size: Size) -> FakeDiscord {
    let options = Options {
        rate_limits: Some(limits()),
        ..support::fake_options()
    };
    let fake = FakeDiscord::start_with(options).await;
    fake.set_shard_count(size.processes);
    for n in 1..=size.servers {
        fake.add_guild(
            FakeGuild::new(guild_id(n), format!("Group {n}"), fake.owner().id)
                .with_channel(FakeChannel::text(channel_id(n), "prayer")),
        );
    }
    fake
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
fn complete(requests: &[RecordedRequest], servers: u64) -> bool {
    let messages = requests
        .iter()
        .filter(|r| is_message(r) && r.status == 200)
        .count() as u64;
    let reactions = requests
        .iter()
        .filter(|r| is_reaction(r) && r.status == 204)
        .count() as u64;
    messages >= servers * MESSAGES_PER_SERVER && reactions >= servers * REQUESTS
}

/// Waits until the fake's log holds every message and 🙏 (then
/// [`SETTLE`] more), or nothing new is served for [`STALL`]; returns the
/// log.
async fn wait_for_the_posts(fake: &FakeDiscord, servers: u64) -> Vec<RecordedRequest> {
    let needed = servers * (MESSAGES_PER_SERVER + REQUESTS);
    let start = fake.rate_limit_stats();
    let (mut last, mut moved) = (start, Instant::now());
    loop {
        tokio::time::sleep(POLL).await;
        let now = fake.rate_limit_stats();
        if now != last {
            (last, moved) = (now, Instant::now());
        }
        if now.served - start.served >= needed && complete(&fake.requests(), servers) {
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
    /// Requests the bots made from the first message to the end, and the
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
    limited_by_second: BTreeMap<u64, usize>,
    /// Per shard: its first message and last 🙏, from the run's start.
    shard_spans: Vec<(Duration, Duration)>,
}

/// The least time the fake's limits allow for every server's messages
/// and 🙏, whoever sends them (the global limit is per bot token).
fn bound(servers: u64) -> Duration {
    let needed: Vec<(String, String, u64)> = (1..=servers)
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
    limits().lower_bound(needed.iter().map(|(m, r, c)| (m.as_str(), r.as_str(), *c)))
}

/// Duplicated (channel, text) pairs, and the messages and 🙏 missing.
fn posted_once(run: &[&RecordedRequest], servers: u64) -> (usize, u64, u64) {
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
    let mut texts_in: HashMap<u64, u64> = HashMap::new();
    for (channel, _) in texts.keys() {
        *texts_in.entry(*channel).or_default() += 1;
    }
    let mut reacted: HashMap<u64, HashSet<u64>> = HashMap::new();
    for r in run.iter().filter(|r| is_reaction(r) && r.status == 204) {
        let channel = channel_of(r);
        let message = message_of(r);
        if made.get(&channel).is_some_and(|m| m.contains(&message)) {
            reacted.entry(channel).or_default().insert(message);
        }
    }
    let (mut missing_messages, mut missing_reactions) = (0, 0);
    for n in 1..=servers {
        let channel = channel_id(n);
        let texts_here = texts_in.get(&channel).copied().unwrap_or(0);
        missing_messages += MESSAGES_PER_SERVER.saturating_sub(texts_here);
        let reacted_here = reacted.get(&channel).map_or(0, |m| m.len() as u64);
        missing_reactions += REQUESTS.saturating_sub(reacted_here);
    }
    (duplicates, missing_messages, missing_reactions)
}

/// Requests that are not messages or 🙏, by method and route shape.
fn others(run: &[&RecordedRequest]) -> HashMap<String, usize> {
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
    others
}

fn figures(log: &[RecordedRequest], size: Size) -> Figures {
    let servers = size.servers;
    let first = log
        .iter()
        .position(is_message)
        .expect("the bot sent a message");
    let run: Vec<&RecordedRequest> = log[first..].iter().collect();
    let served: Vec<&RecordedRequest> = run
        .iter()
        .copied()
        .filter(|r| (is_message(r) && r.status == 200) || (is_reaction(r) && r.status == 204))
        .collect();
    let started = run[0].received_at;
    let ended = served
        .iter()
        .filter(|r| is_reaction(r))
        .map(|r| r.received_at)
        .max()
        .unwrap_or(started);
    let (duplicates, missing_messages, missing_reactions) = posted_once(&run, servers);

    let total = servers * (MESSAGES_PER_SERVER + REQUESTS);
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

    let mut limited_by_second = BTreeMap::new();
    for r in run.iter().filter(|r| r.status == 429) {
        *limited_by_second
            .entry(r.received_at.saturating_sub(started).as_secs())
            .or_insert(0) += 1;
    }
    // A channel's number is its server's: channel_id(n).
    let shard_of_channel = |c: u64| shard_of(c.saturating_sub(channel_id(0)), size.processes);
    let shard_spans = (0..size.processes)
        .map(|shard| {
            let mine: Vec<Duration> = served
                .iter()
                .filter(|r| shard_of_channel(channel_of(r)) == shard)
                .map(|r| r.received_at.saturating_sub(started))
                .collect();
            let first = mine.iter().min().copied().unwrap_or_default();
            (first, mine.iter().max().copied().unwrap_or_default())
        })
        .collect();

    let limited = |global: bool| {
        run.iter()
            .filter(|r| {
                r.status == 429
                    && r.response.as_ref().is_some_and(|b| b["global"] == true) == global
            })
            .count()
    };
    Figures {
        wall: ended.saturating_sub(started),
        bound: bound(servers),
        requests: run.len(),
        limited_global: limited(true),
        limited_bucket: limited(false),
        others: others(&run),
        duplicates,
        missing_messages,
        missing_reactions,
        progress,
        middle_rate,
        limited_by_second,
        shard_spans,
    }
}

/// One bot process of a run: its shards (`None`: all), its child and log.
struct Process {
    shards: Option<String>,
    child: tokio::process::Child,
    log: std::path::PathBuf,
    /// Resident memory after the fan-out and its peak, KiB.
    resident: u64,
    peak: u64,
}

/// Starts the `processes` bot processes of `size` on `db` (with `--shards
/// i..i+1 --shard-total N` each when there are several), each logging to
/// its own file in `dir`.
fn start_processes(fake: &FakeDiscord, db: &str, dir: &Path, size: Size) -> Vec<Process> {
    let global_rate = (50.0 * SCALE).round() as u32;
    (0..size.processes)
        .map(|i| {
            let shards = (size.processes > 1).then(|| format!("{i}..{}", i + 1));
            let log = dir.join(format!("bot-{i}.log"));
            let file = std::fs::File::create(&log).expect("a log file");
            let mut command = support::bot_command(fake, db);
            command
                .env("PRAYER_BOT_START_TIME", START_TIME)
                .env("DISCORD_GLOBAL_RATE_LIMIT", global_rate.to_string())
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(file);
            if let Some(range) = &shards {
                command.args([
                    "--shards",
                    range,
                    "--shard-total",
                    &size.processes.to_string(),
                ]);
            }
            let child = command.spawn().expect("the bot starts");
            Process {
                shards,
                child,
                log,
                resident: 0,
                peak: 0,
            }
        })
        .collect()
}

/// Waits until every shard has identified.
async fn wait_for_the_shards(fake: &FakeDiscord, size: Size) {
    fake.wait_until_ready(WAIT).await.expect("the bot connects");
    let deadline = Instant::now() + WAIT + Duration::from_secs(5) * size.processes;
    while (fake.identified_shards().len() as u32) < size.processes {
        assert!(Instant::now() < deadline, "every shard identifies in time");
        tokio::time::sleep(POLL).await;
    }
}

/// A fan-out of `size` from a fresh database and fake: its figures, and
/// the processes (stopped, with their memory read).
async fn fan_out(size: Size) -> (Figures, Vec<Process>) {
    println!("\n== {} ==", size.describe());
    let dir = tempfile::tempdir().expect("a directory");
    let db = dir.path().join("fanout.db").to_string_lossy().into_owned();
    build_database(&db, size.servers).await;
    let fake = fake_with_servers(size).await;
    let launched = Instant::now();
    let mut processes = start_processes(&fake, &db, dir.path(), size);
    wait_for_the_shards(&fake, size).await;
    println!(
        "{} shard(s) identified {:.1} s after start; fake limits at scale {SCALE}, DISCORD_GLOBAL_RATE_LIMIT={} for each process",
        size.processes,
        launched.elapsed().as_secs_f64(),
        (50.0 * SCALE).round()
    );
    let requests = wait_for_the_posts(&fake, size.servers).await;
    for process in &mut processes {
        let pid = process.child.id().unwrap_or(0);
        process.resident = resident_kib(pid, "VmRSS:");
        process.peak = resident_kib(pid, "VmHWM:");
        let _ = process.child.start_kill();
        let _ = process.child.wait().await;
    }
    let f = figures(&requests, size);
    print_details(&f, size, &processes);
    fake.shutdown().await;
    (f, processes)
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn mb(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// What the table leaves out: where the 429s fell, other requests, the
/// progress, each shard's span and each process's log.
fn print_details(f: &Figures, size: Size, processes: &[Process]) {
    let limited = f.limited_global + f.limited_bucket;
    println!(
        "{} requests from the first message on: {} messages and {} 🙏 needed, {limited} answered 429 ({} global, {} bucket)",
        f.requests,
        size.servers * MESSAGES_PER_SERVER,
        size.servers * REQUESTS,
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
        "served {:.0} requests/s between 10% and 90% (the global limit: {}/s)",
        f.middle_rate,
        (50.0 * SCALE).round()
    );
    if size.processes > 1 {
        for (shard, (first, last)) in f.shard_spans.iter().enumerate() {
            println!(
                "shard {shard}'s servers: first message at {:.2} s, last 🙏 at {:.2} s",
                secs(*first),
                secs(*last)
            );
        }
    }
    for process in processes {
        let text = std::fs::read_to_string(&process.log).unwrap_or_default();
        let warnings: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("WARN") || l.contains("ERROR"))
            .collect();
        println!(
            "process {}: resident {:.1} MB after the fan-out, peak {:.1} MB; log: {} warnings or errors",
            process.shards.as_deref().unwrap_or("(all shards)"),
            mb(process.resident),
            mb(process.peak),
            warnings.len()
        );
        for line in warnings.iter().take(3) {
            println!("  {line}");
        }
    }
}

/// The table's rows for one run.
fn rows(f: &Figures, size: Size, processes: &[Process]) -> Vec<support::Row> {
    let ratio = secs(f.wall) / secs(f.bound);
    let limited = f.limited_global + f.limited_bucket;
    let share = 100.0 * limited as f64 / f.requests.max(1) as f64;
    let mut rows: Vec<support::Row> = vec![
        (
            format!("[{}]", size.describe()),
            String::new(),
            String::new(),
            None,
        ),
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
            format!("{limited} ({share:.3}%)"),
            "< 0.1% of requests".to_owned(),
            Some(share < 0.1),
        ),
        (
            "duplicates (channel, text)".to_owned(),
            f.duplicates.to_string(),
            "0".to_owned(),
            Some(f.duplicates == 0),
        ),
        (
            format!(
                "missing messages (of {})",
                size.servers * MESSAGES_PER_SERVER
            ),
            f.missing_messages.to_string(),
            "0".to_owned(),
            Some(f.missing_messages == 0),
        ),
        (
            format!("missing 🙏 (of {})", size.servers * REQUESTS),
            f.missing_reactions.to_string(),
            "0".to_owned(),
            Some(f.missing_reactions == 0),
        ),
    ];
    let per_process = size.servers / u64::from(size.processes);
    for process in processes {
        let judged = per_process == MEMORY_TARGET_SERVERS;
        let after = mb(process.resident);
        rows.push((
            format!(
                "resident memory, process {} ({per_process} servers), after / peak",
                process.shards.as_deref().unwrap_or("(all shards)")
            ),
            format!("{after:.1} / {:.1} MB", mb(process.peak)),
            if judged {
                format!("< {MEMORY_TARGET_MB:.0} MB after")
            } else {
                format!("(target at {MEMORY_TARGET_SERVERS} servers)")
            },
            judged.then_some(after < MEMORY_TARGET_MB),
        ));
    }
    rows
}

async fn measure() {
    let mut sizes = vec![Size {
        servers: BASELINE_SERVERS,
        processes: 1,
    }];
    sizes.extend(two_process_sizes());
    let mut table = Vec::new();
    for size in sizes {
        let (f, processes) = fan_out(size).await;
        table.extend(rows(&f, size, &processes));
    }
    support::print_table(&table, 20);
}
