//! A press of one of the bot's buttons, as a use-case: **I'll pray** and
//! **Prayed** under a request, their **Undo**, and forget-me's confirm.
//! Decided here from the store; the Discord handler only reads the press
//! and sends the answer.

use chrono::{DateTime, Utc};

use crate::ids::{GuildId, MessageId, RequestId, UserId};
use crate::members::requests::forget_requests;
use crate::posting::Messenger;
use crate::posting::buttons::{Button, PrayerAction};
use crate::storage::{GuildRequest, PostedIn, StorageError, Store};
use crate::tracking::{Source, report};

/// What the member sees after a press.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PressAnswer {
    pub text: String,
    /// A button under the answer (Undo), if any.
    pub button: Option<(Button, &'static str)>,
    /// Whether the answer replaces the message pressed (an Undo, a
    /// confirmation) rather than coming as a new private message.
    pub replaces: bool,
}

/// The mark a button leaves.
pub fn source(action: PrayerAction) -> Source {
    match action {
        PrayerAction::Commit => Source::Commit,
        PrayerAction::Prayed => Source::Prayed,
    }
}

/// A press: who pressed which button on which message, where and when.
#[derive(Debug, Clone, Copy)]
pub struct Press {
    pub guild: GuildId,
    pub user: UserId,
    pub message: MessageId,
    pub button: Button,
    pub now: DateTime<Utc>,
}

/// Records what a member pressed, and words the answer.
pub async fn press(
    store: &Store,
    messenger: &impl Messenger,
    press: Press,
) -> Result<PressAnswer, StorageError> {
    let Press { guild, user, .. } = press;
    let replacing = |text: String| PressAnswer {
        text,
        button: None,
        replaces: true,
    };
    Ok(match press.button {
        Button::Request(action, request) => mark(store, &press, action, request).await?,
        Button::Undo(action, request) => {
            replacing(match store.guild_request(guild, request).await? {
                None => report::GONE.to_owned(),
                Some(found) => {
                    let undone = store.unmark(guild, request, user, source(action)).await?;
                    report::undo_answer(action, &name(&found), undone)
                }
            })
        }
        Button::Nudged(_, request) => {
            // Only the member the reminder was for, about a commitment of
            // theirs: a made-up custom id records nothing.
            let committed = store
                .marks(guild, &[request])
                .await?
                .iter()
                .any(|m| m.user == user && m.source == Source::Commit);
            if committed {
                mark(store, &press, PrayerAction::Prayed, request).await?
            } else {
                PressAnswer {
                    text: report::NOT_YOUR_REMINDER.to_owned(),
                    button: None,
                    replaces: false,
                }
            }
        }
        Button::ForgetMe => {
            let mut forgotten = store.forget_member(guild, user).await?;
            forgotten.requests = forget_requests(store, messenger, guild, user).await?;
            replacing(report::forgotten_text(forgotten))
        }
    })
}

fn name(found: &GuildRequest) -> String {
    report::request_name(&found.region, &found.text)
}

/// **I'll pray** or **Prayed** under a request.
async fn mark(
    store: &Store,
    press: &Press,
    action: PrayerAction,
    request: RequestId,
) -> Result<PressAnswer, StorageError> {
    let Press {
        guild,
        user,
        message,
        now,
        ..
    } = *press;
    // A press on one of this server's posts must name that post's request;
    // a post whose bulletin was replaced names none.
    let found = match store.posted_in(guild, message).await? {
        Some(PostedIn::Request(id)) if id == request => store.guild_request(guild, request).await?,
        Some(_) => None,
        None => store.guild_request(guild, request).await?,
    };
    let Some(found) = found else {
        return Ok(PressAnswer {
            text: report::GONE.to_owned(),
            button: None,
            replaces: false,
        });
    };
    let new = store
        .mark(guild, request, user, source(action), now)
        .await?;
    let kept = action == PrayerAction::Prayed
        && store
            .marks(guild, &[request])
            .await?
            .iter()
            .any(|m| m.user == user && m.source == Source::Commit);
    Ok(PressAnswer {
        text: report::press_answer(action, &name(&found), new, kept),
        button: Some((Button::Undo(action, request), "Undo")),
        replaces: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posting::scripted::Scripted;
    use crate::storage::fixtures::{GUILD, now, posted, store};

    const MEMBER: UserId = UserId::of::<5>();

    fn pressed(message: MessageId, button: Button) -> Press {
        Press {
            guild: GUILD,
            user: MEMBER,
            message,
            button,
            now: now(),
        }
    }

    #[tokio::test]
    async fn a_press_records_a_mark_and_undo_takes_it_back() -> Result<(), StorageError> {
        let store = store().await;
        let requests = posted(&store).await?; // the first request's message is 500
        let message = MessageId::of::<500>();
        let pray = Button::Request(PrayerAction::Commit, requests[0]);
        let answer = press(&store, &Scripted::default(), pressed(message, pray)).await?;
        assert_eq!(
            answer.button,
            Some((Button::Undo(PrayerAction::Commit, requests[0]), "Undo"))
        );
        assert!(!answer.replaces);
        assert_eq!(store.marks(GUILD, &requests[..1]).await?.len(), 1);
        let undo = Button::Undo(PrayerAction::Commit, requests[0]);
        let answer = press(&store, &Scripted::default(), pressed(message, undo)).await?;
        assert!(answer.replaces && answer.button.is_none(), "{answer:?}");
        assert!(store.marks(GUILD, &requests[..1]).await?.is_empty());
        Ok(())
    }

    #[tokio::test]
    async fn a_press_naming_another_posts_request_records_nothing() -> Result<(), StorageError> {
        let store = store().await;
        let requests = posted(&store).await?;
        // Message 500 carries the first request; a button naming the
        // second there is forged or stale.
        let forged = Button::Request(PrayerAction::Prayed, requests[1]);
        let answer = press(
            &store,
            &Scripted::default(),
            pressed(MessageId::of::<500>(), forged),
        )
        .await?;
        assert_eq!(answer.text, report::GONE);
        assert!(store.marks(GUILD, &requests).await?.is_empty());
        // A request the store does not hold (any more) records nothing.
        let gone = Button::Request(PrayerAction::Commit, RequestId::of::<999_999>());
        let answer = press(
            &store,
            &Scripted::default(),
            pressed(MessageId::of::<9>(), gone),
        )
        .await?;
        assert_eq!(answer.text, report::GONE);
        assert!(store.marks(GUILD, &requests).await?.is_empty());
        Ok(())
    }
}
