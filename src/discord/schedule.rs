//! The weekly schedule on Discord's side: the schedule options of
//! `/prayer setup`, the time zone autocomplete, and `/prayer status`.

use chrono::{DateTime, Utc, Weekday};
use poise::serenity_prelude as serenity;

use super::reply::{guild, reply_pieces};
use super::{Context, Error, UserError, admin_only, now};
use crate::ids::{ChannelId, GuildId};
use crate::schedule::{
    Schedule, ServerState, awaited_week, carries_next_week, due_post, parse_time, parse_zone,
    passed_before_set, scheduled_week, upcoming_post, zone_choices,
};

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

/// What the schedule decides from for `guild` at `now`: the week its
/// schedule is on, with that week's state.
pub async fn server_state(
    store: &crate::storage::Store,
    guild: GuildId,
    schedule: Schedule,
    now: DateTime<Utc>,
) -> Result<ServerState, crate::storage::StorageError> {
    let week = scheduled_week(schedule, now);
    let state = store
        .week_states(&[(guild, week)])
        .await?
        .first()
        .copied()
        .unwrap_or_default();
    Ok(ServerState {
        guild,
        schedule,
        week,
        has_bulletin: state.has_bulletin,
        posted: state.posted,
        since: state.since,
        newest_posted: state.newest_posted,
    })
}

/// The schedule in words for `guild`, with what happens next: this week
/// posted now (its time has passed and it is owed), or the next post time.
pub async fn schedule_status(
    store: &crate::storage::Store,
    guild: GuildId,
    schedule: Schedule,
    now: DateTime<Utc>,
) -> Result<String, crate::storage::StorageError> {
    Ok(schedule_words(
        &server_state(store, guild, schedule, now).await?,
        now,
    ))
}

/// The schedule in words: when posts go out and which week each carries,
/// a week being posted now or one whose time passed before the schedule
/// was set, and the next post as Discord timestamps (each member sees them
/// in their own time) with the week it carries.
pub fn schedule_words(server: &ServerState, now: DateTime<Utc>) -> String {
    let schedule = server.schedule;
    let when = format!(
        "{}s at {} ({})",
        day_name(schedule.weekday),
        schedule.time.format("%H:%M"),
        schedule.zone.name()
    );
    let carries = if carries_next_week(schedule.weekday) {
        "each with the week that begins the next Monday"
    } else {
        "each with the week it falls in"
    };
    if !schedule.auto {
        return format!(
            "Automatic posts are **off** (the schedule is {when}, {carries}); an admin posts with `/prayer post`."
        );
    }
    let week = server.week;
    if due_post(server, now).is_some() {
        return format!(
            "Posts go out {when}, {carries}. The post time of the week of {week} has passed and it is not posted here yet, so it is being posted now."
        );
    }
    let mut words = format!("Posts go out {when}, {carries}.");
    let behind = server.newest_posted.is_some_and(|newest| newest > week);
    if let Some(missed) = passed_before_set(schedule, server.since, now)
        && !server.posted
        && !behind
    {
        let once = if server.has_bulletin {
            ""
        } else {
            " once its bulletin is imported"
        };
        words.push_str(&format!(
            " The post time of the week of {missed} had already passed when this schedule was set, so that week is not posted by itself: to post it now, run `/prayer post week:{missed}`{once}."
        ));
    }
    // A week already posted (by hand, say) is not posted again: the next
    // post carries a later one.
    if let Some((next_week, at)) = upcoming_post(schedule, now, server.newest_posted) {
        let at = at.timestamp();
        words.push_str(&format!(
            " Next post: <t:{at}:F> (<t:{at}:R>), the week of {next_week}."
        ));
    }
    words
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
    let id = guild(ctx)?;
    let store = &ctx.data().store;
    let now = now();
    let schedule = store.schedule(id).await?;
    let settings = store.channel_settings(id).await?;
    let server = server_state(store, id, schedule, now).await?;
    let mut lines = vec![format!("**Schedule.** {}", schedule_words(&server, now))];
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
    let channels: Vec<ChannelId> = settings
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
        match super::permissions::missing_in(ctx, channel.into()).await
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
    // The bulletin the next post needs (on a weekend, next week's).
    let awaited = awaited_week(&server, now);
    let has_bulletin = if awaited == server.week {
        server.has_bulletin
    } else {
        store
            .week_states(&[(id, awaited)])
            .await?
            .first()
            .is_some_and(|state| state.has_bulletin)
    };
    if !has_bulletin {
        problems.push(format!(
            "No bulletin for the week of {awaited}: import one with `/prayer import`."
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
    problems.extend(unread_problems(store, id, schedule.zone, now).await?);
    lines.push(if problems.is_empty() {
        "**Problems.** None: nothing needs an admin.".to_owned()
    } else {
        format!("**Problems.**\n• {}", problems.join("\n• "))
    });
    reply_pieces(ctx, vec![lines.join("\n")], true).await
}

/// The request messages of the current and previous week's posts that
/// reading reactions back could not read, as `/prayer status` lists them.
pub(super) async fn unread_problems(
    store: &crate::storage::Store,
    guild: GuildId,
    zone: chrono_tz::Tz,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<String>, Error> {
    let week = crate::schedule::current_week(zone, now);
    Ok(store
        .unread_posts(guild, week.weeks_before(1))
        .await?
        .iter()
        .map(unread_problem)
        .collect())
}

fn unread_problem(unread: &crate::storage::UnreadPost) -> String {
    let name = if unread.text.is_empty() {
        "a request whose bulletin was replaced".to_owned()
    } else {
        format!(
            "*{}*",
            crate::tracking::report::request_name(&unread.region, &unread.text)
        )
    };
    let channel = unread.channel;
    if unread.deleted {
        format!(
            "The request message for {name} in <#{channel}> was deleted; its prayers are kept, but members can no longer react to it or press its buttons. If that was meant, nothing needs doing; otherwise post the request again yourself (the bot does not post a week twice), and members can still name it in `/prayer who` and `/praise`. This note goes when the week after that post is over."
        )
    } else {
        format!(
            "I could not read the 🙏 on the request message for {name} in <#{channel}> ({}), so prayers added there while I was offline may be missing. Check that I can View Channel and Read Message History there; I read it again each time I reconnect (a restart does it now), and this note goes once that works.",
            unread.reason
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::tests::waiting;

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
    fn the_next_post_is_given_as_discord_timestamps_with_the_week_it_carries() {
        let now: DateTime<Utc> = "2026-11-23T08:00:00Z".parse().unwrap_or_default();
        let words = schedule_words(&waiting(Schedule::default(), now), now);
        let at = "2026-11-23T09:00:00Z"
            .parse::<DateTime<Utc>>()
            .unwrap_or_default()
            .timestamp();
        assert_eq!(
            words,
            format!(
                "Posts go out Mondays at 09:00 (UTC), each with the week it falls in. Next post: <t:{at}:F> (<t:{at}:R>), the week of 2026-11-23."
            )
        );
        // This week already posted by hand: the next post is next week's.
        let week = crate::schedule::current_week(chrono_tz::UTC, now);
        let posted = ServerState {
            posted: true,
            newest_posted: Some(week),
            ..waiting(Schedule::default(), now)
        };
        let next_week = at + 7 * 24 * 3600;
        assert!(schedule_words(&posted, now).contains(&format!(
            "<t:{next_week}:F> (<t:{next_week}:R>), the week of 2026-11-30."
        )));
    }

    #[test]
    fn a_weekend_schedule_says_it_carries_the_next_week() {
        let sunday = Schedule {
            weekday: Weekday::Sun,
            ..Schedule::default()
        };
        let now: DateTime<Utc> = "2026-11-25T08:00:00Z".parse().unwrap_or_default();
        let posted = ServerState {
            posted: true,
            ..waiting(sunday, now)
        };
        let words = schedule_words(&posted, now);
        assert!(
            words.starts_with("Posts go out Sundays at 09:00 (UTC), each with the week that begins the next Monday."),
            "{words}"
        );
        assert!(words.ends_with("the week of 2026-11-30."), "{words}");
    }

    #[test]
    fn a_week_whose_time_passed_before_the_schedule_is_named_with_how_to_post_it() {
        let now: DateTime<Utc> = "2026-11-28T12:00:00Z".parse().unwrap_or_default();
        let server = ServerState {
            since: Some(now),
            ..waiting(Schedule::default(), now)
        };
        let words = schedule_words(&server, now);
        assert!(
            words.contains("The post time of the week of 2026-11-23 had already passed when this schedule was set, so that week is not posted by itself: to post it now, run `/prayer post week:2026-11-23`."),
            "{words}"
        );
        assert!(!words.contains("being posted now"), "{words}");
        let empty = ServerState {
            has_bulletin: false,
            ..server
        };
        assert!(
            schedule_words(&empty, now)
                .contains("run `/prayer post week:2026-11-23` once its bulletin is imported."),
        );
    }
}
