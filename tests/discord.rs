//! The real bot (`prayer-bot run`, serenity + poise) against the fake Discord
//! on 127.0.0.1. Every request body it sends is checked against Discord's
//! OpenAPI description when `../shared/discord-api-spec` is present.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fake_discord::{
    CommandCall, CommandOption, FakeChannel, FakeDiscord, FakeGuild, FakeMember, FakeRole,
    FakeUser, Invoker, Overwrite, RecordedRequest, SentInteraction, permissions,
};
use prayer_bot::week::PrayerWeek;
use serde_json::Value;

/// A well-formed token the fake accepts; it is nobody's secret.
const TOKEN: &str = "MTA5ODc2NTQzMjEwOTg3NjU0.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789_-";
const WAIT: Duration = Duration::from_secs(15);

fn project(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn this_week() -> PrayerWeek {
    PrayerWeek::containing(chrono::Utc::now().date_naive())
}

/// A server with a default channel, a channel for one region, and a
/// channel where the bot may not post; an admin and an ordinary member.
struct World {
    guild: u64,
    general: FakeChannel,
    latin: FakeChannel,
    locked: FakeChannel,
    admin: FakeUser,
    member: FakeUser,
}

struct Bot {
    fake: FakeDiscord,
    child: tokio::process::Child,
    world: World,
    _dir: tempfile::TempDir,
}

/// Imports `bulletin` for this week into a fresh database, starts the fake
/// and the bot, and waits until the bot has registered its commands.
async fn start(bulletin: &Path) -> Bot {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("prayer-bot.db");
    let imported = std::process::Command::new(env!("CARGO_BIN_EXE_prayer-bot"))
        .arg("import")
        .arg(bulletin)
        .args(["--week", &this_week().to_string(), "--database"])
        .arg(&db)
        .output()
        .expect("the import runs");
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );

    // Discord's limits enforced: a message or reply over them is refused
    // with 400, as Discord does, not only recorded.
    let fake = FakeDiscord::start_with(fake_discord::Options {
        enforce_limits: true,
        ..fake_discord::Options::default()
    })
    .await;
    let guild = fake.next_id();
    let admins = FakeRole::new(fake.next_id(), "Admins", permissions::MANAGE_GUILD);
    let admin = FakeUser::new(fake.next_id(), "ada");
    let member = FakeUser::new(fake.next_id(), "bob");
    let general = FakeChannel::text(fake.next_id(), "prayer");
    let latin = FakeChannel::text(fake.next_id(), "latin-america");
    let locked =
        FakeChannel::text(fake.next_id(), "announcements").with_overwrite(Overwrite::member(
            fake.bot_user_id(),
            0,
            permissions::SEND_MESSAGES | permissions::ADD_REACTIONS,
        ));
    fake.add_guild(
        FakeGuild::new(guild, "Prayer Group", fake.owner().id)
            .with_role(admins.clone())
            .with_channel(general.clone())
            .with_channel(latin.clone())
            .with_channel(locked.clone())
            .with_member(FakeMember::new(admin.clone()).with_roles([admins.id]))
            .with_member(FakeMember::new(member.clone())),
    );
    let log = std::fs::File::create(dir.path().join("bot.log")).expect("a log file");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_prayer-bot"))
        .arg("run")
        .env("DISCORD_TOKEN", TOKEN)
        .env("DISCORD_API_URL", fake.base_url())
        .env("DATABASE_URL", &db)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("the bot starts");
    fake.wait_until_ready(WAIT)
        .await
        .expect("the bot connects to the fake, not to Discord");
    fake.wait_for("PUT", "/applications/*/commands", WAIT)
        .await
        .expect("the bot registers its commands");
    Bot {
        fake,
        child,
        world: World {
            guild,
            general,
            latin,
            locked,
            admin,
            member,
        },
        _dir: dir,
    }
}

impl Bot {
    fn as_admin(&self) -> Invoker {
        Invoker::in_guild(
            self.world.admin.clone(),
            self.world.guild,
            self.world.general.id,
        )
    }

    fn as_member(&self) -> Invoker {
        Invoker::in_guild(
            self.world.member.clone(),
            self.world.guild,
            self.world.general.id,
        )
    }

    fn prayer(
        &self,
        subcommand: &str,
        options: Vec<CommandOption>,
        who: Invoker,
    ) -> SentInteraction {
        self.fake
            .send_command(
                CommandCall::new("prayer").subcommand(subcommand, options),
                who,
            )
            .expect("the interaction is sent")
    }

    /// The answer to an interaction: its text, and whether only the asker sees it.
    async fn answer(&self, sent: &SentInteraction) -> (String, bool) {
        let callback = self
            .fake
            .wait_for_callback(sent, WAIT)
            .await
            .expect("the bot answers");
        let body = callback.body.clone().unwrap_or(Value::Null);
        let ephemeral = body["data"]["flags"].as_u64().is_some_and(|f| f & 64 != 0);
        assert_no_pings(&body["data"]);
        if body["type"] == 5 {
            // A deferred answer comes as an edit of the original or a follow-up.
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
            let body = edit.body.unwrap_or(Value::Null);
            assert_no_pings(&body);
            return (
                body["content"].as_str().unwrap_or_default().to_owned(),
                ephemeral,
            );
        }
        (
            body["data"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            ephemeral,
        )
    }

    async fn setup_channel(&self, channel: &FakeChannel, region: Option<&str>) -> String {
        let mut options = vec![CommandOption::channel("channel", channel)];
        if let Some(region) = region {
            options.push(CommandOption::string("region", region));
        }
        let sent = self.prayer("setup", options, self.as_admin());
        self.answer(&sent).await.0
    }

    async fn post(&self, who: Invoker) -> String {
        let sent = self.prayer("post", vec![], who);
        self.answer(&sent).await.0
    }

    fn channel_sends(&self) -> Vec<RecordedRequest> {
        self.fake.requests_matching("POST", "/channels/*/messages$")
    }
}

/// Mentions that ping no one: nothing parsed, no users or roles listed.
/// A body without text (a deferral) has nothing to ping with.
fn assert_no_pings(body: &Value) {
    if body.get("content").is_none() {
        return;
    }
    let mentions = &body["allowed_mentions"];
    assert!(mentions.is_object(), "allowed_mentions is set: {body}");
    assert_eq!(mentions["parse"], serde_json::json!([]), "{body}");
    for list in ["users", "roles"] {
        assert!(
            mentions[list].as_array().is_none_or(Vec::is_empty),
            "{body}"
        );
    }
}

fn example() -> PathBuf {
    project("examples/week-1.txt")
}

#[tokio::test]
async fn commands_are_registered_with_descriptions_that_discord_accepts() {
    let bot = start(&example()).await;
    let put = bot
        .fake
        .wait_for("PUT", "/applications/*/commands", WAIT)
        .await
        .expect("registered");
    let commands = put.body.expect("a body");
    let prayer = commands
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "prayer"))
        .expect("/prayer");
    let subcommands: Vec<&str> = prayer["options"]
        .as_array()
        .expect("subcommands")
        .iter()
        .map(|o| o["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        subcommands,
        [
            "week",
            "who",
            "stats",
            "mine",
            "notify",
            "forget-me",
            "setup",
            "import",
            "post"
        ]
    );
    let praise = commands
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "praise"));
    assert!(praise.is_some(), "/praise is registered");
    for command in commands.as_array().expect("a list") {
        let mut options = vec![command];
        while let Some(option) = options.pop() {
            let description = option["description"].as_str().unwrap_or_default();
            assert!(!description.is_empty(), "no description: {option}");
            options.extend(option["options"].as_array().into_iter().flatten());
        }
    }
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn prayer_week_shows_the_imported_week_grouped_by_region_to_the_asker_only() {
    let bot = start(&example()).await;
    let (text, ephemeral) = bot
        .answer(&bot.prayer("week", vec![], bot.as_member()))
        .await;
    assert!(ephemeral, "only the asker sees it unless public");
    assert!(
        text.starts_with("**IJM Prayer Requests** · week of"),
        "{text}"
    );
    let africa = text.find("**Africa**").expect("Africa");
    let latin = text.find("**Latin America**").expect("Latin America");
    let partners = text.find("**IJM HQ & Global Partners**").expect("partners");
    assert!(africa < latin && latin < partners, "{text}");
    assert!(
        text.contains("🙏 Please pray for Mateo,\\* a boy in Bolivia"),
        "{text}"
    );

    let options = vec![
        CommandOption::string("region", "latin america"),
        CommandOption::boolean("public", true),
    ];
    let (text, ephemeral) = bot
        .answer(&bot.prayer("week", options, bot.as_member()))
        .await;
    assert!(!ephemeral, "public: true shows it to the channel");
    assert!(
        text.contains("**Latin America**") && !text.contains("**Africa**"),
        "{text}"
    );

    let options = vec![CommandOption::string("region", "Antarctica")];
    let (text, _) = bot
        .answer(&bot.prayer("week", options, bot.as_member()))
        .await;
    assert!(
        text.contains("has no region “Antarctica”; its regions are: Africa, Latin America"),
        "{text}"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn prayer_post_sends_headers_requests_reactions_and_buttons_once() {
    let bot = start(&example()).await;
    let w = &bot.world;
    assert!(
        bot.setup_channel(&w.general, None)
            .await
            .contains("Weekly posts will go to")
    );
    let routed = bot.setup_channel(&w.latin, Some("Latin America")).await;
    assert!(
        routed.contains("Requests for **Latin America** will be posted in"),
        "{routed}"
    );

    let answer = bot.post(bot.as_admin()).await;
    assert!(
        answer.starts_with(&format!("Posted the week of {}: 8 messages", this_week())),
        "{answer}"
    );
    let sends = bot.channel_sends();
    let to = |channel: u64| -> Vec<&RecordedRequest> {
        sends
            .iter()
            .filter(|r| r.path.contains(&format!("/channels/{channel}/")))
            .collect()
    };
    let (general, latin) = (to(w.general.id), to(w.latin.id));
    assert_eq!(
        (general.len(), latin.len()),
        (5, 3),
        "a header and its requests in each"
    );
    for channel in [&general, &latin] {
        let contents: Vec<&str> = channel
            .iter()
            .map(|r| r.body_str("/content").unwrap_or_default())
            .collect();
        assert!(
            contents[0].starts_with("**IJM Prayer Requests** · week of"),
            "{contents:?}"
        );
        for request in &channel[1..] {
            let body = request.body.as_ref().expect("a body");
            assert_eq!(body["enforce_nonce"], true);
            if request.body_contains("🎉 Praise") {
                // A praise is thanked for, not prayed for.
                assert!(
                    body.get("components")
                        .is_none_or(|c| c.as_array().is_none_or(Vec::is_empty)),
                    "{body}"
                );
                continue;
            }
            let buttons = &body["components"][0]["components"];
            assert_eq!(buttons[0]["label"], "I'll pray");
            assert_eq!(buttons[1]["label"], "Prayed");
        }
    }
    assert!(latin[1].body_contains("Mateo") && general[1].body_contains("Kenya"));
    for send in &sends {
        assert_no_pings(send.body.as_ref().expect("a body"));
    }
    let reactions = bot
        .fake
        .requests_matching("PUT", "/channels/*/messages/*/reactions/🙏/@me$");
    assert_eq!(
        reactions.len(),
        4,
        "one 🙏 under each of the four petitions, none under the two praises"
    );
    let praised: Vec<String> = sends
        .iter()
        .filter(|r| r.body_contains("🎉 Praise"))
        .filter_map(|r| {
            r.response
                .as_ref()
                .and_then(|a| a["id"].as_str().map(str::to_owned))
        })
        .collect();
    assert_eq!(praised.len(), 2);
    for id in praised {
        assert!(
            reactions.iter().all(|r| !r.path.contains(&id)),
            "no 🙏 under a praise"
        );
    }

    let again = bot.post(bot.as_admin()).await;
    assert!(
        again.contains("has already been posted here. Nothing was posted again."),
        "{again}"
    );
    assert_eq!(bot.channel_sends().len(), 8, "the second post sent nothing");
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn admin_commands_are_refused_for_a_member_and_change_nothing() {
    let bot = start(&example()).await;
    let w = &bot.world;
    let setup = bot.prayer(
        "setup",
        vec![CommandOption::channel("channel", &w.general)],
        bot.as_member(),
    );
    let (text, ephemeral) = bot.answer(&setup).await;
    assert!(ephemeral);
    assert_eq!(
        text,
        "Only members with the **Manage Server** permission can use `/prayer setup`. Nothing was changed."
    );
    let refused = bot.post(bot.as_member()).await;
    assert!(
        refused.starts_with(
            "Only members with the **Manage Server** permission can use `/prayer post`"
        )
    );
    // The refused setup stored nothing: an admin's post finds no channel.
    let admin_post = bot.post(bot.as_admin()).await;
    assert!(
        admin_post.starts_with("no channel is set up"),
        "{admin_post}"
    );
    assert!(bot.channel_sends().is_empty());
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn setup_names_the_permissions_the_bot_lacks_there_and_stores_nothing() {
    let bot = start(&example()).await;
    let text = bot.setup_channel(&bot.world.locked, None).await;
    assert!(
        text.contains("I am missing Send Messages, Add Reactions.")
            && text.contains("Nothing was changed"),
        "{text}"
    );
    assert!(
        bot.post(bot.as_admin())
            .await
            .starts_with("no channel is set up")
    );
    bot.fake.assert_no_spec_violations();
}

fn write_bulletin(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the bulletin is written");
    path
}

/// Starts the bot with `text` as this week's bulletin, sets up the default
/// channel and posts the week; returns the bot and the messages it sent
/// (and the directory that holds the bulletin).
async fn post_bulletin(text: &str) -> (Bot, Vec<RecordedRequest>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a directory");
    let bulletin = write_bulletin(dir.path(), "bulletin.txt", text);
    let bot = start(&bulletin).await;
    bot.setup_channel(&bot.world.general, None).await;
    bot.post(bot.as_admin()).await;
    let sends = bot.channel_sends();
    (bot, sends, dir)
}

/// The content of the posted message that holds `needle`.
fn posted_content<'a>(sends: &'a [RecordedRequest], needle: &str) -> &'a str {
    sends
        .iter()
        .find(|r| r.body_contains(needle))
        .and_then(|r| r.body_str("/content"))
        .unwrap_or_else(|| panic!("no posted message holds {needle}"))
}

#[tokio::test]
async fn mentions_in_bulletin_text_ping_no_one() {
    let (bot, sends, _dir) = post_bulletin(
        "IJM Prayer Requests\n\nAfrica\n• Please pray @everyone and @here for <@123> and the <@&456> team in Kenya.\n",
    )
    .await;
    let content = posted_content(&sends, "Kenya");
    assert!(
        content.contains("@everyone") && content.contains("<@123>") && content.contains("<@&456>")
    );
    for send in &sends {
        assert_no_pings(send.body.as_ref().expect("a body"));
    }
    let week = bot.prayer(
        "week",
        vec![CommandOption::boolean("public", true)],
        bot.as_member(),
    );
    let (text, _) = bot.answer(&week).await; // `answer` checks its allowed_mentions
    assert!(text.contains("<@&456>"));
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn a_5000_character_request_arrives_whole_in_pieces_within_discords_limit() {
    let dir = tempfile::tempdir().expect("a directory");
    let sentence = "Please pray for the families of Kenya as they wait for the court. ";
    let long = sentence.repeat(5000 / sentence.len() + 1);
    let long = long.trim();
    assert!(long.chars().count() >= 5000);
    let bulletin = write_bulletin(
        dir.path(),
        "long.txt",
        &format!("IJM Prayer Requests\n\nAfrica\n• {long}\n"),
    );
    let bot = start(&bulletin).await;
    bot.setup_channel(&bot.world.general, None).await;
    let answer = bot.post(bot.as_admin()).await;
    assert!(answer.starts_with("Posted the week of"), "{answer}");
    let sends = bot.channel_sends();
    let pieces: Vec<&str> = sends[1..]
        .iter()
        .map(|r| r.body_str("/content").unwrap_or_default())
        .collect();
    assert!(pieces.len() >= 3, "{} pieces", pieces.len());
    assert!(pieces.iter().all(|p| p.chars().count() <= 2000));
    let joined = pieces.join(" ");
    assert_eq!(
        joined.strip_prefix("🙏 **Africa**\n"),
        Some(long),
        "nothing lost or cut"
    );
    let with_buttons = sends
        .iter()
        .filter(|r| r.body.as_ref().is_some_and(|b| b["components"].is_array()))
        .count();
    assert_eq!(with_buttons, 1, "the buttons go under the last piece only");

    // `/prayer week` answers with the header and follows up with the
    // request's pieces, each under its region's heading.
    let sent = bot.prayer("week", vec![], bot.as_member());
    let whole = |pieces: &[String]| pieces.iter().map(String::len).sum::<usize>() > long.len();
    let pieces = answer_pieces(&bot, &sent, whole).await;
    assert!(pieces.iter().all(|p| discord_len(p) <= 2000));
    let request: Vec<&str> = pieces[1..]
        .iter()
        .map(|p| {
            p.strip_prefix("**Africa**\n")
                .expect("the heading opens each piece")
        })
        .collect();
    assert_eq!(
        request
            .join(" ")
            .strip_prefix("🙏 ")
            .and_then(|r| r.strip_suffix(" — *0 committed · 0 prayed*")),
        Some(long),
        "the whole request, split between words, then its counts"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn an_admin_imports_an_attached_bulletin_for_the_server_and_bad_files_change_nothing() {
    let bot = start(&example()).await;
    let next = this_week().next().to_string();
    let page = std::fs::read(project("examples/week-2.html")).expect("the example");
    let import = |name: &str, bytes: Vec<u8>, who: Invoker| {
        let options = vec![
            CommandOption::attachment("file", name, "text/plain", bytes),
            CommandOption::string("week", next.clone()),
        ];
        bot.prayer("import", options, who)
    };
    let (text, ephemeral) = bot
        .answer(&import("week.html", page.clone(), bot.as_admin()))
        .await;
    assert!(ephemeral);
    assert_eq!(
        text,
        format!(
            "Imported **IJM Prayer Requests**: 5 requests in 4 regions (Africa, Latin America, South Asia, Southeast Asia) for the week of {next}."
        )
    );
    let (again, _) = bot
        .answer(&import("copy.html", page.clone(), bot.as_admin()))
        .await;
    assert!(
        again.ends_with(&format!(
            "is already imported, for the week of {next}. Nothing changed."
        )),
        "{again}"
    );
    let (refused, _) = bot
        .answer(&import(
            "list.txt",
            b"Shopping list\n\n- eggs\n".to_vec(),
            bot.as_admin(),
        ))
        .await;
    assert_eq!(
        refused,
        "`list.txt` was not imported: no prayer requests found: this does not look like a prayer bulletin."
    );
    let (empty, _) = bot
        .answer(&import("empty.txt", Vec::new(), bot.as_admin()))
        .await;
    assert_eq!(empty, "`empty.txt` was not imported: the file is empty.");
    let (member, _) = bot
        .answer(&import("week.html", page, bot.as_member()))
        .await;
    assert!(
        member.starts_with("Only members with the **Manage Server** permission"),
        "{member}"
    );

    // The server sees its own bulletin that week; the shared one stays for this week.
    let options = vec![CommandOption::string("week", next.clone())];
    let (week, _) = bot
        .answer(&bot.prayer("week", options, bot.as_member()))
        .await;
    assert!(week.contains("Ghana") && !week.contains("Mateo"), "{week}");
    let (this, _) = bot
        .answer(&bot.prayer("week", vec![], bot.as_member()))
        .await;
    assert!(this.contains("Mateo"), "{this}");
    bot.fake.assert_no_spec_violations();
}

/// The answer to an interaction and its follow-ups, until `done` says the
/// pieces so far are all of it.
async fn answer_pieces(
    bot: &Bot,
    sent: &SentInteraction,
    done: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let (first, _) = bot.answer(sent).await;
    let mut pieces = vec![first];
    let follow_up = format!("{}$", sent.webhook_route(bot.fake.application_id()));
    let mut seen = 0;
    while !done(&pieces) {
        let requests = bot
            .fake
            .wait_for_requests(|r| r.is("POST", &follow_up), seen + 1, WAIT, "a follow-up")
            .await
            .expect("the rest of the answer");
        let request = &requests[seen];
        assert_no_pings(request.body.as_ref().expect("a body"));
        assert_eq!(request.status, 200, "{}", request.summary());
        pieces.push(request.body_str("/content").unwrap_or_default().to_owned());
        seen += 1;
    }
    pieces
}

/// Discord's measure of a message's length (UTF-16 code units; never less
/// than its characters).
fn discord_len(text: &str) -> usize {
    text.encode_utf16().count()
}

#[tokio::test]
async fn a_long_week_with_its_notice_arrives_in_replies_split_between_requests() {
    let dir = tempfile::tempdir().expect("a directory");
    let regions = ["Africa", "Latin America", "South Asia"];
    let mut text = String::from("IJM Prayer Requests\n");
    let mut requests = Vec::new();
    for (r, region) in regions.iter().enumerate() {
        text.push_str(&format!("\n{region}\n"));
        for i in 0..50 {
            let request = format!("Pray for family {r}-{i} in Kenya.");
            text.push_str(&format!("• {request}\n"));
            requests.push((region, request));
        }
    }
    let bulletin = write_bulletin(dir.path(), "long.txt", &text);
    let bot = start(&bulletin).await;
    // Naming the week adds a notice line to the first message.
    let options = vec![CommandOption::string("week", this_week().to_string())];
    let sent = bot.prayer("week", options, bot.as_member());
    let last = &requests.last().expect("requests").1;
    let pieces = answer_pieces(&bot, &sent, |p| p.last().is_some_and(|p| p.contains(last))).await;
    assert!(pieces.len() >= 3, "{pieces:?}");
    assert!(
        pieces[0].starts_with("-# "),
        "the notice opens it: {}",
        pieces[0]
    );
    for piece in &pieces {
        assert!(discord_len(piece) <= 2000, "{} long", discord_len(piece));
    }
    for piece in &pieces[1..] {
        assert!(
            piece.starts_with("**"),
            "a region heading opens each message: {piece}"
        );
    }
    for (region, request) in &requests {
        let holding: Vec<&String> = pieces
            .iter()
            .filter(|p| p.contains(request.as_str()))
            .collect();
        assert_eq!(holding.len(), 1, "{request} whole, once");
        let at = holding[0].find(request.as_str()).unwrap_or_default();
        assert!(
            holding[0][..at].contains(&format!("**{region}**")),
            "{request} under its heading"
        );
    }
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn options_thousands_of_characters_long_get_a_short_clear_answer() {
    let bot = start(&example()).await;
    let huge = "9".repeat(5000);
    for option in ["week", "region"] {
        let options = vec![CommandOption::string(option, huge.clone())];
        let (text, ephemeral) = bot
            .answer(&bot.prayer("week", options, bot.as_member()))
            .await;
        assert!(ephemeral);
        assert!(
            !text.is_empty() && discord_len(&text) <= 2000,
            "{option}: {} long",
            discord_len(&text)
        );
        assert!(!text.starts_with("Sorry"), "{text}");
    }
    let callbacks = bot
        .fake
        .requests_matching("POST", "/interactions/*/*/callback$");
    assert!(
        callbacks.iter().all(|r| r.status < 300),
        "every answer accepted"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn a_week_posted_here_is_not_replaced_by_an_import() {
    let bot = start(&example()).await;
    bot.setup_channel(&bot.world.general, None).await;
    let posted = bot.post(bot.as_admin()).await;
    assert!(posted.starts_with("Posted the week of"), "{posted}");
    let page = std::fs::read(project("examples/week-2.html")).expect("the example");
    let options = vec![
        CommandOption::attachment("file", "correction.html", "text/html", page),
        CommandOption::string("week", this_week().to_string()),
    ];
    let (refused, ephemeral) = bot
        .answer(&bot.prayer("import", options, bot.as_admin()))
        .await;
    assert!(ephemeral);
    assert!(
        refused.contains("has already been posted here")
            && refused.contains("post the correction in the channel")
            && refused.ends_with("Nothing changed."),
        "{refused}"
    );
    let (week, _) = bot
        .answer(&bot.prayer("week", vec![], bot.as_member()))
        .await;
    assert!(
        week.contains("Mateo") && !week.contains("Ghana"),
        "the posted week stays: {week}"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn masked_links_in_bulletin_text_are_shown_as_written() {
    let (bot, sends, _dir) = post_bulletin(
        "IJM Prayer Requests\n\nAfrica\n• Please pray for Kenya: [read the story](http://example.org/kenya) here.\n",
    )
    .await;
    let content = posted_content(&sends, "Kenya");
    assert!(
        content.contains(r"\[read the story\](http://example.org/kenya)"),
        "{content}"
    );
    let (week, _) = bot
        .answer(&bot.prayer("week", vec![], bot.as_member()))
        .await;
    assert!(week.contains(r"\[read the story\]"), "{week}");
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn setup_offers_the_regions_and_refuses_a_misspelled_one_with_close_matches() {
    let bot = start(&example()).await;
    let w = &bot.world;
    let sent = bot
        .fake
        .send_autocomplete(
            CommandCall::new("prayer").subcommand(
                "setup",
                vec![
                    CommandOption::channel("channel", &w.latin),
                    CommandOption::focused("region", 3, "lat"),
                ],
            ),
            bot.as_admin(),
        )
        .expect("sent");
    let callback = bot
        .fake
        .wait_for_callback(&sent, WAIT)
        .await
        .expect("answered");
    let body = callback.body.expect("a body");
    let names: Vec<&str> = body["data"]["choices"]
        .as_array()
        .expect("choices")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["Latin America"]);

    bot.setup_channel(&w.general, None).await;
    let refused = bot.setup_channel(&w.latin, Some("Latn Amrica")).await;
    assert!(
        refused.contains("“Latn Amrica”")
            && refused.contains("Did you mean Latin America?")
            && refused.ends_with("Nothing was changed."),
        "{refused}"
    );
    // Nothing was routed: the whole week goes to the default channel.
    bot.post(bot.as_admin()).await;
    assert!(
        bot.channel_sends()
            .iter()
            .all(|r| r.path.contains(&format!("/channels/{}/", w.general.id))),
        "nothing went to the misspelled region's channel"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn an_attached_page_nested_fifty_thousand_deep_does_not_take_the_bot_down() {
    let bot = start(&example()).await;
    let deep = format!(
        "<html><body><h1>IJM Prayer Requests</h1><h2>Africa</h2>{}<p>Please pray for the families of Ghana.</p>",
        "<i>".repeat(50_000)
    );
    let next = this_week().next().to_string();
    let options = vec![
        CommandOption::attachment("file", "deep.html", "text/html", deep.into_bytes()),
        CommandOption::string("week", next.clone()),
    ];
    let (answer, _) = bot
        .answer(&bot.prayer("import", options, bot.as_admin()))
        .await;
    assert!(
        answer.starts_with("Imported **IJM Prayer Requests**"),
        "{answer}"
    );
    // Still serving: the server's week and the imported one both answer.
    let (week, _) = bot
        .answer(&bot.prayer("week", vec![], bot.as_member()))
        .await;
    assert!(week.contains("Mateo"), "{week}");
    let options = vec![CommandOption::string("week", next)];
    let (week, _) = bot
        .answer(&bot.prayer("week", options, bot.as_member()))
        .await;
    assert!(
        week.contains("Please pray for the families of Ghana."),
        "{week}"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn a_post_that_discord_interrupts_resumes_without_posting_twice() {
    let bot = start(&example()).await;
    bot.setup_channel(&bot.world.general, None).await;
    // Three answers of 500 in a row outlast the bot's retries for one message.
    for _ in 0..3 {
        bot.fake.fail_next(
            "POST",
            "/channels/*/messages$",
            500,
            serde_json::json!({"message": "Internal Server Error", "code": 0}),
        );
    }
    let first = bot.post(bot.as_admin()).await;
    assert!(
        first.contains("was partly posted (0 of 7 messages)")
            && first.contains("Run `/prayer post` again"),
        "{first}"
    );
    let second = bot.post(bot.as_admin()).await;
    assert!(
        second.starts_with(&format!("Posted the week of {}: 7 messages", this_week())),
        "{second}"
    );
    let delivered: Vec<_> = bot
        .channel_sends()
        .into_iter()
        .filter(|r| r.status == 200)
        .collect();
    assert_eq!(delivered.len(), 7, "every message once");
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn sigterm_stops_the_bot_cleanly_with_exit_status_0() {
    let mut bot = start(&example()).await;
    let pid = bot.child.id().expect("the bot is running");
    let pid = libc::pid_t::try_from(pid).expect("a pid");
    // SAFETY: kill(2) with a pid this test started and a valid signal
    // number touches no memory of ours.
    let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(sent, 0, "SIGTERM was delivered");
    let status = tokio::time::timeout(WAIT, bot.child.wait())
        .await
        .expect("the bot stops within the timeout")
        .expect("the exit status");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_missing_or_malformed_token_is_one_clear_line_and_exit_status_2() {
    let dir = tempfile::tempdir().expect("a directory");
    for (token, expected) in [
        (None, "error: DISCORD_TOKEN is not set"),
        (Some("my-secret-token"), "error: DISCORD_TOKEN is malformed"),
    ] {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_prayer-bot"));
        command
            .arg("run")
            .env_remove("DISCORD_TOKEN")
            .env("DISCORD_API_URL", "http://127.0.0.1:9")
            .env("DATABASE_URL", dir.path().join("x.db"));
        if let Some(token) = token {
            command.env("DISCORD_TOKEN", token);
        }
        let out = command.output().expect("the bot runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with(expected), "{stderr}");
        assert!(!stderr.contains("my-secret-token"));
    }
}

// ---- faults: stop signals, 429, interrupted posts ----

/// Starts `prayer-bot run` against `api_url` with the database `db`,
/// logging to `log` with RUST_LOG unset (the default filter, warn).
fn run_bot(api_url: &str, db: &Path, log: &Path) -> tokio::process::Child {
    let log = std::fs::File::create(log).expect("a log file");
    tokio::process::Command::new(env!("CARGO_BIN_EXE_prayer-bot"))
        .arg("run")
        .env("DISCORD_TOKEN", TOKEN)
        .env("DISCORD_API_URL", api_url)
        .env("DATABASE_URL", db)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("the bot starts")
}

/// A 127.0.0.1 address where nothing listens: bound, then let go.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

fn send_signal(child: &tokio::process::Child, signal: libc::c_int) {
    let pid = child.id().expect("the bot is running");
    let pid = libc::pid_t::try_from(pid).expect("a pid");
    // SAFETY: kill(2) with a pid this test started and a valid signal
    // number touches no memory of ours.
    let sent = unsafe { libc::kill(pid, signal) };
    assert_eq!(sent, 0, "the signal was delivered");
}

/// How long a stopping bot may take: a few seconds of grace, with room
/// for a slow machine.
const STOP_WITHIN: Duration = Duration::from_secs(10);

/// Waits for the bot to exit after a stop signal; its exit status.
async fn exits(child: &mut tokio::process::Child) -> std::process::ExitStatus {
    tokio::time::timeout(STOP_WITHIN, child.wait())
        .await
        .expect("the bot stops within a few seconds")
        .expect("the exit status")
}

/// Waits until the log holds `needle`; the whole log.
async fn log_says(log: &Path, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the log never said {needle:?}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_stop_signal_ends_the_bot_while_discord_cannot_be_reached_at_all() {
    let dir = tempfile::tempdir().expect("a directory");
    let api = format!("http://127.0.0.1:{}", closed_port());
    for (name, signal) in [("term", libc::SIGTERM), ("int", libc::SIGINT)] {
        let log = dir.path().join(format!("{name}.log"));
        let mut bot = run_bot(&api, &dir.path().join("bot.db"), &log);
        log_says(&log, "Discord's gateway can't be reached").await;
        send_signal(&bot, signal);
        let status = exits(&mut bot).await;
        let text = std::fs::read_to_string(&log).expect("the log");
        assert_eq!(status.code(), Some(0), "{text}");
        assert!(
            text.contains("stopping: a stop signal arrived") && text.contains("stopped"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_stop_signal_ends_the_bot_while_the_gateway_it_was_given_cannot_be_reached() {
    let fake = FakeDiscord::start().await;
    let nowhere = format!("ws://127.0.0.1:{}", closed_port());
    fake.script(
        fake_discord::ScriptedResponse::new(
            "GET",
            "/gateway$",
            200,
            serde_json::json!({"url": nowhere}),
        )
        .times(usize::MAX),
    );
    let dir = tempfile::tempdir().expect("a directory");
    let log = dir.path().join("bot.log");
    let mut bot = run_bot(&fake.base_url(), &dir.path().join("bot.db"), &log);
    log_says(
        &log,
        &format!("Discord's gateway can't be reached at {nowhere}"),
    )
    .await;
    send_signal(&bot, libc::SIGINT);
    let status = exits(&mut bot).await;
    let text = std::fs::read_to_string(&log).expect("the log");
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(text.contains("stopping: a stop signal arrived"), "{text}");
    assert_eq!(
        fake.identify_count(),
        0,
        "nothing reached the fake's own gateway"
    );
    fake.assert_no_spec_violations();
}

/// The channel sends Discord accepted, and their nonces, each once.
fn delivered(bot: &Bot) -> Vec<String> {
    let nonces: Vec<String> = bot
        .channel_sends()
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| r.body_str("/nonce").unwrap_or_default().to_owned())
        .collect();
    let mut unique = nonces.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), nonces.len(), "no message was delivered twice");
    nonces
}

#[tokio::test]
async fn a_rate_limited_send_waits_the_retry_after_discord_asked_then_posts_each_message_once() {
    let bot = start(&example()).await;
    bot.setup_channel(&bot.world.general, None).await;
    bot.fake
        .rate_limit_next("POST", "/channels/*/messages$", 1.2);
    let answer = bot.post(bot.as_admin()).await;
    assert!(
        answer.starts_with(&format!("Posted the week of {}: 7 messages", this_week())),
        "{answer}"
    );
    let sends = bot.channel_sends();
    let (limited, retry) = (&sends[0], &sends[1]);
    assert_eq!((limited.status, retry.status), (429, 200));
    assert!(
        retry.received_at - limited.at >= Duration::from_millis(1200),
        "the retry came {:?} after the 429",
        retry.received_at - limited.at
    );
    assert_eq!(delivered(&bot).len(), 7);
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn a_rate_limit_longer_than_a_minute_stops_the_post_with_a_sentence_saying_when_to_try_again()
{
    let bot = start(&example()).await;
    bot.setup_channel(&bot.world.general, None).await;
    bot.fake.script(
        fake_discord::ScriptedResponse::rate_limited("POST", "/channels/*/messages$", 3600.0)
            .times(10),
    );
    let answer = bot.post(bot.as_admin()).await;
    assert!(
        answer.contains("was partly posted (0 of 7 messages)")
            && answer.contains(
                "Discord is rate-limiting the bot and asks it to wait about 60 minutes, so try again after"
            )
            && answer.contains("Run `/prayer post` again"),
        "{answer}"
    );
    for machine_text in ["json", "Serenity", "decode", "{"] {
        assert!(!answer.contains(machine_text), "{answer}");
    }
    assert_eq!(
        bot.channel_sends().len(),
        1,
        "one try, no retry for an hour"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn a_stop_mid_post_answers_the_admin_and_the_next_run_posts_only_the_rest() {
    let mut bot = start(&example()).await;
    bot.setup_channel(&bot.world.general, None).await;
    bot.fake.script(
        fake_discord::ScriptedResponse::slow(
            "POST",
            "/channels/*/messages$",
            Duration::from_millis(700),
        )
        .times(7),
    );
    let sent = bot.prayer("post", vec![], bot.as_admin());
    bot.fake
        .wait_for_requests(
            |r| r.is("POST", "/channels/*/messages$"),
            2,
            WAIT,
            "two sends",
        )
        .await
        .expect("the post is under way");
    send_signal(&bot.child, libc::SIGTERM);
    let (answer, _) = bot.answer(&sent).await;
    let status = exits(&mut bot.child).await;
    assert_eq!(status.code(), Some(0));
    let first = delivered(&bot);
    assert!(first.len() < 7, "the post stopped early");
    assert_eq!(
        answer,
        format!(
            "Posted {} of 7 messages of the week of {}; the bot is stopping. Run `/prayer post` again to post the rest; nothing will be posted twice.",
            first.len(),
            this_week()
        )
    );

    // The next start, on the same database, posts the rest.
    let db = bot._dir.path().join("prayer-bot.db");
    let _again = run_bot(
        &bot.fake.base_url(),
        &db,
        &bot._dir.path().join("again.log"),
    );
    bot.fake
        .wait_for_requests(
            |r| r.is("PUT", "/applications/*/commands"),
            2,
            WAIT,
            "a second registration",
        )
        .await
        .expect("the second run is ready");
    let answer = bot.post(bot.as_admin()).await;
    assert!(
        answer.starts_with(&format!("Posted the week of {}: 7 messages", this_week()))
            && answer.contains(&format!(
                "({} had been posted before an interruption",
                first.len()
            )),
        "{answer}"
    );
    assert_eq!(
        delivered(&bot).len(),
        7,
        "each message exactly once overall"
    );
    bot.fake.assert_no_spec_violations();
}
