//! Prayer tracking through faults, against the fake Discord with the real
//! bot (`prayer-bot run`): stopped and started again on one database, with
//! Discord failing reads, bots reacting, messages deleted, and reaction
//! clears from elsewhere. The bulletin is for the week of Monday 23
//! November 2026; the bot's clock starts on its Wednesday, so the week is
//! posted at start.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::Utc;
use fake_discord::{
    CommandCall, CommandOption, ComponentPress, FakeChannel, FakeDiscord, FakeGuild, FakeMember,
    FakeRole, FakeUser, Invoker, ReactionEvent, ScriptedResponse, SentInteraction, permissions,
};
use std::collections::HashSet;

use prayer_bot::ids::{ChannelId, GuildId, MessageId, UserId};
use prayer_bot::schedule::Schedule;
use prayer_bot::storage::Store;
use serde_json::{Value, json};

const TOKEN: &str = "MTA5ODc2NTQzMjEwOTg3NjU0.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789_-";
const WAIT: Duration = Duration::from_secs(30);
const WEEK: &str = "2026-11-23";
const WEDNESDAY: &str = "2026-11-25T12:00:00Z";

fn project(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

struct Bot {
    fake: FakeDiscord,
    guild: u64,
    general: FakeChannel,
    admin: FakeUser,
    db: PathBuf,
    child: tokio::process::Child,
    /// Processes started so far (each logs to its own file).
    runs: usize,
    dir: tempfile::TempDir,
}

/// A request's message as posted: its id and its request's id.
#[derive(Clone, Copy, Debug)]
struct Posted {
    message: u64,
    request: i64,
}

/// The example week imported, one server posting to #prayer on the
/// default schedule (Monday 09:00 UTC), and the bot started on Wednesday
/// of that week: it posts the week at once.
async fn start() -> Bot {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("prayer-bot.db");
    let imported = std::process::Command::new(env!("CARGO_BIN_EXE_prayer-bot"))
        .arg("import")
        .arg(project("examples/week-1.txt"))
        .args(["--week", WEEK, "--database"])
        .arg(&db)
        .output()
        .expect("the import runs");
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let fake = FakeDiscord::start().await;
    let guild = fake.next_id();
    let admins = FakeRole::new(fake.next_id(), "Admins", permissions::MANAGE_GUILD);
    let admin = FakeUser::new(fake.next_id(), "ada");
    let general = FakeChannel::text(fake.next_id(), "prayer");
    fake.add_guild(
        FakeGuild::new(guild, "Prayer Group", fake.owner().id)
            .with_role(admins.clone())
            .with_channel(general.clone())
            .with_member(FakeMember::new(admin.clone()).with_roles([admins.id])),
    );
    let store = Store::open(db.to_str().expect("a UTF-8 path"))
        .await
        .expect("the database opens");
    store
        .set_default_channel(
            GuildId::try_new(guild).expect("ids are not 0"),
            ChannelId::try_new(general.id).expect("ids are not 0"),
            Utc::now(),
        )
        .await
        .expect("the channel is set");
    store
        .set_schedule(
            GuildId::try_new(guild).expect("ids are not 0"),
            &Schedule::default(),
            Utc::now(),
        )
        .await
        .expect("the schedule is set");
    store.close().await;
    let child = spawn_bot(&fake, &db, WEDNESDAY, &dir.path().join("bot-0.log"));
    let bot = Bot {
        fake,
        guild,
        general,
        admin,
        db,
        child,
        runs: 1,
        dir,
    };
    bot.connected(1).await;
    bot
}

/// Starts `prayer-bot run` on `db` against `fake`, its clock at `clock`.
fn spawn_bot(fake: &FakeDiscord, db: &Path, clock: &str, log: &Path) -> tokio::process::Child {
    let log = std::fs::File::create(log).expect("a log file");
    tokio::process::Command::new(env!("CARGO_BIN_EXE_prayer-bot"))
        .arg("run")
        .env("DISCORD_TOKEN", TOKEN)
        .env("DISCORD_API_URL", fake.base_url())
        .env("DATABASE_URL", db)
        .env("PRAYER_BOT_START_TIME", clock)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("the bot starts")
}

fn sigterm(child: &tokio::process::Child) {
    let pid = child.id().expect("the bot is running");
    let pid = libc::pid_t::try_from(pid).expect("a pid");
    // SAFETY: kill(2) with a pid this test started and a valid signal
    // number touches no memory of ours.
    let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(sent, 0, "the signal was delivered");
}

/// Polls `check` until it gives a value, for at most [`WAIT`].
async fn until<T, F, Fut>(what: &str, mut check: F) -> T
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
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Bot {
    /// Waits until the `runs`-th session is up and its commands are
    /// registered (so interactions reach it).
    async fn connected(&self, runs: usize) {
        let fake = &self.fake;
        until("the bot connects", || async move {
            let registered = fake
                .requests_matching("PUT", "/applications/*/commands")
                .len();
            (registered >= runs && fake.is_connected()).then_some(())
        })
        .await;
    }

    /// Stops the bot with SIGTERM; it exits with status 0.
    async fn stop(&mut self) {
        sigterm(&self.child);
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("the bot stops")
            .expect("its exit status");
        assert_eq!(status.code(), Some(0), "{}", self.logs());
        let fake = &self.fake;
        until("the old session closes", || async move {
            (!fake.is_connected()).then_some(())
        })
        .await;
    }

    /// Starts the bot again on the same database, its clock at `clock`.
    async fn restart(&mut self, clock: &str) {
        let log = self.dir.path().join(format!("bot-{}.log", self.runs));
        self.child = spawn_bot(&self.fake, &self.db, clock, &log);
        self.runs += 1;
        self.connected(self.runs).await;
    }

    fn logs(&self) -> String {
        (0..self.runs)
            .map(|run| {
                std::fs::read_to_string(self.dir.path().join(format!("bot-{run}.log")))
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n---\n")
    }

    /// The week's request messages, once all of them are posted and the
    /// bot's own 🙏 is on the last.
    async fn posted(&self) -> Vec<Posted> {
        let (fake, channel, bot) = (&self.fake, self.general.id, self.fake.bot_user_id());
        until("the week is posted", || async move {
            let found: Vec<Posted> = fake
                .messages_in(channel)
                .iter()
                .filter_map(|m| {
                    let custom_id = m["components"][0]["components"][0]["custom_id"].as_str()?;
                    let request = custom_id.strip_prefix("prayer:commit:")?.parse().ok()?;
                    let message = m["id"].as_str()?.parse().ok()?;
                    Some(Posted { message, request })
                })
                .collect();
            let last = found.last()?;
            (found.len() >= 3 && fake.reactions(last.message, "🙏").contains(&bot)).then_some(found)
        })
        .await
    }

    fn invoker(&self, user: &FakeUser) -> Invoker {
        Invoker::in_guild(user.clone(), self.guild, self.general.id)
    }

    /// The text of the (possibly deferred) answer to `sent`.
    async fn answer(&self, sent: &SentInteraction) -> String {
        let callback = self
            .fake
            .wait_for_callback(sent, WAIT)
            .await
            .expect("the bot answers");
        let body = callback.body.unwrap_or(Value::Null);
        if body["type"] == 5 {
            let webhook = sent.webhook_route(self.fake.application_id());
            let (original, follow_up) = (
                format!("{webhook}/messages/@original$"),
                format!("{webhook}$"),
            );
            let edit = self
                .fake
                .wait_for_request(
                    |r| r.is("PATCH", &original) || r.is("POST", &follow_up),
                    WAIT,
                )
                .await
                .expect("the deferred answer");
            return edit.body.unwrap_or(Value::Null)["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
        }
        body["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn prayer(&self, sub: &str, options: Vec<CommandOption>) -> String {
        let call = CommandCall::new("prayer").subcommand(sub, options);
        let sent = self
            .fake
            .send_command(call, self.invoker(&self.admin))
            .expect("the command is sent");
        self.answer(&sent).await
    }

    /// `/prayer who` for `request`.
    async fn who(&self, request: i64) -> String {
        self.prayer(
            "who",
            vec![CommandOption::string("request", request.to_string())],
        )
        .await
    }

    /// Asks `/prayer who` until its answer satisfies `done`; that answer.
    async fn who_until(&self, request: i64, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self.who(request).await;
            if done(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "`/prayer who` never came to it: {text}\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn status_until(&self, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self.prayer("status", vec![]).await;
            if done(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "`/prayer status` never came to it: {text}\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn react(&self, user: &FakeUser, on: Posted, emoji: &str) {
        let event = ReactionEvent::new(user.id, self.general.id, on.message, emoji)
            .in_guild(self.guild)
            .with_member(FakeMember::new(user.clone()));
        self.fake
            .send_reaction_add(&event)
            .expect("the reaction is sent");
    }

    /// A new gateway session (the old one cannot be resumed), as after a
    /// long network outage: the bot reads the reactions back.
    async fn new_session(&self) {
        let before = self.fake.identify_count();
        self.fake
            .close_gateway(4009, "Session timed out")
            .expect("the gateway closes");
        let fake = &self.fake;
        until("the bot identifies again", || async move {
            (fake.identify_count() > before && fake.is_connected()).then_some(())
        })
        .await;
    }
}

fn mention(user: &FakeUser) -> String {
    format!("<@{}>", user.id)
}

#[tokio::test]
async fn a_forgotten_members_old_pray_reactions_are_not_read_back_but_a_new_one_counts() {
    let mut bot = start().await;
    let posts = bot.posted().await;
    let on = posts[0];
    let ann = FakeUser::new(bot.fake.next_id(), "ann");
    bot.react(&ann, on, "🙏");
    bot.who_until(on.request, |t| t.contains(&mention(&ann)))
        .await;

    // Ann asks to be forgotten, and confirms.
    let press = bot
        .fake
        .send_button(
            ComponentPress::button("prayer:forget-me"),
            bot.invoker(&ann),
        )
        .expect("the press is sent");
    let callback = bot
        .fake
        .wait_for_callback(&press, WAIT)
        .await
        .expect("the bot answers");
    assert!(callback.status < 300, "{}", callback.summary());
    let text = bot.who(on.request).await;
    assert!(!text.contains(&mention(&ann)), "{text}");

    // Her 🙏 is still on Discord. While the bot is down, Bob adds one.
    bot.stop().await;
    let bob = FakeUser::new(bot.fake.next_id(), "bob");
    let me = bot.fake.bot_user();
    bot.fake
        .set_reactions(on.message, "🙏", &[me.clone(), ann.clone(), bob.clone()]);
    bot.restart(WEDNESDAY).await;
    // Bob's is read back; Ann's, there since before she was forgotten, is not.
    let text = bot
        .who_until(on.request, |t| t.contains(&mention(&bob)))
        .await;
    assert!(!text.contains(&mention(&ann)), "read back again: {text}");
    // What the database keeps of her is a hash, naming no one.
    let store = Store::open(bot.db.to_str().expect("a UTF-8 path"))
        .await
        .expect("the database opens");
    let forgotten = store
        .forgotten_among(
            GuildId::try_new(bot.guild).expect("ids are not 0"),
            MessageId::try_new(on.message).expect("ids are not 0"),
            &[
                UserId::try_new(ann.id).expect("ids are not 0"),
                UserId::try_new(bob.id).expect("ids are not 0"),
            ],
        )
        .await
        .expect("reads");
    assert_eq!(
        forgotten,
        HashSet::from([UserId::try_new(ann.id).expect("ids are not 0")])
    );
    store.close().await;

    // A 🙏 she adds now counts, live and when read back later.
    bot.react(&ann, on, "🙏🏽");
    bot.who_until(on.request, |t| t.contains(&mention(&ann)))
        .await;
    let cy = FakeUser::new(bot.fake.next_id(), "cy");
    bot.fake.set_reactions(
        on.message,
        "🙏",
        &[me.clone(), ann.clone(), bob.clone(), cy.clone()],
    );
    bot.new_session().await;
    let text = bot
        .who_until(on.request, |t| t.contains(&mention(&cy)))
        .await;
    assert!(text.contains(&mention(&ann)), "{text}");
}

#[tokio::test]
async fn catch_up_waits_out_a_429_retries_a_500_and_names_what_it_could_not_read_in_status() {
    let mut bot = start().await;
    let posts = bot.posted().await;
    let (first, second, third) = (posts[0], posts[1], posts[2]);
    bot.stop().await;

    // While the bot is down: members react on the first two; a moderator
    // deletes the third. A helper bot's 🙏 is no member's prayer.
    let me = bot.fake.bot_user();
    let (late, later) = (
        FakeUser::new(bot.fake.next_id(), "late"),
        FakeUser::new(bot.fake.next_id(), "later"),
    );
    let helper = FakeUser::bot(bot.fake.next_id(), "helper-bot");
    bot.fake.set_reactions(
        first.message,
        "🙏",
        &[me.clone(), late.clone(), helper.clone()],
    );
    bot.fake
        .set_reactions(second.message, "🙏", &[me.clone(), later.clone()]);
    assert!(bot.fake.delete_message(third.message));
    // The first message's users: a 429, then a 500, then the answer. The
    // second message: Discord fails every attempt of this start.
    let retry_after = 0.5;
    let users = format!("/channels/*/messages/{}/reactions/*", first.message);
    bot.fake.rate_limit_next("GET", &users, retry_after);
    bot.fake.fail_next(
        "GET",
        &users,
        500,
        json!({"message": "500: Internal Server Error", "code": 0}),
    );
    bot.fake.script(
        ScriptedResponse::new(
            "GET",
            &format!("/channels/*/messages/{}$", second.message),
            500,
            json!({"message": "500: Internal Server Error", "code": 0}),
        )
        .times(3),
    );
    bot.restart(WEDNESDAY).await;

    let text = bot
        .who_until(first.request, |t| t.contains(&mention(&late)))
        .await;
    assert!(!text.contains(&mention(&helper)), "a bot counted: {text}");
    let reads = bot.fake.requests_matching("GET", &users);
    let limited = reads
        .iter()
        .position(|r| r.status == 429)
        .expect("the 429 was met");
    let next = reads.get(limited + 1).expect("the read was tried again");
    assert!(
        next.received_at - reads[limited].at >= Duration::from_secs_f64(retry_after),
        "the retry came before the {retry_after} s Discord asked for"
    );
    assert_eq!(reads.last().map(|r| r.status), Some(200));

    // The message that stayed unreadable and the deleted one are named.
    let unreadable = "I could not read the 🙏 on the request message for";
    let deleted = "was deleted; its prayers are kept";
    let status = bot
        .status_until(|t| t.contains(unreadable) && t.contains(deleted))
        .await;
    assert_eq!(status.matches(unreadable).count(), 1, "{status}");
    assert_eq!(status.matches(deleted).count(), 1, "{status}");
    assert!(
        status.contains(&format!("<#{}>", bot.general.id)),
        "{status}"
    );
    let text = bot.who(second.request).await;
    assert!(!text.contains(&mention(&later)), "{text}");

    // Read again on the next session, it is recorded and no longer named.
    bot.new_session().await;
    bot.who_until(second.request, |t| t.contains(&mention(&later)))
        .await;
    let status = bot.status_until(|t| !t.contains(unreadable)).await;
    assert!(status.contains(deleted), "{status}");
}

#[tokio::test]
async fn a_burst_of_pray_reactions_cut_by_a_stop_is_all_read_back_by_the_next_start_next_week() {
    let mut bot = start().await;
    let posts = bot.posted().await;
    let on = posts[0];
    let members = 600;
    for _ in 0..members {
        let member = FakeUser::new(bot.fake.next_id(), "member");
        bot.react(&member, on, "🙏");
    }
    bot.stop().await;
    let store = Store::open(bot.db.to_str().expect("a UTF-8 path"))
        .await
        .expect("the database opens");
    let kept = store.mark_count().await.expect("counts");
    store.close().await;
    eprintln!("{kept} of {members} reactions were recorded before the stop");

    // Back the next Tuesday: last week's posts are read back too.
    bot.restart("2026-12-01T12:00:00Z").await;
    bot.who_until(on.request, |t| t.contains(&format!("Prayed ({members})")))
        .await;
}

#[tokio::test]
async fn a_bots_reaction_is_no_prayer_and_a_clear_from_another_server_changes_nothing() {
    let bot = start().await;
    let posts = bot.posted().await;
    let on = posts[0];
    let ann = FakeUser::new(bot.fake.next_id(), "ann");
    let helper = FakeUser::bot(bot.fake.next_id(), "helper-bot");
    bot.react(&helper, on, "🙏");
    bot.react(&ann, on, "🙏");
    let text = bot
        .who_until(on.request, |t| t.contains(&mention(&ann)))
        .await;
    assert!(!text.contains(&mention(&helper)), "a bot counted: {text}");

    // Another server, with a channel of its own.
    let elsewhere = bot.fake.next_id();
    let their_channel = FakeChannel::text(bot.fake.next_id(), "general");
    bot.fake.add_guild(
        FakeGuild::new(elsewhere, "Elsewhere", bot.fake.owner().id)
            .with_channel(their_channel.clone()),
    );
    let ids = |guild: u64, channel: u64| {
        json!({
            "guild_id": guild.to_string(),
            "channel_id": channel.to_string(),
            "message_id": on.message.to_string(),
        })
    };
    let mut emoji = ids(elsewhere, bot.general.id);
    emoji["emoji"] = json!({"id": null, "name": "🙏"});
    emoji["burst"] = json!(false);
    emoji["type"] = json!(0);
    bot.fake
        .send_dispatch("MESSAGE_REACTION_REMOVE_EMOJI", emoji.clone())
        .expect("sent");
    bot.fake
        .send_dispatch(
            "MESSAGE_REACTION_REMOVE_ALL",
            ids(elsewhere, their_channel.id),
        )
        .expect("sent");
    // Events are handled each in a task of its own: a moment for the
    // clears to be queued before the witness.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let bob = FakeUser::new(bot.fake.next_id(), "bob");
    bot.react(&bob, on, "🙏");
    let text = bot
        .who_until(on.request, |t| t.contains(&mention(&bob)))
        .await;
    assert!(
        text.contains(&mention(&ann)),
        "cleared from elsewhere: {text}"
    );

    // The same clear from the message's own server does clear it.
    let mut own = emoji;
    own["guild_id"] = json!(bot.guild.to_string());
    bot.fake
        .send_dispatch("MESSAGE_REACTION_REMOVE_EMOJI", own)
        .expect("sent");
    bot.who_until(on.request, |t| {
        !t.contains(&mention(&ann)) && !t.contains(&mention(&bob))
    })
    .await;
}
