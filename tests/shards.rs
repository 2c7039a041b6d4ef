//! Several bot processes, each running a range of the gateway's shards
//! (`run --shards START..END --shard-total N`), against the fake Discord,
//! which delivers each server only to the shard that owns it
//! (`(guild_id >> 22) % N`).

mod common;

use std::time::Duration;

use common::{World, until};
use fake_discord::{FakeChannel, FakeDiscord, FakeGuild};
use prayer_bot::schedule::Schedule;

const WEEK: &str = "2026-11-23";
/// Monday 23 November 2026, half an hour after the default post time.
const CLOCK: &str = "2026-11-23T09:30:00Z";

/// `prayer-bot run` for shards `range` of 2.
fn spawn_shards(
    fake: &FakeDiscord,
    db: &std::path::Path,
    range: &str,
    log: &str,
) -> tokio::process::Child {
    let mut command = common::bot_command(&fake.base_url(), db);
    command
        .env("PRAYER_BOT_START_TIME", CLOCK)
        .env("RUST_LOG", "info")
        .args(["--shards", range, "--shard-total", "2"]);
    common::spawn_logged(command, &db.with_file_name(log))
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
        for guild in [world.guild, other] {
            let posted = text.contains(&format!("to server {guild}:"));
            assert_eq!(
                posted,
                shard_of(guild) == shard,
                "{log}, server {guild}: {text}"
            );
        }
    }
    // A 🙏 on the second server's request reaches only the process that
    // runs its shard, and is recorded once.
    let (message, _) = *common::request_messages(&fake, other_channel.id)
        .first()
        .expect("a request message");
    let member = fake.next_id();
    fake.send_reaction_add(
        &fake_discord::ReactionEvent::new(member, other_channel.id, message, "🙏").in_guild(other),
    )
    .expect("the reaction is sent");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("the database opens");
    let count = || async {
        let marks: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM prayer_marks WHERE guild_id = ? AND user_id = ?",
        )
        .bind(other as i64)
        .bind(member as i64)
        .fetch_one(&pool)
        .await
        .expect("read");
        marks
    };
    until("the 🙏 is recorded", || async {
        (count().await > 0).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let marks = count().await;
    assert_eq!(marks, 1, "recorded once");
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
