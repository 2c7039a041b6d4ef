//! The real [`Messenger`]: messages as Discord wants them (mentions off
//! but for the members a praise tells, the request's buttons, a nonce
//! Discord enforces), sent through [`Rest`], which paces and retries.

use poise::serenity_prelude as serenity;
use serenity::http::{LightMethod, Multipart, MultipartUpload, Request, Route};
use serenity::{
    ButtonStyle, CreateActionRow, CreateAllowedMentions, CreateAttachment, CreateButton,
    CreateMessage, EditMessage, MessageReference, Nonce, ReactionType,
};

use super::rest::{Rest, snowflake, snowflake_in};
use crate::ids::{ChannelId, MessageId, RequestId, UserId};
use crate::posting::buttons::{Button, PrayerAction};
use crate::posting::{
    Attachment, EditedMessage, MAX_BUTTONS, Messenger, OutgoingMessage, RECENT_MESSAGES,
    SeenMessage, SendError,
};

/// The buttons under a request; their custom ids come from [`Button`].
pub fn request_buttons(request: RequestId) -> CreateActionRow {
    CreateActionRow::Buttons(vec![
        CreateButton::new(Button::Request(PrayerAction::Commit, request).custom_id())
            .label("I'll pray")
            .style(ButtonStyle::Primary),
        CreateButton::new(Button::Request(PrayerAction::Prayed, request).custom_id())
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

/// The rows of buttons a message carries: the request's, then its own in
/// rows of five (at most [`MAX_BUTTONS`]).
fn components(message: &OutgoingMessage) -> Vec<CreateActionRow> {
    let own: Vec<CreateButton> = message
        .buttons
        .iter()
        .take(MAX_BUTTONS)
        .map(|(button, label)| {
            CreateButton::new(button.custom_id())
                .label(crate::posting::render::fit_label(label))
                .style(ButtonStyle::Success)
        })
        .collect();
    message
        .buttons_for
        .map(request_buttons)
        .into_iter()
        .chain(
            own.chunks(5)
                .map(|row| CreateActionRow::Buttons(row.to_vec())),
        )
        .collect()
}

/// The body of a message as Discord's `POST /channels/{id}/messages` takes it.
fn message_body(channel: ChannelId, message: &OutgoingMessage) -> Result<Vec<u8>, SendError> {
    let notify = message
        .notify
        .iter()
        .map(|&user| serenity::UserId::from(user));
    let mut builder = CreateMessage::new()
        .content(message.content.clone())
        .allowed_mentions(
            no_pings()
                .users(notify)
                .roles(message.notify_role.map(serenity::RoleId::from)),
        )
        .nonce(Nonce::String(message.nonce.clone()))
        .enforce_nonce(true);
    if let Some(reply_to) = message.reply_to {
        let channel = serenity::ChannelId::from(channel);
        let reply_to = serenity::MessageId::from(reply_to);
        builder = builder.reference_message(
            MessageReference::from((channel, reply_to)).fail_if_not_exists(false),
        );
    }
    let rows = components(message);
    if !rows.is_empty() {
        builder = builder.components(rows);
    }
    serde_json::to_vec(&builder)
        .map_err(|e| SendError::invalid(format!("the message could not be encoded ({e})")))
}

/// The body of an edit as Discord's `PATCH /channels/{c}/messages/{m}`
/// takes it: the text, mentions off, and the buttons the message keeps
/// (none is an empty list, so the message ends as posted).
fn edit_body(edited: &EditedMessage) -> Result<Vec<u8>, SendError> {
    let buttons = edited
        .buttons_for
        .map(request_buttons)
        .into_iter()
        .collect();
    let builder = EditMessage::new()
        .content(edited.content.clone())
        .allowed_mentions(no_pings())
        .components(buttons);
    serde_json::to_vec(&builder)
        .map_err(|e| SendError::invalid(format!("the edit could not be encoded ({e})")))
}

/// The `payload_json` of a message sent with one file: the message's body
/// with `attachments: [{id: "0", filename}]`, the id naming the `files[0]`
/// part (a snowflake string, as the spec types it).
fn payload_with_file(
    channel: ChannelId,
    message: &OutgoingMessage,
    file: &Attachment,
) -> Result<String, SendError> {
    let body = message_body(channel, message)?;
    let mut json: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| SendError::invalid(format!("the message could not be encoded ({e})")))?;
    json["attachments"] = serde_json::json!([{"id": "0", "filename": file.filename}]);
    Ok(json.to_string())
}

impl Messenger for Rest {
    async fn send_with_file(
        &self,
        channel: ChannelId,
        message: &OutgoingMessage,
        file: &Attachment,
    ) -> Result<MessageId, SendError> {
        let payload = payload_with_file(channel, message, file)?;
        let answer = self
            .call(|| {
                let route = Route::ChannelMessages {
                    channel_id: channel.into(),
                };
                // CreateAttachment's id is 0: the part is `files[0]`.
                let upload = CreateAttachment::bytes(file.bytes.clone(), file.filename.clone());
                Request::new(route, LightMethod::Post).multipart(Some(Multipart {
                    upload: MultipartUpload::Attachments(vec![upload]),
                    fields: Vec::new(),
                    payload_json: Some(payload.clone()),
                }))
            })
            .await?;
        snowflake_in(&answer, "the message").map(MessageId::new)
    }

    async fn send(
        &self,
        channel: ChannelId,
        message: &OutgoingMessage,
    ) -> Result<MessageId, SendError> {
        let body = message_body(channel, message)?;
        let answer = self
            .call(|| {
                let route = Route::ChannelMessages {
                    channel_id: channel.into(),
                };
                Request::new(route, LightMethod::Post).body(Some(body.clone()))
            })
            .await?;
        snowflake_in(&answer, "the message").map(MessageId::new)
    }

    async fn open_thread(
        &self,
        channel: ChannelId,
        message: MessageId,
        name: &str,
    ) -> Result<ChannelId, SendError> {
        // A week's talk stays open the whole week: a week's archive time.
        let body = serde_json::to_vec(&serde_json::json!({
            "name": name,
            "auto_archive_duration": 10080,
        }))
        .map_err(|e| SendError::invalid(format!("the thread could not be encoded ({e})")))?;
        let answer = self
            .call(|| {
                let route = Route::ChannelMessageThreads {
                    channel_id: channel.into(),
                    message_id: message.into(),
                };
                Request::new(route, LightMethod::Post).body(Some(body.clone()))
            })
            .await?;
        snowflake_in(&answer, "the thread").map(ChannelId::new)
    }

    async fn open_dm(&self, user: UserId) -> Result<ChannelId, SendError> {
        let body = serde_json::to_vec(&serde_json::json!({ "recipient_id": user.to_string() }))
            .map_err(|e| SendError::invalid(format!("the request could not be encoded ({e})")))?;
        let answer = self
            .call(|| {
                Request::new(Route::UserMeDmChannels, LightMethod::Post).body(Some(body.clone()))
            })
            .await?;
        snowflake_in(&answer, "the direct-message channel").map(ChannelId::new)
    }

    async fn react(
        &self,
        channel: ChannelId,
        message: MessageId,
        emoji: &str,
    ) -> Result<(), SendError> {
        let reaction = ReactionType::Unicode(emoji.to_owned()).as_data();
        self.call(|| {
            let route = Route::ChannelMessageReactionMe {
                channel_id: channel.into(),
                message_id: message.into(),
                reaction: &reaction,
            };
            Request::new(route, LightMethod::Put)
        })
        .await
        .map(drop)
    }

    async fn edit(
        &self,
        channel: ChannelId,
        message: MessageId,
        edited: &EditedMessage,
    ) -> Result<(), SendError> {
        let body = edit_body(edited)?;
        self.call(|| {
            let route = Route::ChannelMessage {
                channel_id: channel.into(),
                message_id: message.into(),
            };
            Request::new(route, LightMethod::Patch).body(Some(body.clone()))
        })
        .await
        .map(drop)
    }

    async fn delete(&self, channel: ChannelId, message: MessageId) -> Result<(), SendError> {
        self.call(|| {
            let route = Route::ChannelMessage {
                channel_id: channel.into(),
                message_id: message.into(),
            };
            Request::new(route, LightMethod::Delete)
        })
        .await
        .map(drop)
    }

    async fn recent_messages(&self, channel: ChannelId) -> Result<Vec<SeenMessage>, SendError> {
        let bot = self.bot().await?;
        // One page: see RECENT_MESSAGES for why that is enough.
        let route = Route::ChannelMessages {
            channel_id: channel.into(),
        };
        let limit = vec![("limit", RECENT_MESSAGES.to_string())];
        let page = self.get(route, Some(limit)).await?;
        seen_messages(&page, bot)
    }

    fn stopping(&self) -> bool {
        Rest::stopping(self)
    }
}

/// The messages of a page of a channel's history, as a resumed post
/// compares them with what it planned: who wrote each, its text, and the
/// request its buttons name.
fn seen_messages(page: &[u8], bot: UserId) -> Result<Vec<SeenMessage>, SendError> {
    let json: serde_json::Value = serde_json::from_slice(page).map_err(|e| {
        SendError::invalid(format!(
            "Discord's list of messages could not be read ({e})"
        ))
    })?;
    let messages = json
        .as_array()
        .ok_or_else(|| SendError::invalid("Discord's answer was not a list of messages"))?;
    Ok(messages
        .iter()
        .filter_map(|message| {
            let id = snowflake(&message["id"]).and_then(MessageId::try_new)?;
            let request = message["components"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|row| row["components"].as_array())
                .flatten()
                .filter_map(|component| component["custom_id"].as_str())
                .find_map(|custom_id| match Button::parse(custom_id) {
                    Some(Button::Request(_, request)) => Some(request),
                    _ => None,
                });
            Some(SeenMessage {
                id,
                from_bot: snowflake(&message["author"]["id"]) == Some(bot.get()),
                content: message["content"].as_str().unwrap_or_default().to_owned(),
                request,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::ids::{ChannelId, MessageId, RequestId, UserId};
    use fake_discord::{FakeChannel, FakeDiscord, FakeGuild};

    #[test]
    fn a_page_of_history_reads_as_who_wrote_what_and_whose_buttons() {
        let custom_id = Button::Request(PrayerAction::Commit, RequestId::of::<42>()).custom_id();
        let page = serde_json::json!([
            {"id": "30", "author": {"id": "7"}, "content": "🙏 **Africa**\nPray for Kenya.",
             "components": [{"type": 1, "components": [
                 {"type": 2, "custom_id": custom_id, "label": "I'll pray", "style": 1}]}]},
            {"id": "20", "author": {"id": "8"}, "content": "amen"},
            {"id": "0", "author": {"id": "7"}, "content": "no id"},
        ]);
        let seen = seen_messages(page.to_string().as_bytes(), UserId::of::<7>()).expect("reads");
        assert_eq!(
            seen,
            [
                SeenMessage {
                    id: MessageId::of::<30>(),
                    from_bot: true,
                    content: "🙏 **Africa**\nPray for Kenya.".into(),
                    request: Some(RequestId::of::<42>()),
                },
                SeenMessage {
                    id: MessageId::of::<20>(),
                    from_bot: false,
                    content: "amen".into(),
                    request: None,
                },
            ]
        );
        assert!(seen_messages(b"{}", UserId::of::<7>()).is_err());
    }

    #[tokio::test]
    async fn what_the_bot_sent_reads_back_from_the_fake_discord() {
        let fake = FakeDiscord::start().await;
        let channel = FakeChannel::text(fake.next_id(), "prayer");
        fake.add_guild(
            FakeGuild::new(fake.next_id(), "Prayer Group", fake.owner().id)
                .with_channel(channel.clone()),
        );
        let http = serenity::HttpBuilder::new(
            "MTA5ODc2NTQzMjEwOTg3NjU0.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789_-",
        )
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .build();
        let shutdown = crate::discord::shutdown::Shutdown::new();
        let rate = std::num::NonZeroU32::new(50).expect("non-zero");
        let messenger = Rest::new(std::sync::Arc::new(http), shutdown.stop(), rate);
        let message = |content: &str, buttons_for, nonce: &str| OutgoingMessage {
            content: content.into(),
            buttons_for,
            nonce: nonce.into(),
            reply_to: None,
            notify: Vec::new(),
            notify_role: None,
            buttons: Vec::new(),
        };
        let first = messenger
            .send(
                ChannelId::try_new(channel.id).expect("ids are not 0"),
                &message("part one", None, "n1"),
            )
            .await
            .expect("sends");
        let second = messenger
            .send(
                ChannelId::try_new(channel.id).expect("ids are not 0"),
                &message("part two", Some(RequestId::of::<5>()), "n2"),
            )
            .await
            .expect("sends");
        let seen = messenger
            .recent_messages(ChannelId::try_new(channel.id).expect("ids are not 0"))
            .await
            .expect("reads");
        let shown: Vec<_> = seen
            .iter()
            .map(|s| (s.id, s.from_bot, s.content.as_str(), s.request))
            .collect();
        assert_eq!(
            shown,
            [
                (second, true, "part two", Some(RequestId::of::<5>())),
                (first, true, "part one", None)
            ]
        );
        let reads = fake.requests_matching("GET", "/channels/*/messages$");
        assert_eq!(reads.len(), 1);
        let query = reads[0].query.as_deref().unwrap_or_default();
        assert!(query.split('&').any(|p| p == "limit=100"), "{query}");
        fake.assert_no_spec_violations();
    }
}
