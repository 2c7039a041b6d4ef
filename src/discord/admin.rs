//! The admin commands that change what was posted: `/prayer correct` and
//! `/prayer unpost` (with its confirmation's buttons). Thin: each reads its
//! options or press and calls its use-case (`posting::correct`,
//! `posting::unpost`).

use poise::CreateReply;
use poise::serenity_prelude as serenity;
use serenity::{
    ButtonStyle, ComponentInteraction, CreateActionRow, CreateButton, CreateInteractionResponse,
    CreateInteractionResponseMessage, EditInteractionResponse,
};

use super::messenger::no_pings;
use super::reply::{guild, parse_week, reply};
use super::tracking::{autocomplete_request, named_request};
use super::{Context, Data, Error, UserError, admin_only, now, today};
use crate::bulletins::week::PrayerWeek;
use crate::ids::UserId;
use crate::posting::PostRun;
use crate::posting::buttons::AdminButton;
use crate::posting::correct::{CorrectError, Correction, correct_request};
use crate::posting::render::fit_reply;
use crate::posting::unpost::{Unpost, UnpostOutcome, prompt, unpost_week};

/// Correct a request's text here and in its posts; prayers stay (admins only)
#[poise::command(slash_command, guild_only, check = "admin_only")]
pub async fn correct(
    ctx: Context<'_>,
    #[description = "The request to correct (type a word of it or its region)"]
    #[autocomplete = "autocomplete_request"]
    request: String,
    #[description = "The corrected text"]
    #[max_length = 6000]
    text: String,
) -> Result<(), Error> {
    let guild = guild(ctx)?;
    ctx.defer_ephemeral().await?;
    let _busy = ctx.data().busy.read().await;
    let found = named_request(ctx, guild, &request).await?;
    let correction = Correction {
        guild,
        request: found.id,
        text: &text,
        admin: UserId::from(ctx.author().id),
        now: now(),
    };
    match correct_request(&ctx.data().store, &ctx.data().rest, &correction).await {
        Ok(words) => reply(ctx, words).await,
        Err(CorrectError::Refused(words)) => Err(UserError::new(words).into()),
        Err(CorrectError::Storage(error)) => Err(error.into()),
    }
}

/// Delete a week's posts here so it can be posted again; asks first (admins only)
#[poise::command(slash_command, guild_only, check = "admin_only")]
pub async fn unpost(
    ctx: Context<'_>,
    #[description = "The prayer week, named by its Monday (YYYY-MM-DD); this week if left out"]
    week: Option<String>,
) -> Result<(), Error> {
    let guild = guild(ctx)?;
    let week = match parse_week(week.as_deref())? {
        Some(week) => week,
        None => PrayerWeek::containing(today(ctx).await?),
    };
    let asked = prompt(&ctx.data().store, guild, week).await?;
    if !asked.can_confirm {
        return Err(UserError::new(asked.text).into());
    }
    let admin = UserId::from(ctx.author().id);
    let buttons = CreateActionRow::Buttons(vec![
        CreateButton::new(AdminButton::Unpost { week, admin }.custom_id())
            .label("Delete the posts")
            .style(ButtonStyle::Danger),
        CreateButton::new(AdminButton::UnpostCancel { admin }.custom_id())
            .label("Cancel")
            .style(ButtonStyle::Secondary),
    ]);
    ctx.send(
        CreateReply::default()
            .content(fit_reply(&asked.text))
            .ephemeral(true)
            .allowed_mentions(no_pings())
            .components(vec![buttons]),
    )
    .await?;
    Ok(())
}

/// A private answer that replaces the confirmation, its buttons gone.
fn replacing(text: &str) -> CreateInteractionResponse {
    CreateInteractionResponse::UpdateMessage(
        CreateInteractionResponseMessage::new()
            .content(fit_reply(text))
            .allowed_mentions(no_pings())
            .components(Vec::new()),
    )
}

/// Whether the presser is the admin who asked, and still an admin.
fn may_press(press: &ComponentInteraction, button: AdminButton) -> bool {
    let admin = press
        .member
        .as_ref()
        .and_then(|m| m.permissions)
        .is_some_and(|p| p.manage_guild() || p.administrator());
    admin && UserId::from(press.user.id) == button.admin()
}

/// Answers a press of an admin confirmation's button: Cancel changes
/// nothing; **Delete the posts** takes the week down (the answer comes by
/// editing the confirmation, since deleting can outlast the three seconds
/// Discord waits for a first answer).
pub async fn on_press(
    ctx: &serenity::Context,
    data: &Data,
    press: &ComponentInteraction,
    button: AdminButton,
) -> Result<(), Error> {
    let guild = press.guild_id.map(crate::ids::GuildId::from);
    let (Some(guild), true) = (guild, may_press(press, button)) else {
        let answer = CreateInteractionResponseMessage::new()
            .content("Only the admin who asked can answer this. Nothing was changed.")
            .ephemeral(true)
            .allowed_mentions(no_pings());
        press
            .create_response(&ctx.http, CreateInteractionResponse::Message(answer))
            .await?;
        return Ok(());
    };
    let week = match button {
        AdminButton::UnpostCancel { .. } => {
            let cancelled = replacing("Cancelled: nothing was deleted.");
            press.create_response(&ctx.http, cancelled).await?;
            return Ok(());
        }
        AdminButton::Unpost { week, .. } => week,
    };
    press
        .create_response(&ctx.http, CreateInteractionResponse::Acknowledge)
        .await?;
    let unpost = Unpost {
        guild,
        week,
        admin: button.admin(),
    };
    let run = PostRun::new(PostRun::LEASE);
    let text = match unpost_week(&data.store, &data.rest, unpost, &run, now).await {
        Ok(outcome) => {
            if matches!(outcome, UnpostOutcome::Done { .. }) {
                // The week may be due again by the schedule.
                data.wake.notify_one();
            }
            outcome.words()
        }
        Err(error) => Error::from(error).reply_text("prayer unpost"),
    };
    let edit = EditInteractionResponse::new()
        .content(fit_reply(&text))
        .allowed_mentions(no_pings())
        .components(Vec::new());
    press.edit_response(&ctx.http, edit).await?;
    Ok(())
}
