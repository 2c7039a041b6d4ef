//! The fake's REST answers, read back through serenity 0.12.5's own `Http` (so serenity must
//! deserialize every one), plus scripted failures, permission refusals and uploads. Every test
//! also checks that the fake's answers match the spec's response schemas.

use std::time::Duration;

use fake_discord::{
    FakeChannel, FakeDiscord, FakeGuild, FakeMember, FakeRole, FakeUser, Options, Overwrite,
    ScriptedResponse, permissions,
};
use serde_json::json;
use serenity::all::{
    ApplicationId, ChannelId, CreateAttachment, GuildId, Http, HttpBuilder, InteractionId,
    MessageId, ReactionType, UserId,
};

const WAIT: Duration = Duration::from_secs(10);

fn http(fake: &FakeDiscord) -> Http {
    HttpBuilder::new("fake-bot-token")
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .build()
}

fn status_and_code(err: serenity::Error) -> (u16, isize) {
    match err {
        serenity::Error::Http(serenity::all::HttpError::UnsuccessfulRequest(resp)) => {
            (resp.status_code.as_u16(), resp.error.code)
        }
        other => panic!("not an HTTP error: {other:?}"),
    }
}

fn assert_clean(fake: &FakeDiscord) {
    fake.assert_no_spec_violations();
    assert!(
        fake.answer_violations().is_empty(),
        "the fake answered in shapes the spec does not allow: {:#?}",
        fake.answer_violations()
    );
}

struct World {
    guild: u64,
    open: u64,
    read_only: u64,
    member: FakeUser,
}

fn world(fake: &FakeDiscord) -> World {
    let guild = fake.next_id();
    let open = fake.next_id();
    let read_only = fake.next_id();
    let helper_role = fake.next_id();
    let member = FakeUser::new(fake.next_id(), "carol");
    fake.add_guild(
        FakeGuild::new(guild, "Parish", member.id)
            .with_role(FakeRole::new(
                helper_role,
                "helpers",
                permissions::MANAGE_MESSAGES,
            ))
            .with_channel(FakeChannel::text(open, "general"))
            .with_channel(
                FakeChannel::text(read_only, "announcements").with_overwrite(Overwrite::role(
                    guild,
                    0,
                    permissions::SEND_MESSAGES | permissions::ADD_REACTIONS,
                )),
            )
            .with_member(FakeMember::new(member.clone()).with_roles([helper_role])),
    );
    World {
        guild,
        open,
        read_only,
        member,
    }
}

#[tokio::test]
async fn identity_and_guild_lookups_deserialize_in_serenity() {
    let fake = FakeDiscord::start().await;
    let w = world(&fake);
    let http = http(&fake);

    let gateway = http.get_gateway().await.expect("gateway");
    assert_eq!(gateway.url, fake.gateway_url());
    assert!(!gateway.url.contains('?'));
    let me = http.get_current_user().await.expect("current user");
    assert_eq!(me.id.get(), fake.bot_user_id());
    assert!(me.bot);
    let app = http.get_current_application_info().await.expect("app info");
    assert_eq!(app.id.get(), fake.application_id());
    assert_eq!(app.owner.expect("owner").id.get(), fake.owner().id);

    let guild = http.get_guild(GuildId::new(w.guild)).await.expect("guild");
    assert_eq!(guild.name, "Parish");
    assert_eq!(guild.roles.len(), 2);
    let channels = http
        .get_channels(GuildId::new(w.guild))
        .await
        .expect("channels");
    assert_eq!(channels.len(), 2);
    let channel = http
        .get_channel(ChannelId::new(w.read_only))
        .await
        .expect("channel")
        .guild()
        .expect("a guild channel");
    assert_eq!(channel.permission_overwrites.len(), 1);
    let roles = http
        .get_guild_roles(GuildId::new(w.guild))
        .await
        .expect("roles");
    assert_eq!(roles.len(), 2);
    let member = http
        .get_member(GuildId::new(w.guild), UserId::new(w.member.id))
        .await
        .expect("member");
    assert_eq!(member.roles.len(), 1);
    let bot_member = http
        .get_member(GuildId::new(w.guild), UserId::new(fake.bot_user_id()))
        .await
        .expect("the bot is a member");
    assert!(bot_member.user.bot);
    let members = http
        .get_guild_members(GuildId::new(w.guild), Some(10), None)
        .await
        .expect("members");
    assert_eq!(members.len(), 2);
    let user = http.get_user(UserId::new(w.member.id)).await.expect("user");
    assert_eq!(user.name, "carol");
    let dm = http
        .create_private_channel(&json!({"recipient_id": w.member.id.to_string()}))
        .await
        .expect("dm channel");
    assert_eq!(dm.recipient.id.get(), w.member.id);

    let err = http
        .get_channel(ChannelId::new(fake.next_id()))
        .await
        .expect_err("unknown channel");
    assert_eq!(status_and_code(err), (404, 10003));
    assert_clean(&fake);
}

#[tokio::test]
async fn messages_edits_uploads_and_listing() {
    let fake = FakeDiscord::start().await;
    let w = world(&fake);
    let http = http(&fake);
    let channel = ChannelId::new(w.open);

    let first = http
        .send_message(
            channel,
            vec![],
            &json!({
                "content": "first",
                "embeds": [{"title": "Prayer list", "description": "week 1"}],
                "components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "Amen", "custom_id": "amen"}]}],
                "allowed_mentions": {"parse": []},
            }),
        )
        .await
        .expect("sent");
    assert_eq!(first.content, "first");
    assert_eq!(first.embeds.len(), 1);
    assert_eq!(first.components.len(), 1);
    assert_eq!(first.author.id.get(), fake.bot_user_id());
    assert_eq!(first.guild_id.map(|g| g.get()), Some(w.guild));

    let upload = http
        .send_message(
            channel,
            vec![CreateAttachment::bytes(b"hello".to_vec(), "list.txt")],
            &json!({"content": "with a file"}),
        )
        .await
        .expect("uploaded");
    assert_eq!(upload.attachments.len(), 1);
    assert_eq!(upload.attachments[0].filename, "list.txt");
    let req = fake
        .wait_for("POST", &format!("/channels/{}/messages$", w.open), WAIT)
        .await
        .expect("recorded");
    assert!(req.body_contains("first"));
    let multipart = &fake.requests_matching("POST", "/channels/*/messages")[1];
    assert_eq!(multipart.body_str("/content"), Some("with a file"));
    assert_eq!(multipart.files.len(), 1);
    assert_eq!(multipart.files[0].data, b"hello");

    let edited = http
        .edit_message(
            channel,
            first.id,
            &json!({"content": "first, edited"}),
            vec![],
        )
        .await
        .expect("edited");
    assert_eq!(edited.content, "first, edited");
    assert!(edited.edited_timestamp.is_some());

    let listed = http
        .get_messages(channel, None, Some(10))
        .await
        .expect("listed");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].id, upload.id, "newest first");
    let got = http.get_message(channel, first.id).await.expect("got");
    assert_eq!(got.content, "first, edited");
    http.delete_message(channel, upload.id, None)
        .await
        .expect("deleted");
    assert_eq!(fake.messages_in(w.open).len(), 1);
    http.broadcast_typing(channel).await.expect("typing");
    assert_clean(&fake);
}

#[tokio::test]
async fn reactions_and_reaction_lists() {
    let fake = FakeDiscord::start().await;
    let w = world(&fake);
    let http = http(&fake);
    let channel = ChannelId::new(w.open);
    let msg = http
        .send_message(channel, vec![], &json!({"content": "pray"}))
        .await
        .expect("sent");
    let pray = ReactionType::Unicode("🙏".to_owned());
    http.create_reaction(channel, msg.id, &pray)
        .await
        .expect("reacted");
    assert_eq!(fake.reactions(msg.id.get(), "🙏"), vec![fake.bot_user_id()]);

    let users: Vec<FakeUser> = (0..30)
        .map(|i| FakeUser::new(fake.next_id(), format!("u{i}")))
        .collect();
    fake.set_reactions(msg.id.get(), "🙏", &users);
    let page1 = http
        .get_reaction_users(channel, msg.id, &pray, 25, None)
        .await
        .expect("page 1");
    assert_eq!(page1.len(), 25);
    let page2 = http
        .get_reaction_users(channel, msg.id, &pray, 25, Some(page1[24].id.get()))
        .await
        .expect("page 2");
    assert_eq!(page2.len(), 5);
    assert_eq!(page2[4].id.get(), users[29].id);

    let again = http.get_message(channel, msg.id).await.expect("message");
    assert_eq!(again.reactions.len(), 1);
    assert_eq!(again.reactions[0].count, 30);

    // A moderator deletes it: reading it answers 404 Unknown Message.
    assert!(fake.delete_message(msg.id.get()));
    assert!(!fake.delete_message(msg.id.get()), "already gone");
    let err = http
        .get_message(channel, msg.id)
        .await
        .expect_err("deleted");
    assert_eq!(status_and_code(err), (404, 10008));
    assert_eq!(fake.reactions(msg.id.get(), "🙏"), Vec::<u64>::new());

    // Someone else's message the fake never saw: reacting still works.
    http.create_reaction(channel, MessageId::new(fake.next_id()), &pray)
        .await
        .expect("reacted to an unknown message");
    assert_clean(&fake);
}

#[tokio::test]
async fn missing_permissions_are_refused_like_discord() {
    let fake = FakeDiscord::start().await;
    let w = world(&fake);
    let http = http(&fake);
    let channel = ChannelId::new(w.read_only);
    let err = http
        .send_message(channel, vec![], &json!({"content": "hi"}))
        .await
        .expect_err("no SEND_MESSAGES");
    assert_eq!(status_and_code(err), (403, 50013));
    let err = http
        .create_reaction(
            channel,
            MessageId::new(fake.next_id()),
            &ReactionType::Unicode("🙏".to_owned()),
        )
        .await
        .expect_err("no ADD_REACTIONS");
    assert_eq!(status_and_code(err), (403, 50013));
    assert_clean(&fake);
}

#[tokio::test]
async fn the_bot_edits_and_deletes_its_own_messages_and_another_s_only_as_discord_allows() {
    let fake = FakeDiscord::start_with(Options {
        enforce_permissions: true,
        ..Options::default()
    })
    .await;
    let w = world(&fake);
    let http = http(&fake);
    let channel = ChannelId::new(w.open);
    // No client on the gateway here: the message is stored all the same.
    let _ = fake.send_message_create(w.open, &w.member, "a member's words");
    let theirs: u64 = fake.messages_in(w.open)[0]["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("the member's message is stored");
    let err = http
        .edit_message(
            channel,
            MessageId::new(theirs),
            &json!({"content": "changed"}),
            vec![],
        )
        .await
        .expect_err("not the bot's");
    assert_eq!(status_and_code(err), (403, 50005));
    let err = http
        .delete_message(channel, MessageId::new(theirs), None)
        .await
        .expect_err("no MANAGE_MESSAGES");
    assert_eq!(status_and_code(err), (403, 50013));
    assert!(fake.message(theirs).is_some(), "nothing changed");

    let own = http
        .send_message(channel, vec![], &json!({"content": "the bot's"}))
        .await
        .expect("sent");
    http.delete_message(channel, own.id, None)
        .await
        .expect("its own");
    assert!(fake.message(own.id.get()).is_none());
    let err = http
        .delete_message(channel, own.id, None)
        .await
        .expect_err("already gone");
    assert_eq!(status_and_code(err), (404, 10008));
    assert_eq!(
        fake.requests_matching("DELETE", "/channels/*/messages/*$")
            .len(),
        3
    );
    assert_clean(&fake);
}

#[tokio::test]
async fn scripted_failures_and_rate_limits() {
    let fake = FakeDiscord::start().await;
    let w = world(&fake);
    let http = http(&fake);
    let channel = ChannelId::new(w.open);

    fake.fail_next(
        "POST",
        "/channels/*/messages$",
        500,
        json!({"message": "500: Internal Server Error", "code": 0}),
    );
    let err = http
        .send_message(channel, vec![], &json!({"content": "a"}))
        .await
        .expect_err("scripted 500");
    assert_eq!(status_and_code(err), (500, 0));

    fake.rate_limit_next("POST", &format!("/channels/{}/messages", w.open), 0.05);
    let err = http
        .send_message(channel, vec![], &json!({"content": "b"}))
        .await
        .expect_err("scripted 429");
    // Discord's 429 body has no `code`, so serenity cannot read it as an error body.
    assert_eq!(status_and_code(err), (429, -1));
    let limited = fake
        .requests()
        .into_iter()
        .find(|r| r.status == 429)
        .expect("recorded");
    assert!(limited.scripted);
    assert_eq!(
        limited.response.as_ref().expect("body")["retry_after"],
        0.05
    );

    // Only the next request was affected.
    http.send_message(channel, vec![], &json!({"content": "c"}))
        .await
        .expect("served normally");
    assert_eq!(fake.messages_in(w.open).len(), 1);

    // The raw 429 carries Discord's headers.
    fake.rate_limit_next("GET", "/users/@me", 1.5);
    let raw = reqwest_get(&format!("{}/api/v10/users/@me", fake.base_url())).await;
    assert!(raw.contains("HTTP/1.1 429"), "{raw}");
    assert!(raw.to_ascii_lowercase().contains("retry-after: 2"), "{raw}");
    assert!(
        raw.to_ascii_lowercase()
            .contains("x-ratelimit-reset-after: 1.500"),
        "{raw}"
    );
    assert!(
        raw.to_ascii_lowercase().contains("x-ratelimit-scope: user"),
        "{raw}"
    );
    assert_clean(&fake);
}

#[tokio::test]
async fn unknown_routes_are_404_and_recorded() {
    let fake = FakeDiscord::start().await;
    let w = world(&fake);
    let http = http(&fake);
    let err = http
        .get_guild_webhooks(GuildId::new(w.guild))
        .await
        .expect_err("not faked");
    assert_eq!(status_and_code(err), (404, 0));
    let req = fake
        .wait_for("GET", "/guilds/*/webhooks", WAIT)
        .await
        .expect("recorded");
    assert_eq!(
        req.response.as_ref().expect("body")["message"],
        "Unknown route"
    );
    assert_clean(&fake);
}

/// A bare HTTP/1.1 GET over TCP, returning the raw response head and body.
async fn reqwest_get(url: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_once('/').expect("path");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let request = format!(
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bot t\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut out = String::new();
    stream.read_to_string(&mut out).await.expect("read");
    out
}

#[tokio::test]
async fn a_missing_spec_turns_checking_off() {
    let fake = FakeDiscord::start_with(fake_discord::Options {
        spec_path: Some("/nonexistent/openapi.json".into()),
        ..fake_discord::Options::default()
    })
    .await;
    assert!(!fake.spec_checking_enabled());
    assert_eq!(fake.spec_path(), None);
    let http = http(&fake);
    http.send_message(
        ChannelId::new(fake.next_id()),
        vec![],
        &json!({"content": "x".repeat(5000)}),
    )
    .await
    .expect("served");
    let req = fake
        .wait_for("POST", "/channels/*/messages", WAIT)
        .await
        .expect("recorded");
    assert!(req.spec_operation.is_none());
    assert!(fake.spec_violations().is_empty());
}

#[tokio::test]
async fn a_slow_script_answers_as_usual_after_its_delay() {
    let fake = FakeDiscord::start().await;
    let w = world(&fake);
    let http = http(&fake);
    let delay = Duration::from_millis(300);
    fake.script(ScriptedResponse::slow("POST", "/channels/*/messages$", delay).times(2));
    for text in ["a", "b"] {
        http.send_message(ChannelId::new(w.open), vec![], &json!({"content": text}))
            .await
            .expect("served after the delay");
    }
    let sends = fake.requests_matching("POST", "/channels/*/messages$");
    assert_eq!(sends.len(), 2);
    for send in &sends {
        assert!(!send.scripted, "the answer is the fake's own");
        assert!(send.at - send.received_at >= delay, "{send:?}");
    }
    assert!(
        sends[1].received_at >= sends[0].at,
        "received after the first answer"
    );
    assert_eq!(fake.messages_in(w.open).len(), 2);
    assert_clean(&fake);
}

#[tokio::test]
async fn with_enforce_limits_content_over_2000_characters_is_refused_everywhere_a_bot_writes() {
    let fake = FakeDiscord::start_with(Options {
        enforce_limits: true,
        ..Options::default()
    })
    .await;
    let w = world(&fake);
    let http = http(&fake);
    http.set_application_id(ApplicationId::new(fake.application_id()));
    let too_long = "x".repeat(2001);
    let refused = |err: serenity::Error| match err {
        serenity::Error::Http(serenity::all::HttpError::UnsuccessfulRequest(resp)) => (
            resp.status_code.as_u16(),
            resp.error.code,
            resp.error.errors,
        ),
        other => panic!("not an HTTP error: {other:?}"),
    };

    let err = http
        .send_message(
            ChannelId::new(w.open),
            vec![],
            &json!({"content": too_long}),
        )
        .await
        .expect_err("a channel message over the limit");
    let (status, code, errors) = refused(err);
    assert_eq!((status, code), (400, 50035));
    assert_eq!(errors[0].path, "content");
    assert_eq!(errors[0].code, "BASE_TYPE_MAX_LENGTH");
    http.send_message(
        ChannelId::new(w.open),
        vec![],
        &json!({"content": "x".repeat(2000)}),
    )
    .await
    .expect("2000 characters fit");

    let err = http
        .create_interaction_response(
            InteractionId::new(fake.next_id()),
            "token",
            &json!({"type": 4, "data": {"content": too_long}}),
            vec![],
        )
        .await
        .expect_err("an interaction answer over the limit");
    let (status, code, errors) = refused(err);
    assert_eq!((status, code), (400, 50035));
    assert_eq!(errors[0].path, "data.content");

    let err = http
        .create_followup_message("token", &json!({"content": too_long}), vec![])
        .await
        .expect_err("a follow-up over the limit");
    assert_eq!(refused(err).1, 50035);
    let err = http
        .edit_original_interaction_response("token", &json!({"content": too_long}), vec![])
        .await
        .expect_err("an edit over the limit");
    assert_eq!(refused(err).1, 50035);

    assert_eq!(
        fake.messages_in(w.open).len(),
        1,
        "only the message that fits"
    );
    let violations = fake.take_spec_violations();
    assert_eq!(violations.len(), 4, "{violations:#?}");
}
