//! `/prayer request add|withdraw`: members' own requests on Discord's
//! side. The rules and the posting live in `members`; this file reads the
//! options and answers.

use super::reply::{guild, reply};
use super::tracking::{author, autocomplete_request, named_request};
use super::{Context, Error, UserError, admin_only, now, today};
use crate::members::requests::{Ask, AskError, Withdraw, WithdrawError, ask, withdraw};

/// Ask the group to pray for something of your own, or withdraw it
#[poise::command(
    slash_command,
    guild_only,
    subcommands("request_add", "request_withdraw"),
    subcommand_required
)]
pub async fn request(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Ask the group to pray: posted at once with the same buttons and 🙏
#[poise::command(slash_command, guild_only, rename = "add")]
pub async fn request_add(
    ctx: Context<'_>,
    #[description = "What to pray for (at most 1,000 characters)"] text: String,
    #[description = "A region of this server's requests; “Our group” if left out"]
    #[autocomplete = "super::commands::autocomplete_region"]
    region: Option<String>,
    #[description = "Hide who asked from everyone, admins and `/prayer who` included"]
    anonymous: Option<bool>,
    #[description = "Keep it on the list until this date (YYYY-MM-DD), at most 4 weeks"]
    until: Option<String>,
) -> Result<(), Error> {
    let guild = guild(ctx)?;
    let data = ctx.data();
    let asked = Ask {
        guild,
        author: author(ctx),
        text: &text,
        region: region.as_deref(),
        anonymous: anonymous.unwrap_or(false),
        until: until.as_deref(),
        today: today(ctx).await?,
        now: now(),
    };
    let added = match ask(&data.store, &data.rest, &asked).await {
        Ok(added) => added,
        Err(AskError::Storage(error)) => return Err(error.into()),
        Err(refused) => return Err(UserError::new(refused.to_string()).into()),
    };
    let link = added
        .posts
        .first()
        .map(|(channel, message)| {
            format!(" in <#{channel}>: https://discord.com/channels/{guild}/{channel}/{message}")
        })
        .unwrap_or_default();
    let runs = match added.weeks.as_slice() {
        [_] => "It is on this week's list.".to_owned(),
        weeks => format!(
            "It is on the list through the week of {}, and posted again with each week's requests.",
            weeks.last().map(ToString::to_string).unwrap_or_default()
        ),
    };
    let who = if asked.anonymous {
        " No one is shown as asking, not even to admins or in `/prayer who`."
    } else {
        ""
    };
    reply(
        ctx,
        format!(
            "Your request is posted under **{}**{link}. {runs}{who} Withdraw it any time with `/prayer request withdraw`.",
            added.region
        ),
    )
    .await
}

/// Withdraw a request you asked (admins: remove any member's request)
#[poise::command(slash_command, guild_only, rename = "withdraw")]
pub async fn request_withdraw(
    ctx: Context<'_>,
    #[description = "The request (type a word of it)"]
    #[autocomplete = "autocomplete_request"]
    request: String,
) -> Result<(), Error> {
    let guild = guild(ctx)?;
    let data = ctx.data();
    let found = named_request(ctx, guild, &request).await?;
    let asked = Withdraw {
        guild,
        user: author(ctx),
        is_admin: admin_only(ctx).await?,
        request: found.id,
        now: now(),
    };
    let done = match withdraw(&data.store, &data.rest, &asked).await {
        Ok(done) => done,
        Err(WithdrawError::Storage(error)) => return Err(error.into()),
        Err(refused) => return Err(UserError::new(refused.to_string()).into()),
    };
    let who = if done.by_admin {
        "Removed"
    } else {
        "Withdrawn"
    };
    let unedited = match done.not_edited {
        0 => String::new(),
        n => format!(
            " {n} of its posts could not be edited (deleted, or the bot lost access); the buttons on them no longer count."
        ),
    };
    reply(
        ctx,
        format!(
            "{who}: it is off the list and its post says so. The prayers recorded on it stay counted.{unedited}"
        ),
    )
    .await
}
