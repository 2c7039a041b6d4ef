//! No empty Monday: a day before a server's automatic post, if the week it
//! carries has no bulletin, the server's admins are told once in its
//! default channel, with the command that fixes it. `/prayer status` shows
//! the same problem meanwhile. Once per server and week in every process
//! (a row taken before the notice is sent), and given back if Discord
//! refused it, so a later tick tries again.

use chrono::{DateTime, Utc};

use crate::bulletins::week::PrayerWeek;
use crate::ids::GuildId;
use crate::posting::{Messenger, OutgoingMessage, stable_nonce};
use crate::schedule::{ServerState, post_coming_soon};
use crate::storage::{StorageError, Store};

/// Tells the admins of every server in `servers` whose next automatic post
/// comes within a day and whose week has no bulletin; returns the servers
/// and weeks told.
pub async fn warn_empty_weeks(
    store: &Store,
    messenger: &impl Messenger,
    servers: &[ServerState],
    now: DateTime<Utc>,
) -> Result<Vec<(GuildId, PrayerWeek)>, StorageError> {
    let coming: Vec<(GuildId, PrayerWeek, DateTime<Utc>)> = servers
        .iter()
        .filter_map(|server| {
            let (week, at) = post_coming_soon(server, now)?;
            Some((server.guild, week, at))
        })
        .collect();
    let wanted: Vec<(GuildId, PrayerWeek)> = coming.iter().map(|(g, w, _)| (*g, *w)).collect();
    let states = store.week_states(&wanted).await?;
    let mut told = Vec::new();
    for ((guild, week, at), state) in coming.into_iter().zip(states) {
        if !state.has_bulletin && tell(store, messenger, guild, week, at, now).await? {
            told.push((guild, week));
        }
    }
    Ok(told)
}

/// Sends one server's notice, if no one has yet; whether it was sent.
async fn tell(
    store: &Store,
    messenger: &impl Messenger,
    guild: GuildId,
    week: PrayerWeek,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let Some(channel) = store.channel_settings(guild).await?.admin_channel() else {
        return Ok(false);
    };
    if !store.take_empty_week_notice(guild, week, now).await? {
        return Ok(false);
    }
    let notice = OutgoingMessage {
        content: notice_text(week, at),
        buttons_for: None,
        nonce: stable_nonce('n', (guild.get(), week.to_string())),
        reply_to: None,
        notify: Vec::new(),
        notify_role: None,
        buttons: Vec::new(),
    };
    match messenger.send(channel, &notice).await {
        Ok(_) => Ok(true),
        Err(error) => {
            tracing::warn!(%guild, %week, %error, "could not tell the admins that the week has no bulletin");
            store.give_back_empty_week_notice(guild, week).await?;
            Ok(false)
        }
    }
}

/// What the admins read: which week, when it goes out, and what to do.
pub fn notice_text(week: PrayerWeek, at: DateTime<Utc>) -> String {
    let at = at.timestamp();
    format!(
        "⚠️ The week of {week} has no bulletin yet, and its post is due <t:{at}:R> (<t:{at}:F>). Admins: import it with `/prayer import` and a file attached, or nothing is posted that week."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulletins::week::Placement;
    use crate::ids::ChannelId;
    use crate::posting::scripted::Scripted;
    use crate::schedule::{Schedule, scheduled_week};
    use crate::storage::Scope;
    use crate::storage::fixtures::{GUILD, ONE, put, store};

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// GUILD posts Mondays at 09:00 UTC to channel 10; its state at `now`.
    async fn server(store: &Store, now: DateTime<Utc>) -> Result<ServerState, StorageError> {
        let schedule = Schedule::default();
        store.set_schedule(GUILD, &schedule, now).await?;
        store
            .set_default_channel(GUILD, ChannelId::of::<10>(), now)
            .await?;
        let week = scheduled_week(schedule, now);
        let state = store.week_states(&[(GUILD, week)]).await?[0];
        Ok(state.of_server(GUILD, schedule, week))
    }

    #[tokio::test]
    async fn the_admins_hear_once_a_day_before_that_the_week_is_empty() -> Result<(), StorageError>
    {
        let store = store().await;
        let sunday = at("2026-11-29T09:30:00Z");
        let servers = [server(&store, at("2026-11-20T00:00:00Z")).await?];
        let messenger = Scripted::default();
        let told = warn_empty_weeks(&store, &messenger, &servers, sunday).await?;
        let monday = "2026-11-30".parse::<PrayerWeek>().expect("a week");
        assert_eq!(told, [(GUILD, monday)]);
        let sent = messenger.sent.lock().map(|s| s.clone()).unwrap_or_default();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].0, ChannelId::of::<10>());
        assert!(
            sent[0]
                .1
                .content
                .contains("The week of 2026-11-30 has no bulletin yet")
        );
        assert!(sent[0].1.notify.is_empty(), "no one is pinged");
        // A second tick, or a second process, says nothing more.
        let again = warn_empty_weeks(&store, &messenger, &servers, sunday).await?;
        assert_eq!(again, []);
        assert_eq!(messenger.count(), 1);
        Ok(())
    }

    #[tokio::test]
    async fn a_week_with_a_bulletin_or_far_off_is_not_warned_about() -> Result<(), StorageError> {
        let store = store().await;
        let servers = [server(&store, at("2026-11-20T00:00:00Z")).await?];
        let messenger = Scripted::default();
        // Two days before: too soon to say.
        let friday = at("2026-11-27T12:00:00Z");
        assert_eq!(
            warn_empty_weeks(&store, &messenger, &servers, friday).await?,
            []
        );
        let monday = "2026-11-30".parse::<PrayerWeek>().expect("a week");
        put(&store, Scope::Shared, ONE, Placement::Exactly(monday)).await?;
        let sunday = at("2026-11-29T09:30:00Z");
        assert_eq!(
            warn_empty_weeks(&store, &messenger, &servers, sunday).await?,
            []
        );
        assert_eq!(messenger.count(), 0);
        Ok(())
    }

    #[tokio::test]
    async fn a_notice_discord_refused_is_tried_again() -> Result<(), StorageError> {
        let store = store().await;
        let servers = [server(&store, at("2026-11-20T00:00:00Z")).await?];
        let sunday = at("2026-11-29T09:30:00Z");
        let refusing = Scripted {
            refuse: Some(|_| true),
            ..Scripted::default()
        };
        assert_eq!(
            warn_empty_weeks(&store, &refusing, &servers, sunday).await?,
            []
        );
        let told = warn_empty_weeks(&store, &Scripted::default(), &servers, sunday).await?;
        assert_eq!(told.len(), 1, "given back, then sent");
        Ok(())
    }
}
