//! The real [`Messenger`]: sends through serenity's `Http`, with mentions
//! disabled, the request's buttons, and retries for rate limits and
//! Discord's own failures.

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use serenity::{
    ButtonStyle, ChannelId, CreateActionRow, CreateAllowedMentions, CreateButton, CreateMessage,
    Http, MessageId, Nonce, ReactionType,
};

use crate::posting::{Messenger, OutgoingMessage, SendError};

/// How often a send is tried before the post stops and says why.
const ATTEMPTS: u32 = 3;

pub struct HttpMessenger {
    pub http: Arc<Http>,
}

/// The custom id of a request's **I'll pray** button.
pub fn commit_button_id(request_id: i64) -> String {
    format!("prayer:commit:{request_id}")
}

/// The custom id of a request's **Prayed** button.
pub fn prayed_button_id(request_id: i64) -> String {
    format!("prayer:prayed:{request_id}")
}

/// The buttons under a request.
pub fn request_buttons(request_id: i64) -> CreateActionRow {
    CreateActionRow::Buttons(vec![
        CreateButton::new(commit_button_id(request_id))
            .label("I'll pray")
            .style(ButtonStyle::Primary),
        CreateButton::new(prayed_button_id(request_id))
            .label("Prayed")
            .style(ButtonStyle::Success),
    ])
}

/// Mentions that ping no one: no users, roles or @everyone, whatever the
/// text holds.
pub fn no_pings() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
        .empty_users()
        .empty_roles()
        .everyone(false)
        .replied_user(false)
}

fn channel_id(id: u64) -> Result<ChannelId, SendError> {
    if id == 0 {
        return Err(SendError("the stored channel id is 0".into()));
    }
    Ok(ChannelId::new(id))
}

impl Messenger for HttpMessenger {
    async fn send(&self, channel: u64, message: &OutgoingMessage) -> Result<u64, SendError> {
        let channel = channel_id(channel)?;
        let mut builder = CreateMessage::new()
            .content(message.content.clone())
            .allowed_mentions(no_pings())
            .nonce(Nonce::String(message.nonce.clone()))
            .enforce_nonce(true);
        if let Some(request_id) = message.buttons_for {
            builder = builder.components(vec![request_buttons(request_id)]);
        }
        let sent = with_retries(|| channel.send_message(&self.http, builder.clone())).await?;
        Ok(sent.id.get())
    }

    async fn react(&self, channel: u64, message: u64, emoji: &str) -> Result<(), SendError> {
        let channel = channel_id(channel)?;
        if message == 0 {
            return Err(SendError("the message id is 0".into()));
        }
        let reaction = ReactionType::Unicode(emoji.to_owned());
        with_retries(|| {
            self.http
                .create_reaction(channel, MessageId::new(message), &reaction)
        })
        .await
    }
}

/// Runs `call` until it succeeds, fails for good, or has been tried
/// [`ATTEMPTS`] times. A 429 (behind a proxy, serenity's own rate limiter is
/// off) or a 5xx is worth another try after a pause; anything else is not.
async fn with_retries<T, F>(mut call: impl FnMut() -> F) -> Result<T, SendError>
where
    F: Future<Output = Result<T, serenity::Error>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(error) => {
                let status = match &error {
                    serenity::Error::Http(http) => http.status_code().map(|s| s.as_u16()),
                    _ => None,
                };
                let retry = matches!(status, Some(429 | 500..=599));
                if !retry || attempt >= ATTEMPTS {
                    return Err(SendError(error.to_string()));
                }
                tracing::warn!(%error, attempt, "Discord refused a send; trying again");
                tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt * attempt))).await;
                attempt += 1;
            }
        }
    }
}
