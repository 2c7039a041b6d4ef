//! The one error a command (or a button) can end with: the person's own
//! mistake, shown to them in their words, or anything else, logged and
//! answered with a short apology. Replaces downcasting a boxed error.

use poise::serenity_prelude as serenity;

use crate::storage::StorageError;

/// A problem the person using a command caused or can fix; shown to them
/// as written (only to them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UserError(String);

impl UserError {
    /// The message as the person reads it: sentences (see [`as_sentences`]),
    /// however the parts it was built from were worded.
    pub fn new(message: impl Into<String>) -> Self {
        UserError(as_sentences(&message.into()))
    }
}

/// `text` as sentences: it starts with a capital and ends with a full stop,
/// and a sentence glued before `Nothing was …` gets its full stop. Domain
/// errors read as the end of a sentence (`that is not a time of day; …`),
/// so a reply built from one needs this; a reply already in sentences is
/// left as it is.
pub fn as_sentences(text: &str) -> String {
    let text = text.trim();
    let mut out = String::with_capacity(text.len() + 2);
    let mut chars = text.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_uppercase());
        out.push_str(chars.as_str());
    }
    for closing in [" Nothing was ", " Nothing is "] {
        let mut from = 0;
        while let Some(at) = out[from..].find(closing).map(|i| i + from) {
            let before = out[..at].chars().next_back();
            if before.is_some_and(|c| !matches!(c, '.' | '!' | '?' | ':')) {
                out.insert(at, '.');
                from = at + 1 + closing.len();
            } else {
                from = at + closing.len();
            }
        }
    }
    if out
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() || matches!(c, ')' | '”' | '"' | '’'))
    {
        out.push('.');
    }
    out
}

/// How a command ends when it does not succeed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Shown to the person, as written.
    #[error(transparent)]
    User(#[from] UserError),
    /// Logged; the person is told something went wrong on our side.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StorageError> for CommandError {
    fn from(error: StorageError) -> Self {
        CommandError::Internal(error.into())
    }
}

impl From<crate::tracking::praise::PraiseError> for CommandError {
    fn from(error: crate::tracking::praise::PraiseError) -> Self {
        use crate::tracking::praise::PraiseError;
        match error {
            PraiseError::Storage(error) => error.into(),
            said => UserError::new(said.to_string()).into(),
        }
    }
}

impl From<crate::posting::SendError> for CommandError {
    fn from(error: crate::posting::SendError) -> Self {
        CommandError::Internal(error.into())
    }
}

impl From<serenity::Error> for CommandError {
    fn from(error: serenity::Error) -> Self {
        CommandError::Internal(error.into())
    }
}

/// What the person is told when the fault is ours.
pub const APOLOGY: &str = "Sorry, something went wrong on my side and nothing was changed. The bot's operator can see what in its log.";

impl CommandError {
    /// The reply the person sees; an internal error is logged here, once.
    pub fn reply_text(&self, command: &str) -> String {
        match self {
            CommandError::User(error) => error.to_string(),
            CommandError::Internal(error) => {
                tracing::error!(command, error = %format!("{error:#}"), "command failed");
                APOLOGY.to_owned()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_built_from_a_domain_error_reads_as_sentences() {
        assert_eq!(
            UserError::new(
                "that is not a time of day; write it as HH:MM (9:00, 21:30) or with am/pm (9am, 9:30 pm) Nothing was changed."
            )
            .to_string(),
            "That is not a time of day; write it as HH:MM (9:00, 21:30) or with am/pm (9am, 9:30 pm). Nothing was changed."
        );
        assert_eq!(as_sentences("the file is empty"), "The file is empty.");
        assert_eq!(
            as_sentences("“Mars/Olympus” is not a time zone I know. Nothing was changed."),
            "“Mars/Olympus” is not a time zone I know. Nothing was changed."
        );
        assert_eq!(
            as_sentences("`/prayer post` first."),
            "`/prayer post` first."
        );
        assert_eq!(as_sentences("é done!"), "É done!");
        assert_eq!(as_sentences(""), "");
        // Already sentences: unchanged.
        let written = "There is no bulletin for that week. Nothing was changed.";
        assert_eq!(as_sentences(written), written);
    }

    #[test]
    fn a_users_mistake_is_shown_as_written_and_our_faults_as_an_apology() {
        let mistake: CommandError = UserError::new("There is no bulletin for that week.").into();
        assert_eq!(
            mistake.reply_text("prayer week"),
            "There is no bulletin for that week."
        );
        let fault: CommandError = StorageError::Corrupt("week `x`".into()).into();
        assert_eq!(fault.reply_text("prayer week"), APOLOGY);
    }
}
