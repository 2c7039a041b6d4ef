//! `/praise` as a use-case: check the note, record the answered prayer,
//! choose whom to tell (those who prayed or committed, not the author, not
//! those who turned notices off), post the praise with their mentions under
//! the request's own post, and withdraw the record if Discord refuses, so
//! nothing is half-done. The Discord handler only reads the options and
//! replies with what this returns.

use chrono::{DateTime, Utc};

use crate::bulletins::week::PrayerWeek;
use crate::ids::{ChannelId, GuildId, UserId};
use crate::posting::{Messenger, OutgoingMessage, SendError, stable_nonce};
use crate::storage::{GuildRequest, PraiseOutcome, StorageError, Store};
use crate::tracking::mentions::mention_messages;
use crate::tracking::{self, report};

/// The longest praise note taken (Discord's own limit on an option is
/// 6,000; a note is read in a channel, not a document).
pub const NOTE_LIMIT: usize = 1500;

/// A praise from `author` in `guild`, with its note.
#[derive(Debug, Clone, Copy)]
pub struct Praise<'a> {
    pub guild: GuildId,
    pub author: UserId,
    pub note: &'a str,
    pub now: DateTime<Utc>,
}

/// Why a praise was not posted. Every one but `Storage` is the member's
/// to read, as written; nothing was recorded.
#[derive(Debug, thiserror::Error)]
pub enum PraiseError {
    #[error("A praise note is 1 to {NOTE_LIMIT} characters; this one is {0}. Nothing was posted.")]
    NoteLength(usize),
    #[error(
        "That item gives thanks and asks for no prayer, so no one prayed for it to be told. Share your praise without `request` instead. Nothing was posted."
    )]
    NotPrayable,
    #[error("This request was already marked answered by {by} on <t:{at}:D>. Nothing was posted.")]
    AlreadyAnswered { by: String, at: i64 },
    #[error(
        "I could not post the praise in <#{channel}> ({error}). Nothing was recorded; an admin can check my permissions there, then try again."
    )]
    NotPosted {
        channel: ChannelId,
        error: SendError,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The note as it is kept: trimmed, and within [`NOTE_LIMIT`].
pub fn checked_note(note: &str) -> Result<&str, PraiseError> {
    let note = note.trim();
    let length = note.chars().count();
    if note.is_empty() || length > NOTE_LIMIT {
        return Err(PraiseError::NoteLength(length));
    }
    Ok(note)
}

/// A praise for no request in particular, counted in `week`: recorded, and
/// the public text to post where it was shared.
pub async fn praise_unlinked(
    store: &Store,
    praise: Praise<'_>,
    week: PrayerWeek,
) -> Result<String, PraiseError> {
    let Praise {
        guild,
        author,
        note,
        now,
    } = praise;
    let note = checked_note(note)?;
    store
        .record_praise(guild, None, week, author, note, now)
        .await?;
    Ok(report::praise_report_text(author, note))
}

/// A praise for `request`: recorded, posted under the request's post (or in
/// `here` when it was never posted), telling the members who prayed; the
/// answer for the author. A refusal from Discord withdraws the record.
pub async fn praise_request(
    store: &Store,
    messenger: &impl Messenger,
    praise: Praise<'_>,
    request: &GuildRequest,
    here: ChannelId,
) -> Result<String, PraiseError> {
    let note = checked_note(praise.note)?;
    if !request.is_prayable() {
        return Err(PraiseError::NotPrayable);
    }
    let Praise { guild, author, .. } = praise;
    let outcome = store
        .record_praise(
            guild,
            Some(request.id),
            request.week,
            author,
            note,
            praise.now,
        )
        .await?;
    if let PraiseOutcome::AlreadyAnswered { by, at } = outcome {
        let by = by.map_or_else(|| "a member".to_owned(), report::mention);
        let at = at.timestamp();
        return Err(PraiseError::AlreadyAnswered { by, at });
    }
    let (told, who) = whom_to_tell(store, guild, author, request).await?;
    let (channel, reply_to) = match store.request_message(guild, request.id).await? {
        Some((channel, message)) => (channel, Some(message)),
        None => (here, None),
    };
    let first = report::praise_text(author, request, note);
    for (i, piece) in mention_messages(&first, &told).iter().enumerate() {
        let outgoing = OutgoingMessage {
            content: piece.content.clone(),
            buttons_for: None,
            // The same on a retry, and different in every server.
            nonce: stable_nonce('r', (guild.get(), request.id.get(), i)),
            reply_to: reply_to.filter(|_| i == 0),
            notify: piece.users.clone(),
            notify_role: None,
            buttons: Vec::new(),
        };
        if let Err(error) = messenger.send(channel, &outgoing).await {
            // Nothing is half-recorded: the member can try again.
            store.withdraw_praise(guild, request.id).await?;
            tracing::warn!(%error, "could not post a praise");
            return Err(PraiseError::NotPosted { channel, error });
        }
    }
    Ok(posted_praise_text(channel, &told, &who))
}

/// The members to tell: everyone who committed or prayed, but the author
/// and those who turned notices off.
async fn whom_to_tell(
    store: &Store,
    guild: GuildId,
    author: UserId,
    request: &GuildRequest,
) -> Result<(Vec<UserId>, tracking::Who), StorageError> {
    let marks = store.marks(guild, &[request.id]).await?;
    let who = tracking::who(&marks, request.id);
    let mut told = who.everyone();
    told.retain(|u| *u != author);
    let off = store.notify_off(guild, &told).await?;
    told.retain(|u| !off.contains(u));
    Ok((told, who))
}

/// `/praise`'s answer once posted: where, and whom it told, named by what
/// they did (committed, prayed, or some of each).
fn posted_praise_text(channel: ChannelId, told: &[UserId], who: &tracking::Who) -> String {
    let prayed = told.iter().filter(|u| who.prayed.contains(u)).count();
    let did = if prayed == told.len() {
        "prayed"
    } else if prayed == 0 {
        "committed to pray"
    } else {
        "committed or prayed"
    };
    match told.len() {
        0 => format!("Posted your praise in <#{channel}>."),
        1 => format!("Posted your praise in <#{channel}> and told the 1 member who {did}."),
        n => format!("Posted your praise in <#{channel}> and told the {n} members who {did}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posting::scripted::Scripted;
    use crate::storage::fixtures::{GUILD, now, posted, store};
    use crate::tracking::Source;

    const AUTHOR: UserId = UserId::of::<5>();
    const ANN: UserId = UserId::of::<6>();
    const HERE: ChannelId = ChannelId::of::<77>();

    /// The first request of the posted fixture week, with Ann committed.
    async fn prayed_for(store: &Store) -> Result<GuildRequest, StorageError> {
        let requests = posted(store).await?;
        store
            .mark(GUILD, requests[0], ANN, Source::Commit, now())
            .await?;
        Ok(store
            .guild_request(GUILD, requests[0])
            .await?
            .expect("seen"))
    }

    fn praise(note: &str) -> Praise<'_> {
        Praise {
            guild: GUILD,
            author: AUTHOR,
            note,
            now: now(),
        }
    }

    #[tokio::test]
    async fn a_praise_is_posted_under_the_request_and_tells_who_prayed() -> Result<(), PraiseError>
    {
        let store = store().await;
        let request = prayed_for(&store).await?;
        let messenger = Scripted::default();
        let said = praise_request(&store, &messenger, praise(" Freed! "), &request, HERE).await?;
        assert_eq!(
            said,
            "Posted your praise in <#42> and told the 1 member who committed to pray."
        );
        let sent = messenger.sent.lock().map(|s| s.clone()).unwrap_or_default();
        let (channel, message) = &sent[0];
        assert_eq!(
            *channel,
            ChannelId::of::<42>(),
            "under the request's own post"
        );
        assert_eq!(message.reply_to, Some(crate::ids::MessageId::of::<500>()));
        assert_eq!(message.notify, [ANN], "only those who prayed are pinged");
        assert!(message.content.contains("Freed!"), "{}", message.content);
        let again = praise_request(&store, &messenger, praise("again"), &request, HERE).await;
        assert!(
            matches!(again, Err(PraiseError::AlreadyAnswered { .. })),
            "{again:?}"
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_praise_discord_refuses_is_not_recorded() -> Result<(), PraiseError> {
        let store = store().await;
        let request = prayed_for(&store).await?;
        let refusing = Scripted {
            refuse: Some(|_| true),
            ..Scripted::default()
        };
        let refused = praise_request(&store, &refusing, praise("Freed!"), &request, HERE).await;
        match refused {
            Err(PraiseError::NotPosted { channel, error }) => {
                assert_eq!(channel, ChannelId::of::<42>());
                assert!(!error.is_transient(), "{error}");
            }
            other => panic!("refused: {other:?}"),
        }
        // Nothing half-done: the same praise goes through once Discord lets it.
        let said = praise_request(
            &store,
            &Scripted::default(),
            praise("Freed!"),
            &request,
            HERE,
        )
        .await?;
        assert!(said.starts_with("Posted your praise"), "{said}");
        Ok(())
    }

    #[tokio::test]
    async fn a_note_too_long_or_empty_changes_nothing() -> Result<(), PraiseError> {
        let store = store().await;
        let request = prayed_for(&store).await?;
        let long = "x".repeat(NOTE_LIMIT + 1);
        for note in ["   ", long.as_str()] {
            let refused =
                praise_request(&store, &Scripted::default(), praise(note), &request, HERE).await;
            assert!(
                matches!(refused, Err(PraiseError::NoteLength(_))),
                "{refused:?}"
            );
        }
        let said = praise_unlinked(&store, praise("Thank you, Lord"), request.week).await?;
        assert!(said.contains("Thank you, Lord"), "{said}");
        Ok(())
    }

    #[test]
    fn the_answer_names_those_told_by_what_they_did() {
        let (ann, bob) = (UserId::of::<1>(), UserId::of::<2>());
        let channel = ChannelId::of::<9>();
        let who = tracking::Who {
            committed: vec![ann, bob],
            prayed: vec![bob],
        };
        let text = |told: &[UserId]| posted_praise_text(channel, told, &who);
        assert_eq!(text(&[]), "Posted your praise in <#9>.");
        assert_eq!(
            text(&[ann]),
            "Posted your praise in <#9> and told the 1 member who committed to pray."
        );
        assert_eq!(
            text(&[bob]),
            "Posted your praise in <#9> and told the 1 member who prayed."
        );
        assert_eq!(
            text(&[ann, bob]),
            "Posted your praise in <#9> and told the 2 members who committed or prayed."
        );
    }
}
