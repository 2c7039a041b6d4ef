//! What the client tests share: a poise framework on the real serenity client,
//! pointed at the fake, and the closing check that nothing broke the spec.

// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::time::Duration;

use fake_discord::FakeDiscord;
use poise::serenity_prelude as serenity;

pub const WAIT: Duration = Duration::from_secs(10);
pub const TOKEN: &str = "fake-bot-token";

pub struct Data;
pub type BotError = Box<dyn std::error::Error + Send + Sync>;
pub type Ctx<'a> = poise::Context<'a, Data, BotError>;

pub struct Bot {
    shard_manager: std::sync::Arc<serenity::ShardManager>,
    task: tokio::task::JoinHandle<()>,
}

impl Bot {
    pub async fn stop(self) {
        self.shard_manager.shutdown_all().await;
        let _ = tokio::time::timeout(WAIT, self.task).await;
    }
}

/// Starts a client with `options`, pointed at `fake` as a proxy with the rate
/// limiter off; the framework registers its commands globally on READY.
pub async fn start_bot(
    fake: &FakeDiscord,
    options: poise::FrameworkOptions<Data, BotError>,
) -> Bot {
    let http = serenity::HttpBuilder::new(TOKEN)
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .build();
    let framework = poise::Framework::builder()
        .options(options)
        .setup(|ctx, _ready, framework| {
            Box::pin(async move {
                poise::builtins::register_globally(ctx, &framework.options().commands).await?;
                Ok(Data)
            })
        })
        .build();
    let mut client =
        serenity::ClientBuilder::new_with_http(http, serenity::GatewayIntents::non_privileged())
            .framework(framework)
            .await
            .expect("serenity client builds");
    let shard_manager = client.shard_manager.clone();
    let task = tokio::spawn(async move {
        if let Err(e) = client.start().await {
            eprintln!("client stopped: {e}");
        }
    });
    Bot {
        shard_manager,
        task,
    }
}

/// No request broke the spec, and no answer of the fake's did either.
pub fn assert_no_violations(fake: &FakeDiscord) {
    fake.assert_no_spec_violations();
    assert!(
        fake.answer_violations().is_empty(),
        "{:?}",
        fake.answer_violations()
    );
}
