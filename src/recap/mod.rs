//! The weekly recap (`/prayer setup recap:Sunday`, off by default): when a
//! prayer week (Monday..Sunday) is over, one message in the server's
//! default channel with how many took part, requests covered and not,
//! commitments kept, praises, and a picture of the last twelve weeks'
//! coverage per region ([`chart`]). Only counts, never names; it mentions
//! no one. Once per server and week in every process (a row taken before
//! it is sent), given back if Discord refused it, so a later tick tries
//! again; a week that was not posted gets no recap.
//!
//! The recap day and the week it recaps: a Sunday recap is posted on the
//! week's own Sunday; any other day's recap, on that day of the following
//! week (a Monday recap recaps the week that ended the night before). It
//! goes out at the schedule's time of day in the server's time zone.

pub mod chart;

use chrono::{DateTime, Utc, Weekday};

use crate::bulletins::week::PrayerWeek;
use crate::ids::{ChannelId, GuildId};
use crate::posting::render::{escape_markdown, fit_reply, shown_typed};
use crate::posting::{Attachment, Messenger, OutgoingMessage, stable_nonce};
use crate::recap::chart::{RegionShare, WeekCoverage};
use crate::schedule::{
    Schedule, ServerState, current_week, day_choices, day_name, day_or_off, post_time,
};
use crate::storage::{RecapSetting, Scope, StorageError, Store};
use crate::tracking::{Listed, WeekStats, week_stats};

/// The instant the recap of `week` is posted on `day`, by `schedule`'s time
/// of day and zone (the clocks' changes read as [`post_time`] reads them).
pub fn recap_time(schedule: Schedule, day: Weekday, week: PrayerWeek) -> DateTime<Utc> {
    let next = week.next();
    // post_time places a Saturday or Sunday before the week it is given.
    let carried = if day == Weekday::Sat {
        next.next()
    } else {
        next
    };
    post_time(
        Schedule {
            weekday: day,
            ..schedule
        },
        carried,
    )
}

/// The newest week whose recap time has come at `now`, with that time.
pub fn latest_recap(
    schedule: Schedule,
    day: Weekday,
    now: DateTime<Utc>,
) -> Option<(PrayerWeek, DateTime<Utc>)> {
    let running = current_week(schedule.zone, now);
    [running, running.weeks_before(1), running.weeks_before(2)]
        .into_iter()
        .map(|week| (week, recap_time(schedule, day, week)))
        .find(|(_, at)| *at <= now)
}

/// The first recap time strictly after `now`, for the scheduler's wake-up.
pub fn next_recap_time(
    schedule: Schedule,
    day: Weekday,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let running = current_week(schedule.zone, now);
    [running.weeks_before(1), running, running.next()]
        .into_iter()
        .map(|week| recap_time(schedule, day, week))
        .filter(|at| *at > now)
        .min()
}

/// What an admin typed for `recap`: a weekday (`Sunday`, `sun`, any case)
/// or `off`; `Ok(None)` turns the recap off. Anything else is refused in
/// a sentence.
pub fn parse_recap_day(typed: &str) -> Result<Option<Weekday>, String> {
    day_or_off(typed).ok_or_else(|| {
        format!(
            "“{}” is not a weekday: give one such as `Sunday`, or `off` for no recap. Nothing was changed.",
            shown_typed(typed.trim())
        )
    })
}

/// The choices `recap` offers as an admin types.
pub fn recap_choices(partial: &str) -> Vec<&'static str> {
    const CHOICES: [&str; 8] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "off",
    ];
    day_choices(&CHOICES, partial)
}

/// The recap setting in words, for `/prayer setup`'s answer.
pub fn recap_words(day: Option<Weekday>) -> String {
    match day {
        Some(day) => format!(
            "A recap of each week (counts only, no names, with a chart of the last twelve weeks) is posted in the default channel on {} at the schedule's time.",
            format_args!("{}s", day_name(day))
        ),
        None => "No weekly recap is posted.".to_owned(),
    }
}

/// `guild`'s stats of `week`, as `/prayer stats` counts them; `None` when
/// it has no bulletin.
pub async fn week_summary(
    store: &Store,
    guild: GuildId,
    week: PrayerWeek,
) -> Result<Option<WeekStats>, StorageError> {
    let (stored, tracking) = tokio::join!(
        store.week(Scope::Guild(guild), week),
        store.week_tracking(guild, week)
    );
    let (Some(stored), tracking) = (stored?, tracking?) else {
        return Ok(None);
    };
    let listed: Vec<Listed<'_>> = stored
        .bulletin
        .requests
        .iter()
        .zip(&stored.request_ids)
        .map(|(request, &id)| Listed {
            id,
            request,
            answered: tracking.answered.contains(&id),
        })
        .collect();
    Ok(Some(week_stats(
        &listed,
        &tracking.marks,
        tracking.praise_reports,
    )))
}

/// The [`chart::WEEKS`] weeks ending with `last`, oldest first, each with
/// its coverage per region (`None` for a week with no bulletin).
pub async fn coverage(
    store: &Store,
    guild: GuildId,
    last: PrayerWeek,
) -> Result<Vec<WeekCoverage>, StorageError> {
    let mut weeks = chart::twelve_weeks(last, &[]);
    for week in &mut weeks {
        week.regions = week_summary(store, guild, week.week).await?.map(|stats| {
            stats
                .regions
                .into_iter()
                .map(|r| RegionShare {
                    region: r.region,
                    covered: r.covered,
                    total: r.total,
                })
                .collect()
        });
    }
    Ok(weeks)
}

/// The chart of the twelve weeks ending with `last` as an attachment;
/// `None` (logged) if it could not be drawn.
pub async fn chart_file(
    store: &Store,
    guild: GuildId,
    last: PrayerWeek,
) -> Result<Option<Attachment>, StorageError> {
    let weeks = coverage(store, guild, last).await?;
    match chart::draw(&weeks) {
        Ok(bytes) => Ok(Some(Attachment {
            filename: chart::FILE_NAME.to_owned(),
            bytes,
        })),
        Err(error) => {
            tracing::error!(%guild, %last, %error, "the coverage chart");
            Ok(None)
        }
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

/// The recap of `week` in words: counts only, never a name.
pub fn recap_text(week: PrayerWeek, stats: &WeekStats) -> String {
    let not_covered = stats.petitions.saturating_sub(stats.covered);
    let mut lines = vec![
        format!(
            "📊 **The week of {} in review**",
            week.monday().format("%A %-d %B %Y")
        ),
        format!("🙋 {} took part.", plural(stats.people, "person", "people")),
        format!(
            "✅ {} of {} covered (someone committed or prayed); {} not.",
            stats.covered,
            plural(stats.petitions, "request", "requests"),
            not_covered
        ),
        format!(
            "🤝 {} of {} kept (I'll pray, then Prayed).",
            stats.kept,
            plural(stats.commitments, "commitment", "commitments")
        ),
        format!(
            "🎉 {} this week.",
            plural(stats.praises, "praise", "praises")
        ),
    ];
    let regions: Vec<String> = stats
        .regions
        .iter()
        .map(|r| {
            format!(
                "{} {} of {}",
                escape_markdown(&r.region),
                r.covered,
                r.total
            )
        })
        .collect();
    if !regions.is_empty() {
        lines.push(format!("By region: {}.", regions.join(" · ")));
    }
    lines.push("The chart shows each region's requests covered over the last twelve weeks.".into());
    let text = lines.join("\n");
    fit_reply(&text)
}

/// Posts the recap of every server in `servers` with a recap day
/// (`recaps`, as the store holds them) whose recap time has come
/// and whose recap of that week nobody posted yet; returns the servers and
/// weeks recapped.
pub async fn post_recaps(
    store: &Store,
    messenger: &impl Messenger,
    servers: &[ServerState],
    recaps: &[RecapSetting],
    now: DateTime<Utc>,
) -> Result<Vec<(GuildId, PrayerWeek)>, StorageError> {
    let due: Vec<(GuildId, PrayerWeek)> = recaps
        .iter()
        .filter_map(|setting| Some((setting.guild, due_week(servers, setting, now)?)))
        .collect();
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let states = store.week_states(&due).await?;
    let mut posted = Vec::new();
    for ((guild, week), state) in due.into_iter().zip(states) {
        if state.posted && recap(store, messenger, guild, week, now).await? {
            posted.push((guild, week));
        }
    }
    Ok(posted)
}

/// The week a server's recap is due for at `now`, if any: its newest recap
/// time has come, after the admin chose the day.
fn due_week(
    servers: &[ServerState],
    setting: &RecapSetting,
    now: DateTime<Utc>,
) -> Option<PrayerWeek> {
    let server = servers.iter().find(|s| s.guild == setting.guild)?;
    let (week, at) = latest_recap(server.schedule, setting.weekday, now)?;
    setting
        .since
        .is_none_or(|since| since <= at)
        .then_some(week)
}

/// When the next recap of any of `servers` could become due after `now`.
pub fn next_recap(
    servers: &[ServerState],
    recaps: &[RecapSetting],
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    recaps
        .iter()
        .filter_map(|setting| {
            let server = servers.iter().find(|s| s.guild == setting.guild)?;
            next_recap_time(server.schedule, setting.weekday, now)
        })
        .min()
}

/// Posts one server's recap of `week`, if no one has yet; whether it was
/// posted.
async fn recap(
    store: &Store,
    messenger: &impl Messenger,
    guild: GuildId,
    week: PrayerWeek,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let Some(channel) = store.channel_settings(guild).await?.default_channel else {
        return Ok(false);
    };
    let Some(stats) = week_summary(store, guild, week).await? else {
        return Ok(false);
    };
    if !store.take_recap(guild, week, now).await? {
        return Ok(false);
    }
    let message = OutgoingMessage {
        content: recap_text(week, &stats),
        buttons_for: None,
        nonce: stable_nonce('r', (guild.get(), week.to_string())),
        // No one: the recap pings no member and no role.
        notify: Vec::new(),
        notify_role: None,
        ..OutgoingMessage::default()
    };
    let sent = send(store, messenger, guild, week, channel, &message).await?;
    if !sent {
        store.give_back_recap(guild, week).await?;
    }
    Ok(sent)
}

/// Sends the recap with its chart (or, if the chart could not be drawn,
/// without); whether Discord took it.
async fn send(
    store: &Store,
    messenger: &impl Messenger,
    guild: GuildId,
    week: PrayerWeek,
    channel: ChannelId,
    message: &OutgoingMessage,
) -> Result<bool, StorageError> {
    let sent = match chart_file(store, guild, week).await? {
        Some(file) => messenger.send_with_file(channel, message, &file).await,
        None => messenger.send(channel, message).await,
    };
    match sent {
        Ok(_) => Ok(true),
        Err(error) => {
            tracing::warn!(%guild, %week, %error, "could not post the weekly recap");
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;
    use crate::posting::scripted::Scripted;
    use crate::storage::fixtures::{GUILD, posted};
    use crate::tracking::Source;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn week(text: &str) -> PrayerWeek {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn a_sunday_recap_ends_its_own_week_and_another_day_recaps_the_week_before() {
        let utc = Schedule::default();
        let w = week("2026-11-23");
        assert_eq!(recap_time(utc, Weekday::Sun, w), at("2026-11-29T09:00:00Z"));
        assert_eq!(recap_time(utc, Weekday::Mon, w), at("2026-11-30T09:00:00Z"));
        assert_eq!(recap_time(utc, Weekday::Fri, w), at("2026-12-04T09:00:00Z"));
        assert_eq!(recap_time(utc, Weekday::Sat, w), at("2026-12-05T09:00:00Z"));
        let new_york = Schedule {
            zone: chrono_tz::America::New_York,
            ..utc
        };
        assert_eq!(
            recap_time(new_york, Weekday::Sun, w),
            at("2026-11-29T14:00:00Z"),
            "09:00 in New York"
        );
        // Just before Sunday 09:00 the newest recap due is last week's.
        assert_eq!(
            latest_recap(utc, Weekday::Sun, at("2026-11-29T08:59:59Z")),
            Some((week("2026-11-16"), at("2026-11-22T09:00:00Z")))
        );
        assert_eq!(
            latest_recap(utc, Weekday::Sun, at("2026-11-29T09:00:00Z")),
            Some((w, at("2026-11-29T09:00:00Z")))
        );
        assert_eq!(
            latest_recap(utc, Weekday::Mon, at("2026-11-30T08:00:00Z")),
            Some((week("2026-11-16"), at("2026-11-23T09:00:00Z")))
        );
        assert_eq!(
            next_recap_time(utc, Weekday::Sun, at("2026-11-29T08:59:59Z")),
            Some(at("2026-11-29T09:00:00Z"))
        );
        assert_eq!(
            next_recap_time(utc, Weekday::Sun, at("2026-11-29T09:00:00Z")),
            Some(at("2026-12-06T09:00:00Z"))
        );
    }

    #[test]
    fn a_recap_day_is_a_weekday_or_off_and_anything_else_is_refused_in_words() {
        assert_eq!(parse_recap_day("Sunday"), Ok(Some(Weekday::Sun)));
        assert_eq!(parse_recap_day(" sun "), Ok(Some(Weekday::Sun)));
        assert_eq!(parse_recap_day("THURSDAY"), Ok(Some(Weekday::Thu)));
        assert_eq!(parse_recap_day("off"), Ok(None));
        assert_eq!(parse_recap_day("Off"), Ok(None));
        let refused = parse_recap_day("Funday").err().unwrap_or_default();
        assert!(
            refused.starts_with("“Funday” is not a weekday"),
            "{refused}"
        );
        assert!(refused.ends_with("Nothing was changed."), "{refused}");
        assert!(parse_recap_day("").is_err());
        assert_eq!(recap_choices("s"), ["Sunday", "Saturday"]);
        assert_eq!(recap_choices("").len(), 8);
    }

    /// GUILD, posting Mondays 09:00 UTC to channel 10, with the week of
    /// 2026-11-23 posted and its recap on `day`, chosen at `since`.
    async fn set_up(
        day: Weekday,
        since: DateTime<Utc>,
    ) -> Result<(Store, Vec<ServerState>, Vec<RecapSetting>), StorageError> {
        let store = crate::storage::fixtures::store().await;
        let requests = posted(&store).await?;
        let w = week("2026-11-23");
        store.finish_week_post(GUILD, w, since).await?;
        store
            .set_default_channel(GUILD, ChannelId::of::<10>(), since)
            .await?;
        store.set_recap_day(GUILD, Some(day), since).await?;
        let (seven, eight) = (UserId::of::<7>(), UserId::of::<8>());
        for (user, source) in [
            (seven, Source::Commit),
            (seven, Source::Prayed),
            (eight, Source::Commit),
        ] {
            store.mark(GUILD, requests[0], user, source, since).await?;
        }
        store
            .record_praise(GUILD, None, w, eight, "Thanks!", since)
            .await?;
        let server = ServerState {
            guild: GUILD,
            schedule: Schedule::default(),
            week: w,
            has_bulletin: true,
            posted: true,
            since: None,
            newest_posted: Some(w),
        };
        let recaps = store.recap_settings().await?;
        Ok((store, vec![server], recaps))
    }

    #[tokio::test]
    async fn the_recap_is_posted_once_with_counts_no_names_and_the_chart()
    -> Result<(), StorageError> {
        let (store, servers, recaps) = set_up(Weekday::Sun, at("2026-11-25T12:00:00Z")).await?;
        let messenger = Scripted::default();
        let early = at("2026-11-29T08:59:00Z");
        let none = post_recaps(&store, &messenger, &servers, &recaps, early).await?;
        assert_eq!(none, [], "not before Sunday 09:00");
        assert_eq!(
            next_recap(&servers, &recaps, early),
            Some(at("2026-11-29T09:00:00Z"))
        );
        let sunday = at("2026-11-29T09:00:00Z");
        let done = post_recaps(&store, &messenger, &servers, &recaps, sunday).await?;
        assert_eq!(done, [(GUILD, week("2026-11-23"))]);
        let sent = messenger.sent.lock().map(|s| s.clone()).unwrap_or_default();
        assert_eq!(sent.len(), 1);
        let (channel, message) = &sent[0];
        assert_eq!(*channel, ChannelId::of::<10>());
        let text = &message.content;
        assert!(text.contains("Monday 23 November 2026 in review"), "{text}");
        assert!(text.contains("🙋 2 people took part."), "{text}");
        assert!(text.contains("✅ 1 of 1 request covered"), "{text}");
        assert!(text.contains("; 0 not."), "{text}");
        assert!(text.contains("🤝 1 of 2 commitments kept"), "{text}");
        assert!(text.contains("🎉 2 praises this week."), "{text}");
        assert!(
            !text.contains("<@") && !text.contains('7') && !text.contains('8'),
            "{text}"
        );
        assert!(message.notify.is_empty() && message.notify_role.is_none());
        let files = messenger
            .files
            .lock()
            .map(|f| f.clone())
            .unwrap_or_default();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].1.filename, "coverage.png");
        assert!(files[0].1.bytes.starts_with(b"\x89PNG"));
        let weeks = coverage(&store, GUILD, week("2026-11-23")).await?;
        assert_eq!(weeks.len(), chart::WEEKS);
        assert_eq!(weeks[0].week, week("2026-09-07"), "oldest first");
        assert!(
            weeks[..11].iter().all(|w| w.regions.is_none()),
            "no bulletin"
        );
        let africa = RegionShare {
            region: "Africa".into(),
            covered: 1,
            total: 1,
        };
        assert_eq!(weeks[11].regions, Some(vec![africa]));
        // Another tick, or another process, posts nothing more.
        let again = post_recaps(&store, &messenger, &servers, &recaps, sunday).await?;
        assert_eq!(again, []);
        assert_eq!(messenger.count(), 1);
        Ok(())
    }

    #[tokio::test]
    async fn a_refused_recap_is_tried_again_and_a_week_not_posted_gets_none()
    -> Result<(), StorageError> {
        let (store, servers, recaps) = set_up(Weekday::Mon, at("2026-11-25T12:00:00Z")).await?;
        let monday = at("2026-11-30T09:00:00Z");
        let refusing = Scripted {
            refuse: Some(|_| true),
            ..Scripted::default()
        };
        let none = post_recaps(&store, &refusing, &servers, &recaps, monday).await?;
        assert_eq!(none, []);
        let messenger = Scripted::default();
        let done = post_recaps(&store, &messenger, &servers, &recaps, monday).await?;
        assert_eq!(done.len(), 1, "given back, then posted");
        // The next Monday recaps the week of 30 November, never posted.
        let later = at("2026-12-07T09:00:00Z");
        let none = post_recaps(&store, &messenger, &servers, &recaps, later).await?;
        assert_eq!(none, []);
        assert_eq!(messenger.count(), 1);
        Ok(())
    }

    #[tokio::test]
    async fn a_recap_day_chosen_after_its_time_waits_for_the_next_week() -> Result<(), StorageError>
    {
        let (store, servers, recaps) = set_up(Weekday::Sun, at("2026-11-29T10:00:00Z")).await?;
        let messenger = Scripted::default();
        let after = at("2026-11-29T11:00:00Z");
        assert_eq!(
            post_recaps(&store, &messenger, &servers, &recaps, after).await?,
            []
        );
        assert_eq!(messenger.count(), 0);
        Ok(())
    }

    #[test]
    fn the_recap_text_counts_in_words_and_escapes_region_names() {
        let stats = WeekStats {
            people: 1,
            commitments: 1,
            kept: 0,
            covered: 2,
            petitions: 5,
            regions: vec![crate::tracking::RegionCoverage {
                region: "*Asia*".into(),
                covered: 2,
                total: 5,
                uncovered: vec![],
            }],
            praises: 1,
        };
        let text = recap_text(week("2026-11-23"), &stats);
        assert!(text.contains("🙋 1 person took part."), "{text}");
        assert!(
            text.contains("✅ 2 of 5 requests covered (someone committed or prayed); 3 not."),
            "{text}"
        );
        assert!(text.contains("🤝 0 of 1 commitment kept"), "{text}");
        assert!(text.contains("🎉 1 praise this week."), "{text}");
        assert!(text.contains("By region: \\*Asia\\* 2 of 5."), "{text}");
    }
}
