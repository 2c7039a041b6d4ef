//! Reading 🙏 reactions back from Discord: reactions made while the bot was
//! down, or lost in a gateway reconnect, are recorded when a new gateway
//! session begins (at start, and after any session that could not be
//! resumed). For each server's current week, each request message is read
//! (its reaction counts name the emoji on it), the users of each 🙏 are read
//! page by page, and the difference from what is stored goes to the
//! recorder as adds and removals.

use std::collections::HashSet;
use std::sync::Arc;

use poise::serenity_prelude as serenity;
use serenity::{Http, ReactionType};

use crate::ids::{ChannelId, MessageId, UserId};
use crate::recorder::Recorder;
use crate::storage::Store;
use crate::tracking::{ReactionChange, ReactionKey, is_prayer_emoji};

/// Users per page when reading a reaction's users (Discord's maximum).
const PAGE: u8 = 100;

/// Reads back every current week's 🙏 reactions and records what was
/// missed. Errors are logged; what could be read is still recorded.
pub async fn catch_up(http: Arc<Http>, store: Store, recorder: Recorder, bot: serenity::UserId) {
    // Each scheduled server's current week, in its own time zone; the
    // posts of that week are what its members react on.
    let schedules = match store.schedules().await {
        Ok(schedules) => schedules,
        Err(error) => {
            tracing::error!(%error, "could not read which reactions to read back");
            return;
        }
    };
    let now = super::now();
    let (mut added, mut removed) = (0usize, 0usize);
    for (guild, schedule) in schedules {
        // The week the schedule is on: after a weekend post, the next week.
        let week = crate::schedule::scheduled_week(schedule, now);
        let posts = match store.request_posts(guild, week).await {
            Ok(posts) => posts,
            Err(error) => {
                tracing::error!(%error, "could not read a server's posts");
                continue;
            }
        };
        for (channel, message) in posts {
            let Some(on_discord) = read_reactions(&http, channel, message, bot).await else {
                continue;
            };
            let stored: HashSet<(UserId, String)> = match store.reactions_on(guild, message).await {
                Ok(stored) => stored.into_iter().collect(),
                Err(error) => {
                    tracing::error!(%error, "could not read the stored reactions");
                    continue;
                }
            };
            let key = |(user, emoji): &(UserId, String)| ReactionKey {
                guild,
                channel,
                message,
                user: *user,
                emoji: emoji.clone(),
            };
            for missed in on_discord.difference(&stored) {
                recorder.record(ReactionChange::Added(key(missed))).await;
                added += 1;
            }
            for gone in stored.difference(&on_discord) {
                recorder.record(ReactionChange::Removed(key(gone))).await;
                removed += 1;
            }
        }
    }
    recorder.flush().await;
    if added + removed > 0 {
        tracing::warn!(
            added,
            removed,
            "read back 🙏 reactions missed while disconnected"
        );
    }
}

/// Who has a 🙏 (any tone) on `message` now, the bot left out; `None` if
/// Discord could not say.
async fn read_reactions(
    http: &Http,
    channel: ChannelId,
    message: MessageId,
    bot: serenity::UserId,
) -> Option<HashSet<(UserId, String)>> {
    let channel_id = serenity::ChannelId::new(channel.get().max(1));
    let message_id = serenity::MessageId::new(message.get().max(1));
    let found = match http.get_message(channel_id, message_id).await {
        Ok(found) => found,
        Err(error) => {
            tracing::warn!(%error, %message, "could not read a request's message back");
            return None;
        }
    };
    let mut users = HashSet::new();
    for reaction in &found.reactions {
        let ReactionType::Unicode(emoji) = &reaction.reaction_type else {
            continue;
        };
        if !is_prayer_emoji(emoji) {
            continue;
        }
        let mut after = None;
        loop {
            let page = match http
                .get_reaction_users(channel_id, message_id, &reaction.reaction_type, PAGE, after)
                .await
            {
                Ok(page) => page,
                Err(error) => {
                    tracing::warn!(%error, %message, "could not read a reaction's users");
                    return None;
                }
            };
            let full = page.len() == usize::from(PAGE);
            after = page.last().map(|user| user.id.get());
            users.extend(
                page.into_iter()
                    .filter(|user| user.id != bot)
                    .map(|user| (UserId::new(user.id.get()), emoji.clone())),
            );
            if !full || after.is_none() {
                break;
            }
        }
    }
    Some(users)
}
