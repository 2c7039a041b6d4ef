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

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::storage::Store;
use crate::tasks::Tasks;
use crate::tracking::{self, ReactionChange, ReactionKey};

/// The most changes written in one transaction.
pub const MAX_BATCH: usize = 2048;

/// How many changes may wait for the writer before the gateway handler
/// itself waits.
const QUEUE: usize = 16 * 1024;

/// Attempts at writing one batch, and the first and longest pause between
/// them (the pause doubles: 50, 100, 200, 400 ms).
const ATTEMPTS: u32 = 5;
const FIRST_PAUSE: Duration = Duration::from_millis(50);
const LONGEST_PAUSE: Duration = Duration::from_millis(400);

/// An add and a remove of one reaction this close together may have
/// arrived in either order (the client hands each gateway event to a task
/// of its own), so the bot asks Discord which stands.
const CONTESTED: Duration = Duration::from_secs(2);

/// How long after a contested change the bot asks, so the member's clicks
/// have settled.
const SETTLE: Duration = Duration::from_millis(300);

/// At most this many questions to Discord wait at once; past that a
/// contested change stands as it arrived (and is logged).
const MAX_CHECKS: usize = 256;

/// Asks Discord whether a member's reaction is on a message now: `None`
/// when Discord could not say.
pub trait ReactionCheck: Send + Sync + 'static {
    fn is_there<'a>(
        &'a self,
        key: &'a ReactionKey,
    ) -> Pin<Box<dyn Future<Output = Option<bool>> + Send + 'a>>;
}

enum Job {
    Change(ReactionChange),
    /// What Discord said stands, after a contested change.
    Settled(ReactionChange),
    Flush(oneshot::Sender<()>),
}

/// The queue to the writer task; cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Job>,
}

impl Recorder {
    /// Starts the writer. It runs until every `Recorder` is dropped and the
    /// queue is drained; `now` is the clock that stamps each batch, and
    /// `check` (if any) settles an add and a remove that arrived close
    /// together.
    pub fn start<F>(
        store: Store,
        now: F,
        check: Option<Arc<dyn ReactionCheck>>,
        tasks: Tasks,
    ) -> (Recorder, JoinHandle<()>)
    where
        F: Fn() -> DateTime<Utc> + Send + 'static,
    {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let checker = check.map(|check| Checker {
            check,
            queue: queue.downgrade(),
            waiting: Arc::new(AtomicUsize::new(0)),
            tasks,
        });
        let writer = tokio::spawn(write_batches(store, jobs, now, checker));
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

/// Asks Discord about contested reactions and queues the answer.
struct Checker {
    check: Arc<dyn ReactionCheck>,
    /// Weak, so the writer still ends when every `Recorder` is gone.
    queue: mpsc::WeakSender<Job>,
    waiting: Arc<AtomicUsize>,
    /// Where the questions to Discord are spawned, so a stop waits for them.
    tasks: Tasks,
}

impl Checker {
    fn ask(&self, key: ReactionKey) {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= MAX_CHECKS {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!(
                "too many reaction checks waiting; a quick add and remove stands as it arrived"
            );
            return;
        }
        let (check, queue, waiting) =
            (self.check.clone(), self.queue.clone(), self.waiting.clone());
        self.tasks.spawn(async move {
            tokio::time::sleep(SETTLE).await;
            let answer = check.is_there(&key).await;
            waiting.fetch_sub(1, Ordering::SeqCst);
            let change = match answer {
                Some(true) => ReactionChange::Added(key),
                Some(false) => ReactionChange::Removed(key),
                None => return,
            };
            if let Some(queue) = queue.upgrade() {
                let _ = queue.send(Job::Settled(change)).await;
            }
        });
    }
}

/// The last add or remove seen for each reaction lately, to notice two
/// that may have crossed.
struct Recent {
    seen: HashMap<ReactionKey, (bool, Instant)>,
    /// When entries older than [`CONTESTED`] were last dropped: at most
    /// once per [`CONTESTED`], so a burst costs one pass per two seconds,
    /// not a pass per reaction.
    pruned: Instant,
}

/// Past this many remembered reactions (a flood of distinct ones inside
/// two seconds), the memory is dropped: a crossing in that flood stands as
/// it arrived rather than the bot holding unbounded memory.
const MAX_REMEMBERED: usize = 200_000;

impl Default for Recent {
    fn default() -> Self {
        Recent {
            seen: HashMap::new(),
            pruned: Instant::now(),
        }
    }
}

impl Recent {
    /// Notes `change`; the reaction's key when it reverses one seen within
    /// [`CONTESTED`].
    fn contested(&mut self, change: &ReactionChange) -> Option<ReactionKey> {
        let (key, present) = match change {
            ReactionChange::Added(key) => (key, true),
            ReactionChange::Removed(key) => (key, false),
            ReactionChange::Cleared { .. } => return None,
        };
        let now = Instant::now();
        if now.duration_since(self.pruned) >= CONTESTED {
            self.seen
                .retain(|_, (_, at)| now.duration_since(*at) < CONTESTED);
            self.pruned = now;
        }
        if self.seen.len() >= MAX_REMEMBERED {
            self.seen.clear();
        }
        let before = self.seen.insert(key.clone(), (present, now));
        matches!(before, Some((was, at)) if was != present && now.duration_since(at) < CONTESTED)
            .then(|| key.clone())
    }
}

async fn write_batches<F>(
    store: Store,
    mut jobs: mpsc::Receiver<Job>,
    now: F,
    checker: Option<Checker>,
) where
    F: Fn() -> DateTime<Utc>,
{
    let mut changes = Vec::new();
    let mut waiting = Vec::new();
    let mut recent = Recent::default();
    let mut contested = Vec::new();
    while let Some(job) = jobs.recv().await {
        let mut next = Some(job);
        while let Some(job) = next.take() {
            match job {
                Job::Change(change) => {
                    if checker.is_some() {
                        contested.extend(recent.contested(&change));
                    }
                    changes.push(change);
                }
                Job::Settled(change) => changes.push(change),
                Job::Flush(done) => waiting.push(done),
            }
            if changes.len() < MAX_BATCH {
                next = jobs.try_recv().ok();
            }
        }
        if !changes.is_empty() {
            write(&store, std::mem::take(&mut changes), now()).await;
        }
        if let Some(checker) = &checker {
            for key in contested.drain(..) {
                checker.ask(key);
            }
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}

async fn write(store: &Store, changes: Vec<ReactionChange>, now: DateTime<Utc>) {
    let count = changes.len();
    let steps = tracking::coalesce(changes);
    let mut backoff = Backoff::new(FIRST_PAUSE, LONGEST_PAUSE);
    for attempt in 1..=ATTEMPTS {
        match store.apply_reactions(&steps, now).await {
            Ok(()) => return,
            Err(error) if attempt < ATTEMPTS => {
                tracing::warn!(%error, attempt, "could not record {count} reaction changes; retrying");
                tokio::time::sleep(backoff.failed()).await;
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
    use crate::ids::{MessageId, UserId};
    use crate::storage::fixtures::*;
    use crate::tracking::ReactionKey;

    #[tokio::test]
    async fn every_queued_reaction_is_written_by_the_time_flush_returns() -> Result<(), StorageError>
    {
        let store = store().await;
        posted(&store).await?; // the first request's message is 500

        let (recorder, writer) = Recorder::start(store.clone(), now, None, Tasks::default());
        let users = 5_000;
        for user in 1..=users {
            recorder
                .record(ReactionChange::Added(ReactionKey {
                    guild: GUILD,
                    channel: crate::ids::ChannelId::of::<42>(),
                    message: MessageId::of::<500>(),
                    user: UserId::try_new(user).expect("ids are not 0"),
                    emoji: "🙏".into(),
                }))
                .await;
        }
        recorder.flush().await;
        assert_eq!(
            store.mark_count_in(GUILD).await?,
            i64::try_from(users).unwrap_or(0)
        );
        drop(recorder);
        writer.await.expect("the writer ends when its queue closes");
        Ok(())
    }
}

#[cfg(test)]
mod crossing {
    use super::*;
    use crate::ids::{ChannelId, MessageId, UserId};
    use crate::storage::fixtures::*;

    /// Discord as the test says it is: the member's reaction is gone.
    struct Gone(AtomicUsize);

    impl ReactionCheck for Gone {
        fn is_there<'a>(
            &'a self,
            _: &'a ReactionKey,
        ) -> Pin<Box<dyn Future<Output = Option<bool>> + Send + 'a>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Some(false) })
        }
    }

    #[tokio::test]
    async fn a_remove_that_overtook_its_add_is_settled_by_asking_discord()
    -> Result<(), StorageError> {
        let store = store().await;
        posted(&store).await?; // the first request's message is 500
        let check = Arc::new(Gone(AtomicUsize::new(0)));
        let (recorder, _writer) =
            Recorder::start(store.clone(), now, Some(check.clone()), Tasks::default());
        let key = ReactionKey {
            guild: GUILD,
            channel: ChannelId::of::<42>(),
            message: MessageId::of::<500>(),
            user: UserId::of::<7>(),
            emoji: "🙏".into(),
        };
        // The member added and removed; the events arrived the other way round.
        recorder.record(ReactionChange::Removed(key.clone())).await;
        recorder.flush().await;
        recorder.record(ReactionChange::Added(key.clone())).await;
        recorder.flush().await;
        assert_eq!(
            store.mark_count_in(GUILD).await?,
            1,
            "as it arrived, for now"
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        while store.mark_count_in(GUILD).await? != 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            store.mark_count_in(GUILD).await?,
            0,
            "Discord's answer stands"
        );
        assert_eq!(check.0.load(Ordering::SeqCst), 1);
        // A lone add is not contested: nobody is asked.
        let other = ReactionKey {
            user: UserId::of::<8>(),
            ..key
        };
        recorder.record(ReactionChange::Added(other)).await;
        recorder.flush().await;
        assert_eq!(store.mark_count_in(GUILD).await?, 1);
        assert_eq!(check.0.load(Ordering::SeqCst), 1);
        Ok(())
    }
}
