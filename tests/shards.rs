//! Several bot processes, each running a range of the gateway's shards
//! (`run --shards START..END --shard-total N`), against the fake Discord,
//! which delivers each server only to the shard that owns it
//! (`(guild_id >> 22) % N`).

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{World, until};
use fake_discord::{
    Direction, FakeChannel, FakeDiscord, FakeGuild, Options, RateLimits, RecordedRequest,
};
use prayer_bot::ids::GuildId;
use prayer_bot::posting::{PlannedMessage, plan_post};
use prayer_bot::schedule::Schedule;
use prayer_bot::storage::Scope;
use tokio::time::Instant;

const WEEK: &str = "2026-11-23";
/// Monday 23 November 2026, half an hour after the default post time.
const CLOCK: &str = "2026-11-23T09:30:00Z";
/// Ten minutes on: any lease a process took at [`CLOCK`] (two minutes,
/// renewed before each message) has run out.
const LATER: &str = "2026-11-23T09:40:00Z";
const PRAYER: &str = "🙏";

/// The name each shard's process reaches the fake by, so the `Host` header
/// of every request in the fake's record says which process sent it.
const HOSTS: [&str; 2] = ["127.0.0.1", "localhost"];

/// A `prayer-bot run` of these tests.
struct Process<'a> {
    /// `--shards`, of 2.
    range: &'a str,
    /// `PRAYER_BOT_START_TIME`.
    clock: &'a str,
    /// The name it reaches the fake by (one of [`HOSTS`]).
    host: &'a str,
    /// Its log's file name, beside the database.
    log: &'a str,
}

/// Starts `process` on `db` against `fake`, logging at info.
fn spawn(fake: &FakeDiscord, db: &std::path::Path, process: &Process) -> tokio::process::Child {
    let url = fake.base_url().replacen("127.0.0.1", process.host, 1);
    let mut command = common::bot_command(&url, db);
    command
        .env("PRAYER_BOT_START_TIME", process.clock)
        .env("RUST_LOG", "info")
        // The fake's limits, if any, are the only ones that count here.
        .env("DISCORD_GLOBAL_RATE_LIMIT", "1000")
        .args(["--shards", process.range, "--shard-total", "2"]);
    common::spawn_logged(command, &db.with_file_name(process.log))
}

/// `prayer-bot run` for shards `range` of 2, its clock at [`CLOCK`];
/// shard 0's process reaches the fake as [`HOSTS`]`[0]`, any other as
/// [`HOSTS`]`[1]`.
fn spawn_shards(
    fake: &FakeDiscord,
    db: &std::path::Path,
    range: &str,
    log: &str,
) -> tokio::process::Child {
    let host = HOSTS[usize::from(range != "0..1")];
    spawn(
        fake,
        db,
        &Process {
            range,
            clock: CLOCK,
            host,
            log,
        },
    )
}

#[tokio::test]
async fn two_processes_with_a_shard_each_identify_once_in_turn_and_post_only_their_own_servers() {
    let dir = tempfile::tempdir().expect("a directory");
    let db = dir.path().join("prayer-bot.db");
    common::import(&db, &common::project("examples/week-1.txt"), WEEK);
    let fake = FakeDiscord::start().await;
    fake.set_shard_count(2);
    let world = World::add_to(&fake);
    // A second server on the other shard: its id differs by one in the
    // bits Discord shards on.
    let other = world.guild + (1 << 22);
    let other_channel = FakeChannel::text(fake.next_id(), "prayer");
    fake.add_guild(
        FakeGuild::new(other, "Second Group", fake.owner().id).with_channel(other_channel.clone()),
    );
    let store = common::open_store(&db).await;
    for (guild, channel) in [(world.guild, world.general.id), (other, other_channel.id)] {
        common::scheduled(&store, guild, channel, Schedule::default()).await;
    }
    store.close().await;

    let _first = spawn_shards(&fake, &db, "0..1", "first.log");
    let _second = spawn_shards(&fake, &db, "1..2", "second.log");
    for channel in [world.general.id, other_channel.id] {
        until("each server's week is posted", || async {
            (common::sent_to(&fake, channel).len() >= 3).then_some(())
        })
        .await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut shards = fake.identified_shards();
    shards.sort_unstable();
    assert_eq!(shards, [[0, 2], [1, 2]], "one IDENTIFY per shard");
    // The fake says max_concurrency 1: the two processes took turns, five
    // seconds apart, though they started together.
    let identifies: Vec<Duration> = fake
        .gateway_frames()
        .iter()
        .filter(|f| f.op == 2)
        .map(|f| f.at)
        .collect();
    assert_eq!(identifies.len(), 2);
    let apart = identifies[1].saturating_sub(identifies[0]);
    assert!(apart >= Duration::from_millis(4_900), "{apart:?} apart");
    for channel in [world.general.id, other_channel.id] {
        let sent = common::sent_to(&fake, channel);
        let headers = sent.iter().filter(|m| m.starts_with("**")).count();
        assert_eq!(headers, 1, "posted once: {sent:#?}");
    }
    let registered = fake.requests_matching("PUT", "/applications/*/commands$");
    assert_eq!(
        registered.len(),
        1,
        "the commands are registered by one process"
    );
    // Each week was posted by the process that runs its server's shard,
    // as each process's log says.
    let shard_of = |guild: u64| (guild >> 22) % 2;
    assert_ne!(shard_of(world.guild), shard_of(other));
    for (log, shard) in [("first.log", 0), ("second.log", 1)] {
        let text = std::fs::read_to_string(db.with_file_name(log)).expect("a log");
        // Waiting five seconds for its turn to identify is not the gateway
        // being out of reach.
        assert!(!text.contains("can't be reached"), "{log}: {text}");
        for guild in [world.guild, other] {
            let posted = text.contains(&format!("to server {guild}:"));
            assert_eq!(
                posted,
                shard_of(guild) == shard,
                "{log}, server {guild}: {text}"
            );
        }
    }
    // A 🙏 on the request of the server on shard 1 reaches only the
    // process that runs shard 1, and is recorded once.
    let (on_one, channel) = if shard_of(other) == 1 {
        (other, other_channel.id)
    } else {
        (world.guild, world.general.id)
    };
    let (message, _) = *common::request_messages(&fake, channel)
        .first()
        .expect("a request message");
    let member = fake.next_id();
    fake.send_reaction_add(
        &fake_discord::ReactionEvent::new(member, channel, message, "🙏").in_guild(on_one),
    )
    .expect("the reaction is sent");
    let store = common::open_store(&db).await;
    let guild = GuildId::try_new(on_one).expect("the fake's ids are not 0");
    // The member's 🙏 is the only mark in the server.
    let count = || async { store.mark_count_in(guild).await.expect("read") };
    until("the 🙏 is recorded", || async {
        (count().await > 0).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let marks = count().await;
    assert_eq!(marks, 1, "recorded once");
    // By the second process: the fake told only the connection that
    // identified as shard 1, which is that process's.
    let frames = fake.gateway_frames();
    let identified_as = |shard: u64| {
        frames
            .iter()
            .filter(|f| f.direction == Direction::Received && f.op == 2)
            .filter(|f| f.payload["d"]["shard"][0] == shard)
            .map(|f| f.connection)
            .collect::<Vec<u64>>()
    };
    let told: Vec<u64> = frames
        .iter()
        .filter(|f| f.direction == Direction::Sent)
        .filter(|f| f.event.as_deref() == Some("MESSAGE_REACTION_ADD"))
        .map(|f| f.connection)
        .collect();
    assert_eq!(told, identified_as(1), "only shard 1's process hears of it");
    assert_ne!(identified_as(0), identified_as(1));
    fake.assert_no_spec_violations();
}

#[test]
fn a_shard_range_that_is_not_one_is_refused_in_words_before_anything_starts() {
    for args in [
        vec!["--shards", "2..2", "--shard-total", "4"],
        vec!["--shards", "0..5", "--shard-total", "4"],
        vec!["--shards", "zero..one", "--shard-total", "4"],
        vec!["--shards", "0..1"],
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_prayer-bot"))
            .arg("run")
            .args(&args)
            .env("DISCORD_TOKEN", common::TOKEN)
            .env("DISCORD_API_URL", "http://127.0.0.1:9")
            .env_remove("PRAYER_BOT_SHARDS")
            .env_remove("PRAYER_BOT_SHARD_TOTAL")
            .output()
            .expect("the bot runs");
        let said = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {said}");
        assert!(said.contains("Nothing was started."), "{args:?}: {said}");
    }
}

/// One server of a fleet: its id, its one channel, and what its post of
/// [`WEEK`] is to send there.
struct Server {
    guild: u64,
    channel: u64,
    plan: Vec<PlannedMessage>,
}

impl Server {
    /// The shard that owns it, of 2.
    fn shard(&self) -> usize {
        usize::from((self.guild >> 22) % 2 == 1)
    }

    /// The messages that get the bot's 🙏.
    fn prayable(&self) -> usize {
        self.plan.iter().filter(|m| m.prayable).count()
    }
}

/// `count` servers on the default schedule, every other one on shard 1,
/// each posting to its one channel, in `fake` and in the database `db`,
/// with [`WEEK`]'s bulletin (shared) imported.
async fn fleet(fake: &FakeDiscord, db: &std::path::Path, count: u64) -> Vec<Server> {
    common::import(db, &common::project("examples/week-1.txt"), WEEK);
    let store = common::open_store(db).await;
    let week = WEEK.parse().expect("a week");
    let mut servers = Vec::new();
    for n in 0..count {
        // Snowflakes about a second apart, from 2023 on; bit 22, which
        // picks the shard of 2, alternates.
        let guild = (250_000_000_000 + n * 1_001) << 22;
        let channel = fake.next_id();
        fake.add_guild(
            FakeGuild::new(guild, format!("Group {n}"), fake.owner().id)
                .with_channel(FakeChannel::text(channel, "prayer")),
        );
        common::scheduled(&store, guild, channel, Schedule::default()).await;
        let id = GuildId::try_new(guild).expect("not 0");
        let stored = store
            .week(Scope::Guild(id), week)
            .await
            .expect("readable")
            .expect("the bulletin");
        let settings = store.channel_settings(id).await.expect("readable");
        let plan = plan_post(&stored, &settings).expect("a plan");
        servers.push(Server {
            guild,
            channel,
            plan,
        });
    }
    store.close().await;
    let on_one = servers.iter().filter(|s| s.shard() == 1).count();
    assert_eq!(on_one * 2, servers.len(), "half the servers on each shard");
    servers
}

/// The channel a `/channels/{id}/…` request went to.
fn channel_of(request: &RecordedRequest) -> u64 {
    request
        .segments()
        .get(1)
        .and_then(|id| id.parse().ok())
        .unwrap_or(0)
}

fn is_message(request: &RecordedRequest) -> bool {
    request.is("POST", "/channels/*/messages$") && request.status == 200
}

fn is_prayer(request: &RecordedRequest) -> bool {
    request.is("PUT", "/channels/*/messages/*/reactions/*/@me$")
        && request.status == 204
        && request.segments().get(5).map(String::as_str) == Some(PRAYER)
}

/// The messages (content, and the host that sent it) and 🙏 (the
/// message, and the host) the fake took, by channel.
#[derive(Default)]
struct Taken {
    messages: HashMap<u64, Vec<(String, String)>>,
    prayers: HashMap<u64, Vec<(u64, String)>>,
}

impl Taken {
    fn from(log: &[RecordedRequest]) -> Taken {
        let mut taken = Taken::default();
        for request in log {
            let host = request.header("host").unwrap_or_default();
            let host = host.split(':').next().unwrap_or_default().to_owned();
            if is_message(request) {
                let body = request.body.clone().unwrap_or_default();
                let content = body["content"].as_str().unwrap_or_default().to_owned();
                let channel = taken.messages.entry(channel_of(request)).or_default();
                channel.push((content, host));
            } else if is_prayer(request) {
                let message = request.segments()[3].parse().unwrap_or(0);
                let channel = taken.prayers.entry(channel_of(request)).or_default();
                channel.push((message, host));
            }
        }
        taken
    }

    /// The servers with fewer messages or 🙏 than their posts plan.
    fn short(&self, servers: &[Server]) -> usize {
        servers
            .iter()
            .filter(|s| {
                self.messages.get(&s.channel).map_or(0, Vec::len) < s.plan.len()
                    || self.prayers.get(&s.channel).map_or(0, Vec::len) < s.prayable()
            })
            .count()
    }
}

/// Waits until the fake has taken every server's messages and 🙏, then a
/// moment more for anything sent twice. Fails when the fake's record has
/// not grown for [`common::WAIT`] (or, whatever it does, after three).
async fn until_posted(fake: &FakeDiscord, servers: &[Server]) {
    let started = Instant::now();
    let (mut seen, mut moved) = (0, Instant::now());
    loop {
        let log = fake.requests();
        let short = Taken::from(&log).short(servers);
        if short == 0 {
            break;
        }
        if log.len() != seen {
            (seen, moved) = (log.len(), Instant::now());
        }
        assert!(
            moved.elapsed() < common::WAIT && started.elapsed() < 3 * common::WAIT,
            "the posts stalled after {seen} requests, {short} servers short"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
}

/// Each server's week is in its channel exactly once, as planned: every
/// (channel, text) once, none missing, the bot's 🙏 once under each
/// request and nowhere else, every message sent by the process of the
/// server's shard, and no 🙏 asked for twice, except that a post
/// `resumed` after a crash may ask once more for the last one it had
/// sent (it may have been lost; Discord keeps one per user).
fn assert_posted_once_each(
    fake: &FakeDiscord,
    servers: &[Server],
    resumed: impl Fn(&Server) -> bool,
) {
    let taken = Taken::from(&fake.requests());
    let bot = fake.bot_user_id();
    for server in servers {
        let (guild, host) = (server.guild, HOSTS[server.shard()]);
        let sent = taken
            .messages
            .get(&server.channel)
            .cloned()
            .unwrap_or_default();
        let mut texts: Vec<&str> = sent.iter().map(|(text, _)| text.as_str()).collect();
        texts.sort_unstable();
        let mut planned: Vec<&str> = server.plan.iter().map(|m| m.content.as_str()).collect();
        planned.sort_unstable();
        assert_eq!(texts, planned, "server {guild}: each message once");
        let strangers: Vec<&String> = sent.iter().map(|(_, h)| h).filter(|h| *h != host).collect();
        assert!(
            strangers.is_empty(),
            "server {guild} is {host}'s: {strangers:?}"
        );

        let requests = common::request_messages(fake, server.channel);
        assert_eq!(requests.len(), server.prayable(), "server {guild}");
        let mut ids: Vec<i64> = requests.iter().map(|(_, r)| *r).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), requests.len(), "server {guild}: a request twice");
        for message in fake.messages_in(server.channel) {
            let id: u64 = message["id"]
                .as_str()
                .and_then(|i| i.parse().ok())
                .unwrap_or(0);
            let by_bot = fake
                .reactions(id, PRAYER)
                .iter()
                .filter(|u| **u == bot)
                .count();
            let wanted = usize::from(requests.iter().any(|(m, _)| *m == id));
            assert_eq!(by_bot, wanted, "server {guild}, message {id}: the bot's 🙏");
        }
        let prayers = taken
            .prayers
            .get(&server.channel)
            .cloned()
            .unwrap_or_default();
        assert!(
            prayers.iter().all(|(_, h)| h == host),
            "server {guild} is {host}'s: {prayers:?}"
        );
        let mut asked: Vec<u64> = prayers.iter().map(|(m, _)| *m).collect();
        asked.sort_unstable();
        let twice = asked.windows(2).filter(|w| w[0] == w[1]).count();
        let allowed = usize::from(resumed(server));
        assert!(
            twice <= allowed,
            "server {guild}: 🙏 asked twice: {asked:?}"
        );
    }
}

/// A fake Discord of two shards, `max_concurrency` 1; with Discord's
/// per-channel limits (5 messages per 5 s, a 🙏 per 250 ms) when `limited`,
/// so that a post takes a few seconds, but no global limit.
async fn two_shard_fake(limited: bool) -> FakeDiscord {
    let rate_limits = limited.then(|| RateLimits::discord().with_global_per_second(0));
    let fake = FakeDiscord::start_with(Options {
        rate_limits,
        ..Options::default()
    })
    .await;
    fake.set_shard_count(2);
    fake
}

#[tokio::test]
async fn two_hundred_servers_due_on_monday_are_each_posted_once_by_the_process_of_their_shard() {
    let dir = tempfile::tempdir().expect("a directory");
    let db = dir.path().join("prayer-bot.db");
    let fake = two_shard_fake(false).await;
    let servers = fleet(&fake, &db, 200).await;
    let _first = spawn_shards(&fake, &db, "0..1", "first.log");
    let _second = spawn_shards(&fake, &db, "1..2", "second.log");
    until_posted(&fake, &servers).await;
    assert_posted_once_each(&fake, &servers, |_| false);
    let mut shards = fake.identified_shards();
    shards.sort_unstable();
    assert_eq!(shards, [[0, 2], [1, 2]], "one IDENTIFY per shard");
    fake.assert_no_spec_violations();
}

#[tokio::test]
async fn a_process_killed_mid_post_and_started_again_leaves_each_week_posted_once() {
    let dir = tempfile::tempdir().expect("a directory");
    let db = dir.path().join("prayer-bot.db");
    let fake = two_shard_fake(true).await;
    let servers = fleet(&fake, &db, 100).await;
    // Shard 0's process first, so shard 1's identifies after it and is
    // the one killed: the restarted process then identifies last.
    let _first = spawn_shards(&fake, &db, "0..1", "first.log");
    until("shard 0 identifies", || async {
        fake.identified_shards().contains(&[0, 2]).then_some(())
    })
    .await;
    let mut second = spawn_shards(&fake, &db, "1..2", "second.log");
    // `kill -9` the moment the fake takes a message past half of shard
    // 1's: in the middle of a round of messages, so some posts are a
    // message further on than others, and the last answers may not have
    // reached the process. No channel takes more than 5 messages in 5 s
    // and each post has more, so none of shard 1's posts is finished.
    let theirs: Vec<&Server> = servers.iter().filter(|s| s.shard() == 1).collect();
    let planned: usize = theirs.iter().map(|s| s.plan.len()).sum();
    let by_second = |r: &RecordedRequest| {
        is_message(r) && r.header("host").is_some_and(|h| h.starts_with(HOSTS[1]))
    };
    fake.wait_for_requests(
        by_second,
        planned / 2 + 13,
        common::WAIT,
        "shard 1's messages",
    )
    .await
    .expect("shard 1's process posts");
    common::send_signal(&second, libc::SIGKILL);
    let _ = second.wait().await;
    let sent = fake.requests().iter().filter(|r| by_second(r)).count();
    assert!(sent < planned, "killed mid-post: {sent} of {planned} sent");

    // Started again with its clock past the dead process's leases, as
    // when it comes back after they ran out: it resumes each post.
    let restarted = Process {
        range: "1..2",
        clock: LATER,
        host: HOSTS[1],
        log: "restarted.log",
    };
    let _restarted = spawn(&fake, &db, &restarted);
    until_posted(&fake, &servers).await;
    assert_posted_once_each(&fake, &servers, |s| s.shard() == 1);
    let mut shards = fake.identified_shards();
    shards.sort_unstable();
    assert_eq!(shards, [[0, 2], [1, 2], [1, 2]], "shard 1 identified again");
    fake.assert_no_spec_violations();
}
