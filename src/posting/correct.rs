//! `/prayer correct` as a use-case: an admin's new text for a request,
//! checked, stored for this server only (a shared bulletin's other servers
//! keep the original), and every message of the request the bot posted here
//! edited in place, rendered as a post renders it, with the same buttons.
//! The request is not replaced, so every prayer recorded on it stays.

use chrono::{DateTime, Utc};

use crate::bulletins::parse::{PrayerRequest, is_prayable};
use crate::ids::{ChannelId, GuildId, RequestId, UserId};
use crate::members::{Author, labelled};
use crate::posting::render::{
    MESSAGE_LIMIT, discord_len, escape_markdown, render_request, shown_typed, split_message,
};
use crate::posting::{EditedMessage, Messenger, SendError};
use crate::storage::{CorrectionRecord, GuildRequest, PostedMessage, StorageError, Store};

/// The longest corrected text, in characters (as Discord counts them):
/// the longest text a slash command's option takes.
pub const CORRECTION_LIMIT: usize = 6000;

/// What an admin asked to correct.
#[derive(Debug, Clone)]
pub struct Correction<'a> {
    pub guild: GuildId,
    pub request: RequestId,
    pub text: &'a str,
    pub admin: UserId,
    pub now: DateTime<Utc>,
}

/// Why a correction did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CorrectError {
    /// Bad input, or a state that forbids it: the admin's answer, in
    /// sentences. Nothing was changed.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn refused(text: impl Into<String>) -> CorrectError {
    CorrectError::Refused(text.into())
}

/// The messages `text` takes as `request`'s post; a member's request
/// keeps the line naming who asked (`author`).
fn pieces(request: &GuildRequest, text: &str, author: Option<Author>) -> Vec<String> {
    let text = match author {
        Some(author) => labelled(text, author),
        None => text.to_owned(),
    };
    let rendered = render_request(&PrayerRequest {
        region: request.region.clone(),
        kind: request.kind,
        text,
        countries: Vec::new(),
    });
    split_message(&rendered, MESSAGE_LIMIT)
}

/// The new text, trimmed, if it may replace the request's: not empty,
/// within [`CORRECTION_LIMIT`], and keeping whether members can pray for
/// it (the buttons stay as they were).
fn checked_text<'a>(request: &GuildRequest, typed: &'a str) -> Result<&'a str, CorrectError> {
    let text = typed.trim();
    if text.is_empty() {
        return Err(refused(
            "The new text is empty: give the request's corrected text. Nothing was changed.",
        ));
    }
    let length = discord_len(text);
    if length > CORRECTION_LIMIT {
        return Err(refused(format!(
            "The new text is {length} characters; a request is at most {CORRECTION_LIMIT}. Nothing was changed."
        )));
    }
    if is_prayable(request.kind, text) != request.is_prayable() {
        let now = if request.is_prayable() {
            "no longer asks for prayer"
        } else {
            "now asks for prayer"
        };
        return Err(refused(format!(
            "The new text {now}, which would change the buttons under the post; a correction keeps them. Word it so it still reads as before (a praise, or a prayer request). Nothing was changed."
        )));
    }
    Ok(text)
}

/// Refuses a text that needs more or fewer messages than the request was
/// posted in: a correction edits the posted messages in place, and cannot
/// add or remove one (members' 🙏 are on them, the buttons on the last).
fn check_fit(posted: usize, new: usize) -> Result<(), CorrectError> {
    if posted == new {
        return Ok(());
    }
    let limit = if posted == 1 {
        format!("one message of at most {MESSAGE_LIMIT} characters, the region's heading included")
    } else {
        format!("{posted} messages")
    };
    Err(refused(format!(
        "The new text takes {new} messages, but the request was posted in {posted}: a correction edits the posted messages and cannot add or remove any (members' 🙏 are on them). Make it fit {limit}. Nothing was changed."
    )))
}

/// Corrects the request: checks, stores, edits its posted messages; what
/// to tell the admin.
pub async fn correct_request(
    store: &Store,
    messenger: &impl Messenger,
    correction: &Correction<'_>,
) -> Result<String, CorrectError> {
    let guild = correction.guild;
    let request = store
        .guild_request(guild, correction.request)
        .await?
        .ok_or_else(|| {
            refused(format!(
                "No request of this server has the id {}. Pick one from the list as you type. Nothing was changed.",
                correction.request
            ))
        })?;
    let text = checked_text(&request, correction.text)?;
    if store.week_post_unfinished(guild, request.week).await? {
        // A post resumed later compares what the channel shows with the
        // text it plans: the text must not change under it.
        return Err(refused(format!(
            "The week of {week} is being posted, or was partly posted: run `/prayer post week:{week}` to finish it, then correct the request. Nothing was changed.",
            week = request.week
        )));
    }
    let posted = store.request_messages(guild, request.id).await?;
    let author =
        store
            .member_request(guild, request.id)
            .await?
            .map(|asked| match asked.author.author {
                Some(user) => Author::Named(user),
                None => Author::Anonymous,
            });
    let new = pieces(&request, text, author);
    if !posted.is_empty() {
        check_fit(pieces(&request, &request.text, author).len(), new.len())?;
    }
    let detail = format!(
        "corrected a request of **{}** (week of {}): “{}”",
        escape_markdown(&request.region),
        request.week,
        shown_typed(text)
    );
    store
        .correct_request(&CorrectionRecord {
            guild,
            request: request.id,
            week: request.week,
            text,
            admin: correction.admin,
            detail: &detail,
            now: correction.now,
        })
        .await?;
    let edits = edit_posted(messenger, &request, &posted, &new).await;
    Ok(edits.words(&request))
}

/// What editing a request's posted messages did.
#[derive(Debug, Default)]
struct Edits {
    channel: Option<ChannelId>,
    edited: usize,
    /// Deleted in Discord meanwhile: nothing to edit.
    gone: usize,
    /// Discord refused one, and the rest were not tried.
    failed: Option<SendError>,
}

/// Edits each posted message to its new piece (the same part), keeping the
/// buttons on a prayable request's last piece.
async fn edit_posted(
    messenger: &impl Messenger,
    request: &GuildRequest,
    posted: &[PostedMessage],
    new: &[String],
) -> Edits {
    let mut edits = Edits::default();
    for message in posted {
        let part = usize::try_from(message.part).unwrap_or(usize::MAX);
        let Some(content) = new.get(part) else {
            continue;
        };
        let last = part + 1 == new.len();
        let edited = EditedMessage {
            content: content.clone(),
            buttons_for: (last && request.is_prayable()).then_some(request.id),
        };
        edits.channel = Some(message.channel_id);
        match messenger
            .edit(message.channel_id, message.message_id, &edited)
            .await
        {
            Ok(()) => edits.edited += 1,
            Err(error) if error.is_gone() => edits.gone += 1,
            Err(error) => {
                edits.failed = Some(error);
                break;
            }
        }
    }
    edits
}

impl Edits {
    fn words(&self, request: &GuildRequest) -> String {
        let mut words = format!(
            "Corrected the request of **{}** (week of {}); every prayer recorded on it is kept.",
            escape_markdown(&request.region),
            request.week
        );
        let plural = |n: usize| if n == 1 { "message" } else { "messages" };
        match self.channel {
            None => {
                words.push_str(" It has not been posted here, so its post will carry the new text.")
            }
            Some(channel) if self.edited > 0 => words.push_str(&format!(
                " Edited its {} {} in <#{channel}>.",
                self.edited,
                plural(self.edited)
            )),
            Some(_) => {}
        }
        if self.gone > 0 {
            words.push_str(&format!(
                " {} {} had been deleted in Discord, so there was nothing to edit.",
                self.gone,
                plural(self.gone)
            ));
        }
        if let Some(error) = &self.failed {
            words.push_str(&format!(
                " Discord refused to edit the post: {error}. The new text is stored; run the same `/prayer correct` again to edit the post."
            ));
        }
        words
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::bulletins::parse::parse_bulletin;
    use crate::bulletins::week::{Placement, PrayerWeek};
    use crate::posting::scripted::Scripted;
    use crate::posting::{PostOutcome, PostRun, post_week};
    use crate::storage::Scope;
    use crate::tracking::{ReactionKey, ReactionStep, Source};

    pub const GUILD: GuildId = GuildId::of::<99>();
    pub const OTHER: GuildId = GuildId::of::<77>();
    pub const ADMIN: UserId = UserId::of::<5>();
    pub const BULLETIN: &str = "IJM Prayer Requests\n\nAfrica\n• Pray for Kenya.\n\nLatin America\n• Pray for Peru.\n• Praise God for Chile.\n";

    pub fn week() -> PrayerWeek {
        "2026-11-23".parse().unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default()
    }

    /// A store with `text` imported for [`week`] in `scope`; [`GUILD`] and
    /// [`OTHER`] post to channels 1 and 2.
    pub async fn store_with(scope: Scope, text: &str) -> Store {
        let store = crate::storage::fixtures::store().await;
        import(&store, scope, text).await;
        for (guild, channel) in [(GUILD, ChannelId::of::<1>()), (OTHER, ChannelId::of::<2>())] {
            store
                .set_default_channel(guild, channel, now())
                .await
                .expect("sets");
        }
        store
    }

    pub async fn import(store: &Store, scope: Scope, text: &str) {
        crate::storage::fixtures::put(store, scope, text, Placement::Exactly(week()))
            .await
            .expect("imports");
    }

    /// Posts [`week`] to `guild` through `messenger`.
    pub async fn post(store: &Store, messenger: &Scripted, guild: GuildId) -> PostOutcome {
        let run = PostRun::new(PostRun::LEASE);
        post_week(store, messenger, guild, week(), &run, now)
            .await
            .expect("posts")
    }

    /// The id of `guild`'s request whose text holds `needle`.
    pub async fn request(store: &Store, guild: GuildId, needle: &str) -> GuildRequest {
        store
            .guild_requests(guild, week(), week())
            .await
            .expect("reads")
            .into_iter()
            .find(|r| r.text.contains(needle))
            .expect("the request")
    }

    /// A commitment, a prayer and a 🙏 on `message` for `request` in `guild`.
    pub async fn pray(store: &Store, guild: GuildId, request: RequestId, message: PostedMessage) {
        for (user, source) in [(11, Source::Commit), (12, Source::Prayed)] {
            let user = UserId::try_new(user).expect("ids are not 0");
            store
                .mark(guild, request, user, source, now())
                .await
                .expect("marks");
        }
        let key = ReactionKey {
            guild,
            channel: message.channel_id,
            message: message.message_id,
            user: UserId::of::<13>(),
            emoji: "🙏".into(),
        };
        store
            .apply_reactions(&[ReactionStep::Add(vec![key])], now())
            .await
            .expect("reacts");
    }

    fn correction(request: RequestId, text: &str) -> Correction<'_> {
        Correction {
            guild: GUILD,
            request,
            text,
            admin: ADMIN,
            now: now(),
        }
    }

    fn edits(messenger: &Scripted) -> Vec<(ChannelId, crate::ids::MessageId, EditedMessage)> {
        messenger
            .edits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    #[tokio::test]
    async fn a_correction_edits_the_post_in_place_for_this_server_only_and_keeps_every_prayer() {
        let store = store_with(Scope::Shared, BULLETIN).await;
        let discord = crate::posting::scripted::Discord::default();
        let here = Scripted {
            discord: discord.clone(),
            ..Scripted::default()
        };
        post(&store, &here, GUILD).await;
        let kenya = request(&store, GUILD, "Kenya").await;
        let posted = store
            .request_messages(GUILD, kenya.id)
            .await
            .expect("reads");
        assert_eq!(posted.len(), 1);
        pray(&store, GUILD, kenya.id, posted[0]).await;
        let before = store.marks(GUILD, &[kenya.id]).await.expect("reads");
        assert_eq!(before.len(), 3);

        let text =
            "Pray for Kenya's *courts* and [judges](https://example.com) this week. @everyone";
        let words = correct_request(&store, &here, &correction(kenya.id, text))
            .await
            .expect("corrects");
        assert!(
            words.starts_with("Corrected the request of **Africa** (week of 2026-11-23)")
                && words.contains("Edited its 1 message in <#1>."),
            "{words}"
        );
        let edited = edits(&here);
        assert_eq!(edited.len(), 1);
        let (channel, message, edit) = &edited[0];
        assert_eq!(
            (*channel, *message),
            (posted[0].channel_id, posted[0].message_id)
        );
        assert_eq!(
            edit.content,
            "🙏 **Africa**\nPray for Kenya's \\*courts\\* and \\[judges\\](https://example.com) this week. @everyone",
            "rendered as a post renders it: markdown and masked links escaped"
        );
        assert_eq!(edit.buttons_for, Some(kenya.id), "the same buttons");
        // Every prayer stays, on the same request.
        assert_eq!(
            store.marks(GUILD, &[kenya.id]).await.expect("reads"),
            before
        );
        // This server's views read the new text; another server the old.
        assert_eq!(request(&store, GUILD, "courts").await.id, kenya.id);
        let stored = store
            .week(Scope::Guild(GUILD), week())
            .await
            .expect("reads");
        assert_eq!(stored.expect("stored").bulletin.requests[0].text, text);
        let other = store
            .week(Scope::Guild(OTHER), week())
            .await
            .expect("reads");
        assert_eq!(
            other.expect("stored").bulletin.requests[0].text,
            "Pray for Kenya."
        );
        assert_eq!(
            store
                .guild_request(OTHER, kenya.id)
                .await
                .expect("reads")
                .map(|r| r.text),
            Some("Pray for Kenya.".to_owned())
        );
        // The other server's post carries the original text.
        let there = Scripted {
            discord,
            first_id: 10_000,
            ..Scripted::default()
        };
        post(&store, &there, OTHER).await;
        let sent = there.sent.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert!(
            sent.iter()
                .any(|(_, m)| m.content.ends_with("\nPray for Kenya."))
        );
        // And it is logged.
        let log = store.admin_actions(GUILD, 5).await.expect("reads");
        assert_eq!(log.len(), 1);
        assert_eq!((log[0].admin, log[0].action.as_str()), (ADMIN, "correct"));
        assert!(
            log[0].detail.contains("“Pray for Kenya's"),
            "{}",
            log[0].detail
        );
        assert!(
            store
                .admin_actions(OTHER, 5)
                .await
                .expect("reads")
                .is_empty()
        );
    }

    #[tokio::test]
    async fn bad_corrections_are_refused_in_words_and_change_nothing() {
        let store = store_with(Scope::Shared, BULLETIN).await;
        // The other server's own bulletin, the week after.
        let own = "IJM Prayer Requests\n\nAsia\n• Pray for Nepal.\n";
        let b = parse_bulletin(own).expect("parses");
        store
            .import_to(
                Scope::Guild(OTHER),
                &crate::storage::BulletinImport {
                    bulletin: &b,
                    fingerprint: &b.fingerprint(),
                    placement: Placement::Exactly(week().next()),
                    named: false,
                    force: false,
                    source: "t",
                    now: now(),
                },
            )
            .await
            .expect("imports");
        let nepal = store
            .guild_requests(OTHER, week().next(), week().next())
            .await
            .expect("reads")[0]
            .id;
        let here = Scripted::default();
        post(&store, &here, GUILD).await;
        let kenya = request(&store, GUILD, "Kenya").await;
        let chile = request(&store, GUILD, "Chile").await;
        let long = "Pray. ".repeat(1200);
        for (id, text, expected) in [
            (kenya.id, "   ", "The new text is empty"),
            (
                kenya.id,
                long.as_str(),
                "The new text is 7199 characters; a request is at most 6000.",
            ),
            (
                nepal,
                "Pray for Nepal's courts.",
                "No request of this server has the id",
            ),
            (
                RequestId::of::<999_999>(),
                "Pray.",
                "No request of this server has the id",
            ),
            (chile.id, "Pray for Chile.", "now asks for prayer"),
        ] {
            let refused = correct_request(&store, &here, &correction(id, text)).await;
            let Err(CorrectError::Refused(words)) = refused else {
                panic!("{text:?} was not refused: {refused:?}");
            };
            assert!(words.contains(expected), "{words}");
            assert!(words.ends_with("Nothing was changed."), "{words}");
        }
        assert!(edits(&here).is_empty());
        assert!(
            store
                .admin_actions(GUILD, 5)
                .await
                .expect("reads")
                .is_empty()
        );
        assert_eq!(
            request(&store, GUILD, "Kenya").await.text,
            "Pray for Kenya."
        );
        assert_eq!(
            store
                .guild_request(OTHER, nepal)
                .await
                .expect("reads")
                .map(|r| r.text),
            Some("Pray for Nepal.".to_owned())
        );
    }

    #[tokio::test]
    async fn a_long_request_is_edited_part_by_part_and_must_keep_its_number_of_messages() {
        let long = format!(
            "Pray for Kenya. {}",
            "The court hears the case. ".repeat(200)
        );
        let bulletin = format!("IJM Prayer Requests\n\nAfrica\n• {long}\n");
        let store = store_with(Scope::Shared, &bulletin).await;
        let here = Scripted::default();
        post(&store, &here, GUILD).await;
        let kenya = request(&store, GUILD, "Kenya").await;
        let posted = store
            .request_messages(GUILD, kenya.id)
            .await
            .expect("reads");
        assert_eq!(posted.len(), 3);

        let short = "Pray for Kenya.";
        let Err(CorrectError::Refused(words)) =
            correct_request(&store, &here, &correction(kenya.id, short)).await
        else {
            panic!("a text of one message replaced one of three");
        };
        assert!(
            words.starts_with("The new text takes 1 messages, but the request was posted in 3"),
            "{words}"
        );
        assert!(edits(&here).is_empty());

        let corrected = format!(
            "Pray for Kenya. {}",
            "The court hears the appeal. ".repeat(180)
        );
        let words = correct_request(&store, &here, &correction(kenya.id, &corrected))
            .await
            .expect("corrects");
        assert!(words.contains("Edited its 3 messages in <#1>."), "{words}");
        let edited = edits(&here);
        let order: Vec<_> = edited.iter().map(|(_, m, e)| (*m, e.buttons_for)).collect();
        assert_eq!(
            order,
            [
                (posted[0].message_id, None),
                (posted[1].message_id, None),
                (posted[2].message_id, Some(kenya.id))
            ],
            "the buttons stay on the last part only"
        );
        let joined: Vec<&str> = edited.iter().map(|(_, _, e)| e.content.as_str()).collect();
        assert_eq!(
            joined.join(" "),
            format!("🙏 **Africa**\n{}", corrected.trim())
        );
        assert!(
            edited
                .iter()
                .all(|(_, _, e)| discord_len(&e.content) <= MESSAGE_LIMIT)
        );
    }

    #[tokio::test]
    async fn a_message_deleted_in_discord_or_a_refused_edit_is_said_and_the_text_kept() {
        let store = store_with(Scope::Shared, BULLETIN).await;
        let here = Scripted {
            refuse_changes_after: Some(0),
            ..Scripted::default()
        };
        post(&store, &here, GUILD).await;
        let peru = request(&store, GUILD, "Peru").await;
        let words = correct_request(&store, &here, &correction(peru.id, "Pray for Lima."))
            .await
            .expect("stored");
        assert!(
            words.contains("Discord refused to edit the post: Missing Access. The new text is stored; run the same `/prayer correct` again"),
            "{words}"
        );
        assert_eq!(request(&store, GUILD, "Lima").await.id, peru.id);

        let posted = store.request_messages(GUILD, peru.id).await.expect("reads");
        let raw = posted[0].message_id.get() - here.first_id;
        assert!(here.discord.remove(raw));
        let again = Scripted {
            discord: here.discord.clone(),
            ..Scripted::default()
        };
        let words = correct_request(&store, &again, &correction(peru.id, "Pray for Lima."))
            .await
            .expect("stored");
        assert!(
            words.ends_with("1 message had been deleted in Discord, so there was nothing to edit."),
            "{words}"
        );
    }

    #[tokio::test]
    async fn a_week_partly_posted_is_finished_before_it_is_corrected() {
        let store = store_with(Scope::Shared, BULLETIN).await;
        let stopped = Scripted {
            fail_after: Some(2),
            ..Scripted::default()
        };
        let run = PostRun::new(PostRun::LEASE);
        let cut = post_week(&store, &stopped, GUILD, week(), &run, now).await;
        assert!(cut.is_err(), "{cut:?}");
        let kenya = request(&store, GUILD, "Kenya").await;
        let refused =
            correct_request(&store, &stopped, &correction(kenya.id, "Pray for Nairobi.")).await;
        let Err(CorrectError::Refused(words)) = refused else {
            panic!("{refused:?}");
        };
        assert!(
            words.contains("run `/prayer post week:2026-11-23` to finish it"),
            "{words}"
        );
        assert_eq!(
            request(&store, GUILD, "Kenya").await.text,
            "Pray for Kenya."
        );
    }

    #[tokio::test]
    async fn a_request_not_yet_posted_is_posted_with_its_corrected_text() {
        let store = store_with(Scope::Shared, BULLETIN).await;
        let here = Scripted::default();
        let kenya = request(&store, GUILD, "Kenya").await;
        let words = correct_request(&store, &here, &correction(kenya.id, "Pray for Nairobi."))
            .await
            .expect("corrects");
        assert!(
            words.contains("It has not been posted here, so its post will carry the new text."),
            "{words}"
        );
        assert!(edits(&here).is_empty());
        post(&store, &here, GUILD).await;
        let sent = here.sent.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert!(
            sent.iter()
                .any(|(_, m)| m.content == "🙏 **Africa**\nPray for Nairobi.")
        );
        assert!(!sent.iter().any(|(_, m)| m.content.contains("Kenya")));
    }
}
