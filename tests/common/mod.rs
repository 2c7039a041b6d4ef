//! The harness of the tests that run the real bot (`prayer-bot run`)
//! against the fake Discord on 127.0.0.1: a database with a bulletin
//! imported, the fake with one server, the bot started and pointed at the
//! fake, its answers read back, and bounded polling for what comes in the
//! background. Each test file takes what it needs (`mod common;`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use chrono::{DateTime, Utc};
use fake_discord::{
    CommandCall, CommandOption, FakeChannel, FakeDiscord, FakeGuild, FakeMember, FakeRole,
    FakeUser, Invoker, Overwrite, SentInteraction, permissions,
};
use prayer_bot::ids::{ChannelId, GuildId};
use prayer_bot::schedule::Schedule;
use prayer_bot::storage::Store;
use serde_json::Value;
use tokio::time::Instant;

/// A well-formed token the fake accepts; it is nobody's secret.
pub const TOKEN: &str = "MTA5ODc2NTQzMjEwOTg3NjU0.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789_-";
/// The longest any wait for the bot lasts before the test fails.
pub const WAIT: Duration = Duration::from_secs(30);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(50);

pub fn project(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

pub fn instant(text: &str) -> DateTime<Utc> {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// The database the test that names the file `db` uses: that SQLite file,
/// or, when `PRAYER_BOT_TEST_POSTGRES` names a Postgres database, a schema
/// of its own there, the same one each time the test names `db`.
pub fn location(db: &Path) -> String {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static SCHEMAS: OnceLock<Mutex<HashMap<PathBuf, String>>> = OnceLock::new();
    let Some(server) = prayer_bot::storage::test_server() else {
        return db.to_str().expect("a UTF-8 path").to_owned();
    };
    let mut schemas = SCHEMAS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    schemas
        .entry(db.to_path_buf())
        .or_insert_with(|| {
            // Made on a thread of its own: the caller may be inside a
            // runtime, which cannot block on another.
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime")
                    .block_on(prayer_bot::storage::test_schema(&server))
            })
            .join()
            .expect("the schema is made")
        })
        .clone()
}

/// Imports `bulletin` for `week` into the database `db` with the CLI.
pub fn import(db: &Path, bulletin: &Path, week: &str) {
    let imported = std::process::Command::new(env!("CARGO_BIN_EXE_prayer-bot"))
        .arg("import")
        .arg(bulletin)
        .args(["--week", week, "--database"])
        .arg(location(db))
        .output()
        .expect("the import runs");
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
}

pub async fn open_store(db: &Path) -> Store {
    Store::open(&location(db))
        .await
        .expect("the database opens")
}

/// The server posts to `general`, on `schedule`.
pub async fn scheduled(store: &Store, guild: u64, general: u64, schedule: Schedule) {
    let guild = GuildId::try_new(guild).expect("the fake's ids are not 0");
    let general = ChannelId::try_new(general).expect("the fake's ids are not 0");
    store
        .set_default_channel(guild, general, Utc::now())
        .await
        .expect("the channel is set");
    store
        .set_schedule(guild, &schedule, Utc::now())
        .await
        .expect("the schedule is set");
}

/// One server: a default channel, a channel for one region, a channel
/// where the bot may not post; an admin and an ordinary member.
pub struct World {
    pub guild: u64,
    pub general: FakeChannel,
    pub latin: FakeChannel,
    pub locked: FakeChannel,
    pub admin: FakeUser,
    pub member: FakeUser,
    /// A role anyone may mention (the weekly ping's), and one no one may.
    pub team: FakeRole,
    pub quiet: FakeRole,
}

impl World {
    /// Adds the server to `fake`.
    pub fn add_to(fake: &FakeDiscord) -> World {
        let guild = fake.next_id();
        let admins = FakeRole::new(fake.next_id(), "Admins", permissions::MANAGE_GUILD);
        let mut team = FakeRole::new(fake.next_id(), "Prayer team", 0);
        team.mentionable = true;
        let quiet = FakeRole::new(fake.next_id(), "Quiet", 0);
        let admin = FakeUser::new(fake.next_id(), "ada");
        let member = FakeUser::new(fake.next_id(), "bob");
        let general = FakeChannel::text(fake.next_id(), "prayer");
        // The one channel where the bot may open threads (the week's thread).
        let latin = FakeChannel::text(fake.next_id(), "latin-america").with_overwrite(
            Overwrite::member(fake.bot_user_id(), permissions::CREATE_PUBLIC_THREADS, 0),
        );
        let locked =
            FakeChannel::text(fake.next_id(), "announcements").with_overwrite(Overwrite::member(
                fake.bot_user_id(),
                0,
                permissions::SEND_MESSAGES | permissions::ADD_REACTIONS,
            ));
        fake.add_guild(
            FakeGuild::new(guild, "Prayer Group", fake.owner().id)
                .with_role(admins.clone())
                .with_role(team.clone())
                .with_role(quiet.clone())
                .with_channel(general.clone())
                .with_channel(latin.clone())
                .with_channel(locked.clone())
                .with_member(FakeMember::new(admin.clone()).with_roles([admins.id]))
                .with_member(FakeMember::new(member.clone())),
        );
        World {
            guild,
            general,
            latin,
            locked,
            admin,
            member,
            team,
            quiet,
        }
    }

    /// `user` in the server, writing in the default channel.
    pub fn invoker(&self, user: &FakeUser) -> Invoker {
        Invoker::in_guild(user.clone(), self.guild, self.general.id)
    }

    pub fn as_admin(&self) -> Invoker {
        self.invoker(&self.admin)
    }

    pub fn as_member(&self) -> Invoker {
        self.invoker(&self.member)
    }
}

/// `prayer-bot run` on the database `db` against `api_url`, logging
/// warnings only; the caller may set more (`PRAYER_BOT_START_TIME`, …).
pub fn bot_command(api_url: &str, db: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_prayer-bot"));
    command
        .arg("run")
        .env("DISCORD_TOKEN", TOKEN)
        .env("DISCORD_API_URL", api_url)
        .env("DATABASE_URL", location(db))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Starts `command`, its log (standard error) in the file `log`.
pub fn spawn_logged(mut command: tokio::process::Command, log: &Path) -> tokio::process::Child {
    let log = std::fs::File::create(log).expect("a log file");
    command.stderr(log).spawn().expect("the bot starts")
}

/// Starts `prayer-bot run` on `db` against `fake`, its clock at `clock`.
pub fn spawn_bot(fake: &FakeDiscord, db: &Path, clock: &str, log: &Path) -> tokio::process::Child {
    let mut command = bot_command(&fake.base_url(), db);
    command.env("PRAYER_BOT_START_TIME", clock);
    spawn_logged(command, log)
}

/// Waits until the bot is connected to `fake` and has registered its
/// commands.
pub async fn registered(fake: &FakeDiscord) {
    fake.wait_until_ready(WAIT)
        .await
        .expect("the bot connects to the fake, not to Discord");
    fake.wait_for("PUT", "/applications/*/commands", WAIT)
        .await
        .expect("the bot registers its commands");
}

pub fn send_signal(child: &tokio::process::Child, signal: libc::c_int) {
    let pid = child.id().expect("the bot is running");
    let pid = libc::pid_t::try_from(pid).expect("a pid");
    // SAFETY: kill(2) with a pid this test started and a valid signal
    // number touches no memory of ours.
    let sent = unsafe { libc::kill(pid, signal) };
    assert_eq!(sent, 0, "the signal was delivered");
}

/// Polls `check` until it gives a value, for at most [`WAIT`].
pub async fn until<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(Instant::now() < deadline, "{what}: not within {WAIT:?}");
        tokio::time::sleep(POLL).await;
    }
}

/// Asks `ask` until its answer satisfies `done`, for at most [`WAIT`];
/// that answer. A failure shows the last answer and `context()` (the
/// bot's log, say).
pub async fn answer_until<F, Fut>(
    what: &str,
    mut ask: F,
    done: impl Fn(&str) -> bool,
    context: impl Fn() -> String,
) -> String
where
    F: FnMut() -> Fut,
    Fut: Future<Output = String>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        let text = ask().await;
        if done(&text) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{what} never came to it: {text}\n{}",
            context()
        );
        tokio::time::sleep(POLL).await;
    }
}

/// `/prayer sub` with `options`, sent by `who`.
pub fn prayer(
    fake: &FakeDiscord,
    sub: &str,
    options: Vec<CommandOption>,
    who: Invoker,
) -> SentInteraction {
    fake.send_command(CommandCall::new("prayer").subcommand(sub, options), who)
        .expect("the interaction is sent")
}

/// The bot's answer to an interaction.
pub struct Answer {
    pub text: String,
    /// Whether only the asker sees it.
    pub ephemeral: bool,
    /// The bodies it came in: the interaction callback's data, and the
    /// edit or follow-up of a deferred answer.
    pub bodies: Vec<Value>,
}

/// The (possibly deferred) answer to `sent`.
pub async fn answer(fake: &FakeDiscord, sent: &SentInteraction) -> Answer {
    let callback = fake
        .wait_for_callback(sent, WAIT)
        .await
        .expect("the bot answers");
    let body = callback.body.unwrap_or(Value::Null);
    let ephemeral = body["data"]["flags"].as_u64().is_some_and(|f| f & 64 != 0);
    if body["type"] == 5 {
        // A deferred answer comes as an edit of the original or a follow-up.
        let webhook = sent.webhook_route(fake.application_id());
        let (original, follow_up) = (
            format!("{webhook}/messages/@original$"),
            format!("{webhook}$"),
        );
        let edit = fake
            .wait_for_request(
                |r| r.is("PATCH", &original) || r.is("POST", &follow_up),
                WAIT,
            )
            .await
            .expect("the deferred answer");
        let edited = edit.body.unwrap_or(Value::Null);
        return Answer {
            text: edited["content"].as_str().unwrap_or_default().to_owned(),
            ephemeral,
            bodies: vec![body["data"].clone(), edited],
        };
    }
    Answer {
        text: body["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        ephemeral,
        bodies: vec![body["data"].clone()],
    }
}

/// Messages the bot created in `channel` (accepted by the fake).
pub fn sent_to(fake: &FakeDiscord, channel: u64) -> Vec<String> {
    fake.requests_matching("POST", &format!("/channels/{channel}/messages$"))
        .into_iter()
        .filter(|r| r.status == 200)
        .map(|r| {
            r.body.unwrap_or(Value::Null)["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// The messages in `channel` that carry a request's buttons: each
/// message's id and the request id its buttons name.
pub fn request_messages(fake: &FakeDiscord, channel: u64) -> Vec<(u64, i64)> {
    fake.messages_in(channel)
        .iter()
        .filter_map(|m| {
            let custom_id = m["components"][0]["components"][0]["custom_id"].as_str()?;
            let request = custom_id.strip_prefix("prayer:commit:")?.parse().ok()?;
            let id = m["id"].as_str()?.parse().ok()?;
            Some((id, request))
        })
        .collect()
}
