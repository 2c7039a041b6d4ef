//! Reading 🙏 reactions back from Discord: reactions made while the bot was
//! down, or lost in a gateway reconnect, are recorded when a new gateway
//! session begins (at start, and after any session that could not be
//! resumed). For each server's current and previous week (a weekend
//! outage spans both), each request message is read (its reaction counts
//! name the emoji on it), the users of each 🙏 are read page by page, and
//! the difference from what is stored goes to the recorder as adds and
//! removals.
//!
//! Reads go through the messenger: the same pacing as every send, the
//! wait a 429 asks for, and retries of a 5xx. A message still unreadable
//! after them, or deleted from Discord, is noted for `/prayer status`; a
//! later read that succeeds clears the note. Other bots' reactions do not
//! count, nor those of a member who used `/prayer forget-me` since (see
//! [`Store::forgotten_among`]).

use std::collections::HashSet;

use super::rest::Rest;
use crate::bulletins::week::PrayerWeek;
use crate::ids::{ChannelId, GuildId, MessageId, UserId};
use crate::posting::SendError;
use crate::storage::Store;
use crate::tracking::recorder::Recorder;
use crate::tracking::{ReactionChange, ReactionKey, is_prayer_emoji};

/// Users per page when reading a reaction's users (Discord's maximum).
const PAGE: u8 = 100;

/// Reads back the current and previous week's 🙏 reactions and records
/// what was missed. Errors are logged; what could be read is still
/// recorded. `only`, with several shards: the servers of the shard whose
/// READY asked for it (each shard reads back its own).
pub async fn catch_up(
    messenger: Rest,
    store: Store,
    recorder: Recorder,
    bot: UserId,
    only: Option<HashSet<GuildId>>,
) {
    // Each scheduled server's current week, in its own time zone; the
    // posts of that week and the one before are what its members react on.
    let schedules = match store.schedules().await {
        Ok(schedules) => schedules,
        Err(error) => {
            tracing::error!(%error, "could not read which reactions to read back");
            return;
        }
    };
    let reader = Reader {
        messenger,
        store,
        recorder,
        bot,
    };
    let now = super::now();
    let mut tally = Tally::default();
    for (guild, schedule) in schedules {
        if only.as_ref().is_some_and(|only| !only.contains(&guild)) {
            continue;
        }
        // The week the schedule is on: after a weekend post, the next week.
        let week = crate::schedule::scheduled_week(schedule, now);
        let Some(posts) = reader.posts(guild, week).await else {
            continue;
        };
        for (channel, message) in posts {
            if reader.messenger.stopping() {
                break;
            }
            reader.message(guild, channel, message, &mut tally).await;
        }
        if reader.messenger.stopping() {
            break;
        }
    }
    reader.recorder.flush().await;
    tally.log();
}

/// What one catch-up found.
#[derive(Default)]
struct Tally {
    added: usize,
    removed: usize,
    unread: usize,
}

impl Tally {
    fn log(&self) {
        let Tally {
            added,
            removed,
            unread,
        } = *self;
        if added + removed > 0 {
            tracing::warn!(
                added,
                removed,
                "read back 🙏 reactions missed while disconnected"
            );
        }
        if unread > 0 {
            tracing::warn!(
                unread,
                "some request messages could not be read back; /prayer status names them"
            );
        }
    }
}

/// What reading back needs: Discord, the store, and the recorder the
/// differences go to.
struct Reader {
    messenger: Rest,
    store: Store,
    recorder: Recorder,
    bot: UserId,
}

impl Reader {
    /// `guild`'s request messages of `week` and the week before (an outage
    /// over a weekend spans both); `None` if the store could not say.
    async fn posts(&self, guild: GuildId, week: PrayerWeek) -> Option<Vec<(ChannelId, MessageId)>> {
        match self.store.request_posts(guild, week).await {
            Ok(posts) => Some(with_week_before(&self.store, guild, week, posts).await),
            Err(error) => {
                tracing::error!(%error, "could not read a server's posts");
                None
            }
        }
    }

    /// Reads one message's 🙏 and queues the difference from the store.
    async fn message(
        &self,
        guild: GuildId,
        channel: ChannelId,
        message: MessageId,
        tally: &mut Tally,
    ) {
        let store = &self.store;
        let on_discord = match read_reactions(&self.messenger, channel, message, self.bot).await {
            Ok(found) => found,
            Err(_) if self.messenger.stopping() => return,
            Err(error) => {
                tally.unread += 1;
                note_unread(store, guild, message, &error).await;
                return;
            }
        };
        if let Err(error) = store.clear_unread(message).await {
            tracing::error!(%error, "could not clear a message's problem");
        }
        let Some((on_discord, stored)) = self.compared(guild, message, on_discord).await else {
            return;
        };
        let key = |(user, emoji): &(UserId, String)| ReactionKey {
            guild,
            channel,
            message,
            user: *user,
            emoji: emoji.clone(),
        };
        for missed in on_discord.difference(&stored) {
            self.recorder
                .record(ReactionChange::Added(key(missed)))
                .await;
            tally.added += 1;
        }
        for gone in stored.difference(&on_discord) {
            self.recorder
                .record(ReactionChange::Removed(key(gone)))
                .await;
            tally.removed += 1;
        }
    }

    /// What Discord shows on `message`, less the members who asked to be
    /// forgotten, beside what the store holds; `None` if the store could
    /// not say.
    async fn compared(
        &self,
        guild: GuildId,
        message: MessageId,
        mut on_discord: HashSet<(UserId, String)>,
    ) -> Option<(HashSet<(UserId, String)>, HashSet<(UserId, String)>)> {
        let users: Vec<UserId> = on_discord.iter().map(|(user, _)| *user).collect();
        match self.store.forgotten_among(guild, message, &users).await {
            Ok(forgotten) => on_discord.retain(|(user, _)| !forgotten.contains(user)),
            Err(error) => {
                tracing::error!(%error, "could not read who asked to be forgotten");
                return None;
            }
        }
        match self.store.reactions_on(guild, message).await {
            Ok(stored) => Some((on_discord, stored.into_iter().collect())),
            Err(error) => {
                tracing::error!(%error, "could not read the stored reactions");
                None
            }
        }
    }
}

/// The request posts of the week before `week`, then `posts` (`week`'s);
/// notes on weeks older than that are dropped, as they are read no more.
async fn with_week_before(
    store: &Store,
    guild: GuildId,
    week: PrayerWeek,
    posts: Vec<(ChannelId, MessageId)>,
) -> Vec<(ChannelId, MessageId)> {
    let before = week.weeks_before(1);
    if let Err(error) = store.prune_read_back_notes(guild, before).await {
        tracing::error!(%error, "could not drop notes on weeks no longer read back");
    }
    match store.request_posts(guild, before).await {
        Ok(mut earlier) => {
            earlier.extend(posts);
            earlier
        }
        Err(error) => {
            tracing::error!(%error, "could not read a server's posts");
            posts
        }
    }
}

/// Notes for `/prayer status` that `message` could not be read.
async fn note_unread(store: &Store, guild: GuildId, message: MessageId, error: &SendError) {
    // 404: Discord says the message (or its channel) is gone.
    let deleted = error.is_gone();
    tracing::warn!(reason = %error, %message, deleted, "could not read a request's message back");
    if let Err(error) = store
        .note_unread(guild, message, deleted, &error.to_string(), super::now())
        .await
    {
        tracing::error!(%error, "could not note a message that could not be read");
    }
}

/// Who has a 🙏 (any tone) on `message` now, bots (this one included)
/// left out; or why Discord could not say.
async fn read_reactions(
    messenger: &Rest,
    channel: ChannelId,
    message: MessageId,
    bot: UserId,
) -> Result<HashSet<(UserId, String)>, SendError> {
    let unreadable = |e: serde_json::Error| SendError::Refused {
        status: 200,
        reason: format!("Discord's answer could not be read ({e})"),
    };
    let found: serde_json::Value =
        serde_json::from_slice(&messenger.read_message(channel, message).await?)
            .map_err(unreadable)?;
    let emoji: Vec<String> = found["reactions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|reaction| reaction["emoji"]["id"].is_null())
        .filter_map(|reaction| reaction["emoji"]["name"].as_str())
        .filter(|emoji| is_prayer_emoji(emoji))
        .map(str::to_owned)
        .collect();
    let mut users = HashSet::new();
    for emoji in emoji {
        let mut after = None;
        loop {
            let page = messenger
                .read_reaction_users(channel, message, &emoji, PAGE, after)
                .await?;
            let page: Vec<serde_json::Value> = serde_json::from_slice(&page).map_err(unreadable)?;
            let full = page.len() == usize::from(PAGE);
            let ids: Vec<(UserId, bool)> = page
                .iter()
                .filter_map(|user| {
                    let id = user["id"].as_str()?.parse::<u64>().ok()?;
                    Some((UserId::try_new(id)?, user["bot"].as_bool() == Some(true)))
                })
                .collect();
            after = ids.last().map(|(id, _)| *id);
            users.extend(
                ids.into_iter()
                    .filter(|(id, is_bot)| !is_bot && *id != bot)
                    .map(|(id, _)| (id, emoji.clone())),
            );
            if !full || after.is_none() {
                break;
            }
        }
    }
    Ok(users)
}
