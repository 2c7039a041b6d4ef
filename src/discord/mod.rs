//! The Discord side: the serenity client, poise's slash commands and the
//! real `Messenger`. The only module that imports serenity or poise; what is
//! worth testing lives in the core and is called from here.

mod admin;
mod catchup;
mod commands;
mod download;
mod errors;
mod gateway;
mod ids;
mod members;
pub mod messenger;
mod permissions;
pub mod ratelimit;
mod reply;
pub mod rest;
mod schedule;
pub mod shutdown;
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
use tokio::sync::{Notify, RwLock};

use crate::config::BotSettings;
use crate::schedule::clock::Clock;
use crate::shards::ShardRange;
use crate::storage::Store;
use crate::tracking::recorder::Recorder;
use messenger::no_pings;
use rest::Rest;
pub use shutdown::Stop;
use shutdown::{Shutdown, Tasks};

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
    /// The one way to Discord's HTTP API for calls the bot starts.
    pub rest: Rest,
    /// Spawns background work a stop waits for (catch-up).
    pub tasks: Tasks,
    /// The shards this process runs; `None` for every shard.
    pub shards: Option<ShardRange>,
}

impl Data {
    /// What commands reach, and the recorder's writer task (kept until the
    /// store closes).
    fn new(store: Store, rest: Rest, owner: &Shutdown) -> (Self, tokio::task::JoinHandle<()>) {
        let check = Arc::new(rest.clone());
        let (recorder, writer) = Recorder::start(store.clone(), now, Some(check), owner.tasks());
        let data = Data {
            store,
            busy: Arc::new(RwLock::new(())),
            wake: Arc::new(Notify::new()),
            stop: owner.stop(),
            recorder,
            rest,
            tasks: owner.tasks(),
            shards: None,
        };
        (data, writer)
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
                .schedule(crate::ids::GuildId::from(guild))
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
            .then(|| data_about_bot.guilds.iter().map(|g| g.id.into()).collect());
        data.tasks.spawn(catchup::catch_up(
            data.rest.clone(),
            data.store.clone(),
            data.recorder.clone(),
            bot.into(),
            only,
        ));
        return Ok(());
    }
    if let FullEvent::InteractionCreate { interaction } = event
        && let Some(press) = interaction.as_message_component()
    {
        on_button(ctx, data, press).await;
    }
    Ok(())
}

/// A press of one of the bot's buttons: an admin's confirmation, or a
/// member's prayer button; any error is answered privately (or logged).
async fn on_button(ctx: &serenity::Context, data: &Data, press: &serenity::ComponentInteraction) {
    if let Some(button) = crate::posting::buttons::AdminButton::parse(&press.data.custom_id) {
        let _busy = data.busy.read().await;
        if let Err(error) = admin::on_press(ctx, data, press, button).await {
            tracing::error!(%error, "could not answer an admin's press");
        }
        return;
    }
    if let Some(button) = crate::posting::buttons::Button::parse(&press.data.custom_id) {
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
}

/// How long a stop waits for work in hand (a post reaching its next
/// message boundary and answering its admin, an import finishing).
const GRACE: Duration = Duration::from_secs(5);

/// How long a stop waits for the gateway connection to close.
const DISCONNECT: Duration = Duration::from_secs(3);

/// serenity's HTTP client for `settings`. Behind a proxy (or a fake
/// Discord), every HTTP call goes to its base URL, and serenity's own rate
/// limiter must be off: with it on, serenity sends to discord.com whatever
/// the proxy says.
fn make_http(settings: &BotSettings) -> serenity::Http {
    let token = settings.token.expose();
    match &settings.api_url {
        Some(url) => HttpBuilder::new(token)
            .proxy(url.clone())
            .ratelimiter_disabled(true)
            .build(),
        None => HttpBuilder::new(token).build(),
    }
}

/// The framework: the commands, the error handler, the gateway events, and
/// on the first READY the commands' registration and the scheduler.
fn framework(data: Data) -> poise::Framework<Data, Error> {
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
    poise::Framework::builder()
        .options(options)
        .setup(|_ctx, ready, framework| {
            Box::pin(async move {
                // Once, on the first shard's READY, however many shards;
                // and of several processes, only by the one running shard 0.
                if data.shards.is_none_or(|range| range.has_first()) {
                    let commands =
                        poise::builtins::create_application_commands(&framework.options().commands);
                    data.rest
                        .register_commands(ready.application.id, &commands)
                        .await?;
                }
                start_scheduler(&data);
                Ok(data)
            })
        })
        .build()
}

/// Hears other processes' changes to the weeks members read, as a
/// tracked task, so `/prayer week` may answer from memory.
fn follow_changes(data: &Data) {
    let (store, mut stop) = (data.store.clone(), data.stop.clone());
    data.tasks
        .spawn(async move { store.follow_changes(stop.wait()).await });
}

/// Starts the weekly posts' loop as a tracked task: it ends when the stop
/// is set, and a stop waits for it.
fn start_scheduler(data: &Data) {
    let mut stop = data.stop.clone();
    data.tasks.spawn(crate::schedule::scheduler::run(
        data.store.clone(),
        data.rest.clone(),
        clock(),
        data.wake.clone(),
        data.shards,
        async move { stop.wait().await },
    ));
}

/// The client, connected to the gateway's address as [`gateway::gateway`]
/// asked it, not serenity's fallback past the proxy; and that address.
async fn connect(
    settings: &BotSettings,
    rest: &Rest,
    framework: poise::Framework<Data, Error>,
) -> anyhow::Result<(serenity::Client, gateway::Gateway)> {
    let api = settings.api_url.as_deref().unwrap_or("https://discord.com");
    let gateway = gateway::gateway(rest, api).await;
    let client = ClientBuilder::new_with_http(make_http(settings), intents())
        .framework(framework)
        .await?;
    *client.ws_url.lock().await = gateway.url.clone();
    Ok((client, gateway))
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
    let _ = CLOCK.set(
        settings
            .start_time
            .map_or_else(Clock::system, Clock::starting_at),
    );
    let owner = Shutdown::new();
    let rest = Rest::with_timeout(
        Arc::new(make_http(&settings)),
        owner.stop(),
        rest::process_global_limit(settings.global_rate_limit, settings.shards),
        settings.http_timeout,
    );
    let (mut data, writer) = Data::new(store.clone(), rest.clone(), &owner);
    data.shards = settings.shards;
    follow_changes(&data);
    let recorder = data.recorder.clone();
    let busy = data.busy.clone();
    let mut shutdown = Box::pin(shutdown);
    let stopping = || tracing::info!("stopping: a stop signal arrived");
    let (mut client, gateway) = tokio::select! {
        connected = connect(&settings, &rest, framework(data)) => connected?,
        () = &mut shutdown => {
            stopping();
            return stopped(store).await;
        }
    };
    let shard_manager = client.shard_manager.clone();
    let ended = tokio::select! {
        // As many shards as Discord recommends (one per 1,000 servers or
        // so), or those `--shards` names. Commands are registered once, on
        // the first READY (poise's setup).
        ended = start(&mut client, &store, settings.shards, &gateway) => Some(ended),
        () = &mut shutdown => None,
    };
    if let Some(ended) = ended {
        return gave_up(ended, recorder, store).await;
    }
    stopping();
    let stop = Stopping {
        owner,
        busy,
        shard_manager,
        recorder,
    };
    stop.drain().await;
    drop(writer);
    stopped(store).await
}

/// Starts this process's shards: those `--shards` names, else as many as
/// Discord recommends; first waiting for its turn to identify them.
async fn start(
    client: &mut serenity::Client,
    store: &Store,
    mine: Option<ShardRange>,
    gateway: &gateway::Gateway,
) -> serenity::Result<()> {
    let shards = mine.map_or(0..gateway.shards, |range| range.start..range.end);
    gateway::take_identify_turns(store, shards, gateway.max_concurrency).await;
    // Watched from now on, while the shards run: waiting for this
    // process's turn was not the gateway being out of reach.
    let _watcher = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(
        gateway::watch_the_gateway(gateway.url.clone(), client.shard_manager.clone()),
    ));
    match mine {
        Some(range) => {
            tracing::info!(
                "running shards {}..{} of {} (this process's {} of them)",
                range.start,
                range.end,
                range.total,
                range.count()
            );
            client
                .start_shard_range(range.for_serenity(), range.total)
                .await
        }
        None => client.start_shards(gateway.shards).await,
    }
}

/// What a stop waits for, in order.
struct Stopping {
    owner: Shutdown,
    busy: Arc<RwLock<()>>,
    shard_manager: Arc<serenity::ShardManager>,
    recorder: Recorder,
}

impl Stopping {
    /// Sets the stop, waits for the work in hand and the tracked tasks (the
    /// scheduler, catch-ups), closes the gateway and flushes the 🙏 queue;
    /// each wait is bounded.
    async fn drain(self) {
        self.owner.begin();
        // Work in hand holds `busy`; taking it exclusively waits for it to
        // answer and finish. The guard is held until the shards are down,
        // so no new work starts.
        let guard = tokio::time::timeout(GRACE, self.busy.write()).await;
        if guard.is_err() {
            tracing::warn!("work still running after {GRACE:?}; stopping anyway");
        }
        // The scheduled posts in hand (up to `scheduler::POSTS_AT_ONCE`)
        // stop at their next message boundary and resume on the next
        // start; a catch-up stops between messages.
        if !self.owner.drain(GRACE).await {
            tracing::warn!("background work still running after {GRACE:?}; stopping anyway");
        }
        if tokio::time::timeout(DISCONNECT, self.shard_manager.shutdown_all())
            .await
            .is_err()
        {
            tracing::warn!("the gateway connection did not close within {DISCONNECT:?}");
        }
        drop(guard);
        // Reactions that arrived before the shards went down are written
        // before the store closes.
        if tokio::time::timeout(DISCONNECT, self.recorder.flush())
            .await
            .is_err()
        {
            tracing::warn!("reactions still being written after {DISCONNECT:?}; stopping anyway");
        }
    }
}

/// The gateway gave up (a refused token, say): nothing to wait for but the
/// reactions already queued.
async fn gave_up(
    ended: Result<(), serenity::Error>,
    recorder: Recorder,
    store: Store,
) -> anyhow::Result<()> {
    recorder.flush().await;
    store.close().await;
    ended?;
    tracing::warn!("stopped: the connection to Discord ended");
    Ok(())
}

async fn stopped(store: Store) -> anyhow::Result<()> {
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}
