//! The mid-week nudge (`/prayer setup nudge:Thursday`, off by default): on
//! that day of the prayer week, at the schedule's time in the server's
//! zone, each member who committed to a request of the week and has not
//! marked every such commitment prayed gets one direct message listing
//! them, with a **Prayed** button each. Members who said `/prayer notify
//! off` get none; forget-me erases the commitments it would name. Once per
//! member and week in every process and across restarts: a row is taken
//! before the message is sent, and given back only when Discord failed on
//! its side. Where a member's direct messages are closed, nothing is sent
//! and nothing retried.

use chrono::{DateTime, Days, Utc};

use crate::bulletins::week::PrayerWeek;
use crate::ids::{GuildId, UserId};
use crate::posting::buttons::Button;
use crate::posting::render::escape_markdown;
use crate::posting::{MAX_BUTTONS, Messenger, OutgoingMessage, stable_nonce};
use crate::schedule::{current_week, day_name, day_or_off, following, resolve_local};
use crate::storage::{GuildRequest, NudgeServer, StorageError, Store};
use crate::tracking::report::excerpt;

/// What `/prayer setup nudge:` offers as an admin types.
pub const NUDGE_CHOICES: [&str; 8] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "off",
];

/// The nudge day an admin typed: a weekday (`Thursday`, `thu`, any case),
/// or `None` for `off`; else the refusal, in words.
pub fn parse_nudge_day(typed: &str) -> Result<Option<chrono::Weekday>, String> {
    day_or_off(typed).ok_or_else(|| {
        format!(
            "`nudge` takes a weekday (Monday to Sunday) or `off`; “{}” is neither. Nothing was changed.",
            crate::posting::render::shown_typed(typed)
        )
    })
}

/// What `/prayer setup` says of the nudge it set.
pub fn nudge_words(day: Option<chrono::Weekday>) -> String {
    match day {
        None => "Mid-week reminders are off.".to_owned(),
        Some(day) => format!(
            "Each {}, at the post time, members who committed to pray this week and have not marked it prayed get one private reminder (not those who said `/prayer notify off`).",
            day_name(day)
        ),
    }
}

/// When `server`'s nudge of `week` is due: its day of that week (Monday to
/// Sunday, the week's own days) at the schedule's time in its zone.
pub fn nudge_time(server: &NudgeServer, week: PrayerWeek) -> DateTime<Utc> {
    let offset = u64::from(server.day.num_days_from_monday());
    match week.monday().checked_add_days(Days::new(offset)) {
        Some(day) => resolve_local(server.schedule.zone, day.and_time(server.schedule.time)),
        None => DateTime::<Utc>::MAX_UTC,
    }
}

/// The week whose nudge `server` owes at `now`: the week running in its
/// zone, once its nudge time has come, unless that time passed before the
/// day was set.
pub fn nudge_due(server: &NudgeServer, now: DateTime<Utc>) -> Option<PrayerWeek> {
    let week = current_week(server.schedule.zone, now);
    let at = nudge_time(server, week);
    (at <= now && at > server.since).then_some(week)
}

/// The first nudge time after `now` among `servers`, for the scheduler's
/// wake-up.
pub fn next_nudge_time(servers: &[NudgeServer], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    servers
        .iter()
        .filter_map(|server| {
            let week = current_week(server.schedule.zone, now);
            let this = nudge_time(server, week);
            if this > now {
                Some(this)
            } else {
                following(week).map(|next| nudge_time(server, next))
            }
        })
        .min()
}

/// Sends every nudge due at `now`; returns the members reminded.
pub async fn send_nudges(
    store: &Store,
    messenger: &impl Messenger,
    servers: &[NudgeServer],
    now: DateTime<Utc>,
) -> Result<Vec<(GuildId, UserId)>, StorageError> {
    let mut reminded = Vec::new();
    for server in servers {
        let Some(week) = nudge_due(server, now) else {
            continue;
        };
        for (user, requests) in store.nudge_candidates(server.guild, week).await? {
            if messenger.stopping() {
                return Ok(reminded);
            }
            if remind(store, messenger, server.guild, week, user, &requests, now).await? {
                reminded.push((server.guild, user));
            }
        }
    }
    Ok(reminded)
}

/// One member's reminder, if no one has sent it; whether it was sent.
async fn remind(
    store: &Store,
    messenger: &impl Messenger,
    guild: GuildId,
    week: PrayerWeek,
    user: UserId,
    requests: &[GuildRequest],
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    if !store.take_nudge(guild, week, user, now).await? {
        return Ok(false);
    }
    let message = nudge_message(guild, week, user, requests);
    let sent = match messenger.open_dm(user).await {
        Ok(channel) => messenger.send(channel, &message).await.map(drop),
        Err(error) => Err(error),
    };
    match sent {
        Ok(()) => Ok(true),
        Err(error) if error.is_transient() => {
            tracing::warn!(%guild, %user, %error, "could not send a reminder; trying again later");
            store.give_back_nudge(guild, week, user).await?;
            Ok(false)
        }
        Err(error) => {
            // Closed direct messages, most often: nothing is sent, and
            // nothing retried.
            tracing::info!(%guild, %user, %error, "a reminder was not sent");
            Ok(false)
        }
    }
}

/// The reminder: the week's open commitments (at most [`MAX_BUTTONS`],
/// each with its **Prayed** button), and how to stop reminders.
pub fn nudge_message(
    guild: GuildId,
    week: PrayerWeek,
    user: UserId,
    requests: &[GuildRequest],
) -> OutgoingMessage {
    let shown = &requests[..requests.len().min(MAX_BUTTONS)];
    let mut content = format!(
        "🙏 **A mid-week reminder** for the prayer week of {week}. You said you'd pray for:\n"
    );
    for request in shown {
        // Short enough that twenty fit one message with the words around.
        let name = format!(
            "{} · {}",
            excerpt(&request.region, 30),
            excerpt(&request.text, 45)
        );
        content.push_str(&format!("• *{}*\n", escape_markdown(&name)));
    }
    if requests.len() > shown.len() {
        content.push_str(&format!(
            "…and {} more: `/prayer mine` in the server lists them.\n",
            requests.len() - shown.len()
        ));
    }
    content.push_str(
        "When you have prayed, press **Prayed** below (or 🙏 the request's post). This is the only reminder this week; `/prayer notify off` in the server stops them.",
    );
    let buttons = shown
        .iter()
        .map(|request| {
            let label = format!(
                "Prayed: {} · {}",
                excerpt(&request.region, 20),
                excerpt(&request.text, 45)
            );
            (Button::Nudged(guild, request.id), label)
        })
        .collect();
    OutgoingMessage {
        content,
        nonce: stable_nonce('d', (guild, week.to_string(), user)),
        buttons,
        ..OutgoingMessage::default()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveTime, Weekday};

    use super::*;
    use crate::bulletins::parse::Kind;
    use crate::ids::RequestId;
    use crate::posting::render::{MESSAGE_LIMIT, discord_len};
    use crate::schedule::Schedule;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("an instant")
    }

    fn thursday_nine_in(zone: &str, since: &str) -> NudgeServer {
        NudgeServer {
            guild: GuildId::of::<5>(),
            schedule: Schedule {
                weekday: Weekday::Mon,
                time: NaiveTime::from_hms_opt(9, 0, 0).expect("a time"),
                zone: zone.parse().expect("a zone"),
                auto: true,
            },
            day: Weekday::Thu,
            since: at(since),
        }
    }

    #[test]
    fn the_nudge_is_due_from_its_day_and_time_in_the_servers_zone_for_the_running_week() {
        let server = thursday_nine_in("America/New_York", "2026-11-01T00:00:00Z");
        // Thursday 10 December 2026, 09:00 in New York is 14:00 UTC.
        assert_eq!(nudge_due(&server, at("2026-12-10T13:59:00Z")), None);
        let week: PrayerWeek = "2026-12-07".parse().expect("a week");
        assert_eq!(nudge_due(&server, at("2026-12-10T14:00:00Z")), Some(week));
        assert_eq!(nudge_due(&server, at("2026-12-13T23:00:00Z")), Some(week));
        // Next Monday (in New York) is a new week, not yet due.
        assert_eq!(nudge_due(&server, at("2026-12-14T06:00:00Z")), None);
        assert_eq!(
            next_nudge_time(&[server], at("2026-12-10T13:00:00Z")),
            Some(at("2026-12-10T14:00:00Z"))
        );
        assert_eq!(
            next_nudge_time(&[server], at("2026-12-10T15:00:00Z")),
            Some(at("2026-12-17T14:00:00Z"))
        );
    }

    #[test]
    fn a_nudge_day_is_a_weekday_in_any_spelling_or_off() {
        assert_eq!(parse_nudge_day("Thursday"), Ok(Some(Weekday::Thu)));
        assert_eq!(parse_nudge_day(" thu "), Ok(Some(Weekday::Thu)));
        assert_eq!(parse_nudge_day("SUNDAY"), Ok(Some(Weekday::Sun)));
        assert_eq!(parse_nudge_day("off"), Ok(None));
        for bad in ["Thursdays", "someday", "", "8"] {
            let refused = parse_nudge_day(bad).expect_err(bad);
            assert!(refused.ends_with("Nothing was changed."), "{refused}");
        }
        assert!(nudge_words(Some(Weekday::Thu)).starts_with("Each Thursday"));
    }

    #[test]
    fn a_nudge_day_set_after_its_time_waits_for_the_next_week() {
        let server = thursday_nine_in("UTC", "2026-12-11T08:00:00Z");
        assert_eq!(nudge_due(&server, at("2026-12-11T09:00:00Z")), None);
        assert!(nudge_due(&server, at("2026-12-17T09:00:00Z")).is_some());
    }

    #[test]
    fn the_reminder_lists_twenty_commitments_with_a_button_each_within_discords_limits() {
        let requests: Vec<GuildRequest> = (1..=23)
            .map(|n| GuildRequest {
                id: RequestId::try_new(n).expect("not 0"),
                week: "2026-12-07".parse().expect("a week"),
                region: "Latin America & the Caribbean".to_owned(),
                kind: Kind::Petition,
                text:
                    "Pray for the families waiting for justice in a case that has run for years. "
                        .repeat(3),
            })
            .collect();
        let week = requests[0].week;
        let message = nudge_message(GuildId::of::<5>(), week, UserId::of::<7>(), &requests);
        assert_eq!(message.buttons.len(), MAX_BUTTONS);
        assert!(
            message.content.contains("…and 3 more"),
            "{}",
            message.content
        );
        assert!(discord_len(&message.content) <= MESSAGE_LIMIT);
        assert!(message.notify.is_empty() && message.notify_role.is_none());
        assert_eq!(
            message.buttons[0].0,
            Button::Nudged(GuildId::of::<5>(), requests[0].id)
        );
    }
}
