//! The real bot (`prayer-bot run`, serenity + poise) against the fake Discord
//! on 127.0.0.1. Every request body it sends is checked against Discord's
//! OpenAPI description when `../shared/discord-api-spec` is present.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use fake_discord::{
    CommandCall, CommandOption, ComponentPress, FakeChannel, FakeDiscord, FakeGuild, FakeMember,
    FakeUser, Invoker, ReactionEvent, RecordedRequest, SentInteraction,
};
use prayer_bot::bulletins::week::PrayerWeek;
use serde_json::Value;

use common::{WAIT, World};

fn project(path: &str) -> PathBuf {
    common::project(path)
}

fn this_week() -> PrayerWeek {
    PrayerWeek::containing(chrono::Utc::now().date_naive())
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
    start_with_rate_limits(bulletin, None, &[]).await
}

/// As [`start`], with the fake enforcing `rate_limits` (off in [`start`]).
async fn start_with_rate_limits(
    bulletin: &Path,
    rate_limits: Option<fake_discord::RateLimits>,
    env: &[(&str, &str)],
) -> Bot {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("prayer-bot.db");
    common::import(&db, bulletin, &this_week().to_string());

    // Discord's limits enforced: a message or reply over them is refused
    // with 400, as Discord does, not only recorded.
    let fake = FakeDiscord::start_with(fake_discord::Options {
        enforce_limits: true,
        rate_limits,
        ..fake_discord::Options::default()
    })
    .await;
    let world = World::add_to(&fake);
    let mut command = common::bot_command(&fake.base_url(), &db);
    command.envs(env.iter().copied());
    let child = common::spawn_logged(command, &dir.path().join("bot.log"));
    common::registered(&fake).await;
    Bot {
        fake,
        child,
        world,
        _dir: dir,
    }
}

impl Bot {
    fn as_admin(&self) -> Invoker {
        self.world.as_admin()
    }

    fn as_member(&self) -> Invoker {
        self.world.as_member()
    }

    fn prayer(
        &self,
        subcommand: &str,
        options: Vec<CommandOption>,
        who: Invoker,
    ) -> SentInteraction {
        common::prayer(&self.fake, subcommand, options, who)
    }

    /// The answer to an interaction: its text, and whether only the asker sees it.
    async fn answer(&self, sent: &SentInteraction) -> (String, bool) {
        let answer = common::answer(&self.fake, sent).await;
        for body in &answer.bodies {
            assert_no_pings(body);
        }
        (answer.text, answer.ephemeral)
    }

    async fn setup_channel(&self, channel: &FakeChannel, region: Option<&str>) -> String {
        // These tests post by hand with `/prayer post`; automatic posts
        // (tests/schedule.rs) would otherwise post the week first.
        let mut options = vec![
            CommandOption::channel("channel", channel),
            CommandOption::boolean("auto", false),
        ];
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
            "answered",
            "request",
            "notify",
            "forget-me",
            "setup",
            "status",
            "import",
            "post",
            "correct",
            "unpost"
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
            // Both praise items also ask for prayer ("Pray that …", "Pray
            // for …"): shown as praise, with the buttons too.
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
        6,
        "one 🙏 under each of the four petitions and the two praises that ask for prayer"
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
            reactions.iter().any(|r| r.path.contains(&id)),
            "a 🙏 under a praise that asks for prayer"
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
    // `status` only reads: nothing to say about changes.
    let status = bot.prayer("status", vec![], bot.as_member());
    assert_eq!(
        bot.answer(&status).await.0,
        "Only members with the **Manage Server** permission can use `/prayer status`."
    );
    // The refused setup stored nothing: an admin's post finds no channel.
    let admin_post = bot.post(bot.as_admin()).await;
    assert!(
        admin_post.starts_with("No channel is set up"),
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
            .starts_with("No channel is set up")
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
        again.contains(&format!(
            "This bulletin is already imported, for the week of {next}. Nothing was added;"
        )) && again.contains("import it again with `week:` set to that week."),
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
    let (readme, _) = bot
        .answer(&import(
            "README.md",
            std::fs::read(project("README.md")).expect("the README"),
            bot.as_admin(),
        ))
        .await;
    assert!(
        readme.starts_with(
            "`README.md` was not imported: this does not look like a prayer bulletin: "
        ) && readme.ends_with("“Praise God for …”)."),
        "{readme}"
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
            && refused.contains("use `/prayer correct`")
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
async fn a_refused_option_is_answered_in_sentences() {
    let bot = start(&example()).await;
    let w = &bot.world;
    bot.setup_channel(&w.general, None).await;
    let sent = bot.prayer(
        "setup",
        vec![
            CommandOption::channel("channel", &w.general),
            CommandOption::string("time", "quarter past nine"),
        ],
        bot.as_admin(),
    );
    let (refused, ephemeral) = bot.answer(&sent).await;
    assert!(ephemeral, "only the admin sees it");
    assert!(
        refused.starts_with("That is not a time of day")
            && refused.contains("(9am, 9:30 pm). Nothing was changed."),
        "{refused}"
    );
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
    common::send_signal(&bot.child, libc::SIGTERM);
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
/// logging to `log` with RUST_LOG unset (the default filter: the bot's
/// events at INFO, its dependencies' warnings).
fn run_bot(api_url: &str, db: &Path, log: &Path) -> tokio::process::Child {
    let mut command = common::bot_command(api_url, db);
    command.env_remove("RUST_LOG");
    common::spawn_logged(command, log)
}

/// A 127.0.0.1 address where nothing listens: bound, then let go.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

use common::send_signal;

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
        let said = log_says(&log, "Discord's gateway can't be reached").await;
        // The cause, not serenity's "Error while sending HTTP request.".
        assert!(
            said.contains("Connection refused") && !said.contains("Error while sending"),
            "{said}"
        );
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
async fn at_the_default_level_a_start_names_its_database_and_whom_it_connected_as() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().expect("a directory");
    let log = dir.path().join("bot.log");
    let db = dir.path().join("bot.db");
    let mut bot = run_bot(&fake.base_url(), &db, &log);
    let text = log_says(&log, "connected to Discord as ").await;
    send_signal(&bot, libc::SIGTERM);
    let status = exits(&mut bot).await;
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "database {}: 0 bulletins and 0 servers set up",
            prayer_bot::storage::describe_location(&common::location(&db))
        )),
        "{text}"
    );
    assert!(text.contains(" INFO "), "normal events are INFO: {text}");
    assert!(
        !text.contains(" WARN "),
        "a clean start warns of nothing: {text}"
    );
}

/// Past 2,500 servers Discord refuses one shard: the bot starts the shards
/// `GET /gateway/bot` recommends, registers its commands once, and answers
/// in the servers of every shard.
#[tokio::test]
async fn the_bot_starts_the_shards_discord_recommends_and_registers_its_commands_once() {
    let fake = FakeDiscord::start().await;
    fake.set_shard_count(2);
    // Discord's rule: a server belongs to shard (id >> 22) % shards.
    let base = fake.next_id() >> 22;
    let guilds = [((base & !1) << 22) | 7, ((base | 1) << 22) | 7];
    let member = FakeUser::new(fake.next_id(), "bob");
    let mut channels = Vec::new();
    for (i, guild) in guilds.iter().enumerate() {
        let channel = FakeChannel::text(fake.next_id(), "prayer");
        channels.push(channel.id);
        fake.add_guild(
            FakeGuild::new(*guild, format!("Group {i}"), fake.owner().id)
                .with_channel(channel)
                .with_member(FakeMember::new(member.clone())),
        );
    }
    let dir = tempfile::tempdir().expect("a directory");
    let log = dir.path().join("bot.log");
    let mut bot = run_bot(&fake.base_url(), &dir.path().join("bot.db"), &log);
    fake.wait_for("PUT", "/applications/*/commands", WAIT)
        .await
        .expect("the bot registers its commands");
    let text = log_says(&log, "(shard 2 of 2)").await;
    assert!(text.contains("(shard 1 of 2)"), "{text}");
    let mut shards = fake.identified_shards();
    shards.sort_unstable();
    assert_eq!(shards, [[0, 2], [1, 2]], "one IDENTIFY per shard");
    assert!(
        fake.shard_refusals().is_empty(),
        "{:?}",
        fake.shard_refusals()
    );
    for (guild, channel) in guilds.iter().zip(&channels) {
        let sent = fake
            .send_command(
                CommandCall::new("prayer").subcommand("week", vec![]),
                Invoker::in_guild(member.clone(), *guild, *channel),
            )
            .expect("the interaction is sent");
        fake.wait_for_callback(&sent, WAIT)
            .await
            .expect("the shard that owns the server answers");
    }
    send_signal(&bot, libc::SIGTERM);
    assert_eq!(exits(&mut bot).await.code(), Some(0));
    assert_eq!(
        fake.requests_matching("PUT", "/applications/*/commands")
            .len(),
        1,
        "commands are registered once, not once per shard"
    );
    fake.assert_no_spec_violations();
}

#[tokio::test]
async fn a_stop_signal_ends_the_bot_while_the_gateway_it_was_given_cannot_be_reached() {
    let fake = FakeDiscord::start().await;
    let nowhere = format!("ws://127.0.0.1:{}", closed_port());
    fake.script(
        fake_discord::ScriptedResponse::new(
            "GET",
            "/gateway/bot$",
            200,
            serde_json::json!({
                "url": nowhere,
                "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
            }),
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

// ---- prayer tracking: reactions, presses, /prayer who|stats|mine|notify|forget-me, /praise ----

/// A request as the weekly post sent it: its id (read from its buttons),
/// its first message and that message's channel.
#[derive(Clone, Copy, Debug)]
struct Posted {
    request: i64,
    message: u64,
    channel: u64,
}

/// The id Discord gave a message the bot sent.
fn sent_id(send: &RecordedRequest) -> u64 {
    send.response
        .as_ref()
        .and_then(|r| r["id"].as_str())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no message id in the answer to {}", send.summary()))
}

/// The channel a `POST /channels/{id}/messages` went to.
fn sent_to(send: &RecordedRequest) -> u64 {
    send.route
        .split('/')
        .nth(2)
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no channel in {}", send.route))
}

/// The posted request whose text holds `needle`.
fn posted(sends: &[RecordedRequest], needle: &str) -> Posted {
    let parts: Vec<&RecordedRequest> = sends
        .iter()
        .filter(|r| r.status == 200 && r.body_contains(needle))
        .collect();
    let first = parts
        .first()
        .unwrap_or_else(|| panic!("no posted message holds {needle}"));
    let custom_id = parts
        .iter()
        .find_map(|r| r.body_str("/components/0/components/0/custom_id"))
        .unwrap_or_else(|| panic!("no buttons under {needle}"));
    let request = custom_id
        .rsplit(':')
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no request id in {custom_id}"));
    Posted {
        request,
        message: sent_id(first),
        channel: sent_to(first),
    }
}

/// A user of the first server who is not in `World` (the fake makes up
/// their member object).
fn someone(bot: &Bot, name: &str) -> FakeUser {
    FakeUser::new(bot.fake.next_id(), name)
}

fn mention(id: u64) -> String {
    format!("<@{id}>")
}

/// The ids in a JSON array of id strings, sorted.
fn ids(list: &Value) -> Vec<u64> {
    let mut ids: Vec<u64> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|id| id.as_str().and_then(|id| id.parse().ok()))
        .collect();
    ids.sort_unstable();
    ids
}

/// The line of a text that holds `needle`.
fn line_with<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line holds {needle}: {text}"))
}

impl Bot {
    fn invoker(&self, user: &FakeUser) -> Invoker {
        Invoker::in_guild(user.clone(), self.world.guild, self.world.general.id)
    }

    /// A press of the button `custom_id`, on `message` when given (else on
    /// a message the fake makes up).
    fn press(&self, custom_id: &str, message: Option<u64>, who: Invoker) -> SentInteraction {
        let mut press = ComponentPress::button(custom_id);
        if let Some(message) = message {
            press = press.on_message(message);
        }
        self.fake
            .send_button(press, who)
            .expect("the press is sent")
    }

    /// The bot's first answer to an interaction, as Discord took it; it
    /// pings no one.
    async fn callback(&self, sent: &SentInteraction) -> Value {
        let callback = self
            .fake
            .wait_for_callback(sent, WAIT)
            .await
            .expect("the bot answers");
        assert!(callback.status < 300, "{}", callback.summary());
        let body = callback.body.unwrap_or(Value::Null);
        assert_no_pings(&body["data"]);
        body
    }

    /// The private answer to a press: its text (and checks it is private).
    async fn press_answer(&self, sent: &SentInteraction) -> Value {
        let body = self.callback(sent).await;
        assert_eq!(body["type"], 4, "a new message: {body}");
        assert_eq!(
            body["data"]["flags"].as_u64().map(|f| f & 64),
            Some(64),
            "only the presser sees it: {body}"
        );
        body
    }

    async fn press_text(&self, sent: &SentInteraction) -> String {
        let answer = self.press_answer(sent).await;
        answer["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn who(&self, request: &str, who: Invoker) -> (String, bool) {
        let options = vec![CommandOption::string("request", request)];
        self.answer(&self.prayer("who", options, who)).await
    }

    /// Asks `/prayer who` until the answer satisfies `done`: reactions are
    /// written in the background, a moment after they arrive.
    async fn who_until(&self, request: i64, done: impl Fn(&str) -> bool) -> String {
        let request = request.to_string();
        let ask = || async { self.who(&request, self.as_admin()).await.0 };
        common::answer_until("`/prayer who`", ask, done, String::new).await
    }

    fn reaction(&self, user: u64, on: &Posted, emoji: &str) -> ReactionEvent {
        ReactionEvent::new(user, on.channel, on.message, emoji).in_guild(self.world.guild)
    }

    fn react(&self, user: u64, on: &Posted, emoji: &str) {
        self.fake
            .send_reaction_add(&self.reaction(user, on, emoji))
            .expect("the reaction is sent");
    }

    fn unreact(&self, user: u64, on: &Posted, emoji: &str) {
        self.fake
            .send_reaction_remove(&self.reaction(user, on, emoji))
            .expect("the removal is sent");
    }

    /// Returns once the reaction events sent before it have been written:
    /// a 🙏 by a new member on `witness` is sent after them and waited for.
    /// (Each gateway event is handled in its own task, so a short pause
    /// first lets the earlier ones reach the recorder's queue.)
    async fn settle_reactions(&self, witness: &Posted) {
        tokio::time::sleep(Duration::from_millis(30)).await;
        let user = self.fake.next_id();
        self.react(user, witness, "🙏");
        let name = mention(user);
        self.who_until(witness.request, |t| t.contains(&name)).await;
    }

    fn praise(&self, note: &str, request: Option<&str>, who: Invoker) -> SentInteraction {
        let mut call = CommandCall::new("praise").option(CommandOption::string("note", note));
        if let Some(request) = request {
            call = call.option(CommandOption::string("request", request));
        }
        self.fake
            .send_command(call, who)
            .expect("the interaction is sent")
    }

    async fn week_text(&self) -> String {
        self.answer(&self.prayer("week", vec![], self.as_member()))
            .await
            .0
    }
}

/// The example week, posted to the default channel.
#[tokio::test]
async fn the_weekly_header_pings_the_chosen_role_and_no_one_else() {
    let bot = start(&example()).await;
    // A role the bot cannot ping is refused in words, and nothing changes.
    let refused = bot.prayer(
        "setup",
        vec![CommandOption::role("role", &bot.world.quiet)],
        bot.as_admin(),
    );
    let (refused, _) = bot.answer(&refused).await;
    assert!(
        refused.contains("I can't ping") && refused.ends_with("Nothing was changed."),
        "{refused}"
    );
    bot.setup_channel(&bot.world.general, None).await;
    let chosen = bot.prayer(
        "setup",
        vec![CommandOption::role("role", &bot.world.team)],
        bot.as_admin(),
    );
    let (chosen, _) = bot.answer(&chosen).await;
    let team = bot.world.team.id;
    assert!(chosen.contains(&format!("mentions <@&{team}>")), "{chosen}");
    let posted = bot.post(bot.as_admin()).await;
    assert!(posted.starts_with("Posted the week of"), "{posted}");
    let sends = bot.channel_sends();
    let bodies: Vec<Value> = sends.iter().filter_map(|r| r.body.clone()).collect();
    let header = &bodies[0];
    assert!(
        header["content"]
            .as_str()
            .is_some_and(|c| c.starts_with(&format!("<@&{team}>\n"))),
        "{header}"
    );
    // Exactly that role: no one else, nothing parsed from the text.
    let mentions = &header["allowed_mentions"];
    assert_eq!(mentions["parse"], serde_json::json!([]), "{header}");
    assert_eq!(
        mentions["roles"],
        serde_json::json!([team.to_string()]),
        "{header}"
    );
    assert!(
        mentions["users"].as_array().is_none_or(Vec::is_empty),
        "{header}"
    );
    // Every other message of the week pings no one.
    for body in &bodies[1..] {
        assert_no_pings(body);
    }
    // And it can be turned off.
    let off = bot.prayer(
        "setup",
        vec![CommandOption::boolean("no_role", true)],
        bot.as_admin(),
    );
    let (off, _) = bot.answer(&off).await;
    assert!(off.contains("mentions no role"), "{off}");
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn a_preview_shows_the_admin_the_week_privately_and_posts_nothing() {
    let bot = start(&example()).await;
    bot.setup_channel(&bot.world.general, None).await;
    let sent = bot.prayer(
        "post",
        vec![CommandOption::boolean("preview", true)],
        bot.as_admin(),
    );
    let (preview, private) = bot.answer(&sent).await;
    assert!(private, "only the admin sees it");
    assert!(
        preview.starts_with("**Preview** of the week of")
            && preview.contains("Nothing has been sent."),
        "{preview}"
    );
    assert!(bot.channel_sends().is_empty(), "nothing was posted");
    // A member cannot preview (it is part of an admin command).
    let member = bot.prayer(
        "post",
        vec![CommandOption::boolean("preview", true)],
        bot.as_member(),
    );
    let (refused, _) = bot.answer(&member).await;
    assert!(refused.contains("Manage Server"), "{refused}");
    // The real post goes out afterwards, once.
    let posted = bot.post(bot.as_admin()).await;
    assert!(posted.starts_with("Posted the week of"), "{posted}");
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn answered_prayers_are_kept_and_listed_with_their_posts() {
    let (bot, sends) = post_example().await;
    let mateo = posted(&sends, "Mateo");
    let praised = bot.praise(
        "Mateo is home!",
        Some(&mateo.request.to_string()),
        bot.as_member(),
    );
    let (said, _) = bot.answer(&praised).await;
    assert!(said.starts_with("Posted your praise"), "{said}");
    let listed = bot.prayer("answered", vec![], bot.as_member());
    let (listed, private) = bot.answer(&listed).await;
    assert!(private, "only the asker sees it");
    let link = format!(
        "https://discord.com/channels/{}/{}/{}",
        bot.world.guild, bot.world.general.id, mateo.message
    );
    assert!(
        listed.contains("**Answered prayers**")
            && listed.contains("Mateo is home!")
            && listed.contains(&link),
        "{listed}"
    );
    bot.fake.assert_no_spec_violations();
}

async fn post_example() -> (Bot, Vec<RecordedRequest>) {
    let bot = start(&example()).await;
    bot.setup_channel(&bot.world.general, None).await;
    let posted = bot.post(bot.as_admin()).await;
    assert!(posted.starts_with("Posted the week of"), "{posted}");
    let sends = bot.channel_sends();
    (bot, sends)
}

#[tokio::test]
async fn a_pray_reaction_of_any_skin_tone_records_prayed_once_until_the_last_one_goes() {
    let sentence = "Please pray for the families of Kenya as they wait for the court. ";
    let long = sentence.repeat(2500 / sentence.len() + 1);
    let (bot, sends, _dir) = post_bulletin(&format!(
        "IJM Prayer Requests\n\nAfrica\n• {}\n\nLatin America\n• Pray for the new prosecutors in Guatemala.\n",
        long.trim()
    ))
    .await;
    let parts: Vec<&RecordedRequest> = sends
        .iter()
        .filter(|r| r.body_contains("families of Kenya"))
        .collect();
    assert!(parts.len() >= 2, "the request is posted in parts");
    let kenya = posted(&sends, "families of Kenya");
    let last_part = Posted {
        message: sent_id(parts[parts.len() - 1]),
        ..kenya
    };
    let guatemala = posted(&sends, "Guatemala");
    let header = Posted {
        message: sent_id(&sends[0]),
        ..kenya
    };
    let member = bot.world.member.id;
    let prayed_by_member = format!("Prayed (1): {}", mention(member));

    bot.react(member, &kenya, "🙏");
    let who = bot
        .who_until(kenya.request, |t| t.contains("Prayed (1)"))
        .await;
    assert!(who.ends_with(&prayed_by_member), "{who}");
    let sent = bot.prayer("week", vec![], bot.as_member());
    let week = answer_pieces(&bot, &sent, |p| p.concat().contains("Guatemala"))
        .await
        .concat();
    assert_eq!(
        week.matches("— *0 committed · 1 prayed*").count(),
        1,
        "{week}"
    );
    assert!(
        line_with(&week, "Guatemala").ends_with("— *0 committed · 0 prayed*"),
        "{week}"
    );

    // A second 🙏, with a skin tone, on another part of the same request.
    bot.react(member, &last_part, "🙏🏽");
    bot.settle_reactions(&guatemala).await;
    let (who, _) = bot.who(&kenya.request.to_string(), bot.as_admin()).await;
    assert!(who.ends_with(&prayed_by_member), "counted once: {who}");

    // Removing one keeps what the other recorded.
    bot.unreact(member, &kenya, "🙏");
    bot.settle_reactions(&guatemala).await;
    let (who, _) = bot.who(&kenya.request.to_string(), bot.as_admin()).await;
    assert!(
        who.ends_with(&prayed_by_member),
        "the 🙏🏽 still counts: {who}"
    );

    // Removing the last withdraws it.
    bot.unreact(member, &last_part, "🙏🏽");
    bot.who_until(kenya.request, |t| t.contains("No one has committed"))
        .await;

    // The bot's own 🙏, a 👍, and a 🙏 on the header record nothing.
    bot.react(bot.fake.bot_user_id(), &kenya, "🙏");
    bot.react(member, &kenya, "👍");
    bot.react(member, &header, "🙏");
    bot.settle_reactions(&guatemala).await;
    let (who, _) = bot.who(&kenya.request.to_string(), bot.as_admin()).await;
    assert!(who.contains("No one has committed"), "{who}");
    let (mine, _) = bot
        .answer(&bot.prayer("mine", vec![], bot.as_member()))
        .await;
    assert!(
        mine.contains("You have not committed to or prayed for any request this week yet."),
        "nothing recorded for the member anywhere: {mine}"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn ill_pray_is_recorded_once_kept_by_prayed_and_withdrawn_by_undo_privately() {
    let (bot, sends) = post_example().await;
    let mateo = posted(&sends, "Mateo");
    let commit = format!("prayer:commit:{}", mateo.request);
    let undo = format!("prayer:undo:commit:{}", mateo.request);
    let member = mention(bot.world.member.id);

    let first = bot.press(&commit, Some(mateo.message), bot.as_member());
    let answer = bot.press_answer(&first).await;
    let text = answer["data"]["content"].as_str().unwrap_or_default();
    assert!(
        text.starts_with("Recorded: you'll pray for *Latin America · Please pray for Mateo"),
        "{text}"
    );
    let button = &answer["data"]["components"][0]["components"][0];
    assert_eq!(button["custom_id"], undo.as_str(), "{answer}");
    assert_eq!(button["label"], "Undo");

    let again = bot.press(&commit, Some(mateo.message), bot.as_member());
    let answer = bot.press_answer(&again).await;
    let text = answer["data"]["content"].as_str().unwrap_or_default();
    assert!(
        text.starts_with("You had already said you'll pray for")
            && text.ends_with("it is recorded once."),
        "{text}"
    );
    let (who, _) = bot.who(&mateo.request.to_string(), bot.as_admin()).await;
    assert!(
        who.ends_with(&format!("\nCommitted (1): {member}")),
        "{who}"
    );
    assert_eq!(who.matches(&member).count(), 1, "{who}");

    let prayed = bot.press(
        &format!("prayer:prayed:{}", mateo.request),
        Some(mateo.message),
        bot.as_member(),
    );
    let answer = bot.press_answer(&prayed).await;
    let text = answer["data"]["content"].as_str().unwrap_or_default();
    assert!(
        text.starts_with("Recorded: you prayed for") && text.contains("Your commitment is kept."),
        "{text}"
    );

    // Undo, pressed on the private answer, edits that answer.
    let private = bot
        .fake
        .interaction_response(&first)
        .expect("the private answer is a message");
    let private_id: u64 = private["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("its id");
    let undone = bot.press(&undo, Some(private_id), bot.as_member());
    let answer = bot.callback(&undone).await;
    assert_eq!(answer["type"], 7, "UPDATE_MESSAGE: {answer}");
    let text = answer["data"]["content"].as_str().unwrap_or_default();
    assert!(
        text.starts_with(
            "Undone: you are no longer committed to pray for *Latin America · Please pray for Mateo"
        ),
        "{text}"
    );
    assert_eq!(answer["data"]["components"], serde_json::json!([]));
    let edited = bot.fake.message(private_id).expect("the answer");
    assert!(
        edited["components"].as_array().is_none_or(Vec::is_empty),
        "{edited}"
    );
    let (who, _) = bot.who(&mateo.request.to_string(), bot.as_admin()).await;
    assert!(
        !who.contains("Committed") && who.ends_with(&format!("\nPrayed (1): {member}")),
        "the commitment is gone, the prayer stays: {who}"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn a_press_on_a_request_whose_bulletin_was_replaced_gets_a_clear_answer() {
    let (bot, sends) = post_example().await;
    let mateo = posted(&sends, "Mateo");
    let db = bot._dir.path().join("prayer-bot.db");
    let replaced = std::process::Command::new(env!("CARGO_BIN_EXE_prayer-bot"))
        .arg("import")
        .arg(project("examples/week-3.txt"))
        .args(["--week", &this_week().to_string(), "--force", "--database"])
        .arg(common::location(&db))
        .output()
        .expect("the import runs");
    let said = String::from_utf8_lossy(&replaced.stdout);
    assert!(
        replaced.status.success() && said.contains("replacing “IJM Prayer Requests”"),
        "{said}{}",
        String::from_utf8_lossy(&replaced.stderr)
    );

    for action in ["commit", "prayed"] {
        let sent = bot.press(
            &format!("prayer:{action}:{}", mateo.request),
            Some(mateo.message),
            bot.as_member(),
        );
        let answer = bot.press_answer(&sent).await;
        assert_eq!(
            answer["data"]["content"],
            prayer_bot::tracking::report::GONE,
            "{answer}"
        );
        assert!(
            answer["data"]["components"]
                .as_array()
                .is_none_or(Vec::is_empty),
            "no Undo for what was not recorded: {answer}"
        );
    }
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn another_server_can_neither_mark_nor_see_nor_react_to_a_servers_own_request() {
    let bot = start(&example()).await;
    let w = &bot.world;
    // The first server's own bulletin this week: no other server sees it.
    let own =
        b"IJM Prayer Requests\n\nAfrica\n\xE2\x80\xA2 Pray for the court in Kampala this week.\n";
    let options = vec![
        CommandOption::attachment("file", "own.txt", "text/plain", own.to_vec()),
        CommandOption::string("week", this_week().to_string()),
    ];
    let (imported, _) = bot
        .answer(&bot.prayer("import", options, bot.as_admin()))
        .await;
    assert!(imported.starts_with("Imported"), "{imported}");
    bot.setup_channel(&w.general, None).await;
    bot.post(bot.as_admin()).await;
    let kampala = posted(&bot.channel_sends(), "Kampala");
    let id = kampala.request.to_string();
    bot.press_answer(&bot.press(
        &format!("prayer:commit:{id}"),
        Some(kampala.message),
        bot.as_member(),
    ))
    .await;
    bot.react(w.member.id, &kampala, "🙏");
    let before = bot
        .who_until(kampala.request, |t| t.contains("Prayed (1)"))
        .await;

    let other = bot.fake.next_id();
    let channel = FakeChannel::text(bot.fake.next_id(), "prayer");
    let stranger = FakeUser::new(bot.fake.next_id(), "eve");
    bot.fake.add_guild(
        FakeGuild::new(other, "Other Group", bot.fake.owner().id)
            .with_channel(channel.clone())
            .with_member(FakeMember::new(stranger.clone())),
    );
    let there = || Invoker::in_guild(stranger.clone(), other, channel.id);

    // Presses naming the request, on a message of the other server's own
    // or on the first server's post: the answer a made-up id gets.
    let made_up = "999999";
    let unknown = bot
        .press_text(&bot.press(&format!("prayer:commit:{made_up}"), None, there()))
        .await;
    assert_eq!(unknown, prayer_bot::tracking::report::GONE);
    for (custom_id, message) in [
        (format!("prayer:commit:{id}"), None),
        (format!("prayer:prayed:{id}"), Some(kampala.message)),
    ] {
        let text = bot
            .press_text(&bot.press(&custom_id, message, there()))
            .await;
        assert_eq!(text, unknown, "{custom_id}");
    }
    // Undo edits its own answer, with the same words either way.
    for request in [id.as_str(), made_up] {
        let undo = bot.press(&format!("prayer:undo:commit:{request}"), None, there());
        let answer = bot.callback(&undo).await;
        assert_eq!(
            answer["data"]["content"],
            prayer_bot::tracking::report::GONE
        );
    }

    // `/prayer who` and `/praise` refuse it as they refuse a made-up id.
    let (refused, ephemeral) = bot.who(&id, there()).await;
    let (refused_unknown, _) = bot.who(made_up, there()).await;
    assert!(ephemeral);
    assert!(
        refused.starts_with("No request of this server matches"),
        "{refused}"
    );
    assert_eq!(
        refused.replace(&id, "N"),
        refused_unknown.replace(made_up, "N")
    );
    let sends = bot.channel_sends().len();
    let (praise_refused, _) = bot
        .answer(&bot.praise("Answered!", Some(&id), there()))
        .await;
    let (praise_unknown, _) = bot
        .answer(&bot.praise("Answered!", Some(made_up), there()))
        .await;
    assert_eq!(
        praise_refused.replace(&id, "N"),
        praise_unknown.replace(made_up, "N")
    );
    assert_eq!(bot.channel_sends().len(), sends, "no praise was posted");
    let offered = bot
        .fake
        .send_autocomplete(
            CommandCall::new("prayer")
                .subcommand("who", vec![CommandOption::focused("request", 3, "kampala")]),
            there(),
        )
        .expect("sent");
    let offered = bot.callback(&offered).await;
    assert_eq!(offered["data"]["choices"], serde_json::json!([]));

    // A 🙏 sent with the other server's id on the first server's post.
    bot.fake
        .send_reaction_add(
            &ReactionEvent::new(stranger.id, kampala.channel, kampala.message, "🙏")
                .in_guild(other),
        )
        .expect("sent");
    bot.settle_reactions(&kampala).await;
    let (after, _) = bot.who(&id, bot.as_admin()).await;
    assert!(!after.contains(&mention(stranger.id)), "{after}");
    assert!(
        after.contains(&format!("Committed (1): {}", mention(w.member.id)))
            && after.contains("Prayed (2)"),
        "only the witness was added to {before}: {after}"
    );
    assert!(
        line_with(&bot.week_text().await, "Kampala").ends_with("— *1 committed · 2 prayed*"),
        "the first server's counts"
    );
    bot.fake.assert_no_spec_violations();
}

/// The autocomplete choices offered for the `request` option of `/prayer
/// who` as `partial` is typed: (name, value).
async fn offered(bot: &Bot, partial: &str) -> Vec<(String, String)> {
    let sent = bot
        .fake
        .send_autocomplete(
            CommandCall::new("prayer")
                .subcommand("who", vec![CommandOption::focused("request", 3, partial)]),
            bot.as_member(),
        )
        .expect("sent");
    let body = bot.callback(&sent).await;
    assert_eq!(body["type"], 8, "an autocomplete result: {body}");
    body["data"]["choices"]
        .as_array()
        .expect("choices")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_owned(),
                c["value"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn who_offers_a_request_by_any_word_of_it_or_its_region_and_refuses_what_is_none() {
    let (bot, sends) = post_example().await;
    let guatemala = posted(&sends, "Guatemala").request.to_string();
    let mateo = posted(&sends, "Mateo").request.to_string();
    for partial in ["guatemala", "Guatemála", "latin", "GUATE"] {
        let choices = offered(&bot, partial).await;
        let found = choices
            .iter()
            .find(|(_, value)| *value == guatemala)
            .unwrap_or_else(|| panic!("{partial}: {choices:?}"));
        assert!(
            found
                .0
                .starts_with("Latin America · Pray for the new prosecutors"),
            "{found:?}"
        );
        assert!(
            choices
                .iter()
                .all(|(name, _)| name.starts_with("Latin America")),
            "{partial}: {choices:?}"
        );
    }
    let latin = offered(&bot, "latin").await;
    assert!(latin.iter().any(|(_, value)| *value == mateo), "{latin:?}");

    // A long week of many long requests: at most 25 choices, each name
    // within 100 characters.
    let mut many = String::from("IJM Prayer Requests\n\nSoutheast Asia\n");
    for i in 0..40 {
        many.push_str(&format!(
            "• Pray for family {i} in Cebu, {}\n",
            "who wait for a hearing that keeps being put off by the court. ".repeat(4)
        ));
    }
    let options = vec![
        CommandOption::attachment("file", "many.txt", "text/plain", many.into_bytes()),
        CommandOption::string("week", this_week().next().to_string()),
    ];
    let (imported, _) = bot
        .answer(&bot.prayer("import", options, bot.as_admin()))
        .await;
    assert!(imported.starts_with("Imported"), "{imported}");
    for partial in ["", "cebu", "family"] {
        let choices = offered(&bot, partial).await;
        assert_eq!(choices.len(), 25, "{partial}: {choices:?}");
        for (name, value) in &choices {
            assert!(
                name.chars().count() <= 100,
                "{} long: {name}",
                name.chars().count()
            );
            assert!(!value.is_empty());
        }
    }

    // What names no single request is refused in words.
    let (refused, ephemeral) = bot.who("atlantis", bot.as_member()).await;
    assert!(ephemeral);
    assert_eq!(
        refused,
        "No request of this server matches “atlantis”. Pick one from the list as you type: it offers this week's and recent requests."
    );
    let (ambiguous, _) = bot.who("latin", bot.as_member()).await;
    assert!(
        ambiguous.starts_with("No request of this server matches “latin”")
            && ambiguous.contains("Did you mean:"),
        "{ambiguous}"
    );
    let (picked, _) = bot.who(&guatemala, bot.as_member()).await;
    assert!(
        picked.starts_with("**Latin America · Pray for the new prosecutors"),
        "{picked}"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn stats_shows_the_weeks_people_coverage_commitments_and_praises_with_a_bar_per_region() {
    let (bot, sends) = post_example().await;
    let mateo = posted(&sends, "Mateo");
    let guatemala = posted(&sends, "Guatemala");
    let kiln = posted(&sends, "brick kiln");
    for action in ["commit", "prayed"] {
        let sent = bot.press(
            &format!("prayer:{action}:{}", mateo.request),
            Some(mateo.message),
            bot.as_member(),
        );
        bot.press_answer(&sent).await;
    }
    let sent = bot.press(
        &format!("prayer:commit:{}", guatemala.request),
        Some(guatemala.message),
        bot.as_admin(),
    );
    bot.press_answer(&sent).await;
    bot.react(bot.world.member.id, &kiln, "🙏");
    bot.who_until(kiln.request, |t| t.contains("Prayed (1)"))
        .await;
    let (report, ephemeral) = bot
        .answer(&bot.praise("Rain at last.", None, bot.as_admin()))
        .await;
    assert!(!ephemeral && report.contains("Rain at last."), "{report}");

    let sent = bot.prayer("stats", vec![], bot.as_member());
    let body = bot.callback(&sent).await;
    assert_eq!(body["data"]["flags"].as_u64().map(|f| f & 64), Some(64));
    let embed = &body["data"]["embeds"][0];
    assert!(
        embed["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("Prayer week of")),
        "{embed}"
    );
    assert_eq!(
        embed["description"],
        "**2** people taking part\n**3 of 6** requests covered (50%) · 3 not yet\n**1 of 2** commitments kept\n**3** praises",
        "two members; Mateo, Guatemala and the kiln covered, of the four petitions and two praises that ask for prayer; the member's commitment kept; two praise items and a report"
    );
    let fields: Vec<(&str, &str)> = embed["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap_or_default(),
                f["value"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        fields.iter().map(|f| f.0).collect::<Vec<_>>(),
        [
            "Africa · 0 of 1 covered",
            "Latin America · 2 of 2 covered",
            "South Asia · 1 of 1 covered",
            "Southeast Asia · 0 of 1 covered",
            "IJM HQ & Global Partners · 0 of 1 covered"
        ],
        "a field per region with prayable requests"
    );
    assert!(fields[1].1.starts_with("`▰▰▰▰▰▰▰▰▰▰` 100%"), "{fields:?}");
    assert!(
        fields[4].1.starts_with("`▱▱▱▱▱▱▱▱▱▱` 0%")
            && fields[4]
                .1
                .contains("not yet: Please pray for our volunteers"),
        "{fields:?}"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn mine_lists_only_my_own_commitments_and_prayers_privately() {
    let (bot, sends) = post_example().await;
    let mateo = posted(&sends, "Mateo");
    let guatemala = posted(&sends, "Guatemala");
    let kiln = posted(&sends, "brick kiln");
    for (custom_id, on, who) in [
        (
            format!("prayer:commit:{}", mateo.request),
            mateo,
            bot.as_member(),
        ),
        (
            format!("prayer:prayed:{}", guatemala.request),
            guatemala,
            bot.as_member(),
        ),
        (
            format!("prayer:commit:{}", kiln.request),
            kiln,
            bot.as_admin(),
        ),
    ] {
        bot.press_answer(&bot.press(&custom_id, Some(on.message), who))
            .await;
    }
    let (mine, ephemeral) = bot
        .answer(&bot.prayer("mine", vec![], bot.as_member()))
        .await;
    assert!(ephemeral);
    assert!(mine.starts_with("**Your prayers, week of"), "{mine}");
    assert!(
        mine.contains(
            "\n🤝 committed, not yet marked prayed: Latin America · Please pray for Mateo"
        ) && mine.contains("\n✅ prayed: Latin America · Pray for the new prosecutors"),
        "{mine}"
    );
    assert!(
        !mine.contains("brick kiln"),
        "another member's commitment: {mine}"
    );
    assert_eq!(mine.lines().count(), 3, "{mine}");
    let (theirs, _) = bot
        .answer(&bot.prayer("mine", vec![], bot.as_admin()))
        .await;
    assert!(
        theirs.contains("brick kiln") && !theirs.contains("Mateo"),
        "{theirs}"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn praise_replies_to_the_requests_post_pinging_exactly_those_who_prayed_and_allowed_it() {
    let bot = start(&example()).await;
    let w = &bot.world;
    bot.setup_channel(&w.general, None).await;
    bot.setup_channel(&w.latin, Some("Latin America")).await;
    bot.post(bot.as_admin()).await;
    let mateo = posted(&bot.channel_sends(), "Mateo");
    assert_eq!(mateo.channel, w.latin.id, "routed to its region's channel");
    let (cy, dee) = (someone(&bot, "cy"), someone(&bot, "dee"));
    let id = mateo.request.to_string();
    for (action, who) in [
        ("commit", bot.as_member()),
        ("prayed", bot.invoker(&cy)),
        ("commit", bot.invoker(&dee)),
    ] {
        let sent = bot.press(&format!("prayer:{action}:{id}"), Some(mateo.message), who);
        bot.press_answer(&sent).await;
    }
    let notify_off = bot.prayer(
        "notify",
        vec![CommandOption::integer("setting", 1)],
        bot.invoker(&dee),
    );
    let (off, _) = bot.answer(&notify_off).await;
    assert!(off.contains("`/praise` will not mention you"), "{off}");
    bot.react(w.admin.id, &mateo, "🙏");
    bot.who_until(mateo.request, |t| t.contains("Prayed (2)"))
        .await;

    // The author (the admin, who also prayed) is not pinged; nor is dee.
    // Those told are named by what they did: one committed, one prayed.
    let before = bot.channel_sends().len();
    let (answer, ephemeral) = bot
        .answer(&bot.praise("The hearing went well!", Some(&id), bot.as_admin()))
        .await;
    assert!(ephemeral);
    assert_eq!(
        answer,
        format!(
            "Posted your praise in <#{}> and told the 2 members who committed or prayed.",
            w.latin.id
        )
    );
    let sends = bot.channel_sends();
    let praise = &sends[before..];
    assert_eq!(praise.len(), 1, "one message");
    let body = praise[0].body.as_ref().expect("a body");
    assert_eq!(sent_to(&praise[0]), w.latin.id);
    assert_eq!(
        body["message_reference"]["message_id"],
        mateo.message.to_string(),
        "{body}"
    );
    let mut told = vec![w.member.id, cy.id];
    told.sort_unstable();
    assert_eq!(ids(&body["allowed_mentions"]["users"]), told, "{body}");
    assert_eq!(body["allowed_mentions"]["parse"], serde_json::json!([]));
    assert!(
        body["allowed_mentions"]["roles"]
            .as_array()
            .is_none_or(Vec::is_empty)
    );
    let content = body["content"].as_str().unwrap_or_default();
    assert!(
        content.contains("The hearing went well!")
            && content.contains(&mention(w.member.id))
            && content.contains(&mention(cy.id))
            && !content.contains(&mention(dee.id)),
        "{content}"
    );

    // A second praise of the same request is refused and posts nothing.
    let (again, _) = bot
        .answer(&bot.praise("Praise God!", Some(&id), bot.as_member()))
        .await;
    assert!(
        again.starts_with(&format!(
            "This request was already marked answered by {} on <t:",
            mention(w.admin.id)
        )) && again.ends_with("Nothing was posted."),
        "{again}"
    );
    assert_eq!(bot.channel_sends().len(), sends.len());

    // A praise report without a request is the public answer, pinging no one.
    let (report, ephemeral) = bot
        .answer(&bot.praise("Rain at last.", None, bot.as_member()))
        .await; // `answer` checks its allowed_mentions
    assert!(!ephemeral);
    assert_eq!(
        report,
        format!(
            "🎉 **Praise report** from {}: Rain at last.",
            mention(w.member.id)
        )
    );
    assert_eq!(bot.channel_sends().len(), sends.len());

    let week = bot.week_text().await;
    let line = line_with(&week, "Mateo");
    assert!(
        line.starts_with("🎉") && line.ends_with("— *answered · 2 committed · 2 prayed*"),
        "{line}"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn praise_tells_130_members_over_several_messages_within_discords_limits() {
    let (bot, sends) = post_example().await;
    let mateo = posted(&sends, "Mateo");
    let members: Vec<u64> = (0..130).map(|_| bot.fake.next_id()).collect();
    for member in &members {
        bot.react(*member, &mateo, "🙏");
    }
    bot.who_until(mateo.request, |t| t.contains("Prayed (130)"))
        .await;
    let before = bot.channel_sends().len();
    let (answer, _) = bot
        .answer(&bot.praise(
            "Mateo testified with courage.",
            Some(&mateo.request.to_string()),
            bot.as_admin(),
        ))
        .await;
    assert!(
        answer.ends_with("and told the 130 members who prayed."),
        "{answer}"
    );
    let praise: Vec<RecordedRequest> = bot.channel_sends().split_off(before);
    assert!(praise.len() >= 2, "{} messages", praise.len());
    let mut told = Vec::new();
    for (i, send) in praise.iter().enumerate() {
        assert_eq!(send.status, 200, "{}", send.summary());
        let body = send.body.as_ref().expect("a body");
        let content = body["content"].as_str().unwrap_or_default();
        assert!(
            discord_len(content) <= 2000,
            "{} long",
            discord_len(content)
        );
        assert_eq!(body["allowed_mentions"]["parse"], serde_json::json!([]));
        let users = ids(&body["allowed_mentions"]["users"]);
        assert!(users.len() <= 100, "{} users in one message", users.len());
        for user in &users {
            assert_eq!(content.matches(&mention(*user)).count(), 1, "{content}");
        }
        assert_eq!(
            i == 0,
            body["message_reference"].is_object(),
            "only the first replies to the request"
        );
        told.extend(users);
    }
    told.sort_unstable();
    let mut expected = members.clone();
    expected.sort_unstable();
    assert_eq!(told, expected, "every member exactly once");
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn forget_me_erases_a_members_marks_after_confirmation_and_keeps_their_praise_nameless() {
    let (bot, sends) = post_example().await;
    let mateo = posted(&sends, "Mateo");
    let guatemala = posted(&sends, "Guatemala");
    let w = &bot.world;
    for (custom_id, on, who) in [
        (
            format!("prayer:commit:{}", mateo.request),
            mateo,
            bot.as_member(),
        ),
        (
            format!("prayer:commit:{}", guatemala.request),
            guatemala,
            bot.as_member(),
        ),
        (
            format!("prayer:prayed:{}", mateo.request),
            mateo,
            bot.as_admin(),
        ),
    ] {
        bot.press_answer(&bot.press(&custom_id, Some(on.message), who))
            .await;
    }
    bot.react(w.member.id, &mateo, "🙏");
    bot.who_until(mateo.request, |t| t.contains("Prayed (2)"))
        .await;
    let (praised, _) = bot
        .answer(&bot.praise(
            "The prosecutors finished their training.",
            Some(&guatemala.request.to_string()),
            bot.as_member(),
        ))
        .await;
    assert!(praised.starts_with("Posted your praise"), "{praised}");

    let asked = bot.prayer("forget-me", vec![], bot.as_member());
    let body = bot.callback(&asked).await;
    assert_eq!(body["data"]["flags"].as_u64().map(|f| f & 64), Some(64));
    assert!(
        body["data"]["content"]
            .as_str()
            .is_some_and(|t| t.contains("Press **Forget me**")),
        "{body}"
    );
    let button = &body["data"]["components"][0]["components"][0];
    assert_eq!(button["custom_id"], "prayer:forget-me", "{body}");
    // Nothing is erased before the press.
    let (who, _) = bot.who(&mateo.request.to_string(), bot.as_admin()).await;
    assert!(who.contains(&mention(w.member.id)), "{who}");

    let confirmation: u64 = bot
        .fake
        .interaction_response(&asked)
        .and_then(|m| m["id"].as_str().and_then(|id| id.parse().ok()))
        .expect("the confirmation message");
    let pressed = bot.press("prayer:forget-me", Some(confirmation), bot.as_member());
    let answer = bot.callback(&pressed).await;
    assert_eq!(answer["type"], 7, "UPDATE_MESSAGE: {answer}");
    let content = answer["data"]["content"].as_str().unwrap_or_default();
    assert!(
        content.starts_with(
            "Done. In this server I erased 3 records of commitments and prayers. 1 praise you wrote stays posted, without your name."
        ),
        "{content}"
    );
    assert_eq!(answer["data"]["components"], serde_json::json!([]));

    let (who, _) = bot.who(&mateo.request.to_string(), bot.as_admin()).await;
    assert!(
        !who.contains(&mention(w.member.id))
            && who.ends_with(&format!("\nPrayed (1): {}", mention(w.admin.id))),
        "the member's commitment and reaction are gone, the admin's prayer stays: {who}"
    );
    let (who, _) = bot
        .who(&guatemala.request.to_string(), bot.as_admin())
        .await;
    assert!(who.contains("No one has committed"), "{who}");
    let (again, _) = bot
        .answer(&bot.praise(
            "Praise God!",
            Some(&guatemala.request.to_string()),
            bot.as_admin(),
        ))
        .await;
    assert!(
        again.starts_with("This request was already marked answered by a member on <t:"),
        "the praise stays, without its author: {again}"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn a_pray_reaction_removed_right_after_it_was_added_leaves_nothing_recorded() {
    let (bot, sends) = post_example().await;
    let mateo = posted(&sends, "Mateo");
    let witness = posted(&sends, "Guatemala");
    for _ in 0..100 {
        let user = bot.fake.next_id();
        bot.react(user, &mateo, "🙏");
        bot.unreact(user, &mateo, "🙏");
    }
    bot.settle_reactions(&witness).await;
    // Serenity hands each event to a task of its own, so a removal can
    // overtake its add; the bot then asks Discord which stands (a moment
    // later), and `/prayer who` comes round to it.
    let who = bot
        .who_until(mateo.request, |t| t.contains("No one has committed"))
        .await;
    assert!(who.contains("No one has committed"), "{who}");
    // And it stays so: nothing asked later brings a reaction back.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (who, _) = bot.who(&mateo.request.to_string(), bot.as_admin()).await;
    assert!(
        who.contains("No one has committed"),
        "removed reactions count again: {}",
        who.lines().nth(1).unwrap_or_default()
    );
    bot.fake.assert_no_spec_violations();
}

// ---- rate limits: the bot paces itself inside Discord's limits (issue 9, item 7) ----

/// A bulletin of ten petitions in one region: eleven messages (a header and
/// ten requests) and ten 🙏 reactions, all in the default channel.
fn ten_petitions() -> String {
    let mut text = String::from("IJM Prayer Requests\n\nAfrica\n\n");
    for n in 1..=10 {
        text.push_str(&format!(
            "  • Pray for the hearing in court room {n} this week.\n\n"
        ));
    }
    text
}

/// The requests the messenger sends: messages and their 🙏 reactions.
fn messenger_requests(bot: &Bot) -> Vec<RecordedRequest> {
    bot.fake
        .requests()
        .into_iter()
        .filter(|r| {
            r.is("POST", "/channels/*/messages$")
                || r.is("PUT", "/channels/*/messages/*/reactions/*/@me$")
        })
        .collect()
}

#[tokio::test]
async fn a_post_into_one_channel_stays_inside_discords_limits_without_a_single_429() {
    // Discord's limits five times faster: five messages per second per
    // channel, a reaction per 50 ms, 250 requests per second in all.
    let limits = fake_discord::RateLimits::discord().scaled(5.0);
    let dir = tempfile::tempdir().expect("a directory");
    let bulletin = write_bulletin(dir.path(), "bulletin.txt", &ten_petitions());
    let bot = start_with_rate_limits(&bulletin, Some(limits.clone()), &[]).await;
    bot.setup_channel(&bot.world.general, None).await;

    let started = std::time::Instant::now();
    let answer = bot.post(bot.as_admin()).await;
    let took = started.elapsed();
    assert!(
        answer.starts_with(&format!("Posted the week of {}: 11 messages", this_week())),
        "{answer}"
    );
    let stats = bot.fake.rate_limit_stats();
    assert_eq!(stats.limited(), 0, "no request was refused: {stats:?}");
    assert_eq!(delivered(&bot).len(), 11, "each message posted once");
    let sent = messenger_requests(&bot);
    assert_eq!(sent.len(), 21, "11 messages and 10 reactions, none twice");
    assert!(sent.iter().all(|r| r.status == 200 || r.status == 204));

    // Eleven messages in one channel need at least two full windows.
    let bound = limits.lower_bound(sent.iter().map(|r| (r.method.as_str(), r.path.as_str(), 1)));
    assert_eq!(bound, Duration::from_secs(2));
    let (first, last) = (&sent[0], &sent[sent.len() - 1]);
    let span = last.received_at - first.received_at;
    eprintln!("the post took {took:?}; its requests spanned {span:?} (at least {bound:?})");
    assert!(span >= bound, "{span:?} < {bound:?}");
    bot.fake.assert_no_spec_violations();
}

/// A second server with a channel and a member.
fn add_server(bot: &Bot) -> (FakeChannel, Invoker) {
    let guild = bot.fake.next_id();
    let member = FakeUser::new(bot.fake.next_id(), "cy");
    let channel = FakeChannel::text(bot.fake.next_id(), "prayer");
    bot.fake.add_guild(
        FakeGuild::new(guild, "Second Group", bot.fake.owner().id)
            .with_channel(channel.clone())
            .with_member(FakeMember::new(member.clone())),
    );
    let invoker = Invoker::in_guild(member, guild, channel.id);
    (channel, invoker)
}

#[tokio::test]
async fn a_global_429_holds_every_send_of_every_server_for_its_retry_after_then_all_complete() {
    let bot = start(&example()).await;
    let w = &bot.world;
    let (other, someone_there) = add_server(&bot);
    bot.setup_channel(&w.general, None).await;

    // The post's first 🙏 meets the global limit.
    let retry_after = Duration::from_secs(1);
    bot.fake.script(
        fake_discord::ScriptedResponse::new(
            "PUT",
            "/channels/*/messages/*/reactions/*/@me$",
            429,
            serde_json::json!({
                "message": "You are being rate limited.",
                "retry_after": retry_after.as_secs_f64(),
                "global": true,
            }),
        )
        .header("retry-after", "1")
        .header("x-ratelimit-global", "true")
        .header("x-ratelimit-scope", "global"),
    );
    let post = bot.prayer("post", vec![], bot.as_admin());
    let limited = bot
        .fake
        .wait_for_request(|r| r.status == 429, WAIT)
        .await
        .expect("the global 429");
    // While every route waits, someone in another server praises the
    // request whose 🙏 was refused: a message on another route, in another
    // channel, which only the global limit holds back.
    // The first 🙏 goes under the first prayable item: the praise for
    // Kenya, which also asks for prayer.
    let kenya = posted(&bot.channel_sends(), "magistrate in Kenya");
    assert!(limited.path.contains(&kenya.message.to_string()));
    let praise = bot.praise(
        "The hearing went well",
        Some(&kenya.request.to_string()),
        someone_there,
    );
    let (praised, _) = bot.answer(&praise).await;
    assert_eq!(praised, format!("Posted your praise in <#{}>.", other.id));
    let (posted_all, _) = bot.answer(&post).await;
    assert!(
        posted_all.starts_with(&format!("Posted the week of {}: 7 messages", this_week())),
        "{posted_all}"
    );

    let after: Vec<RecordedRequest> = messenger_requests(&bot)
        .into_iter()
        .filter(|r| r.received_at > limited.at)
        .collect();
    assert_eq!(
        after
            .iter()
            .filter(|r| r.path.contains(&other.id.to_string()))
            .count(),
        1,
        "the praise, sent after the 429"
    );
    for request in &after {
        assert!(
            request.received_at - limited.at >= retry_after,
            "{} {} came {:?} after the global 429",
            request.method,
            request.path,
            request.received_at - limited.at
        );
    }
    assert!(after.iter().all(|r| r.status == 200 || r.status == 204));
    assert_eq!(
        delivered(&bot).len(),
        8,
        "the post's 7 and the praise, each once"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn a_praise_that_asks_for_prayer_is_prayable_everywhere_and_pure_thanks_nowhere() {
    let (bot, sends, _dir) = post_bulletin(
        "IJM Prayer Requests\n\nAfrica\n• Praise God for a verdict in Kenya. Please pray with us that the police enforce it.\n\nAsia\n• Praise God for rain in Nepal.\n• Pray for the farmers of India.\n",
    )
    .await;
    // The praise that asks has the buttons (`posted` finds them) and a 🙏.
    let kenya = posted(&sends, "verdict in Kenya");
    let reactions = bot
        .fake
        .requests_matching("PUT", "/channels/*/messages/*/reactions/🙏/@me$");
    assert!(
        reactions
            .iter()
            .any(|r| r.path.contains(&kenya.message.to_string()))
    );
    assert_eq!(reactions.len(), 2, "Kenya and India, not Nepal");
    let nepal = sends
        .iter()
        .find(|r| r.body_contains("rain in Nepal"))
        .expect("the thanks is posted");
    assert!(
        nepal.body_contains("🎉 Praise")
            && nepal
                .body
                .as_ref()
                .and_then(|b| b.get("components"))
                .is_none_or(|c| c.as_array().is_none_or(Vec::is_empty)),
        "pure thanks has no buttons"
    );

    // Autocomplete offers the praise that asks, not the pure thanks.
    let kenya_id = kenya.request.to_string();
    let offered_now: Vec<String> = offered(&bot, "praise")
        .await
        .into_iter()
        .map(|(_, value)| value)
        .collect();
    assert_eq!(offered_now, std::slice::from_ref(&kenya_id));

    // `who` on the praise that asks invites presses; stats counts it.
    let (who, _) = bot.who(&kenya_id, bot.as_member()).await;
    assert!(who.contains("Press **I'll pray**"), "{who}");
    let sent = bot.prayer("stats", vec![], bot.as_member());
    let body = bot.callback(&sent).await;
    let description = body["data"]["embeds"][0]["description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        description.contains("**0 of 2** requests covered"),
        "{description}"
    );
    // `/praise` takes the praise that asks, and tells no one (no one prayed).
    let (praised, _) = bot
        .answer(&bot.praise("The police did!", Some(&kenya_id), bot.as_admin()))
        .await;
    assert!(praised.starts_with("Posted your praise"), "{praised}");
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn importing_the_shared_bulletin_again_in_a_server_adds_nothing_and_names_its_week() {
    // `start` imported the example for every server, for this week.
    let bot = start(&example()).await;
    let bytes = std::fs::read(example()).expect("the example");
    let import = |week: Option<String>| {
        let mut options = vec![CommandOption::attachment(
            "file",
            "week-1.txt",
            "text/plain",
            bytes.clone(),
        )];
        options.extend(week.map(|w| CommandOption::string("week", w)));
        bot.prayer("import", options, bot.as_admin())
    };
    let (again, _) = bot.answer(&import(None)).await;
    assert!(
        again.contains(&format!(
            "This bulletin is already imported, for the week of {}. Nothing was added;",
            this_week()
        )),
        "{again}"
    );
    let next = this_week().next();
    let (elsewhere, _) = bot.answer(&import(Some(next.to_string()))).await;
    assert!(
        elsewhere.contains(&format!(
            "already imported for every server, for the week of {}, so it was not stored for the week of {next} too"
        , this_week())) && elsewhere.contains("Nothing changed."),
        "{elsewhere}"
    );
    let (week, _) = bot
        .answer(&bot.prayer(
            "week",
            vec![CommandOption::string("week", next.to_string())],
            bot.as_member(),
        ))
        .await;
    assert!(
        week.contains("There is no bulletin for the week of"),
        "{week}"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn a_praise_report_counts_in_the_week_stats_shows_when_this_week_has_no_bulletin() {
    let bot = start(&example()).await;
    // The example moves to next week (not yet posted), so this week has
    // none and `/prayer stats` shows next week.
    let next = this_week().next().to_string();
    let moved = std::process::Command::new(env!("CARGO_BIN_EXE_prayer-bot"))
        .arg("import")
        .arg(example())
        .args(["--week", &next, "--database"])
        .arg(common::location(&bot._dir.path().join("prayer-bot.db")))
        .output()
        .expect("the import runs");
    assert!(
        String::from_utf8_lossy(&moved.stdout).contains("moved"),
        "{}",
        String::from_utf8_lossy(&moved.stderr)
    );
    let (report, _) = bot
        .answer(&bot.praise("Rain at last.", None, bot.as_member()))
        .await;
    assert!(report.contains("Rain at last."), "{report}");
    let sent = bot.prayer("stats", vec![], bot.as_member());
    let body = bot.callback(&sent).await;
    let description = body["data"]["embeds"][0]["description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        description.ends_with("**3** praises"),
        "two praise items and the report: {description}"
    );
    bot.fake.assert_no_spec_violations();
}

/// `/prayer request add` with `options`, sent by `who`.
fn request_add(bot: &Bot, options: Vec<CommandOption>, who: Invoker) -> SentInteraction {
    let call = CommandCall::new("prayer").option(CommandOption::group(
        "request",
        CommandOption::subcommand("add", options),
    ));
    bot.fake
        .send_command(call, who)
        .expect("the interaction is sent")
}

/// `/prayer request withdraw request:<id>`, sent by `who`.
fn request_withdraw(bot: &Bot, request: i64, who: Invoker) -> SentInteraction {
    let call = CommandCall::new("prayer").option(CommandOption::group(
        "request",
        CommandOption::subcommand(
            "withdraw",
            vec![CommandOption::string("request", request.to_string())],
        ),
    ));
    bot.fake
        .send_command(call, who)
        .expect("the interaction is sent")
}

#[tokio::test]
async fn a_members_request_is_posted_at_once_and_counted_like_a_bulletin_request() {
    let (bot, _) = post_example().await;
    let before = bot.channel_sends().len();
    // Bad input is answered in words and posts or stores nothing.
    let refusals = [
        (
            "a".repeat(5000),
            "at most 1000 characters; this one is 5000",
        ),
        (
            "Pray for us all @everyone".to_owned(),
            "cannot mention @everyone",
        ),
    ];
    for (text, needle) in refusals {
        let sent = request_add(
            &bot,
            vec![CommandOption::string("text", text)],
            bot.as_member(),
        );
        let (said, private) = bot.answer(&sent).await;
        assert!(private, "only the asker sees a refusal");
        assert!(
            said.contains(needle) && said.ends_with("Nothing was added."),
            "{said}"
        );
    }
    let region = request_add(
        &bot,
        vec![
            CommandOption::string("text", "Pray for rain."),
            CommandOption::string("region", "Atlantis"),
        ],
        bot.as_member(),
    );
    let (said, _) = bot.answer(&region).await;
    assert!(said.contains("“Atlantis” is not a region"), "{said}");
    assert_eq!(bot.channel_sends().len(), before, "nothing was posted");

    let sent = request_add(
        &bot,
        vec![CommandOption::string(
            "text",
            "Pray for my mother's surgery on Friday.",
        )],
        bot.as_member(),
    );
    let (said, private) = bot.answer(&sent).await;
    assert!(private, "{said}");
    assert!(
        said.starts_with("Your request is posted under **Our group**"),
        "{said}"
    );
    let sends = bot.channel_sends();
    assert_eq!(sends.len(), before + 1, "one message, posted at once");
    let surgery = posted(&sends, "surgery on Friday");
    let body = sends
        .last()
        .and_then(|s| s.body.clone())
        .unwrap_or_default();
    assert_no_pings(&body);
    let member = mention(bot.world.member.id);
    let content = body["content"].as_str().unwrap_or_default();
    assert!(
        content.contains("**Our group**") && content.ends_with(&format!("— asked by {member}")),
        "{content}"
    );
    let reacted = bot.fake.requests_matching(
        "PUT",
        &format!("/channels/*/messages/{}/reactions/🙏/@me$", surgery.message),
    );
    assert_eq!(reacted.len(), 1, "the bot's 🙏 is under it");

    // Counted exactly like a bulletin request: a press, who, stats, week.
    let press = bot.press(
        &format!("prayer:commit:{}", surgery.request),
        Some(surgery.message),
        bot.as_admin(),
    );
    let answer = bot.press_answer(&press).await;
    let text = answer["data"]["content"].as_str().unwrap_or_default();
    assert!(
        text.starts_with("Recorded: you'll pray for *Our group"),
        "{text}"
    );
    let (who, _) = bot.who(&surgery.request.to_string(), bot.as_member()).await;
    assert!(
        who.ends_with(&format!("Committed (1): {}", mention(bot.world.admin.id))),
        "{who}"
    );
    let week = bot.prayer("week", vec![], bot.as_member());
    let (week, _) = bot.answer(&week).await;
    assert!(
        week.contains("**Our group**") && week.contains("surgery on Friday"),
        "{week}"
    );
    let stats = bot.prayer("stats", vec![], bot.as_member());
    let stats = bot.callback(&stats).await;
    let fields = stats["data"]["embeds"][0]["fields"].to_string();
    assert!(fields.contains("Our group · 1 of 1 covered"), "{fields}");

    // An admin's correction keeps the line naming who asked.
    let corrected = bot.prayer(
        "correct",
        vec![
            CommandOption::string("request", surgery.request.to_string()),
            CommandOption::string("text", "Pray for my mother's surgery on Saturday."),
        ],
        bot.as_admin(),
    );
    bot.answer(&corrected).await;
    let edited = bot.fake.message(surgery.message).expect("the post");
    let content = edited["content"].as_str().unwrap_or_default();
    assert!(
        content.contains("surgery on Saturday")
            && content.ends_with(&format!("— asked by {member}")),
        "{edited}"
    );
    // Only its author or an admin withdraws it; the post then says so.
    let other = someone(&bot, "other");
    let refused = request_withdraw(&bot, surgery.request, bot.invoker(&other));
    let (refused, _) = bot.answer(&refused).await;
    assert!(
        refused.starts_with("Only the member who asked"),
        "{refused}"
    );
    let done = request_withdraw(&bot, surgery.request, bot.as_member());
    let (done, _) = bot.answer(&done).await;
    assert!(done.starts_with("Withdrawn"), "{done}");
    let edited = bot.fake.message(surgery.message).expect("the post");
    assert_eq!(
        edited["content"], "*This request was withdrawn by the member who asked.*",
        "{edited}"
    );
    assert!(
        edited["components"].as_array().is_none_or(Vec::is_empty),
        "{edited}"
    );
    let week = bot.prayer("week", vec![], bot.as_member());
    let (week, _) = bot.answer(&week).await;
    assert!(!week.contains("surgery on Friday"), "{week}");
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn an_anonymous_request_names_no_one_anywhere_and_its_author_can_still_withdraw_it() {
    let (bot, _) = post_example().await;
    let sent = request_add(
        &bot,
        vec![
            CommandOption::string("text", "Pray for a hard conversation with my son."),
            CommandOption::boolean("anonymous", true),
            CommandOption::string("region", "latin america"),
        ],
        bot.as_member(),
    );
    let (said, _) = bot.answer(&sent).await;
    assert!(
        said.contains("**Latin America**") && said.contains("No one is shown"),
        "{said}"
    );
    let sends = bot.channel_sends();
    let son = posted(&sends, "conversation with my son");
    let body = sends
        .last()
        .and_then(|s| s.body.clone())
        .unwrap_or_default();
    let member = bot.world.member.id.to_string();
    assert!(
        !body.to_string().contains(&member),
        "the author is nowhere in the post: {body}"
    );
    assert!(
        body["content"]
            .as_str()
            .is_some_and(|c| c.ends_with("— asked by a member of the group")),
        "{body}"
    );
    let (who, _) = bot.who(&son.request.to_string(), bot.as_admin()).await;
    assert!(!who.contains(&member), "{who}");
    // A second and third are taken; the fourth in a week is refused.
    for n in 2..=3 {
        let sent = request_add(
            &bot,
            vec![CommandOption::string(
                "text",
                format!("Request number {n}."),
            )],
            bot.as_member(),
        );
        let (said, _) = bot.answer(&sent).await;
        assert!(said.starts_with("Your request is posted"), "{said}");
    }
    let fourth = request_add(
        &bot,
        vec![CommandOption::string("text", "One more.")],
        bot.as_member(),
    );
    let (said, _) = bot.answer(&fourth).await;
    assert!(
        said.contains("You have added 3 requests this week"),
        "{said}"
    );
    let done = request_withdraw(&bot, son.request, bot.as_member());
    let (done, _) = bot.answer(&done).await;
    assert!(done.starts_with("Withdrawn"), "{done}");
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn setup_takes_a_nudge_weekday_or_off_and_refuses_anything_else_in_words() {
    let bot = start(&example()).await;
    bot.setup_channel(&bot.world.general, None).await;
    for bad in ["Someday", "Thursdays", "8"] {
        let sent = bot.prayer(
            "setup",
            vec![CommandOption::string("nudge", bad)],
            bot.as_admin(),
        );
        let (said, _) = bot.answer(&sent).await;
        assert!(
            said.contains("`nudge` takes a weekday") && said.ends_with("Nothing was changed."),
            "{said}"
        );
    }
    let member = bot.prayer(
        "setup",
        vec![CommandOption::string("nudge", "Thursday")],
        bot.as_member(),
    );
    let (refused, _) = bot.answer(&member).await;
    assert!(refused.contains("Manage Server"), "{refused}");
    let set = bot.prayer(
        "setup",
        vec![CommandOption::string("nudge", "thursday")],
        bot.as_admin(),
    );
    let (said, _) = bot.answer(&set).await;
    assert!(said.contains("Each Thursday, at the post time"), "{said}");
    let off = bot.prayer(
        "setup",
        vec![CommandOption::string("nudge", "off")],
        bot.as_admin(),
    );
    let (said, _) = bot.answer(&off).await;
    assert!(said.contains("Mid-week reminders are off."), "{said}");
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn the_weeks_header_opens_a_thread_where_the_bot_may_and_setup_names_the_permission_where_not()
 {
    let bot = start(&example()).await;
    bot.setup_channel(&bot.world.general, None).await;
    let refused = bot.prayer(
        "setup",
        vec![CommandOption::boolean("threads", true)],
        bot.as_admin(),
    );
    let (refused, _) = bot.answer(&refused).await;
    assert!(
        refused.contains("**Create Public Threads**")
            && refused.contains(&format!("<#{}>", bot.world.general.id))
            && refused.ends_with("Nothing was changed."),
        "{refused}"
    );
    let latin = &bot.world.latin;
    let set = bot.prayer(
        "setup",
        vec![
            CommandOption::channel("channel", latin),
            CommandOption::boolean("threads", true),
        ],
        bot.as_admin(),
    );
    let (said, _) = bot.answer(&set).await;
    assert!(said.contains("opens a thread"), "{said}");
    let posted = bot.post(bot.as_admin()).await;
    assert!(posted.starts_with("Posted the week of"), "{posted}");
    let sends = bot.channel_sends();
    let header = sent_id(&sends[0]);
    assert_eq!(sent_to(&sends[0]), latin.id);
    let thread = bot.fake.thread_on(header).expect("a thread on the header");
    let name = thread["name"].as_str().unwrap_or_default();
    assert!(name.starts_with("Prayer week of"), "{thread}");
    let opened = bot
        .fake
        .requests_matching("POST", "/channels/*/messages/*/threads$");
    assert_eq!(opened.len(), 1, "one thread a week");
    // The requests stay in the channel, where their buttons are.
    assert!(sends[1..].iter().all(|s| sent_to(s) == latin.id));
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn setup_takes_a_notices_channel_only_where_the_bot_may_post() {
    let bot = start(&example()).await;
    bot.setup_channel(&bot.world.general, None).await;
    let refused = bot.prayer(
        "setup",
        vec![CommandOption::channel("notices", &bot.world.locked)],
        bot.as_admin(),
    );
    let (refused, _) = bot.answer(&refused).await;
    assert!(
        refused.contains("I am missing") && refused.ends_with("Nothing was changed."),
        "{refused}"
    );
    let set = bot.prayer(
        "setup",
        vec![CommandOption::channel("notices", &bot.world.latin)],
        bot.as_admin(),
    );
    let (said, _) = bot.answer(&set).await;
    assert!(
        said.contains(&format!("in <#{}>", bot.world.latin.id)),
        "{said}"
    );
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn behind_a_proxy_a_held_request_times_out_and_a_proxy_429_is_waited_out_posting_each_message_once()
 {
    let bot = start_with_rate_limits(&example(), None, &[("DISCORD_HTTP_TIMEOUT", "1")]).await;
    bot.setup_channel(&bot.world.general, None).await;
    // The proxy holds the first message past the bot's timeout (and then
    // delivers it), and answers the next with a 429 of its own.
    bot.fake.script(fake_discord::ScriptedResponse::slow(
        "POST",
        "/channels/*/messages$",
        Duration::from_secs(3),
    ));
    let mut proxy_429 = fake_discord::ScriptedResponse::new(
        "POST",
        "/channels/*/messages$",
        429,
        serde_json::json!({"message": "You are being rate limited.", "retry_after": 0.3, "global": false}),
    );
    proxy_429.headers = vec![("generated-by-proxy".to_owned(), "true".to_owned())];
    bot.fake.script(proxy_429);
    let answer = bot.post(bot.as_admin()).await;
    assert!(
        answer.starts_with(&format!("Posted the week of {}: 7 messages", this_week())),
        "{answer}"
    );
    // Once the held request has gone through too, the channel still shows
    // each message once: the retry carried the same nonce.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut nonces: Vec<String> = bot
        .fake
        .messages_in(bot.world.general.id)
        .iter()
        .filter_map(|m| m["nonce"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(nonces.len(), 7, "{nonces:?}");
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 7, "each message once");
    bot.fake.assert_no_spec_violations();
}
