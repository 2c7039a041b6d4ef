//! End-to-end proof with the real serenity 0.12.5 client and a poise 0.7.1 framework pointed at
//! the fake: gateway handshake, command registration, slash commands (admin and not),
//! autocomplete, buttons, reactions, reconnects, spec checking and the "not pointed at the fake"
//! failure.

use std::time::{Duration, Instant};

use fake_discord::{
    CommandCall, CommandOption, ComponentPress, Direction, Error, FakeChannel, FakeDiscord,
    FakeGuild, FakeMember, FakeRole, FakeUser, Invoker, Options, ReactionEvent, option_kind,
    permissions,
};
use poise::serenity_prelude as serenity;
use serde_json::json;

mod common;

use common::{BotError, Ctx, Data, TOKEN, WAIT, assert_no_violations, start_bot};

fn quiet() -> serenity::CreateAllowedMentions {
    serenity::CreateAllowedMentions::new()
}

/// Replies "pong".
#[poise::command(slash_command)]
async fn ping(ctx: Ctx<'_>) -> Result<(), BotError> {
    ctx.send(
        poise::CreateReply::default()
            .content("pong")
            .allowed_mentions(quiet()),
    )
    .await?;
    Ok(())
}

async fn complete_name(_ctx: Ctx<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let choices = ["rain", "rest", "healing"]
        .into_iter()
        .filter(|n| n.starts_with(partial))
        .map(serenity::AutocompleteChoice::from)
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// Prayer list.
#[poise::command(slash_command, subcommands("add", "show"))]
async fn prayer(_ctx: Ctx<'_>) -> Result<(), BotError> {
    Ok(())
}

/// Adds a prayer (administrators only).
#[poise::command(slash_command, required_permissions = "ADMINISTRATOR")]
async fn add(ctx: Ctx<'_>, #[description = "What for"] text: String) -> Result<(), BotError> {
    ctx.send(
        poise::CreateReply::default()
            .content(format!("added {text}"))
            .allowed_mentions(quiet()),
    )
    .await?;
    Ok(())
}

/// Shows a prayer, with a button.
#[poise::command(slash_command)]
async fn show(
    ctx: Ctx<'_>,
    #[description = "Which"]
    #[autocomplete = "complete_name"]
    name: String,
) -> Result<(), BotError> {
    let button = serenity::CreateButton::new("amen").label("Amen");
    ctx.send(
        poise::CreateReply::default()
            .content(format!("praying for {name}"))
            .components(vec![serenity::CreateActionRow::Buttons(vec![button])])
            .allowed_mentions(quiet()),
    )
    .await?;
    Ok(())
}

async fn on_event(
    fw: poise::FrameworkContext<'_, Data, BotError>,
    event: &serenity::FullEvent,
) -> Result<(), BotError> {
    let ctx = fw.serenity_context;
    match event {
        serenity::FullEvent::InteractionCreate {
            interaction: serenity::Interaction::Component(press),
        } if press.data.custom_id == "amen" => {
            let msg = serenity::CreateInteractionResponseMessage::new()
                .content(format!("amen from {}", press.user.name))
                .components(vec![])
                .allowed_mentions(quiet());
            press
                .create_response(ctx, serenity::CreateInteractionResponse::UpdateMessage(msg))
                .await?;
        }
        serenity::FullEvent::ReactionAdd { add_reaction } => {
            let who = add_reaction.user_id.map_or(0, |u| u.get());
            let sent = add_reaction
                .channel_id
                .send_message(
                    ctx,
                    serenity::CreateMessage::new()
                        .content(format!("{} from {who}", add_reaction.emoji))
                        .allowed_mentions(quiet()),
                )
                .await?;
            sent.react(ctx, '🙏').await?;
        }
        _ => {}
    }
    Ok(())
}

fn options() -> poise::FrameworkOptions<Data, BotError> {
    poise::FrameworkOptions {
        commands: vec![ping(), prayer()],
        event_handler: |fw, event| Box::pin(on_event(fw, event)),
        ..Default::default()
    }
}

struct World {
    guild: u64,
    channel: u64,
    admin: FakeUser,
    member: FakeUser,
}

fn world(fake: &FakeDiscord) -> World {
    let guild = fake.next_id();
    let channel = fake.next_id();
    let admin_role = fake.next_id();
    let admin = FakeUser::new(fake.next_id(), "alice");
    let member = FakeUser::new(fake.next_id(), "bob");
    fake.add_guild(
        FakeGuild::new(guild, "Parish", admin.id)
            .with_role(FakeRole::new(
                admin_role,
                "elders",
                permissions::ADMINISTRATOR,
            ))
            .with_channel(FakeChannel::text(channel, "prayers"))
            .with_member(FakeMember::new(admin.clone()).with_roles([admin_role]))
            .with_member(FakeMember::new(member.clone())),
    );
    World {
        guild,
        channel,
        admin,
        member,
    }
}

#[tokio::test]
async fn ping_round_trip_through_the_real_client() {
    let fake = FakeDiscord::start().await;
    assert!(
        fake.spec_checking_enabled(),
        "the spec beside the project is found"
    );
    let w = world(&fake);
    let bot = start_bot(&fake, options()).await;

    let identify = fake
        .wait_until_ready(WAIT)
        .await
        .expect("client identifies");
    assert!(
        identify.payload["d"]["token"]
            .as_str()
            .is_some_and(|t| t.contains(TOKEN))
    );
    let gateway = fake
        .wait_for("GET", "/gateway$", WAIT)
        .await
        .expect("client asked for the gateway URL");
    assert_eq!(
        gateway.authorization(),
        Some(format!("Bot {TOKEN}").as_str())
    );
    let frames = fake.gateway_frames();
    assert!(
        frames
            .iter()
            .any(|f| f.direction == Direction::Sent && f.op == 10)
    );
    assert!(
        frames
            .iter()
            .any(|f| f.event.as_deref() == Some("READY") && f.seq == Some(1))
    );
    assert!(
        frames
            .iter()
            .any(|f| f.event.as_deref() == Some("GUILD_CREATE") && f.seq == Some(2))
    );

    let registration = fake
        .wait_for(
            "PUT",
            &format!("/applications/{}/commands$", fake.application_id()),
            WAIT,
        )
        .await
        .expect("poise registers its commands");
    assert!(registration.spec_operation.is_some());
    assert!(
        registration.spec_problems.is_empty(),
        "{:?}",
        registration.spec_problems
    );
    assert!(registration.body_contains("\"ping\""));
    assert_eq!(registration.status, 200);
    assert_eq!(fake.registered_commands(None).len(), 2);

    let sent = fake
        .send_command(
            CommandCall::new("ping"),
            Invoker::in_guild(w.member.clone(), w.guild, w.channel),
        )
        .expect("interaction sent");
    let callback = fake
        .wait_for_callback(&sent, WAIT)
        .await
        .expect("the bot answers /ping");
    assert!(callback.body_contains("pong"));
    assert_eq!(callback.body_str("/data/content"), Some("pong"));
    assert_eq!(callback.body.as_ref().expect("body")["type"], 4);
    assert_eq!(
        callback.body.as_ref().expect("body")["data"]["allowed_mentions"],
        json!({"parse": [], "roles": [], "users": []})
    );
    assert_eq!(callback.status, 204);
    let original = fake
        .interaction_response(&sent)
        .expect("original response stored");
    assert_eq!(original["content"], "pong");
    assert_eq!(fake.messages_in(w.channel).len(), 1);

    assert_no_violations(&fake);
    bot.stop().await;
}

#[tokio::test]
async fn admin_only_subcommand_autocomplete_and_buttons() {
    let fake = FakeDiscord::start().await;
    let w = world(&fake);
    let bot = start_bot(&fake, options()).await;
    fake.wait_until_ready(WAIT).await.expect("ready");
    fake.wait_for("PUT", "/applications/*/commands$", WAIT)
        .await
        .expect("registered");

    // An administrator (by role in the registered guild) may add.
    let sent = fake
        .send_command(
            CommandCall::new("prayer")
                .subcommand("add", vec![CommandOption::string("text", "for rain")]),
            Invoker::in_guild(w.admin.clone(), w.guild, w.channel),
        )
        .expect("sent");
    let cb = fake.wait_for_callback(&sent, WAIT).await.expect("answered");
    assert_eq!(cb.body_str("/data/content"), Some("added for rain"));

    // A plain member is refused by poise's permission check (ephemeral error reply).
    let sent = fake
        .send_command(
            CommandCall::new("prayer")
                .subcommand("add", vec![CommandOption::string("text", "for sun")]),
            Invoker::in_guild(w.member.clone(), w.guild, w.channel).non_admin(),
        )
        .expect("sent");
    let cb = fake.wait_for_callback(&sent, WAIT).await.expect("answered");
    assert!(!cb.body_contains("added"), "{}", cb.body_text());
    assert_eq!(cb.body.as_ref().expect("body")["data"]["flags"], 64);

    // Autocomplete.
    let sent = fake
        .send_autocomplete(
            CommandCall::new("prayer").subcommand(
                "show",
                vec![CommandOption::focused("name", option_kind::STRING, "re")],
            ),
            Invoker::in_guild(w.member.clone(), w.guild, w.channel),
        )
        .expect("sent");
    let cb = fake.wait_for_callback(&sent, WAIT).await.expect("answered");
    let body = cb.body.expect("body");
    assert_eq!(body["type"], 8);
    assert_eq!(body["data"]["choices"][0]["name"], "rest");

    // A message with a button, then the press, answered with UPDATE_MESSAGE.
    let sent = fake
        .send_command(
            CommandCall::new("prayer")
                .subcommand("show", vec![CommandOption::string("name", "rain")]),
            Invoker::in_guild(w.member.clone(), w.guild, w.channel),
        )
        .expect("sent");
    fake.wait_for_callback(&sent, WAIT).await.expect("answered");
    let message = fake
        .interaction_response(&sent)
        .expect("message with button");
    let message_id: u64 = message["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("snowflake");
    assert_eq!(
        message["components"][0]["components"][0]["custom_id"],
        "amen"
    );

    let press = fake
        .send_button(
            ComponentPress::button("amen").on_message(message_id),
            Invoker::in_guild(w.member.clone(), w.guild, w.channel),
        )
        .expect("sent");
    let cb = fake
        .wait_for_callback(&press, WAIT)
        .await
        .expect("answered");
    assert_eq!(cb.body.as_ref().expect("body")["type"], 7);
    let updated = fake.message(message_id).expect("still there");
    assert_eq!(updated["content"], "amen from bob");

    assert_no_violations(&fake);
    bot.stop().await;
}

#[tokio::test]
async fn reactions_reach_the_bot_and_its_reactions_are_recorded() {
    let fake = FakeDiscord::start().await;
    let w = world(&fake);
    let bot = start_bot(&fake, options()).await;
    fake.wait_until_ready(WAIT).await.expect("ready");
    fake.wait_for("PUT", "/applications/*/commands$", WAIT)
        .await
        .expect("registered");

    let target = fake.next_id();
    fake.send_reaction_add(
        &ReactionEvent::new(w.member.id, w.channel, target, "🙏").in_guild(w.guild),
    )
    .expect("sent");
    let post = fake
        .wait_for("POST", &format!("/channels/{}/messages$", w.channel), WAIT)
        .await
        .expect("the bot reacts to the reaction");
    assert_eq!(
        post.body_str("/content"),
        Some(format!("🙏 from {}", w.member.id).as_str())
    );
    let put = fake
        .wait_for("PUT", "/channels/*/messages/*/reactions/🙏/@me$", WAIT)
        .await
        .expect("the bot adds its own reaction");
    assert_eq!(put.status, 204);
    let posted_id: u64 = post.response.as_ref().expect("answer")["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("snowflake");
    assert_eq!(fake.reactions(posted_id, "🙏"), vec![fake.bot_user_id()]);
    assert_eq!(fake.reactions(target, "🙏"), vec![w.member.id]);

    fake.send_reaction_remove(
        &ReactionEvent::new(w.member.id, w.channel, target, "🙏").in_guild(w.guild),
    )
    .expect("sent");
    assert!(fake.reactions(target, "🙏").is_empty());

    assert_no_violations(&fake);
    bot.stop().await;
}

#[tokio::test]
async fn the_client_resumes_after_the_gateway_drops() {
    let fake = FakeDiscord::start().await;
    let w = world(&fake);
    let bot = start_bot(&fake, options()).await;
    fake.wait_until_ready(WAIT).await.expect("ready");
    fake.wait_for("PUT", "/applications/*/commands$", WAIT)
        .await
        .expect("registered");

    fake.close_gateway(4000, "test drop").expect("connected");
    let resume = fake
        .wait_for_gateway(|f| f.direction == Direction::Received && f.op == 6, WAIT)
        .await
        .expect("serenity resumes");
    assert!(resume.connection > 1);
    fake.wait_for_gateway(|f| f.event.as_deref() == Some("RESUMED"), WAIT)
        .await
        .expect("resumed");
    assert_eq!(fake.identify_count(), 1);

    let sent = fake
        .send_command(
            CommandCall::new("ping"),
            Invoker::in_guild(w.member.clone(), w.guild, w.channel),
        )
        .expect("sent on the new connection");
    let cb = fake.wait_for_callback(&sent, WAIT).await.expect("answered");
    assert!(cb.body_contains("pong"));
    fake.assert_no_spec_violations();
    bot.stop().await;
}

#[tokio::test]
async fn a_body_that_breaks_the_spec_is_reported() {
    let fake = FakeDiscord::start().await;
    let w = world(&fake);
    let http = serenity::HttpBuilder::new(TOKEN)
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .build();
    let channel = serenity::ChannelId::new(w.channel);

    // The spec's MessageCreateRequest allows 4000 characters of content...
    http.send_message(channel, vec![], &json!({"content": "x".repeat(4001)}))
        .await
        .expect("the fake still serves it by default");
    let violations = fake.take_spec_violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    let v = &violations[0];
    assert_eq!(v.method, "POST");
    assert_eq!(
        v.operation.as_deref(),
        Some("/channels/{channel_id}/messages")
    );
    assert!(
        v.messages
            .iter()
            .any(|m| m.starts_with("/content:") && m.contains("longer than 4000")),
        "{v}"
    );

    // ...but Discord refuses more than 2000 from bots; the fake reports that too.
    http.send_message(channel, vec![], &json!({"content": "y".repeat(2001)}))
        .await
        .expect("served");
    let violations = fake.take_spec_violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(
        violations[0].to_string().contains("more than 2000"),
        "{}",
        violations[0]
    );

    // A valid body is not reported.
    http.send_message(
        channel,
        vec![],
        &json!({"content": "fine", "allowed_mentions": {"parse": []}}),
    )
    .await
    .expect("served");
    fake.assert_no_spec_violations();
}

#[tokio::test]
async fn invalid_bodies_can_be_rejected_like_discord_does() {
    let fake = FakeDiscord::start_with(Options {
        reject_invalid_requests: true,
        ..Options::default()
    })
    .await;
    let http = serenity::HttpBuilder::new(TOKEN)
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .build();
    let err = http
        .send_message(
            serenity::ChannelId::new(fake.next_id()),
            vec![],
            &json!({"content": "x".repeat(4001)}),
        )
        .await
        .expect_err("refused");
    match err {
        serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(resp)) => {
            assert_eq!(resp.status_code.as_u16(), 400);
            assert_eq!(resp.error.code, 50035);
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert_eq!(fake.take_spec_violations().len(), 1);
}

#[tokio::test]
async fn wait_until_ready_fails_fast_when_nobody_asks_for_the_gateway() {
    let fake = FakeDiscord::start_with(Options {
        gateway_request_deadline: Duration::from_millis(300),
        ..Options::default()
    })
    .await;
    // No client is started: nothing asks the fake for /gateway, as when a bot forgot the proxy.
    let started = Instant::now();
    let err = fake
        .wait_until_ready(Duration::from_secs(30))
        .await
        .expect_err("nobody is connected");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(err, Error::NotPointedAtFake { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("GET /api/v10/gateway"), "{msg}");
    assert!(msg.contains("proxy"), "{msg}");
    assert!(msg.contains("ratelimiter_disabled(true)"), "{msg}");
    assert!(msg.contains("recorded 0 request(s)"), "{msg}");

    // And a wait for a request that never comes says what was recorded.
    let err = fake
        .wait_for("POST", "/channels/*/messages", Duration::from_millis(200))
        .await
        .expect_err("nothing sent");
    assert!(matches!(err, Error::Timeout { .. }));
    assert!(
        err.to_string().contains("POST /channels/*/messages"),
        "{err}"
    );
}

#[tokio::test]
async fn raw_dispatches_register_interactions_and_with_response_answers() {
    let fake = FakeDiscord::start().await;
    let w = world(&fake);
    let bot = start_bot(&fake, options()).await;
    fake.wait_until_ready(WAIT).await.expect("ready");
    fake.wait_for("PUT", "/applications/*/commands$", WAIT)
        .await
        .expect("registered");

    // A hand-built INTERACTION_CREATE for a command the bot does not have: poise ignores it, and
    // the test answers the interaction itself, asking for the callback response.
    let id = fake.next_id();
    let token = format!("raw-token-{id}");
    let mut payload = fake_discord::payloads::interaction_command(
        &fake_discord::InteractionEnvelope {
            application_id: fake.application_id(),
            id,
            token: token.clone(),
            member_permissions: permissions::DEFAULT_EVERYONE,
            app_permissions: permissions::DEFAULT_EVERYONE,
            channel: None,
        },
        fake.next_id(),
        &CommandCall::new("nonexistent"),
        &Invoker::in_guild(w.member.clone(), w.guild, w.channel),
    );
    payload["locale"] = json!("de");
    let seq = fake
        .send_dispatch("INTERACTION_CREATE", payload)
        .expect("sent");
    assert!(seq > 2);

    let http = serenity::HttpBuilder::new(TOKEN)
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .application_id(serenity::ApplicationId::new(fake.application_id()))
        .build();
    http.create_interaction_response(
        serenity::InteractionId::new(id),
        &token,
        &json!({"type": 4, "data": {"content": "by hand", "flags": 64}}),
        vec![],
    )
    .await
    .expect("accepted");
    // A second answer to the same interaction is refused, as Discord does.
    let err = http
        .create_interaction_response(
            serenity::InteractionId::new(id),
            &token,
            &json!({"type": 4, "data": {"content": "again"}}),
            vec![],
        )
        .await
        .expect_err("already acknowledged");
    match err {
        serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(resp)) => {
            assert_eq!(resp.error.code, 40060);
        }
        other => panic!("unexpected {other:?}"),
    }
    let original = http
        .get_original_interaction_response(&token)
        .await
        .expect("original");
    assert_eq!(original.content, "by hand");
    let followup = http
        .create_followup_message(&token, &json!({"content": "more"}), vec![])
        .await
        .expect("follow-up");
    assert_eq!(followup.content, "more");

    // `with_response=true` gets the callback response object (checked against the spec).
    let sent = fake
        .send_dispatch(
            "INTERACTION_CREATE",
            fake_discord::payloads::interaction_command(
                &fake_discord::InteractionEnvelope {
                    application_id: fake.application_id(),
                    id: id + 1,
                    token: format!("{token}-2"),
                    member_permissions: 0,
                    app_permissions: 0,
                    channel: None,
                },
                1,
                &CommandCall::new("nonexistent"),
                &Invoker::in_guild(w.member.clone(), w.guild, w.channel),
            ),
        )
        .expect("sent");
    assert!(sent > seq);
    let body = json!({"type": 5}).to_string();
    let raw = raw_post(
        &fake.base_url(),
        &format!(
            "/api/v10/interactions/{}/{token}-2/callback?with_response=true",
            id + 1
        ),
        &body,
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(raw.contains("\"response_message_loading\":true"), "{raw}");

    assert_no_violations(&fake);
    bot.stop().await;
}

/// A bare HTTP/1.1 POST of a JSON body over TCP, returning the raw response.
async fn raw_post(base: &str, path: &str, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.strip_prefix("http://").expect("http base");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut out = String::new();
    stream.read_to_string(&mut out).await.expect("read");
    out
}
