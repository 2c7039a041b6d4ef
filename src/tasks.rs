//! The background tasks the bot spawns, tracked so that a stop can wait
//! for them (`discord::shutdown` owns the stop): the scheduler, each
//! catch-up, the recorder's questions to Discord. Spawned through
//! [`Tasks::spawn`], never a bare `tokio::spawn`.

use std::future::Future;
use std::time::Duration;

use tokio_util::task::TaskTracker;

/// Spawns tasks a stop can wait for; cheap to clone (clones share one set).
#[derive(Clone, Debug, Default)]
pub struct Tasks(TaskTracker);

impl Tasks {
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.0.spawn(task);
    }

    /// Waits up to `grace` for every task spawned so far (and any they
    /// spawn meanwhile) to end; says whether they all did.
    pub async fn drain(&self, grace: Duration) -> bool {
        self.0.close();
        tokio::time::timeout(grace, self.0.wait()).await.is_ok()
    }
}
