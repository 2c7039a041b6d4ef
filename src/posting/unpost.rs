//! `/prayer unpost` as a use-case: every message the bot posted for a
//! week in a server deleted, and the week's post records cleared, so the
//! week can be posted again from a clean slate, each message once.
//!
//! The unpost holds the week (a claim on its post, renewed between
//! messages, like a post's lease) from before the first deletion to the
//! transaction that clears it: a post meanwhile finds the week posted, and
//! a second unpost finds it held, so neither sends nor deletes anything
//! twice. Each message's record goes as Discord deletes it, so an unpost cut
//! short leaves the week posted with exactly the messages still there, and
//! the next unpost deletes the rest. Prayers stay: button marks belong to
//! requests, and 🙏 marks on a deleted message are kept as they were (a
//! member counts once per request however many marks they have).

use chrono::{DateTime, Utc};

use crate::bulletins::week::PrayerWeek;
use crate::ids::{ChannelId, GuildId, UserId};
use crate::posting::{Messenger, PostRun, SendError};
use crate::storage::{PostedMessage, StorageError, Store, UnpostClaim};

/// Who takes which week down, where.
#[derive(Debug, Clone, Copy)]
pub struct Unpost {
    pub guild: GuildId,
    pub week: PrayerWeek,
    pub admin: UserId,
}

/// What asking for an unpost shows before anything is deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub text: String,
    /// Whether there is anything to confirm.
    pub can_confirm: bool,
}

/// What an unpost did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnpostOutcome {
    /// Every message is deleted (`gone` of them were already) and the
    /// week can be posted again.
    Done {
        week: PrayerWeek,
        deleted: usize,
        gone: usize,
        channels: Vec<ChannelId>,
    },
    /// Nothing of the week was posted in the server.
    NotPosted { week: PrayerWeek },
    /// A post or another unpost holds the week; nothing was deleted by
    /// this one, or nothing more once it lost the week.
    Held {
        week: PrayerWeek,
        until: DateTime<Utc>,
    },
    /// Discord refused a deletion (or the bot is stopping) after `done` of
    /// `total`: the week stays posted with the rest.
    Interrupted {
        week: PrayerWeek,
        done: usize,
        total: usize,
        reason: SendError,
    },
}

fn channel_list(channels: &[ChannelId]) -> String {
    let named: Vec<String> = channels.iter().map(|c| format!("<#{c}>")).collect();
    named.join(", ")
}

fn messages(n: usize) -> String {
    if n == 1 {
        "1 message".to_owned()
    } else {
        format!("{n} messages")
    }
}

impl UnpostOutcome {
    /// What the admin reads.
    pub fn words(&self) -> String {
        match self {
            UnpostOutcome::Done {
                week,
                deleted,
                gone,
                channels,
            } => {
                let already = if *gone > 0 {
                    format!(" ({gone} had already been deleted)")
                } else {
                    String::new()
                };
                format!(
                    "Took down the week of {week}: {} deleted in {}{already}. Every prayer recorded on its requests is kept. `/prayer post week:{week}` posts it again, each message once.",
                    messages(deleted + gone),
                    channel_list(channels)
                )
            }
            UnpostOutcome::NotPosted { week } => format!(
                "The week of {week} is not posted in this server, so there is nothing to delete. Nothing was changed."
            ),
            UnpostOutcome::Held { week, until } => format!(
                "The week of {week} is being posted or taken down right now by another run of the bot. Try again after {} UTC. Nothing was deleted by this one.",
                until.format("%H:%M:%S")
            ),
            UnpostOutcome::Interrupted {
                week,
                done,
                total,
                reason,
            } => format!(
                "Deleted {done} of {total} messages of the week of {week}, then Discord refused: {reason}. The week stays posted with the rest; run `/prayer unpost week:{week}` again to delete them."
            ),
        }
    }
}

/// The question an admin confirms: what would be deleted, and what stays.
pub async fn prompt(
    store: &Store,
    guild: GuildId,
    week: PrayerWeek,
) -> Result<Prompt, StorageError> {
    if !store.week_post_begun(guild, week).await? {
        return Ok(Prompt {
            text: UnpostOutcome::NotPosted { week }.words(),
            can_confirm: false,
        });
    }
    let posted = store.posted_messages(guild, week).await?;
    let channels = channels_of(&posted);
    let auto = if store.schedule(guild).await?.auto {
        " Automatic posts are on: if the week's post time has passed, the schedule posts it again at once (run `/prayer setup auto:false` first to hold it)."
    } else {
        ""
    };
    let text = format!(
        "This deletes the {} I posted for the week of {week}{}, so the week can be posted again. Prayers recorded on its requests are kept, 🙏 reactions included.{auto} Press **Delete the posts** to go ahead, or **Cancel**.",
        messages(posted.len()),
        if channels.is_empty() {
            String::new()
        } else {
            format!(" in {}", channel_list(&channels))
        }
    );
    Ok(Prompt {
        text,
        can_confirm: true,
    })
}

/// The channels of `posted`, each once, in order.
fn channels_of(posted: &[PostedMessage]) -> Vec<ChannelId> {
    let mut channels: Vec<ChannelId> = Vec::new();
    for message in posted {
        if !channels.contains(&message.channel_id) {
            channels.push(message.channel_id);
        }
    }
    channels
}

/// Takes `unpost.week`'s post down in `unpost.guild`, holding the week as
/// `run` from the claim to the end; lets go if it stops part-way.
#[tracing::instrument(skip(store, messenger, run, now))]
pub async fn unpost_week(
    store: &Store,
    messenger: &impl Messenger,
    unpost: Unpost,
    run: &PostRun,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<UnpostOutcome, StorageError> {
    let (guild, week) = (unpost.guild, unpost.week);
    let started = now();
    let claim = store
        .claim_unpost(guild, week, &run.owner, started + run.lease, started)
        .await?;
    let posted = match claim {
        UnpostClaim::NotPosted => return Ok(UnpostOutcome::NotPosted { week }),
        UnpostClaim::Held { until } => return Ok(UnpostOutcome::Held { week, until }),
        UnpostClaim::Claimed(posted) => posted,
    };
    let outcome = delete_all(store, messenger, unpost, run, &now, &posted).await;
    if !matches!(outcome, Ok(UnpostOutcome::Done { .. }))
        && let Err(error) = store.release_unpost(guild, week, &run.owner).await
    {
        tracing::warn!(%error, "could not let go of the unpost; the next one waits for its hold to run out");
    }
    outcome
}

/// Deletes each of `posted`, forgetting each as it goes, then clears the
/// week and logs the unpost.
async fn delete_all(
    store: &Store,
    messenger: &impl Messenger,
    unpost: Unpost,
    run: &PostRun,
    now: &impl Fn() -> DateTime<Utc>,
    posted: &[PostedMessage],
) -> Result<UnpostOutcome, StorageError> {
    let (guild, week) = (unpost.guild, unpost.week);
    let (mut deleted, mut gone) = (0, 0);
    for message in posted {
        let interrupted = |reason| UnpostOutcome::Interrupted {
            week,
            done: deleted + gone,
            total: posted.len(),
            reason,
        };
        if messenger.stopping() {
            return Ok(interrupted(SendError::Stopping));
        }
        let until = now() + run.lease;
        if !store.renew_unpost(guild, week, &run.owner, until).await? {
            return Ok(UnpostOutcome::Held { week, until });
        }
        match messenger
            .delete(message.channel_id, message.message_id)
            .await
        {
            Ok(()) => deleted += 1,
            Err(error) if error.is_gone() => gone += 1,
            Err(error) => return Ok(interrupted(error)),
        }
        store
            .forget_posted_message(guild, message.message_id)
            .await?;
    }
    let detail = format!(
        "took down the week of {week}: {} deleted",
        messages(posted.len())
    );
    let finished = store
        .finish_unpost(guild, week, &run.owner, unpost.admin, &detail, now())
        .await?;
    if !finished {
        let until = now();
        return Ok(UnpostOutcome::Held { week, until });
    }
    let mut channels = channels_of(posted);
    channels.reverse();
    Ok(UnpostOutcome::Done {
        week,
        deleted,
        gone,
        channels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posting::correct::tests::{
        ADMIN, BULLETIN, GUILD, now, post, pray, request, store_with, week,
    };
    use crate::posting::scripted::{Discord, Scripted};
    use crate::posting::{PostOutcome, PostRun};
    use crate::storage::Scope;

    fn unpost() -> Unpost {
        Unpost {
            guild: GUILD,
            week: week(),
            admin: ADMIN,
        }
    }

    async fn take_down(store: &Store, messenger: &Scripted) -> UnpostOutcome {
        let run = PostRun::new(PostRun::LEASE);
        unpost_week(store, messenger, unpost(), &run, now)
            .await
            .expect("no storage error")
    }

    fn deleted(messenger: &Scripted) -> Vec<(ChannelId, crate::ids::MessageId)> {
        messenger
            .deleted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    #[tokio::test]
    async fn an_unposted_week_posts_again_each_message_once_and_keeps_every_prayer() {
        let store = store_with(Scope::Shared, BULLETIN).await;
        let discord = Discord::default();
        let first = Scripted {
            discord: discord.clone(),
            ..Scripted::default()
        };
        post(&store, &first, GUILD).await;
        let posted = store.posted_messages(GUILD, week()).await.expect("reads");
        assert_eq!(posted.len(), 4);
        let first_nonces = discord.nonces();
        let kenya = request(&store, GUILD, "Kenya").await;
        let on_kenya = store
            .request_messages(GUILD, kenya.id)
            .await
            .expect("reads");
        pray(&store, GUILD, kenya.id, on_kenya[0]).await;
        let marks = store.marks(GUILD, &[kenya.id]).await.expect("reads");

        let asked = prompt(&store, GUILD, week()).await.expect("reads");
        assert!(asked.can_confirm);
        assert!(
            asked.text.starts_with(
                "This deletes the 4 messages I posted for the week of 2026-11-23 in <#1>"
            ),
            "{}",
            asked.text
        );
        let outcome = take_down(&store, &first).await;
        assert_eq!(
            outcome,
            UnpostOutcome::Done {
                week: week(),
                deleted: 4,
                gone: 0,
                channels: vec![ChannelId::of::<1>()]
            }
        );
        assert!(
            outcome
                .words()
                .starts_with("Took down the week of 2026-11-23: 4 messages deleted in <#1>.")
        );
        let mut gone: Vec<_> = deleted(&first).iter().map(|(_, m)| *m).collect();
        gone.sort();
        let mut sent: Vec<_> = posted.iter().map(|p| p.message_id).collect();
        sent.sort();
        assert_eq!(gone, sent, "each message deleted once");
        assert!(discord.held().is_empty());
        assert!(
            store
                .posted_messages(GUILD, week())
                .await
                .expect("reads")
                .is_empty()
        );
        assert!(!store.week_post_begun(GUILD, week()).await.expect("reads"));
        assert_eq!(store.marks(GUILD, &[kenya.id]).await.expect("reads"), marks);
        let log = store.admin_actions(GUILD, 5).await.expect("reads");
        assert_eq!((log[0].action.as_str(), log[0].admin), ("unpost", ADMIN));

        // Posted again: each message once, under nonces of their own.
        let again = Scripted {
            discord: discord.clone(),
            first_id: 10_000,
            ..Scripted::default()
        };
        let outcome = post(&store, &again, GUILD).await;
        assert!(
            matches!(
                outcome,
                PostOutcome::Posted {
                    messages: 4,
                    resumed: 0,
                    ..
                }
            ),
            "{outcome:?}"
        );
        assert_eq!(discord.held().len(), 4);
        let nonces = discord.nonces();
        assert!(nonces.windows(2).all(|w| w[0] != w[1]), "{nonces:?}");
        assert!(
            nonces.iter().all(|n| !first_nonces.contains(n)),
            "a new round"
        );
        assert_eq!(
            store
                .posted_messages(GUILD, week())
                .await
                .expect("reads")
                .len(),
            4
        );
        assert_eq!(
            post(&store, &again, GUILD).await,
            PostOutcome::AlreadyPosted { week: week() }
        );
        assert_eq!(again.count(), 4);
        assert_eq!(store.marks(GUILD, &[kenya.id]).await.expect("reads"), marks);
    }

    #[tokio::test]
    async fn a_week_not_posted_has_nothing_to_take_down() {
        let store = store_with(Scope::Shared, BULLETIN).await;
        let messenger = Scripted::default();
        let asked = prompt(&store, GUILD, week()).await.expect("reads");
        assert!(!asked.can_confirm);
        assert!(
            asked.text.ends_with("Nothing was changed."),
            "{}",
            asked.text
        );
        assert_eq!(
            take_down(&store, &messenger).await,
            UnpostOutcome::NotPosted { week: week() }
        );
        assert!(deleted(&messenger).is_empty());
        assert!(
            store
                .admin_actions(GUILD, 5)
                .await
                .expect("reads")
                .is_empty()
        );
    }

    #[tokio::test]
    async fn two_unposts_at_once_delete_each_message_once() {
        let store = store_with(Scope::Shared, BULLETIN).await;
        let discord = Discord::default();
        let poster = Scripted {
            discord: discord.clone(),
            ..Scripted::default()
        };
        post(&store, &poster, GUILD).await;
        let (a, b) = (
            Scripted {
                discord: discord.clone(),
                ..Scripted::default()
            },
            Scripted {
                discord: discord.clone(),
                ..Scripted::default()
            },
        );
        let (one, two) = tokio::join!(take_down(&store, &a), take_down(&store, &b));
        let done = [&one, &two]
            .iter()
            .filter(|o| matches!(o, UnpostOutcome::Done { .. }))
            .count();
        assert_eq!(done, 1, "{one:?} {two:?}");
        assert!(
            [&one, &two].iter().any(|o| matches!(
                o,
                UnpostOutcome::Held { .. } | UnpostOutcome::NotPosted { .. }
            )),
            "{one:?} {two:?}"
        );
        assert_eq!(deleted(&a).len() + deleted(&b).len(), 4);
        assert_eq!(store.admin_actions(GUILD, 5).await.expect("reads").len(), 1);
    }

    #[tokio::test]
    async fn an_unpost_and_a_post_of_the_same_week_never_meet() {
        let store = store_with(Scope::Shared, BULLETIN).await;
        let stored = store
            .week(Scope::Guild(GUILD), week())
            .await
            .expect("reads")
            .expect("stored");
        // A post holds the week: the unpost deletes nothing.
        let until = now() + PostRun::LEASE;
        store
            .lease_week_post(GUILD, week(), stored.bulletin_id, "poster", until, now())
            .await
            .expect("leases");
        let messenger = Scripted::default();
        assert_eq!(
            take_down(&store, &messenger).await,
            UnpostOutcome::Held {
                week: week(),
                until
            }
        );
        assert!(deleted(&messenger).is_empty());
        // Finished, then taken down while a post comes: the post finds the
        // week posted, and sends nothing.
        store
            .finish_week_post(GUILD, week(), now())
            .await
            .expect("finishes");
        let claim = store
            .claim_unpost(GUILD, week(), "unposter", until, now())
            .await
            .expect("claims");
        assert_eq!(claim, UnpostClaim::Claimed(Vec::new()));
        let poster = Scripted::default();
        assert_eq!(
            post(&store, &poster, GUILD).await,
            PostOutcome::AlreadyPosted { week: week() }
        );
        assert_eq!(poster.count(), 0);
        assert!(matches!(
            store
                .claim_unpost(GUILD, week(), "second", until, now())
                .await,
            Ok(UnpostClaim::Held { .. })
        ));
    }

    #[tokio::test]
    async fn an_unpost_discord_interrupts_leaves_the_rest_posted_for_the_next_one() {
        let store = store_with(Scope::Shared, BULLETIN).await;
        let discord = Discord::default();
        let poster = Scripted {
            discord: discord.clone(),
            ..Scripted::default()
        };
        post(&store, &poster, GUILD).await;
        // One message a moderator deleted already; Discord refuses the third
        // deletion.
        let posted = store.posted_messages(GUILD, week()).await.expect("reads");
        assert!(discord.remove(posted[3].message_id.get()));
        let refusing = Scripted {
            discord: discord.clone(),
            refuse_changes_after: Some(2),
            ..Scripted::default()
        };
        let outcome = take_down(&store, &refusing).await;
        let UnpostOutcome::Interrupted {
            done: 3, total: 4, ..
        } = &outcome
        else {
            panic!("{outcome:?}");
        };
        assert!(
            outcome
                .words()
                .contains("run `/prayer unpost week:2026-11-23` again"),
            "{}",
            outcome.words()
        );
        // The week stays posted, with the one message left; nothing posts it.
        let left = store.posted_messages(GUILD, week()).await.expect("reads");
        assert_eq!(left, [posted[0]]);
        let idle = Scripted::default();
        assert_eq!(
            post(&store, &idle, GUILD).await,
            PostOutcome::AlreadyPosted { week: week() }
        );
        assert!(
            store
                .admin_actions(GUILD, 5)
                .await
                .expect("reads")
                .is_empty()
        );
        // The next unpost deletes the rest.
        let next = Scripted {
            discord: discord.clone(),
            ..Scripted::default()
        };
        let outcome = take_down(&store, &next).await;
        assert!(
            matches!(
                outcome,
                UnpostOutcome::Done {
                    deleted: 1,
                    gone: 0,
                    ..
                }
            ),
            "{outcome:?}"
        );
        assert!(discord.held().is_empty());
    }
}
