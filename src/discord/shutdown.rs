//! The one owner of stopping, in the style of mini-redis's `shutdown.rs`:
//! the flag every part of the bot reads ([`Stop`]), and the tasks the bot
//! spawns ([`Tasks`]: the scheduler, each catch-up), which a stop drains
//! within a grace period. Nothing the bot spawns is left running, or
//! forgotten, when the store closes.

use std::time::Duration;

use tokio::sync::watch;

pub use crate::tasks::Tasks;

/// Whether the process has been told to stop, readable from anywhere
/// that holds a copy.
#[derive(Clone, Debug)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    pub fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes once the stop is set (never, if the setter is gone
    /// without setting it).
    pub async fn wait(&mut self) {
        if self.0.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Owns the stop: sets it once, then drains the tracked tasks.
#[derive(Debug)]
pub struct Shutdown {
    set: watch::Sender<bool>,
    stop: Stop,
    tasks: Tasks,
}

impl Shutdown {
    pub fn new() -> Self {
        let (set, stop) = watch::channel(false);
        Shutdown {
            set,
            stop: Stop(stop),
            tasks: Tasks::default(),
        }
    }

    /// A copy of the flag, for a part of the bot to read.
    pub fn stop(&self) -> Stop {
        self.stop.clone()
    }

    /// A handle to spawn tracked tasks with.
    pub fn tasks(&self) -> Tasks {
        self.tasks.clone()
    }

    /// Tells every part of the bot to stop: posts end at their next message
    /// boundary, waits for Discord end at once.
    pub fn begin(&self) {
        self.set.send_replace(true);
    }

    /// Waits up to `grace` for every tracked task to end (those spawned
    /// meanwhile too); says whether they all did.
    pub async fn drain(&self, grace: Duration) -> bool {
        self.tasks.drain(grace).await
    }
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_stop_reaches_every_copy_and_drains_the_tasks() {
        let shutdown = Shutdown::new();
        let mut stop = shutdown.stop();
        assert!(!stop.is_set());
        let (done, mut ended) = tokio::sync::mpsc::channel(1);
        shutdown.tasks().spawn(async move {
            stop.wait().await;
            let _ = done.send(()).await;
        });
        shutdown.begin();
        assert!(shutdown.stop().is_set());
        assert!(shutdown.drain(Duration::from_secs(5)).await);
        assert_eq!(ended.recv().await, Some(()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_that_ignores_the_stop_is_left_after_the_grace() {
        let shutdown = Shutdown::new();
        shutdown.tasks().spawn(std::future::pending::<()>());
        shutdown.begin();
        assert!(!shutdown.drain(Duration::from_secs(5)).await);
    }
}
