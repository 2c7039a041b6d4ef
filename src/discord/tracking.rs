//! Prayer tracking on Discord's side: 🙏 reactions and button presses from
//! the gateway, and the commands that show and change what was recorded
//! (`/prayer who|stats|mine|notify|forget-me`, `/praise`). The rules and
//! the words live in the core (`tracking`, `report`, `search`); this file
//! reads the event or the options, calls the store, and answers.

use poise::CreateReply;
use poise::serenity_prelude as serenity;
use serenity::{
    ButtonStyle, ComponentInteraction, CreateActionRow, CreateAutocompleteResponse, CreateButton,
    CreateEmbed, CreateInteractionResponse, CreateInteractionResponseMessage, Reaction,
    ReactionType,
};

use super::messenger::no_pings;
use super::reply::{guild, parse_week, reply, reply_pieces};
use super::rest::Rest;
use super::{Context, Data, Error, UserError, now, today};
use crate::bulletins::browse::{FindWeekError, WeekChoice, find_week};
use crate::bulletins::week::PrayerWeek;
use crate::ids::{ChannelId, GuildId, MessageId, RequestId, UserId};
use crate::posting::buttons::Button;
use crate::storage::{GuildRequest, Scope, StoredWeek, WeekTracking};
use crate::tracking::praise::{Praise, checked_note, praise_request, praise_unlinked};
use crate::tracking::press::Press;
use crate::tracking::recorder::ReactionCheck;
use crate::tracking::report;
use crate::tracking::search::{RequestChoice, choices, resolve};
use crate::tracking::{self, Listed, ReactionChange, ReactionKey};

/// How many weeks back `/prayer who` and `/praise` offer requests from.
const RECENT_WEEKS: u32 = 4;

/// The 🙏 a reaction event carries, if it is one a member left (not this
/// bot nor any other, not another emoji) in a server. A removal names no
/// member, so a bot's removal passes: it finds nothing of a bot's stored.
pub fn prayer_reaction(reaction: &Reaction, bot: serenity::UserId) -> Option<ReactionKey> {
    let guild = reaction.guild_id?;
    let user = reaction.user_id?;
    if user == bot || reaction.member.as_ref().is_some_and(|m| m.user.bot) {
        return None;
    }
    let ReactionType::Unicode(emoji) = &reaction.emoji else {
        return None;
    };
    tracking::is_prayer_emoji(emoji).then(|| ReactionKey {
        guild: GuildId::from(guild),
        channel: ChannelId::from(reaction.channel_id),
        message: MessageId::from(reaction.message_id),
        user: UserId::from(user),
        emoji: emoji.clone(),
    })
}

/// The reaction events prayer tracking listens to, as changes for the
/// recorder; `None` for any other event.
pub fn reaction_change(
    event: &serenity::FullEvent,
    bot: serenity::UserId,
) -> Option<ReactionChange> {
    match event {
        serenity::FullEvent::ReactionAdd { add_reaction } => {
            prayer_reaction(add_reaction, bot).map(ReactionChange::Added)
        }
        serenity::FullEvent::ReactionRemove { removed_reaction } => {
            prayer_reaction(removed_reaction, bot).map(ReactionChange::Removed)
        }
        // serenity hands this one on without its server: the channel (which
        // belongs to one server) scopes it.
        serenity::FullEvent::ReactionRemoveAll {
            channel_id,
            removed_from_message_id,
        } => Some(ReactionChange::Cleared {
            guild: None,
            channel: ChannelId::from(*channel_id),
            message: MessageId::from(*removed_from_message_id),
            emoji: None,
        }),
        serenity::FullEvent::ReactionRemoveEmoji { removed_reactions } => {
            match &removed_reactions.emoji {
                ReactionType::Unicode(emoji) if tracking::is_prayer_emoji(emoji) => {
                    Some(ReactionChange::Cleared {
                        // Outside a server there is nothing to clear.
                        guild: Some(GuildId::from(removed_reactions.guild_id?)),
                        channel: ChannelId::from(removed_reactions.channel_id),
                        message: MessageId::from(removed_reactions.message_id),
                        emoji: Some(emoji.clone()),
                    })
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// A private answer to a press, optionally with one button.
fn private(text: &str, button: Option<(Button, &str)>) -> CreateInteractionResponseMessage {
    let mut answer = CreateInteractionResponseMessage::new()
        .content(crate::posting::render::fit_reply(text))
        .ephemeral(true)
        .allowed_mentions(no_pings());
    if let Some((button, label)) = button {
        answer = answer.components(vec![CreateActionRow::Buttons(vec![
            CreateButton::new(button.custom_id())
                .label(label)
                .style(ButtonStyle::Secondary),
        ])]);
    }
    answer
}

/// Answers a press of one of the bot's buttons: records or undoes, and
/// says what happened, privately.
pub async fn on_press(
    ctx: &serenity::Context,
    data: &Data,
    press: &ComponentInteraction,
    button: Button,
) -> Result<(), Error> {
    // A reminder's button names its server; a direct message has none.
    let guild = match button {
        Button::Nudged(guild, _) => Some(guild),
        _ => press.guild_id.map(GuildId::from),
    };
    let Some(guild) = guild else {
        let answer = private(
            "Prayers are recorded in a server, not in direct messages.",
            None,
        );
        press
            .create_response(&ctx.http, CreateInteractionResponse::Message(answer))
            .await?;
        return Ok(());
    };
    let pressed = Press {
        guild,
        user: press.user.id.into(),
        message: press.message.id.into(),
        button,
        now: now(),
    };
    let answer = crate::tracking::press::press(&data.store, &data.rest, pressed).await?;
    let message = private(&answer.text, answer.button);
    let response = if answer.replaces {
        CreateInteractionResponse::UpdateMessage(message.components(Vec::new()))
    } else {
        CreateInteractionResponse::Message(message)
    };
    press.create_response(&ctx.http, response).await?;
    Ok(())
}

pub(super) fn author(ctx: Context<'_>) -> UserId {
    UserId::from(ctx.author().id)
}

/// The server's requests a member may name: the weeks from
/// [`RECENT_WEEKS`] back to the coming one, newest first.
async fn candidates(ctx: Context<'_>, guild: GuildId) -> Result<Vec<RequestChoice>, Error> {
    let current = PrayerWeek::containing(today(ctx).await?);
    let requests = ctx
        .data()
        .store
        .guild_requests(guild, current.weeks_before(RECENT_WEEKS), current.next())
        .await?;
    // The current week first, then the later weeks back in time, then the
    // coming one.
    let (coming, rest): (Vec<GuildRequest>, Vec<GuildRequest>) =
        requests.into_iter().partition(|r| r.week > current);
    Ok(rest
        .into_iter()
        .chain(coming)
        .map(|r| RequestChoice {
            id: r.id,
            week: r.week,
            prayable: r.is_prayable(),
            region: r.region,
            text: r.text,
        })
        .collect())
}

/// The request a typed option names, as this server sees it; else a
/// refusal that reveals nothing about other servers.
pub(super) async fn named_request(
    ctx: Context<'_>,
    guild: GuildId,
    typed: &str,
) -> Result<GuildRequest, Error> {
    let store = &ctx.data().store;
    // A chosen autocomplete value is the request's id: one lookup, which
    // also checks that this server sees it. Anything else is matched on
    // words against the server's recent requests.
    let found = match typed.trim().parse::<RequestId>() {
        Ok(id) => Ok(id),
        Err(_) => resolve(&candidates(ctx, guild).await?, typed),
    };
    let refusal = |close: Vec<String>| -> Error {
        let hint = match close.as_slice() {
            [] => String::new(),
            close => format!(" Did you mean: {}?", close.join("; ")),
        };
        UserError::new(format!(
            "No request of this server matches “{}”. Pick one from the list as you type: it offers this week's and recent requests.{hint}",
            crate::posting::render::shown_typed(typed)
        ))
        .into()
    };
    match found {
        Ok(id) => store
            .guild_request(guild, id)
            .await?
            .ok_or_else(|| refusal(Vec::new())),
        Err(not_found) => Err(refusal(
            not_found
                .close
                .iter()
                .map(|c| crate::posting::render::escape_markdown(c))
                .collect(),
        )),
    }
}

pub async fn autocomplete_request(ctx: Context<'_>, partial: &str) -> CreateAutocompleteResponse {
    let found = match guild(ctx) {
        Ok(guild) => candidates(ctx, guild).await.unwrap_or_else(|error| {
            tracing::error!(%error, "cannot read the requests for autocomplete");
            Vec::new()
        }),
        Err(_) => Vec::new(),
    };
    let current = match today(ctx).await {
        Ok(today) => PrayerWeek::containing(today),
        Err(_) => PrayerWeek::containing(now().date_naive()),
    };
    let offered = choices(&found, partial, current)
        .into_iter()
        .map(|c| serenity::AutocompleteChoice::new(c.name, c.value))
        .collect();
    CreateAutocompleteResponse::new().set_choices(offered)
}

/// A week as tracking shows it: the bulletin, which week that is, and
/// what the server's members said about it.
pub struct TrackedWeek {
    pub stored: StoredWeek,
    pub choice: WeekChoice,
    /// Today in the server's time zone.
    pub today: chrono::NaiveDate,
    pub tracking: WeekTracking,
}

impl TrackedWeek {
    /// The week's requests in bulletin order, each with its id and whether
    /// it was answered in this server.
    pub fn listed(&self) -> Vec<Listed<'_>> {
        self.stored
            .bulletin
            .requests
            .iter()
            .zip(&self.stored.request_ids)
            .map(|(request, &id)| Listed {
                id,
                request,
                answered: self.tracking.answered.contains(&id),
            })
            .collect()
    }
}

/// The week a member asks for (this week, or the next with a bulletin,
/// if none), with its tracking; or why there is none. The likely week (the
/// one named, else the current week by UTC) is read, bulletin and tracking
/// (with the server's time zone), in one round of two statements on the
/// pool's connections at once. Only when the server's own today says
/// otherwise is the week looked up again.
pub async fn tracked_week(
    ctx: Context<'_>,
    guild: GuildId,
    week: Option<&str>,
) -> Result<TrackedWeek, Error> {
    let named = parse_week(week)?;
    let store = &ctx.data().store;
    let scope = Scope::Guild(guild);
    let likely = named.unwrap_or_else(|| PrayerWeek::containing(now().date_naive()));
    let (tracking, likely_bulletin) = tokio::join!(
        store.shown_week_tracking(guild, likely),
        store.shown_week(scope, likely)
    );
    let tracking = tracking?;
    // The server's today, from the zone the tracking statement read.
    let zone = tracking.zone.unwrap_or(chrono_tz::UTC);
    let today = crate::schedule::local_today(zone, now());
    let current = PrayerWeek::containing(today);
    let found = match (named, likely_bulletin?) {
        (Some(_), Some(stored)) => Ok((stored, WeekChoice::Named)),
        (None, Some(stored)) if likely == current => Ok((stored, WeekChoice::Current)),
        _ => find_week(store, scope, named, today).await,
    };
    let (stored, choice) = match found {
        Ok(found) => found,
        Err(FindWeekError::Storage(error)) => return Err(error.into()),
        Err(error) => {
            return Err(UserError::new(format!(
                "There is {error}. An admin can load one with `/prayer import`."
            ))
            .into());
        }
    };
    let tracking = if stored.week == likely {
        tracking
    } else {
        store.shown_week_tracking(guild, stored.week).await?
    };
    Ok(TrackedWeek {
        stored,
        choice,
        today,
        tracking,
    })
}

/// Who committed to and who prayed for one request
#[poise::command(slash_command, guild_only)]
pub async fn who(
    ctx: Context<'_>,
    #[description = "The request (type a word of it or its region)"]
    #[autocomplete = "autocomplete_request"]
    request: String,
) -> Result<(), Error> {
    let guild = guild(ctx)?;
    let found = named_request(ctx, guild, &request).await?;
    let marks = ctx.data().store.marks(guild, &[found.id]).await?;
    let text = report::who_text(&found, &tracking::who(&marks, found.id));
    reply_pieces(ctx, vec![text], true).await
}

/// The group's week: people taking part, requests covered, praises
#[poise::command(slash_command, guild_only)]
pub async fn stats(
    ctx: Context<'_>,
    #[description = "A prayer week, named by its Monday (YYYY-MM-DD); this week if left out"]
    week: Option<String>,
    #[description = "Show the answer to the whole channel (only you see it otherwise)"]
    public: Option<bool>,
    #[description = "Attach a chart of the last twelve weeks' coverage per region"] chart: Option<
        bool,
    >,
) -> Result<(), Error> {
    let guild = guild(ctx)?;
    let week = tracked_week(ctx, guild, week.as_deref()).await?;
    // Twelve weeks read and drawn: a few dozen milliseconds.
    let file = match chart {
        Some(true) => crate::recap::chart_file(&ctx.data().store, guild, week.stored.week).await?,
        _ => None,
    };
    let requests = week.listed();
    let stats = tracking::week_stats(
        &requests,
        &week.tracking.marks,
        week.tracking.praise_reports,
    );
    let card = report::stats_card(week.stored.week, &stats, &requests);
    let mut embed = CreateEmbed::new()
        .title(card.title)
        .description(card.description);
    for (name, value) in card.fields {
        embed = embed.field(name, value, false);
    }
    let mut answer = CreateReply::default();
    if let Some(file) = file {
        // The chart shows inside the card.
        embed = embed.image(format!("attachment://{}", file.filename));
        answer = answer.attachment(serenity::CreateAttachment::bytes(file.bytes, file.filename));
    }
    let answer = answer
        .embed(embed)
        .ephemeral(!public.unwrap_or(false))
        .allowed_mentions(no_pings());
    ctx.send(answer).await?;
    Ok(())
}

/// Your commitments this week and which you have prayed (only you see it)
#[poise::command(slash_command, guild_only)]
pub async fn mine(ctx: Context<'_>) -> Result<(), Error> {
    let guild = guild(ctx)?;
    let week = tracked_week(ctx, guild, None).await?;
    let requests = week.listed();
    let mine = tracking::mine(&requests, &week.tracking.marks, author(ctx));
    let text = report::mine_text(week.stored.week, &mine, &requests);
    reply_pieces(ctx, vec![text], true).await
}

/// The server's answered prayers and praise reports, newest first (only you see it)
#[poise::command(slash_command, guild_only)]
pub async fn answered(
    ctx: Context<'_>,
    #[description = "Only this region's answered requests"] region: Option<String>,
    #[description = "How many weeks back, this one included (4 if left out)"]
    #[min = 1]
    #[max = 52]
    weeks: Option<u32>,
) -> Result<(), Error> {
    let guild = guild(ctx)?;
    let current = PrayerWeek::containing(today(ctx).await?);
    let region = region.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let weeks = weeks.unwrap_or(4);
    let lines =
        crate::tracking::answered::answered(&ctx.data().store, guild, current, weeks, region)
            .await?;
    reply_pieces(ctx, vec![lines.join("\n")], true).await
}

#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum Switch {
    #[name = "on"]
    On,
    #[name = "off"]
    Off,
}

/// Whether /praise mentions you on requests you prayed for (on by default)
#[poise::command(slash_command, guild_only)]
pub async fn notify(
    ctx: Context<'_>,
    #[description = "on: tell me when a request I prayed for is answered; off: don't"]
    setting: Switch,
) -> Result<(), Error> {
    let guild = guild(ctx)?;
    let on = matches!(setting, Switch::On);
    ctx.data()
        .store
        .set_notify(guild, author(ctx), on, now())
        .await?;
    let text = if on {
        "Done: when a request you committed to or prayed for is answered, `/praise` will mention you."
    } else {
        "Done: `/praise` will not mention you. `/prayer notify on` turns it back on."
    };
    reply(ctx, text).await
}

/// Erase your commitments, prayers and settings in this server
#[poise::command(slash_command, guild_only, rename = "forget-me")]
pub async fn forget_me(ctx: Context<'_>) -> Result<(), Error> {
    guild(ctx)?;
    let text = "This erases, in this server only, every commitment and prayer the bot recorded for you, your notify setting, and the requests you asked with `/prayer request add` (their posts will say withdrawn). Praises you wrote stay, without your name. It cannot be undone. Press **Forget me** to go ahead, or dismiss this message.";
    let button = CreateButton::new(Button::ForgetMe.custom_id())
        .label("Forget me")
        .style(ButtonStyle::Danger);
    ctx.send(
        CreateReply::default()
            .content(text)
            .ephemeral(true)
            .allowed_mentions(no_pings())
            .components(vec![CreateActionRow::Buttons(vec![button])]),
    )
    .await?;
    Ok(())
}

/// Share an answered prayer; name the request to tell those who prayed
#[poise::command(slash_command, guild_only)]
pub async fn praise(
    ctx: Context<'_>,
    #[description = "What God has done"]
    #[max_length = 1500]
    note: String,
    #[description = "The request that was answered (type a word of it or its region)"]
    #[autocomplete = "autocomplete_request"]
    request: Option<String>,
) -> Result<(), Error> {
    let guild = guild(ctx)?;
    let store = &ctx.data().store;
    let praise = Praise {
        guild,
        author: author(ctx),
        note: &note,
        now: now(),
    };
    let Some(request) = request.filter(|r| !r.trim().is_empty()) else {
        // A report counts in the week `/prayer stats` shows by default:
        // this week, or the next with a bulletin when this one has none.
        let week = match tracked_week(ctx, guild, None).await {
            Ok(shown) => shown.stored.week,
            Err(_) => PrayerWeek::containing(today(ctx).await?),
        };
        let text = praise_unlinked(store, praise, week).await?;
        return reply_pieces(ctx, vec![text], false).await;
    };
    checked_note(&note)?;
    let found = named_request(ctx, guild, &request).await?;
    ctx.defer_ephemeral().await?;
    let _busy = ctx.data().busy.read().await;
    let here = ChannelId::from(ctx.channel_id());
    let text = praise_request(store, &ctx.data().rest, praise, &found, here).await?;
    reply(ctx, text).await
}

/// Whether a member's 🙏 stands on Discord now, asked through [`Rest`] (paced
/// and retried like every other call): the recorder asks when a member's
/// add and remove crossed.
impl ReactionCheck for Rest {
    fn is_there<'a>(
        &'a self,
        key: &'a ReactionKey,
    ) -> std::pin::Pin<Box<dyn Future<Output = Option<bool>> + Send + 'a>> {
        Box::pin(async move {
            // Users come in id order after `after`: the first one after
            // `user - 1` is `user` exactly when the member's reaction is there.
            let after = UserId::try_new(key.user.get() - 1);
            let answer = self
                .read_reaction_users(key.channel, key.message, &key.emoji, 1, after)
                .await;
            let page = match answer {
                Ok(page) => page,
                Err(error) => {
                    tracing::warn!(%error, "could not ask Discord whether a reaction stands");
                    return None;
                }
            };
            let users: Vec<serde_json::Value> = serde_json::from_slice(&page).ok()?;
            let first = users
                .first()
                .and_then(|u| u["id"].as_str()?.parse::<u64>().ok());
            Some(first == Some(key.user.get()))
        })
    }
}
