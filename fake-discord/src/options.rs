//! Settings for starting a fake Discord.

use std::path::PathBuf;
use std::time::Duration;

use crate::ratelimit::RateLimits;

/// How a [`crate::FakeDiscord`] behaves. `Options::default()` is what [`crate::FakeDiscord::start`]
/// uses.
#[derive(Clone, Debug)]
pub struct Options {
    /// The Discord OpenAPI spec file. `None`: the `DISCORD_API_SPEC` environment variable, else
    /// `shared/discord-api-spec/openapi.json` beside the project root. A missing file turns spec
    /// checking off (logged once).
    pub spec_path: Option<PathBuf>,
    /// Check requests against the spec at all (default `true`).
    pub check_spec: bool,
    /// Answer a request that breaks the spec with Discord's `400 Invalid Form Body` (code 50035)
    /// instead of serving it (default `false`: serve it, only record the violation).
    pub reject_invalid_requests: bool,
    /// Refuse, as Discord does, a message over Discord's limits that the spec does not state
    /// (`content` over 2000 characters from a bot) in a channel message, an interaction
    /// callback, or a webhook follow-up or edit: `400 Invalid Form Body`, code 50035, with
    /// `errors.content` (or `errors.data.content`) `BASE_TYPE_MAX_LENGTH` (default `false`:
    /// serve it, and record the violation when spec checking is on).
    pub enforce_limits: bool,
    /// Panic when the fake is dropped while spec violations were recorded that no
    /// `assert_no_spec_violations`/`take_spec_violations` call looked at (default `true`; never
    /// panics while the thread is already panicking).
    pub panic_on_unchecked_violations: bool,
    /// Answer `403 Missing Permissions` when the bot lacks the permission for an action in a
    /// registered channel (sending messages, adding reactions), as Discord does (default `true`).
    pub enforce_permissions: bool,
    /// Add the bot user as a member (no extra roles) to every guild registered with
    /// `add_guild` that does not list it (default `true`), so serenity's cache knows the bot's
    /// permissions.
    pub add_bot_to_guilds: bool,
    /// The application id (default: a fresh snowflake). It is also the bot user's id unless
    /// `bot_user_id` is set, as for most real bots.
    pub application_id: Option<u64>,
    /// The bot user's id (default: the application id).
    pub bot_user_id: Option<u64>,
    /// The bot user's name.
    pub bot_name: String,
    /// The application owner's user id (poise reads owners from `GET /oauth2/applications/@me`;
    /// default: a fresh snowflake).
    pub owner_id: Option<u64>,
    /// `heartbeat_interval` sent in HELLO, in milliseconds (default 41250, as Discord).
    pub heartbeat_interval_ms: u64,
    /// How long `wait_until_ready` waits for `GET /api/v10/gateway` before deciding the client is
    /// not pointed at this fake (default 5 s; never longer than the call's own timeout).
    pub gateway_request_deadline: Duration,
    /// Enforce Discord's rate limits (default `None`: no limits, no `X-RateLimit-*` headers).
    /// `Some(RateLimits::discord())` gives Discord-like buckets and the global limit;
    /// `.scaled(10.0)` makes every window 10× shorter. See [`RateLimits`].
    pub rate_limits: Option<RateLimits>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            spec_path: None,
            check_spec: true,
            reject_invalid_requests: false,
            enforce_limits: false,
            panic_on_unchecked_violations: true,
            enforce_permissions: true,
            add_bot_to_guilds: true,
            application_id: None,
            bot_user_id: None,
            bot_name: "prayer-bot".to_owned(),
            owner_id: None,
            heartbeat_interval_ms: 41_250,
            gateway_request_deadline: Duration::from_secs(5),
            rate_limits: None,
        }
    }
}
