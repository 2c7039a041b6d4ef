//! Importing one bulletin: decode, parse, place in a week, store. Shared by
//! the CLI and (later) the bot's `/prayer import`; knows nothing of either.
//! The current date and time are arguments, never read from a clock here.

use chrono::{DateTime, NaiveDate, Utc};

use crate::bulletin::{Bulletin, ParseError, decode_bulletin, parse_bulletin};
use crate::storage::{ImportOutcome, StorageError, Store};
use crate::week::{PrayerWeek, place_bulletin};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is not a bulletin: the person importing it can fix that.
    #[error("{0}")]
    NotABulletin(#[from] ParseError),
    /// Something on our side failed; nothing was stored.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What was imported and what storing it did.
#[derive(Debug)]
pub struct Imported {
    pub bulletin: Bulletin,
    pub outcome: ImportOutcome,
}

/// Imports the bulletin in `bytes`, named `source`, into `week` if given,
/// else the week the rule in [`place_bulletin`] picks. Either all of it is
/// stored, in one transaction, or none of it.
#[tracing::instrument(skip(store, bytes), fields(bytes = bytes.len()))]
pub async fn import_bulletin(
    store: &Store,
    source: &str,
    bytes: &[u8],
    week: Option<PrayerWeek>,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Imported, ImportError> {
    let text = decode_bulletin(bytes)?;
    let bulletin = parse_bulletin(&text)?;
    let placement = place_bulletin(week, bulletin.date, today);
    let outcome = store
        .import(&bulletin, &bulletin.fingerprint(), placement, source, now)
        .await?;
    Ok(Imported { bulletin, outcome })
}
