//! Builders for gateway event payloads (`d` of a dispatch) and REST objects in the exact shapes
//! serenity 0.12.5 deserializes: READY, GUILD_CREATE, INTERACTION_CREATE (commands, autocomplete,
//! message components), MESSAGE_REACTION_ADD/REMOVE and message objects.
//!
//! Serenity silently drops a dispatch it cannot deserialize (it only logs a warning), so every
//! builder here is checked against serenity's own types in `tests/payloads.rs`.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};

use crate::ids::now_timestamp;
use crate::model::{
    FakeAttachment, FakeChannel, FakeGuild, FakeMember, FakeRole, FakeUser, permissions,
};

/// Interaction type numbers.
pub mod interaction_kind {
    /// PING
    pub const PING: u8 = 1;
    /// APPLICATION_COMMAND
    pub const APPLICATION_COMMAND: u8 = 2;
    /// MESSAGE_COMPONENT
    pub const MESSAGE_COMPONENT: u8 = 3;
    /// APPLICATION_COMMAND_AUTOCOMPLETE
    pub const AUTOCOMPLETE: u8 = 4;
    /// MODAL_SUBMIT
    pub const MODAL_SUBMIT: u8 = 5;
}

/// Application command option type numbers.
pub mod option_kind {
    /// SUB_COMMAND
    pub const SUB_COMMAND: u8 = 1;
    /// SUB_COMMAND_GROUP
    pub const SUB_COMMAND_GROUP: u8 = 2;
    /// STRING
    pub const STRING: u8 = 3;
    /// INTEGER
    pub const INTEGER: u8 = 4;
    /// BOOLEAN
    pub const BOOLEAN: u8 = 5;
    /// USER
    pub const USER: u8 = 6;
    /// CHANNEL
    pub const CHANNEL: u8 = 7;
    /// ROLE
    pub const ROLE: u8 = 8;
    /// MENTIONABLE
    pub const MENTIONABLE: u8 = 9;
    /// NUMBER
    pub const NUMBER: u8 = 10;
    /// ATTACHMENT
    pub const ATTACHMENT: u8 = 11;
}

/// Who performs an interaction, and where.
#[derive(Clone, Debug)]
pub struct Invoker {
    /// The user.
    pub user: FakeUser,
    /// The guild, or `None` for a DM.
    pub guild_id: Option<u64>,
    /// The channel.
    pub channel_id: u64,
    /// The member's roles (guild only).
    pub roles: Vec<u64>,
    /// The member's nickname (guild only).
    pub nick: Option<String>,
    /// `member.permissions` (the member's permissions in the channel). `None`: the fake computes
    /// them from the registered guild if it knows the member, else uses
    /// [`permissions::DEFAULT_EVERYONE`].
    pub permissions: Option<u64>,
    /// The user's locale (`locale`).
    pub locale: String,
}

impl Invoker {
    /// A guild member using the bot in a guild channel.
    pub fn in_guild(user: FakeUser, guild_id: u64, channel_id: u64) -> Self {
        Invoker {
            user,
            guild_id: Some(guild_id),
            channel_id,
            roles: Vec::new(),
            nick: None,
            permissions: None,
            locale: "en-US".to_owned(),
        }
    }

    /// A user in a DM with the bot.
    pub fn in_dm(user: FakeUser, channel_id: u64) -> Self {
        Invoker {
            guild_id: None,
            ..Invoker::in_guild(user, 0, channel_id)
        }
    }

    /// Sets `member.permissions` explicitly.
    pub fn with_permissions(mut self, bits: u64) -> Self {
        self.permissions = Some(bits);
        self
    }

    /// Makes the member an administrator (`member.permissions` = every bit).
    pub fn admin(self) -> Self {
        self.with_permissions(permissions::ALL)
    }

    /// Makes the member an ordinary member ([`permissions::DEFAULT_EVERYONE`]).
    pub fn non_admin(self) -> Self {
        self.with_permissions(permissions::DEFAULT_EVERYONE)
    }

    /// Sets the member's roles.
    pub fn with_roles(mut self, roles: impl IntoIterator<Item = u64>) -> Self {
        self.roles = roles.into_iter().collect();
        self
    }

    /// Sets the user's locale.
    pub fn with_locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = locale.into();
        self
    }

    fn member(&self) -> FakeMember {
        FakeMember {
            user: self.user.clone(),
            roles: self.roles.clone(),
            nick: self.nick.clone(),
        }
    }
}

/// An object an option refers to, which Discord sends in `data.resolved`.
#[derive(Clone, Debug)]
enum Resolved {
    User(FakeUser, Option<FakeMember>),
    Channel(FakeChannel),
    Role(FakeRole),
    Attachment(FakeAttachment),
}

/// One option of a command invocation (possibly a subcommand holding more options).
#[derive(Clone, Debug)]
pub struct CommandOption {
    /// Option name.
    pub name: String,
    /// Option type, see [`option_kind`].
    pub kind: u8,
    /// The value (absent for subcommands).
    pub value: Option<Value>,
    /// Nested options (subcommands and groups).
    pub options: Vec<CommandOption>,
    /// Whether this is the option being typed (autocomplete).
    pub focused: bool,
    resolved: Option<Resolved>,
}

impl CommandOption {
    fn new(name: impl Into<String>, kind: u8, value: Option<Value>) -> Self {
        CommandOption {
            name: name.into(),
            kind,
            value,
            options: Vec::new(),
            focused: false,
            resolved: None,
        }
    }

    /// A string option.
    pub fn string(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self::new(name, option_kind::STRING, Some(Value::String(value.into())))
    }

    /// An integer option.
    pub fn integer(name: impl Into<String>, value: i64) -> Self {
        Self::new(name, option_kind::INTEGER, Some(json!(value)))
    }

    /// A number option.
    pub fn number(name: impl Into<String>, value: f64) -> Self {
        Self::new(name, option_kind::NUMBER, Some(json!(value)))
    }

    /// A boolean option.
    pub fn boolean(name: impl Into<String>, value: bool) -> Self {
        Self::new(name, option_kind::BOOLEAN, Some(json!(value)))
    }

    /// A user option; the user (and member, if given) goes to `data.resolved`, which poise needs
    /// to extract `serenity::User`/`Member` arguments.
    pub fn user(name: impl Into<String>, user: &FakeUser, member: Option<&FakeMember>) -> Self {
        let mut o = Self::new(name, option_kind::USER, Some(json!(user.id.to_string())));
        o.resolved = Some(Resolved::User(user.clone(), member.cloned()));
        o
    }

    /// A channel option; the channel goes to `data.resolved`.
    pub fn channel(name: impl Into<String>, channel: &FakeChannel) -> Self {
        let mut o = Self::new(
            name,
            option_kind::CHANNEL,
            Some(json!(channel.id.to_string())),
        );
        o.resolved = Some(Resolved::Channel(channel.clone()));
        o
    }

    /// A role option; the role goes to `data.resolved`.
    pub fn role(name: impl Into<String>, role: &FakeRole) -> Self {
        let mut o = Self::new(name, option_kind::ROLE, Some(json!(role.id.to_string())));
        o.resolved = Some(Resolved::Role(role.clone()));
        o
    }

    /// An attachment option (type 11): a file with a fresh id, e.g.
    /// `CommandOption::attachment("file", "list.json", "application/json", b"[]".to_vec())`.
    /// The option's `value` is the attachment id and the full attachment object goes to
    /// `data.resolved.attachments` (what poise's `serenity::Attachment` argument reads). Sent
    /// with [`crate::FakeDiscord::send_command`], its `url` points at the fake, which serves the
    /// bytes there (with `content_type`, if not empty).
    pub fn attachment(
        name: impl Into<String>,
        filename: impl Into<String>,
        content_type: impl Into<String>,
        data: impl Into<Vec<u8>>,
    ) -> Self {
        Self::attachment_from(name, FakeAttachment::new(filename, content_type, data))
    }

    /// An attachment option for a prepared [`FakeAttachment`] (own id, description, dimensions,
    /// URL).
    pub fn attachment_from(name: impl Into<String>, attachment: FakeAttachment) -> Self {
        let mut o = Self::new(
            name,
            option_kind::ATTACHMENT,
            Some(json!(attachment.id.to_string())),
        );
        o.resolved = Some(Resolved::Attachment(attachment));
        o
    }

    /// The attachment this option (or one nested in it) carries, if any.
    pub fn attachments(&self) -> Vec<&FakeAttachment> {
        let mut out = Vec::new();
        if let Some(Resolved::Attachment(a)) = &self.resolved {
            out.push(a);
        }
        for o in &self.options {
            out.extend(o.attachments());
        }
        out
    }

    pub(crate) fn attachments_mut(&mut self) -> Vec<&mut FakeAttachment> {
        let mut out = Vec::new();
        if let Some(Resolved::Attachment(a)) = &mut self.resolved {
            out.push(a);
        }
        for o in &mut self.options {
            out.extend(o.attachments_mut());
        }
        out
    }

    /// A subcommand with its options.
    pub fn subcommand(name: impl Into<String>, options: Vec<CommandOption>) -> Self {
        let mut o = Self::new(name, option_kind::SUB_COMMAND, None);
        o.options = options;
        o
    }

    /// A subcommand group holding one subcommand.
    pub fn group(name: impl Into<String>, subcommand: CommandOption) -> Self {
        let mut o = Self::new(name, option_kind::SUB_COMMAND_GROUP, None);
        o.options = vec![subcommand];
        o
    }

    /// The option being typed, for autocomplete: `kind` is the option's declared type, `partial`
    /// what the user typed so far (Discord sends it as a string whatever the type).
    pub fn focused(name: impl Into<String>, kind: u8, partial: impl Into<String>) -> Self {
        let mut o = Self::new(name, kind, Some(Value::String(partial.into())));
        o.focused = true;
        o
    }

    fn to_json(&self) -> Value {
        let mut v = json!({"name": self.name, "type": self.kind});
        if let Some(value) = &self.value {
            v["value"] = value.clone();
        }
        if matches!(
            self.kind,
            option_kind::SUB_COMMAND | option_kind::SUB_COMMAND_GROUP
        ) {
            v["options"] = Value::Array(self.options.iter().map(Self::to_json).collect());
        }
        if self.focused {
            v["focused"] = json!(true);
        }
        v
    }

    fn collect_resolved(&self, guild_id: Option<u64>, out: &mut Map<String, Value>) {
        fn slot<'a>(out: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
            let entry = out
                .entry(key.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            match entry {
                Value::Object(map) => map,
                _ => unreachable!("just made an object"),
            }
        }
        match &self.resolved {
            Some(Resolved::User(user, member)) => {
                slot(out, "users").insert(user.id.to_string(), user.to_json());
                if let Some(member) = member {
                    let mut m = member.to_partial_json();
                    m["permissions"] = json!(permissions::DEFAULT_EVERYONE.to_string());
                    slot(out, "members").insert(user.id.to_string(), m);
                }
            }
            Some(Resolved::Channel(channel)) => {
                let json = channel.to_partial_json(guild_id.unwrap_or(0), permissions::ALL);
                slot(out, "channels").insert(channel.id.to_string(), json);
            }
            Some(Resolved::Role(role)) => {
                slot(out, "roles").insert(role.id.to_string(), role.to_json());
            }
            Some(Resolved::Attachment(a)) => {
                slot(out, "attachments").insert(a.id.to_string(), a.to_json());
            }
            None => {}
        }
        for o in &self.options {
            o.collect_resolved(guild_id, out);
        }
    }
}

/// A slash command (chat input) invocation.
#[derive(Clone, Debug)]
pub struct CommandCall {
    /// Top-level command name.
    pub name: String,
    /// The command's id; `None` lets the fake use the id it gave the command when the bot
    /// registered it (or a fresh one).
    pub command_id: Option<u64>,
    /// Options (a subcommand is an option holding options).
    pub options: Vec<CommandOption>,
}

impl CommandCall {
    /// `/name` with no options.
    pub fn new(name: impl Into<String>) -> Self {
        CommandCall {
            name: name.into(),
            command_id: None,
            options: Vec::new(),
        }
    }

    /// Adds an option.
    pub fn option(mut self, option: CommandOption) -> Self {
        self.options.push(option);
        self
    }

    /// Adds a subcommand with its options: `/name sub opt:...`.
    pub fn subcommand(self, name: impl Into<String>, options: Vec<CommandOption>) -> Self {
        self.option(CommandOption::subcommand(name, options))
    }

    /// Every attachment the call's options carry (after `send_command`, with their URLs).
    pub fn attachments(&self) -> Vec<&FakeAttachment> {
        self.options
            .iter()
            .flat_map(CommandOption::attachments)
            .collect()
    }

    pub(crate) fn attachments_mut(&mut self) -> Vec<&mut FakeAttachment> {
        self.options
            .iter_mut()
            .flat_map(CommandOption::attachments_mut)
            .collect()
    }
}

/// A message component use (button press or select menu choice).
#[derive(Clone, Debug)]
pub struct ComponentPress {
    /// The component's `custom_id`.
    pub custom_id: String,
    /// Component type: 2 button, 3 string select, ...
    pub component_type: u8,
    /// Chosen values (selects).
    pub values: Vec<String>,
    /// The message carrying the component; the fake looks it up among messages the bot created
    /// (channel messages and interaction responses), or makes up a bot message if unknown.
    pub message_id: Option<u64>,
}

impl ComponentPress {
    /// A button press.
    pub fn button(custom_id: impl Into<String>) -> Self {
        ComponentPress {
            custom_id: custom_id.into(),
            component_type: 2,
            values: Vec::new(),
            message_id: None,
        }
    }

    /// A string select choice.
    pub fn select(custom_id: impl Into<String>, values: Vec<String>) -> Self {
        ComponentPress {
            custom_id: custom_id.into(),
            component_type: 3,
            values,
            message_id: None,
        }
    }

    /// The message the component is on.
    pub fn on_message(mut self, message_id: u64) -> Self {
        self.message_id = Some(message_id);
        self
    }
}

/// The fixed parts of an interaction that the fake fills in.
#[derive(Clone, Debug)]
pub struct InteractionEnvelope {
    /// The application (bot) id.
    pub application_id: u64,
    /// Interaction id.
    pub id: u64,
    /// Interaction token (goes into the callback and webhook URLs).
    pub token: String,
    /// `member.permissions`.
    pub member_permissions: u64,
    /// `app_permissions`: the bot's permissions in the channel.
    pub app_permissions: u64,
    /// The channel object (`channel`), if known; otherwise a minimal text channel is made up.
    pub channel: Option<FakeChannel>,
}

fn interaction_base(env: &InteractionEnvelope, kind: u8, invoker: &Invoker, data: Value) -> Value {
    let channel = match &env.channel {
        Some(c) => c.clone(),
        None => FakeChannel::text(
            invoker.channel_id,
            format!("channel-{}", invoker.channel_id),
        ),
    };
    let mut v = json!({
        "id": env.id.to_string(),
        "application_id": env.application_id.to_string(),
        "type": kind,
        "token": env.token,
        "data": data,
        "channel_id": invoker.channel_id.to_string(),
        "version": 1,
        "locale": invoker.locale,
        "app_permissions": env.app_permissions.to_string(),
        "entitlements": [],
        "attachment_size_limit": 26_214_400,
    });
    match invoker.guild_id {
        Some(guild_id) => {
            let mut member = invoker.member().to_json();
            member["permissions"] = json!(env.member_permissions.to_string());
            v["guild_id"] = json!(guild_id.to_string());
            v["guild_locale"] = json!("en-US");
            v["guild"] = json!({"id": guild_id.to_string(), "locale": "en-US", "features": []});
            v["member"] = member;
            v["channel"] = channel.to_partial_json(guild_id, env.member_permissions);
            v["authorizing_integration_owners"] = json!({"0": guild_id.to_string()});
            v["context"] = json!(0);
        }
        None => {
            v["user"] = invoker.user.to_json();
            v["channel"] = json!({
                "id": invoker.channel_id.to_string(),
                "type": 1,
                "last_message_id": null,
                "flags": 0,
                "recipients": [invoker.user.to_json()],
            });
            v["authorizing_integration_owners"] = json!({"1": invoker.user.id.to_string()});
            v["context"] = json!(1);
        }
    }
    v
}

fn command_data(call: &CommandCall, command_id: u64, guild_id: Option<u64>) -> Value {
    let mut resolved = Map::new();
    for o in &call.options {
        o.collect_resolved(guild_id, &mut resolved);
    }
    let mut data = json!({
        "id": command_id.to_string(),
        "name": call.name,
        "type": 1,
        "options": call.options.iter().map(CommandOption::to_json).collect::<Vec<_>>(),
    });
    if !resolved.is_empty() {
        data["resolved"] = Value::Object(resolved);
    }
    if let Some(g) = guild_id {
        data["guild_id"] = json!(g.to_string());
    }
    data
}

/// INTERACTION_CREATE for a slash command (type 2). `command_id` is the registered command's id.
pub fn interaction_command(
    env: &InteractionEnvelope,
    command_id: u64,
    call: &CommandCall,
    invoker: &Invoker,
) -> Value {
    let data = command_data(call, command_id, invoker.guild_id);
    interaction_base(env, interaction_kind::APPLICATION_COMMAND, invoker, data)
}

/// INTERACTION_CREATE for autocomplete (type 4): `call` must hold one option made with
/// [`CommandOption::focused`].
pub fn interaction_autocomplete(
    env: &InteractionEnvelope,
    command_id: u64,
    call: &CommandCall,
    invoker: &Invoker,
) -> Value {
    let data = command_data(call, command_id, invoker.guild_id);
    interaction_base(env, interaction_kind::AUTOCOMPLETE, invoker, data)
}

/// INTERACTION_CREATE for a message component (type 3). `message` is the full message object the
/// component is on.
pub fn interaction_component(
    env: &InteractionEnvelope,
    press: &ComponentPress,
    invoker: &Invoker,
    message: Value,
) -> Value {
    let mut data = json!({
        "custom_id": press.custom_id,
        "component_type": press.component_type,
    });
    if press.component_type != 2 {
        data["values"] = json!(press.values);
    }
    let mut v = interaction_base(env, interaction_kind::MESSAGE_COMPONENT, invoker, data);
    v["message"] = message;
    v
}

/// INTERACTION_CREATE for a button press; same as [`interaction_component`].
pub fn interaction_button(
    env: &InteractionEnvelope,
    press: &ComponentPress,
    invoker: &Invoker,
    message: Value,
) -> Value {
    interaction_component(env, press, invoker, message)
}

/// A reaction emoji.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Emoji {
    /// A Unicode emoji such as `🙏`.
    Unicode(String),
    /// A custom guild emoji.
    Custom {
        /// Emoji id.
        id: u64,
        /// Emoji name.
        name: String,
        /// Animated?
        animated: bool,
    },
}

impl Emoji {
    /// A Unicode emoji.
    pub fn unicode(s: impl Into<String>) -> Self {
        Emoji::Unicode(s.into())
    }

    /// A custom emoji.
    pub fn custom(id: u64, name: impl Into<String>) -> Self {
        Emoji::Custom {
            id,
            name: name.into(),
            animated: false,
        }
    }

    /// The emoji object (`{"id": null, "name": "🙏"}` or `{"id": "1", "name": "x", ...}`).
    pub fn to_json(&self) -> Value {
        match self {
            Emoji::Unicode(s) => json!({"id": null, "name": s}),
            Emoji::Custom { id, name, animated } => {
                json!({"id": id.to_string(), "name": name, "animated": animated})
            }
        }
    }

    /// The emoji as it appears (decoded) in a reaction URL: the character itself, or `name:id`.
    pub fn path_key(&self) -> String {
        match self {
            Emoji::Unicode(s) => s.clone(),
            Emoji::Custom { id, name, .. } => format!("{name}:{id}"),
        }
    }

    /// The emoji percent-encoded for a URL path segment.
    pub fn path_segment(&self) -> String {
        utf8_percent_encode(&self.path_key(), NON_ALPHANUMERIC).to_string()
    }
}

impl From<&str> for Emoji {
    fn from(s: &str) -> Self {
        Emoji::unicode(s)
    }
}

/// A reaction being added or removed by someone.
#[derive(Clone, Debug)]
pub struct ReactionEvent {
    /// Who reacted.
    pub user_id: u64,
    /// Channel of the message.
    pub channel_id: u64,
    /// The message.
    pub message_id: u64,
    /// Guild, if in one.
    pub guild_id: Option<u64>,
    /// The emoji.
    pub emoji: Emoji,
    /// Super reaction?
    pub burst: bool,
    /// The reacting member (MESSAGE_REACTION_ADD in guilds); made up from `user_id` if `None`.
    pub member: Option<FakeMember>,
    /// The message's author, if known.
    pub message_author_id: Option<u64>,
}

impl ReactionEvent {
    /// A normal reaction in a DM or unknown guild; use [`ReactionEvent::in_guild`] for guilds.
    pub fn new(user_id: u64, channel_id: u64, message_id: u64, emoji: impl Into<Emoji>) -> Self {
        ReactionEvent {
            user_id,
            channel_id,
            message_id,
            guild_id: None,
            emoji: emoji.into(),
            burst: false,
            member: None,
            message_author_id: None,
        }
    }

    /// Sets the guild.
    pub fn in_guild(mut self, guild_id: u64) -> Self {
        self.guild_id = Some(guild_id);
        self
    }

    /// Sets the reacting member.
    pub fn with_member(mut self, member: FakeMember) -> Self {
        self.member = Some(member);
        self
    }
}

/// MESSAGE_REACTION_ADD data (with the `burst` and `type` serenity requires).
pub fn reaction_add(ev: &ReactionEvent) -> Value {
    let mut v = reaction_remove(ev);
    if ev.guild_id.is_some() {
        let member = ev.member.clone().unwrap_or_else(|| {
            FakeMember::new(FakeUser::new(ev.user_id, format!("user-{}", ev.user_id)))
        });
        v["member"] = member.to_json();
    }
    if let Some(author) = ev.message_author_id {
        v["message_author_id"] = json!(author.to_string());
    }
    v["burst_colors"] = json!([]);
    v
}

/// MESSAGE_REACTION_REMOVE data.
pub fn reaction_remove(ev: &ReactionEvent) -> Value {
    let mut v = json!({
        "user_id": ev.user_id.to_string(),
        "channel_id": ev.channel_id.to_string(),
        "message_id": ev.message_id.to_string(),
        "emoji": ev.emoji.to_json(),
        "burst": ev.burst,
        "type": if ev.burst { 1 } else { 0 },
    });
    if let Some(guild_id) = ev.guild_id {
        v["guild_id"] = json!(guild_id.to_string());
    }
    v
}

/// GUILD_CREATE data: the full guild with channels, roles and members.
pub fn guild_create(guild: &FakeGuild) -> Value {
    guild.to_gateway_json()
}

/// READY data. `guild_ids` are listed as unavailable, as Discord does; their GUILD_CREATEs follow.
pub fn ready(
    bot: &FakeUser,
    application_id: u64,
    session_id: &str,
    resume_gateway_url: &str,
    shard: [u32; 2],
    guild_ids: &[u64],
) -> Value {
    let mut user = bot.to_json();
    user["verified"] = json!(true);
    user["mfa_enabled"] = json!(false);
    user["email"] = Value::Null;
    json!({
        "v": 10,
        "user": user,
        "guilds": guild_ids
            .iter()
            .map(|id| json!({"id": id.to_string(), "unavailable": true}))
            .collect::<Vec<_>>(),
        "session_id": session_id,
        "session_type": "normal",
        "resume_gateway_url": resume_gateway_url,
        "shard": shard,
        "application": {"id": application_id.to_string(), "flags": 0},
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": [],
        "user_settings": {},
        "_trace": ["fake-discord"],
    })
}

/// Fields of a message the fake creates.
#[derive(Clone, Debug)]
pub struct MessageParts<'a> {
    /// Message id.
    pub id: u64,
    /// Channel id.
    pub channel_id: u64,
    /// Guild id, if any.
    pub guild_id: Option<u64>,
    /// Author.
    pub author: &'a FakeUser,
    /// Webhook id (interaction responses and follow-ups carry the application id here).
    pub webhook_id: Option<u64>,
    /// Application id (interaction responses).
    pub application_id: Option<u64>,
}

/// A full message object from the bot's request body (`content`, `embeds`, `components`, `tts`,
/// `flags`, `nonce`, `message_reference`, `poll`) plus attachments from uploaded files.
pub fn message(parts: &MessageParts<'_>, body: &Value, attachments: Vec<Value>) -> Value {
    let get = |k: &str| body.get(k).filter(|v| !v.is_null());
    let content = get("content").and_then(Value::as_str).unwrap_or("");
    let mut v = json!({
        "id": parts.id.to_string(),
        "channel_id": parts.channel_id.to_string(),
        "author": parts.author.to_json(),
        "content": content,
        "timestamp": now_timestamp(),
        "edited_timestamp": null,
        "tts": get("tts").and_then(Value::as_bool).unwrap_or(false),
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "mention_channels": [],
        "attachments": attachments,
        "embeds": embeds_from_request(get("embeds")),
        "reactions": [],
        "pinned": false,
        "type": if get("message_reference").is_some() { 19 } else { 0 },
        "flags": get("flags").and_then(Value::as_u64).unwrap_or(0),
        "components": components_from_request(get("components")),
    });
    if let Some(g) = parts.guild_id {
        v["guild_id"] = json!(g.to_string());
    }
    if let Some(w) = parts.webhook_id {
        v["webhook_id"] = json!(w.to_string());
    }
    if let Some(a) = parts.application_id {
        v["application_id"] = json!(a.to_string());
    }
    if let Some(nonce) = get("nonce") {
        v["nonce"] = nonce.clone();
    }
    if let Some(reference) = get("message_reference") {
        let mut r = reference.clone();
        if r.get("channel_id").is_none() {
            r["channel_id"] = json!(parts.channel_id.to_string());
        }
        r["type"] = json!(0);
        v["message_reference"] = r;
    }
    v
}

/// MESSAGE_CREATE data for a message someone posts: the message object plus `guild_id` and the
/// author's `member` (without `user`) in guilds, as the gateway sends it.
pub fn message_create(
    parts: &MessageParts<'_>,
    content: &str,
    member: Option<&FakeMember>,
) -> Value {
    let mut v = message(parts, &json!({"content": content}), Vec::new());
    if let Some(m) = member {
        v["member"] = m.to_partial_json();
    }
    v
}

/// Applies an edit body (PATCH) to a stored message.
pub fn apply_edit(message: &mut Value, body: &Value, attachments: Option<Vec<Value>>) {
    if let Some(c) = body.get("content") {
        message["content"] = if c.is_null() { json!("") } else { c.clone() };
    }
    if body.get("embeds").is_some() {
        message["embeds"] = embeds_from_request(body.get("embeds").filter(|v| !v.is_null()));
    }
    if body.get("components").is_some() {
        message["components"] =
            components_from_request(body.get("components").filter(|v| !v.is_null()));
    }
    if let Some(flags) = body.get("flags").and_then(Value::as_u64) {
        message["flags"] = json!(flags);
    }
    if let Some(a) = attachments {
        message["attachments"] = json!(a);
    }
    message["edited_timestamp"] = json!(now_timestamp());
}

/// Request embeds as Discord returns them: each gets `type: "rich"`.
fn embeds_from_request(embeds: Option<&Value>) -> Value {
    let Some(Value::Array(list)) = embeds else {
        return json!([]);
    };
    Value::Array(
        list.iter()
            .map(|e| {
                let mut e = e.clone();
                if e.is_object() && e.get("type").is_none() {
                    e["type"] = json!("rich");
                }
                e
            })
            .collect(),
    )
}

/// Request components as Discord returns them: every component gets a numeric `id`.
fn components_from_request(components: Option<&Value>) -> Value {
    fn number(v: &mut Value, next: &mut u64) {
        match v {
            Value::Object(map) => {
                if map.contains_key("type") && !map.contains_key("id") {
                    map.insert("id".to_owned(), json!(*next));
                    *next += 1;
                }
                for key in ["components", "accessory"] {
                    if let Some(child) = map.get_mut(key) {
                        number(child, next);
                    }
                }
            }
            Value::Array(list) => list.iter_mut().for_each(|c| number(c, next)),
            _ => {}
        }
    }
    let Some(c) = components else {
        return json!([]);
    };
    let mut c = c.clone();
    let mut next = 1;
    number(&mut c, &mut next);
    c
}
