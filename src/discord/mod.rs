//! The Discord side: the serenity client, poise's slash commands and the
//! real `Messenger`. The only module that imports serenity or poise; what is
//! worth testing lives in the core and is called from here.

mod commands;
mod download;
pub mod messenger;
mod permissions;

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use poise::CreateReply;
use poise::serenity_prelude as serenity;
use serenity::{
    ClientBuilder, CreateInteractionResponse, CreateInteractionResponseMessage, FullEvent,
    GatewayIntents, HttpBuilder,
};
use tokio::sync::RwLock;

use crate::config::BotSettings;
use crate::storage::Store;
use messenger::no_pings;

pub use permissions::missing_for_posting;

/// What every command can reach.
pub struct Data {
    pub store: Store,
    /// Held (shared) by a command while it changes anything; shutdown takes
    /// it exclusively, so it waits for that work to finish.
    pub busy: Arc<RwLock<()>>,
    /// One weekly post at a time in this process: two admins pressing
    /// `/prayer post` together must not both resume the same post.
    pub posting: tokio::sync::Mutex<()>,
}

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Context<'a> = poise::Context<'a, Data, Error>;

/// A problem the person using a command caused or can fix; shown to them
/// as written (only to them). Any other error is logged and they get a
/// short apology.
#[derive(Debug)]
pub struct UserError(String);

impl UserError {
    pub fn new(message: impl Into<String>) -> Self {
        UserError(message.into())
    }
}

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

/// The gateway events the bot needs: servers and their channels (for the
/// permission check), and reactions (for prayer tracking). No privileged
/// intent.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGE_REACTIONS
}

/// The date a command runs on. Servers' own time zones arrive with the
/// Monday schedule; until then prayer weeks follow UTC.
fn today(_: Context<'_>) -> NaiveDate {
    chrono::Utc::now().date_naive()
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
            let text = match error.downcast_ref::<UserError>() {
                Some(user_error) => user_error.to_string(),
                None => {
                    tracing::error!(command = %ctx.command().qualified_name, error = %error, "command failed");
                    "Sorry, something went wrong on my side and nothing was changed. The bot's operator can see what in its log.".to_owned()
                }
            };
            send_ephemeral(ctx, text).await;
        }
        poise::FrameworkError::CommandCheckFailed { error, ctx, .. } => {
            if let Some(error) = error {
                tracing::error!(%error, "admin check failed");
            }
            let text = format!(
                "Only members with the **Manage Server** permission can use `/{}`. Nothing was changed.",
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
        .content(crate::render::fit_reply(&text))
        .ephemeral(true)
        .allowed_mentions(no_pings());
    if let Err(error) = ctx.send(reply).await {
        tracing::error!(%error, "could not send an error reply");
    }
}

/// Button presses: prayer tracking answers them in the next release; until
/// then the member is told so, and nothing is recorded.
async fn on_event(ctx: &serenity::Context, event: &FullEvent) -> Result<(), Error> {
    if let FullEvent::InteractionCreate { interaction } = event
        && let Some(press) = interaction.as_message_component()
        && press.data.custom_id.starts_with("prayer:")
    {
        let answer = CreateInteractionResponseMessage::new()
            .content("Thank you! Recording prayers is not built yet; it comes in the next release.")
            .ephemeral(true)
            .allowed_mentions(no_pings());
        press
            .create_response(&ctx.http, CreateInteractionResponse::Message(answer))
            .await?;
    }
    Ok(())
}

/// Runs the bot until `shutdown` completes, then finishes the work in
/// hand, disconnects and closes the database.
pub async fn run(
    settings: BotSettings,
    store: Store,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let token = settings.token.expose();
    // Behind a proxy (or a fake Discord), every HTTP call goes to its base
    // URL, and serenity's own rate limiter must be off: with it on, serenity
    // sends to discord.com whatever the proxy says.
    let http = match &settings.api_url {
        Some(url) => HttpBuilder::new(token)
            .proxy(url.clone())
            .ratelimiter_disabled(true)
            .build(),
        None => HttpBuilder::new(token).build(),
    };
    let busy = Arc::new(RwLock::new(()));
    let data = Data {
        store: store.clone(),
        busy: busy.clone(),
        posting: tokio::sync::Mutex::new(()),
    };
    let options = poise::FrameworkOptions {
        commands: commands::all(),
        on_error: |error| Box::pin(on_error(error)),
        event_handler: |framework, event| Box::pin(on_event(framework.serenity_context, event)),
        allowed_mentions: Some(no_pings()),
        // The owners are not used, and asking for them is one more call.
        initialize_owners: false,
        ..Default::default()
    };
    let framework = poise::Framework::builder()
        .options(options)
        .setup(|ctx, ready, framework| {
            Box::pin(async move {
                tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
                poise::builtins::register_globally(ctx, &framework.options().commands).await?;
                Ok(data)
            })
        })
        .build();
    let mut client = ClientBuilder::new_with_http(http, intents())
        .framework(framework)
        .await?;
    let shard_manager = client.shard_manager.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: finishing the work in hand");
        // Work in hand holds `busy`; taking it exclusively waits for it.
        // The guard is held until the shards are down, so no new work starts.
        let guard = tokio::time::timeout(Duration::from_secs(30), busy.write()).await;
        if guard.is_err() {
            tracing::warn!("work still running after 30 s; shutting down anyway");
        }
        shard_manager.shutdown_all().await;
        drop(guard);
    });
    client.start().await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}
