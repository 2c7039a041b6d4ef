//! The gateway: asking for its address and shard count (through [`Rest`],
//! until it answers), and saying in the log, at growing intervals, while
//! it cannot be reached.

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use serenity::http::Route;

use super::rest::Rest;
use crate::backoff::Backoff;

/// When the log says again that Discord still can't be reached: the first
/// time at once, then after 1, 2, 4, … minutes (at most hourly).
struct Nagging {
    next: tokio::time::Instant,
    intervals: Backoff,
}

impl Nagging {
    fn new() -> Self {
        Nagging {
            next: tokio::time::Instant::now(),
            intervals: Backoff::new(Duration::from_secs(60), Duration::from_secs(3600)),
        }
    }

    /// Whether to log now; if so, the next time is pushed further out.
    fn due(&mut self) -> bool {
        let now = tokio::time::Instant::now();
        if now < self.next {
            return false;
        }
        self.next = now + self.intervals.failed();
        true
    }
}

/// What `GET /gateway/bot` said.
pub(super) struct Gateway {
    pub url: String,
    /// The shards Discord recommends.
    pub shards: u32,
    /// IDENTIFYs allowed at once (one per bucket) every 5 s.
    pub max_concurrency: u32,
}

/// Waits until this process holds every IDENTIFY bucket its shards fall
/// in (see [`crate::shards::identify_buckets`]), each for as long as its
/// IDENTIFYs there take: processes started together then identify one
/// after another, never more than Discord allows. A database that cannot
/// be read is logged and the shards start anyway (Discord would only ask
/// the bot to retry).
pub(super) async fn take_identify_turns(
    store: &crate::storage::Store,
    shards: std::ops::Range<u32>,
    max_concurrency: u32,
) {
    let holder = crate::posting::PostRun::new(chrono::TimeDelta::zero()).owner;
    let spacing = chrono::TimeDelta::from_std(crate::shards::IDENTIFY_SPACING)
        .unwrap_or(chrono::TimeDelta::seconds(5));
    for (bucket, count) in crate::shards::identify_buckets(shards, max_concurrency) {
        loop {
            let now = super::now();
            let until = now + spacing * i32::try_from(count).unwrap_or(i32::MAX);
            match store
                .take_identify_bucket(bucket, &holder, until, now)
                .await
            {
                Ok(Ok(())) => break,
                Ok(Err(held_until)) => {
                    let wait = (held_until - now).to_std().unwrap_or_default();
                    tracing::info!(
                        "another process is identifying in bucket {bucket}; waiting {:.1} s",
                        wait.as_secs_f64()
                    );
                    tokio::time::sleep(wait.max(Duration::from_millis(50))).await;
                }
                Err(error) => {
                    tracing::warn!(%error, "could not take an IDENTIFY turn; starting the shards anyway");
                    return;
                }
            }
        }
    }
}

/// Asks Discord (or the proxy) for the gateway's address and the number of
/// shards it recommends, until it answers. serenity would fall back to
/// `wss://gateway.discord.gg` on a failure, past any proxy, and its
/// `start_autosharded` gives up on the first failure, so the bot asks
/// first and hands serenity the answer.
pub(super) async fn gateway(rest: &Rest, api: &str) -> Gateway {
    let mut nagging = Nagging::new();
    let mut pauses = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
    loop {
        let failure = match rest.get(Route::GatewayBot, None).await {
            Ok(answer) => match serde_json::from_slice::<serenity::BotGateway>(&answer) {
                Ok(gateway) => {
                    return Gateway {
                        url: gateway.url,
                        shards: gateway.shards.max(1),
                        max_concurrency: u32::try_from(gateway.session_start_limit.max_concurrency)
                            .unwrap_or(u32::MAX)
                            .max(1),
                    };
                }
                Err(error) => format!("its answer could not be read: {error}"),
            },
            Err(error) => error.to_string(),
        };
        if nagging.due() {
            tracing::warn!(
                "Discord's gateway can't be reached: asking {api} for its address failed ({failure}); still trying"
            );
        }
        tokio::time::sleep(pauses.failed()).await;
    }
}

/// Logs, at growing intervals, while no shard is connected to the gateway.
pub(super) async fn watch_the_gateway(url: String, shards: Arc<serenity::ShardManager>) {
    // A healthy connection is up within a second or two; five seconds
    // without one means something is in the way.
    const PATIENCE: Duration = Duration::from_secs(5);
    let mut nagging = Nagging::new();
    loop {
        tokio::time::sleep(PATIENCE).await;
        let connected = shards
            .runners
            .lock()
            .await
            .values()
            .any(|runner| runner.stage == serenity::ConnectionStage::Connected);
        if connected {
            // Warn at once, not after an hour, if the connection drops later.
            nagging = Nagging::new();
        } else if nagging.due() {
            tracing::warn!("Discord's gateway can't be reached at {url}; still trying to connect");
        }
    }
}
