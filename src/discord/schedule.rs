//! The weekly schedule on Discord's side: the schedule options of
//! `/prayer setup`, the time zone autocomplete, and `/prayer status`.

use chrono::{DateTime, Utc, Weekday};
use poise::serenity_prelude as serenity;

use super::{Context, Error, UserError, admin_only, now};
use crate::ids::GuildId;
use crate::schedule::{Schedule, next_post, parse_time, parse_zone, zone_choices};

/// A weekday, as Discord offers it.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum Day {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl From<Day> for Weekday {
    fn from(day: Day) -> Weekday {
        match day {
            Day::Monday => Weekday::Mon,
            Day::Tuesday => Weekday::Tue,
            Day::Wednesday => Weekday::Wed,
            Day::Thursday => Weekday::Thu,
            Day::Friday => Weekday::Fri,
            Day::Saturday => Weekday::Sat,
            Day::Sunday => Weekday::Sun,
        }
    }
}

/// `current` with what the admin typed applied; a bad time or zone is
/// refused in words (with close zone names), and nothing is changed.
pub fn changed_schedule(
    current: Schedule,
    weekday: Option<Day>,
    time: Option<&str>,
    zone: Option<&str>,
    auto: Option<bool>,
) -> Result<Schedule, UserError> {
    let mut schedule = current;
    if let Some(day) = weekday {
        schedule.weekday = day.into();
    }
    if let Some(typed) = time.map(str::trim).filter(|t| !t.is_empty()) {
        schedule.time = parse_time(typed)
            .map_err(|error| UserError::new(format!("{error} Nothing was changed.")))?;
    }
    if let Some(typed) = zone.map(str::trim).filter(|z| !z.is_empty()) {
        schedule.zone = parse_zone(typed).map_err(|unknown| {
            let hint = match unknown.close.as_slice() {
                [] => "Pick one from the list as you type (IANA names such as `Europe/London` or `America/New_York`).".to_owned(),
                close => format!("Did you mean {}?", close.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(" or ")),
            };
            UserError::new(format!(
                "“{}” is not a time zone I know. {hint} Nothing was changed.",
                crate::render::shown_typed(typed)
            ))
        })?;
    }
    if let Some(auto) = auto {
        schedule.auto = auto;
    }
    Ok(schedule)
}

fn day_name(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// The schedule in words for `guild`, with what happens next: this week
/// posted now (its time has passed and it is owed), or the next post time.
pub async fn schedule_status(
    store: &crate::storage::Store,
    guild: GuildId,
    schedule: Schedule,
    now: DateTime<Utc>,
) -> Result<String, crate::storage::StorageError> {
    let week = crate::schedule::current_week(schedule.zone, now);
    let state = store.week_states(&[(guild, week)]).await?;
    let state = state.first().copied().unwrap_or(crate::storage::WeekState {
        has_bulletin: false,
        posted: false,
    });
    let server = crate::schedule::ServerState {
        guild,
        schedule,
        week,
        has_bulletin: state.has_bulletin,
        posted: state.posted,
    };
    if crate::schedule::due_post(&server, now).is_some() {
        return Ok(format!(
            "{} This week's time has passed and the week of {week} is not posted here yet, so it is being posted now.",
            schedule_words(schedule, now, None)
        ));
    }
    // A week already posted (by hand, say) is not posted again: the next
    // post is the following week's.
    Ok(schedule_words(schedule, now, state.posted.then_some(week)))
}

/// The schedule in words, with the next post as Discord timestamps (each
/// member sees them in their own time). `posted`: a week already posted,
/// whose time does not count as the next post.
pub fn schedule_words(
    schedule: Schedule,
    now: DateTime<Utc>,
    posted: Option<crate::week::PrayerWeek>,
) -> String {
    let when = format!(
        "{}s at {} ({})",
        day_name(schedule.weekday),
        schedule.time.format("%H:%M"),
        schedule.zone.name()
    );
    if !schedule.auto {
        return format!(
            "Automatic posts are **off** (the schedule is {when}); an admin posts with `/prayer post`."
        );
    }
    let mut next = next_post(schedule, now);
    if let Some(week) = posted
        && next < crate::schedule::week_end(schedule.zone, week)
    {
        next = crate::schedule::post_time(schedule, week.next());
    }
    let next = next.timestamp();
    format!("Posts go out {when}. Next post: <t:{next}:F> (<t:{next}:R>).")
}

pub async fn autocomplete_zone(
    _: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let choices = zone_choices(partial)
        .into_iter()
        .map(serenity::AutocompleteChoice::from)
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// The schedule, the next and last post, and what needs an admin (admins only)
#[poise::command(slash_command, guild_only, check = "admin_only")]
pub async fn status(ctx: Context<'_>) -> Result<(), Error> {
    let id = super::tracking::guild(ctx)?;
    let store = &ctx.data().store;
    let now = now();
    let schedule = store.schedule(id).await?;
    let settings = store.channel_settings(id.get()).await?;
    let mut lines = vec![format!(
        "**Schedule.** {}",
        schedule_status(store, id, schedule, now).await?
    )];
    lines.push(match store.last_post(id).await? {
        None => "**Last post.** None yet.".to_owned(),
        Some(last) => match last.finished_at {
            Some(at) => format!(
                "**Last post.** The week of {}: {} messages, finished <t:{}:f>.",
                last.week,
                last.messages,
                at.timestamp()
            ),
            None => format!(
                "**Last post.** The week of {}: begun <t:{}:f>, {} messages so far, not finished; it resumes on the next try.",
                last.week,
                last.started_at.timestamp(),
                last.messages
            ),
        },
    });
    let mut problems = Vec::new();
    let channels: Vec<u64> = settings
        .default_channel
        .into_iter()
        .chain(settings.region_channels.iter().map(|(_, c)| *c))
        .collect();
    if settings.default_channel.is_none() {
        problems.push(
            "No default channel: run `/prayer setup channel:#channel` so every region has somewhere to go.".to_owned(),
        );
    }
    for channel in channels {
        // A channel deleted since setup is a problem to list, not a reason
        // to give up on the rest of the status.
        match super::permissions::missing_in(ctx, serenity::ChannelId::new(channel.max(1))).await
        {
            Ok(missing) if missing.is_empty() => {}
            Ok(missing) => problems.push(format!(
                "In <#{channel}> I am missing {}.",
                missing.join(", ")
            )),
            Err(Error::User(error)) => problems.push(format!(
                "The posts go to a channel I cannot use ({error}); run `/prayer setup` with a channel that exists."
            )),
            Err(error) => return Err(error),
        }
    }
    let week = crate::schedule::current_week(schedule.zone, now);
    let states = store.week_states(&[(id, week), (id, week.next())]).await?;
    let coming = if states.first().is_some_and(|s| s.posted) {
        week.next()
    } else {
        week
    };
    let coming_state = if coming == week {
        states.first()
    } else {
        states.get(1)
    };
    if coming_state.is_some_and(|s| !s.has_bulletin) {
        problems.push(format!(
            "No bulletin for the week of {coming}: import one with `/prayer import`."
        ));
    }
    if let Some(problem) = store.post_problem(id).await? {
        problems.push(format!(
            "The post of the week of {} failed <t:{}:R>: {}",
            problem.week,
            problem.failed_at.timestamp(),
            problem.problem
        ));
    }
    problems.extend(super::tracking::unread_problems(store, id, schedule.zone, now).await?);
    lines.push(if problems.is_empty() {
        "**Problems.** None: nothing needs an admin.".to_owned()
    } else {
        format!("**Problems.**\n• {}", problems.join("\n• "))
    });
    super::commands::reply_pieces(ctx, vec![lines.join("\n")], true).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_change_keeps_what_was_not_typed_and_refuses_a_bad_zone() {
        let current = Schedule::default();
        let changed = changed_schedule(current, Some(Day::Wednesday), Some("18:30"), None, None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(changed.weekday, Weekday::Wed);
        assert_eq!(changed.time.format("%H:%M").to_string(), "18:30");
        assert_eq!(changed.zone, current.zone);
        let refused = changed_schedule(current, None, None, Some("Europe/Londn"), None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(refused.contains("`Europe/London`"), "{refused}");
        assert!(refused.ends_with("Nothing was changed."), "{refused}");
        let bad_time = changed_schedule(current, None, Some("25:00"), None, None);
        assert!(bad_time.is_err());
    }

    #[test]
    fn the_next_post_is_given_as_discord_timestamps() {
        let now: DateTime<Utc> = "2026-11-23T08:00:00Z".parse().unwrap_or_default();
        let words = schedule_words(Schedule::default(), now, None);
        let at = "2026-11-23T09:00:00Z"
            .parse::<DateTime<Utc>>()
            .unwrap_or_default()
            .timestamp();
        assert_eq!(
            words,
            format!("Posts go out Mondays at 09:00 (UTC). Next post: <t:{at}:F> (<t:{at}:R>).")
        );
        // This week already posted by hand: the next post is next week's.
        let week = crate::schedule::current_week(chrono_tz::UTC, now);
        let next_week = at + 7 * 24 * 3600;
        assert!(
            schedule_words(Schedule::default(), now, Some(week))
                .contains(&format!("<t:{next_week}:F>"))
        );
    }
}
