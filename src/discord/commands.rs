//! The slash commands. Each handler reads its arguments, calls one function
//! of the core, and replies; `///` comments become the descriptions Discord
//! shows.

use poise::CreateReply;
use poise::serenity_prelude as serenity;

use super::messenger::{HttpMessenger, no_pings};
use super::{Context, Error, UserError, admin_only, today};
use crate::browse::{FindWeekError, choose_week, find_week};
use crate::bulletin::MAX_BULLETIN_BYTES;
use crate::import::{ImportContext, ImportError, import_bulletin};
use crate::posting::{PostError, PostOutcome, post_week};
use crate::render::{find_region, group_by_region, render_digest};
use crate::storage::{ImportOutcome, Scope};
use crate::week::PrayerWeek;

/// What the tracking commands answer until prayer tracking is built.
const NOT_YET: &str = "Prayer tracking (who prays for what, stats, praise reports) is not built yet; it comes in the next release. `/prayer week` shows this week's requests.";

/// Every command the bot registers.
pub fn all() -> Vec<poise::Command<super::Data, Error>> {
    vec![prayer(), praise()]
}

/// Pray together through the weekly prayer bulletin
#[poise::command(
    slash_command,
    guild_only,
    subcommands("week", "who", "stats", "mine", "setup", "import", "post", "forget_me"),
    subcommand_required
)]
pub async fn prayer(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

fn guild(ctx: Context<'_>) -> Result<u64, Error> {
    ctx.guild_id().map(|g| g.get()).ok_or_else(|| {
        UserError::new("This command works in a server, not in direct messages.").into()
    })
}

fn parse_week(week: Option<&str>) -> Result<Option<PrayerWeek>, Error> {
    week.map(|w| {
        w.parse::<PrayerWeek>()
            .map_err(|e| UserError::new(e.to_string()).into())
    })
    .transpose()
}

/// Sends `pieces` as the reply and its follow-ups, every one without pings.
async fn reply_pieces(ctx: Context<'_>, pieces: Vec<String>, ephemeral: bool) -> Result<(), Error> {
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

async fn reply(ctx: Context<'_>, text: impl Into<String>) -> Result<(), Error> {
    reply_pieces(ctx, vec![text.into()], true).await
}

/// This week's prayer requests, grouped by region
#[poise::command(slash_command, guild_only)]
pub async fn week(
    ctx: Context<'_>,
    #[description = "Show only this region"] region: Option<String>,
    #[description = "A prayer week, named by its Monday (YYYY-MM-DD); this week if left out"]
    week: Option<String>,
    #[description = "Show the answer to the whole channel (only you see it otherwise)"]
    public: Option<bool>,
) -> Result<(), Error> {
    let guild = guild(ctx)?;
    let named = parse_week(week.as_deref())?;
    let today = today(ctx);
    let (stored, choice) =
        match find_week(&ctx.data().store, Scope::Guild(guild), named, today).await {
            Ok(found) => found,
            Err(FindWeekError::Storage(error)) => return Err(error.into()),
            Err(error) => {
                return Err(UserError::new(format!(
                    "There is {error}. An admin can load one with `/prayer import`."
                ))
                .into());
            }
        };
    let bulletin = &stored.bulletin;
    let region = match region.as_deref() {
        Some(wanted) => Some(
            find_region(bulletin, wanted)
                .map_err(|e| UserError::new(format!("The week of {} {e}", stored.week)))?,
        ),
        None => None,
    };
    let mut pieces = render_digest(stored.week, bulletin, region);
    if let Some(first) = pieces.first_mut() {
        let current = PrayerWeek::containing(today);
        if !matches!(choice, crate::browse::WeekChoice::Current) {
            first.insert_str(
                0,
                &format!("-# {}\n", choice.describe(stored.week, current)),
            );
        }
    }
    reply_pieces(ctx, pieces, !public.unwrap_or(false)).await
}

/// Who committed to and who prayed for one request (coming soon)
#[poise::command(slash_command, guild_only)]
pub async fn who(
    ctx: Context<'_>,
    #[description = "The request"] request: String,
) -> Result<(), Error> {
    let _ = request;
    reply(ctx, NOT_YET).await
}

/// The group's week: people taking part, requests covered, praises (coming soon)
#[poise::command(slash_command, guild_only)]
pub async fn stats(
    ctx: Context<'_>,
    #[description = "A prayer week, named by its Monday (YYYY-MM-DD)"] week: Option<String>,
) -> Result<(), Error> {
    parse_week(week.as_deref())?;
    reply(ctx, NOT_YET).await
}

/// Your commitments this week and which you have prayed (coming soon)
#[poise::command(slash_command, guild_only)]
pub async fn mine(ctx: Context<'_>) -> Result<(), Error> {
    reply(ctx, NOT_YET).await
}

/// Erase your commitments and prayers in this server (coming soon)
#[poise::command(slash_command, guild_only, rename = "forget-me")]
pub async fn forget_me(ctx: Context<'_>) -> Result<(), Error> {
    reply(ctx, "Nothing about you is stored yet: prayer tracking is not built. When it is, this erases your commitments and prayers in this server.").await
}

/// Record an answered prayer (coming soon)
#[poise::command(slash_command, guild_only)]
pub async fn praise(
    ctx: Context<'_>,
    #[description = "What God has done"] note: String,
    #[description = "The request that was answered"] request: Option<String>,
) -> Result<(), Error> {
    let _ = (note, request);
    reply(ctx, NOT_YET).await
}

/// Where the weekly posts go (admins only)
#[poise::command(slash_command, guild_only, check = "admin_only")]
pub async fn setup(
    ctx: Context<'_>,
    #[description = "The channel for the posts (for the region, if you name one)"]
    #[channel_types("Text", "News")]
    channel: serenity::ChannelId,
    #[description = "Send only this region's requests to that channel"] region: Option<String>,
) -> Result<(), Error> {
    let guild = guild(ctx)?;
    let _busy = ctx.data().busy.read().await;
    let region = region
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if region.as_ref().is_some_and(|r| r.chars().count() > 100) {
        return Err(UserError::new("A region name is at most 100 characters.").into());
    }
    let missing = super::permissions::missing_in(ctx, channel).await?;
    if !missing.is_empty() {
        return Err(UserError::new(format!(
            "I can't post in <#{channel}>: I am missing {}. Give me these there (channel permissions included), then run this again. Nothing was changed.",
            missing.join(", ")
        ))
        .into());
    }
    let store = &ctx.data().store;
    let message = match region {
        Some(region) => {
            store
                .set_region_channel(guild, &region, channel.get())
                .await?;
            format!(
                "Requests for **{region}** will be posted in <#{channel}>; other regions go to the default channel."
            )
        }
        None => {
            store
                .set_default_channel(guild, channel.get(), chrono::Utc::now())
                .await?;
            format!("Weekly posts will go to <#{channel}>.")
        }
    };
    reply(ctx, message).await
}

/// Load a bulletin from an attached file (admins only)
#[poise::command(slash_command, guild_only, check = "admin_only")]
pub async fn import(
    ctx: Context<'_>,
    #[description = "The bulletin: a text file, a saved web page or an email"]
    file: serenity::Attachment,
    #[description = "The prayer week it is for, named by its Monday (YYYY-MM-DD)"] week: Option<
        String,
    >,
) -> Result<(), Error> {
    let guild = guild(ctx)?;
    let named = parse_week(week.as_deref())?;
    let size = usize::try_from(file.size).unwrap_or(usize::MAX);
    if size > MAX_BULLETIN_BYTES {
        return Err(UserError::new(format!(
            "`{}` is {size} bytes; a bulletin is at most {MAX_BULLETIN_BYTES} bytes.",
            file.filename
        ))
        .into());
    }
    ctx.defer_ephemeral().await?;
    let _busy = ctx.data().busy.read().await;
    let bytes = download(&file).await?;
    let context = ImportContext {
        scope: Scope::Guild(guild),
        week: named,
        force: false,
        today: today(ctx),
        now: chrono::Utc::now(),
    };
    let imported = match import_bulletin(&ctx.data().store, &file.filename, &bytes, &context).await
    {
        Ok(imported) => imported,
        Err(ImportError::NotABulletin(reason)) => {
            return Err(
                UserError::new(format!("`{}` was not imported: {reason}.", file.filename)).into(),
            );
        }
        Err(ImportError::Storage(error)) => return Err(error.into()),
    };
    let b = &imported.bulletin;
    let regions: Vec<&str> = group_by_region(&b.requests)
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    let summary = format!(
        "**{}**: {} requests in {} regions ({})",
        b.title,
        b.requests.len(),
        regions.len(),
        regions.join(", ")
    );
    let message = match imported.outcome {
        ImportOutcome::Added {
            week,
            replaced: None,
        } => format!("Imported {summary} for the week of {week}."),
        ImportOutcome::Added {
            week,
            replaced: Some(old),
        } => {
            format!("Imported {summary} for the week of {week}, replacing “{old}”.")
        }
        ImportOutcome::AlreadyImported { week } => {
            format!("{summary} is already imported, for the week of {week}. Nothing changed.")
        }
        ImportOutcome::AlreadyPosted { week } => format!(
            "The week of {week} has already been posted with another bulletin, so it was not replaced. Nothing changed."
        ),
    };
    reply(ctx, message).await
}

/// The attachment's bytes. serenity's own `download` takes an error page
/// for the file, so the status is checked here.
async fn download(file: &serenity::Attachment) -> Result<Vec<u8>, Error> {
    let response = reqwest::Client::new().get(&file.url).send().await?;
    if !response.status().is_success() {
        return Err(UserError::new(format!(
            "I could not fetch `{}` from Discord (HTTP {}). Try attaching it again.",
            file.filename,
            response.status().as_u16()
        ))
        .into());
    }
    Ok(response.bytes().await?.to_vec())
}

/// Post a week's requests now: never twice (admins only)
#[poise::command(slash_command, guild_only, check = "admin_only")]
pub async fn post(
    ctx: Context<'_>,
    #[description = "The prayer week, named by its Monday (YYYY-MM-DD); this week if left out"]
    week: Option<String>,
) -> Result<(), Error> {
    let guild = guild(ctx)?;
    let named = parse_week(week.as_deref())?;
    ctx.defer_ephemeral().await?;
    let _busy = ctx.data().busy.read().await;
    let _one_post_at_a_time = ctx.data().posting.lock().await;
    let store = &ctx.data().store;
    // `post_week` reads the week's bulletin itself and says if there is none.
    let week = match choose_week(store, Scope::Guild(guild), named, today(ctx)).await {
        Ok((week, _)) => week,
        Err(FindWeekError::Storage(error)) => return Err(error.into()),
        Err(error) => {
            return Err(UserError::new(format!(
                "There is {error}. Load one with `/prayer import`."
            ))
            .into());
        }
    };
    let messenger =
        HttpMessenger::new(ctx.serenity_context().http.clone(), ctx.data().stop.clone());
    let message = match post_week(store, &messenger, guild, week, chrono::Utc::now).await {
        Ok(PostOutcome::Posted {
            week,
            messages,
            channels,
            resumed,
        }) => {
            let channels: Vec<String> = channels.iter().map(|c| format!("<#{c}>")).collect();
            let resumed = if resumed > 0 {
                format!(
                    " ({resumed} had been posted before an interruption and were not sent again)"
                )
            } else {
                String::new()
            };
            format!(
                "Posted the week of {week}: {messages} messages in {}{resumed}.",
                channels.join(", ")
            )
        }
        Ok(PostOutcome::AlreadyPosted { week }) => {
            format!("The week of {week} has already been posted here. Nothing was posted again.")
        }
        // The admin hears how far the post got before the process goes.
        Err(stopped @ PostError::Stopped { .. }) => stopped.to_string(),
        Err(PostError::Storage(error)) => return Err(error.into()),
        Err(error) => return Err(UserError::new(error.to_string()).into()),
    };
    reply(ctx, message).await
}
