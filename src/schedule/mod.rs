//! The weekly schedule: when each server's bulletin is due, in the server's
//! own time zone, and the time zones and times admins type. Pure: the
//! current time is always an argument: no async runtime, database, Discord or clock.
//!
//! A server's "today" and its prayer week follow its zone: a prayer week
//! runs from Monday 00:00 to the next Monday 00:00 local time. A post on a
//! weekday (Monday to Friday) carries the week it falls in; a post on
//! Saturday or Sunday carries the week that begins the next Monday. The post
//! of a week is due from its post time until the week ends, so a bot that
//! was down at the post time, or a bulletin imported after it, still posts
//! while the week runs, and a week that is over is never posted. Two more
//! rules keep the posts to what the admin meant: a post time that passed
//! before the schedule was set (see [`counts_from_after_change`]) is not
//! posted by itself, and a server's posts never go back in time: no week
//! older than one already posted there is posted by the scheduler.

pub mod clock;
pub mod notices;
pub mod nudges;
pub mod scheduler;
pub mod status;

use std::fmt;

use chrono::{
    DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
    Weekday,
};
use chrono_tz::{TZ_VARIANTS, Tz};

use crate::bulletins::week::PrayerWeek;
use crate::ids::GuildId;
use crate::posting::region::{CHOICE_LIMIT, CHOICE_NAME_LIMIT};

/// 09:00, the time of day a new server posts at.
pub const DEFAULT_TIME: NaiveTime = match NaiveTime::from_hms_opt(9, 0, 0) {
    Some(time) => time,
    None => NaiveTime::MIN,
};

/// When a server's bulletin is posted each week, in its own time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// The day of the prayer week to post on.
    pub weekday: Weekday,
    /// The local time of day to post at (see [`post_time`] for the days the
    /// clocks change).
    pub time: NaiveTime,
    /// The IANA time zone that `weekday`, `time`, the server's "today" and
    /// its prayer week follow.
    pub zone: Tz,
    /// Whether the bot posts by itself; when off, nothing is ever due.
    pub auto: bool,
}

impl Default for Schedule {
    /// Monday 09:00 UTC, posted automatically.
    fn default() -> Self {
        Self {
            weekday: Weekday::Mon,
            time: DEFAULT_TIME,
            zone: Tz::UTC,
            auto: true,
        }
    }
}

/// The date it is in `zone` at `now`: a server's "today".
pub fn local_today(zone: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&zone).date_naive()
}

/// The prayer week that is running in `zone` at `now`.
pub fn current_week(zone: Tz, now: DateTime<Utc>) -> PrayerWeek {
    PrayerWeek::containing(local_today(zone, now))
}

/// The instant `week` starts in `zone`: its Monday 00:00 local time, read
/// by the same rule as [`post_time`] when the clocks change at midnight.
pub fn week_start(zone: Tz, week: PrayerWeek) -> DateTime<Utc> {
    resolve_local(zone, week.monday().and_time(NaiveTime::MIN))
}

/// The instant `week` ends in `zone`: the next Monday 00:00 local time (the
/// start of the next week), read by the same rule as [`post_time`].
pub fn week_end(zone: Tz, week: PrayerWeek) -> DateTime<Utc> {
    match following(week) {
        Some(next) => week_start(zone, next),
        None => DateTime::<Utc>::MAX_UTC,
    }
}

/// Whether a post on `weekday` carries the week that begins the next Monday
/// (Saturday and Sunday), rather than the week it falls in.
pub fn carries_next_week(weekday: Weekday) -> bool {
    matches!(weekday, Weekday::Sat | Weekday::Sun)
}

/// The instant `week`'s bulletin is posted: the schedule's weekday of that
/// week at its local time of day, in its zone; for Saturday and Sunday, the
/// Saturday or Sunday just before the week (see [`carries_next_week`]).
///
/// On a day the clocks change, a local time that does not exist (it falls
/// in the gap when the clocks spring forward) posts at the first instant
/// after the gap, and a local time that occurs twice (when the clocks fall
/// back) posts at its first, earliest, occurrence. So Sunday 02:30 in New
/// York on 2027-03-14 posts at 03:00 EDT, and Sunday 01:30 on 2026-11-01
/// posts at 01:30 EDT, an hour before the second 01:30.
pub fn post_time(schedule: Schedule, week: PrayerWeek) -> DateTime<Utc> {
    let offset = u64::from(schedule.weekday.num_days_from_monday());
    let day = if carries_next_week(schedule.weekday) {
        week.monday().checked_sub_days(Days::new(7 - offset))
    } else {
        week.monday().checked_add_days(Days::new(offset))
    };
    match day {
        Some(day) => resolve_local(schedule.zone, day.and_time(schedule.time)),
        // A week at the end of the calendar has no day to post on.
        None => DateTime::<Utc>::MAX_UTC,
    }
}

/// The week whose post the schedule is on at `now`: the week running in
/// its zone, or, once a weekend post time for the next week has come, that
/// next week. It is the only week the scheduler may post at `now`.
pub fn scheduled_week(schedule: Schedule, now: DateTime<Utc>) -> PrayerWeek {
    let week = current_week(schedule.zone, now);
    match following(week) {
        Some(next) if post_time(schedule, next) <= now => next,
        _ => week,
    }
}

/// The next post time at or after `now`, for display: this week's while it
/// has not passed, else next week's. It is shown even with automatic posts
/// off (as the time they would post at).
pub fn next_post(schedule: Schedule, now: DateTime<Utc>) -> DateTime<Utc> {
    upcoming_post(schedule, now, None).map_or(DateTime::<Utc>::MAX_UTC, |(_, at)| at)
}

/// The next post at or after `now` and the week it carries, skipping the
/// weeks up to `newest_posted` (a post never goes back in time); `None`
/// only at the end of the calendar.
pub fn upcoming_post(
    schedule: Schedule,
    now: DateTime<Utc>,
    newest_posted: Option<PrayerWeek>,
) -> Option<(PrayerWeek, DateTime<Utc>)> {
    let mut week = scheduled_week(schedule, now);
    if let Some(newest) = newest_posted
        && newest >= week
    {
        week = following(newest)?;
    }
    // Post times rise week by week: the first at or after `now` is this
    // week's or the next one's.
    let at = post_time(schedule, week);
    if at >= now {
        return Some((week, at));
    }
    let next = following(week)?;
    Some((next, post_time(schedule, next)))
}

/// Whether a post time counts under a schedule set at `since`: it does if it
/// came at or after `since`; with no `since` (a schedule set before this was
/// recorded) every post time counts.
fn counts(since: Option<DateTime<Utc>>, at: DateTime<Utc>) -> bool {
    since.is_none_or(|since| at >= since)
}

/// The instant from which a schedule's post times count once an admin sets
/// `after` at `now`, given what was there `before` (the schedule and its
/// own instant; `None` for a server that had no schedule yet).
///
/// - A first schedule counts from `now`: a week whose post time already
///   passed is not posted by itself (setup's reply says how to post it).
/// - An unchanged schedule keeps its instant.
/// - A changed schedule (weekday, time, zone, or automatic posts turned
///   back on) counts from `now`, unless its week was already due before the
///   change (its post time had come and counted, with automatic posts on):
///   then that week stays due, at its new time.
pub fn counts_from_after_change(
    before: Option<(Schedule, Option<DateTime<Utc>>)>,
    after: Schedule,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let Some((old, since)) = before else {
        return Some(now);
    };
    if old == after {
        return since;
    }
    let old_time = post_time(old, scheduled_week(old, now));
    let was_due = old.auto && old_time <= now && counts(since, old_time);
    if !was_due {
        return Some(now);
    }
    let new_time = post_time(after, scheduled_week(after, now));
    since.map(|since| since.min(new_time))
}

/// The week whose post time had already passed when the schedule was set
/// at `since`, so it is not posted by itself: the week the schedule is on
/// at `now`, if automatic posts are on and its time came before `since`.
pub fn passed_before_set(
    schedule: Schedule,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<PrayerWeek> {
    let week = scheduled_week(schedule, now);
    let at = post_time(schedule, week);
    (schedule.auto && at <= now && !counts(since, at)).then_some(week)
}

/// What the store knows about one server, for the week its schedule is on
/// at `now`.
///
/// The caller loads `has_bulletin` and `posted` for
/// [`scheduled_week`]`(schedule, now)` and says so in `week`: a state
/// loaded for any other week is never due, so a week that ended between
/// loading and deciding is not posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerState {
    pub guild: GuildId,
    pub schedule: Schedule,
    /// The week the two flags below describe.
    pub week: PrayerWeek,
    /// Whether that week has a bulletin.
    pub has_bulletin: bool,
    /// Whether that week's post is finished.
    pub posted: bool,
    /// When the schedule was set, from which its post times count (see
    /// [`counts_from_after_change`]); `None` for a schedule set before this
    /// was recorded, whose post times all count.
    pub since: Option<DateTime<Utc>>,
    /// The newest week whose post was begun or finished in the server.
    pub newest_posted: Option<PrayerWeek>,
}

/// A week to post to a server now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DuePost {
    pub guild: GuildId,
    pub week: PrayerWeek,
}

/// The post `server` owes at `now`, if any: the week its schedule is on
/// ([`scheduled_week`]) is due when automatic posts are on, the week has a
/// bulletin, it is not posted yet, its post time has come and counts (it
/// did not pass before the schedule was set), and no newer week was posted
/// there. That week is the current one or the next, so a week that is over
/// is never due, and a server's posts never go back in time.
pub fn due_post(server: &ServerState, now: DateTime<Utc>) -> Option<DuePost> {
    let schedule = server.schedule;
    let at = post_time(schedule, server.week);
    let due = schedule.auto
        && server.has_bulletin
        && !server.posted
        && server.week == scheduled_week(schedule, now)
        && at <= now
        && counts(server.since, at)
        && server
            .newest_posted
            .is_none_or(|newest| newest <= server.week);
    due.then_some(DuePost {
        guild: server.guild,
        week: server.week,
    })
}

/// Every post owed at `now`, in the order of `servers`.
pub fn due_posts(servers: &[ServerState], now: DateTime<Utc>) -> Vec<DuePost> {
    servers
        .iter()
        .filter_map(|server| due_post(server, now))
        .collect()
}

/// The earliest instant after `now` at which a post could become due by
/// the clock alone: the first post time strictly after `now` among the
/// servers with automatic posts on; `None` if there are none. A bulletin
/// imported or a schedule changed can make a post due sooner: the caller
/// runs the step again after those.
pub fn next_wake(servers: &[ServerState], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    servers
        .iter()
        .filter(|server| server.schedule.auto)
        .filter_map(|server| next_post_after(server.schedule, now))
        .min()
}

/// How long before an automatic post its admins are told that its week
/// has no bulletin yet: a day, time enough to import one.
pub const EMPTY_WEEK_NOTICE: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// The server's next automatic post (its week and time) if it comes within
/// [`EMPTY_WEEK_NOTICE`] of `now`: the post whose week needs a bulletin
/// now, or its admins hear of an empty Monday too late. Weeks already
/// posted are skipped, as the post skips them.
pub fn post_coming_soon(
    server: &ServerState,
    now: DateTime<Utc>,
) -> Option<(PrayerWeek, DateTime<Utc>)> {
    if !server.schedule.auto {
        return None;
    }
    let (week, at) = upcoming_post(server.schedule, now, newest_done(server))?;
    (at > now && at - now <= EMPTY_WEEK_NOTICE).then_some((week, at))
}

/// When the next empty-week notice could become due after `now` (a day
/// before the next automatic post), for the scheduler's wake-up.
pub fn next_notice_time(servers: &[ServerState], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    servers
        .iter()
        .filter(|server| server.schedule.auto)
        .filter_map(|server| upcoming_post(server.schedule, now, newest_done(server)))
        .map(|(_, at)| at - EMPTY_WEEK_NOTICE)
        .filter(|notice| *notice > now)
        .min()
}

/// The newest week the server's posts have begun or finished, counting the
/// scheduled week once it is posted.
fn newest_done(server: &ServerState) -> Option<PrayerWeek> {
    let posted = server.posted.then_some(server.week);
    server.newest_posted.max(posted)
}

/// The first post time strictly after `now`.
fn next_post_after(schedule: Schedule, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let week = scheduled_week(schedule, now);
    let this_week = post_time(schedule, week);
    if this_week > now {
        Some(this_week)
    } else {
        following(week).map(|next| post_time(schedule, next))
    }
}

/// The week whose bulletin a server should have ready at `now`, for
/// `/prayer status`: the week its schedule is on, while that week is owed
/// (its post time came and counted, it is not posted, no newer week was)
/// and it is not already the weekend of that week; otherwise the week the
/// next post carries. So on a Saturday it is next week's, whatever the
/// weekday of the posts. `has_bulletin` and `auto` play no part.
pub fn awaited_week(server: &ServerState, now: DateTime<Utc>) -> PrayerWeek {
    let schedule = server.schedule;
    let week = scheduled_week(schedule, now);
    let at = post_time(schedule, week);
    let owed = server.week == week
        && !server.posted
        && at <= now
        && counts(server.since, at)
        && server.newest_posted.is_none_or(|newest| newest <= week);
    let weekend_of_its_week = week == current_week(schedule.zone, now)
        && carries_next_week(local_today(schedule.zone, now).weekday());
    if owed && !weekend_of_its_week {
        return week;
    }
    // This week's post is past or done: the next one carries a later week.
    let newest = if server.posted || at <= now {
        Some(server.newest_posted.map_or(week, |newest| newest.max(week)))
    } else {
        server.newest_posted
    };
    upcoming_post(schedule, now, newest).map_or(week, |(week, _)| week)
}

/// The week after `week`, if the calendar has one.
pub(crate) fn following(week: PrayerWeek) -> Option<PrayerWeek> {
    let monday = week.monday().checked_add_days(Days::new(7))?;
    PrayerWeek::from_monday(monday).ok()
}

/// The instant a local date and time name in `zone`, by the rule stated at
/// [`post_time`].
pub(crate) fn resolve_local(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) => at.with_timezone(&Utc),
        LocalResult::Ambiguous(first, second) => first.min(second).with_timezone(&Utc),
        LocalResult::None => first_instant_after_gap(zone, local),
    }
}

/// The first instant whose local time in `zone` is at or after `local`, a
/// time in a gap: the instant the clocks sprang forward. No zone's offset
/// reaches 36 hours, so that instant lies within 36 hours of `local` read
/// as UTC; it is found by halving, to the second (zones change on whole
/// seconds). Were there several changes in those three days, it would
/// still find an instant that ends a gap, only perhaps not the nearest.
fn first_instant_after_gap(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    const REACH: i64 = 36 * 3600;
    let as_utc = local.and_utc();
    let local_at = |seconds: i64| {
        DateTime::from_timestamp(seconds, 0).map(|at| at.with_timezone(&zone).naive_local())
    };
    // Local time is before `local` at `early` and not before it at `late`.
    let mut early = as_utc.timestamp().saturating_sub(REACH);
    let mut late = as_utc.timestamp().saturating_add(REACH);
    while late - early > 1 {
        let middle = early + (late - early) / 2;
        match local_at(middle) {
            Some(time) if time < local => early = middle,
            Some(_) => late = middle,
            // Beyond the calendar: no answer closer than `local` as UTC.
            None => return as_utc,
        }
    }
    DateTime::from_timestamp(late, 0).unwrap_or(as_utc)
}

/// A zone that is a fixed offset from UTC, never changing for summer time
/// (`EST`, `MST`, `Etc/GMT+5`, `GMT` …), with a city zone to suggest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedOffsetZone {
    pub zone: Tz,
    /// Its offset from UTC, in seconds (east positive).
    pub offset: i32,
    /// A city zone with that offset in winter that does follow its
    /// clocks' changes, if one is known.
    pub suggestion: Option<&'static str>,
}

impl fmt::Display for FixedOffsetZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.offset < 0 { '−' } else { '+' };
        let minutes = self.offset.unsigned_abs() / 60;
        write!(
            f,
            "`{}` is a fixed offset (UTC{sign}{:02}:{:02}) that never changes for summer time, \
             so if your clocks do, the posts will be an hour off for part of the year.",
            self.zone.name(),
            minutes / 60,
            minutes % 60
        )?;
        match self.suggestion {
            Some(city) => write!(
                f,
                " Use your city's zone instead, such as `{city}` (pick yours from the list as you type)."
            ),
            None => write!(
                f,
                " Use your city's zone instead (pick it from the list as you type)."
            ),
        }
    }
}

/// The names of UTC itself: fixed, and meant to be.
const UTC_NAMES: [&str; 8] = [
    "UTC",
    "Etc/UTC",
    "UCT",
    "Etc/UCT",
    "Universal",
    "Etc/Universal",
    "Zulu",
    "Etc/Zulu",
];

/// The zones outside `Etc/` that are fixed offsets by name.
const FIXED_NAMES: [&str; 8] = [
    "EST",
    "MST",
    "HST",
    "GMT",
    "GMT+0",
    "GMT-0",
    "GMT0",
    "Greenwich",
];

/// `zone` if it is a fixed offset an admin probably did not mean (anything
/// in `Etc/`, `EST`, `MST`, `HST`, `GMT` …), with a city zone to suggest;
/// `None` for city zones (even those without summer time, such as
/// `Asia/Kolkata`), zones that follow a rule (`EST5EDT`) and UTC itself.
pub fn fixed_offset(zone: Tz) -> Option<FixedOffsetZone> {
    use chrono::Offset;
    let name = zone.name();
    if UTC_NAMES.contains(&name) || !(name.starts_with("Etc/") || FIXED_NAMES.contains(&name)) {
        return None;
    }
    // Any instant serves: the offset never changes.
    let offset = zone
        .offset_from_utc_datetime(&NaiveDateTime::default())
        .fix()
        .local_minus_utc();
    let suggestion = match offset / 3600 {
        -11 => Some("Pacific/Pago_Pago"),
        -10 => Some("Pacific/Honolulu"),
        -9 => Some("America/Anchorage"),
        -8 => Some("America/Los_Angeles"),
        -7 => Some("America/Denver"),
        -6 => Some("America/Chicago"),
        -5 => Some("America/New_York"),
        -4 => Some("America/Halifax"),
        -3 => Some("America/Sao_Paulo"),
        -2 => Some("America/Noronha"),
        -1 => Some("Atlantic/Azores"),
        0 => Some("Europe/London"),
        1 => Some("Europe/Paris"),
        2 => Some("Europe/Athens"),
        3 => Some("Europe/Moscow"),
        4 => Some("Asia/Dubai"),
        5 => Some("Asia/Karachi"),
        6 => Some("Asia/Dhaka"),
        7 => Some("Asia/Bangkok"),
        8 => Some("Asia/Singapore"),
        9 => Some("Asia/Tokyo"),
        10 => Some("Australia/Sydney"),
        11 => Some("Pacific/Noumea"),
        12 => Some("Pacific/Auckland"),
        13 => Some("Pacific/Tongatapu"),
        14 => Some("Pacific/Kiritimati"),
        _ => None,
    };
    Some(FixedOffsetZone {
        zone,
        offset,
        suggestion,
    })
}

/// How much of a typed zone is compared with zone names: the longest IANA
/// name has 32 characters, so more cannot match and would only cost time.
const TYPED_ZONE_LIMIT: usize = 64;

/// Why a typed time zone was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownZone {
    /// The closest zone names, best first (at most three; may be empty).
    pub close: Vec<&'static str>,
}

impl fmt::Display for UnknownZone {
    /// One short sentence that never repeats what was typed, so the reply
    /// stays small whatever the input.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "that is not a time zone")?;
        match self.close.as_slice() {
            [] => {}
            [only] => write!(f, "; did you mean {only}?")?,
            [rest @ .., last] => write!(f, "; did you mean {} or {last}?", rest.join(", "))?,
        }
        write!(
            f,
            " A zone is an IANA name such as Europe/London, America/New_York or UTC."
        )
    }
}

impl std::error::Error for UnknownZone {}

/// The zone that `typed` names: any IANA name in `chrono_tz::TZ_VARIANTS`,
/// in any letter case, with spaces around it ignored. Anything else is
/// refused with up to three close names: those that contain what was typed
/// (`york` finds America/New_York), then those a few edits away.
///
/// chrono-tz's own `Tz::from_str_insensitive` needs its `case-insensitive`
/// feature, which builds the zone tables again in a build script
/// (chrono-tz-build, parse-zoneinfo, uncased: none in the lock file); a scan
/// of the ~600 names with `eq_ignore_ascii_case` does the same here (zone
/// names are ASCII).
pub fn parse_zone(typed: &str) -> Result<Tz, UnknownZone> {
    let trimmed = typed.trim();
    if let Some(zone) = TZ_VARIANTS
        .iter()
        .find(|zone| zone.name().eq_ignore_ascii_case(trimmed))
    {
        return Ok(*zone);
    }
    Err(UnknownZone {
        close: close_zones(&zone_key(trimmed)),
    })
}

/// The zone names that match what an admin has typed so far, for Discord's
/// autocomplete: those where a part (split at `/`, `_` or `-`) or the whole
/// name starts with it, in any letter case, whole-name matches first; at
/// most [`CHOICE_LIMIT`], each at most [`CHOICE_NAME_LIMIT`] characters.
pub fn zone_choices(partial: &str) -> Vec<&'static str> {
    let key = zone_key(partial);
    let mut whole = Vec::new();
    let mut part = Vec::new();
    for name in TZ_VARIANTS.iter().map(|zone| zone.name()) {
        if name.len() > CHOICE_NAME_LIMIT {
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if lower.starts_with(&key) {
            whole.push(name);
        } else if lower
            .match_indices(['/', '_', '-'])
            .any(|(at, _)| lower[at + 1..].starts_with(&key))
        {
            part.push(name);
        }
    }
    whole.into_iter().chain(part).take(CHOICE_LIMIT).collect()
}

/// Typed text as zone names are compared: its first [`TYPED_ZONE_LIMIT`]
/// characters in lower case, with spaces read as the `_` zone names use.
fn zone_key(typed: &str) -> String {
    typed
        .trim()
        .chars()
        .take(TYPED_ZONE_LIMIT)
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .collect()
}

/// Up to three zone names close to `key`: names containing it (three
/// letters or more) first, then names or city parts within a third of its
/// length in edits; shorter names first among equals.
fn close_zones(key: &str) -> Vec<&'static str> {
    let length = key.chars().count();
    if length == 0 {
        return Vec::new();
    }
    let close_enough = (length / 3).max(1);
    let mut scored: Vec<(usize, usize, &'static str)> = TZ_VARIANTS
        .iter()
        .filter_map(|zone| {
            let name = zone.name();
            let lower = name.to_ascii_lowercase();
            if length >= 3 && lower.contains(key) {
                return Some((0, name.len(), name));
            }
            let city = lower.rsplit('/').next().unwrap_or(&lower);
            let distance = [lower.as_str(), city]
                .into_iter()
                // Lengths this far apart are further apart in edits: skip
                // the quadratic comparison.
                .filter(|candidate| candidate.len().abs_diff(length) <= close_enough)
                .map(|candidate| strsim::levenshtein(candidate, key))
                .min()?;
            (distance <= close_enough).then_some((distance, name.len(), name))
        })
        .collect();
    scored.sort_unstable();
    scored
        .into_iter()
        .take(3)
        .map(|(_, _, name)| name)
        .collect()
}

/// Why a typed time was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "that is not a time of day; write it as HH:MM on a 24-hour clock (9:00, 09:00, 21:30) \
     or with am/pm (9am, 9:30 pm)"
)]
pub struct NotATime;

/// A time of day as an admin types it: `HH:MM` on a 24-hour clock (`9:00`,
/// `09:00`, `21:30`), or an hour from 1 to 12 with `am` or `pm`, with or
/// without minutes and a space (`9am`, `9:30 pm`, `12 a.m.` is midnight).
pub fn parse_time(typed: &str) -> Result<NaiveTime, NotATime> {
    let text = typed.trim();
    // The longest accepted form, `12:30 p.m.`, has ten characters.
    if text.len() > 16 || !text.is_ascii() {
        return Err(NotATime);
    }
    let text = text.to_ascii_lowercase();
    let (clock, pm) = [("a.m.", false), ("p.m.", true), ("am", false), ("pm", true)]
        .into_iter()
        .find_map(|(suffix, pm)| {
            text.strip_suffix(suffix)
                .map(|clock| (clock.trim_end(), Some(pm)))
        })
        .unwrap_or((text.as_str(), None));
    let (hour, minute) = match clock.split_once(':') {
        Some((hour, minute)) => (number(hour, 1)?, number(minute, 2)?),
        // Only an hour with am or pm may go without minutes.
        None if pm.is_some() => (number(clock, 1)?, 0),
        None => return Err(NotATime),
    };
    let hour = match pm {
        None => hour,
        Some(_) if !(1..=12).contains(&hour) => return Err(NotATime),
        Some(pm) => hour % 12 + if pm { 12 } else { 0 },
    };
    NaiveTime::from_hms_opt(hour, minute, 0).ok_or(NotATime)
}

/// `digits` as a number: at least `shortest` and at most two ASCII digits.
fn number(digits: &str, shortest: usize) -> Result<u32, NotATime> {
    if !(shortest..=2).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NotATime);
    }
    digits.parse().map_err(|_| NotATime)
}

/// A weekday's name, as the bot writes it (`Thursday`).
pub fn day_name(weekday: Weekday) -> &'static str {
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

/// What an admin typed for a day that may be turned off (`/prayer setup
/// nudge:` and `recap:`): `Some(Some(day))` for a weekday in any case or
/// short form, `Some(None)` for `off` (or `none`, `no`), `None` for
/// anything else.
pub fn day_or_off(typed: &str) -> Option<Option<Weekday>> {
    let typed = typed.trim();
    if ["off", "none", "no"]
        .iter()
        .any(|off| typed.eq_ignore_ascii_case(off))
    {
        return Some(None);
    }
    typed.parse::<Weekday>().ok().map(Some)
}

/// The choices of such an option that begin with what was typed, in the
/// order given.
pub fn day_choices(choices: &[&'static str], partial: &str) -> Vec<&'static str> {
    let partial = partial.trim().to_lowercase();
    choices
        .iter()
        .filter(|choice| choice.to_lowercase().starts_with(&partial))
        .copied()
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::ids::GuildId;
    use chrono::{Datelike, Timelike};
    use chrono_tz::America::New_York;
    use chrono_tz::Asia::Kolkata;
    use chrono_tz::Australia::Sydney;
    use chrono_tz::Europe::London;
    use proptest::prelude::*;

    const ZONES: [Tz; 4] = [New_York, London, Sydney, Kolkata];

    #[test]
    fn an_empty_week_is_noticed_a_day_before_its_post_and_not_sooner() {
        // Monday 09:00 UTC posts; the week of 2026-11-30 is next.
        let server = |now| ServerState {
            has_bulletin: false,
            ..waiting(schedule(Weekday::Mon, at(9, 0), chrono_tz::UTC), now)
        };
        let sunday_morning = utc(2026, 11, 29, 8, 59);
        assert_eq!(
            post_coming_soon(&server(sunday_morning), sunday_morning),
            None
        );
        assert_eq!(
            next_notice_time(&[server(sunday_morning)], sunday_morning),
            Some(utc(2026, 11, 29, 9, 0))
        );
        let sunday = utc(2026, 11, 29, 9, 0);
        assert_eq!(
            post_coming_soon(&server(sunday), sunday),
            Some((week(2026, 11, 30), utc(2026, 11, 30, 9, 0)))
        );
        // Automatic posts off: no post comes, so nothing to notice.
        let mut off = server(sunday);
        off.schedule.auto = false;
        assert_eq!(post_coming_soon(&off, sunday), None);
        assert_eq!(next_notice_time(&[off], sunday_morning), None);
    }

    #[test]
    fn a_week_posted_already_is_not_the_one_noticed() {
        let sunday = utc(2026, 11, 29, 12, 0);
        let server = ServerState {
            newest_posted: Some(week(2026, 11, 30)),
            ..waiting(schedule(Weekday::Mon, at(9, 0), chrono_tz::UTC), sunday)
        };
        // The week of 11-30 went out by hand: the next post is a week on.
        assert_eq!(post_coming_soon(&server, sunday), None);
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("a real instant")
    }

    fn week(y: i32, m: u32, d: u32) -> PrayerWeek {
        let date = NaiveDate::from_ymd_opt(y, m, d).expect("a real date");
        PrayerWeek::from_monday(date).expect("a Monday")
    }

    fn at(h: u32, min: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, min, 0).expect("a real time")
    }

    fn schedule(weekday: Weekday, time: NaiveTime, zone: Tz) -> Schedule {
        Schedule {
            weekday,
            time,
            zone,
            auto: true,
        }
    }

    /// A server whose current week at `now` has a bulletin and no post yet.
    pub(crate) fn waiting(schedule: Schedule, now: DateTime<Utc>) -> ServerState {
        ServerState {
            guild: GuildId::of::<1>(),
            schedule,
            week: scheduled_week(schedule, now),
            has_bulletin: true,
            posted: false,
            since: None,
            newest_posted: None,
        }
    }

    fn due(server: ServerState, now: DateTime<Utc>) -> bool {
        due_post(&server, now).is_some()
    }

    /// Every hour from `from` until `until`.
    fn hours(from: DateTime<Utc>, until: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> {
        std::iter::successors(Some(from), |t| Some(*t + chrono::Duration::hours(1)))
            .take_while(move |t| *t < until)
    }

    #[test]
    fn a_new_server_posts_on_monday_at_nine_utc_automatically() {
        let default = Schedule::default();
        assert_eq!(default, schedule(Weekday::Mon, at(9, 0), Tz::UTC));
        assert_eq!(
            post_time(default, week(2026, 11, 23)),
            utc(2026, 11, 23, 9, 0)
        );
    }

    #[test]
    fn a_servers_today_and_week_follow_its_own_zone() {
        // Sunday 22:30 UTC is already Monday in Sydney.
        let now = utc(2026, 11, 22, 22, 30);
        assert_eq!(
            local_today(Sydney, now),
            NaiveDate::from_ymd_opt(2026, 11, 23).expect("a date")
        );
        assert_eq!(current_week(Sydney, now), week(2026, 11, 23));
        assert_eq!(current_week(Tz::UTC, now), week(2026, 11, 16));
        // Monday 03:00 UTC is still Sunday evening in New York.
        let now = utc(2026, 11, 23, 3, 0);
        assert_eq!(current_week(New_York, now), week(2026, 11, 16));
        assert_eq!(current_week(Kolkata, now), week(2026, 11, 23));
    }

    #[test]
    fn a_nine_oclock_post_stays_nine_local_all_year_in_every_zone() {
        let mut monday = week(2026, 6, 1);
        while monday < week(2027, 7, 5) {
            for zone in ZONES {
                let posted =
                    post_time(schedule(Weekday::Mon, at(9, 0), zone), monday).with_timezone(&zone);
                assert_eq!(posted.date_naive(), monday.monday(), "{zone} {monday}");
                assert_eq!(posted.time(), at(9, 0), "{zone} {monday}");
            }
            monday = monday.next();
        }
    }

    #[test]
    fn monday_nine_moves_an_hour_in_utc_across_both_changes_except_in_kolkata() {
        let monday_nine = |zone| schedule(Weekday::Mon, at(9, 0), zone);
        let cases = [
            // New York: falls back 2026-11-01, springs forward 2027-03-14.
            (New_York, week(2026, 10, 26), utc(2026, 10, 26, 13, 0)),
            (New_York, week(2026, 11, 2), utc(2026, 11, 2, 14, 0)),
            (New_York, week(2027, 3, 8), utc(2027, 3, 8, 14, 0)),
            (New_York, week(2027, 3, 15), utc(2027, 3, 15, 13, 0)),
            // London: falls back 2026-10-25, springs forward 2027-03-28.
            (London, week(2026, 10, 19), utc(2026, 10, 19, 8, 0)),
            (London, week(2026, 10, 26), utc(2026, 10, 26, 9, 0)),
            (London, week(2027, 3, 22), utc(2027, 3, 22, 9, 0)),
            (London, week(2027, 3, 29), utc(2027, 3, 29, 8, 0)),
            // Sydney: springs forward 2026-10-04, falls back 2027-04-04.
            (Sydney, week(2026, 9, 28), utc(2026, 9, 27, 23, 0)),
            (Sydney, week(2026, 10, 5), utc(2026, 10, 4, 22, 0)),
            (Sydney, week(2027, 3, 29), utc(2027, 3, 28, 22, 0)),
            (Sydney, week(2027, 4, 5), utc(2027, 4, 4, 23, 0)),
            // Kolkata: no changes, always UTC+05:30.
            (Kolkata, week(2026, 10, 26), utc(2026, 10, 26, 3, 30)),
            (Kolkata, week(2027, 3, 29), utc(2027, 3, 29, 3, 30)),
            (Kolkata, week(2027, 4, 5), utc(2027, 4, 5, 3, 30)),
        ];
        for (zone, monday, expected) in cases {
            assert_eq!(
                post_time(monday_nine(zone), monday),
                expected,
                "{zone} {monday}"
            );
        }
    }

    #[test]
    fn a_time_in_the_spring_forward_gap_posts_at_the_first_instant_after_it() {
        let cases = [
            // New York 2027-03-14: 02:00 EST becomes 03:00 EDT (07:00 UTC).
            (
                New_York,
                at(2, 30),
                week(2027, 3, 8),
                utc(2027, 3, 14, 7, 0),
            ),
            (New_York, at(2, 0), week(2027, 3, 8), utc(2027, 3, 14, 7, 0)),
            (
                New_York,
                at(2, 59),
                week(2027, 3, 8),
                utc(2027, 3, 14, 7, 0),
            ),
            // London 2027-03-28: 01:00 GMT becomes 02:00 BST (01:00 UTC).
            (London, at(1, 30), week(2027, 3, 22), utc(2027, 3, 28, 1, 0)),
            // Sydney 2026-10-04: 02:00 AEST becomes 03:00 AEDT (16:00 UTC).
            (
                Sydney,
                at(2, 30),
                week(2026, 9, 28),
                utc(2026, 10, 3, 16, 0),
            ),
            // Kolkata has no gap: 02:30 IST is 21:00 UTC the day before.
            (
                Kolkata,
                at(2, 30),
                week(2027, 3, 22),
                utc(2027, 3, 27, 21, 0),
            ),
        ];
        for (zone, time, monday, expected) in cases {
            let sunday = schedule(Weekday::Sun, time, zone);
            // A Sunday post carries the week that begins the next day.
            assert_eq!(post_time(sunday, monday.next()), expected, "{zone} {time}");
        }
        // The minute after the gap is an ordinary time.
        let three = schedule(Weekday::Sun, at(3, 0), New_York);
        assert_eq!(post_time(three, week(2027, 3, 15)), utc(2027, 3, 14, 7, 0));
    }

    #[test]
    fn a_time_that_occurs_twice_posts_at_its_first_occurrence() {
        let cases = [
            // New York 2026-11-01: 01:30 EDT (05:30 UTC), then 01:30 EST.
            (
                New_York,
                at(1, 30),
                week(2026, 10, 26),
                utc(2026, 11, 1, 5, 30),
            ),
            // London 2026-10-25: 01:30 BST (00:30 UTC), then 01:30 GMT.
            (
                London,
                at(1, 30),
                week(2026, 10, 19),
                utc(2026, 10, 25, 0, 30),
            ),
            // Sydney 2027-04-04: 02:30 AEDT (15:30 UTC), then 02:30 AEST.
            (
                Sydney,
                at(2, 30),
                week(2027, 3, 29),
                utc(2027, 4, 3, 15, 30),
            ),
        ];
        for (zone, time, monday, expected) in cases {
            let sunday = schedule(Weekday::Sun, time, zone);
            // A Sunday post carries the week that begins the next day.
            assert_eq!(post_time(sunday, monday.next()), expected, "{zone} {time}");
        }
    }

    #[test]
    fn a_week_ends_at_the_next_monday_midnight_local() {
        // The week of the spring change ends on EDT, an hour earlier in UTC
        // than it began.
        assert_eq!(
            week_start(New_York, week(2027, 3, 8)),
            utc(2027, 3, 8, 5, 0)
        );
        assert_eq!(week_end(New_York, week(2027, 3, 8)), utc(2027, 3, 15, 4, 0));
        assert_eq!(week_end(Sydney, week(2026, 9, 28)), utc(2026, 10, 4, 13, 0));
        assert_eq!(
            week_end(Kolkata, week(2026, 9, 28)),
            utc(2026, 10, 4, 18, 30)
        );
    }

    #[test]
    fn every_instant_belongs_to_the_week_whose_start_and_end_surround_it() {
        for zone in ZONES {
            for now in hours(utc(2026, 1, 1, 0, 0), utc(2028, 1, 1, 0, 0)) {
                let current = current_week(zone, now);
                assert!(week_start(zone, current) <= now, "{zone} {now}");
                assert!(now < week_end(zone, current), "{zone} {now}");
            }
        }
    }

    #[test]
    fn every_zone_and_weekday_posts_within_its_week_or_the_weekend_before() {
        let weekdays = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ];
        let weeks = [week(2026, 3, 23), week(2026, 10, 19), week(2027, 3, 8)];
        for zone in TZ_VARIANTS {
            for weekday in weekdays {
                for time in [at(0, 0), at(2, 30), at(23, 59)] {
                    for monday in weeks {
                        let posted = post_time(schedule(weekday, time, zone), monday);
                        if carries_next_week(weekday) {
                            // The weekend before: in the week before, and
                            // at most two days before the week starts.
                            let before =
                                PrayerWeek::from_monday(monday.monday() - chrono::Days::new(7))
                                    .expect("a Monday");
                            assert_eq!(current_week(zone, posted), before, "{zone} {weekday}");
                            assert!(
                                week_start(zone, monday) - posted <= chrono::Duration::hours(49),
                                "{zone} {weekday} {time}"
                            );
                            continue;
                        }
                        assert!(
                            week_start(zone, monday) <= posted,
                            "{zone} {weekday} {time}"
                        );
                        assert!(posted < week_end(zone, monday), "{zone} {weekday} {time}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_post_is_due_from_its_time_until_its_week_ends() {
        let monday_nine = schedule(Weekday::Mon, at(9, 0), New_York);
        // Monday 2026-11-23 09:00 EST is 14:00 UTC.
        let before = utc(2026, 11, 23, 13, 59);
        assert!(!due(waiting(monday_nine, before), before));
        let on_time = utc(2026, 11, 23, 14, 0);
        assert_eq!(
            due_post(&waiting(monday_nine, on_time), on_time),
            Some(DuePost {
                guild: GuildId::of::<1>(),
                week: week(2026, 11, 23)
            })
        );
        // Sunday 23:59 EST is the week's last minute.
        let last = utc(2026, 11, 30, 4, 59);
        assert!(due(waiting(monday_nine, last), last));
    }

    #[test]
    fn a_schedule_moved_mid_week_is_due_at_its_new_time_and_not_before() {
        // Tuesday, after Monday 09:00 passed with the week not yet posted,
        // the admin moves the post to Wednesday 18:00 (23:00 UTC).
        let wednesday = schedule(Weekday::Wed, at(18, 0), New_York);
        let tuesday = utc(2026, 11, 24, 15, 0);
        assert!(!due(waiting(wednesday, tuesday), tuesday));
        assert_eq!(
            next_wake(&[waiting(wednesday, tuesday)], tuesday),
            Some(utc(2026, 11, 25, 23, 0))
        );
        let just_before = utc(2026, 11, 25, 22, 59);
        assert!(!due(waiting(wednesday, just_before), just_before));
        let on_time = utc(2026, 11, 25, 23, 0);
        assert!(due(waiting(wednesday, on_time), on_time));
    }

    #[test]
    fn a_week_without_a_bulletin_is_not_due_until_one_arrives() {
        let monday_nine = schedule(Weekday::Mon, at(9, 0), London);
        let tuesday = utc(2026, 11, 24, 10, 0);
        let empty = ServerState {
            has_bulletin: false,
            ..waiting(monday_nine, tuesday)
        };
        assert!(!due(empty, tuesday));
        // Imported on Tuesday: due at once.
        let imported = ServerState {
            has_bulletin: true,
            ..empty
        };
        assert!(due(imported, tuesday));
    }

    #[test]
    fn a_bot_down_at_post_time_posts_when_back_on_wednesday() {
        let monday_nine = schedule(Weekday::Mon, at(9, 0), Sydney);
        let wednesday = utc(2026, 11, 25, 2, 0);
        assert!(due(waiting(monday_nine, wednesday), wednesday));
    }

    #[test]
    fn a_bot_back_only_the_next_week_never_posts_the_old_week() {
        let monday_nine = schedule(Weekday::Mon, at(9, 0), New_York);
        let old = waiting(monday_nine, utc(2026, 11, 24, 12, 0));
        assert_eq!(old.week, week(2026, 11, 23));
        // Back on the next Monday at 08:00 EST: the old week is over and the
        // new one's post time has not come.
        let back = utc(2026, 11, 30, 13, 0);
        assert!(!due(old, back));
        assert!(!due(waiting(monday_nine, back), back));
        assert_eq!(due_posts(&[old, waiting(monday_nine, back)], back), []);
    }

    #[test]
    fn a_posted_week_is_not_due_again() {
        let monday_nine = schedule(Weekday::Mon, at(9, 0), Kolkata);
        let now = utc(2026, 11, 24, 12, 0);
        let posted = ServerState {
            posted: true,
            ..waiting(monday_nine, now)
        };
        assert!(!due(posted, now));
    }

    #[test]
    fn a_server_with_automatic_posts_off_is_never_due() {
        let off = Schedule {
            auto: false,
            ..schedule(Weekday::Mon, at(9, 0), New_York)
        };
        for now in hours(utc(2026, 11, 23, 0, 0), utc(2026, 12, 7, 0, 0)) {
            assert!(!due(waiting(off, now), now), "{now}");
        }
        assert_eq!(
            next_wake(
                &[waiting(off, utc(2026, 11, 23, 0, 0))],
                utc(2026, 11, 23, 0, 0)
            ),
            None
        );
    }

    #[test]
    fn sydneys_monday_nine_is_sunday_in_utc_and_belongs_to_the_sydney_week() {
        let monday_nine = schedule(Weekday::Mon, at(9, 0), Sydney);
        // Monday 2026-11-23 09:00 AEDT is Sunday 22:00 UTC.
        let now = utc(2026, 11, 22, 22, 0);
        assert_eq!(now.weekday(), Weekday::Sun);
        assert_eq!(post_time(monday_nine, week(2026, 11, 23)), now);
        assert_eq!(
            due_posts(&[waiting(monday_nine, now)], now),
            [DuePost {
                guild: GuildId::of::<1>(),
                week: week(2026, 11, 23)
            }]
        );
    }

    #[test]
    fn due_posts_lists_each_server_whose_post_has_come() {
        let now = utc(2026, 11, 23, 13, 0);
        let server = |id, zone| ServerState {
            guild: GuildId::try_new(id).expect("ids are not 0"),
            ..waiting(schedule(Weekday::Mon, at(9, 0), zone), now)
        };
        // At 13:00 UTC on Monday, New York's 09:00 (14:00 UTC) has not come;
        // London's, Kolkata's and Sydney's have.
        let servers = [
            server(1, New_York),
            server(2, London),
            server(3, Kolkata),
            server(4, Sydney),
        ];
        let due: Vec<u64> = due_posts(&servers, now)
            .iter()
            .map(|post| post.guild.get())
            .collect();
        assert_eq!(due, [2, 3, 4]);
        assert_eq!(next_wake(&servers, now), Some(utc(2026, 11, 23, 14, 0)));
    }

    #[test]
    fn the_next_wake_is_the_first_post_time_strictly_after_now() {
        let monday_nine = schedule(Weekday::Mon, at(9, 0), Tz::UTC);
        let on_time = utc(2026, 11, 23, 9, 0);
        assert_eq!(
            next_wake(&[waiting(monday_nine, on_time)], on_time),
            Some(utc(2026, 11, 30, 9, 0))
        );
        assert_eq!(next_wake(&[], on_time), None);
        // Across the spring change, the wake is 09:00 EDT.
        let friday = utc(2027, 3, 12, 12, 0);
        let new_york = schedule(Weekday::Mon, at(9, 0), New_York);
        assert_eq!(
            next_wake(&[waiting(new_york, friday)], friday),
            Some(utc(2027, 3, 15, 13, 0))
        );
    }

    #[test]
    fn the_next_post_shown_is_this_weeks_until_it_passes_then_next_weeks() {
        let monday_nine = schedule(Weekday::Mon, at(9, 0), London);
        assert_eq!(
            next_post(monday_nine, utc(2026, 11, 23, 8, 0)),
            utc(2026, 11, 23, 9, 0)
        );
        assert_eq!(
            next_post(monday_nine, utc(2026, 11, 23, 9, 0)),
            utc(2026, 11, 23, 9, 0)
        );
        assert_eq!(
            next_post(monday_nine, utc(2026, 11, 23, 9, 1)),
            utc(2026, 11, 30, 9, 0)
        );
        let off = Schedule {
            auto: false,
            ..monday_nine
        };
        assert_eq!(
            next_post(off, utc(2026, 11, 23, 8, 0)),
            utc(2026, 11, 23, 9, 0)
        );
    }

    #[test]
    fn any_iana_name_is_a_zone_in_any_letter_case() {
        assert_eq!(parse_zone("america/new_york"), Ok(New_York));
        assert_eq!(parse_zone(" EUROPE/LONDON "), Ok(London));
        assert_eq!(parse_zone("Asia/Kolkata"), Ok(Kolkata));
        assert_eq!(parse_zone("utc"), Ok(Tz::UTC));
        for zone in TZ_VARIANTS {
            assert_eq!(parse_zone(&zone.name().to_lowercase()), Ok(zone));
            assert_eq!(parse_zone(&zone.name().to_uppercase()), Ok(zone));
        }
    }

    #[test]
    fn an_unknown_zone_is_refused_with_up_to_three_close_names() {
        let close = |typed| parse_zone(typed).expect_err("not a zone").close;
        assert_eq!(close("york"), ["America/New_York"]);
        assert_eq!(close("kolkata"), ["Asia/Kolkata"]);
        assert_eq!(close("New York"), ["America/New_York"]);
        assert_eq!(close("Europe/Londn").first(), Some(&"Europe/London"));
        assert_eq!(close("londn").first(), Some(&"Europe/London"));
        assert!(close("america").len() <= 3);
        assert_eq!(close(""), Vec::<&str>::new());
        assert_eq!(close("qqqqqqqqqqqqqqqq"), Vec::<&str>::new());
        assert_eq!(
            parse_zone("york").expect_err("not a zone").to_string(),
            "that is not a time zone; did you mean America/New_York? \
             A zone is an IANA name such as Europe/London, America/New_York or UTC."
        );
    }

    #[test]
    fn a_five_thousand_character_zone_is_refused_with_a_short_answer() {
        for typed in [
            "a".repeat(5000),
            format!("Europe/London{}", "x".repeat(5000)),
            "é".repeat(5000),
        ] {
            let refused = parse_zone(&typed).expect_err("not a zone");
            assert!(refused.to_string().len() < 200);
            assert_eq!(zone_choices(&typed), Vec::<&str>::new());
        }
    }

    #[test]
    fn zone_choices_match_any_part_of_a_name_by_its_start() {
        assert!(zone_choices("new").contains(&"America/New_York"));
        assert!(zone_choices("NEW").contains(&"America/New_York"));
        assert!(zone_choices("york").contains(&"America/New_York"));
        assert!(zone_choices("new york").contains(&"America/New_York"));
        assert_eq!(zone_choices("kolk"), ["Asia/Kolkata"]);
        assert_eq!(zone_choices("europe/lon"), ["Europe/London"]);
        assert!(!zone_choices("ork").contains(&"America/New_York"));
        // Whole-name matches come first.
        assert_eq!(zone_choices("us").first(), Some(&"US/Alaska"));
        for partial in ["", "a", "america/", "e"] {
            let choices = zone_choices(partial);
            assert!(
                !choices.is_empty() && choices.len() <= CHOICE_LIMIT,
                "{partial}"
            );
            assert!(choices.iter().all(|name| name.len() <= CHOICE_NAME_LIMIT));
        }
    }

    #[test]
    fn a_time_is_hours_and_minutes_or_an_hour_with_am_or_pm() {
        for (typed, expected) in [
            ("9:00", at(9, 0)),
            ("09:00", at(9, 0)),
            ("21:30", at(21, 30)),
            ("0:00", at(0, 0)),
            ("23:59", at(23, 59)),
            (" 18:00 ", at(18, 0)),
            ("9am", at(9, 0)),
            ("9 AM", at(9, 0)),
            ("9:30 pm", at(21, 30)),
            ("9:30pm", at(21, 30)),
            ("12am", at(0, 0)),
            ("12:15 a.m.", at(0, 15)),
            ("12pm", at(12, 0)),
            ("12 p.m.", at(12, 0)),
            ("11:59 pm", at(23, 59)),
        ] {
            assert_eq!(parse_time(typed), Ok(expected), "{typed}");
        }
    }

    #[test]
    fn anything_else_is_refused_with_the_accepted_forms() {
        for typed in [
            "",
            "9",
            "900",
            "0900",
            "24:00",
            "9:60",
            "9:5",
            "9:005",
            "009:00",
            "9:00:00",
            "13pm",
            "0am",
            "13:00 pm",
            "am",
            ":30",
            "9h30",
            "-9:00",
            "+9:00",
            "９:００",
            "nine",
        ] {
            assert_eq!(parse_time(typed), Err(NotATime), "{typed}");
        }
        assert_eq!(parse_time(&"9".repeat(5000)), Err(NotATime));
        assert_eq!(
            NotATime.to_string(),
            "that is not a time of day; write it as HH:MM on a 24-hour clock \
             (9:00, 09:00, 21:30) or with am/pm (9am, 9:30 pm)"
        );
    }

    #[test]
    fn a_zone_change_never_takes_a_servers_posts_back_in_time() {
        // Posted on Monday 2026-11-30 in UTC; then the admin moves the zone
        // to Etc/GMT+12, where it is still Sunday 2026-11-29: the week
        // running there is the one before, which has a bulletin and was
        // never posted in this server.
        let now = utc(2026, 11, 30, 10, 0);
        let gmt_plus_12: Tz = "Etc/GMT+12".parse().expect("a zone");
        let moved = schedule(Weekday::Mon, at(9, 0), gmt_plus_12);
        let old = waiting(moved, now);
        assert_eq!(old.week, week(2026, 11, 23));
        let after = ServerState {
            newest_posted: Some(week(2026, 11, 30)),
            ..old
        };
        assert!(!due(after, now));
        assert_eq!(due_posts(&[after], now), []);
        // Only the newer week counts: an equal week whose post was begun
        // and not finished resumes, and an older posted week is no bar.
        for newest in [week(2026, 11, 23), week(2026, 11, 16)] {
            let resumed = ServerState {
                newest_posted: Some(newest),
                ..old
            };
            assert!(due(resumed, now), "{newest}");
        }
        // The week after, on its own Monday in that zone, is due as usual.
        let monday = utc(2026, 12, 7, 21, 0);
        let next = ServerState {
            newest_posted: Some(week(2026, 11, 30)),
            ..waiting(moved, monday)
        };
        assert_eq!(next.week, week(2026, 12, 7));
        assert!(due(next, monday));
    }

    #[test]
    fn a_first_schedule_does_not_post_a_week_whose_time_passed_before_it() {
        let monday_nine = schedule(Weekday::Mon, at(9, 0), Tz::UTC);
        // First set on Saturday 2026-11-28: Monday 09:00 has passed.
        let saturday = utc(2026, 11, 28, 15, 0);
        let since = counts_from_after_change(None, monday_nine, saturday);
        assert_eq!(since, Some(saturday));
        let server = ServerState {
            since,
            ..waiting(monday_nine, saturday)
        };
        assert!(!due(server, saturday));
        assert_eq!(
            passed_before_set(monday_nine, since, saturday),
            Some(week(2026, 11, 23))
        );
        // Nor later that week.
        let sunday = utc(2026, 11, 29, 23, 0);
        assert!(!due(
            ServerState {
                since,
                ..waiting(monday_nine, sunday)
            },
            sunday
        ));
        // The next Monday's post is due as usual.
        let monday = utc(2026, 11, 30, 9, 0);
        assert!(due(
            ServerState {
                since,
                ..waiting(monday_nine, monday)
            },
            monday
        ));
        assert_eq!(passed_before_set(monday_nine, since, monday), None);
        // A schedule set before its post time posts at it.
        let early = utc(2026, 11, 23, 8, 0);
        let since = counts_from_after_change(None, monday_nine, early);
        let nine = utc(2026, 11, 23, 9, 0);
        assert!(due(
            ServerState {
                since,
                ..waiting(monday_nine, nine)
            },
            nine
        ));
    }

    #[test]
    fn a_bot_down_at_a_post_time_the_schedule_already_had_still_catches_up() {
        let monday_nine = schedule(Weekday::Mon, at(9, 0), London);
        let since = Some(utc(2026, 11, 20, 12, 0));
        let wednesday = utc(2026, 11, 25, 12, 0);
        let server = ServerState {
            since,
            ..waiting(monday_nine, wednesday)
        };
        assert!(due(server, wednesday));
        assert_eq!(passed_before_set(monday_nine, since, wednesday), None);
    }

    #[test]
    fn a_changed_schedule_whose_time_is_now_past_does_not_post_unless_the_week_was_due() {
        let tuesday = utc(2026, 11, 24, 12, 0);
        let wednesday_six = schedule(Weekday::Wed, at(18, 0), Tz::UTC);
        let monday_nine = schedule(Weekday::Mon, at(9, 0), Tz::UTC);
        let long_ago = Some(utc(2026, 1, 1, 0, 0));
        // Wednesday's post was still to come: moved to Monday, already
        // past, it waits for next Monday.
        let since = counts_from_after_change(Some((wednesday_six, long_ago)), monday_nine, tuesday);
        assert_eq!(since, Some(tuesday));
        assert!(!due(
            ServerState {
                since,
                ..waiting(monday_nine, tuesday)
            },
            tuesday
        ));
        assert_eq!(
            passed_before_set(monday_nine, since, tuesday),
            Some(week(2026, 11, 23))
        );
        // Monday's post was due (no bulletin yet, say): moved to another
        // time already past, the week stays due.
        let monday_eight = schedule(Weekday::Mon, at(8, 0), Tz::UTC);
        for before in [long_ago, None] {
            let since =
                counts_from_after_change(Some((monday_nine, before)), monday_eight, tuesday);
            assert!(due(
                ServerState {
                    since,
                    ..waiting(monday_eight, tuesday)
                },
                tuesday
            ));
        }
        // Automatic posts off, then on again: the week whose time passed
        // meanwhile is not posted by itself.
        let off = Schedule {
            auto: false,
            ..monday_nine
        };
        let since = counts_from_after_change(Some((monday_nine, long_ago)), off, tuesday);
        let later = utc(2026, 11, 25, 12, 0);
        let since = counts_from_after_change(Some((off, since)), monday_nine, later);
        assert_eq!(since, Some(later));
        assert!(!due(
            ServerState {
                since,
                ..waiting(monday_nine, later)
            },
            later
        ));
        // An unchanged schedule (a new channel, say) keeps its instant.
        assert_eq!(
            counts_from_after_change(Some((monday_nine, long_ago)), monday_nine, later),
            long_ago
        );
    }

    #[test]
    fn a_weekend_post_carries_the_week_that_begins_the_next_monday() {
        let sunday_six = schedule(Weekday::Sun, at(18, 0), New_York);
        // Sunday 2026-11-29 18:00 EST is 23:00 UTC: the week of 30 November.
        let on_time = utc(2026, 11, 29, 23, 0);
        assert_eq!(post_time(sunday_six, week(2026, 11, 30)), on_time);
        assert_eq!(scheduled_week(sunday_six, on_time), week(2026, 11, 30));
        let server = waiting(sunday_six, on_time);
        assert_eq!(server.week, week(2026, 11, 30));
        assert_eq!(
            due_posts(&[server], on_time),
            [DuePost {
                guild: GuildId::of::<1>(),
                week: week(2026, 11, 30)
            }]
        );
        // A minute before, the schedule is still on the running week, whose
        // own Sunday post was a week ago.
        let before = utc(2026, 11, 29, 22, 59);
        assert_eq!(scheduled_week(sunday_six, before), week(2026, 11, 23));
        assert_eq!(next_post(sunday_six, before), on_time);
        assert_eq!(
            upcoming_post(sunday_six, before, None),
            Some((week(2026, 11, 30), on_time))
        );
        // Missed on Sunday, back on Monday: still that week's post.
        let monday = utc(2026, 11, 30, 15, 0);
        assert!(due(waiting(sunday_six, monday), monday));
        assert_eq!(waiting(sunday_six, monday).week, week(2026, 11, 30));
        // Saturday the same.
        let saturday = schedule(Weekday::Sat, at(9, 0), London);
        assert_eq!(
            post_time(saturday, week(2026, 11, 30)),
            utc(2026, 11, 28, 9, 0)
        );
        // A weekday post carries the week it falls in.
        let friday = schedule(Weekday::Fri, at(9, 0), London);
        assert_eq!(
            post_time(friday, week(2026, 11, 30)),
            utc(2026, 12, 4, 9, 0)
        );
        // Across the spring change: Sunday 2027-03-14 18:00 is EDT.
        assert_eq!(
            post_time(sunday_six, week(2027, 3, 15)),
            utc(2027, 3, 14, 22, 0)
        );
        assert_eq!(
            next_wake(
                &[waiting(sunday_six, utc(2027, 3, 12, 0, 0))],
                utc(2027, 3, 12, 0, 0)
            ),
            Some(utc(2027, 3, 14, 22, 0))
        );
    }

    #[test]
    fn a_weekend_post_never_posts_a_week_that_is_over_or_went_by() {
        let sunday_six = schedule(Weekday::Sun, at(18, 0), Tz::UTC);
        // The week of 23 November was due from Sunday 22 November 18:00;
        // on Sunday 29 November after 18:00 the schedule has moved on.
        let old = waiting(sunday_six, utc(2026, 11, 25, 12, 0));
        assert_eq!(old.week, week(2026, 11, 23));
        let moved_on = utc(2026, 11, 29, 18, 0);
        assert!(!due(old, moved_on));
        let over = utc(2026, 11, 30, 0, 0);
        assert!(!due(old, over));
    }

    #[test]
    fn the_awaited_bulletin_on_a_weekend_is_next_weeks() {
        let monday_nine = schedule(Weekday::Mon, at(9, 0), Tz::UTC);
        let saturday = utc(2026, 11, 28, 12, 0);
        for posted in [true, false] {
            let server = ServerState {
                posted,
                ..waiting(monday_nine, saturday)
            };
            assert_eq!(
                awaited_week(&server, saturday),
                week(2026, 11, 30),
                "{posted}"
            );
        }
        // On Tuesday an owed week is still awaited; once posted, the next.
        let tuesday = utc(2026, 11, 24, 12, 0);
        let owed = waiting(monday_nine, tuesday);
        assert_eq!(awaited_week(&owed, tuesday), week(2026, 11, 23));
        let posted = ServerState {
            posted: true,
            newest_posted: Some(week(2026, 11, 23)),
            ..owed
        };
        assert_eq!(awaited_week(&posted, tuesday), week(2026, 11, 30));
        // Before Monday's post time, the week it carries.
        let early = utc(2026, 11, 23, 8, 0);
        assert_eq!(
            awaited_week(&waiting(monday_nine, early), early),
            week(2026, 11, 23)
        );
        // A Sunday post, on the Saturday before it: the week it carries.
        let sunday_six = schedule(Weekday::Sun, at(18, 0), Tz::UTC);
        assert_eq!(
            awaited_week(&waiting(sunday_six, saturday), saturday),
            week(2026, 11, 30)
        );
    }

    #[test]
    fn fixed_offset_zones_are_named_with_a_city_to_use_instead() {
        let parsed = |name: &str| parse_zone(name).expect("a zone");
        let est = fixed_offset(parsed("EST")).expect("EST is fixed");
        assert_eq!(est.offset, -5 * 3600);
        assert_eq!(est.suggestion, Some("America/New_York"));
        let text = est.to_string();
        assert!(
            text.starts_with("`EST` is a fixed offset (UTC−05:00)"),
            "{text}"
        );
        assert!(text.contains("`America/New_York`"), "{text}");
        assert!(text.ends_with('.'), "{text}");
        let etc = fixed_offset(parsed("Etc/GMT+5")).expect("fixed");
        assert_eq!(
            (etc.offset, etc.suggestion),
            (-5 * 3600, Some("America/New_York"))
        );
        let mst = fixed_offset(parsed("MST")).expect("fixed");
        assert_eq!(mst.offset, -7 * 3600);
        let east = fixed_offset(parsed("Etc/GMT-10")).expect("fixed");
        assert_eq!(
            (east.offset, east.suggestion),
            (10 * 3600, Some("Australia/Sydney"))
        );
        assert!(east.to_string().contains("(UTC+10:00)"));
        assert_eq!(
            fixed_offset(parsed("GMT")).and_then(|z| z.suggestion),
            Some("Europe/London")
        );
        let no_city = fixed_offset(parsed("Etc/GMT+12")).expect("fixed");
        assert_eq!(no_city.suggestion, None);
        assert!(
            no_city
                .to_string()
                .ends_with("(pick it from the list as you type).")
        );
        for fine in [
            "UTC",
            "Etc/UTC",
            "America/New_York",
            "Asia/Kolkata",
            "Europe/London",
            "EST5EDT",
            "Japan",
        ] {
            assert_eq!(fixed_offset(parsed(fine)), None, "{fine}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn no_typed_text_makes_the_parsers_panic(typed in "\\PC{0,40}") {
            if let Ok(time) = parse_time(&typed) {
                prop_assert_eq!(time.second(), 0);
            }
            if let Err(refused) = parse_zone(&typed) {
                prop_assert!(refused.close.len() <= 3);
            }
            prop_assert!(zone_choices(&typed).len() <= CHOICE_LIMIT);
        }
    }
}
