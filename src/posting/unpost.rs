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
