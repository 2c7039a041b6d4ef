//! The weekly schedule on Discord's side: the schedule options of
//! `/prayer setup`, the time zone autocomplete, and `/prayer status`.

use chrono::Weekday;
use poise::serenity_prelude as serenity;

use super::reply::{guild, reply_pieces};
use super::{Context, Error, UserError, admin_only, now};
use crate::schedule::status::{ChannelAccess, posting_channels};
use crate::schedule::{Schedule, parse_time, parse_zone, zone_choices};

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
                crate::posting::render::shown_typed(typed)
            ))
        })?;
    }
    if let Some(auto) = auto {
        schedule.auto = auto;
    }
    Ok(schedule)
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
    let guild = guild(ctx)?;
    let store = &ctx.data().store;
    let mut access = Vec::new();
    for channel in posting_channels(store, guild).await? {
        // A channel deleted since setup is a problem to list, not a reason
        // to give up on the rest of the status.
        let found = match super::permissions::missing_in(ctx, channel.into()).await {
            Ok(missing) if missing.is_empty() => ChannelAccess::Ready,
            Ok(missing) => ChannelAccess::Missing(missing),
            Err(Error::User(error)) => ChannelAccess::Unusable(error.to_string()),
            Err(error) => return Err(error),
        };
        access.push((channel, found));
    }
    let text = crate::schedule::status::status(store, guild, now(), &access).await?;
    reply_pieces(ctx, vec![text], true).await
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
}
