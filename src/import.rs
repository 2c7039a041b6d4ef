//! Importing one bulletin: decode, parse, place in a week, store. Shared by
//! the CLI and (later) the bot's `/prayer import`; knows nothing of either.
//! The current date and time are arguments, never read from a clock here.

use chrono::{DateTime, NaiveDate, Utc};

use crate::bulletin::{Bulletin, ParseError, decode_bulletin, parse_bulletin};
use crate::storage::{ImportOutcome, Scope, StorageError, Store};
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

/// Where and when an import happens.
#[derive(Debug, Clone, Copy)]
pub struct ImportContext {
    /// Every server's bulletins, or one server's.
    pub scope: Scope,
    /// The week the admin named, if any.
    pub week: Option<PrayerWeek>,
    /// Replace a week's bulletin even if it has been posted.
    pub force: bool,
    pub today: NaiveDate,
    pub now: DateTime<Utc>,
}

/// Imports the bulletin in `bytes`, named `source`, into the week the admin
/// named, else the week the rule in [`place_bulletin`] picks. Either all of
/// it is stored, in one transaction, or none of it.
#[tracing::instrument(skip(store, bytes), fields(bytes = bytes.len()))]
pub async fn import_bulletin(
    store: &Store,
    source: &str,
    bytes: &[u8],
    context: &ImportContext,
) -> Result<Imported, ImportError> {
    let text = decode_bulletin(bytes)?;
    let bulletin = parse_bulletin(&text)?;
    let placement = place_bulletin(context.week, bulletin.date, context.today);
    let outcome = store
        .import(
            context.scope,
            &bulletin,
            &bulletin.fingerprint(),
            placement,
            context.force,
            source,
            context.now,
        )
        .await?;
    Ok(Imported { bulletin, outcome })
}
