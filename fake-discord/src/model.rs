//! Plain descriptions of users, roles, channels, members and guilds that tests register with the
//! fake, their JSON in the shapes Discord (and serenity 0.12.5) use, and Discord's permission
//! arithmetic over them.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use crate::ids::{next_snowflake, now_ms, now_timestamp};

/// Permission bits (the ones tests usually need), as in Discord's documentation.
pub mod permissions {
    /// CREATE_INSTANT_INVITE
    pub const CREATE_INSTANT_INVITE: u64 = 1 << 0;
    /// KICK_MEMBERS
    pub const KICK_MEMBERS: u64 = 1 << 1;
    /// BAN_MEMBERS
    pub const BAN_MEMBERS: u64 = 1 << 2;
    /// ADMINISTRATOR: every permission, overwrites ignored.
    pub const ADMINISTRATOR: u64 = 1 << 3;
    /// MANAGE_CHANNELS
    pub const MANAGE_CHANNELS: u64 = 1 << 4;
    /// MANAGE_GUILD
    pub const MANAGE_GUILD: u64 = 1 << 5;
    /// ADD_REACTIONS
    pub const ADD_REACTIONS: u64 = 1 << 6;
    /// VIEW_CHANNEL
    pub const VIEW_CHANNEL: u64 = 1 << 10;
    /// SEND_MESSAGES
    pub const SEND_MESSAGES: u64 = 1 << 11;
    /// SEND_TTS_MESSAGES
    pub const SEND_TTS_MESSAGES: u64 = 1 << 12;
    /// MANAGE_MESSAGES
    pub const MANAGE_MESSAGES: u64 = 1 << 13;
    /// EMBED_LINKS
    pub const EMBED_LINKS: u64 = 1 << 14;
    /// ATTACH_FILES
    pub const ATTACH_FILES: u64 = 1 << 15;
    /// READ_MESSAGE_HISTORY
    pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
    /// MENTION_EVERYONE
    pub const MENTION_EVERYONE: u64 = 1 << 17;
    /// USE_EXTERNAL_EMOJIS
    pub const USE_EXTERNAL_EMOJIS: u64 = 1 << 18;
    /// CONNECT
    pub const CONNECT: u64 = 1 << 20;
    /// SPEAK
    pub const SPEAK: u64 = 1 << 21;
    /// CHANGE_NICKNAME
    pub const CHANGE_NICKNAME: u64 = 1 << 26;
    /// MANAGE_ROLES
    pub const MANAGE_ROLES: u64 = 1 << 28;
    /// USE_APPLICATION_COMMANDS
    pub const USE_APPLICATION_COMMANDS: u64 = 1 << 31;
    /// CREATE_PUBLIC_THREADS
    pub const CREATE_PUBLIC_THREADS: u64 = 1 << 35;
    /// SEND_MESSAGES_IN_THREADS
    pub const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;
    /// Every permission bit Discord defines today (and a few spare), what admins get.
    pub const ALL: u64 = (1 << 51) - 1;
    /// What `@everyone` gets in a new guild (roughly Discord's default), and what the fake uses
    /// for a member's permissions when nothing else says.
    pub const DEFAULT_EVERYONE: u64 = CREATE_INSTANT_INVITE
        | ADD_REACTIONS
        | VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | USE_EXTERNAL_EMOJIS
        | CONNECT
        | SPEAK
        | CHANGE_NICKNAME
        | USE_APPLICATION_COMMANDS
        | SEND_MESSAGES_IN_THREADS;
}

/// A Discord user (or bot account).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeUser {
    /// Snowflake id.
    pub id: u64,
    /// Unique username.
    pub username: String,
    /// Display name, if any.
    pub global_name: Option<String>,
    /// Whether this is a bot account.
    pub bot: bool,
}

impl FakeUser {
    /// A human user.
    pub fn new(id: u64, username: impl Into<String>) -> Self {
        FakeUser {
            id,
            username: username.into(),
            global_name: None,
            bot: false,
        }
    }

    /// A bot account.
    pub fn bot(id: u64, username: impl Into<String>) -> Self {
        FakeUser {
            bot: true,
            ..FakeUser::new(id, username)
        }
    }

    /// The user object (`UserResponse` in the spec; serenity's `User`).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": null,
            "bot": self.bot,
            "system": false,
            "public_flags": 0,
            "flags": 0,
            "banner": null,
            "accent_color": null,
            "avatar_decoration_data": null,
            "primary_guild": null,
        })
    }
}

/// What is percent-encoded in an attachment URL's file name segment.
const FILENAME_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'.').remove(b'-').remove(b'_');

/// A file a user attached, e.g. to a slash command's ATTACHMENT option
/// ([`crate::CommandOption::attachment`]). When the fake sends it (or
/// [`crate::FakeDiscord::serve_attachment`] registers it), `url` and `proxy_url` point at the
/// fake, which serves `data` on `GET`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeAttachment {
    /// Snowflake id (the option's `value` and the key in `data.resolved.attachments`).
    pub id: u64,
    /// File name.
    pub filename: String,
    /// Media type (`content_type`); Discord leaves it out for types it does not recognise.
    pub content_type: Option<String>,
    /// The file's bytes (`size` is their length).
    pub data: Vec<u8>,
    /// Description (alt text).
    pub description: Option<String>,
    /// Width and height, for images.
    pub dimensions: Option<(u32, u32)>,
    /// Whether Discord marks it ephemeral (true for files given to slash commands).
    pub ephemeral: bool,
    /// Download URL; `None` until the fake points it at itself
    /// (`http://127.0.0.1:PORT/attachments/{channel}/{id}/{filename}?ex=..&is=..&hm=..`).
    pub url: Option<String>,
    /// Media proxy URL; `None`: same as `url`.
    pub proxy_url: Option<String>,
}

impl FakeAttachment {
    /// A file with a fresh id, e.g. `FakeAttachment::new("list.json", "application/json",
    /// b"[]".to_vec())`. An empty `content_type` leaves `content_type` out.
    pub fn new(
        filename: impl Into<String>,
        content_type: impl Into<String>,
        data: impl Into<Vec<u8>>,
    ) -> Self {
        let content_type = content_type.into();
        FakeAttachment {
            id: next_snowflake(),
            filename: filename.into(),
            content_type: (!content_type.is_empty()).then_some(content_type),
            data: data.into(),
            description: None,
            dimensions: None,
            ephemeral: true,
            url: None,
            proxy_url: None,
        }
    }

    /// Sets the id.
    pub fn with_id(mut self, id: u64) -> Self {
        self.id = id;
        self
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets width and height (images).
    pub fn with_dimensions(mut self, width: u32, height: u32) -> Self {
        self.dimensions = Some((width, height));
        self
    }

    /// Sets the download URL (the fake then does not point it at itself; it still serves the
    /// bytes at its own URL).
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// The path the fake serves this file at:
    /// `/attachments/{channel_id}/{id}/{filename, percent-encoded}`.
    pub fn path(&self, channel_id: u64) -> String {
        format!(
            "/attachments/{channel_id}/{}/{}",
            self.id,
            utf8_percent_encode(&self.filename, FILENAME_SEGMENT)
        )
    }

    /// The signed-URL query Discord's CDN adds (`ex` expiry and `is` issue time in hex seconds,
    /// `hm` a signature), so bot code that takes the file name from the URL's end breaks here
    /// as it would on Discord.
    pub fn signature_query(&self) -> String {
        let now = now_ms() / 1000;
        format!(
            "ex={:08x}&is={now:08x}&hm={:016x}{:016x}{:016x}{:016x}",
            now + 86_400,
            self.id,
            self.id.rotate_left(16),
            self.id.rotate_left(32),
            self.id.rotate_left(48)
        )
    }

    /// Points `url` (if unset) and `proxy_url` (if unset) at `base_url` (the fake's
    /// `http://127.0.0.1:PORT`).
    pub fn point_at(&mut self, base_url: &str, channel_id: u64) {
        if self.url.is_none() {
            self.url = Some(format!(
                "{base_url}{}?{}",
                self.path(channel_id),
                self.signature_query()
            ));
        }
        if self.proxy_url.is_none() {
            self.proxy_url = self.url.clone();
        }
    }

    /// The attachment object (serenity's `Attachment`). Without a `url` (not sent through a
    /// fake), it names `https://cdn.discordapp.com/ephemeral-attachments/0/{id}/{filename}`.
    pub fn to_json(&self) -> Value {
        let url = self.url.clone().unwrap_or_else(|| {
            format!(
                "https://cdn.discordapp.com/ephemeral-attachments/0/{}/{}",
                self.id,
                utf8_percent_encode(&self.filename, FILENAME_SEGMENT)
            )
        });
        let mut v = json!({
            "id": self.id.to_string(),
            "filename": self.filename,
            "size": self.data.len(),
            "url": url,
            "proxy_url": self.proxy_url.clone().unwrap_or_else(|| url.clone()),
            "ephemeral": self.ephemeral,
        });
        if let Some(ct) = &self.content_type {
            v["content_type"] = json!(ct);
        }
        if let Some(d) = &self.description {
            v["description"] = json!(d);
        }
        if let Some((w, h)) = self.dimensions {
            v["width"] = json!(w);
            v["height"] = json!(h);
        }
        v
    }
}

/// A guild role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeRole {
    /// Snowflake id (the `@everyone` role's id equals the guild's id).
    pub id: u64,
    /// Name.
    pub name: String,
    /// Permission bits, see [`permissions`].
    pub permissions: u64,
    /// Position in the role list (`@everyone` is 0).
    pub position: u16,
    /// RGB colour.
    pub color: u32,
    /// Whether it is shown separately in the member list.
    pub hoist: bool,
    /// Whether it is managed by an integration.
    pub managed: bool,
    /// Whether anyone can mention it.
    pub mentionable: bool,
}

impl FakeRole {
    /// A role with the given permission bits, position 1.
    pub fn new(id: u64, name: impl Into<String>, permissions: u64) -> Self {
        FakeRole {
            id,
            name: name.into(),
            permissions,
            position: 1,
            color: 0,
            hoist: false,
            managed: false,
            mentionable: false,
        }
    }

    /// The role object (serenity's `Role`; needs `colors.primary_color`).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "name": self.name,
            "description": null,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": null,
                "tertiary_color": null,
            },
            "hoist": self.hoist,
            "icon": null,
            "unicode_emoji": null,
            "position": self.position,
            "permissions": self.permissions.to_string(),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        })
    }
}

/// Whom a channel permission overwrite is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverwriteTarget {
    /// A role (use the guild id for `@everyone`).
    Role(u64),
    /// A single member.
    Member(u64),
}

/// A channel permission overwrite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overwrite {
    /// Whom it applies to.
    pub target: OverwriteTarget,
    /// Bits allowed.
    pub allow: u64,
    /// Bits denied.
    pub deny: u64,
}

impl Overwrite {
    /// An overwrite for a role (the guild id means `@everyone`).
    pub fn role(role_id: u64, allow: u64, deny: u64) -> Self {
        Overwrite {
            target: OverwriteTarget::Role(role_id),
            allow,
            deny,
        }
    }

    /// An overwrite for one member.
    pub fn member(user_id: u64, allow: u64, deny: u64) -> Self {
        Overwrite {
            target: OverwriteTarget::Member(user_id),
            allow,
            deny,
        }
    }

    /// The overwrite object.
    pub fn to_json(&self) -> Value {
        let (id, kind) = match self.target {
            OverwriteTarget::Role(id) => (id, 0),
            OverwriteTarget::Member(id) => (id, 1),
        };
        json!({
            "id": id.to_string(),
            "type": kind,
            "allow": self.allow.to_string(),
            "deny": self.deny.to_string(),
        })
    }
}

/// Channel types the fake knows by name; any other number works through [`FakeChannel::kind`].
pub mod channel_kind {
    /// GUILD_TEXT
    pub const TEXT: u8 = 0;
    /// DM
    pub const DM: u8 = 1;
    /// GUILD_VOICE
    pub const VOICE: u8 = 2;
    /// GUILD_CATEGORY
    pub const CATEGORY: u8 = 4;
    /// GUILD_ANNOUNCEMENT
    pub const ANNOUNCEMENT: u8 = 5;
    /// PUBLIC_THREAD
    pub const PUBLIC_THREAD: u8 = 11;
    /// GUILD_FORUM
    pub const FORUM: u8 = 15;
}

/// A guild channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeChannel {
    /// Snowflake id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Channel type number, see [`channel_kind`].
    pub kind: u8,
    /// Sorting position.
    pub position: u16,
    /// Category it sits in.
    pub parent_id: Option<u64>,
    /// Topic.
    pub topic: Option<String>,
    /// Permission overwrites.
    pub overwrites: Vec<Overwrite>,
    /// Age-restricted.
    pub nsfw: bool,
}

impl FakeChannel {
    /// A text channel.
    pub fn text(id: u64, name: impl Into<String>) -> Self {
        FakeChannel {
            id,
            name: name.into(),
            kind: channel_kind::TEXT,
            position: 0,
            parent_id: None,
            topic: None,
            overwrites: Vec::new(),
            nsfw: false,
        }
    }

    /// A category.
    pub fn category(id: u64, name: impl Into<String>) -> Self {
        FakeChannel {
            kind: channel_kind::CATEGORY,
            ..FakeChannel::text(id, name)
        }
    }

    /// Adds a permission overwrite.
    pub fn with_overwrite(mut self, overwrite: Overwrite) -> Self {
        self.overwrites.push(overwrite);
        self
    }

    /// Puts the channel in a category.
    pub fn with_parent(mut self, parent_id: u64) -> Self {
        self.parent_id = Some(parent_id);
        self
    }

    /// The guild channel object (serenity's `GuildChannel`).
    pub fn to_json(&self, guild_id: u64) -> Value {
        let mut v = json!({
            "id": self.id.to_string(),
            "type": self.kind,
            "guild_id": guild_id.to_string(),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": self.overwrites.iter().map(Overwrite::to_json).collect::<Vec<_>>(),
            "parent_id": self.parent_id.map(|p| p.to_string()),
            "nsfw": self.nsfw,
            "flags": 0,
        });
        if self.kind != channel_kind::CATEGORY {
            v["topic"] = json!(self.topic);
            v["last_message_id"] = Value::Null;
            v["rate_limit_per_user"] = json!(0);
        }
        if self.kind == channel_kind::VOICE {
            v["bitrate"] = json!(64000);
            v["user_limit"] = json!(0);
            v["rtc_region"] = Value::Null;
        }
        v
    }

    /// The partial channel object that interactions carry (`channel` and resolved channels).
    pub fn to_partial_json(&self, guild_id: u64, permissions: u64) -> Value {
        let mut v = self.to_json(guild_id);
        v["permissions"] = json!(permissions.to_string());
        v
    }
}

/// A guild member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeMember {
    /// The user.
    pub user: FakeUser,
    /// Role ids (not including `@everyone`).
    pub roles: Vec<u64>,
    /// Guild nickname.
    pub nick: Option<String>,
}

impl FakeMember {
    /// A member with no roles besides `@everyone`.
    pub fn new(user: FakeUser) -> Self {
        FakeMember {
            user,
            roles: Vec::new(),
            nick: None,
        }
    }

    /// Adds roles.
    pub fn with_roles(mut self, roles: impl IntoIterator<Item = u64>) -> Self {
        self.roles.extend(roles);
        self
    }

    /// The member object without `user` (what interaction-resolved members and reaction events
    /// nest under other keys), to which [`FakeMember::to_json`] adds `user`.
    pub fn to_partial_json(&self) -> Value {
        json!({
            "nick": self.nick,
            "avatar": null,
            "banner": null,
            "roles": self.roles.iter().map(u64::to_string).collect::<Vec<_>>(),
            "joined_at": now_timestamp(),
            "premium_since": null,
            "deaf": false,
            "mute": false,
            "flags": 0,
            "pending": false,
            "communication_disabled_until": null,
        })
    }

    /// The guild member object (serenity's `Member`).
    pub fn to_json(&self) -> Value {
        let mut v = self.to_partial_json();
        v["user"] = self.user.to_json();
        v
    }
}

/// A guild with its roles, channels and members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeGuild {
    /// Snowflake id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Owner's user id (the owner has every permission).
    pub owner_id: u64,
    /// Roles, `@everyone` (id = guild id) first.
    pub roles: Vec<FakeRole>,
    /// Channels.
    pub channels: Vec<FakeChannel>,
    /// Members.
    pub members: Vec<FakeMember>,
}

impl FakeGuild {
    /// A guild with an `@everyone` role holding [`permissions::DEFAULT_EVERYONE`], no channels and
    /// no members. The owner need not be a member.
    pub fn new(id: u64, name: impl Into<String>, owner_id: u64) -> Self {
        let mut everyone = FakeRole::new(id, "@everyone", permissions::DEFAULT_EVERYONE);
        everyone.position = 0;
        FakeGuild {
            id,
            name: name.into(),
            owner_id,
            roles: vec![everyone],
            channels: Vec::new(),
            members: Vec::new(),
        }
    }

    /// Adds a channel.
    pub fn with_channel(mut self, channel: FakeChannel) -> Self {
        self.channels.push(channel);
        self
    }

    /// Adds a role.
    pub fn with_role(mut self, role: FakeRole) -> Self {
        self.roles.push(role);
        self
    }

    /// Adds a member.
    pub fn with_member(mut self, member: FakeMember) -> Self {
        self.members.push(member);
        self
    }

    /// Replaces `@everyone`'s permission bits.
    pub fn with_everyone_permissions(mut self, bits: u64) -> Self {
        let id = self.id;
        if let Some(role) = self.roles.iter_mut().find(|r| r.id == id) {
            role.permissions = bits;
        }
        self
    }

    /// A channel by id.
    pub fn channel(&self, channel_id: u64) -> Option<&FakeChannel> {
        self.channels.iter().find(|c| c.id == channel_id)
    }

    /// A member by user id.
    pub fn member(&self, user_id: u64) -> Option<&FakeMember> {
        self.members.iter().find(|m| m.user.id == user_id)
    }

    /// A role by id.
    pub fn role(&self, role_id: u64) -> Option<&FakeRole> {
        self.roles.iter().find(|r| r.id == role_id)
    }

    /// The member's guild-level permissions (owner and administrators get [`permissions::ALL`]),
    /// or `None` if the user is neither the owner nor a member.
    pub fn base_permissions(&self, user_id: u64) -> Option<u64> {
        if user_id == self.owner_id {
            return Some(permissions::ALL);
        }
        let member = self.member(user_id)?;
        let mut bits = self.role(self.id).map_or(0, |r| r.permissions);
        for role_id in &member.roles {
            bits |= self.role(*role_id).map_or(0, |r| r.permissions);
        }
        if bits & permissions::ADMINISTRATOR != 0 {
            return Some(permissions::ALL);
        }
        Some(bits)
    }

    /// The member's permissions in a channel, applying the channel's overwrites the way Discord
    /// does (`@everyone`, then roles together, then the member), or `None` if the user is not a
    /// member or the channel is not in this guild.
    pub fn permissions_in(&self, channel_id: u64, user_id: u64) -> Option<u64> {
        let base = self.base_permissions(user_id)?;
        let channel = self.channel(channel_id)?;
        if base & permissions::ADMINISTRATOR != 0 || base == permissions::ALL {
            return Some(permissions::ALL);
        }
        let member_roles: &[u64] = self.member(user_id).map_or(&[], |m| &m.roles);
        let mut bits = base;
        if let Some(ow) = channel
            .overwrites
            .iter()
            .find(|o| o.target == OverwriteTarget::Role(self.id))
        {
            bits = (bits & !ow.deny) | ow.allow;
        }
        let (mut allow, mut deny) = (0, 0);
        for ow in &channel.overwrites {
            if let OverwriteTarget::Role(role_id) = ow.target
                && role_id != self.id
                && member_roles.contains(&role_id)
            {
                allow |= ow.allow;
                deny |= ow.deny;
            }
        }
        bits = (bits & !deny) | allow;
        if let Some(ow) = channel
            .overwrites
            .iter()
            .find(|o| o.target == OverwriteTarget::Member(user_id))
        {
            bits = (bits & !ow.deny) | ow.allow;
        }
        if bits & permissions::VIEW_CHANNEL == 0 {
            return Some(0);
        }
        Some(bits)
    }

    /// The guild object as `GET /guilds/{id}` returns it (no channels or members).
    pub fn to_rest_json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "name": self.name,
            "icon": null,
            "icon_hash": null,
            "splash": null,
            "discovery_splash": null,
            "owner_id": self.owner_id.to_string(),
            "afk_channel_id": null,
            "afk_timeout": 300,
            "widget_enabled": false,
            "widget_channel_id": null,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": self.roles.iter().map(FakeRole::to_json).collect::<Vec<_>>(),
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": null,
            "system_channel_id": null,
            "system_channel_flags": 0,
            "rules_channel_id": null,
            "max_presences": null,
            "max_members": 500000,
            "vanity_url_code": null,
            "description": null,
            "banner": null,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": null,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw": false,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": false,
            "safety_alerts_channel_id": null,
            "incidents_data": null,
            "region": "deprecated",
            "home_header": null,
        })
    }

    /// The full guild object that the gateway's `GUILD_CREATE` carries (serenity's `Guild`).
    pub fn to_gateway_json(&self) -> Value {
        let mut v = self.to_rest_json();
        v["joined_at"] = json!(now_timestamp());
        v["large"] = json!(false);
        v["unavailable"] = json!(false);
        v["member_count"] = json!(self.members.len());
        v["voice_states"] = json!([]);
        v["members"] = json!(
            self.members
                .iter()
                .map(FakeMember::to_json)
                .collect::<Vec<_>>()
        );
        v["channels"] = json!(
            self.channels
                .iter()
                .map(|c| c.to_json(self.id))
                .collect::<Vec<_>>()
        );
        v["threads"] = json!([]);
        v["presences"] = json!([]);
        v["stage_instances"] = json!([]);
        v["guild_scheduled_events"] = json!([]);
        v["soundboard_sounds"] = json!([]);
        v["lazy"] = json!(true);
        v["application_command_counts"] = json!({});
        v
    }
}

#[cfg(test)]
mod tests {
    use super::permissions::*;
    use super::*;

    fn guild() -> FakeGuild {
        FakeGuild::new(1, "g", 99)
            .with_role(FakeRole::new(10, "mod", MANAGE_MESSAGES))
            .with_role(FakeRole::new(11, "admin", ADMINISTRATOR))
            .with_channel(
                FakeChannel::text(100, "locked")
                    .with_overwrite(Overwrite::role(1, 0, SEND_MESSAGES))
                    .with_overwrite(Overwrite::role(10, SEND_MESSAGES, 0))
                    .with_overwrite(Overwrite::member(5, 0, SEND_MESSAGES)),
            )
            .with_channel(
                FakeChannel::text(101, "hidden").with_overwrite(Overwrite::role(
                    1,
                    0,
                    VIEW_CHANNEL,
                )),
            )
            .with_member(FakeMember::new(FakeUser::new(2, "plain")))
            .with_member(FakeMember::new(FakeUser::new(3, "mod")).with_roles([10]))
            .with_member(FakeMember::new(FakeUser::new(4, "admin")).with_roles([11]))
            .with_member(FakeMember::new(FakeUser::new(5, "muted")).with_roles([10]))
    }

    #[test]
    fn overwrites_apply_in_discord_order() {
        let g = guild();
        let plain = g.permissions_in(100, 2).expect("member");
        assert_eq!(plain & SEND_MESSAGES, 0);
        assert_ne!(plain & VIEW_CHANNEL, 0);
        let moderator = g.permissions_in(100, 3).expect("member");
        assert_ne!(moderator & SEND_MESSAGES, 0);
        let muted = g.permissions_in(100, 5).expect("member");
        assert_eq!(muted & SEND_MESSAGES, 0);
        assert_eq!(g.permissions_in(100, 4), Some(ALL));
        assert_eq!(g.permissions_in(100, 99), Some(ALL));
        assert_eq!(g.permissions_in(101, 2), Some(0));
        assert_eq!(g.permissions_in(100, 12345), None);
    }
}
