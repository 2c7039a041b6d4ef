//! Finding the week a person asks for: a week they name, else the current
//! prayer week, else the next week that has a bulletin. Shared by the CLI's
//! `week` and the bot's `/prayer week` and `/prayer post`.

use chrono::NaiveDate;

use crate::bulletins::week::PrayerWeek;
use crate::storage::{Scope, StorageError, Store, StoredWeek};

/// How the week shown relates to the one asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeekChoice {
    /// The week the person named.
    Named,
    /// The current prayer week.
    Current,
    /// The current week has no bulletin; this is the next that does.
    Next,
}

impl WeekChoice {
    /// How a reply describes the week it shows.
    pub fn describe(self, week: PrayerWeek, current: PrayerWeek) -> &'static str {
        match self {
            WeekChoice::Current => "this week",
            WeekChoice::Next => "the current week has no bulletin; this is the next one that does",
            WeekChoice::Named if week == current => "this week",
            WeekChoice::Named if week > current => "a coming week",
            WeekChoice::Named => "a past week",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FindWeekError {
    #[error("no bulletin for the week of {0}")]
    NoBulletinFor(PrayerWeek),
    #[error("no bulletin for the week of {0} or any later week")]
    NoBulletinFrom(PrayerWeek),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The week asked for (see the module docs), without reading its bulletin:
/// a named week is taken as named, even if it has none.
pub async fn choose_week(
    store: &Store,
    scope: Scope,
    named: Option<PrayerWeek>,
    today: NaiveDate,
) -> Result<(PrayerWeek, WeekChoice), FindWeekError> {
    let current = PrayerWeek::containing(today);
    Ok(match named {
        Some(week) => (week, WeekChoice::Named),
        None => match store.first_week_with_bulletin(scope, current).await? {
            Some(week) if week == current => (week, WeekChoice::Current),
            Some(week) => (week, WeekChoice::Next),
            None => return Err(FindWeekError::NoBulletinFrom(current)),
        },
    })
}

/// The bulletin `scope` sees for the week asked for (see the module docs).
pub async fn find_week(
    store: &Store,
    scope: Scope,
    named: Option<PrayerWeek>,
    today: NaiveDate,
) -> Result<(StoredWeek, WeekChoice), FindWeekError> {
    let (week, choice) = choose_week(store, scope, named, today).await?;
    let stored = store
        .shown_week(scope, week)
        .await?
        .ok_or(FindWeekError::NoBulletinFor(week))?;
    Ok((stored, choice))
}
