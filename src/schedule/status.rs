//! `/prayer status` as a use-case: what an admin reads about a server's
//! weekly posts (the schedule in words, the last post, and every problem
//! that needs an admin), decided here from the store and the time, and
//! from what the Discord side found each posting channel lets the bot do.
//! The handler only gathers that and replies.

use chrono::{DateTime, Utc, Weekday};

use crate::ids::{ChannelId, GuildId};
use crate::schedule::{
    Schedule, ServerState, awaited_week, carries_next_week, day_name, due_post, passed_before_set,
    scheduled_week, upcoming_post,
};
use crate::storage::{StorageError, Store, UnreadPost};

/// What a channel the posts go to lets the bot do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelAccess {
    /// Everything a post needs.
    Ready,
    /// The permissions the bot lacks there, by name.
    Missing(Vec<&'static str>),
    /// The channel cannot be used at all (deleted, or another server's):
    /// why, in words.
    Unusable(String),
}

/// The channels `guild`'s posts go to: the default first, then the
/// regions' own.
pub async fn posting_channels(
    store: &Store,
    guild: GuildId,
) -> Result<Vec<ChannelId>, StorageError> {
    let settings = store.channel_settings(guild).await?;
    Ok(settings
        .default_channel
        .into_iter()
        .chain(settings.region_channels.iter().map(|(_, c)| *c))
        .collect())
}

/// The status of `guild` at `now`, as one message: `access` says what each
/// of [`posting_channels`] lets the bot do.
pub async fn status(
    store: &Store,
    guild: GuildId,
    now: DateTime<Utc>,
    access: &[(ChannelId, ChannelAccess)],
) -> Result<String, StorageError> {
    let schedule = store.schedule(guild).await?;
    let server = server_state(store, guild, schedule, now).await?;
    let mut lines = vec![
        format!("**Schedule.** {}", schedule_words(&server, now)),
        group_settings(store, guild).await?,
        last_post(store, guild).await?,
        problems_line(&problems(store, &server, now, access).await?),
    ];
    lines.extend(admin_changes(store, guild).await?);
    Ok(lines.join("\n"))
}

/// The options of `/prayer setup` beside the schedule, in one line: the
/// role pinged, the mid-week reminder, the recap, the week's thread, and
/// where admins are told what needs them.
async fn group_settings(store: &Store, guild: GuildId) -> Result<String, StorageError> {
    let settings = store.channel_settings(guild).await?;
    let ping = settings
        .ping_role
        .map_or("no role".to_owned(), |role| format!("<@&{role}>"));
    let day = |day: Option<Weekday>| day.map_or("off".to_owned(), |d| format!("{}s", day_name(d)));
    let nudge = day(store.nudge_day(guild).await?);
    let recap = day(store.recap_day(guild).await?);
    let threads = if settings.threads { "on" } else { "off" };
    let notices = settings
        .admin_channel()
        .map_or("no channel yet".to_owned(), |channel| {
            format!("<#{channel}>")
        });
    Ok(format!(
        "**Group settings.** Weekly ping: {ping} · mid-week reminder: {nudge} · recap: {recap} · week's thread: {threads} · notices to admins: {notices}"
    ))
}

/// How many of a server's latest admin changes the status lists.
pub const ADMIN_CHANGES_SHOWN: u32 = 5;

/// The latest corrections and unposts, newest first: when, who, what;
/// nothing when there were none.
async fn admin_changes(store: &Store, guild: GuildId) -> Result<Option<String>, StorageError> {
    let actions = store.admin_actions(guild, ADMIN_CHANGES_SHOWN).await?;
    if actions.is_empty() {
        return Ok(None);
    }
    let lines: Vec<String> = actions
        .iter()
        .map(|a| format!("<t:{}:f> <@{}> {}", a.at.timestamp(), a.admin, a.detail))
        .collect();
    Ok(Some(format!(
        "**Admin changes.**\n• {}",
        lines.join("\n• ")
    )))
}

async fn last_post(store: &Store, guild: GuildId) -> Result<String, StorageError> {
    Ok(match store.last_post(guild).await? {
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
    })
}

fn problems_line(problems: &[String]) -> String {
    if problems.is_empty() {
        "**Problems.** None: nothing needs an admin.".to_owned()
    } else {
        format!("**Problems.**\n• {}", problems.join("\n• "))
    }
}

/// Everything that needs an admin, in the order an admin fixes it.
async fn problems(
    store: &Store,
    server: &ServerState,
    now: DateTime<Utc>,
    access: &[(ChannelId, ChannelAccess)],
) -> Result<Vec<String>, StorageError> {
    let guild = server.guild;
    let mut problems = Vec::new();
    if store
        .channel_settings(guild)
        .await?
        .default_channel
        .is_none()
    {
        problems.push(
            "No default channel: run `/prayer setup channel:#channel` so every region has somewhere to go.".to_owned(),
        );
    }
    problems.extend(
        access
            .iter()
            .filter_map(|(channel, access)| channel_problem(*channel, access)),
    );
    if let Some(awaited) = missing_bulletin(store, server, now).await? {
        problems.push(format!(
            "No bulletin for the week of {awaited}: import one with `/prayer import`."
        ));
    }
    if let Some(problem) = store.post_problem(guild).await? {
        problems.push(format!(
            "The post of the week of {} failed <t:{}:R>: {}",
            problem.week,
            problem.failed_at.timestamp(),
            problem.problem
        ));
    }
    problems.extend(unread_problems(store, guild, server.schedule.zone, now).await?);
    Ok(problems)
}

fn channel_problem(channel: ChannelId, access: &ChannelAccess) -> Option<String> {
    match access {
        ChannelAccess::Ready => None,
        ChannelAccess::Missing(missing) => Some(format!(
            "In <#{channel}> I am missing {}.",
            missing.join(", ")
        )),
        ChannelAccess::Unusable(why) => Some(format!(
            "The posts go to a channel I cannot use ({why}); run `/prayer setup` with a channel that exists."
        )),
    }
}

/// The week whose bulletin the next post needs (on a weekend, next
/// week's), if it has none.
async fn missing_bulletin(
    store: &Store,
    server: &ServerState,
    now: DateTime<Utc>,
) -> Result<Option<crate::bulletins::week::PrayerWeek>, StorageError> {
    let awaited = awaited_week(server, now);
    let has_bulletin = if awaited == server.week {
        server.has_bulletin
    } else {
        store
            .week_states(&[(server.guild, awaited)])
            .await?
            .first()
            .is_some_and(|state| state.has_bulletin)
    };
    Ok((!has_bulletin).then_some(awaited))
}

/// What the schedule decides from for `guild` at `now`: the week its
/// schedule is on, with that week's state.
pub async fn server_state(
    store: &Store,
    guild: GuildId,
    schedule: Schedule,
    now: DateTime<Utc>,
) -> Result<ServerState, StorageError> {
    let week = scheduled_week(schedule, now);
    let state = store
        .week_states(&[(guild, week)])
        .await?
        .first()
        .copied()
        .unwrap_or_default();
    Ok(state.of_server(guild, schedule, week))
}

/// The schedule in words for `guild`, with what happens next: this week
/// posted now (its time has passed and it is owed), or the next post time.
pub async fn schedule_status(
    store: &Store,
    guild: GuildId,
    schedule: Schedule,
    now: DateTime<Utc>,
) -> Result<String, StorageError> {
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

/// The request messages of the current and previous week's posts that
/// reading reactions back could not read, as `/prayer status` lists them.
async fn unread_problems(
    store: &Store,
    guild: GuildId,
    zone: chrono_tz::Tz,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<String>, StorageError> {
    let week = crate::schedule::current_week(zone, now);
    Ok(store
        .unread_posts(guild, week.weeks_before(1))
        .await?
        .iter()
        .map(unread_problem)
        .collect())
}

fn unread_problem(unread: &UnreadPost) -> String {
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

    #[tokio::test]
    async fn status_shows_the_groups_settings_in_one_line() -> Result<(), StorageError> {
        use crate::storage::fixtures::{GUILD, store};
        let store = store().await;
        let now: DateTime<Utc> = "2026-11-23T08:00:00Z".parse().unwrap_or_default();
        let line = |text: &str| {
            text.lines()
                .find(|l| l.starts_with("**Group settings.**"))
                .map(str::to_owned)
                .unwrap_or_default()
        };
        let text = status(&store, GUILD, now, &[]).await?;
        assert_eq!(
            line(&text),
            "**Group settings.** Weekly ping: no role · mid-week reminder: off · recap: off · week's thread: off · notices to admins: no channel yet"
        );
        store
            .set_default_channel(GUILD, ChannelId::of::<79>(), now)
            .await?;
        store.set_nudge(GUILD, Some(Weekday::Thu), now).await?;
        store.set_threads(GUILD, true, now).await?;
        store
            .set_notice_channel(GUILD, Some(ChannelId::of::<80>()), now)
            .await?;
        let text = status(&store, GUILD, now, &[]).await?;
        assert_eq!(
            line(&text),
            "**Group settings.** Weekly ping: no role · mid-week reminder: Thursdays · recap: off · week's thread: on · notices to admins: <#80>"
        );
        Ok(())
    }

    #[tokio::test]
    async fn status_names_every_problem_an_admin_can_fix_without_discord()
    -> Result<(), StorageError> {
        use crate::storage::fixtures::{GUILD, store};
        let store = store().await;
        let now: DateTime<Utc> = "2026-11-23T08:00:00Z".parse().unwrap_or_default();
        let locked = ChannelId::of::<77>();
        let access = [
            (locked, ChannelAccess::Missing(vec!["Send Messages"])),
            (
                ChannelId::of::<78>(),
                ChannelAccess::Unusable("Unknown Channel".into()),
            ),
            (ChannelId::of::<79>(), ChannelAccess::Ready),
        ];
        let text = status(&store, GUILD, now, &access).await?;
        assert!(
            text.starts_with("**Schedule.** Posts go out Mondays"),
            "{text}"
        );
        assert!(text.contains("**Last post.** None yet."), "{text}");
        assert!(text.contains("No default channel"), "{text}");
        assert!(
            text.contains("In <#77> I am missing Send Messages."),
            "{text}"
        );
        assert!(
            text.contains("(Unknown Channel); run `/prayer setup`"),
            "{text}"
        );
        assert!(!text.contains("<#79>"), "{text}");
        assert!(
            text.contains("No bulletin for the week of 2026-11-23"),
            "{text}"
        );
        // Nothing to fix: one line says so.
        store
            .set_default_channel(GUILD, ChannelId::of::<79>(), now)
            .await?;
        assert_eq!(
            posting_channels(&store, GUILD).await?,
            [ChannelId::of::<79>()]
        );
        Ok(())
    }
}
