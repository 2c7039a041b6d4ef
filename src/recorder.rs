//! Writes 🙏 reaction changes to the store in the background, in batches.
//!
//! A popular request can draw hundreds of reactions in a second, and a
//! transaction per reaction would make each one wait for the disk. Here the
//! gateway's handler only queues the change; one writer task takes whatever
//! has queued since its last write (up to [`MAX_BATCH`]), reduces it with
//! [`tracking::coalesce`] and writes it in one transaction. Under light load
//! a batch is a single change, written at once.
//!
//! Nothing is dropped quietly: the queue is bounded, so a flood waits for
//! the writer rather than growing without limit; a failed write is retried
//! with backoff, and only after the last attempt is the batch logged as
//! lost. [`Recorder::flush`] waits until everything queued before it is
//! written: shutdown calls it before closing the store.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::storage::Store;
use crate::tracking::{self, ReactionChange};

/// The most changes written in one transaction.
pub const MAX_BATCH: usize = 2048;

/// How many changes may wait for the writer before the gateway handler
/// itself waits.
const QUEUE: usize = 16 * 1024;

/// Attempts at writing one batch, and the first pause between them.
const ATTEMPTS: u32 = 5;
const FIRST_PAUSE: Duration = Duration::from_millis(50);

enum Job {
    Change(ReactionChange),
    Flush(oneshot::Sender<()>),
}

/// The queue to the writer task; cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Job>,
}

impl Recorder {
    /// Starts the writer. It runs until every `Recorder` is dropped and the
    /// queue is drained; `now` is the clock that stamps each batch.
    pub fn start<F>(store: Store, now: F) -> (Recorder, JoinHandle<()>)
    where
        F: Fn() -> DateTime<Utc> + Send + 'static,
    {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let writer = tokio::spawn(write_batches(store, jobs, now));
        (Recorder { queue }, writer)
    }

    /// Queues a change (waiting while the queue is full).
    pub async fn record(&self, change: ReactionChange) {
        if self.queue.send(Job::Change(change)).await.is_err() {
            tracing::error!("a reaction arrived after the recorder stopped; not recorded");
        }
    }

    /// Returns once every change queued before this call is written (or,
    /// after its retries, logged as lost).
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.queue.send(Job::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

async fn write_batches<F>(store: Store, mut jobs: mpsc::Receiver<Job>, now: F)
where
    F: Fn() -> DateTime<Utc>,
{
    let mut changes = Vec::new();
    let mut waiting = Vec::new();
    while let Some(job) = jobs.recv().await {
        let mut next = Some(job);
        while let Some(job) = next.take() {
            match job {
                Job::Change(change) => changes.push(change),
                Job::Flush(done) => waiting.push(done),
            }
            if changes.len() < MAX_BATCH {
                next = jobs.try_recv().ok();
            }
        }
        if !changes.is_empty() {
            write(&store, std::mem::take(&mut changes), now()).await;
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}

async fn write(store: &Store, changes: Vec<ReactionChange>, now: DateTime<Utc>) {
    let count = changes.len();
    let steps = tracking::coalesce(changes);
    let mut pause = FIRST_PAUSE;
    for attempt in 1..=ATTEMPTS {
        match store.apply_reactions(&steps, now).await {
            Ok(()) => return,
            Err(error) if attempt < ATTEMPTS => {
                tracing::warn!(%error, attempt, "could not record {count} reaction changes; retrying");
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            Err(error) => {
                tracing::error!(%error, "could not record {count} reaction changes; they are lost until the reactions are read back");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{GuildId, MessageId, UserId};
    use crate::storage::PostedMessage;
    use crate::storage::fixtures::*;
    use crate::tracking::ReactionKey;

    #[tokio::test]
    async fn every_queued_reaction_is_written_by_the_time_flush_returns() -> Result<(), StorageError>
    {
        let store = store().await;
        let w = week("2026-11-23");
        put(&store, Scope::Shared, ONE, Placement::Exactly(w)).await?;
        let stored = store.week(Scope::Guild(GUILD), w).await?.expect("stored");
        store
            .claim_week_post(GUILD, w, stored.bulletin_id, now())
            .await?;
        let message = PostedMessage {
            message_id: 500,
            channel_id: 42,
            request_id: Some(stored.request_ids[0]),
            part: 0,
        };
        store
            .record_posted_message(GUILD, w, message, now())
            .await?;

        let (recorder, writer) = Recorder::start(store.clone(), now);
        let users = 5_000;
        for user in 0..users {
            recorder
                .record(ReactionChange::Added(ReactionKey {
                    guild: GuildId::new(GUILD),
                    message: MessageId::new(500),
                    user: UserId::new(user),
                    emoji: "🙏".into(),
                }))
                .await;
        }
        recorder.flush().await;
        assert_eq!(store.mark_count().await?, i64::try_from(users).unwrap_or(0));
        drop(recorder);
        writer.await.expect("the writer ends when its queue closes");
        Ok(())
    }
}
