//! Prayer weeks and which week a bulletin belongs to. Pure: the current date
//! is always an argument, never read from a clock here.

use std::fmt;

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// A prayer week, named by its Monday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PrayerWeek(NaiveDate);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeekError {
    #[error("`{0}` is not a date; write a week as YYYY-MM-DD, e.g. 2026-11-23")]
    NotADate(String),
    #[error(
        "{date} is a {weekday}; a prayer week is named by its Monday, e.g. {before} or {after}"
    )]
    NotAMonday {
        date: NaiveDate,
        weekday: String,
        before: PrayerWeek,
        after: PrayerWeek,
    },
}

impl PrayerWeek {
    /// The week that `monday` names, refusing any other day: a week named by
    /// a Sunday could mean the week before or the week after.
    pub fn from_monday(date: NaiveDate) -> Result<Self, WeekError> {
        if date.weekday() == Weekday::Mon {
            Ok(Self(date))
        } else {
            Err(WeekError::NotAMonday {
                date,
                weekday: date.format("%A").to_string(),
                before: Self::containing(date),
                after: Self::on_or_after(date),
            })
        }
    }

    /// The week that holds `date`.
    pub fn containing(date: NaiveDate) -> Self {
        let back = date.weekday().num_days_from_monday();
        Self(date - Days::new(u64::from(back)))
    }

    /// The week that starts on the first Monday on or after `date`.
    pub fn on_or_after(date: NaiveDate) -> Self {
        let ahead = (7 - date.weekday().num_days_from_monday()) % 7;
        Self(date + Days::new(u64::from(ahead)))
    }

    pub fn monday(self) -> NaiveDate {
        self.0
    }

    pub fn next(self) -> Self {
        Self(self.0 + Days::new(7))
    }

    /// The week `count` weeks before this one (the earliest representable
    /// week if that is before it).
    pub fn weeks_before(self, count: u32) -> Self {
        Self(
            self.0
                .checked_sub_days(Days::new(7 * u64::from(count)))
                .unwrap_or(self.0),
        )
    }
}

impl std::str::FromStr for PrayerWeek {
    type Err = WeekError;

    /// Reads exactly `YYYY-MM-DD`: four digits of year, two of month and
    /// two of day. chrono alone would take `26-11-23` as the year 26.
    fn from_str(text: &str) -> Result<Self, WeekError> {
        let trimmed = text.trim();
        let digits_at = |range: std::ops::Range<usize>| {
            trimmed
                .get(range)
                .is_some_and(|part| part.bytes().all(|b| b.is_ascii_digit()))
        };
        let shaped = trimmed.len() == 10
            && digits_at(0..4)
            && trimmed.get(4..5) == Some("-")
            && digits_at(5..7)
            && trimmed.get(7..8) == Some("-")
            && digits_at(8..10);
        let date = shaped
            .then(|| NaiveDate::parse_from_str(trimmed, "%Y-%m-%d").ok())
            .flatten()
            .ok_or_else(|| WeekError::NotADate(text.to_owned()))?;
        Self::from_monday(date)
    }
}

impl fmt::Display for PrayerWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

/// Where a bulletin is to go, before the database says which weeks are
/// taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// This week and no other: named by the admin, or by the bulletin's date.
    Exactly(PrayerWeek),
    /// The first week from this one on that has no bulletin yet.
    FirstFreeFrom(PrayerWeek),
}

/// The week rule: a week the admin names wins; a dated bulletin belongs to
/// the first Monday on or after its date (IJM dates its bulletins on the
/// Saturday before their week); an undated one to the coming Monday (today,
/// if today is Monday) or the first free week after it.
pub fn place_bulletin(
    named: Option<PrayerWeek>,
    dated: Option<NaiveDate>,
    today: NaiveDate,
) -> Placement {
    match (named, dated) {
        (Some(week), _) => Placement::Exactly(week),
        (None, Some(date)) => Placement::Exactly(PrayerWeek::on_or_after(date)),
        (None, None) => Placement::FirstFreeFrom(PrayerWeek::on_or_after(today)),
    }
}

/// The first week from `start` on that is not taken. `taken` must be sorted.
pub fn first_free_week(start: PrayerWeek, taken: &[PrayerWeek]) -> PrayerWeek {
    let mut week = start;
    for &t in taken.iter().skip_while(|&&t| t < start) {
        if t != week {
            break;
        }
        week = week.next();
    }
    week
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
    }

    fn week(y: i32, m: u32, d: u32) -> PrayerWeek {
        PrayerWeek::from_monday(day(y, m, d)).expect("a Monday")
    }

    #[test]
    fn a_dated_bulletin_belongs_to_the_first_monday_on_or_after_its_date() {
        // Saturday 27 April 2019 → Monday 29 April.
        assert_eq!(
            place_bulletin(None, Some(day(2019, 4, 27)), day(2026, 1, 1)),
            Placement::Exactly(week(2019, 4, 29))
        );
        // A bulletin dated on a Monday is for that very week.
        assert_eq!(
            place_bulletin(None, Some(day(2019, 4, 29)), day(2026, 1, 1)),
            Placement::Exactly(week(2019, 4, 29))
        );
    }

    #[test]
    fn a_named_week_wins_over_the_bulletins_date() {
        assert_eq!(
            place_bulletin(
                Some(week(2026, 11, 30)),
                Some(day(2019, 4, 27)),
                day(2026, 1, 1)
            ),
            Placement::Exactly(week(2026, 11, 30))
        );
    }

    #[test]
    fn an_undated_bulletin_goes_to_the_coming_monday_or_today_if_monday() {
        // Sunday 22 November 2026 → Monday 23rd.
        assert_eq!(
            place_bulletin(None, None, day(2026, 11, 22)),
            Placement::FirstFreeFrom(week(2026, 11, 23))
        );
        assert_eq!(
            place_bulletin(None, None, day(2026, 11, 23)),
            Placement::FirstFreeFrom(week(2026, 11, 23))
        );
    }

    #[test]
    fn undated_bulletins_fill_the_first_weeks_that_have_none() {
        let start = week(2026, 11, 23);
        assert_eq!(first_free_week(start, &[]), start);
        assert_eq!(
            first_free_week(start, &[week(2026, 11, 16), start, week(2026, 11, 30)]),
            week(2026, 12, 7)
        );
        assert_eq!(first_free_week(start, &[week(2026, 11, 30)]), start);
    }

    #[test]
    fn a_week_is_named_by_its_monday_and_nothing_else() {
        assert_eq!("2026-11-23".parse::<PrayerWeek>(), Ok(week(2026, 11, 23)));
        let error = "2026-11-29".parse::<PrayerWeek>().expect_err("a Sunday");
        assert_eq!(
            error.to_string(),
            "2026-11-29 is a Sunday; a prayer week is named by its Monday, e.g. 2026-11-23 or 2026-11-30"
        );
        assert!(matches!(
            "next week".parse::<PrayerWeek>(),
            Err(WeekError::NotADate(_))
        ));
    }

    #[test]
    fn a_week_is_written_with_a_four_digit_year_and_two_digit_month_and_day() {
        assert_eq!(" 2026-11-23 ".parse::<PrayerWeek>(), Ok(week(2026, 11, 23)));
        for bad in [
            "26-11-23",
            "2026-1-23",
            "2026-11-2",
            "+2026-11-23",
            "20261-11-23",
            "2026/11/23",
            "2026-11-23x",
            "2026-02-30",
        ] {
            assert_eq!(
                bad.parse::<PrayerWeek>().map_err(|e| e.to_string()),
                Err(format!(
                    "`{bad}` is not a date; write a week as YYYY-MM-DD, e.g. 2026-11-23"
                )),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_week_containing_a_day_starts_on_the_monday_before_it() {
        assert_eq!(
            PrayerWeek::containing(day(2026, 11, 22)),
            week(2026, 11, 16)
        );
        assert_eq!(
            PrayerWeek::containing(day(2026, 11, 23)),
            week(2026, 11, 23)
        );
    }
}
