//! What the benches against the fake Discord share: the floor bot (a bare
//! poise command, nothing of prayer-bot), the servers' ids, the fake with
//! a thousand servers, the bot started against it, the bench bulletins,
//! timing rounds and the figures printed. Each bench takes what it needs
//! (`mod support;`).
#![allow(dead_code)]

use std::time::{Duration, Instant};

use chrono::Utc;
use fake_discord::{CommandCall, FakeChannel, FakeDiscord, FakeGuild, FakeUser, Invoker, Options};
use poise::serenity_prelude as serenity;
use prayer_bot::bulletins::parse::{Bulletin, parse_bulletin};
use prayer_bot::bulletins::week::{Placement, PrayerWeek};
use prayer_bot::storage::{Scope, Store};

/// A well-formed token the fake accepts; it is nobody's secret.
pub const TOKEN: &str = "MTA5ODc2NTQzMjEwOTg3NjU0.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789_-";
pub const WAIT: Duration = Duration::from_secs(30);
/// Commands timed in one round.
pub const PER_ROUND: usize = 200;

/// Runs `measure` on a runtime of `workers` threads.
pub fn run_on(workers: usize, measure: impl Future<Output = ()>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(measure);
}

/// The value after `flag` on the command line (the bench binary started
/// again as a floor gets the fake's URL so).
pub fn flag_value(flag: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == flag)?;
    Some(args.get(at + 1).expect("the fake's URL").clone())
}

/// The floor for commands: serenity + poise + loopback, and nothing of
/// prayer-bot. It runs in a process of its own (the bench binary again,
/// with `--floor-bot URL`).
pub fn floor_bot(url: String) {
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
        let mut client = floor_client(url)
            .framework(framework)
            .await
            .expect("the floor client builds");
        client.start().await.expect("the floor client runs");
    });
}

/// A serenity client of a floor, talking to the fake at `url` unpaced,
/// with the bot's intents.
pub fn floor_client(url: String) -> serenity::ClientBuilder {
    let http = serenity::HttpBuilder::new(TOKEN)
        .proxy(url)
        .ratelimiter_disabled(true)
        .build();
    serenity::ClientBuilder::new_with_http(http, prayer_bot::discord::intents())
}

/// Starts the floor bot against `fake` and waits until it has registered
/// its command.
pub async fn start_floor(fake: &FakeDiscord) -> tokio::process::Child {
    let floor = tokio::process::Command::new(std::env::current_exe().expect("this bench"))
        .args(["--floor-bot", &fake.base_url()])
        .kill_on_drop(true)
        .spawn()
        .expect("the floor bot starts");
    registered(fake, "the floor").await;
    floor
}

/// `prayer-bot run` on `db` against `fake`, logging errors only; the
/// caller may set more before it spawns.
pub fn bot_command(fake: &FakeDiscord, db: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_prayer-bot"));
    command
        .arg("run")
        .env("DISCORD_TOKEN", TOKEN)
        .env("DISCORD_API_URL", fake.base_url())
        .env("DATABASE_URL", db)
        .env("RUST_LOG", "error")
        .kill_on_drop(true);
    command
}

pub fn start_bot(fake: &FakeDiscord, db: &str) -> tokio::process::Child {
    bot_command(fake, db).spawn().expect("the bot starts")
}

/// Ends a process started here and waits for it.
pub async fn stop(mut child: tokio::process::Child) {
    let _ = child.start_kill();
    let _ = child.wait().await;
}

/// Waits until `who` (the bot or the floor) is connected to `fake` and
/// has registered its commands.
pub async fn registered(fake: &FakeDiscord, who: &str) {
    fake.wait_until_ready(WAIT)
        .await
        .unwrap_or_else(|e| panic!("{who} connects: {e:?}"));
    fake.wait_for("PUT", "/applications/*/commands", WAIT)
        .await
        .unwrap_or_else(|e| panic!("{who} registers its commands: {e:?}"));
}

pub fn guild_id(n: u64) -> u64 {
    1_100_000_000_000_000_000 + n
}

pub fn channel_id(n: u64) -> u64 {
    1_200_000_000_000_000_000 + n
}

pub fn user_id(n: u64) -> u64 {
    1_300_000_000_000_000_000 + n
}

/// The fake's options for a bench: the spec check costs the fake, not
/// the bot; it is off here and on in the tests, which send the same
/// requests.
pub fn fake_options() -> Options {
    Options {
        check_spec: false,
        ..Options::default()
    }
}

/// A fake with `options` and servers `1..=servers`, each with its #prayer
/// channel.
pub async fn fake_with_servers(servers: u64, options: Options) -> FakeDiscord {
    let fake = FakeDiscord::start_with(options).await;
    for n in 1..=servers {
        fake.add_guild(
            FakeGuild::new(guild_id(n), format!("Group {n}"), fake.owner().id)
                .with_channel(FakeChannel::text(channel_id(n), "prayer")),
        );
    }
    fake
}

const BULLETIN_HEAD: &str =
    "IJM Prayer Requests\n\n“Learn to do right; seek justice.”\n— Isaiah 1:17\n\n";

/// `count` distinct bulletins, each with five regions and seven requests.
pub fn bulletins(count: u64) -> Vec<Bulletin> {
    (0..count)
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

/// Imports `bulletin` for `week` in `scope`, as the bench's own.
pub async fn import(store: &Store, scope: Scope, bulletin: &Bulletin, week: PrayerWeek) {
    import_placed(store, scope, bulletin, Placement::Exactly(week)).await;
}

/// Imports `bulletin` in `scope` where `placement` says.
pub async fn import_placed(store: &Store, scope: Scope, bulletin: &Bulletin, placement: Placement) {
    store
        .import_to(
            scope,
            &prayer_bot::storage::BulletinImport {
                bulletin,
                fingerprint: &bulletin.fingerprint(),
                placement,
                named: false,
                force: false,
                source: "bench",
                now: Utc::now(),
            },
        )
        .await
        .expect("imports");
}

/// Round-trip times of commands.
pub struct Latencies(pub Vec<Duration>);

impl Latencies {
    pub fn percentile(&mut self, p: f64) -> Duration {
        self.0.sort();
        let index = ((self.0.len() as f64 - 1.0) * p).round() as usize;
        self.0[index]
    }
}

/// Sends [`PER_ROUND`] commands as `user`, one at a time, the `i`-th
/// being `call(i)` in server `n`, and adds each one's time from sent to
/// answered to `into`.
pub async fn round(
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

/// A field of `/proc/PID/status` in KiB (`VmRSS:`, `VmHWM:`); 0 if unknown.
pub fn resident_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

pub fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "MISS" }
}

/// A figure of the table a bench ends with: its name, value, target, and
/// whether it met the target (`None`: shown only).
pub type Row = (String, String, String, Option<bool>);

/// Prints the table of `rows`, values right-aligned in `value_width`.
pub fn print_table(rows: &[Row], value_width: usize) {
    let width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    println!();
    println!(
        "{:width$}  {:>value_width$}  {:<26}  result",
        "figure", "value", "target"
    );
    for (figure, value, target, pass) in rows {
        let result = pass.map_or("", verdict);
        let pad = width - figure.chars().count();
        println!(
            "{figure}{:pad$}  {value:>value_width$}  {target:<26}  {result}",
            ""
        );
    }
}
