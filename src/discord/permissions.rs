//! Whether the bot may post in a channel: the permissions it needs there,
//! computed from the server's roles and the channel's overrides.

use poise::serenity_prelude as serenity;
use serenity::{ChannelId, Permissions};

use super::{Context, Error, UserError};

/// What a weekly post needs in its channel, with the names Discord's
/// settings screens use: to see the channel, send, add the 🙏, and react to
/// (and later reply to) its own messages. Nothing the bot sends is an embed,
/// so Embed Links is not asked for.
const NEEDED: [(Permissions, &str); 4] = [
    (Permissions::VIEW_CHANNEL, "View Channel"),
    (Permissions::SEND_MESSAGES, "Send Messages"),
    (Permissions::ADD_REACTIONS, "Add Reactions"),
    (Permissions::READ_MESSAGE_HISTORY, "Read Message History"),
];

/// The names of the permissions a post needs that `granted` lacks.
pub fn missing_for_posting(granted: Permissions) -> Vec<&'static str> {
    if granted.administrator() {
        return Vec::new();
    }
    NEEDED
        .iter()
        .filter(|(permission, _)| !granted.contains(*permission))
        .map(|(_, name)| *name)
        .collect()
}

/// What the bot lacks to post in `channel` of the command's server.
pub async fn missing_in(ctx: Context<'_>, channel: ChannelId) -> Result<Vec<&'static str>, Error> {
    let (guild, member) = bot_in_server(ctx).await?;
    let Some(target) = guild.channels.get(&channel) else {
        return Err(
            UserError::new(format!("<#{channel}> is not a channel of this server.")).into(),
        );
    };
    Ok(missing_for_posting(
        guild.user_permissions_in(target, &member),
    ))
}

/// Whether the bot may open public threads in `channel` of the command's
/// server (for the week's thread).
pub async fn may_open_threads(ctx: Context<'_>, channel: ChannelId) -> Result<bool, Error> {
    let (guild, member) = bot_in_server(ctx).await?;
    let Some(target) = guild.channels.get(&channel) else {
        return Err(
            UserError::new(format!("<#{channel}> is not a channel of this server.")).into(),
        );
    };
    let granted = guild.user_permissions_in(target, &member);
    Ok(granted.administrator() || granted.create_public_threads())
}

/// Whether the bot's messages can ping `role`: anyone may mention it, or
/// the bot has Mention @everyone, @here and All Roles in the server.
pub async fn may_mention(ctx: Context<'_>, role: &serenity::Role) -> Result<bool, Error> {
    if role.mentionable {
        return Ok(true);
    }
    let (guild, member) = bot_in_server(ctx).await?;
    let granted = guild.member_permissions(&member);
    Ok(granted.administrator() || granted.mention_everyone())
}

/// The command's server as the gateway sent it, and the bot's own member
/// there (asked for when the cache lacks it).
async fn bot_in_server(ctx: Context<'_>) -> Result<(serenity::Guild, serenity::Member), Error> {
    let guild_id = ctx
        .guild_id()
        .ok_or_else(|| UserError::new("This command works in a server."))?;
    let bot = ctx.serenity_context().cache.current_user().id;
    // The server's roles, channels and members come from the gateway's
    // GUILD_CREATE; the bot's own member is asked for when not cached.
    let (guild, cached_member) = {
        let Some(guild) = ctx.serenity_context().cache.guild(guild_id) else {
            return Err(UserError::new(
                "I have not received this server's details from Discord yet; try again in a minute.",
            )
            .into());
        };
        (guild.clone(), guild.members.get(&bot).cloned())
    };
    let member = match cached_member {
        Some(member) => member,
        None => ctx.data().rest.member(guild_id, bot).await?,
    };
    Ok((guild, member))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_missing_permission_is_named() {
        let granted = Permissions::VIEW_CHANNEL | Permissions::SEND_MESSAGES;
        assert_eq!(
            missing_for_posting(granted),
            ["Add Reactions", "Read Message History"]
        );
        assert!(missing_for_posting(Permissions::ADMINISTRATOR).is_empty());
        assert!(
            missing_for_posting(NEEDED.iter().fold(Permissions::empty(), |p, (n, _)| p | *n))
                .is_empty()
        );
    }
}
