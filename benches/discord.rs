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

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use fake_discord::{
    CommandCall, CommandOption, FakeChannel, FakeDiscord, FakeGuild, FakeUser, Invoker, Options,
};
use poise::serenity_prelude as serenity;
use prayer_bot::bulletins::parse::parse_bulletin;
use prayer_bot::bulletins::week::{Placement, PrayerWeek};
use prayer_bot::storage::{Scope, Store};

const TOKEN: &str = "MTA5ODc2NTQzMjEwOTg3NjU0.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789_-";
const SERVERS: u64 = 1_000;
const WEEKS: u64 = 52;
const ROUNDS: usize = 10;
const PER_ROUND: usize = 200;
const WAIT: Duration = Duration::from_secs(30);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--floor-bot") {
        let url = args.get(at + 1).expect("the fake's URL").clone();
        return floor_bot(url);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(measure());
}

/// The floor: serenity + poise + loopback, and nothing of prayer-bot.
fn floor_bot(url: String) {
    type Error = Box<dyn std::error::Error + Send + Sync>;

    /// Replies with a fixed text
    #[poise::command(slash_command)]
    async fn ping(ctx: poise::Context<'_, (), Error>) -> Result<(), Error> {
        let reply = poise::CreateReply::default()
            .content("pong")
            .allowed_mentions(serenity::CreateAllowedMentions::new());
        ctx.send(reply).await?;
        Ok(())
    }

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async move {
        let http = serenity::HttpBuilder::new(TOKEN)
            .proxy(url)
            .ratelimiter_disabled(true)
            .build();
        let framework = poise::Framework::builder()
            .options(poise::FrameworkOptions {
                commands: vec![ping()],
                initialize_owners: false,
                ..Default::default()
            })
            .setup(|ctx, _ready, framework| {
                Box::pin(async move {
                    poise::builtins::register_globally(ctx, &framework.options().commands).await?;
                    Ok(())
                })
            })
            .build();
        let mut client =
            serenity::ClientBuilder::new_with_http(http, prayer_bot::discord::intents())
                .framework(framework)
                .await
                .expect("the floor client builds");
        client.start().await.expect("the floor client runs");
    });
}

const BULLETIN_HEAD: &str =
    "IJM Prayer Requests\n\n“Learn to do right; seek justice.”\n— Isaiah 1:17\n\n";

/// 52 distinct bulletins, each with five regions and seven requests.
fn bulletins() -> Vec<prayer_bot::bulletins::parse::Bulletin> {
    (0..WEEKS)
        .map(|n| {
            let mut text = BULLETIN_HEAD.to_owned();
            for region in ["Africa", "Latin America", "South Asia", "Southeast Asia", "IJM HQ & Global Partners"] {
                text.push_str(&format!("{region}\n\n"));
                text.push_str(&format!(
                    "• Please pray for the survivors and staff in week {n}, that the courts will rule justly and the families will be safe. Pray for wisdom for the prosecutors.\n\n"
                ));
                if region.starts_with("Latin") || region.starts_with("South ") {
                    text.push_str("• Praise God for a rescue of eleven workers this week, and for the officials who acted quickly.\n\n");
                }
            }
            parse_bulletin(&text).expect("the bench bulletin parses")
        })
        .collect()
}

async fn build_database(path: &str) -> Vec<PrayerWeek> {
    let store = Store::open(path).await.expect("the store opens");
    let first = PrayerWeek::containing(NaiveDate::from_ymd_opt(2026, 1, 5).expect("a date"));
    let weeks: Vec<PrayerWeek> = std::iter::successors(Some(first), |w| Some(w.next()))
        .take(WEEKS as usize)
        .collect();
    let bulletins = bulletins();
    let started = Instant::now();
    for guild in 1..=SERVERS {
        for (week, bulletin) in weeks.iter().zip(&bulletins) {
            store
                .import(
                    Scope::Guild(
                        prayer_bot::ids::GuildId::try_new(guild_id(guild)).expect("ids are not 0"),
                    ),
                    bulletin,
                    &bulletin.fingerprint(),
                    Placement::Exactly(*week),
                    false,
                    "bench",
                    Utc::now(),
                )
                .await
                .expect("imports");
        }
    }
    println!(
        "database: {SERVERS} servers × {WEEKS} weeks = {} bulletins, built in {:.1} s",
        SERVERS * WEEKS,
        started.elapsed().as_secs_f64()
    );
    store.close().await;
    weeks
}

fn guild_id(n: u64) -> u64 {
    1_100_000_000_000_000_000 + n
}

fn channel_id(n: u64) -> u64 {
    1_200_000_000_000_000_000 + n
}

async fn fake_with_servers() -> FakeDiscord {
    // The spec check costs the fake, not the bot; it is off here and on in
    // the tests, which send the same requests.
    let fake = FakeDiscord::start_with(Options {
        check_spec: false,
        ..Options::default()
    })
    .await;
    for n in 1..=SERVERS {
        fake.add_guild(
            FakeGuild::new(guild_id(n), format!("Group {n}"), fake.owner().id)
                .with_channel(FakeChannel::text(channel_id(n), "prayer")),
        );
    }
    fake
}

struct Latencies(Vec<Duration>);

impl Latencies {
    fn percentile(&mut self, p: f64) -> Duration {
        self.0.sort();
        let index = ((self.0.len() as f64 - 1.0) * p).round() as usize;
        self.0[index]
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn round(
    fake: &FakeDiscord,
    user: &FakeUser,
    call: impl Fn(usize) -> (CommandCall, u64),
    into: &mut Latencies,
) {
    for i in 0..PER_ROUND {
        let (command, n) = call(i);
        let invoker = Invoker::in_guild(user.clone(), guild_id(n), channel_id(n)).non_admin();
        let started = Instant::now();
        let sent = fake.send_command(command, invoker).expect("sent");
        fake.wait_for_callback(&sent, WAIT).await.expect("answered");
        into.0.push(started.elapsed());
    }
    // The log would otherwise grow through the run and slow the waits.
    fake.clear_requests();
}

fn resident_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn measure() {
    let dir = tempfile::tempdir().expect("a directory");
    let db = dir.path().join("bench.db").to_string_lossy().into_owned();
    let weeks = build_database(&db).await;

    let bot_fake = fake_with_servers().await;
    let mut bot = tokio::process::Command::new(env!("CARGO_BIN_EXE_prayer-bot"))
        .arg("run")
        .env("DISCORD_TOKEN", TOKEN)
        .env("DISCORD_API_URL", bot_fake.base_url())
        .env("DATABASE_URL", &db)
        .env("RUST_LOG", "error")
        .kill_on_drop(true)
        .spawn()
        .expect("the bot starts");
    bot_fake
        .wait_until_ready(WAIT)
        .await
        .expect("the bot connects");
    bot_fake
        .wait_for("PUT", "/applications/*/commands", WAIT)
        .await
        .expect("the bot registers its commands");

    let floor_fake = fake_with_servers().await;
    let mut floor = tokio::process::Command::new(std::env::current_exe().expect("this bench"))
        .args(["--floor-bot", &floor_fake.base_url()])
        .kill_on_drop(true)
        .spawn()
        .expect("the floor bot starts");
    floor_fake
        .wait_until_ready(WAIT)
        .await
        .expect("the floor connects");
    floor_fake
        .wait_for("PUT", "/applications/*/commands", WAIT)
        .await
        .expect("the floor registers its command");

    let user = FakeUser::new(1_300_000_000_000_000_001, "reader");
    let week_call = |i: usize| {
        let n = (i as u64 * 7919) % SERVERS + 1;
        let week = weeks[i % weeks.len()].to_string();
        let call = CommandCall::new("prayer")
            .subcommand("week", vec![CommandOption::string("week", week)]);
        (call, n)
    };
    let ping_call = |i: usize| (CommandCall::new("ping"), (i as u64 * 7919) % SERVERS + 1);

    // One warm-up round each: connections, caches and statements.
    let (mut warm_bot, mut warm_floor) = (Latencies(Vec::new()), Latencies(Vec::new()));
    round(&bot_fake, &user, week_call, &mut warm_bot).await;
    round(&floor_fake, &user, ping_call, &mut warm_floor).await;

    let (mut week_times, mut floor_times) = (Latencies(Vec::new()), Latencies(Vec::new()));
    for _ in 0..ROUNDS {
        round(&bot_fake, &user, week_call, &mut week_times).await;
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
