//! A fake Discord (REST under `/api/v10` plus a gateway websocket) on 127.0.0.1 for driving a
//! real serenity/poise client in tests and benchmarks, recording everything the bot sends and
//! checking request bodies against Discord's OpenAPI spec.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fake_discord::Error> {
//! use std::time::Duration;
//! let fake = fake_discord::FakeDiscord::start().await;
//! // serenity: HttpBuilder::new(token).proxy(fake.base_url()).ratelimiter_disabled(true).build()
//! fake.wait_until_ready(Duration::from_secs(5)).await?;
//! # Ok(()) }
//! ```

mod error;
mod gateway;
mod ids;
mod model;
mod options;
pub mod payloads;
mod ratelimit;
mod record;
mod rest;
mod spec;
mod state;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use error::Error;
pub use ids::{next_snowflake, now_timestamp};
pub use model::{
    FakeAttachment, FakeChannel, FakeGuild, FakeMember, FakeRole, FakeUser, Overwrite,
    OverwriteTarget, channel_kind, permissions,
};
pub use options::Options;
pub use payloads::{
    CommandCall, CommandOption, ComponentPress, Emoji, InteractionEnvelope, Invoker, ReactionEvent,
    option_kind,
};
pub use ratelimit::{BucketRule, EffectiveBucket, Limit, RateLimitStats, RateLimits};
pub use record::{
    API_PREFIX, Direction, GatewayFrame, RecordedRequest, SpecViolation, UploadedFile,
    route_matches,
};
pub use spec::{SPEC_ENV_VAR, default_spec_path};
pub use state::ScriptedResponse;

use state::{InteractionRecord, Outgoing, Shared, State};

/// An interaction the fake sent to the bot; its id and token name the routes the bot answers on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentInteraction {
    /// Interaction id.
    pub id: u64,
    /// Interaction token.
    pub token: String,
    /// The dispatch's sequence number.
    pub seq: u64,
}

impl SentInteraction {
    /// `/interactions/{id}/{token}/callback`, the route of the first answer.
    pub fn callback_route(&self) -> String {
        format!("/interactions/{}/{}/callback", self.id, self.token)
    }

    /// `/webhooks/{application_id}/{token}`, the prefix of follow-ups and response edits.
    pub fn webhook_route(&self, application_id: u64) -> String {
        format!("/webhooks/{application_id}/{}", self.token)
    }
}

/// A running fake Discord. Stops (server, gateway connections) when dropped or on
/// [`FakeDiscord::shutdown`].
#[derive(Debug)]
pub struct FakeDiscord {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: Mutex<Option<JoinHandle<()>>>,
}

const SHOWN_REQUESTS: usize = 40;

impl FakeDiscord {
    /// Starts a fake on 127.0.0.1 with a free port and default [`Options`].
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub async fn start() -> FakeDiscord {
        Self::start_with(Options::default()).await
    }

    /// Starts a fake with the given options.
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub async fn start_with(options: Options) -> FakeDiscord {
        match Self::try_start_with(options).await {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        }
    }

    /// Starts a fake with the given options, or says why it could not.
    pub async fn try_start_with(options: Options) -> Result<FakeDiscord, Error> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| Error::Start {
                message: format!("fake-discord cannot bind 127.0.0.1:0: {e}"),
            })?;
        let addr = listener.local_addr().map_err(|e| Error::Start {
            message: format!("fake-discord cannot read its local address: {e}"),
        })?;
        let spec = if options.check_spec {
            spec::checker_for(&spec::resolve_spec_path(options.spec_path.as_deref()))
        } else {
            None
        };
        let application_id = options.application_id.unwrap_or_else(next_snowflake);
        let bot = FakeUser::bot(
            options.bot_user_id.unwrap_or(application_id),
            options.bot_name.clone(),
        );
        let owner = FakeUser::new(options.owner_id.unwrap_or_else(next_snowflake), "owner");
        let (changed, _) = watch::channel(0u64);
        let (shutdown, _) = watch::channel(false);
        let mut state = State {
            shard_count: 1,
            ..State::default()
        };
        state.users.insert(owner.id, owner.clone());
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            changed,
            shutdown,
            options,
            application_id,
            bot,
            owner,
            port: addr.port(),
            spec,
            started: Instant::now(),
        });
        let app = Router::new()
            .route("/ws", get(gateway::ws_handler))
            .fallback(rest::handle)
            .layer(DefaultBodyLimit::max(64 << 20))
            .with_state(shared.clone());
        let mut stop = shared.shutdown.subscribe();
        let server = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            });
            if let Err(e) = serve.await {
                tracing::warn!("fake-discord server stopped: {e}");
            }
        });
        Ok(FakeDiscord {
            shared,
            addr,
            server: Mutex::new(Some(server)),
        })
    }

    /// `http://127.0.0.1:PORT`: what to give serenity's `HttpBuilder::proxy`.
    pub fn base_url(&self) -> String {
        self.shared.base_url()
    }

    /// `ws://127.0.0.1:PORT/ws`: the gateway URL the fake hands out on `GET /gateway`.
    pub fn gateway_url(&self) -> String {
        self.shared.gateway_url()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The application id (sent in READY; poise registers commands under it).
    pub fn application_id(&self) -> u64 {
        self.shared.application_id
    }

    /// The bot user's id.
    pub fn bot_user_id(&self) -> u64 {
        self.shared.bot.id
    }

    /// The bot user.
    pub fn bot_user(&self) -> FakeUser {
        self.shared.bot.clone()
    }

    /// The application owner (what `GET /oauth2/applications/@me` names).
    pub fn owner(&self) -> FakeUser {
        self.shared.owner.clone()
    }

    /// A fresh unique snowflake id for test objects.
    pub fn next_id(&self) -> u64 {
        next_snowflake()
    }

    // ----- recorded requests -----

    /// A snapshot of the requests recorded so far (since the last `clear_requests`).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// The recorded requests with this method whose route matches `pattern` (see
    /// [`route_matches`]).
    pub fn requests_matching(&self, method: &str, pattern: &str) -> Vec<RecordedRequest> {
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| r.is(method, pattern))
            .cloned()
            .collect()
    }

    /// Forgets the recorded requests (indexes keep counting), e.g. between benchmark rounds.
    pub fn clear_requests(&self) {
        let mut st = self.shared.lock();
        st.requests_cleared += st.requests.len();
        st.requests.clear();
    }

    /// Waits until a recorded request satisfies `predicate` (requests already recorded count) and
    /// returns the first such. On timeout the error lists what was recorded.
    pub async fn wait_for_request(
        &self,
        predicate: impl Fn(&RecordedRequest) -> bool,
        timeout: Duration,
    ) -> Result<RecordedRequest, Error> {
        self.wait_for_requests(predicate, 1, timeout, "a request matching the predicate")
            .await
            .map(|mut v| v.remove(0))
    }

    /// Waits for a request with `method` whose route matches `pattern` (path after `/api/v10`,
    /// `*` for any one segment, prefix match unless it ends in `$`; see [`route_matches`]).
    pub async fn wait_for(
        &self,
        method: &str,
        pattern: &str,
        timeout: Duration,
    ) -> Result<RecordedRequest, Error> {
        let what = format!("{} {pattern}", method.to_ascii_uppercase());
        self.wait_for_requests(|r| r.is(method, pattern), 1, timeout, &what)
            .await
            .map(|mut v| v.remove(0))
    }

    /// Waits until at least `count` recorded requests satisfy `predicate`; returns the first
    /// `count` of them. `what` describes them in the timeout message.
    pub async fn wait_for_requests(
        &self,
        predicate: impl Fn(&RecordedRequest) -> bool,
        count: usize,
        timeout: Duration,
        what: &str,
    ) -> Result<Vec<RecordedRequest>, Error> {
        let found = self
            .wait_until(timeout, |st| {
                let hits: Vec<RecordedRequest> = st
                    .requests
                    .iter()
                    .filter(|r| predicate(r))
                    .take(count)
                    .cloned()
                    .collect();
                (hits.len() >= count).then_some(hits)
            })
            .await;
        found.ok_or_else(|| {
            let have = self
                .shared
                .lock()
                .requests
                .iter()
                .filter(|r| predicate(r))
                .count();
            Error::Timeout {
                message: format!(
                    "timed out after {timeout:?} waiting for {count} × {what} (saw {have})\n{}",
                    self.describe()
                ),
            }
        })
    }

    /// Waits for the bot's first answer to an interaction (`POST /interactions/{id}/{token}/callback`).
    pub async fn wait_for_callback(
        &self,
        sent: &SentInteraction,
        timeout: Duration,
    ) -> Result<RecordedRequest, Error> {
        self.wait_for("POST", &format!("{}$", sent.callback_route()), timeout)
            .await
    }

    /// Waits until `check` returns `Some` on the fake's state, woken by every change.
    async fn wait_until<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&State) -> Option<T>,
    ) -> Option<T> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut rx = self.shared.changed.subscribe();
        loop {
            if let Some(v) = check(&self.shared.lock()) {
                return Some(v);
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => continue,
                Ok(Err(_)) | Err(_) => return check(&self.shared.lock()),
            }
        }
    }

    /// A description of everything recorded, for failure messages.
    pub fn describe(&self) -> String {
        let st = self.shared.lock();
        let mut s = String::new();
        let n = st.requests.len();
        let _ = writeln!(
            s,
            "fake-discord at {} recorded {n} request(s):",
            self.base_url()
        );
        if n > SHOWN_REQUESTS {
            let _ = writeln!(s, "  ... {} earlier ...", n - SHOWN_REQUESTS);
        }
        for r in st.requests.iter().skip(n.saturating_sub(SHOWN_REQUESTS)) {
            let _ = writeln!(s, "  #{} {}", r.index, r.summary());
        }
        let session = if st.sessions.is_empty() {
            "nobody identified".to_owned()
        } else {
            st.sessions
                .values()
                .map(|sess| match sess.conn {
                    Some(_) => format!(
                        "identified, session {} (shard {:?}, seq {})",
                        sess.session_id, sess.shard, sess.seq
                    ),
                    None => format!("session {} with no live connection", sess.session_id),
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        let _ = writeln!(
            s,
            "gateway: {} connection(s) open, {} IDENTIFY(s), {session}",
            st.connections.len(),
            st.identifies
        );
        if !st.violations.is_empty() {
            let _ = writeln!(s, "spec violations:");
            for v in &st.violations {
                let _ = writeln!(s, "  {v}");
            }
        }
        s
    }

    // ----- gateway -----

    /// Waits until a client has identified on the gateway (READY has been sent) and returns its
    /// IDENTIFY frame. Fails early, after [`Options::gateway_request_deadline`] (default 5 s), if
    /// `GET /api/v10/gateway` never arrives: then the client is not pointed at this fake.
    pub async fn wait_until_ready(&self, timeout: Duration) -> Result<GatewayFrame, Error> {
        let started = tokio::time::Instant::now();
        let gateway_deadline = timeout.min(self.shared.options.gateway_request_deadline);
        let asked = self
            .wait_until(gateway_deadline, |st| {
                (st.gateway_requests > 0 || st.identifies > 0 || !st.connections.is_empty())
                    .then_some(())
            })
            .await;
        if asked.is_none() {
            return Err(Error::NotPointedAtFake {
                message: format!(
                    "no client asked GET /api/v10/gateway within {gateway_deadline:?}, so the client \
                     under test is not pointed at this fake. Build its Http with \
                     HttpBuilder::new(token).proxy(\"{}\").ratelimiter_disabled(true).build() and the \
                     client with ClientBuilder::new_with_http(http, intents); with the rate limiter \
                     on, serenity ignores the proxy and talks to discord.com.\n{}",
                    self.base_url(),
                    self.describe()
                ),
            });
        }
        let rest = timeout.saturating_sub(started.elapsed());
        let identify = self
            .wait_until(rest, |st| {
                if st.identifies == 0 {
                    return None;
                }
                st.gateway_frames
                    .iter()
                    .rev()
                    .find(|f| f.direction == Direction::Received && f.op == 2)
                    .cloned()
            })
            .await;
        identify.ok_or_else(|| Error::Timeout {
            message: format!(
                "timed out after {timeout:?} waiting for the client to IDENTIFY on {} (it did ask \
                 GET /gateway)\n{}",
                self.gateway_url(),
                self.describe()
            ),
        })
    }

    /// Whether a client is identified on a live gateway connection.
    pub fn is_connected(&self) -> bool {
        self.shared.lock().any_connected()
    }

    /// Sets how many shards `GET /gateway/bot` recommends (default 1). Each IDENTIFY must then
    /// name a shard `[id, count]` with `id < count`; another is closed with 4010 (Invalid shard)
    /// and listed by [`FakeDiscord::shard_refusals`]. Each shard's session receives only the
    /// events of the guilds it owns (`(guild_id >> 22) % count`), and its READY lists only them.
    pub fn set_shard_count(&self, count: u32) {
        self.shared.lock().shard_count = count.max(1);
    }

    /// Each IDENTIFY's `shard` field, in the order they arrived.
    pub fn identified_shards(&self) -> Vec<[u32; 2]> {
        self.shared.lock().identified_shards.clone()
    }

    /// Why IDENTIFYs were refused for their shard, if any were.
    pub fn shard_refusals(&self) -> Vec<String> {
        self.shared.lock().shard_refusals.clone()
    }

    /// How many IDENTIFYs the fake has received.
    pub fn identify_count(&self) -> u64 {
        self.shared.lock().identifies
    }

    /// All gateway frames, both directions, in order.
    pub fn gateway_frames(&self) -> Vec<GatewayFrame> {
        self.shared.lock().gateway_frames.clone()
    }

    /// Waits for a gateway frame satisfying `predicate` (earlier frames count).
    pub async fn wait_for_gateway(
        &self,
        predicate: impl Fn(&GatewayFrame) -> bool,
        timeout: Duration,
    ) -> Result<GatewayFrame, Error> {
        let found = self
            .wait_until(timeout, |st| {
                st.gateway_frames.iter().find(|f| predicate(f)).cloned()
            })
            .await;
        found.ok_or_else(|| Error::Timeout {
            message: format!(
                "timed out after {timeout:?} waiting for a gateway frame\n{}",
                self.describe()
            ),
        })
    }

    /// Sends a dispatch (op 0, next `s`) with event name `event` (e.g. `"MESSAGE_CREATE"`) and
    /// data `data` on the identified session; returns its sequence number. An
    /// `INTERACTION_CREATE` sent this way is registered so the bot's callback is accepted.
    pub fn send_dispatch(&self, event: &str, data: Value) -> Result<u64, Error> {
        let mut st = self.shared.lock();
        if event == "INTERACTION_CREATE"
            && let (Some(id), Some(token)) = (
                data.get("id")
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse::<u64>().ok()),
                data.get("token").and_then(Value::as_str),
            )
        {
            st.interactions
                .entry(token.to_owned())
                .or_insert_with(|| InteractionRecord {
                    id,
                    channel_id: data
                        .get("channel_id")
                        .and_then(Value::as_str)
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0),
                    guild_id: data
                        .get("guild_id")
                        .and_then(Value::as_str)
                        .and_then(|s| s.parse().ok()),
                    ..InteractionRecord::default()
                });
        }
        let seq = self.shared.dispatch_locked(&mut st, event, data);
        drop(st);
        self.shared.notify();
        seq
    }

    /// Asks the client to reconnect (op 7), as Discord does before maintenance.
    pub fn send_reconnect(&self) -> Result<(), Error> {
        self.send_on_session(Outgoing::Text(r#"{"op":7,"d":null}"#.to_owned()))
    }

    /// Closes the live gateway connection with a close code (e.g. 4000 → serenity resumes,
    /// 4004 → authentication failed and the client gives up).
    pub fn close_gateway(&self, code: u16, reason: &str) -> Result<(), Error> {
        self.send_on_session(Outgoing::Close(code, reason.to_owned()))
    }

    fn send_on_session(&self, out: Outgoing) -> Result<(), Error> {
        let st = self.shared.lock();
        let txs: Vec<_> = st
            .sessions
            .values()
            .filter_map(|s| s.conn.as_ref())
            .map(|(_, tx)| tx.clone())
            .collect();
        drop(st);
        if txs.is_empty() {
            return Err(Error::NotConnected {
                message: "no client is identified on a live gateway connection".to_owned(),
            });
        }
        // Every shard's connection gets it (one, unless the client shards).
        for tx in txs {
            tx.send(out.clone()).map_err(|_| Error::NotConnected {
                message: "the gateway connection just closed".to_owned(),
            })?;
        }
        Ok(())
    }

    // ----- the world the bot sees -----

    /// Registers (or replaces) a guild: REST answers for it, READY lists it on every identify
    /// with a GUILD_CREATE after, and if a client is connected a GUILD_CREATE is sent now.
    /// Unless [`Options::add_bot_to_guilds`] is off, the bot is added as a plain member.
    pub fn add_guild(&self, mut guild: FakeGuild) {
        if self.shared.options.add_bot_to_guilds && guild.member(self.shared.bot.id).is_none() {
            guild.members.push(FakeMember::new(self.shared.bot.clone()));
        }
        let mut st = self.shared.lock();
        for m in &guild.members {
            st.users.entry(m.user.id).or_insert_with(|| m.user.clone());
        }
        let payload = payloads::guild_create(&guild);
        st.guilds.insert(guild.id, guild);
        let connected = st.any_connected();
        if connected {
            let _ = self
                .shared
                .dispatch_locked(&mut st, "GUILD_CREATE", payload);
        }
        drop(st);
        self.shared.notify();
    }

    /// A registered guild, as it stands.
    pub fn guild(&self, guild_id: u64) -> Option<FakeGuild> {
        self.shared.lock().guilds.get(&guild_id).cloned()
    }

    /// Closes `user_id`'s direct messages to the bot: a message to their DM
    /// channel is refused as Discord refuses it (403, code 50007).
    pub fn close_dms(&self, user_id: u64) {
        self.shared.lock().closed_dms.insert(user_id);
    }

    /// The thread opened on `message_id`, as Discord answered it.
    pub fn thread_on(&self, message_id: u64) -> Option<Value> {
        self.shared.lock().threads.get(&message_id).cloned()
    }

    /// The DM channel the bot opened with `user_id`, if it did.
    pub fn dm_channel(&self, user_id: u64) -> Option<u64> {
        self.shared.lock().dm_channels.get(&user_id).copied()
    }

    /// Makes a user known (for `GET /users/{id}` and reaction lists).
    pub fn add_user(&self, user: FakeUser) {
        self.shared.lock().users.insert(user.id, user);
    }

    /// The messages the bot created in a channel (channel messages, interaction responses and
    /// follow-ups), oldest first, not deleted, with current reactions.
    pub fn messages_in(&self, channel_id: u64) -> Vec<Value> {
        let st = self.shared.lock();
        st.channel_messages
            .get(&channel_id)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| st.message_json(*id, self.shared.bot.id))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A message the bot created, by id.
    pub fn message(&self, message_id: u64) -> Option<Value> {
        self.shared
            .lock()
            .message_json(message_id, self.shared.bot.id)
    }

    /// The original response message of an interaction, once the bot answered (or edited) it.
    pub fn interaction_response(&self, sent: &SentInteraction) -> Option<Value> {
        let st = self.shared.lock();
        let id = st.interactions.get(&sent.token)?.original?;
        st.message_json(id, self.shared.bot.id)
    }

    /// Sets who has reacted to a message with an emoji (what
    /// `GET /channels/{c}/messages/{m}/reactions/{emoji}` lists); the users become known.
    pub fn set_reactions(&self, message_id: u64, emoji: impl Into<Emoji>, users: &[FakeUser]) {
        let emoji = emoji.into();
        let mut st = self.shared.lock();
        for u in users {
            st.users.insert(u.id, u.clone());
        }
        st.reactions.insert(
            (message_id, emoji.path_key()),
            users.iter().map(|u| u.id).collect(),
        );
    }

    /// Deletes a message as a moderator would: a `GET` of it answers 404 Unknown Message from
    /// now on, and its reactions go with it. `false` if there was no such message. (No
    /// MESSAGE_DELETE is dispatched.)
    pub fn delete_message(&self, message_id: u64) -> bool {
        let mut st = self.shared.lock();
        let found = match st.messages.get_mut(&message_id) {
            Some(m) if !m.deleted => {
                m.deleted = true;
                true
            }
            _ => false,
        };
        st.reactions.retain(|(m, _), _| *m != message_id);
        found
    }

    /// Serves a file at the fake: sets `url` (unless already set) to
    /// `http://127.0.0.1:PORT/attachments/{channel_id}/{id}/{filename}?ex=..&is=..&hm=..` and
    /// `proxy_url` (unless set) to the same, and answers `GET`/`HEAD` there with the bytes and
    /// `content-type` (no `Authorization` needed; an unknown id or file name gets 404). Returns
    /// the attachment with its URLs, e.g. for a message object a test builds.
    /// [`FakeDiscord::send_command`] does this for attachment options itself.
    pub fn serve_attachment(
        &self,
        channel_id: u64,
        mut attachment: FakeAttachment,
    ) -> FakeAttachment {
        let base = self.base_url();
        self.shared
            .lock()
            .serve_attachment(&base, channel_id, &mut attachment);
        attachment
    }

    /// The user ids that reacted to a message with an emoji (including the bot's own).
    pub fn reactions(&self, message_id: u64, emoji: impl Into<Emoji>) -> Vec<u64> {
        self.shared
            .lock()
            .reactions
            .get(&(message_id, emoji.into().path_key()))
            .cloned()
            .unwrap_or_default()
    }

    /// The commands the bot registered: global (`None`) or for a guild, as the fake answered them.
    pub fn registered_commands(&self, guild_id: Option<u64>) -> Vec<Value> {
        let st = self.shared.lock();
        match guild_id {
            Some(g) => st.guild_commands.get(&g).cloned().unwrap_or_default(),
            None => st.global_commands.clone(),
        }
    }

    // ----- interactions and events -----

    fn envelope(&self, st: &State, invoker: &mut Invoker) -> InteractionEnvelope {
        let guild = invoker.guild_id.and_then(|g| st.guilds.get(&g));
        if let Some(g) = guild
            && invoker.roles.is_empty()
            && let Some(m) = g.member(invoker.user.id)
        {
            invoker.roles = m.roles.clone();
        }
        let member_permissions = invoker
            .permissions
            .or_else(|| guild.and_then(|g| g.permissions_in(invoker.channel_id, invoker.user.id)))
            .unwrap_or(permissions::DEFAULT_EVERYONE);
        let app_permissions = guild
            .and_then(|g| g.permissions_in(invoker.channel_id, self.shared.bot.id))
            .unwrap_or(permissions::DEFAULT_EVERYONE);
        let id = next_snowflake();
        InteractionEnvelope {
            application_id: self.shared.application_id,
            id,
            token: format!("fake-interaction-token-{id}-{}", self.addr.port()),
            member_permissions,
            app_permissions,
            channel: guild.and_then(|g| g.channel(invoker.channel_id).cloned()),
        }
    }

    fn command_id(st: &State, name: &str, guild_id: Option<u64>) -> Option<u64> {
        let find = |list: &[Value]| {
            list.iter()
                .find(|c| c["name"] == name && c["type"] == 1)
                .and_then(|c| c["id"].as_str())
                .and_then(|s| s.parse().ok())
        };
        guild_id
            .and_then(|g| st.guild_commands.get(&g).and_then(|l| find(l)))
            .or_else(|| find(&st.global_commands))
    }

    fn send_interaction(
        &self,
        mut invoker: Invoker,
        build: impl FnOnce(&mut State, &InteractionEnvelope, &Invoker) -> (Value, Option<u64>),
    ) -> Result<SentInteraction, Error> {
        let mut st = self.shared.lock();
        let env = self.envelope(&st, &mut invoker);
        let (payload, component_message) = build(&mut st, &env, &invoker);
        st.interactions.insert(
            env.token.clone(),
            InteractionRecord {
                id: env.id,
                channel_id: invoker.channel_id,
                guild_id: invoker.guild_id,
                component_message,
                ..InteractionRecord::default()
            },
        );
        let seq = self
            .shared
            .dispatch_locked(&mut st, "INTERACTION_CREATE", payload);
        if seq.is_err() {
            st.interactions.remove(&env.token);
        }
        drop(st);
        self.shared.notify();
        Ok(SentInteraction {
            id: env.id,
            token: env.token,
            seq: seq?,
        })
    }

    /// Sends a slash command interaction (type 2). The command id is the one the fake gave the
    /// command when the bot registered it, unless `call.command_id` says otherwise.
    ///
    /// Attachment options ([`CommandOption::attachment`]) get URLs on the fake, which serves
    /// their bytes (see [`FakeDiscord::serve_attachment`]).
    pub fn send_command(
        &self,
        call: CommandCall,
        invoker: Invoker,
    ) -> Result<SentInteraction, Error> {
        self.send_application_command(call, invoker, payloads::interaction_command)
    }

    /// Sends an autocomplete interaction (type 4); `call` holds a [`CommandOption::focused`].
    pub fn send_autocomplete(
        &self,
        call: CommandCall,
        invoker: Invoker,
    ) -> Result<SentInteraction, Error> {
        self.send_application_command(call, invoker, payloads::interaction_autocomplete)
    }

    /// A command or autocomplete interaction, built by `payload`: attachments served by the
    /// fake, and the command id the bot registered.
    fn send_application_command(
        &self,
        mut call: CommandCall,
        invoker: Invoker,
        payload: fn(&InteractionEnvelope, u64, &CommandCall, &Invoker) -> Value,
    ) -> Result<SentInteraction, Error> {
        let base = self.base_url();
        self.send_interaction(invoker, |st, env, invoker| {
            for a in call.attachments_mut() {
                st.serve_attachment(&base, invoker.channel_id, a);
            }
            let cid = call
                .command_id
                .or_else(|| Self::command_id(st, &call.name, invoker.guild_id))
                .unwrap_or_else(next_snowflake);
            (payload(env, cid, &call, invoker), None)
        })
    }

    /// Sends a message component interaction (type 3: button press or select). The message is
    /// the stored bot message `press.message_id` if known, else a made-up bot message (stored,
    /// so an UPDATE_MESSAGE answer can edit it).
    pub fn send_component(
        &self,
        press: ComponentPress,
        invoker: Invoker,
    ) -> Result<SentInteraction, Error> {
        let bot = self.shared.bot.clone();
        let app = self.shared.application_id;
        self.send_interaction(invoker, |st, env, invoker| {
            let known = press
                .message_id
                .and_then(|id| st.message_json(id, bot.id).map(|m| (id, m)));
            let (mid, message) = match known {
                Some(found) => found,
                None => {
                    let parts = payloads::MessageParts {
                        id: press.message_id.unwrap_or_else(next_snowflake),
                        channel_id: invoker.channel_id,
                        guild_id: invoker.guild_id,
                        author: &bot,
                        webhook_id: None,
                        application_id: Some(app),
                    };
                    let body = serde_json::json!({"content": "", "components": [{
                        "type": 1,
                        "components": [{"type": 2, "style": 1, "label": "button", "custom_id": press.custom_id}],
                    }]});
                    let m = payloads::message(&parts, &body, Vec::new());
                    let id = st.store_message(invoker.channel_id, m.clone());
                    (id, m)
                }
            };
            (
                payloads::interaction_component(env, &press, invoker, message),
                Some(mid),
            )
        })
    }

    /// Same as [`FakeDiscord::send_component`] (a button press).
    pub fn send_button(
        &self,
        press: ComponentPress,
        invoker: Invoker,
    ) -> Result<SentInteraction, Error> {
        self.send_component(press, invoker)
    }

    /// Sends MESSAGE_CREATE for a message `author` posts in `channel_id` (with `guild_id` and
    /// the author's member object when the channel is in a registered guild), and stores it so
    /// the bot can fetch it, react to it or reply. Returns the message id.
    pub fn send_message_create(
        &self,
        channel_id: u64,
        author: &FakeUser,
        content: &str,
    ) -> Result<u64, Error> {
        let mut st = self.shared.lock();
        let (guild_id, member) = match st.channel(channel_id) {
            Some((g, _)) => (
                Some(g.id),
                Some(
                    g.member(author.id)
                        .cloned()
                        .unwrap_or_else(|| FakeMember::new(author.clone())),
                ),
            ),
            None => (None, None),
        };
        let id = next_snowflake();
        let parts = payloads::MessageParts {
            id,
            channel_id,
            guild_id,
            author,
            webhook_id: None,
            application_id: None,
        };
        let data = payloads::message_create(&parts, content, member.as_ref());
        st.users.entry(author.id).or_insert_with(|| author.clone());
        let mut stored = data.clone();
        if let Some(obj) = stored.as_object_mut() {
            obj.remove("member");
        }
        st.store_message(channel_id, stored);
        let sent = self.shared.dispatch_locked(&mut st, "MESSAGE_CREATE", data);
        drop(st);
        self.shared.notify();
        sent.map(|_| id)
    }

    /// Sends MESSAGE_REACTION_ADD and records the reaction (so reaction lists include the user).
    pub fn send_reaction_add(&self, event: &ReactionEvent) -> Result<u64, Error> {
        {
            let mut st = self.shared.lock();
            if let Some(m) = &event.member {
                st.users.insert(m.user.id, m.user.clone());
            }
            let users = st
                .reactions
                .entry((event.message_id, event.emoji.path_key()))
                .or_default();
            if !users.contains(&event.user_id) {
                users.push(event.user_id);
            }
        }
        self.send_dispatch("MESSAGE_REACTION_ADD", payloads::reaction_add(event))
    }

    /// Sends MESSAGE_REACTION_REMOVE and forgets the reaction.
    pub fn send_reaction_remove(&self, event: &ReactionEvent) -> Result<u64, Error> {
        {
            let mut st = self.shared.lock();
            if let Some(users) = st
                .reactions
                .get_mut(&(event.message_id, event.emoji.path_key()))
            {
                users.retain(|u| *u != event.user_id);
            }
        }
        self.send_dispatch("MESSAGE_REACTION_REMOVE", payloads::reaction_remove(event))
    }

    // ----- scripted answers -----

    /// The next `method` request whose route matches `pattern` gets `status` with `body`
    /// (e.g. 500 `{"message": "500: Internal Server Error", "code": 0}`). It is still recorded
    /// and spec-checked.
    pub fn fail_next(&self, method: &str, pattern: &str, status: u16, body: Value) {
        self.script(ScriptedResponse::new(method, pattern, status, body));
    }

    /// The next matching request gets a Discord 429 (`retry_after` seconds, per-route limit, with
    /// `retry-after` and `x-ratelimit-*` headers).
    pub fn rate_limit_next(&self, method: &str, pattern: &str, retry_after_secs: f64) {
        self.script(ScriptedResponse::rate_limited(
            method,
            pattern,
            retry_after_secs,
        ));
    }

    /// Adds a scripted answer (first added, first used).
    pub fn script(&self, response: ScriptedResponse) {
        self.shared.lock().scripted.push(response);
    }

    // ----- rate limits -----

    /// The rate limits this fake enforces (`Options::rate_limits`), e.g. for
    /// [`RateLimits::lower_bound`].
    pub fn rate_limits(&self) -> Option<RateLimits> {
        self.shared.options.rate_limits.clone()
    }

    /// How many requests the rate limiter served and refused (global vs bucket) so far (all zero
    /// when rate limits are off).
    pub fn rate_limit_stats(&self) -> RateLimitStats {
        self.shared.lock().limiter.stats
    }

    /// Forgets every rate limit window and zeroes the counters, e.g. between benchmark rounds.
    pub fn reset_rate_limits(&self) {
        self.shared.lock().limiter.reset();
    }

    // ----- spec checking -----

    /// Whether request bodies are checked against the spec (the spec file was found).
    pub fn spec_checking_enabled(&self) -> bool {
        self.shared.spec.is_some()
    }

    /// The spec file in use, if checking is on.
    pub fn spec_path(&self) -> Option<PathBuf> {
        self.shared.spec.as_ref().map(|s| s.path().to_path_buf())
    }

    /// Every spec violation recorded so far (this counts as having looked at them).
    pub fn spec_violations(&self) -> Vec<SpecViolation> {
        let mut st = self.shared.lock();
        st.violations_seen = st.violations.len();
        st.violations.clone()
    }

    /// Returns the recorded violations and forgets them (for tests that provoke one on purpose).
    pub fn take_spec_violations(&self) -> Vec<SpecViolation> {
        let mut st = self.shared.lock();
        st.violations_seen = 0;
        std::mem::take(&mut st.violations)
    }

    /// Panics, listing them, if any request broke the spec.
    pub fn assert_no_spec_violations(&self) {
        let violations = self.spec_violations();
        if !violations.is_empty() {
            let list: Vec<String> = violations.iter().map(|v| format!("  {v}")).collect();
            panic!(
                "{} request(s) to fake Discord broke the Discord API spec:\n{}",
                violations.len(),
                list.join("\n")
            );
        }
    }

    /// Answers of the fake itself that do not match the spec's response schemas (a bug in the
    /// fake, not in the bot; the fake's own tests keep this empty).
    pub fn answer_violations(&self) -> Vec<SpecViolation> {
        self.shared.lock().answer_violations.clone()
    }

    /// Stops the server and the gateway connections and waits (briefly) for the server to end.
    pub async fn shutdown(self) {
        self.shared.shutdown.send_replace(true);
        let handle = self.server.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(mut handle) = handle
            && tokio::time::timeout(Duration::from_secs(2), &mut handle)
                .await
                .is_err()
        {
            handle.abort();
        }
    }
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.shared.shutdown.send_replace(true);
        // The server task sees the signal, stops accepting and closes idle connections; the
        // gateway connections watch the same signal.
        drop(self.server.lock().unwrap_or_else(|p| p.into_inner()).take());
        if self.shared.options.panic_on_unchecked_violations && !std::thread::panicking() {
            let st = self.shared.lock();
            let unchecked: Vec<String> = st.violations
                [st.violations_seen.min(st.violations.len())..]
                .iter()
                .map(|v| format!("  {v}"))
                .collect();
            drop(st);
            if !unchecked.is_empty() {
                panic!(
                    "fake-discord dropped with {} spec violation(s) nobody checked \
                     (call assert_no_spec_violations or take_spec_violations):\n{}",
                    unchecked.len(),
                    unchecked.join("\n")
                );
            }
        }
    }
}
