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
    pub fn new(message: impl Into<String>) -> Self {
        UserError(message.into())
    }
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
