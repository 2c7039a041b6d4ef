//! The Discord side: the serenity client, poise's slash commands and the
//! real `Messenger`. The only module that imports serenity or poise; what is
//! worth testing lives in the core and is called from here.

mod catchup;
mod commands;
mod download;
mod errors;
pub mod messenger;
mod permissions;
pub mod ratelimit;
mod reply;
mod schedule;
mod tracking;

use std::sync::Arc;
use std::time::Duration;

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};
use poise::CreateReply;
use poise::serenity_prelude as serenity;
use serenity::{
    ClientBuilder, CreateInteractionResponse, CreateInteractionResponseMessage, FullEvent,
    GatewayIntents, HttpBuilder,
};
use tokio::sync::{Notify, RwLock, watch};

use crate::config::BotSettings;
use crate::schedule::clock::Clock;
use crate::storage::Store;
use crate::tracking::recorder::Recorder;
use messenger::no_pings;

pub use errors::{CommandError, UserError};
pub use permissions::missing_for_posting;

/// What every command can reach.
pub struct Data {
    pub store: Store,
    /// Held (shared) by a command while it changes anything; shutdown takes
    /// it exclusively, so it waits for that work to finish.
    pub busy: Arc<RwLock<()>>,
    /// Wakes the scheduler when a schedule or a bulletin changes.
    pub wake: Arc<Notify>,
    /// Set when the process is told to stop; a post in hand ends at the
    /// next message boundary and answers its admin.
    pub stop: Stop,
    /// Writes 🙏 reactions to the store in batches.
    pub recorder: Recorder,
}

/// Whether the process has been told to stop, readable from anywhere
/// that holds a copy.
#[derive(Clone, Debug)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    /// A stop that is not set, and the way to set it.
    fn new() -> (watch::Sender<bool>, Stop) {
        let (set, stop) = watch::channel(false);
        (set, Stop(stop))
    }

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

pub type Error = CommandError;
pub type Context<'a> = poise::Context<'a, Data, Error>;

/// The gateway events the bot needs: servers and their channels (for the
/// permission check), and reactions (for prayer tracking). No privileged
/// intent.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGE_REACTIONS
}

/// The bot's clock, set once when `run` starts (the system clock, or a
/// rehearsal's).
static CLOCK: OnceLock<Clock> = OnceLock::new();

fn clock() -> Clock {
    *CLOCK.get_or_init(Clock::system)
}

/// The current time, by the bot's clock.
fn now() -> DateTime<Utc> {
    clock().now()
}

/// The date a command runs on: today in the server's own time zone.
async fn today(ctx: Context<'_>) -> Result<NaiveDate, Error> {
    let zone = match ctx.guild_id() {
        Some(guild) => {
            ctx.data()
                .store
                .schedule(crate::ids::GuildId::new(guild.get()))
                .await?
                .zone
        }
        None => chrono_tz::UTC,
    };
    Ok(crate::schedule::local_today(zone, now()))
}

/// The bot-side check for admin commands: the member's permissions as
/// Discord resolved them for this interaction (channel overrides included).
/// Discord's own `default_member_permissions` cannot mark single
/// subcommands, so this check is what guards `setup`, `import` and `post`.
async fn admin_only(ctx: Context<'_>) -> Result<bool, Error> {
    let permissions = match ctx {
        poise::Context::Application(app) => {
            app.interaction.member.as_ref().and_then(|m| m.permissions)
        }
        poise::Context::Prefix(_) => None,
    };
    Ok(permissions.is_some_and(|p| p.manage_guild() || p.administrator()))
}

async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    match error {
        poise::FrameworkError::Command { error, ctx, .. } => {
            let text = error.reply_text(&ctx.command().qualified_name);
            send_ephemeral(ctx, text).await;
        }
        poise::FrameworkError::CommandCheckFailed { error, ctx, .. } => {
            if let Some(error) = error {
                tracing::error!(%error, "admin check failed");
            }
            // `status` only reads: there was nothing to change.
            let unchanged = if ctx.command().name == "status" {
                ""
            } else {
                " Nothing was changed."
            };
            let text = format!(
                "Only members with the **Manage Server** permission can use `/{}`.{unchanged}",
                ctx.command().qualified_name
            );
            send_ephemeral(ctx, text).await;
        }
        other => {
            if let Err(error) = poise::builtins::on_error(other).await {
                tracing::error!(%error, "could not report an error");
            }
        }
    }
}

async fn send_ephemeral(ctx: Context<'_>, text: String) {
    // An error may quote what was typed: it must fit Discord all the same.
    let reply = CreateReply::default()
        .content(crate::posting::render::fit_reply(&text))
        .ephemeral(true)
        .allowed_mentions(no_pings());
    if let Err(error) = ctx.send(reply).await {
        tracing::error!(%error, "could not send an error reply");
    }
}

/// The gateway events beside commands: presses of the bot's buttons, and
/// 🙏 reactions (queued for the recorder; the handler never waits on the
/// disk).
async fn on_event(
    ctx: &serenity::Context,
    event: &FullEvent,
    data: &Data,
    bot: serenity::UserId,
) -> Result<(), Error> {
    if let Some(change) = tracking::reaction_change(event, bot) {
        data.recorder.record(change).await;
        return Ok(());
    }
    // A new session (at start, or after one that could not be resumed):
    // reactions made meanwhile were never sent to the bot; read them back.
    if let FullEvent::Ready { data_about_bot } = event {
        let shard = data_about_bot
            .shard
            .filter(|s| s.total > 1)
            .map(|s| format!(" (shard {} of {})", s.id.0 + 1, s.total))
            .unwrap_or_default();
        tracing::info!(
            "connected to Discord as {}, {} servers{shard}",
            data_about_bot.user.name,
            data_about_bot.guilds.len()
        );
        // With several shards, each READY reads back its own servers only.
        let only = data_about_bot
            .shard
            .is_some_and(|s| s.total > 1)
            .then(|| data_about_bot.guilds.iter().map(|g| g.id.get()).collect());
        tokio::spawn(catchup::catch_up(
            ctx.http.clone(),
            data.store.clone(),
            data.recorder.clone(),
            bot,
            data.stop.clone(),
            only,
        ));
        return Ok(());
    }
    if let FullEvent::InteractionCreate { interaction } = event
        && let Some(press) = interaction.as_message_component()
        && let Some(button) = crate::posting::buttons::Button::parse(&press.data.custom_id)
    {
        let _busy = data.busy.read().await;
        if let Err(error) = tracking::on_press(ctx, data, press, button).await {
            let text = error.reply_text("button");
            let answer = CreateInteractionResponseMessage::new()
                .content(text)
                .ephemeral(true)
                .allowed_mentions(no_pings());
            if let Err(error) = press
                .create_response(&ctx.http, CreateInteractionResponse::Message(answer))
                .await
            {
                tracing::error!(%error, "could not answer a button press");
            }
        }
    }
    Ok(())
}

/// How long a stop waits for work in hand (a post reaching its next
/// message boundary and answering its admin, an import finishing).
const GRACE: Duration = Duration::from_secs(5);

/// How long a stop waits for the gateway connection to close.
const DISCONNECT: Duration = Duration::from_secs(3);

/// When the log says again that Discord still can't be reached: the first
/// time at once, then after 1, 2, 4, … minutes (at most hourly).
struct Nagging {
    next: tokio::time::Instant,
    interval: Duration,
}

impl Nagging {
    fn new() -> Self {
        Nagging {
            next: tokio::time::Instant::now(),
            interval: Duration::from_secs(60),
        }
    }

    /// Whether to log now; if so, the next time is pushed further out.
    fn due(&mut self) -> bool {
        let now = tokio::time::Instant::now();
        if now < self.next {
            return false;
        }
        self.next = now + self.interval;
        self.interval = (self.interval * 2).min(Duration::from_secs(3600));
        true
    }
}

/// Asks Discord (or the proxy) for the gateway's address and the number of
/// shards it recommends, until it answers. serenity would fall back to
/// `wss://gateway.discord.gg` on a failure, past any proxy, and its
/// `start_autosharded` gives up on the first failure, so the bot asks
/// first and hands serenity the answer.
async fn gateway(http: &serenity::Http, api: &str) -> (String, u32) {
    let mut nagging = Nagging::new();
    let mut pause = Duration::from_secs(1);
    loop {
        match http.get_bot_gateway().await {
            Ok(gateway) => return (gateway.url, gateway.shards.max(1)),
            Err(error) => {
                if nagging.due() {
                    let error = crate::cause::with_cause(&error);
                    tracing::warn!(
                        "Discord's gateway can't be reached: asking {api} for its address failed ({error}); still trying"
                    );
                }
            }
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(30));
    }
}

/// Logs, at growing intervals, while no shard is connected to the gateway.
async fn watch_the_gateway(url: String, shards: Arc<serenity::ShardManager>) {
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

/// Runs the bot until `shutdown` completes, then lets the work in hand
/// answer whoever waits on it (for at most [`GRACE`]), disconnects and
/// closes the database. Returns within a few seconds of `shutdown` in every
/// state: never connected, connecting, connected, or mid-post.
pub async fn run(
    settings: BotSettings,
    store: Store,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let token = settings.token.expose();
    // Behind a proxy (or a fake Discord), every HTTP call goes to its base
    // URL, and serenity's own rate limiter must be off: with it on, serenity
    // sends to discord.com whatever the proxy says.
    let make_http = || match &settings.api_url {
        Some(url) => HttpBuilder::new(token)
            .proxy(url.clone())
            .ratelimiter_disabled(true)
            .build(),
        None => HttpBuilder::new(token).build(),
    };
    let http = make_http();
    let api = settings
        .api_url
        .clone()
        .unwrap_or_else(|| "https://discord.com".to_owned());
    let _ = CLOCK.set(
        settings
            .start_time
            .map_or_else(Clock::system, Clock::starting_at),
    );
    if !messenger::use_global_rate(settings.global_rate_limit) {
        tracing::warn!(
            "the global rate limit was set before; DISCORD_GLOBAL_RATE_LIMIT is not used"
        );
    }
    let (set_stop, stop) = Stop::new();
    let busy = Arc::new(RwLock::new(()));
    let wake = Arc::new(Notify::new());
    let scheduler: Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>> = Arc::default();
    let check = tracking::AskDiscord(Arc::new(make_http()));
    let (recorder, writer) = Recorder::start(store.clone(), now, Some(Arc::new(check)));
    let data = Data {
        store: store.clone(),
        busy: busy.clone(),
        wake: wake.clone(),
        stop: stop.clone(),
        recorder: recorder.clone(),
    };
    let start_scheduler = {
        let (store, stop, scheduler) = (store.clone(), stop.clone(), scheduler.clone());
        move |http: Arc<serenity::Http>| {
            let messenger = messenger::HttpMessenger::new(http, stop.clone());
            let mut stopped = stop.clone();
            let task = tokio::spawn(crate::schedule::scheduler::run(
                store,
                messenger,
                clock(),
                wake,
                async move { stopped.wait().await },
            ));
            if let Ok(mut slot) = scheduler.lock() {
                *slot = Some(task);
            }
        }
    };
    let options = poise::FrameworkOptions {
        commands: commands::all(),
        on_error: |error| Box::pin(on_error(error)),
        event_handler: |framework, event| {
            Box::pin(on_event(
                framework.serenity_context,
                event,
                framework.user_data,
                framework.bot_id(),
            ))
        },
        allowed_mentions: Some(no_pings()),
        // The owners are not used, and asking for them is one more call.
        initialize_owners: false,
        ..Default::default()
    };
    let framework = poise::Framework::builder()
        .options(options)
        .setup(|ctx, _ready, framework| {
            Box::pin(async move {
                // Once, on the first shard's READY, however many shards.
                poise::builtins::register_globally(ctx, &framework.options().commands).await?;
                start_scheduler(ctx.http.clone());
                Ok(data)
            })
        })
        .build();

    let mut shutdown = Box::pin(shutdown);
    let stopping = || tracing::info!("stopping: a stop signal arrived");
    let (url, shards) = tokio::select! {
        gateway = gateway(&http, &api) => gateway,
        () = &mut shutdown => {
            stopping();
            return stopped(store).await;
        }
    };
    let built = tokio::select! {
        built = ClientBuilder::new_with_http(http, intents()).framework(framework) => built,
        () = &mut shutdown => {
            stopping();
            return stopped(store).await;
        }
    };
    let mut client = built?;
    // The address asked for above, not serenity's fallback past the proxy.
    *client.ws_url.lock().await = url.clone();
    let shard_manager = client.shard_manager.clone();
    let watcher = tokio::spawn(watch_the_gateway(url, shard_manager.clone()));
    let ended = tokio::select! {
        // As many shards as Discord recommends (one per 1,000 servers or
        // so): one shard is refused past 2,500. Commands are registered
        // once, on the first READY (poise's setup).
        ended = client.start_shards(shards) => Some(ended),
        () = &mut shutdown => None,
    };
    watcher.abort();
    if let Some(ended) = ended {
        // The gateway gave up (a refused token, say): nothing to wait for
        // but the reactions already queued.
        recorder.flush().await;
        store.close().await;
        ended?;
        tracing::warn!("stopped: the connection to Discord ended");
        return Ok(());
    }
    stopping();
    set_stop.send_replace(true);
    // Work in hand holds `busy`; taking it exclusively waits for it to
    // answer and finish. The guard is held until the shards are down, so no
    // new work starts.
    let guard = tokio::time::timeout(GRACE, busy.write()).await;
    if guard.is_err() {
        tracing::warn!("work still running after {GRACE:?}; stopping anyway");
    }
    // The scheduled posts in hand (up to `scheduler::POSTS_AT_ONCE`) stop
    // at their next message boundary and resume on the next start.
    let task = scheduler.lock().ok().and_then(|mut slot| slot.take());
    if let Some(task) = task
        && tokio::time::timeout(GRACE, task).await.is_err()
    {
        tracing::warn!("the scheduler was still posting after {GRACE:?}; stopping anyway");
    }
    if tokio::time::timeout(DISCONNECT, shard_manager.shutdown_all())
        .await
        .is_err()
    {
        tracing::warn!("the gateway connection did not close within {DISCONNECT:?}");
    }
    drop(guard);
    // Reactions that arrived before the shards went down are written
    // before the store closes.
    if tokio::time::timeout(DISCONNECT, recorder.flush())
        .await
        .is_err()
    {
        tracing::warn!("reactions still being written after {DISCONNECT:?}; stopping anyway");
    }
    drop(writer);
    stopped(store).await
}

async fn stopped(store: Store) -> anyhow::Result<()> {
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}
