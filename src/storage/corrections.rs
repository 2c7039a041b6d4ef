//! What admins change after the fact: a request's text corrected for one
//! server (`request_corrections`), a week's post taken down so it can be
//! posted again (the claim on `week_posts` that keeps it apart from every
//! post and every other unpost), and the log of both (`admin_actions`) that
//! `/prayer status` shows.

use super::PostedMessage;
use crate::bulletins::week::PrayerWeek;
use crate::ids::{GuildId, RequestId, UserId};
use chrono::{DateTime, Utc};

/// An admin's change, as `/prayer status` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAction {
    pub admin: UserId,
    /// `correct` or `unpost`.
    pub action: String,
    pub week: PrayerWeek,
    pub detail: String,
    pub at: DateTime<Utc>,
}

/// What trying to take a week's post down found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnpostClaim {
    /// The caller holds the week now: nothing posts it, nor takes it down,
    /// until the caller finishes or lets go. The messages still to delete,
    /// newest first.
    Claimed(Vec<PostedMessage>),
    /// The week was never posted in the server (or was taken down).
    NotPosted,
    /// A post or another unpost holds it until then.
    Held { until: DateTime<Utc> },
}

/// A correction to store, with its line in the log.
pub struct CorrectionRecord<'a> {
    pub guild: GuildId,
    pub request: RequestId,
    pub week: PrayerWeek,
    pub text: &'a str,
    pub admin: UserId,
    pub detail: &'a str,
    pub now: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Scope;
    use crate::storage::fixtures::*;

    const OTHER: GuildId = GuildId::of::<7>();
    const ADMIN: UserId = UserId::of::<3>();

    fn record(request: RequestId, text: &str) -> CorrectionRecord<'_> {
        CorrectionRecord {
            guild: GUILD,
            request,
            week: week("2026-11-23"),
            text,
            admin: ADMIN,
            detail: "corrected",
            now: now(),
        }
    }

    #[tokio::test]
    async fn a_correction_is_read_in_its_server_only_everywhere_the_text_is_read()
    -> Result<(), StorageError> {
        let store = store().await;
        let ids = posted(&store).await?;
        let w = week("2026-11-23");
        store
            .record_praise(GUILD, Some(ids[0]), w, ADMIN, "Thanks!", now())
            .await?;
        store
            .correct_request(&record(ids[0], "Pray for Nairobi."))
            .await?;
        store
            .correct_request(&record(ids[0], "Pray for Mombasa."))
            .await?;
        let text = |stored: Option<crate::storage::StoredWeek>| {
            stored.map(|s| s.bulletin.requests[0].text.clone())
        };
        assert_eq!(
            text(store.week(Scope::Guild(GUILD), w).await?).as_deref(),
            Some("Pray for Mombasa.")
        );
        assert_eq!(
            text(store.week(Scope::Guild(OTHER), w).await?).as_deref(),
            Some("Pray for Kenya.")
        );
        assert_eq!(
            text(store.week(Scope::Shared, w).await?).as_deref(),
            Some("Pray for Kenya.")
        );
        let answered = store.answered_praises(GUILD, w, 10).await?;
        assert_eq!(
            answered[0].request,
            Some(("Africa".to_owned(), "Pray for Mombasa.".to_owned()))
        );
        let log = store.admin_actions(GUILD, 10).await?;
        assert_eq!(log.len(), 2, "each correction is logged");
        assert!(store.admin_actions(OTHER, 10).await?.is_empty());
        // The messages of the request, as posted.
        let messages = store.request_messages(GUILD, ids[0]).await?;
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].message_id, MessageId::of::<500>());
        assert!(store.request_messages(OTHER, ids[0]).await?.is_empty());
        Ok(())
    }

    #[tokio::test]
    async fn an_unpost_claim_is_one_holders_and_its_end_clears_the_week() -> Result<(), StorageError>
    {
        let store = store().await;
        posted(&store).await?;
        let w = week("2026-11-23");
        let until = now() + chrono::TimeDelta::minutes(2);
        // The test post still holds its lease: no unpost yet.
        assert!(matches!(
            store.claim_unpost(GUILD, w, "a", until, now()).await?,
            UnpostClaim::Held { .. }
        ));
        store.finish_week_post(GUILD, w, now()).await?;
        let UnpostClaim::Claimed(messages) =
            store.claim_unpost(GUILD, w, "a", until, now()).await?
        else {
            panic!("not claimed");
        };
        assert_eq!(
            messages.iter().map(|m| m.message_id).collect::<Vec<_>>(),
            [MessageId::of::<500>(), MessageId::of::<499>()],
            "newest first"
        );
        assert!(matches!(
            store.claim_unpost(GUILD, w, "b", until, now()).await?,
            UnpostClaim::Held { .. }
        ));
        assert!(
            !store
                .finish_unpost(GUILD, w, "b", ADMIN, "x", now())
                .await?
        );
        assert!(store.renew_unpost(GUILD, w, "a", until).await?);
        store
            .forget_posted_message(GUILD, MessageId::of::<500>())
            .await?;
        assert_eq!(store.posted_messages(GUILD, w).await?.len(), 1);
        assert_eq!(store.post_round(GUILD, w).await?, 0);
        assert!(
            store
                .finish_unpost(GUILD, w, "a", ADMIN, "took down", now())
                .await?
        );
        assert!(!store.week_post_begun(GUILD, w).await?);
        assert!(store.posted_messages(GUILD, w).await?.is_empty());
        assert_eq!(store.post_round(GUILD, w).await?, 1);
        assert_eq!(
            store.claim_unpost(GUILD, w, "b", until, now()).await?,
            UnpostClaim::NotPosted
        );
        Ok(())
    }
}
