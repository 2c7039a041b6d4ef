//! What every command handler shares: the server it runs in, the week it
//! names, and replies that never ping and always fit. The handlers in
//! `commands.rs`, `schedule.rs` and `tracking.rs` depend on this file, never
//! on each other's helpers.

use poise::CreateReply;

use super::messenger::no_pings;
use super::{Context, Error, UserError};
use crate::bulletins::week::PrayerWeek;
use crate::ids::GuildId;
use crate::posting::render::{MESSAGE_LIMIT, fit_reply, split_message};

/// The server a command runs in; refused in words in direct messages.
pub(super) fn guild(ctx: Context<'_>) -> Result<GuildId, Error> {
    ctx.guild_id().map(GuildId::from).ok_or_else(|| {
        UserError::new("This command works in a server, not in direct messages.").into()
    })
}

/// The week a command names, if it names one; a bad name is the member's error.
pub(super) fn parse_week(week: Option<&str>) -> Result<Option<PrayerWeek>, Error> {
    week.map(|w| {
        w.parse::<PrayerWeek>()
            .map_err(|e| UserError::new(e.to_string()).into())
    })
    .transpose()
}

/// Sends `pieces` as the reply and its follow-ups, every one without pings.
/// A piece over Discord's limit (none should be) is split, not refused.
pub(super) async fn reply_pieces(
    ctx: Context<'_>,
    pieces: Vec<String>,
    ephemeral: bool,
) -> Result<(), Error> {
    let pieces = pieces
        .iter()
        .flat_map(|piece| split_message(piece, MESSAGE_LIMIT));
    for piece in pieces {
        ctx.send(
            CreateReply::default()
                .content(piece)
                .ephemeral(ephemeral)
                .allowed_mentions(no_pings()),
        )
        .await?;
    }
    Ok(())
}

/// A short private answer; one that would be too long (it quotes what was
/// typed) is shortened rather than never sent.
pub(super) async fn reply(ctx: Context<'_>, text: impl Into<String>) -> Result<(), Error> {
    reply_pieces(ctx, vec![fit_reply(&text.into())], true).await
}
