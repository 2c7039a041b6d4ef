//! Checks that every gateway payload builder produces JSON that serenity 0.12.5 deserializes
//! into the intended event (serenity drops undeserializable dispatches with only a warning).

use fake_discord::payloads::{self, InteractionEnvelope, MessageParts};
use fake_discord::{
    CommandCall, CommandOption, ComponentPress, Emoji, FakeAttachment, FakeChannel, FakeGuild,
    FakeMember, FakeRole, FakeUser, Invoker, Overwrite, ReactionEvent, option_kind, permissions,
};
use serde_json::{Value, json};
use serenity::all::{
    CommandDataOptionValue, Event, GatewayEvent, Interaction, Permissions, ReactionType,
    ResolvedValue,
};

fn dispatch(event: &str, data: Value) -> Event {
    let frame = json!({"op": 0, "t": event, "s": 1, "d": data});
    match serde_json::from_value::<GatewayEvent>(frame) {
        Ok(GatewayEvent::Dispatch(1, ev)) => ev,
        Ok(other) => panic!("{event}: not a dispatch: {other:?}"),
        Err(e) => panic!("serenity cannot deserialize {event}: {e}"),
    }
}

fn guild() -> FakeGuild {
    FakeGuild::new(10, "Prayer", 1)
        .with_role(FakeRole::new(20, "admins", permissions::ADMINISTRATOR))
        .with_channel(FakeChannel::category(29, "cat"))
        .with_channel(
            FakeChannel::text(30, "prayers")
                .with_parent(29)
                .with_overwrite(Overwrite::role(10, 0, permissions::SEND_MESSAGES))
                .with_overwrite(Overwrite::member(2, permissions::SEND_MESSAGES, 0)),
        )
        .with_member(FakeMember::new(FakeUser::new(1, "owner")))
        .with_member(FakeMember::new(FakeUser::new(2, "alice")).with_roles([20]))
        .with_member(FakeMember::new(FakeUser::bot(3, "bot")))
}

fn envelope(member_permissions: u64) -> InteractionEnvelope {
    InteractionEnvelope {
        application_id: 3,
        id: 100,
        token: "tok".to_owned(),
        member_permissions,
        app_permissions: permissions::DEFAULT_EVERYONE,
        channel: Some(FakeChannel::text(30, "prayers")),
    }
}

#[test]
fn ready_deserializes() {
    let bot = FakeUser::bot(3, "bot");
    let d = payloads::ready(&bot, 3, "sess", "ws://127.0.0.1:1/ws", [0, 1], &[10]);
    match dispatch("READY", d) {
        Event::Ready(r) => {
            assert_eq!(r.ready.application.id.get(), 3);
            assert_eq!(r.ready.user.id.get(), 3);
            assert_eq!(r.ready.guilds.len(), 1);
            assert_eq!(r.ready.session_id, "sess");
        }
        other => panic!("not READY: {other:?}"),
    }
}

#[test]
fn guild_create_deserializes_with_roles_channels_members() {
    match dispatch("GUILD_CREATE", payloads::guild_create(&guild())) {
        Event::GuildCreate(g) => {
            let g = g.guild;
            assert_eq!(g.id.get(), 10);
            assert_eq!(g.roles.len(), 2);
            assert_eq!(g.channels.len(), 2);
            assert_eq!(g.members.len(), 3);
            let ch = &g.channels[&30.into()];
            assert_eq!(ch.permission_overwrites.len(), 2);
            let alice = &g.members[&2.into()];
            // serenity's own permission arithmetic agrees with the fake's.
            let perms = g.user_permissions_in(ch, alice);
            assert!(perms.administrator());
            let owner = &g.members[&1.into()];
            assert_eq!(g.user_permissions_in(ch, owner), Permissions::all());
            let bot = &g.members[&3.into()];
            let bot_perms = g.user_permissions_in(ch, bot);
            assert!(!bot_perms.send_messages());
            assert_eq!(bot_perms.bits() & !permissions::ALL, 0, "no unknown bits");
            let fake_bits = guild().permissions_in(30, 3).expect("bot is a member");
            assert_eq!(bot_perms.bits(), fake_bits);
        }
        other => panic!("not GUILD_CREATE: {other:?}"),
    }
}

#[test]
fn slash_command_with_subcommand_and_resolved_options() {
    let alice = FakeUser::new(2, "alice");
    let role = FakeRole::new(20, "admins", permissions::ADMINISTRATOR);
    let call = CommandCall::new("prayer").subcommand(
        "add",
        vec![
            CommandOption::string("text", "for rain"),
            CommandOption::integer("days", 3),
            CommandOption::boolean("anonymous", true),
            CommandOption::number("weight", 1.5),
            CommandOption::user("for", &alice, Some(&FakeMember::new(alice.clone()))),
            CommandOption::channel("where", &FakeChannel::text(30, "prayers")),
            CommandOption::role("role", &role),
        ],
    );
    let invoker = Invoker::in_guild(FakeUser::new(2, "alice"), 10, 30).admin();
    let d = payloads::interaction_command(&envelope(permissions::ALL), 55, &call, &invoker);
    let Event::InteractionCreate(ev) = dispatch("INTERACTION_CREATE", d) else {
        panic!("not INTERACTION_CREATE")
    };
    let Interaction::Command(cmd) = ev.interaction else {
        panic!("not a command interaction")
    };
    assert_eq!(cmd.data.name, "prayer");
    assert_eq!(cmd.data.id.get(), 55);
    assert_eq!(cmd.guild_id.map(|g| g.get()), Some(10));
    assert_eq!(cmd.channel_id.get(), 30);
    assert_eq!(cmd.user.id.get(), 2);
    let member = cmd.member.as_ref().expect("member");
    assert!(member.permissions.expect("permissions").administrator());
    assert!(cmd.app_permissions.is_some());
    let CommandDataOptionValue::SubCommand(opts) = &cmd.data.options[0].value else {
        panic!("not a subcommand")
    };
    assert_eq!(opts.len(), 7);
    let resolved = cmd.data.options();
    let ResolvedValue::SubCommand(sub) = &resolved[0].value else {
        panic!("resolved not a subcommand")
    };
    assert!(matches!(sub[0].value, ResolvedValue::String("for rain")));
    assert!(matches!(sub[1].value, ResolvedValue::Integer(3)));
    assert!(matches!(sub[4].value, ResolvedValue::User(u, Some(_)) if u.id.get() == 2));
    assert!(matches!(sub[5].value, ResolvedValue::Channel(c) if c.id.get() == 30));
    assert!(matches!(sub[6].value, ResolvedValue::Role(r) if r.id.get() == 20));
}

#[test]
fn attachment_option_resolves_to_serenity_attachment() {
    let file = FakeAttachment::new("list.json", "application/json", b"[1,2]".to_vec())
        .with_id(77)
        .with_url("http://127.0.0.1:1/attachments/30/77/list.json?ex=1&is=1&hm=1");
    let call = CommandCall::new("prayer").subcommand(
        "import",
        vec![
            CommandOption::attachment_from("file", file.clone()),
            CommandOption::attachment("other", "a b.bin", "", vec![0u8; 3]),
        ],
    );
    assert_eq!(call.attachments().len(), 2);
    let invoker = Invoker::in_guild(FakeUser::new(2, "alice"), 10, 30);
    let d = payloads::interaction_command(&envelope(permissions::ALL), 55, &call, &invoker);
    assert_eq!(
        d["data"]["options"][0]["options"][0],
        json!({"name": "file", "type": option_kind::ATTACHMENT, "value": "77"})
    );
    let Event::InteractionCreate(ev) = dispatch("INTERACTION_CREATE", d) else {
        panic!("not INTERACTION_CREATE")
    };
    let Interaction::Command(cmd) = ev.interaction else {
        panic!("not a command interaction")
    };
    assert_eq!(cmd.data.resolved.attachments.len(), 2);
    let resolved = cmd.data.options();
    let ResolvedValue::SubCommand(sub) = &resolved[0].value else {
        panic!("resolved not a subcommand")
    };
    let ResolvedValue::Attachment(a) = sub[0].value else {
        panic!("not an attachment: {:?}", sub[0].value)
    };
    assert_eq!(a.id.get(), 77);
    assert_eq!(a.filename, "list.json");
    assert_eq!(a.size, 5);
    assert_eq!(a.content_type.as_deref(), Some("application/json"));
    assert_eq!(a.url, file.url.clone().expect("url"));
    assert_eq!(a.proxy_url, a.url);
    assert!(a.ephemeral);
    let ResolvedValue::Attachment(b) = sub[1].value else {
        panic!("not an attachment: {:?}", sub[1].value)
    };
    assert_eq!(b.filename, "a b.bin");
    assert_eq!(b.content_type, None);
    assert!(b.url.ends_with("/a%20b.bin"), "{}", b.url);
}

#[test]
fn non_admin_and_dm_commands() {
    let invoker = Invoker::in_guild(FakeUser::new(2, "bob"), 10, 30).non_admin();
    let d = payloads::interaction_command(
        &envelope(permissions::DEFAULT_EVERYONE),
        1,
        &CommandCall::new("ping"),
        &invoker,
    );
    let Event::InteractionCreate(ev) = dispatch("INTERACTION_CREATE", d) else {
        panic!("not INTERACTION_CREATE")
    };
    let Interaction::Command(cmd) = ev.interaction else {
        panic!("not a command")
    };
    let perms = cmd.member.expect("member").permissions.expect("perms");
    assert!(!perms.administrator());
    assert!(perms.send_messages());

    let dm = Invoker::in_dm(FakeUser::new(2, "bob"), 77);
    let d = payloads::interaction_command(&envelope(0), 1, &CommandCall::new("ping"), &dm);
    let Event::InteractionCreate(ev) = dispatch("INTERACTION_CREATE", d) else {
        panic!("not INTERACTION_CREATE")
    };
    let Interaction::Command(cmd) = ev.interaction else {
        panic!("not a command")
    };
    assert!(cmd.guild_id.is_none());
    assert_eq!(cmd.user.id.get(), 2);
}

#[test]
fn autocomplete_deserializes() {
    let call = CommandCall::new("prayer").subcommand(
        "show",
        vec![CommandOption::focused("name", option_kind::STRING, "ra")],
    );
    let invoker = Invoker::in_guild(FakeUser::new(2, "bob"), 10, 30);
    let d = payloads::interaction_autocomplete(&envelope(0), 1, &call, &invoker);
    let Event::InteractionCreate(ev) = dispatch("INTERACTION_CREATE", d) else {
        panic!("not INTERACTION_CREATE")
    };
    let Interaction::Autocomplete(ac) = ev.interaction else {
        panic!("not autocomplete")
    };
    let focused = ac.data.autocomplete().expect("a focused option");
    assert_eq!(focused.name, "name");
    assert_eq!(focused.value, "ra");
}

#[test]
fn button_deserializes_with_message() {
    let bot = FakeUser::bot(3, "bot");
    let parts = MessageParts {
        id: 500,
        channel_id: 30,
        guild_id: Some(10),
        author: &bot,
        webhook_id: None,
        application_id: Some(3),
    };
    let body = json!({"content": "pick", "components": [{"type": 1, "components": [
        {"type": 2, "style": 1, "label": "Amen", "custom_id": "amen"}
    ]}]});
    let message = payloads::message(&parts, &body, Vec::new());
    let invoker = Invoker::in_guild(FakeUser::new(2, "bob"), 10, 30);
    let d = payloads::interaction_button(
        &envelope(0),
        &ComponentPress::button("amen").on_message(500),
        &invoker,
        message,
    );
    let Event::InteractionCreate(ev) = dispatch("INTERACTION_CREATE", d) else {
        panic!("not INTERACTION_CREATE")
    };
    let Interaction::Component(c) = ev.interaction else {
        panic!("not a component interaction")
    };
    assert_eq!(c.data.custom_id, "amen");
    assert_eq!(c.message.id.get(), 500);
    assert_eq!(c.message.components.len(), 1);

    let d = payloads::interaction_component(
        &envelope(0),
        &ComponentPress::select("menu", vec!["a".to_owned()]),
        &invoker,
        payloads::message(&parts, &json!({"content": "x"}), Vec::new()),
    );
    let Event::InteractionCreate(ev) = dispatch("INTERACTION_CREATE", d) else {
        panic!("not INTERACTION_CREATE")
    };
    assert!(matches!(ev.interaction, Interaction::Component(_)));
}

#[test]
fn reactions_deserialize() {
    let ev = ReactionEvent::new(2, 30, 500, "🙏").in_guild(10);
    match dispatch("MESSAGE_REACTION_ADD", payloads::reaction_add(&ev)) {
        Event::ReactionAdd(r) => {
            assert_eq!(r.reaction.user_id.map(|u| u.get()), Some(2));
            assert_eq!(r.reaction.emoji, ReactionType::Unicode("🙏".to_owned()));
            assert_eq!(r.reaction.guild_id.map(|g| g.get()), Some(10));
            assert!(r.reaction.member.is_some());
        }
        other => panic!("not a reaction add: {other:?}"),
    }
    let custom = ReactionEvent::new(2, 30, 500, Emoji::custom(77, "pray"));
    match dispatch(
        "MESSAGE_REACTION_REMOVE",
        payloads::reaction_remove(&custom),
    ) {
        Event::ReactionRemove(r) => {
            assert!(matches!(r.reaction.emoji, ReactionType::Custom { id, .. } if id.get() == 77));
        }
        other => panic!("not a reaction remove: {other:?}"),
    }
}

#[test]
fn message_object_deserializes() {
    let bot = FakeUser::bot(3, "bot");
    let parts = MessageParts {
        id: 501,
        channel_id: 30,
        guild_id: Some(10),
        author: &bot,
        webhook_id: Some(3),
        application_id: Some(3),
    };
    let body = json!({
        "content": "hello",
        "embeds": [{"title": "t", "description": "d"}],
        "message_reference": {"message_id": "400"},
        "nonce": "abc",
    });
    let m: serenity::all::Message =
        serde_json::from_value(payloads::message(&parts, &body, Vec::new()))
            .expect("serenity parses the message");
    assert_eq!(m.content, "hello");
    assert_eq!(m.embeds.len(), 1);
    assert_eq!(m.author.id.get(), 3);
}

#[test]
fn message_create_deserializes_with_member() {
    let alice = FakeUser::new(2, "alice");
    let parts = MessageParts {
        id: 600,
        channel_id: 30,
        guild_id: Some(10),
        author: &alice,
        webhook_id: None,
        application_id: None,
    };
    let member = FakeMember::new(alice.clone()).with_roles([20]);
    match dispatch(
        "MESSAGE_CREATE",
        payloads::message_create(&parts, "please pray for rain", Some(&member)),
    ) {
        Event::MessageCreate(m) => {
            assert_eq!(m.message.content, "please pray for rain");
            assert_eq!(m.message.author.id.get(), 2);
            assert_eq!(m.message.guild_id.map(|g| g.get()), Some(10));
            assert_eq!(m.message.member.expect("member").roles.len(), 1);
        }
        other => panic!("not MESSAGE_CREATE: {other:?}"),
    }
}
