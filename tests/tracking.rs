//! Prayer tracking through faults, against the fake Discord with the real
//! bot (`prayer-bot run`): stopped and started again on one database, with
//! Discord failing reads, bots reacting, messages deleted, and reaction
//! clears from elsewhere. The bulletin is for the week of Monday 23
//! November 2026; the bot's clock starts on its Wednesday, so the week is
//! posted at start.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{WAIT, World, until};
use fake_discord::{
    CommandOption, ComponentPress, FakeChannel, FakeDiscord, FakeGuild, FakeMember, FakeUser,
    Invoker, ReactionEvent, ScriptedResponse, SentInteraction,
};
use std::collections::HashSet;

use prayer_bot::ids::{GuildId, MessageId, UserId};
use prayer_bot::schedule::Schedule;
use serde_json::json;

const WEEK: &str = "2026-11-23";
const WEDNESDAY: &str = "2026-11-25T12:00:00Z";

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
    common::import(&db, &common::project("examples/week-1.txt"), WEEK);
    let fake = FakeDiscord::start().await;
    let world = World::add_to(&fake);
    let store = common::open_store(&db).await;
    common::scheduled(&store, world.guild, world.general.id, Schedule::default()).await;
    store.close().await;
    let child = common::spawn_bot(&fake, &db, WEDNESDAY, &dir.path().join("bot-0.log"));
    let bot = Bot {
        fake,
        guild: world.guild,
        general: world.general,
        admin: world.admin,
        db,
        child,
        runs: 1,
        dir,
    };
    bot.connected(1).await;
    bot
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
        common::send_signal(&self.child, libc::SIGTERM);
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
        self.child = common::spawn_bot(&self.fake, &self.db, clock, &log);
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
            let found: Vec<Posted> = common::request_messages(fake, channel)
                .into_iter()
                .map(|(message, request)| Posted { message, request })
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
        common::answer(&self.fake, sent).await.text
    }

    async fn prayer(&self, sub: &str, options: Vec<CommandOption>) -> String {
        let sent = common::prayer(&self.fake, sub, options, self.invoker(&self.admin));
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
        let ask = || self.who(request);
        common::answer_until("`/prayer who`", ask, done, || self.logs()).await
    }

    async fn status_until(&self, done: impl Fn(&str) -> bool) -> String {
        let ask = || self.prayer("status", vec![]);
        common::answer_until("`/prayer status`", ask, done, || self.logs()).await
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
    let store = common::open_store(&bot.db).await;
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
    let store = common::open_store(&bot.db).await;
    let guild = GuildId::try_new(bot.guild).expect("the fake's ids are not 0");
    let kept = store.mark_count_in(guild).await.expect("counts");
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

/// `/prayer week` is answered from the bot's memory once read; a member's
/// own press shows in the very next answer, and a week the CLI imports
/// while the bot runs (another process) shows within moments.
#[tokio::test]
async fn prayer_week_shows_a_press_at_once_and_a_week_the_cli_imports_meanwhile() {
    let bot = start().await;
    let posts = bot.posted().await;
    let week = bot.prayer("week", vec![]).await;
    assert!(
        week.contains("— *0 committed · 0 prayed*") && !week.contains("— *1 committed"),
        "{week}"
    );

    let ann = FakeUser::new(bot.fake.next_id(), "ann");
    let press = bot
        .fake
        .send_button(
            ComponentPress::button(format!("prayer:commit:{}", posts[0].request))
                .on_message(posts[0].message),
            bot.invoker(&ann),
        )
        .expect("the press is sent");
    bot.fake
        .wait_for_callback(&press, WAIT)
        .await
        .expect("the press is answered");
    // Asked once, not until: the press must show in the next answer.
    let week = bot.prayer("week", vec![]).await;
    assert!(week.contains("— *1 committed · 0 prayed*"), "{week}");

    let next = "2026-11-30";
    let asked = || bot.prayer("week", vec![CommandOption::string("week", next)]);
    let before = asked().await;
    assert!(before.contains("no bulletin"), "{before}");
    let file = bot.dir.path().join("next.txt");
    std::fs::write(
        &file,
        "IJM Prayer Requests\n\nAfrica\n• Pray for the judges of Malawi's new court.\n",
    )
    .expect("written");
    common::import(&bot.db, &file, next);
    common::answer_until(
        "`/prayer week` of the week the CLI imported",
        asked,
        |text| text.contains("judges of Malawi"),
        || bot.logs(),
    )
    .await;
}
