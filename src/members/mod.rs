//! Members' own requests (`/prayer request add|withdraw`): the rules a
//! request must meet, the weeks it runs, how its author is shown and
//! recognised, and (in [`requests`]) the use-cases that store, post and
//! withdraw one. A member's request is stored as a request like a
//! bulletin's, so buttons, 🙏, counts, `who`, `stats`, `mine`, `/praise`
//! and forget-me work on it unchanged.
//!
//! This file is pure: no I/O, no clock, no Discord.

pub mod requests;

use chrono::NaiveDate;

use crate::bulletins::week::PrayerWeek;
use crate::ids::{GuildId, UserId};
use crate::posting::render::discord_len;

/// The longest request taken, in characters as Discord counts them: one
/// request is read in a channel, and this keeps it one message.
pub const TEXT_LIMIT: usize = 1000;

/// How many requests one member may add in one week of one server, counting
/// withdrawn ones: enough for a family's needs, too few to flood a channel.
pub const PER_WEEK_LIMIT: usize = 3;

/// How many prayer weeks one request may run, this one included.
pub const MAX_WEEKS: u32 = 4;

/// The region of a request given none: the group's own.
pub const GROUP_REGION: &str = "Our group";

/// The title of a week that holds members' requests and no bulletin.
pub const GROUP_TITLE: &str = "Our group's requests";

/// Why a request was not added. Each reads as written, to the member;
/// nothing was stored or posted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("Write the request in `text`. Nothing was added.")]
    Empty,
    #[error(
        "A request is at most {TEXT_LIMIT} characters; this one is {0}. Shorten it and try again. Nothing was added."
    )]
    TooLong(usize),
    #[error(
        "A request cannot mention @everyone, @here or a role: the bot never pings a whole group for one request. Take the mention out and try again. Nothing was added."
    )]
    MassMention,
    #[error(
        "`until` is a date as YYYY-MM-DD, such as {example}; “{typed}” is not. Nothing was added."
    )]
    BadDate { typed: String, example: NaiveDate },
    #[error(
        "`until` ({until}) has already passed; leave it out for this week only. Nothing was added."
    )]
    UntilPassed { until: NaiveDate },
    #[error(
        "A request runs at most {MAX_WEEKS} weeks, this one included: until {last} at the latest. Nothing was added."
    )]
    UntilTooFar { last: NaiveDate },
    #[error(
        "You have added {PER_WEEK_LIMIT} requests this week, the most one member may (withdrawn ones count too). Add more next week, or pray with the group for these. Nothing was added."
    )]
    TooMany,
}

/// A request's text, trimmed, once it meets the rules: not empty, at most
/// [`TEXT_LIMIT`] characters, and no mention that would read as a ping of
/// many (posts ping no one, but `@everyone` in a request still looks like
/// one, and a role mention names a group).
pub fn checked_text(text: &str) -> Result<&str, RequestError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(RequestError::Empty);
    }
    let length = discord_len(text);
    if length > TEXT_LIMIT {
        return Err(RequestError::TooLong(length));
    }
    let lower = text.to_lowercase();
    if lower.contains("@everyone") || lower.contains("@here") || text.contains("<@&") {
        return Err(RequestError::MassMention);
    }
    Ok(text)
}

/// The prayer weeks a request added `today` runs: this week, through the
/// week holding `until` (at most [`MAX_WEEKS`] in all).
pub fn weeks(today: NaiveDate, until: Option<&str>) -> Result<Vec<PrayerWeek>, RequestError> {
    let first = PrayerWeek::containing(today);
    let Some(typed) = until.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(vec![first]);
    };
    let until =
        NaiveDate::parse_from_str(typed, "%Y-%m-%d").map_err(|_| RequestError::BadDate {
            typed: crate::posting::render::shown_typed(typed),
            example: first.next().monday(),
        })?;
    if until < today {
        return Err(RequestError::UntilPassed { until });
    }
    let mut weeks = vec![first];
    let last = PrayerWeek::containing(until);
    while weeks.last().is_some_and(|w| *w < last) {
        if weeks.len() >= MAX_WEEKS as usize {
            let last_allowed = first.monday() + chrono::Days::new(u64::from(MAX_WEEKS) * 7 - 1);
            return Err(RequestError::UntilTooFar { last: last_allowed });
        }
        let next = weeks.last().map(|w| w.next()).unwrap_or(first);
        weeks.push(next);
    }
    Ok(weeks)
}

/// Who asked, as a request's post shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    Named(UserId),
    Anonymous,
}

/// A member's request as posted and listed: the text, then who asked.
/// The mention shows the author's name and pings no one (posts allow no
/// mentions).
pub fn labelled(text: &str, author: Author) -> String {
    match author {
        Author::Named(user) => format!("{text}\n— asked by <@{user}>"),
        Author::Anonymous => format!("{text}\n— asked by a member of the group"),
    }
}

/// The text a withdrawn request's posts are edited to.
pub fn withdrawn_text(by_admin: bool) -> &'static str {
    if by_admin {
        "*This request was removed by an admin.*"
    } else {
        "*This request was withdrawn by the member who asked.*"
    }
}

/// What recognises a request's author without naming them: SHA-256 of the
/// request's own random salt, the server and the member. Only someone who
/// holds the database and tries each member of the server in turn could
/// tell who asked.
pub fn author_hash(salt: &[u8], guild: GuildId, user: UserId) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"prayer-bot member request v1\0");
    hasher.update((salt.len() as u64).to_be_bytes());
    hasher.update(salt);
    hasher.update(guild.get().to_be_bytes());
    hasher.update(user.get().to_be_bytes());
    hasher.finalize().into()
}

/// How a stored request names its author: openly, or only by hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAuthor {
    pub author: Option<UserId>,
    pub salt: Vec<u8>,
    pub hash: Vec<u8>,
}

impl StoredAuthor {
    /// Whether `user` asked it.
    pub fn is(&self, guild: GuildId, user: UserId) -> bool {
        self.author == Some(user) || author_hash(&self.salt, guild, user).as_slice() == self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a date")
    }

    #[test]
    fn a_request_is_trimmed_and_must_fit_and_not_ping_a_crowd() {
        assert_eq!(checked_text("  Pray for Ana  "), Ok("Pray for Ana"));
        assert_eq!(checked_text("   "), Err(RequestError::Empty));
        assert_eq!(
            checked_text(&"a".repeat(5000)),
            Err(RequestError::TooLong(5000))
        );
        assert_eq!(
            checked_text(&"a".repeat(TEXT_LIMIT)).map(str::len),
            Ok(1000)
        );
        for crowd in ["hi @everyone", "@Here now", "for <@&123> team"] {
            assert_eq!(
                checked_text(crowd),
                Err(RequestError::MassMention),
                "{crowd}"
            );
        }
        assert!(checked_text("for <@123>, my brother").is_ok());
    }

    #[test]
    fn until_runs_through_its_week_and_no_more_than_four_weeks() {
        let thursday = day(2026, 12, 10);
        let this = PrayerWeek::containing(thursday);
        assert_eq!(weeks(thursday, None), Ok(vec![this]));
        assert_eq!(weeks(thursday, Some("2026-12-13")), Ok(vec![this]));
        assert_eq!(
            weeks(thursday, Some("2026-12-14")),
            Ok(vec![this, this.next()])
        );
        let four = weeks(thursday, Some("2027-01-03")).expect("four weeks");
        assert_eq!(four.len(), 4);
        assert_eq!(
            weeks(thursday, Some("2027-01-04")),
            Err(RequestError::UntilTooFar {
                last: day(2027, 1, 3)
            })
        );
        assert_eq!(
            weeks(thursday, Some("2026-12-09")),
            Err(RequestError::UntilPassed {
                until: day(2026, 12, 9)
            })
        );
        assert!(matches!(
            weeks(thursday, Some("next week")),
            Err(RequestError::BadDate { .. })
        ));
        assert!(matches!(
            weeks(thursday, Some("9999-99-99")),
            Err(RequestError::BadDate { .. })
        ));
    }

    #[test]
    fn an_anonymous_author_is_known_only_by_hash() {
        let guild = GuildId::of::<5>();
        let (ana, ben) = (UserId::of::<11>(), UserId::of::<12>());
        let stored = StoredAuthor {
            author: None,
            salt: b"salt".to_vec(),
            hash: author_hash(b"salt", guild, ana).to_vec(),
        };
        assert!(stored.is(guild, ana));
        assert!(!stored.is(guild, ben));
        assert!(!stored.is(GuildId::of::<6>(), ana));
        assert_ne!(
            author_hash(b"salt", guild, ana),
            author_hash(b"other", guild, ana)
        );
        assert!(labelled("Pray", Author::Anonymous).ends_with("a member of the group"));
        assert!(!labelled("Pray", Author::Anonymous).contains("11"));
        assert!(labelled("Pray", Author::Named(ana)).ends_with("<@11>"));
    }
}
