//! The one fake [`Messenger`] of the unit tests: it records what is sent
//! and, as a test scripts it, fails sends, holds them at a gate, makes
//! posts meet, crashes part-way or says the process is stopping. Every
//! field but the records is a part of the script, off by default:
//! `Scripted { fail_after: Some(2), ..Scripted::default() }`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::{Barrier, Notify, Semaphore};

use super::{
    Attachment, EditedMessage, Messenger, OutgoingMessage, RECENT_MESSAGES, SeenMessage, SendError,
};
use crate::ids::{ChannelId, MessageId, UserId};

/// How long a held send waits for its gate or its meeting before it fails.
const PATIENCE: Duration = Duration::from_secs(5);

/// A message as the fake Discord holds it.
#[derive(Debug, Clone)]
pub(crate) struct Held {
    pub channel: ChannelId,
    pub id: u64,
    pub from_bot: bool,
    pub message: OutgoingMessage,
    /// Deleted since: no longer shown.
    pub deleted: bool,
}

/// What Discord holds: every message of a test, in order. Messengers of
/// one test share it as two processes share Discord. It never drops a
/// resent nonce: every test runs as if Discord's nonce window had passed,
/// so a message sent twice shows twice.
#[derive(Clone, Default)]
pub(crate) struct Discord(Arc<Mutex<Vec<Held>>>);

impl Discord {
    pub fn add(&self, channel: ChannelId, from_bot: bool, message: OutgoingMessage) -> u64 {
        let mut held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let id = 1_000 + held.len() as u64;
        held.push(Held {
            channel,
            id,
            from_bot,
            message,
            deleted: false,
        });
        id
    }

    /// Drops message `id` (as [`Discord::add`] numbered it); whether it
    /// was there.
    pub fn remove(&self, id: u64) -> bool {
        let mut held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match held.iter_mut().find(|h| h.id == id && !h.deleted) {
            Some(found) => {
                found.deleted = true;
                true
            }
            None => false,
        }
    }

    /// The messages Discord shows: those not deleted.
    pub fn held(&self) -> Vec<Held> {
        let held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        held.iter().filter(|h| !h.deleted).cloned().collect()
    }

    /// The nonces of the bot's messages, sorted: a nonce twice is a
    /// message posted twice.
    pub fn nonces(&self) -> Vec<String> {
        let mut nonces: Vec<String> = self
            .held()
            .into_iter()
            .filter(|h| h.from_bot && !h.message.nonce.is_empty())
            .map(|h| h.message.nonce)
            .collect();
        nonces.sort();
        nonces
    }
}

/// How a run dies part-way: at its send number `n` (from 0), before
/// Discord gets the message, or after Discord took it but before the
/// answer came back, so the post never records it. The run then hangs as
/// a dead process would, holding its lease.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Crash {
    BeforeSend(usize),
    AfterSend(usize),
}

/// Holds every send until the test opens it, and says when one is being
/// sent.
pub(crate) struct Gate {
    pub sending: Notify,
    pub open: Semaphore,
}

impl Gate {
    pub fn closed() -> Self {
        Gate {
            sending: Notify::new(),
            open: Semaphore::new(0),
        }
    }
}

/// Something a test does after a given number of sends.
pub(crate) type AfterSends = (usize, BoxFuture<'static, ()>);

#[derive(Default)]
pub(crate) struct Scripted {
    /// What this messenger sent, as Discord took it.
    pub sent: Mutex<Vec<(ChannelId, OutgoingMessage)>>,
    pub reactions: Mutex<Vec<(ChannelId, MessageId)>>,
    /// The files sent with messages, with the message each came with.
    pub files: Mutex<Vec<(MessageId, Attachment)>>,
    /// Sends tried, the failed ones included.
    pub tried: AtomicUsize,
    /// Send number `n` (from 0) fails as Discord's 503 would.
    pub fail_after: Option<usize>,
    /// Messages refused as a missing permission would refuse them.
    pub refuse: Option<fn(&OutgoingMessage) -> bool>,
    /// Says the process is stopping once this many messages are sent.
    pub stop_after: Option<usize>,
    /// Message ids start after this, so two messengers never share one.
    pub first_id: u64,
    pub discord: Discord,
    pub crash: Option<Crash>,
    pub crashed: Notify,
    /// At this send (from 0) Discord takes the message but the answer is
    /// lost: the send fails, and the post never records it.
    pub lose_answer: Option<usize>,
    /// Run once that many messages are sent, before the last one's answer.
    pub after: Mutex<Option<AfterSends>>,
    /// The first send waits for this, so another run can try the post
    /// while this one holds it.
    pub first_waits: Option<Arc<Notify>>,
    /// Every send waits at this gate.
    pub gate: Option<Arc<Gate>>,
    /// Each channel's first message waits until the first messages of all
    /// the channels the barrier counts have come.
    pub meet: Option<Barrier>,
    /// The channels whose first message has come (kept by the messenger).
    pub met: Mutex<HashSet<ChannelId>>,
    /// Members whose direct messages are closed to the bot.
    pub closed_dms: HashSet<UserId>,
    /// The threads opened, on which message and named how.
    pub threads: Mutex<Vec<(MessageId, String)>>,
    /// Every edit Discord took, in order.
    pub edits: Mutex<Vec<(ChannelId, MessageId, EditedMessage)>>,
    /// Every message Discord deleted, in order.
    pub deleted: Mutex<Vec<(ChannelId, MessageId)>>,
    /// Edits and deletions from this number on (from 0, counted together)
    /// are refused as a missing permission would refuse them.
    pub refuse_changes_after: Option<usize>,
}

/// A member's direct-message channel is this plus their id.
pub const DM_CHANNELS: u64 = 1 << 40;

/// Discord failing on its side (an outage), as a retried send ends.
fn failure(reason: &str) -> SendError {
    SendError::Unavailable(reason.to_owned())
}

/// Discord refusing for good, as a missing permission does.
fn refusal(reason: &str) -> SendError {
    SendError::Refused {
        status: 403,
        reason: reason.to_owned(),
    }
}

impl Scripted {
    /// Messages sent (refused ones not counted).
    pub fn count(&self) -> usize {
        self.lock_sent().len()
    }

    /// The channels messages were sent to, in order.
    pub fn channels(&self) -> Vec<ChannelId> {
        self.lock_sent()
            .iter()
            .map(|(channel, _)| *channel)
            .collect()
    }

    fn lock_sent(&self) -> std::sync::MutexGuard<'_, Vec<(ChannelId, OutgoingMessage)>> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits as the script says before send number `count`.
    async fn hold(&self, channel: ChannelId, count: usize) -> Result<(), SendError> {
        if let Some(first_waits) = &self.first_waits
            && count == 0
        {
            first_waits.notified().await;
        }
        if let Some(gate) = &self.gate {
            gate.sending.notify_one();
            match tokio::time::timeout(PATIENCE, gate.open.acquire()).await {
                Ok(Ok(_)) => {}
                _ => return Err(failure("the gate was never opened")),
            }
        }
        let first_here = self
            .met
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(channel);
        if let Some(meet) = &self.meet
            && first_here
            && tokio::time::timeout(PATIENCE, meet.wait()).await.is_err()
        {
            return Err(failure("the other server's post never began"));
        }
        Ok(())
    }
}

impl Messenger for Scripted {
    async fn send(
        &self,
        channel: ChannelId,
        message: &OutgoingMessage,
    ) -> Result<MessageId, SendError> {
        // Another task may run here, as another process would.
        tokio::task::yield_now().await;
        self.tried.fetch_add(1, Ordering::Relaxed);
        let count = self.count();
        self.hold(channel, count).await?;
        if self.fail_after == Some(count) {
            return Err(failure("503 Service Unavailable"));
        }
        if self.refuse.is_some_and(|refused| refused(message)) {
            return Err(refusal("Missing Permissions"));
        }
        let deliver = !matches!(self.crash, Some(Crash::BeforeSend(n)) if n == count);
        let id = if deliver {
            self.lock_sent().push((channel, message.clone()));
            self.first_id + self.discord.add(channel, true, message.clone())
        } else {
            0
        };
        if matches!(self.crash, Some(Crash::BeforeSend(n) | Crash::AfterSend(n)) if n == count) {
            self.crashed.notify_one();
            return std::future::pending().await;
        }
        if self.lose_answer == Some(count) {
            return Err(failure("Discord could not be reached (timed out)"));
        }
        let after = {
            let mut after = self.after.lock().unwrap_or_else(|e| e.into_inner());
            match after.take() {
                Some((sends, then)) if sends == count + 1 => Some(then),
                other => {
                    *after = other;
                    None
                }
            }
        };
        if let Some(then) = after {
            then.await;
        }
        MessageId::try_new(id).ok_or_else(|| failure("no answer"))
    }

    async fn open_thread(
        &self,
        _channel: ChannelId,
        message: MessageId,
        name: &str,
    ) -> Result<ChannelId, SendError> {
        let mut threads = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        threads.push((message, name.to_owned()));
        ChannelId::try_new(message.get()).ok_or_else(|| failure("no thread"))
    }

    async fn open_dm(&self, user: UserId) -> Result<ChannelId, SendError> {
        if self.closed_dms.contains(&user) {
            return Err(refusal("Cannot send messages to this user"));
        }
        ChannelId::try_new(DM_CHANNELS + user.get()).ok_or_else(|| failure("no channel"))
    }

    async fn send_with_file(
        &self,
        channel: ChannelId,
        message: &OutgoingMessage,
        file: &Attachment,
    ) -> Result<MessageId, SendError> {
        let id = self.send(channel, message).await?;
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        files.push((id, file.clone()));
        Ok(id)
    }

    async fn react(
        &self,
        channel: ChannelId,
        message: MessageId,
        _emoji: &str,
    ) -> Result<(), SendError> {
        let mut reactions = self.reactions.lock().unwrap_or_else(|e| e.into_inner());
        reactions.push((channel, message));
        Ok(())
    }

    async fn recent_messages(&self, channel: ChannelId) -> Result<Vec<SeenMessage>, SendError> {
        Ok(self
            .discord
            .held()
            .into_iter()
            .rev()
            .filter(|h| h.channel == channel)
            .take(usize::from(RECENT_MESSAGES))
            .map(|h| SeenMessage {
                id: MessageId::try_new(self.first_id + h.id).expect("ids are not 0"),
                from_bot: h.from_bot,
                content: h.message.content,
                request: h.message.buttons_for,
            })
            .collect())
    }

    async fn edit(
        &self,
        channel: ChannelId,
        message: MessageId,
        edited: &EditedMessage,
    ) -> Result<(), SendError> {
        tokio::task::yield_now().await;
        self.change(channel, message)?;
        let mut edits = self.edits.lock().unwrap_or_else(|e| e.into_inner());
        edits.push((channel, message, edited.clone()));
        Ok(())
    }

    async fn delete(&self, channel: ChannelId, message: MessageId) -> Result<(), SendError> {
        tokio::task::yield_now().await;
        self.change(channel, message)?;
        let raw = message.get().saturating_sub(self.first_id);
        self.discord.remove(raw);
        let mut deleted = self.deleted.lock().unwrap_or_else(|e| e.into_inner());
        deleted.push((channel, message));
        Ok(())
    }

    fn stopping(&self) -> bool {
        self.stop_after.is_some_and(|n| self.count() >= n)
    }
}

impl Scripted {
    /// Whether Discord lets the bot change `message`: refused as scripted,
    /// 404 when it is not (or no longer) in `channel`.
    fn change(&self, channel: ChannelId, message: MessageId) -> Result<(), SendError> {
        let done = self.lock_edits_len() + self.lock_deleted_len();
        if self.refuse_changes_after.is_some_and(|n| done >= n) {
            return Err(refusal("Missing Access"));
        }
        let raw = message.get().saturating_sub(self.first_id);
        let held = self
            .discord
            .held()
            .iter()
            .any(|h| h.id == raw && h.channel == channel);
        if held {
            Ok(())
        } else {
            Err(SendError::Refused {
                status: 404,
                reason: "Unknown Message".to_owned(),
            })
        }
    }

    fn lock_edits_len(&self) -> usize {
        self.edits.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn lock_deleted_len(&self) -> usize {
        self.deleted.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(content: &str) -> OutgoingMessage {
        OutgoingMessage {
            content: content.to_owned(),
            buttons_for: None,
            nonce: content.to_owned(),
            reply_to: None,
            notify: Vec::new(),
            notify_role: None,
            buttons: Vec::new(),
        }
    }

    #[tokio::test]
    async fn it_records_sends_and_fails_the_scripted_ones() {
        let scripted = Scripted {
            refuse: Some(|m| m.content == "no"),
            ..Scripted::default()
        };
        assert!(
            scripted
                .send(ChannelId::of::<7>(), &message("a"))
                .await
                .is_ok()
        );
        assert!(
            scripted
                .send(ChannelId::of::<8>(), &message("no"))
                .await
                .is_err(),
            "refused"
        );
        assert!(
            scripted
                .send(ChannelId::of::<8>(), &message("c"))
                .await
                .is_ok()
        );
        assert_eq!(
            scripted.channels(),
            [ChannelId::of::<7>(), ChannelId::of::<8>()]
        );
        assert_eq!(scripted.tried.load(Ordering::Relaxed), 3);
        assert_eq!(scripted.discord.nonces(), ["a", "c"]);
        let seen = scripted
            .recent_messages(ChannelId::of::<8>())
            .await
            .unwrap_or_default();
        assert_eq!(seen.len(), 1);

        // From its second message on, Discord answers 503.
        let failing = Scripted {
            fail_after: Some(1),
            ..Scripted::default()
        };
        assert!(
            failing
                .send(ChannelId::of::<7>(), &message("a"))
                .await
                .is_ok()
        );
        assert!(
            failing
                .send(ChannelId::of::<7>(), &message("b"))
                .await
                .is_err()
        );
        assert!(
            failing
                .send(ChannelId::of::<7>(), &message("b"))
                .await
                .is_err()
        );
        assert_eq!(failing.count(), 1);
    }

    #[tokio::test]
    async fn a_gated_send_waits_until_the_gate_opens() {
        let gate = Arc::new(Gate::closed());
        let scripted = Scripted {
            gate: Some(gate.clone()),
            ..Scripted::default()
        };
        let open = async {
            gate.sending.notified().await;
            assert_eq!(scripted.count(), 0, "held at the gate");
            gate.open.add_permits(1);
        };
        let a = message("a");
        let (sent, ()) = tokio::join!(scripted.send(ChannelId::of::<1>(), &a), open);
        assert!(sent.is_ok());
        assert_eq!(scripted.count(), 1);
    }
}
