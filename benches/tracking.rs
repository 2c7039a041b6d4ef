//! Prayer tracking through the fake Discord over loopback (issue 7's
//! targets). Run with `cargo bench --bench tracking`.
//!
//! A. 🙏 reactions recorded per second, and how many were lost: the real
//!    `prayer-bot run` binary, with one server's week posted, is sent
//!    [`REACTIONS`] `MESSAGE_REACTION_ADD` events from distinct members as
//!    fast as the fake can send them; the time runs from the first event
//!    sent to the database (read by this process through a second
//!    connection) holding every mark. Beside it, the bare rate: a plain
//!    serenity `Client` whose `reaction_add` only counts, in a process of
//!    its own (this bench binary again, with `--floor-reactions`), which
//!    prints its count as it goes. Each round has a fresh fake, database and
//!    process; bot and floor rounds alternate.
//! B. `/prayer who` and `/prayer stats` round trips on a database of 1,000
//!    servers × 12 weeks with 100,000 recorded prayers, beside a bare poise
//!    command (`--floor-bot`), in alternating rounds as `benches/discord.rs`
//!    does; then the bot's resident memory.
//!
//! Nothing here asserts on a timing: the table at the end says PASS or MISS
//! for each target. Setup failures panic.

mod support;

use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use fake_discord::{CommandCall, CommandOption, Emoji, FakeDiscord, FakeUser, ReactionEvent};
use poise::serenity_prelude as serenity;
use prayer_bot::bulletins::week::PrayerWeek;
use prayer_bot::ids::{GuildId, MessageId, RequestId, UserId};
use prayer_bot::storage::{PostedMessage, Scope, Store};
use prayer_bot::tracking::{ReactionKey, ReactionStep, Source};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use support::{
    Latencies, WAIT, bulletins, channel_id, fake_options, fake_with_servers, guild_id, median,
    millis, resident_kib, round, start_bot, stop, user_id,
};

// A: reactions.
const REACTIONS: u64 = 50_000;
/// Sent and waited for before the timed burst: connections, statements.
const WARM_REACTIONS: u64 = 1_000;
const REACTION_ROUNDS: usize = 3;
/// How often the database's count is read while waiting.
const POLL: Duration = Duration::from_millis(10);
/// With no progress for this long, what is missing is counted as lost.
const STALL: Duration = Duration::from_secs(10);
/// The floor prints its count at every multiple of this.
const FLOOR_STEP: u64 = 1_000;
const PRAYER: &str = "🙏";

// B: commands.
const SERVERS: u64 = 1_000;
const WEEKS: u64 = 12;
/// Per server: 🙏 on this week's posted requests, and button marks spread
/// over the 12 weeks; 100 marks a server, 100,000 in all.
const REACTIONS_PER_SERVER: u64 = 40;
const BUTTONS_PER_SERVER: u64 = 60;
const MEMBERS_PER_SERVER: u64 = 50;
const ROUNDS: usize = 10;

fn main() {
    if let Some(url) = support::flag_value("--floor-bot") {
        return support::floor_bot(url);
    }
    if let Some(url) = support::flag_value("--floor-reactions") {
        return floor_reactions(url);
    }
    support::run_on(2, measure());
}

// ----- the floors -----

/// Reactions counted by the reaction floor.
static COUNTED: AtomicU64 = AtomicU64::new(0);

/// The floor for reactions: a plain serenity client whose handler only
/// counts. It prints the count at every [`FLOOR_STEP`], and every 100 ms
/// when it changed (so a loss shows).
fn floor_reactions(url: String) {
    struct Counter;

    #[serenity::async_trait]
    impl serenity::EventHandler for Counter {
        async fn reaction_add(&self, _ctx: serenity::Context, _reaction: serenity::Reaction) {
            let n = COUNTED.fetch_add(1, Ordering::SeqCst) + 1;
            if n.is_multiple_of(FLOOR_STEP) {
                println!("{n}");
            }
        }
    }

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async move {
        tokio::spawn(async {
            let mut shown = 0;
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let n = COUNTED.load(Ordering::SeqCst);
                if n != shown {
                    println!("{n}");
                    shown = n;
                }
            }
        });
        let mut client = support::floor_client(url)
            .event_handler(Counter)
            .await
            .expect("the reaction floor builds");
        client.start().await.expect("the reaction floor runs");
    });
}

// ----- shared pieces -----

/// The message id of request `r`'s post in server `n` (`r == 0` is the
/// week's header).
fn message_id(n: u64, r: u64) -> u64 {
    1_400_000_000_000_000_000 + n * 100 + r
}

/// The twelve weeks that end with this one.
fn recent_weeks(count: u64) -> Vec<PrayerWeek> {
    let current = PrayerWeek::containing(Utc::now().date_naive());
    let first = current.weeks_before(u32::try_from(count - 1).expect("a few weeks"));
    std::iter::successors(Some(first), |w| Some(w.next()))
        .take(count as usize)
        .collect()
}

/// Records server `n`'s post of `week` (a header, then one message per
/// request) as the poster would; returns the request messages.
async fn post_week(store: &Store, n: u64, week: PrayerWeek) -> Vec<MessageId> {
    let stored = store
        .week(
            Scope::Guild(GuildId::try_new(guild_id(n)).expect("ids are not 0")),
            week,
        )
        .await
        .expect("reads the week")
        .expect("the week is stored");
    store
        .lease_week_post(
            GuildId::try_new(guild_id(n)).expect("ids are not 0"),
            week,
            stored.bulletin_id,
            "bench",
            Utc::now() + chrono::TimeDelta::minutes(1),
            Utc::now(),
        )
        .await
        .expect("claims the post");
    let header = PostedMessage {
        message_id: MessageId::try_new(message_id(n, 0)).expect("ids are not 0"),
        channel_id: prayer_bot::ids::ChannelId::try_new(channel_id(n)).expect("ids are not 0"),
        request_id: None,
        part: 0,
    };
    store
        .record_posted_message(
            GuildId::try_new(guild_id(n)).expect("ids are not 0"),
            week,
            header,
            Utc::now(),
        )
        .await
        .expect("records the header");
    let mut messages = Vec::new();
    for (r, request) in (1..).zip(&stored.request_ids) {
        let message = PostedMessage {
            message_id: MessageId::try_new(message_id(n, r)).expect("ids are not 0"),
            channel_id: prayer_bot::ids::ChannelId::try_new(channel_id(n)).expect("ids are not 0"),
            request_id: Some(*request),
            part: 0,
        };
        store
            .record_posted_message(
                GuildId::try_new(guild_id(n)).expect("ids are not 0"),
                week,
                message,
                Utc::now(),
            )
            .await
            .expect("records a request message");
        messages.push(message.message_id);
    }
    store
        .finish_week_post(
            GuildId::try_new(guild_id(n)).expect("ids are not 0"),
            week,
            Utc::now(),
        )
        .await
        .expect("finishes the post");
    messages
}

// ----- A: reactions -----

/// One server's week posted, in a new database; returns its request
/// messages.
async fn reaction_database(path: &str) -> (Store, Vec<MessageId>) {
    let store = Store::open(path).await.expect("the store opens");
    let week = PrayerWeek::containing(Utc::now().date_naive());
    let bulletin = &bulletins(1)[0];
    support::import(
        &store,
        Scope::Guild(prayer_bot::ids::GuildId::try_new(guild_id(1)).expect("ids are not 0")),
        bulletin,
        week,
    )
    .await;
    let messages = post_week(&store, 1, week).await;
    (store, messages)
}

/// `MESSAGE_REACTION_ADD` data for members `from..to`, each with 🙏 on one
/// of `messages` (built before the clock starts).
fn reaction_events(messages: &[MessageId], from: u64, to: u64) -> Vec<Value> {
    (from..to)
        .map(|i| {
            let message = messages[(i % messages.len() as u64) as usize];
            let event = ReactionEvent::new(
                user_id(i),
                channel_id(1),
                message.get(),
                Emoji::unicode(PRAYER),
            )
            .in_guild(guild_id(1));
            fake_discord::payloads::reaction_add(&event)
        })
        .collect()
}

/// Sends every event as fast as the fake takes them, letting its gateway
/// task write between chunks.
async fn send_all(fake: &FakeDiscord, events: Vec<Value>) {
    for (i, event) in events.into_iter().enumerate() {
        fake.send_dispatch("MESSAGE_REACTION_ADD", event)
            .expect("the reaction is sent");
        if i % 256 == 255 {
            tokio::task::yield_now().await;
        }
    }
}

/// What one round measured.
struct Burst {
    elapsed: Duration,
    counted: u64,
    /// How long the fake took to take every event from this process (its
    /// own ceiling: neither side can count faster).
    queued: Duration,
}

impl Burst {
    fn rate(&self) -> f64 {
        self.counted as f64 / self.elapsed.as_secs_f64()
    }

    fn lost(&self) -> u64 {
        REACTIONS - self.counted
    }
}

/// Waits until `count()` reaches `target` or stops moving for [`STALL`];
/// returns the last count and when it was read.
async fn wait_for_count<F, Fut>(target: u64, mut count: F) -> (u64, Instant)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = u64>,
{
    let (mut last, mut moved) = (0, Instant::now());
    loop {
        let now = count().await;
        let at = Instant::now();
        if now >= target {
            return (now, at);
        }
        if now != last {
            (last, moved) = (now, at);
        } else if moved.elapsed() > STALL {
            return (now, at);
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn bot_reaction_round() -> (Burst, u64) {
    let dir = tempfile::tempdir().expect("a directory");
    let db = dir
        .path()
        .join("reactions.db")
        .to_string_lossy()
        .into_owned();
    let (store, messages) = reaction_database(&db).await;
    let fake = fake_with_servers(1, fake_options()).await;
    let bot = start_bot(&fake, &db);
    fake.wait_until_ready(WAIT).await.expect("the bot connects");
    fake.wait_for("PUT", "/applications/*/commands", WAIT)
        .await
        .expect("the bot registers its commands");
    let count = || async {
        let guild = GuildId::try_new(guild_id(1)).expect("ids are not 0");
        u64::try_from(store.mark_count_in(guild).await.expect("counts the marks")).unwrap_or(0)
    };

    let warm = reaction_events(&messages, 0, WARM_REACTIONS);
    send_all(&fake, warm).await;
    let (warmed, _) = wait_for_count(WARM_REACTIONS, count).await;
    assert_eq!(
        warmed, WARM_REACTIONS,
        "the bot records the warm-up reactions"
    );

    let events = reaction_events(&messages, WARM_REACTIONS, WARM_REACTIONS + REACTIONS);
    let started = Instant::now();
    send_all(&fake, events).await;
    let queued = started.elapsed();
    let (counted, at) = wait_for_count(WARM_REACTIONS + REACTIONS, count).await;
    let peak = resident_kib(bot.id().unwrap_or(0), "VmHWM:");
    stop(bot).await;
    store.close().await;
    fake.shutdown().await;
    let burst = Burst {
        elapsed: at - started,
        counted: counted - WARM_REACTIONS,
        queued,
    };
    (burst, peak)
}

async fn floor_reaction_round() -> Burst {
    let fake = fake_with_servers(1, fake_options()).await;
    let mut floor = tokio::process::Command::new(std::env::current_exe().expect("this bench"))
        .args(["--floor-reactions", &fake.base_url()])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the reaction floor starts");
    let stdout = floor.stdout.take().expect("the floor's output");
    let (tell, counted) = tokio::sync::watch::channel(0u64);
    let reader = tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(n) = line.trim().parse::<u64>() {
                tell.send_replace(n);
            }
        }
    });
    fake.wait_until_ready(WAIT)
        .await
        .expect("the reaction floor connects");
    // The messages are any ids: the floor does not look.
    let messages: Vec<MessageId> = (1..=8)
        .filter_map(|r| MessageId::try_new(message_id(1, r)))
        .collect();
    let count = || {
        let n = *counted.borrow();
        async move { n }
    };

    let warm = reaction_events(&messages, 0, WARM_REACTIONS);
    send_all(&fake, warm).await;
    let (warmed, _) = wait_for_count(WARM_REACTIONS, count).await;
    assert_eq!(
        warmed, WARM_REACTIONS,
        "the floor counts the warm-up reactions"
    );

    let events = reaction_events(&messages, WARM_REACTIONS, WARM_REACTIONS + REACTIONS);
    let started = Instant::now();
    send_all(&fake, events).await;
    let queued = started.elapsed();
    let mut waiting = counted.clone();
    let reached =
        tokio::time::timeout(WAIT, waiting.wait_for(|n| *n >= WARM_REACTIONS + REACTIONS)).await;
    let (total, at) = match reached {
        Ok(Ok(_)) => (WARM_REACTIONS + REACTIONS, Instant::now()),
        _ => wait_for_count(WARM_REACTIONS + REACTIONS, count).await,
    };
    stop(floor).await;
    reader.abort();
    fake.shutdown().await;
    Burst {
        elapsed: at - started,
        counted: total - WARM_REACTIONS,
        queued,
    }
}

struct ReactionFigures {
    bot_rate: f64,
    floor_rate: f64,
    bot_lost: u64,
    floor_lost: u64,
    bot_peak_kib: u64,
}

async fn measure_reactions() -> ReactionFigures {
    let (mut bot_rates, mut floor_rates) = (Vec::new(), Vec::new());
    let (mut bot_lost, mut floor_lost, mut bot_peak_kib) = (0, 0, 0);
    for round in 1..=REACTION_ROUNDS {
        let (bot, peak) = bot_reaction_round().await;
        let floor = floor_reaction_round().await;
        println!(
            "reactions round {round}: bot {:>6.0}/s ({} in {:.3} s, {} lost); bare serenity {:>6.0}/s ({} in {:.3} s, {} lost); the fake queued them in {:.3} / {:.3} s",
            bot.rate(),
            bot.counted,
            bot.elapsed.as_secs_f64(),
            bot.lost(),
            floor.rate(),
            floor.counted,
            floor.elapsed.as_secs_f64(),
            floor.lost(),
            bot.queued.as_secs_f64(),
            floor.queued.as_secs_f64(),
        );
        bot_rates.push(bot.rate());
        floor_rates.push(floor.rate());
        bot_lost += bot.lost();
        floor_lost += floor.lost();
        bot_peak_kib = bot_peak_kib.max(peak);
    }
    ReactionFigures {
        bot_rate: median(bot_rates),
        floor_rate: median(floor_rates),
        bot_lost,
        floor_lost,
        bot_peak_kib,
    }
}

// ----- B: commands -----

/// 1,000 servers seeing the shared bulletins of 12 weeks, each with its
/// current week posted and 100 marks; returns the weeks and each week's
/// request ids.
async fn command_database(path: &str) -> (Vec<PrayerWeek>, Vec<Vec<RequestId>>) {
    let store = Store::open(path).await.expect("the store opens");
    let weeks = recent_weeks(WEEKS);
    let bulletins = bulletins(WEEKS);
    let started = Instant::now();
    let mut requests = Vec::new();
    for (week, bulletin) in weeks.iter().zip(&bulletins) {
        support::import(&store, Scope::Shared, bulletin, *week).await;
        let stored = store
            .week(Scope::Shared, *week)
            .await
            .expect("reads the week")
            .expect("the week is stored");
        requests.push(stored.request_ids);
    }
    let current = *weeks.last().expect("twelve weeks");
    let mut reactions = Vec::new();
    for n in 1..=SERVERS {
        let messages = post_week(&store, n, current).await;
        for u in 0..REACTIONS_PER_SERVER {
            reactions.push(ReactionKey {
                guild: GuildId::try_new(guild_id(n)).expect("ids are not 0"),
                channel: prayer_bot::ids::ChannelId::of::<1>(),
                message: messages[((u * 3 + n) % messages.len() as u64) as usize],
                user: UserId::try_new(user_id(u)).expect("ids are not 0"),
                emoji: PRAYER.to_owned(),
            });
        }
    }
    for batch in reactions.chunks(prayer_bot::tracking::recorder::MAX_BATCH) {
        store
            .apply_reactions(&[ReactionStep::Add(batch.to_vec())], Utc::now())
            .await
            .expect("records reactions");
    }
    for n in 1..=SERVERS {
        for k in 0..BUTTONS_PER_SERVER {
            // A distinct (week, request) for each k: every mark is new.
            let week = &requests[(k % WEEKS) as usize];
            let request = week[((k / WEEKS + n) % week.len() as u64) as usize];
            let user = user_id((k * 7 + n) % MEMBERS_PER_SERVER);
            let source = if k % 2 == 0 {
                Source::Commit
            } else {
                Source::Prayed
            };
            store
                .mark(
                    GuildId::try_new(guild_id(n)).expect("ids are not 0"),
                    request,
                    UserId::try_new(user).expect("ids are not 0"),
                    source,
                    Utc::now(),
                )
                .await
                .expect("records a mark");
        }
    }
    let mut marks = 0;
    for n in 1..=SERVERS {
        let guild = GuildId::try_new(guild_id(n)).expect("ids are not 0");
        marks += store.mark_count_in(guild).await.expect("counts the marks");
    }
    assert_eq!(
        marks,
        i64::try_from(SERVERS * (REACTIONS_PER_SERVER + BUTTONS_PER_SERVER)).unwrap_or(0),
        "every bench mark is stored"
    );
    println!(
        "database: {SERVERS} servers × {WEEKS} weeks (shared bulletins), {marks} prayers recorded, built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    store.close().await;
    (weeks, requests)
}

struct Percentiles {
    p50: Duration,
    p99: Duration,
    calls: usize,
}

impl Percentiles {
    fn of(mut times: Latencies) -> Percentiles {
        Percentiles {
            p50: times.percentile(0.5),
            p99: times.percentile(0.99),
            calls: times.0.len(),
        }
    }
}

struct CommandFigures {
    who: Percentiles,
    stats: Percentiles,
    floor: Percentiles,
    rss_kib: u64,
    peak_kib: u64,
}

async fn measure_commands() -> CommandFigures {
    let dir = tempfile::tempdir().expect("a directory");
    let db = dir
        .path()
        .join("commands.db")
        .to_string_lossy()
        .into_owned();
    let (weeks, requests) = command_database(&db).await;

    let bot_fake = fake_with_servers(SERVERS, fake_options()).await;
    let bot = start_bot(&bot_fake, &db);
    support::registered(&bot_fake, "the bot").await;

    let floor_fake = fake_with_servers(SERVERS, fake_options()).await;
    let floor = support::start_floor(&floor_fake).await;

    let server = |i: usize| (i as u64 * 7919) % SERVERS + 1;
    let who_call = |i: usize| {
        // Any request of the twelve weeks: the recent ones resolve among
        // the offered choices, the older ones by id.
        let week = &requests[(i * 5) % requests.len()];
        let request = week[(i / 3) % week.len()];
        let call = CommandCall::new("prayer").subcommand(
            "who",
            vec![CommandOption::string("request", request.to_string())],
        );
        (call, server(i))
    };
    let stats_call = |i: usize| {
        let options = match i % 4 {
            // This week, as a member most often asks.
            0 => Vec::new(),
            _ => vec![CommandOption::string(
                "week",
                weeks[(i * 7) % weeks.len()].to_string(),
            )],
        };
        (
            CommandCall::new("prayer").subcommand("stats", options),
            server(i),
        )
    };
    let ping_call = |i: usize| (CommandCall::new("ping"), server(i));
    let user = FakeUser::new(user_id(7), "reader");

    // One warm-up round each: connections, caches and statements.
    let mut warm = Latencies(Vec::new());
    round(&bot_fake, &user, who_call, &mut warm).await;
    round(&bot_fake, &user, stats_call, &mut warm).await;
    round(&floor_fake, &user, ping_call, &mut warm).await;

    let mut who = Latencies(Vec::new());
    let mut stats = Latencies(Vec::new());
    let mut floor_times = Latencies(Vec::new());
    for _ in 0..ROUNDS {
        round(&bot_fake, &user, who_call, &mut who).await;
        round(&floor_fake, &user, ping_call, &mut floor_times).await;
        round(&bot_fake, &user, stats_call, &mut stats).await;
        round(&floor_fake, &user, ping_call, &mut floor_times).await;
    }
    let pid = bot.id().unwrap_or(0);
    let (rss_kib, peak_kib) = (resident_kib(pid, "VmRSS:"), resident_kib(pid, "VmHWM:"));
    stop(bot).await;
    stop(floor).await;
    CommandFigures {
        who: Percentiles::of(who),
        stats: Percentiles::of(stats),
        floor: Percentiles::of(floor_times),
        rss_kib,
        peak_kib,
    }
}

// ----- the report -----

async fn measure() {
    let reactions = measure_reactions().await;
    let commands = measure_commands().await;
    let CommandFigures {
        who,
        stats,
        floor,
        rss_kib,
        peak_kib,
    } = &commands;
    for (name, p) in [
        ("/prayer who", who),
        ("/prayer stats", stats),
        ("floor (bare poise command)", floor),
    ] {
        println!(
            "{name}: p50 {:.3} ms, p99 {:.3} ms over {} calls",
            millis(p.p50),
            millis(p.p99),
            p.calls
        );
    }

    let half_bare = reactions.floor_rate / 2.0;
    let floor50 = millis(floor.p50);
    let mb = |kib: u64| kib as f64 / 1024.0;
    let rows: Vec<(String, String, String, bool)> = vec![
        (
            format!("reactions recorded/s, bot (median of {REACTION_ROUNDS})"),
            format!("{:.0}/s", reactions.bot_rate),
            format!(">= {half_bare:.0}/s (half bare)"),
            reactions.bot_rate >= half_bare,
        ),
        (
            format!("reactions counted/s, bare serenity (median of {REACTION_ROUNDS})"),
            format!("{:.0}/s", reactions.floor_rate),
            "(the floor)".to_owned(),
            true,
        ),
        (
            format!(
                "reactions lost, bot (of {} sent)",
                REACTIONS * REACTION_ROUNDS as u64
            ),
            reactions.bot_lost.to_string(),
            "0".to_owned(),
            reactions.bot_lost == 0,
        ),
        (
            "reactions lost, bare serenity".to_owned(),
            reactions.floor_lost.to_string(),
            "(the floor)".to_owned(),
            true,
        ),
        (
            "/prayer who p50".to_owned(),
            format!("{:.3} ms", millis(who.p50)),
            format!("<= {:.3} ms (2x bare)", 2.0 * floor50),
            millis(who.p50) <= 2.0 * floor50,
        ),
        (
            "/prayer who p99".to_owned(),
            format!("{:.3} ms", millis(who.p99)),
            "< 5 ms".to_owned(),
            millis(who.p99) < 5.0,
        ),
        (
            "/prayer stats p50".to_owned(),
            format!("{:.3} ms", millis(stats.p50)),
            format!("<= {:.3} ms (2x bare)", 2.0 * floor50),
            millis(stats.p50) <= 2.0 * floor50,
        ),
        (
            "/prayer stats p99".to_owned(),
            format!("{:.3} ms", millis(stats.p99)),
            "< 5 ms".to_owned(),
            millis(stats.p99) < 5.0,
        ),
        (
            "bare poise command p50 / p99".to_owned(),
            format!("{floor50:.3} / {:.3} ms", millis(floor.p99)),
            "(the floor)".to_owned(),
            true,
        ),
        (
            format!("bot resident memory ({SERVERS} servers)"),
            format!("{:.1} MB", mb(*rss_kib)),
            "< 50 MB".to_owned(),
            mb(*rss_kib) < 50.0,
        ),
        (
            "bot peak memory (commands / reactions)".to_owned(),
            format!(
                "{:.1} / {:.1} MB",
                mb(*peak_kib),
                mb(reactions.bot_peak_kib)
            ),
            "(shown)".to_owned(),
            true,
        ),
    ];
    // A target in brackets is shown, not met or missed.
    let rows: Vec<support::Row> = rows
        .into_iter()
        .map(|(figure, value, target, pass)| {
            let pass = (!target.starts_with('(')).then_some(pass);
            (figure, value, target, pass)
        })
        .collect();
    support::print_table(&rows, 16);
}
