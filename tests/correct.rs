//! `/prayer correct` and `/prayer unpost` (issue 15, item 4) through the
//! real bot (`prayer-bot run`, serenity + poise) against the fake Discord,
//! which checks every body against Discord's OpenAPI description.

mod common;

use fake_discord::{
    CommandOption, ComponentPress, FakeChannel, FakeDiscord, FakeGuild, FakeMember, FakeRole,
    FakeUser, Invoker, ReactionEvent, RecordedRequest, SentInteraction, permissions,
};
use prayer_bot::bulletins::week::PrayerWeek;
use serde_json::Value;

use common::{WAIT, World};

fn this_week() -> PrayerWeek {
    PrayerWeek::containing(chrono::Utc::now().date_naive())
}

struct Bot {
    fake: FakeDiscord,
    _child: tokio::process::Child,
    world: World,
    db: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// A posted request: its id, its message and the message's channel.
#[derive(Debug, Clone, Copy)]
struct Posted {
    request: i64,
    message: u64,
    channel: u64,
}

/// The example bulletin imported for this week (shared by every server),
/// the bot started, and the week posted by hand to the default channel.
async fn posted_week() -> Bot {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("prayer-bot.db");
    common::import(
        &db,
        &common::project("examples/week-1.txt"),
        &this_week().to_string(),
    );
    let fake = FakeDiscord::start_with(fake_discord::Options {
        enforce_limits: true,
        ..fake_discord::Options::default()
    })
    .await;
    let world = World::add_to(&fake);
    let command = common::bot_command(&fake.base_url(), &db);
    let child = common::spawn_logged(command, &dir.path().join("bot.log"));
    common::registered(&fake).await;
    let bot = Bot {
        fake,
        _child: child,
        world,
        db,
        _dir: dir,
    };
    let options = vec![
        CommandOption::channel("channel", &bot.world.general),
        CommandOption::boolean("auto", false),
    ];
    bot.answer(&bot.prayer("setup", options, bot.world.as_admin()))
        .await;
    let posted = bot
        .answer(&bot.prayer("post", vec![], bot.world.as_admin()))
        .await;
    assert!(posted.starts_with("Posted the week of"), "{posted}");
    bot
}

impl Bot {
    fn prayer(&self, sub: &str, options: Vec<CommandOption>, who: Invoker) -> SentInteraction {
        common::prayer(&self.fake, sub, options, who)
    }

    async fn answer(&self, sent: &SentInteraction) -> String {
        let answer = common::answer(&self.fake, sent).await;
        assert!(answer.ephemeral, "only the asker sees it: {}", answer.text);
        answer.text
    }

    fn sends(&self) -> Vec<RecordedRequest> {
        self.fake
            .requests_matching("POST", "/channels/*/messages$")
            .into_iter()
            .filter(|r| r.status == 200)
            .collect()
    }

    /// The posted request whose text holds `needle` (its last send).
    fn posted(&self, needle: &str) -> Posted {
        let send = self
            .sends()
            .into_iter()
            .rev()
            .find(|r| r.body_contains(needle))
            .unwrap_or_else(|| panic!("no posted message holds {needle}"));
        let custom_id = send
            .body_str("/components/0/components/0/custom_id")
            .unwrap_or_else(|| panic!("no buttons under {needle}"));
        Posted {
            request: custom_id
                .rsplit(':')
                .next()
                .and_then(|id| id.parse().ok())
                .expect("a request id"),
            message: message_id(&send),
            channel: send
                .route
                .split('/')
                .nth(2)
                .and_then(|c| c.parse().ok())
                .expect("a channel"),
        }
    }

    fn press(&self, custom_id: &str, message: Option<u64>, who: Invoker) -> SentInteraction {
        let mut press = ComponentPress::button(custom_id);
        if let Some(message) = message {
            press = press.on_message(message);
        }
        self.fake
            .send_button(press, who)
            .expect("the press is sent")
    }

    /// The first answer to an interaction, as Discord took it.
    async fn callback(&self, sent: &SentInteraction) -> Value {
        let callback = self
            .fake
            .wait_for_callback(sent, WAIT)
            .await
            .expect("the bot answers");
        assert!(callback.status < 300, "{}", callback.summary());
        callback.body.unwrap_or(Value::Null)
    }

    async fn who(&self, request: i64) -> String {
        let options = vec![CommandOption::string("request", request.to_string())];
        self.answer(&self.prayer("who", options, self.world.as_admin()))
            .await
    }

    /// Every mark recorded in the server, read from the database.
    async fn marks(&self) -> i64 {
        let store = common::open_store(&self.db).await;
        let guild = prayer_bot::ids::GuildId::try_new(self.world.guild).expect("not 0");
        let count = store.mark_count_in(guild).await.expect("reads");
        store.close().await;
        count
    }

    /// Three prayers on `on`: a commitment, a Prayed press and a 🙏.
    async fn pray_on(&self, on: Posted) {
        let w = &self.world;
        for (action, who) in [("commit", w.as_member()), ("prayed", w.as_admin())] {
            let custom_id = format!("prayer:{action}:{}", on.request);
            self.callback(&self.press(&custom_id, Some(on.message), who))
                .await;
        }
        let event = ReactionEvent::new(w.member.id, on.channel, on.message, "🙏").in_guild(w.guild);
        self.fake.send_reaction_add(&event).expect("sent");
        let ask = || async { self.who(on.request).await };
        common::answer_until("the 🙏", ask, |t| t.contains("Prayed (2)"), String::new).await;
    }

    fn correct(&self, request: &str, text: &str, who: Invoker) -> SentInteraction {
        let options = vec![
            CommandOption::string("request", request),
            CommandOption::string("text", text),
        ];
        self.prayer("correct", options, who)
    }

    fn edits(&self) -> Vec<RecordedRequest> {
        self.fake
            .requests_matching("PATCH", "/channels/*/messages/*$")
    }

    fn deletions(&self) -> Vec<RecordedRequest> {
        self.fake
            .requests_matching("DELETE", "/channels/*/messages/*$")
    }
}

fn message_id(send: &RecordedRequest) -> u64 {
    send.response
        .as_ref()
        .and_then(|r| r["id"].as_str())
        .and_then(|id| id.parse().ok())
        .expect("a message id")
}

/// A second server, with its own admin, that sees the shared bulletin.
fn other_server(fake: &FakeDiscord) -> Invoker {
    let guild = fake.next_id();
    let admins = FakeRole::new(fake.next_id(), "Admins", permissions::MANAGE_GUILD);
    let channel = FakeChannel::text(fake.next_id(), "prayer");
    let admin = FakeUser::new(fake.next_id(), "eve");
    fake.add_guild(
        FakeGuild::new(guild, "Other Group", fake.owner().id)
            .with_role(admins.clone())
            .with_channel(channel.clone())
            .with_member(FakeMember::new(admin.clone()).with_roles([admins.id])),
    );
    Invoker::in_guild(admin, guild, channel.id)
}

/// `who`'s answer without its first line (which names the request).
fn counts(who: &str) -> Vec<&str> {
    who.lines().skip(1).collect()
}

#[tokio::test]
async fn a_correction_edits_the_posted_message_for_this_server_only_and_keeps_every_prayer() {
    let bot = posted_week().await;
    let mateo = bot.posted("Mateo");
    bot.pray_on(mateo).await;
    let (who_before, marks_before) = (bot.who(mateo.request).await, bot.marks().await);
    assert_eq!(marks_before, 3);

    let text = "Please pray for Mateo, a boy in Bolivia who testifies next month. Pray for courage, and a fair hearing. @everyone [site](https://example.com)";
    let words = bot
        .answer(&bot.correct(&mateo.request.to_string(), text, bot.world.as_admin()))
        .await;
    assert!(
        words.starts_with("Corrected the request of **Latin America**")
            && words.contains(&format!("Edited its 1 message in <#{}>.", mateo.channel)),
        "{words}"
    );
    let edits = bot.edits();
    assert_eq!(edits.len(), 1);
    let edit = &edits[0];
    assert_eq!(
        edit.route,
        format!("/channels/{}/messages/{}", mateo.channel, mateo.message)
    );
    let expected = "🙏 **Latin America**\nPlease pray for Mateo, a boy in Bolivia who testifies next month. Pray for courage, and a fair hearing. @everyone \\[site\\](https://example.com)";
    assert_eq!(edit.body_str("/content"), Some(expected));
    let body = edit.body.clone().unwrap_or(Value::Null);
    assert_eq!(
        body["allowed_mentions"]["parse"],
        serde_json::json!([]),
        "{body}"
    );
    let buttons = &body["components"][0]["components"];
    assert_eq!(
        buttons[0]["custom_id"],
        format!("prayer:commit:{}", mateo.request)
    );
    assert_eq!(
        buttons[1]["custom_id"],
        format!("prayer:prayed:{}", mateo.request)
    );
    let shown = bot.fake.message(mateo.message).expect("still there");
    assert_eq!(shown["content"], expected);

    // Every prayer stays.
    assert_eq!(bot.marks().await, marks_before);
    let who_after = bot.who(mateo.request).await;
    assert_eq!(counts(&who_after), counts(&who_before), "{who_after}");
    assert!(who_after.contains("testifies next month"), "{who_after}");
    let week = bot
        .answer(&bot.prayer("week", vec![], bot.world.as_admin()))
        .await;
    assert!(
        week.contains("Pray for courage, and a fair hearing") && !week.contains("nervous"),
        "{week}"
    );

    // Another server sees the shared bulletin as it was.
    let there = other_server(&bot.fake);
    let other_week = bot.answer(&bot.prayer("week", vec![], there)).await;
    assert!(
        other_week.contains("nervous about facing the accused"),
        "{other_week}"
    );

    let status = bot
        .answer(&bot.prayer("status", vec![], bot.world.as_admin()))
        .await;
    assert!(
        status.contains(&format!(
            "<@{}> corrected a request of **Latin America** (week of {})",
            bot.world.admin.id,
            this_week()
        )),
        "{status}"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn a_correction_of_another_servers_request_by_a_member_or_empty_is_refused_and_changes_nothing()
 {
    let bot = posted_week().await;
    let w = &bot.world;
    // The first server's own bulletin for next week: no other server sees it.
    let own =
        b"IJM Prayer Requests\n\nAfrica\n\xE2\x80\xA2 Pray for the court in Kampala this week.\n";
    let next = this_week().next();
    let options = vec![
        CommandOption::attachment("file", "own.txt", "text/plain", own.to_vec()),
        CommandOption::string("week", next.to_string()),
    ];
    let imported = bot
        .answer(&bot.prayer("import", options, w.as_admin()))
        .await;
    assert!(imported.starts_with("Imported"), "{imported}");
    let posted = bot
        .answer(&bot.prayer(
            "post",
            vec![CommandOption::string("week", next.to_string())],
            w.as_admin(),
        ))
        .await;
    assert!(posted.starts_with("Posted"), "{posted}");
    let kampala = bot.posted("Kampala");
    let mateo = bot.posted("Mateo");
    let there = other_server(&bot.fake);

    let refused = bot
        .answer(&bot.correct(&kampala.request.to_string(), "Pray for Gulu.", there))
        .await;
    assert!(
        refused.starts_with("No request of this server matches"),
        "{refused}"
    );
    let member = bot
        .answer(&bot.correct(&mateo.request.to_string(), "Pray for Mateo.", w.as_member()))
        .await;
    assert!(
        member.contains("Manage Server") && member.ends_with("Nothing was changed."),
        "{member}"
    );
    let empty = bot
        .answer(&bot.correct(&mateo.request.to_string(), "   ", w.as_admin()))
        .await;
    assert!(empty.starts_with("The new text is empty"), "{empty}");
    let long = "Pray for Mateo. ".repeat(320);
    let too_long = bot
        .answer(&bot.correct(&mateo.request.to_string(), &long, w.as_admin()))
        .await;
    assert!(
        too_long.starts_with("The new text takes 3 messages, but the request was posted in 1")
            && too_long.ends_with("Nothing was changed."),
        "{too_long}"
    );

    assert!(bot.edits().is_empty(), "nothing was edited");
    let who = bot.who(kampala.request).await;
    assert!(who.contains("Kampala"), "{who}");
    let status = bot
        .answer(&bot.prayer("status", vec![], w.as_admin()))
        .await;
    assert!(!status.contains("Admin changes"), "{status}");
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn an_unpost_asks_first_and_then_the_week_posts_again_each_message_once() {
    let bot = posted_week().await;
    let w = &bot.world;
    let first: Vec<u64> = bot.sends().iter().map(message_id).collect();
    let total = first.len();
    let mateo = bot.posted("Mateo");
    bot.pray_on(mateo).await;
    let marks = bot.marks().await;

    // Asked, then cancelled: nothing changes.
    let asked = bot.prayer("unpost", vec![], w.as_admin());
    let body = bot.callback(&asked).await;
    assert_eq!(body["data"]["flags"].as_u64().map(|f| f & 64), Some(64));
    let text = body["data"]["content"].as_str().unwrap_or_default();
    assert!(
        text.starts_with(&format!(
            "This deletes the {total} messages I posted for the week of {}",
            this_week()
        )),
        "{text}"
    );
    let buttons = &body["data"]["components"][0]["components"];
    let confirm = format!("prayer:unpost:{}:{}", this_week(), w.admin.id);
    let cancel = format!("prayer:unpost-cancel:{}", w.admin.id);
    assert_eq!(
        (
            buttons[0]["custom_id"].as_str(),
            buttons[1]["custom_id"].as_str()
        ),
        (Some(confirm.as_str()), Some(cancel.as_str()))
    );
    let prompt: u64 = bot
        .fake
        .interaction_response(&asked)
        .and_then(|m| m["id"].as_str().and_then(|id| id.parse().ok()))
        .expect("the confirmation message");

    let stranger = bot
        .callback(&bot.press(&confirm, Some(prompt), w.as_member()))
        .await;
    assert!(
        stranger["data"]["content"]
            .as_str()
            .is_some_and(|t| t.starts_with("Only the admin who asked")),
        "{stranger}"
    );
    let cancelled = bot
        .callback(&bot.press(&cancel, Some(prompt), w.as_admin()))
        .await;
    assert_eq!(cancelled["type"], 7, "{cancelled}");
    assert_eq!(
        cancelled["data"]["content"],
        "Cancelled: nothing was deleted."
    );
    assert!(bot.deletions().is_empty());
    let again = bot.answer(&bot.prayer("post", vec![], w.as_admin())).await;
    assert!(again.contains("already been posted"), "{again}");

    // Asked again and confirmed: every message goes, the prayers stay.
    let asked = bot.prayer("unpost", vec![], w.as_admin());
    bot.callback(&asked).await;
    let pressed = bot.press(&confirm, None, w.as_admin());
    assert_eq!(
        bot.callback(&pressed).await["type"],
        6,
        "deferred: deleting takes time"
    );
    let original = format!(
        "{}/messages/@original$",
        pressed.webhook_route(bot.fake.application_id())
    );
    let done = bot
        .fake
        .wait_for_request(|r| r.is("PATCH", &original), WAIT)
        .await
        .expect("the outcome");
    let words = done.body_str("/content").unwrap_or_default().to_owned();
    assert!(
        words.starts_with(&format!(
            "Took down the week of {}: {total} messages deleted in <#{}>.",
            this_week(),
            w.general.id
        )),
        "{words}"
    );
    let mut deleted: Vec<u64> = bot
        .deletions()
        .iter()
        .filter(|r| r.status == 204)
        .filter_map(|r| r.route.rsplit('/').next().and_then(|id| id.parse().ok()))
        .collect();
    deleted.sort_unstable();
    let mut expected = first.clone();
    expected.sort_unstable();
    assert_eq!(deleted, expected, "each posted message deleted once");
    assert!(common::request_messages(&bot.fake, w.general.id).is_empty());
    assert_eq!(bot.marks().await, marks, "no prayer vanished");

    // Posted again: each message once, none of them the deleted ones.
    let reposted = bot.answer(&bot.prayer("post", vec![], w.as_admin())).await;
    assert!(
        reposted.starts_with(&format!(
            "Posted the week of {}: {total} messages",
            this_week()
        )),
        "{reposted}"
    );
    let sends = bot.sends();
    assert_eq!(sends.len(), 2 * total);
    let nonces: Vec<&str> = sends[total..]
        .iter()
        .filter_map(|r| r.body_str("/nonce"))
        .collect();
    let mut unique = nonces.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), total, "{nonces:?}");
    assert!(
        sends[..total]
            .iter()
            .filter_map(|r| r.body_str("/nonce"))
            .all(|n| !nonces.contains(&n))
    );
    assert_eq!(common::request_messages(&bot.fake, w.general.id).len(), 6);
    let twice = bot.answer(&bot.prayer("post", vec![], w.as_admin())).await;
    assert!(twice.contains("already been posted"), "{twice}");
    let who = bot.who(bot.posted("Mateo").request).await;
    assert!(who.contains("Prayed (2)"), "{who}");

    let status = bot
        .answer(&bot.prayer("status", vec![], w.as_admin()))
        .await;
    assert!(
        status.contains(&format!(
            "<@{}> took down the week of {}: {total} messages deleted",
            w.admin.id,
            this_week()
        )),
        "{status}"
    );
    bot.fake.assert_no_spec_violations();
}
