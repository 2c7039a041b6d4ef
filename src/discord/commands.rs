//! The slash commands. Each handler reads its arguments, calls one function
//! of the core, and replies; `///` comments become the descriptions Discord
//! shows.

use poise::serenity_prelude as serenity;
use serenity::CreateAutocompleteResponse;

use super::admin::{correct, unpost};
use super::download::{DOWNLOAD_TIMEOUT, FetchError, fetch_capped};

use super::reply::{guild, parse_week, reply, reply_pieces};
use super::schedule::{Day, autocomplete_zone, changed_schedule, status};
use super::tracking::{answered, forget_me, mine, notify, praise, stats, who};
use super::{Context, Error, UserError, admin_only, today};
use crate::bulletins::browse::{FindWeekError, choose_week};
use crate::bulletins::import::{
    DISCORD, ImportContext, ImportError, Verdict, import_bulletin, outcome_words,
};
use crate::bulletins::parse::MAX_BULLETIN_BYTES;
use crate::bulletins::week::PrayerWeek;
use crate::ids::{ChannelId, GuildId, RoleId};
use crate::posting::region::{autocomplete, match_region, region_choices};
use crate::posting::render::{
    RequestStatus, find_region, group_by_region, render_digest, shown_typed,
};
use crate::posting::{PostError, PostRun, post_week};
use crate::schedule::nudges::{NUDGE_CHOICES, nudge_words, parse_nudge_day};
use crate::schedule::status::schedule_status;
use crate::storage::Scope;

/// Every command the bot registers.
pub fn all() -> Vec<poise::Command<super::Data, Error>> {
    vec![prayer(), praise()]
}

/// Pray together through the weekly prayer bulletin
#[poise::command(
    slash_command,
    guild_only,
    subcommands(
        "week",
        "who",
        "stats",
        "mine",
        "answered",
        "super::members::request",
        "notify",
        "forget_me",
        "setup",
        "status",
        "import",
        "post",
        "correct",
        "unpost"
    ),
    subcommand_required
)]
pub async fn prayer(_: Context<'_>) -> Result<(), Error> {
    Ok(())
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
    let tracked = super::tracking::tracked_week(ctx, guild, week.as_deref()).await?;
    let (stored, choice, today) = (&tracked.stored, tracked.choice, tracked.today);
    let bulletin = &stored.bulletin;
    let region = match region.as_deref() {
        Some(wanted) => Some(
            find_region(bulletin, wanted)
                .map_err(|e| UserError::new(format!("The week of {} {e}", stored.week)))?,
        ),
        None => None,
    };
    // The notice is rendered with the week, so the first message's limit
    // counts it.
    let notice = (!matches!(choice, crate::bulletins::browse::WeekChoice::Current))
        .then(|| choice.describe(stored.week, PrayerWeek::containing(today)));
    let tallies = crate::tracking::tally(&tracked.tracking.marks);
    let status: Vec<RequestStatus> = tracked
        .listed()
        .iter()
        .map(|listed| RequestStatus {
            tally: tallies.get(&listed.id).copied().unwrap_or_default(),
            answered: listed.answered,
        })
        .collect();
    let pieces = render_digest(stored.week, bulletin, region, notice, &status);
    reply_pieces(ctx, pieces, !public.unwrap_or(false)).await
}

/// Where, when and in which zone the weekly posts go (admins only)
#[poise::command(slash_command, guild_only, check = "admin_only")]
#[allow(clippy::too_many_arguments)] // poise reads each slash-command option from the signature
pub async fn setup(
    ctx: Context<'_>,
    #[description = "The channel for the posts (for the region, if you name one); needed the first time"]
    #[channel_types("Text", "News")]
    channel: Option<serenity::ChannelId>,
    #[description = "Send only this region's requests to that channel"]
    #[autocomplete = "autocomplete_region"]
    region: Option<String>,
    #[description = "The posting day; Saturday or Sunday posts carry the next week (Monday if never set)"]
    weekday: Option<Day>,
    #[description = "The time they are posted, e.g. 09:00 or 7:30 pm (09:00 if never set)"]
    time: Option<String>,
    #[description = "Your time zone, e.g. Europe/London (UTC if never set)"]
    #[autocomplete = "autocomplete_zone"]
    timezone: Option<String>,
    #[description = "Post automatically every week (on if never set)"] auto: Option<bool>,
    #[description = "A role the weekly header mentions (members who want the ping take it)"]
    role: Option<serenity::Role>,
    #[description = "Stop mentioning the role in the weekly header"] no_role: Option<bool>,
    #[description = "A weekday for a private mid-week reminder to members with open commitments, or off"]
    #[autocomplete = "autocomplete_nudge"]
    nudge: Option<String>,
    #[description = "Open a thread on the week's header for the group to talk about the week"]
    threads: Option<bool>,
    #[description = "Post a recap of each week (counts, a chart) on this weekday, or `off`"]
    #[autocomplete = "autocomplete_recap"]
    recap: Option<String>,
    #[description = "Where admins hear what needs them (no bulletin, a failed post); else the default channel"]
    #[channel_types("Text", "News")]
    notices: Option<serenity::ChannelId>,
) -> Result<(), Error> {
    let guild = guild(ctx)?;
    let _busy = ctx.data().busy.read().await;
    let extras = Extras {
        nudge: nudge_option(nudge.as_deref())?,
        recap: recap_day(recap.as_deref())?,
        threads: threads_option(ctx, guild, channel, threads).await?,
        notices: notices_option(ctx, notices).await?,
        ping: ping_role(ctx, role, no_role).await?,
    };
    let region = typed_region(ctx, guild, region.as_deref()).await?;
    let typed = Typed {
        weekday,
        time,
        timezone,
        auto,
    };
    let asked = Setup::read(ctx, guild, typed, extras).await?;
    match channel {
        Some(channel) => route(ctx, &asked, channel, region).await,
        None => match region {
            Some(region) => Err(UserError::new(format!(
                "Name the channel for **{region}**'s requests: `/prayer setup channel:#channel region:{region}`. Nothing was changed."
            ))
            .into()),
            None => schedule_only(ctx, &asked).await,
        },
    }
}

/// Whether a text option was left out or left empty.
fn blank(typed: Option<&str>) -> bool {
    typed.is_none_or(|t| t.trim().is_empty())
}

/// The region `/prayer setup` was given, as the server's bulletins name
/// it; `None` when none was typed.
async fn typed_region(
    ctx: Context<'_>,
    guild: GuildId,
    typed: Option<&str>,
) -> Result<Option<String>, Error> {
    match typed.map(str::trim).filter(|r| !r.is_empty()) {
        Some(typed) => Ok(Some(known_region(ctx, guild, typed).await?)),
        None => Ok(None),
    }
}

/// What `/prayer setup` was asked, beside the channel and region.
struct Setup {
    guild: GuildId,
    /// The schedule before, and as changed by what was typed.
    current: crate::schedule::Schedule,
    schedule: crate::schedule::Schedule,
    zone_typed: bool,
    /// Whether no schedule option was given at all.
    nothing_typed: bool,
    extras: Extras,
}

/// The schedule options of `/prayer setup`, as typed.
struct Typed {
    weekday: Option<Day>,
    time: Option<String>,
    timezone: Option<String>,
    auto: Option<bool>,
}

impl Setup {
    /// What was asked, with the schedule as it stands and as changed.
    async fn read(
        ctx: Context<'_>,
        guild: GuildId,
        typed: Typed,
        extras: Extras,
    ) -> Result<Setup, Error> {
        let Typed {
            weekday,
            time,
            timezone,
            auto,
        } = typed;
        let current = ctx.data().store.schedule(guild).await?;
        let schedule =
            changed_schedule(current, weekday, time.as_deref(), timezone.as_deref(), auto)?;
        Ok(Setup {
            guild,
            current,
            schedule,
            zone_typed: timezone.is_some(),
            nothing_typed: weekday.is_none()
                && blank(time.as_deref())
                && blank(timezone.as_deref())
                && auto.is_none()
                && extras.is_empty(),
            extras,
        })
    }
}

/// The options of `/prayer setup` beside the channel and the schedule, each
/// `None` when not given.
struct Extras {
    /// The role the header is to mention: `Some(None)` for none any more.
    ping: Option<Option<RoleId>>,
    /// The mid-week nudge's day: `Some(None)` for off.
    nudge: Option<Option<chrono::Weekday>>,
    /// Whether the week's header opens a thread.
    threads: Option<bool>,
    /// The recap's weekday: `Some(None)` for no recap.
    recap: Option<Option<chrono::Weekday>>,
    /// Where admins are told what needs them.
    notices: Option<ChannelId>,
}

impl Extras {
    fn is_empty(&self) -> bool {
        self.ping.is_none()
            && self.nudge.is_none()
            && self.threads.is_none()
            && self.recap.is_none()
            && self.notices.is_none()
    }
}

impl Setup {
    /// The schedule in words, what the header mentions if that changed, and
    /// the fixed-offset zone warning if any.
    async fn words(&self, store: &crate::storage::Store) -> Result<String, Error> {
        let when = schedule_status(store, self.guild, self.schedule, super::now()).await?;
        let ping = match self.extras.ping {
            None => String::new(),
            Some(None) => " The weekly header mentions no role.".to_owned(),
            Some(Some(role)) => format!(
                " The weekly header mentions <@&{role}> (once a week, in the first channel's header)."
            ),
        };
        let nudge = match self.extras.nudge {
            None => String::new(),
            Some(day) => format!(" {}", nudge_words(day)),
        };
        let threads = match self.extras.threads {
            None => "",
            Some(true) => {
                " Each week's header opens a thread for the group to talk about the week."
            }
            Some(false) => " The week's header opens no thread.",
        };
        let notices = match self.extras.notices {
            Some(channel) => format!(
                " Admins are told what needs them (no bulletin yet, a failed post) in <#{channel}>."
            ),
            None => String::new(),
        };
        let recap = match self.extras.recap {
            Some(day) => format!(" {}", crate::recap::recap_words(day)),
            None => String::new(),
        };
        Ok(format!(
            "{when}{ping}{nudge}{threads}{recap}{notices}{}",
            zone_warning(self.schedule, self.zone_typed)
        ))
    }

    /// Stores the role the header mentions, the nudge day and the recap's
    /// day, if given.
    async fn store_ping(&self, store: &crate::storage::Store) -> Result<(), Error> {
        if let Some(role) = self.extras.ping {
            store.set_ping_role(self.guild, role, super::now()).await?;
        }
        if let Some(day) = self.extras.nudge {
            store.set_nudge(self.guild, day, super::now()).await?;
        }
        if let Some(threads) = self.extras.threads {
            store.set_threads(self.guild, threads, super::now()).await?;
        }
        if let Some(channel) = self.extras.notices {
            store
                .set_notice_channel(self.guild, Some(channel), super::now())
                .await?;
        }
        if let Some(day) = self.extras.recap {
            store.set_recap_day(self.guild, day, super::now()).await?;
        }
        Ok(())
    }
}

/// The nudge day `/prayer setup` was given: `Some(None)` for off, `None`
/// when not given; a value that is no weekday is refused in words.
fn nudge_option(typed: Option<&str>) -> Result<Option<Option<chrono::Weekday>>, Error> {
    Ok(typed
        .map(parse_nudge_day)
        .transpose()
        .map_err(UserError::new)?)
}

/// `threads` as `/prayer setup` was given it: turning threads on needs
/// Create Public Threads in the channel the header goes to (the one given,
/// else the default), named if missing, and nothing changes.
async fn threads_option(
    ctx: Context<'_>,
    guild: GuildId,
    channel: Option<serenity::ChannelId>,
    threads: Option<bool>,
) -> Result<Option<bool>, Error> {
    if threads != Some(true) {
        return Ok(threads);
    }
    let default = ctx
        .data()
        .store
        .channel_settings(guild)
        .await?
        .default_channel;
    let Some(channel) = channel.or(default.map(serenity::ChannelId::from)) else {
        return Ok(threads);
    };
    if !super::permissions::may_open_threads(ctx, channel).await? {
        return Err(UserError::new(format!(
            "To open the week's thread I need **Create Public Threads** in <#{channel}>: grant it to my role there (Server Settings → Roles, or the channel's permissions), then run this again. Nothing was changed."
        ))
        .into());
    }
    Ok(threads)
}

/// The notices channel `/prayer setup` was given, once the bot may post
/// there (the permissions a post needs, named if missing; nothing changes).
async fn notices_option(
    ctx: Context<'_>,
    notices: Option<serenity::ChannelId>,
) -> Result<Option<ChannelId>, Error> {
    let Some(channel) = notices else {
        return Ok(None);
    };
    let missing = super::permissions::missing_in(ctx, channel).await?;
    if !missing.is_empty() {
        return Err(UserError::new(format!(
            "I can't tell the admins anything in <#{channel}>: I am missing {} there. Grant it to my role, then run this again. Nothing was changed.",
            missing.join(", ")
        ))
        .into());
    }
    Ok(Some(ChannelId::from(channel)))
}

/// The choices `nudge` offers as an admin types.
async fn autocomplete_nudge(_: Context<'_>, partial: &str) -> CreateAutocompleteResponse {
    let offered = crate::schedule::day_choices(&NUDGE_CHOICES, partial)
        .into_iter()
        .map(|choice| serenity::AutocompleteChoice::new(choice, choice))
        .collect();
    CreateAutocompleteResponse::new().set_choices(offered)
}

/// The recap day `/prayer setup` was given (`Some(None)`: off), checked
/// before anything changes.
fn recap_day(typed: Option<&str>) -> Result<Option<Option<chrono::Weekday>>, Error> {
    typed
        .map(|typed| crate::recap::parse_recap_day(typed).map_err(|e| UserError::new(e).into()))
        .transpose()
}

/// The choices `recap` offers as an admin types.
async fn autocomplete_recap(_: Context<'_>, partial: &str) -> CreateAutocompleteResponse {
    let choices = crate::recap::recap_choices(partial)
        .into_iter()
        .map(serenity::AutocompleteChoice::from)
        .collect();
    CreateAutocompleteResponse::new().set_choices(choices)
}

/// The role `/prayer setup` was given to mention, checked: not @everyone,
/// and one the bot's messages can ping. `Some(None)` for `no_role:true`.
async fn ping_role(
    ctx: Context<'_>,
    role: Option<serenity::Role>,
    no_role: Option<bool>,
) -> Result<Option<Option<RoleId>>, Error> {
    let Some(role) = role else {
        return Ok((no_role == Some(true)).then_some(None));
    };
    if no_role == Some(true) {
        return Err(UserError::new(
            "Give either `role` or `no_role:true`, not both. Nothing was changed.",
        )
        .into());
    }
    if ctx
        .guild_id()
        .is_some_and(|guild| guild.get() == role.id.get())
    {
        return Err(UserError::new(
            "The header does not ping @everyone: make a role for those who want the weekly ping (for example @Prayer-team) and give that. Nothing was changed.",
        )
        .into());
    }
    if !super::permissions::may_mention(ctx, &role).await? {
        return Err(UserError::new(format!(
            "I can't ping <@&{}>: in Server Settings → Roles, turn on \"Allow anyone to @mention this role\" for it (or give me Mention @everyone, @here and All Roles), then run this again. Nothing was changed.",
            role.id
        ))
        .into());
    }
    Ok(Some(Some(role.id.into())))
}

/// `/prayer setup` without a channel: the schedule changes (or is shown).
async fn schedule_only(ctx: Context<'_>, asked: &Setup) -> Result<(), Error> {
    let store = &ctx.data().store;
    let Some(default_channel) = store.channel_settings(asked.guild).await?.default_channel else {
        return Err(UserError::new(
            "The first setup needs a channel for the posts: run `/prayer setup channel:#channel` (you can give the weekday, time and time zone at the same time). Nothing was changed.",
        )
        .into());
    };
    if asked.nothing_typed {
        let when = schedule_status(store, asked.guild, asked.current, super::now()).await?;
        return reply(
            ctx,
            format!(
                "Weekly posts go to <#{default_channel}>. {when} To change something, give `channel`, `weekday`, `time`, `timezone`, `auto` or `recap`. Nothing was changed."
            ),
        )
        .await;
    }
    store_schedule(ctx, asked.guild, asked.schedule).await?;
    asked.store_ping(store).await?;
    reply(ctx, asked.words(store).await?).await
}

/// `/prayer setup channel:`: the posts (or one region's) go to `channel`,
/// once the bot may post there; the schedule changes with it.
async fn route(
    ctx: Context<'_>,
    asked: &Setup,
    channel: serenity::ChannelId,
    region: Option<String>,
) -> Result<(), Error> {
    let missing = super::permissions::missing_in(ctx, channel).await?;
    if !missing.is_empty() {
        return Err(UserError::new(format!(
            "I can't post in <#{channel}>: I am missing {}. Give me these there (channel permissions included), then run this again. Nothing was changed.",
            missing.join(", ")
        ))
        .into());
    }
    let store = &ctx.data().store;
    // The schedule first: a server's settings row made by the channel
    // below would otherwise carry the default (automatic posts on) for a
    // moment, and the scheduler could post a week the admin turned off.
    store_schedule(ctx, asked.guild, asked.schedule).await?;
    asked.store_ping(store).await?;
    let message = match region {
        Some(region) => {
            store
                .set_region_channel(asked.guild, &region, channel.into())
                .await?;
            format!(
                "Requests for **{region}** will be posted in <#{channel}>; other regions go to the default channel."
            )
        }
        None => {
            store
                .set_default_channel(asked.guild, channel.into(), super::now())
                .await?;
            format!("Weekly posts will go to <#{channel}>.")
        }
    };
    ctx.data().wake.notify_one();
    reply(ctx, format!("{message} {}", asked.words(store).await?)).await
}

/// Stores `schedule` as an admin set it, with the instant from which its
/// post times count (`schedule::counts_from_after_change`), and wakes the
/// scheduler.
async fn store_schedule(
    ctx: Context<'_>,
    id: GuildId,
    schedule: crate::schedule::Schedule,
) -> Result<(), Error> {
    let store = &ctx.data().store;
    let before = store.schedule_record(id).await?;
    let now = super::now();
    let since = crate::schedule::counts_from_after_change(before, schedule, now);
    store.change_schedule(id, &schedule, since, now).await?;
    ctx.data().wake.notify_one();
    Ok(())
}

/// A warning when the zone just typed is a fixed offset (`EST`,
/// `Etc/GMT+5` …) that never follows summer time; empty otherwise.
fn zone_warning(schedule: crate::schedule::Schedule, zone_typed: bool) -> String {
    match crate::schedule::fixed_offset(schedule.zone).filter(|_| zone_typed) {
        Some(fixed) => format!("\n⚠️ {fixed}"),
        None => String::new(),
    }
}

/// How far back `/prayer setup` looks for the regions of a server's
/// bulletins.
const REGION_WEEKS_BACK: u32 = 12;

/// The regions an admin can route in `guild`: those of its recent and
/// coming bulletins, then the regions IJM bulletins use.
async fn regions_for(ctx: Context<'_>, guild: GuildId) -> Result<Vec<String>, Error> {
    let from = PrayerWeek::containing(today(ctx).await?).weeks_before(REGION_WEEKS_BACK);
    Ok(ctx
        .data()
        .store
        .regions_from(Scope::Guild(guild), from)
        .await?)
}

/// The region `typed` names, as its bulletins spell it; else a refusal
/// that offers the close matches.
async fn known_region(ctx: Context<'_>, guild: GuildId, typed: &str) -> Result<String, Error> {
    let seen = regions_for(ctx, guild).await?;
    let choices = region_choices(&seen);
    match_region(&choices, typed).map_err(|unknown| {
        let hint = match unknown.close.as_slice() {
            [] => format!(
                "The regions I know are: {}.",
                choices.iter().take(12).copied().collect::<Vec<_>>().join(", ")
            ),
            close => format!("Did you mean {}?", close.join(" or ")),
        };
        UserError::new(format!(
            "No bulletin of this server has a region “{}”, so nothing would be posted there. {hint} Nothing was changed.",
            shown_typed(typed)
        ))
        .into()
    })
}

pub(super) async fn autocomplete_region(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let seen = match guild(ctx) {
        Ok(guild) => regions_for(ctx, guild).await.unwrap_or_else(|error| {
            tracing::error!(%error, "cannot read the regions for autocomplete");
            Vec::new()
        }),
        Err(_) => Vec::new(),
    };
    let choices = autocomplete(&region_choices(&seen), partial)
        .into_iter()
        .map(serenity::AutocompleteChoice::from)
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
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
        today: today(ctx).await?,
        now: super::now(),
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
    // A bulletin for a week already under way may be due at once.
    ctx.data().wake.notify_one();
    let (verdict, words) = outcome_words(&imported.outcome, &summary(&imported.bulletin), DISCORD);
    match verdict {
        Verdict::Refused => Err(UserError::new(words).into()),
        Verdict::Added => reply(ctx, format!("Imported {words}")).await,
        Verdict::Moved | Verdict::Unchanged => {
            reply(ctx, format!("{}: {words}", summary(&imported.bulletin))).await
        }
    }
}

/// A bulletin as an import's answer names it: its title, and its requests
/// by region.
fn summary(b: &crate::bulletins::parse::Bulletin) -> String {
    let regions: Vec<&str> = group_by_region(&b.requests)
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    format!(
        "**{}**: {} requests in {} regions ({})",
        b.title,
        b.requests.len(),
        regions.len(),
        regions.join(", ")
    )
}

/// The attachment's bytes, or why not in a sentence. serenity's own
/// `download` takes an error page for the file and trusts the declared
/// size; [`fetch_capped`] does neither.
async fn download(file: &serenity::Attachment) -> Result<Vec<u8>, Error> {
    let name = &file.filename;
    fetch_capped(&file.url, MAX_BULLETIN_BYTES, DOWNLOAD_TIMEOUT)
        .await
        .map_err(|error| {
            let text = match error {
                FetchError::TooLarge { limit } => format!(
                    "`{name}` is larger than {limit} bytes; a bulletin is at most that. Nothing changed."
                ),
                other => format!(
                    "I could not fetch `{name}` from Discord ({other}). Try attaching it again. Nothing changed."
                ),
            };
            UserError::new(text).into()
        })
}

/// Post a week's requests now: never twice (admins only)
#[poise::command(slash_command, guild_only, check = "admin_only")]
pub async fn post(
    ctx: Context<'_>,
    #[description = "The prayer week, named by its Monday (YYYY-MM-DD); this week if left out"]
    week: Option<String>,
    #[description = "Show me what would be posted, privately, and post nothing"] preview: Option<
        bool,
    >,
) -> Result<(), Error> {
    let guild = guild(ctx)?;
    let named = parse_week(week.as_deref())?;
    ctx.defer_ephemeral().await?;
    let _busy = ctx.data().busy.read().await;
    // No lock of its own: the week's lease keeps this post and the
    // scheduler's (or a second admin's, or another process's) apart, and
    // the one that finds it held answers InProgress below.
    let week = match named {
        Some(week) => week,
        None => this_week_to_post(ctx, guild).await?,
    };
    let store = &ctx.data().store;
    if preview == Some(true) {
        return match crate::posting::preview(store, guild, week).await {
            Ok(pieces) => reply_pieces(ctx, pieces, true).await,
            Err(PostError::Storage(error)) => Err(error.into()),
            Err(error) => Err(UserError::new(error.to_string()).into()),
        };
    }
    let run = PostRun::new(PostRun::LEASE);
    let message = match post_week(store, &ctx.data().rest, guild, week, &run, super::now).await {
        Ok(outcome) => outcome.words(),
        // The admin hears how far the post got before the process goes.
        Err(stopped @ PostError::Stopped { .. }) => stopped.to_string(),
        Err(PostError::Storage(error)) => return Err(error.into()),
        Err(error) => return Err(UserError::new(error.to_string()).into()),
    };
    reply(ctx, message).await
}

/// The week `/prayer post` posts when none is named: this week, never a
/// later one in its place (`post_week` says if it has no bulletin).
async fn this_week_to_post(ctx: Context<'_>, guild: GuildId) -> Result<PrayerWeek, Error> {
    let today = today(ctx).await?;
    let current = PrayerWeek::containing(today);
    match choose_week(&ctx.data().store, Scope::Guild(guild), None, today).await {
        Ok((week, _)) if week == current => Ok(week),
        Ok((next, _)) => Err(UserError::new(format!(
            "This week ({current}) has no bulletin; the next with one is {next}: run `/prayer post week:{next}`, or import this week's with `/prayer import`. Nothing was posted."
        ))
        .into()),
        Err(FindWeekError::Storage(error)) => Err(error.into()),
        Err(_) => Err(UserError::new(format!(
            "This week ({current}) has no bulletin, nor has any later week: load one with `/prayer import`. Nothing was posted."
        ))
        .into()),
    }
}
