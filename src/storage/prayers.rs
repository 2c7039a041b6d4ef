//! Prayer tracking: the marks members leave on requests (buttons and 🙏
//! reactions), praise reports, and who asked not to be mentioned. Every
//! statement is scoped to one server.

use crate::bulletins::parse::Kind;
use crate::bulletins::week::PrayerWeek;
use crate::ids::{ChannelId, MessageId, RequestId, UserId};
use crate::tracking::Mark;
use chrono::{DateTime, Utc};
use std::collections::HashSet;

/// A request as a server sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuildRequest {
    pub id: RequestId,
    pub week: PrayerWeek,
    pub region: String,
    pub kind: Kind,
    pub text: String,
}

impl GuildRequest {
    /// Whether members can pray for it ([`crate::bulletins::parse::is_prayable`]).
    pub fn is_prayable(&self) -> bool {
        crate::bulletins::parse::is_prayable(self.kind, &self.text)
    }
}

/// What a posted message is, for a reaction or a button press on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostedIn {
    /// A message of this request.
    Request(RequestId),
    /// A week's header, or a request whose bulletin was replaced since.
    NoRequest,
}

/// A praise, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PraiseOutcome {
    Recorded,
    /// The request was already marked answered in this server.
    AlreadyAnswered {
        by: Option<UserId>,
        at: DateTime<Utc>,
    },
}

/// What tracking shows about a week: see [`Store::week_tracking`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeekTracking {
    pub marks: Vec<Mark>,
    pub answered: HashSet<RequestId>,
    pub praise_reports: usize,
    /// The server's time zone, if it has settings: read here so a command
    /// that shows a week needs no statement of its own to learn the
    /// server's today.
    pub zone: Option<chrono_tz::Tz>,
}

/// What `/prayer forget-me` erased.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Forgotten {
    /// Commitments, prayers and reactions.
    pub marks: u64,
    /// Praises kept, now without the member's name.
    pub praises: u64,
    /// Whether a notify setting was stored.
    pub notify: bool,
    /// Requests the member asked (`/prayer request add`), deleted; set by
    /// the use-case that also edits their posts.
    pub requests: usize,
}

/// A request message catch-up could not read: see [`Store::unread_posts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadPost {
    pub message: MessageId,
    pub channel: crate::ids::ChannelId,
    /// Discord says it is gone; else it kept failing.
    pub deleted: bool,
    /// Why it could not be read, as a clause.
    pub reason: String,
    /// The request's region and text ('' if its bulletin was replaced).
    pub region: String,
    pub text: String,
}

/// A praise of a server's, as `/prayer answered` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnsweredPraise {
    pub week: PrayerWeek,
    pub note: String,
    pub at: DateTime<Utc>,
    /// The request answered (its region and text), `None` for a praise
    /// report or a request whose bulletin was replaced.
    pub request: Option<(String, String)>,
    /// The request's own post in this server, if it was posted.
    pub message: Option<(ChannelId, MessageId)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::ids::{ChannelId, GuildId, MessageId, UserId};
    use crate::storage::fixtures::*;
    use crate::tracking::ReactionChange;
    use crate::tracking::{ReactionKey, Source};

    const HERE: GuildId = GUILD;
    const THERE: GuildId = GuildId::of::<7>();
    const ANN: UserId = UserId::of::<100>();
    const BOB: UserId = UserId::of::<200>();

    fn reaction(guild: GuildId, message: u64, user: UserId, emoji: &str) -> ReactionKey {
        ReactionKey {
            guild,
            channel: crate::ids::ChannelId::of::<42>(),
            message: MessageId::try_new(message).expect("ids are not 0"),
            user,
            emoji: emoji.to_owned(),
        }
    }

    async fn apply(store: &Store, changes: Vec<ReactionChange>) -> Result<(), StorageError> {
        store
            .apply_reactions(&crate::tracking::coalesce(changes), now())
            .await
    }

    #[tokio::test]
    async fn a_button_mark_is_recorded_once_and_undone() -> Result<(), StorageError> {
        let store = store().await;
        let ids = posted(&store).await?;
        assert!(store.mark(HERE, ids[0], ANN, Source::Commit, now()).await?);
        assert!(!store.mark(HERE, ids[0], ANN, Source::Commit, now()).await?);
        assert!(store.mark(HERE, ids[0], ANN, Source::Prayed, now()).await?);
        assert_eq!(store.marks(HERE, &ids).await?.len(), 2);
        assert!(store.unmark(HERE, ids[0], ANN, Source::Commit).await?);
        assert!(!store.unmark(HERE, ids[0], ANN, Source::Commit).await?);
        assert_eq!(
            store.marks(HERE, &ids).await?,
            [Mark {
                request: ids[0],
                user: ANN,
                source: Source::Prayed
            }]
        );
        assert_eq!(store.marks(THERE, &ids).await?, []);
        Ok(())
    }

    #[tokio::test]
    async fn reactions_count_only_on_this_servers_request_posts() -> Result<(), StorageError> {
        let store = store().await;
        let ids = posted(&store).await?;
        apply(
            &store,
            vec![
                ReactionChange::Added(reaction(HERE, 500, ANN, "🙏")),
                ReactionChange::Added(reaction(HERE, 500, ANN, "🙏🏽")),
                ReactionChange::Added(reaction(HERE, 499, BOB, "🙏")), // the header
                ReactionChange::Added(reaction(HERE, 777, BOB, "🙏")), // not a post
                ReactionChange::Added(reaction(THERE, 500, BOB, "🙏")), // another server
            ],
        )
        .await?;
        assert_eq!(store.mark_count_in(HERE).await?, 2);
        assert_eq!(store.mark_count_in(THERE).await?, 0);
        assert_eq!(
            store.request_posts(HERE, week("2026-11-23")).await?,
            [(crate::ids::ChannelId::of::<42>(), MessageId::of::<500>())]
        );
        let mut on = store.reactions_on(HERE, MessageId::of::<500>()).await?;
        on.sort();
        assert_eq!(on, [(ANN, "🙏".to_owned()), (ANN, "🙏🏽".to_owned())]);
        assert_eq!(store.reactions_on(THERE, MessageId::of::<500>()).await?, []);
        apply(
            &store,
            vec![ReactionChange::Removed(reaction(HERE, 500, ANN, "🙏"))],
        )
        .await?;
        let marks = store.marks(HERE, &ids).await?;
        assert_eq!(marks.len(), 1, "the skin-tone reaction stays: {marks:?}");
        apply(
            &store,
            vec![ReactionChange::Cleared {
                guild: Some(HERE),
                channel: crate::ids::ChannelId::of::<42>(),
                message: MessageId::of::<500>(),
                emoji: None,
            }],
        )
        .await?;
        assert_eq!(store.mark_count_in(HERE).await?, 0);
        Ok(())
    }

    #[tokio::test]
    async fn a_server_sees_only_its_own_requests() -> Result<(), StorageError> {
        let store = store().await;
        let ids = posted(&store).await?;
        let w = week("2026-11-23");
        let seen = store.guild_request(HERE, ids[0]).await?.expect("seen");
        assert_eq!((seen.week, seen.region.as_str()), (w, "Africa"));
        // THERE has its own bulletin for the week: the shared one is not its.
        put(
            &store,
            Scope::Guild(GuildId::of::<7>()),
            TWO,
            Placement::Exactly(w),
        )
        .await?;
        assert_eq!(store.guild_request(THERE, ids[0]).await?, None);
        let own = store.guild_requests(THERE, w, w).await?;
        assert_eq!(own.len(), 1);
        assert_eq!(store.guild_request(HERE, own[0].id).await?, None);
        assert_eq!(store.guild_requests(HERE, w, w).await?.len(), ids.len());
        assert_eq!(
            store.posted_in(HERE, MessageId::of::<500>()).await?,
            Some(PostedIn::Request(ids[0]))
        );
        assert_eq!(
            store.posted_in(HERE, MessageId::of::<499>()).await?,
            Some(PostedIn::NoRequest)
        );
        assert_eq!(store.posted_in(THERE, MessageId::of::<500>()).await?, None);
        Ok(())
    }

    #[tokio::test]
    async fn a_request_is_answered_once_per_server() -> Result<(), StorageError> {
        let store = store().await;
        let ids = posted(&store).await?;
        let w = week("2026-11-23");
        let praise = |guild, request| store.record_praise(guild, request, w, ANN, "Thanks!", now());
        assert_eq!(praise(HERE, Some(ids[0])).await?, PraiseOutcome::Recorded);
        assert_eq!(
            praise(HERE, Some(ids[0])).await?,
            PraiseOutcome::AlreadyAnswered {
                by: Some(ANN),
                at: now()
            }
        );
        assert_eq!(praise(THERE, Some(ids[0])).await?, PraiseOutcome::Recorded);
        assert_eq!(praise(HERE, None).await?, PraiseOutcome::Recorded);
        assert_eq!(praise(HERE, None).await?, PraiseOutcome::Recorded);
        store.mark(HERE, ids[1], BOB, Source::Commit, now()).await?;
        let tracking = store.week_tracking(HERE, w).await?;
        assert_eq!(tracking.answered, HashSet::from([ids[0]]));
        assert_eq!(tracking.praise_reports, 2);
        assert_eq!(tracking.marks.len(), 1);
        assert_eq!(store.week_tracking(THERE, w).await?.praise_reports, 0);
        assert_eq!(tracking.zone, None, "no settings: the caller's default");
        let sydney = crate::schedule::Schedule {
            zone: chrono_tz::Australia::Sydney,
            ..crate::schedule::Schedule::default()
        };
        store.set_schedule(HERE, &sydney, now()).await?;
        assert_eq!(
            store.week_tracking(HERE, w).await?.zone,
            Some(chrono_tz::Australia::Sydney)
        );
        // A week with no bulletin, marks or praise still reads the zone.
        assert_eq!(
            store.week_tracking(HERE, week("2030-01-07")).await?.zone,
            Some(chrono_tz::Australia::Sydney)
        );
        Ok(())
    }

    #[tokio::test]
    async fn forgetting_a_member_erases_them_in_one_server_only() -> Result<(), StorageError> {
        let store = store().await;
        let ids = posted(&store).await?;
        let w = week("2026-11-23");
        for guild in [HERE, THERE] {
            store
                .mark(guild, ids[0], ANN, Source::Commit, now())
                .await?;
            store.set_notify(guild, ANN, false, now()).await?;
        }
        store.mark(HERE, ids[0], BOB, Source::Commit, now()).await?;
        apply(
            &store,
            vec![ReactionChange::Added(reaction(HERE, 500, ANN, "🙏"))],
        )
        .await?;
        store
            .record_praise(HERE, Some(ids[0]), w, ANN, "Answered!", now())
            .await?;
        assert_eq!(
            store.notify_off(HERE, &[ANN, BOB]).await?,
            HashSet::from([ANN])
        );
        let forgotten = store.forget_member(HERE, ANN).await?;
        assert_eq!(
            forgotten,
            Forgotten {
                marks: 2,
                praises: 1,
                notify: true,
                requests: 0,
            }
        );
        assert_eq!(
            store.marks(HERE, &ids).await?,
            [Mark {
                request: ids[0],
                user: BOB,
                source: Source::Commit
            }]
        );
        assert_eq!(store.notify_off(HERE, &[ANN]).await?, HashSet::new());
        assert_eq!(
            store
                .record_praise(HERE, Some(ids[0]), w, BOB, "x", now())
                .await?,
            PraiseOutcome::AlreadyAnswered {
                by: None,
                at: now()
            },
            "the praise stays, without its author"
        );
        assert_eq!(store.marks(THERE, &ids).await?.len(), 1);
        // Each server's count is its own.
        assert_eq!(store.mark_count_in(HERE).await?, 1);
        assert_eq!(store.mark_count_in(THERE).await?, 1);
        assert_eq!(store.notify_off(THERE, &[ANN]).await?, HashSet::from([ANN]));
        Ok(())
    }

    #[tokio::test]
    async fn a_forgotten_reaction_is_not_read_back_until_the_member_reacts_again()
    -> Result<(), StorageError> {
        let store = store().await;
        posted(&store).await?; // the first request's message is 500
        let message = MessageId::of::<500>();
        apply(
            &store,
            vec![ReactionChange::Added(reaction(HERE, 500, ANN, "🙏"))],
        )
        .await?;
        assert_eq!(
            store.forgotten_among(HERE, message, &[ANN, BOB]).await?,
            HashSet::new()
        );
        store.forget_member(HERE, ANN).await?;
        assert_eq!(store.mark_count_in(HERE).await?, 0);
        assert_eq!(
            store.forgotten_among(HERE, message, &[ANN, BOB]).await?,
            HashSet::from([ANN])
        );
        assert_eq!(
            store.forgotten_among(THERE, message, &[ANN]).await?,
            HashSet::new()
        );
        // Nothing stored names the member.
        let stored: Vec<(Vec<u8>, i64, i64)> = on_pool!(store, pool => {
            sqlx::query_as("SELECT member_hash, guild_id, message_id FROM forgotten_reactions")
                .fetch_all(pool)
                .await?
        });
        assert_eq!(stored.len(), 1);
        assert!(
            !stored
                .iter()
                .any(|(_, g, m)| *g == ANN.to_sql() || *m == ANN.to_sql())
        );
        // Their own 🙏 added again, live: it counts, and the tombstone goes.
        apply(
            &store,
            vec![ReactionChange::Added(reaction(HERE, 500, ANN, "🙏🏽"))],
        )
        .await?;
        assert_eq!(store.mark_count_in(HERE).await?, 1);
        assert_eq!(
            store.forgotten_among(HERE, message, &[ANN]).await?,
            HashSet::new()
        );
        // Forgotten again, then a clear of every reaction on the message:
        // nothing is left to read back.
        store.forget_member(HERE, ANN).await?;
        assert_eq!(store.forgotten_among(HERE, message, &[ANN]).await?.len(), 1);
        apply(
            &store,
            vec![ReactionChange::Cleared {
                guild: Some(HERE),
                channel: crate::ids::ChannelId::of::<42>(),
                message,
                emoji: None,
            }],
        )
        .await?;
        assert_eq!(
            store.forgotten_among(HERE, message, &[ANN]).await?,
            HashSet::new()
        );
        // A tombstone on a week no longer read back is dropped.
        apply(
            &store,
            vec![ReactionChange::Added(reaction(HERE, 500, ANN, "🙏"))],
        )
        .await?;
        store.forget_member(HERE, ANN).await?;
        store
            .prune_read_back_notes(HERE, week("2026-11-23"))
            .await?;
        assert_eq!(store.forgotten_among(HERE, message, &[ANN]).await?.len(), 1);
        store
            .prune_read_back_notes(HERE, week("2026-11-30"))
            .await?;
        assert_eq!(
            store.forgotten_among(HERE, message, &[ANN]).await?,
            HashSet::new()
        );
        // A member with no 🙏 recorded gets tombstones on the latest weeks'
        // request messages all the same (one of theirs may have been missed).
        store.forget_member(HERE, BOB).await?;
        assert_eq!(
            store.forgotten_among(HERE, message, &[BOB]).await?,
            HashSet::from([BOB])
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_clear_touches_only_a_message_of_its_own_channel_and_server()
    -> Result<(), StorageError> {
        let store = store().await;
        posted(&store).await?; // message 500, in channel 42
        apply(
            &store,
            vec![ReactionChange::Added(reaction(HERE, 500, ANN, "🙏"))],
        )
        .await?;
        let clear = |guild, channel| ReactionChange::Cleared {
            guild,
            channel: crate::ids::ChannelId::try_new(channel).expect("ids are not 0"),
            message: MessageId::of::<500>(),
            emoji: None,
        };
        apply(&store, vec![clear(Some(THERE), 42)]).await?;
        apply(&store, vec![clear(None, 43)]).await?;
        apply(&store, vec![clear(Some(HERE), 43)]).await?;
        assert_eq!(
            store.mark_count_in(HERE).await?,
            1,
            "another server's clear changes nothing"
        );
        apply(&store, vec![clear(None, 42)]).await?;
        assert_eq!(store.mark_count_in(HERE).await?, 0);
        Ok(())
    }

    #[tokio::test]
    async fn an_unread_message_is_listed_until_it_is_read() -> Result<(), StorageError> {
        let store = store().await;
        posted(&store).await?; // message 500 of the week of 2026-11-23
        let message = MessageId::of::<500>();
        store
            .note_unread(HERE, message, true, "gone", now())
            .await?;
        let listed = store.unread_posts(HERE, week("2026-11-16")).await?;
        assert_eq!(listed.len(), 1);
        assert!(listed[0].deleted);
        assert_eq!(listed[0].region, "Africa");
        assert_eq!(store.unread_posts(THERE, week("2026-11-16")).await?, []);
        assert_eq!(
            store.unread_posts(HERE, week("2026-11-30")).await?,
            [],
            "a week over"
        );
        store
            .note_unread(HERE, message, false, "Discord answered 500", now())
            .await?;
        let listed = store.unread_posts(HERE, week("2026-11-23")).await?;
        assert!(!listed[0].deleted);
        store.clear_unread(message).await?;
        assert_eq!(store.unread_posts(HERE, week("2026-11-16")).await?, []);
        Ok(())
    }
}
