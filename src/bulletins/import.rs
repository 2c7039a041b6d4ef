//! Importing one bulletin: decode, parse, place in a week, store; and every
//! outcome in words, once, for the CLI and `/prayer import` alike.
//! The current date and time are arguments, never read from a clock here.

use chrono::{DateTime, NaiveDate, Utc};

use crate::bulletins::parse::{Bulletin, ParseError, decode_bulletin, parse_bulletin};
use crate::bulletins::week::{PrayerWeek, place_bulletin};
use crate::storage::{BulletinImport, Held, ImportOutcome, Scope, StorageError, Store};

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
    let import = BulletinImport {
        bulletin: &bulletin,
        fingerprint: &bulletin.fingerprint(),
        placement,
        named: context.week.is_some(),
        force: context.force,
        source,
        now: context.now,
    };
    let outcome = store.import_to(context.scope, &import).await?;
    Ok(Imported { bulletin, outcome })
}

/// Who reads an import's outcome, and the words for the ways they have.
#[derive(Debug, Clone, Copy)]
pub struct Audience {
    /// How they name a week: `--week` on the command line, `week:` in
    /// `/prayer import`.
    pub week_option: &'static str,
    /// Where a week was posted, as they read it (" here" in a server).
    pub posted_where: &'static str,
    /// What they can do about a week already posted.
    pub when_posted: &'static str,
}

/// The command line.
pub const CLI: Audience = Audience {
    week_option: "--week",
    posted_where: "",
    when_posted: "--force replaces it",
};

/// `/prayer import` in a server.
pub const DISCORD: Audience = Audience {
    week_option: "week:",
    posted_where: " here",
    when_posted: "`/prayer week` would no longer match what the channel shows. To correct one request there, use `/prayer correct`; to take the week's posts down and post again, `/prayer unpost`; to use this bulletin for another week, import it again with `week:` set to a week not yet posted",
};

/// What an import did, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Added,
    Moved,
    Unchanged,
    Refused,
}

/// Every import outcome in words, once for the CLI and `/prayer import`
/// alike: the verdict, and a sentence. `summary` names the bulletin (its
/// requests and regions), as the caller shows it.
pub fn outcome_words(outcome: &ImportOutcome, summary: &str, to: Audience) -> (Verdict, String) {
    let week_option = to.week_option;
    match outcome {
        ImportOutcome::Added { week, replaced } => {
            let replacing = replaced
                .as_ref()
                .map(|old| format!(", replacing “{old}”"))
                .unwrap_or_default();
            (
                Verdict::Added,
                format!("{summary} for the week of {week}{replacing}."),
            )
        }
        ImportOutcome::AlreadyPosted { week } => (
            Verdict::Refused,
            format!(
                "The week of {week} has already been posted{} with another bulletin, so this one was not imported: {}. Nothing changed.",
                to.posted_where, to.when_posted
            ),
        ),
        ImportOutcome::AlreadyImported { week } => (
            Verdict::Unchanged,
            format!(
                "This bulletin is already imported, for the week of {week}. Nothing was added; to move it to another week not yet posted, import it again with `{week_option}` set to that week."
            ),
        ),
        ImportOutcome::Moved { from, to, replaced } => (
            Verdict::Moved,
            format!(
                "This bulletin was imported for the week of {from}; it is now the bulletin of the week of {to}{}, and the week of {from} has none.",
                replaced
                    .as_ref()
                    .map(|old| format!(", replacing “{old}”"))
                    .unwrap_or_default()
            ),
        ),
        ImportOutcome::HeldElsewhere { week, named, held } => {
            (Verdict::Refused, held_elsewhere(*week, *named, *held))
        }
    }
}

fn held_elsewhere(week: PrayerWeek, named: PrayerWeek, held: Held) -> String {
    match held {
        Held::Posted => format!(
            "This bulletin is already imported, for the week of {week}, which has been posted, so it was not stored for the week of {named} too: its requests would be posted twice. Nothing changed. To fill the week of {named}, import the bulletin meant for it."
        ),
        Held::Shared => format!(
            "This bulletin is already imported for every server, for the week of {week}, so it was not stored for the week of {named} too: its requests would be posted twice. Nothing changed. Whoever runs the bot can move it with `prayer-bot import FILE --week {named}` while the week of {week} has not been posted."
        ),
    }
}
