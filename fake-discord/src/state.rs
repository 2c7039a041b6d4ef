//! The fake's shared state (logs, registered guilds, stored messages, scripted answers, the
//! gateway session) and the change notification that waiting methods sleep on.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::error::Error;
use crate::model::{FakeAttachment, FakeChannel, FakeGuild, FakeUser};
use crate::options::Options;
use crate::ratelimit::Limiter;
use crate::record::{Direction, GatewayFrame, RecordedRequest, SpecViolation, route_matches};
use crate::spec::SpecChecker;

/// Something to write to one websocket connection.
#[derive(Debug, Clone)]
pub(crate) enum Outgoing {
    Text(String),
    Close(u16, String),
}

/// The identified gateway session (one shard).
#[derive(Debug)]
pub(crate) struct Session {
    pub session_id: String,
    pub seq: u64,
    /// The connection the session currently lives on, if any.
    pub conn: Option<(u64, mpsc::UnboundedSender<Outgoing>)>,
    pub shard: [u32; 2],
}

/// An answer scripted by a test for the next matching request(s).
#[derive(Clone, Debug)]
pub struct ScriptedResponse {
    /// HTTP method to match (case-insensitive), or `None` for any.
    pub method: Option<String>,
    /// Route pattern (see [`crate::route_matches`]).
    pub pattern: String,
    /// Status to answer.
    pub status: u16,
    /// JSON body to answer (`None`: empty body).
    pub body: Option<Value>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// How many matching requests get this answer.
    pub times: usize,
    /// How long the fake waits before answering (default none), as a slow or distant Discord
    /// would.
    pub delay: Duration,
    /// Answer as the fake would without a script (only `delay` applies); set by
    /// [`ScriptedResponse::slow`].
    pub serve_normally: bool,
}

impl ScriptedResponse {
    /// One answer with `status` and `body` for the next `method` request matching `pattern`.
    pub fn new(method: &str, pattern: &str, status: u16, body: Value) -> Self {
        ScriptedResponse {
            method: Some(method.to_ascii_uppercase()),
            pattern: pattern.to_owned(),
            status,
            body: Some(body),
            headers: Vec::new(),
            times: 1,
            delay: Duration::ZERO,
            serve_normally: false,
        }
    }

    /// The next `method` request matching `pattern` is answered as usual, but only after
    /// `delay`: a slow Discord. Combine with [`ScriptedResponse::times`] to slow a whole run of
    /// sends.
    pub fn slow(method: &str, pattern: &str, delay: Duration) -> Self {
        ScriptedResponse {
            body: None,
            delay,
            serve_normally: true,
            ..ScriptedResponse::new(method, pattern, 200, Value::Null)
        }
    }

    /// Waits `delay` before giving this answer.
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// A Discord `429 Too Many Requests` with the body and `x-ratelimit-*`/`retry-after`
    /// headers Discord sends, for a per-route (not global) limit. Like Discord's, the body has
    /// no `code`, so serenity cannot decode it as an error (its `code` is then -1).
    pub fn rate_limited(method: &str, pattern: &str, retry_after_secs: f64) -> Self {
        let mut r = ScriptedResponse::new(
            method,
            pattern,
            429,
            json!({
                "message": "You are being rate limited.",
                "retry_after": retry_after_secs,
                "global": false,
            }),
        );
        let reset_after = format!("{retry_after_secs:.3}");
        let reset_at = crate::ids::now_ms() as f64 / 1000.0 + retry_after_secs;
        r.headers = vec![
            (
                "retry-after".to_owned(),
                format!("{}", retry_after_secs.ceil() as u64),
            ),
            ("x-ratelimit-limit".to_owned(), "5".to_owned()),
            ("x-ratelimit-remaining".to_owned(), "0".to_owned()),
            ("x-ratelimit-reset".to_owned(), format!("{reset_at:.3}")),
            ("x-ratelimit-reset-after".to_owned(), reset_after),
            (
                "x-ratelimit-bucket".to_owned(),
                "fake-discord-bucket".to_owned(),
            ),
            ("x-ratelimit-scope".to_owned(), "user".to_owned()),
        ];
        r
    }

    /// Applies to the next `n` matching requests instead of one.
    pub fn times(mut self, n: usize) -> Self {
        self.times = n;
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    pub(crate) fn matches(&self, method: &str, route: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && route_matches(&self.pattern, route)
    }
}

/// A message the bot created (in a channel, or as an interaction response or follow-up).
#[derive(Clone, Debug)]
pub(crate) struct StoredMessage {
    pub channel_id: u64,
    pub json: Value,
    pub deleted: bool,
}

/// An interaction the fake sent, and what the bot did with it.
#[derive(Clone, Debug, Default)]
pub(crate) struct InteractionRecord {
    pub id: u64,
    pub channel_id: u64,
    pub guild_id: Option<u64>,
    pub acknowledged: bool,
    /// The original response message id, once there is one.
    pub original: Option<u64>,
    /// The message a component interaction came from.
    pub component_message: Option<u64>,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub requests: Vec<RecordedRequest>,
    pub requests_cleared: usize,
    pub violations: Vec<SpecViolation>,
    pub violations_seen: usize,
    pub answer_violations: Vec<SpecViolation>,
    pub gateway_frames: Vec<GatewayFrame>,
    pub connections: HashMap<u64, mpsc::UnboundedSender<Outgoing>>,
    pub next_connection: u64,
    /// The identified sessions, one per shard, by shard id.
    pub sessions: BTreeMap<u32, Session>,
    /// How many shards `GET /gateway/bot` recommends and IDENTIFY must use.
    pub shard_count: u32,
    /// Each IDENTIFY's `shard` field, in order (`[0, 1]` when absent).
    pub identified_shards: Vec<[u32; 2]>,
    /// IDENTIFYs refused for a shard that does not fit `shard_count`.
    pub shard_refusals: Vec<String>,
    pub sessions_started: u64,
    pub identifies: u64,
    pub gateway_requests: u64,
    pub guilds: BTreeMap<u64, FakeGuild>,
    pub users: HashMap<u64, FakeUser>,
    pub dm_channels: HashMap<u64, u64>,
    /// Threads opened on a message, by the message's id (a thread made from
    /// a message has the message's id).
    pub threads: HashMap<u64, Value>,
    /// Users who do not take direct messages from the bot.
    pub closed_dms: std::collections::HashSet<u64>,
    pub global_commands: Vec<Value>,
    pub guild_commands: HashMap<u64, Vec<Value>>,
    pub messages: HashMap<u64, StoredMessage>,
    pub channel_messages: HashMap<u64, Vec<u64>>,
    pub interactions: HashMap<String, InteractionRecord>,
    /// (message id, decoded emoji) → user ids, in reaction order.
    pub reactions: HashMap<(u64, String), Vec<u64>>,
    pub scripted: Vec<ScriptedResponse>,
    /// Files the fake serves under `/attachments/{channel}/{id}/{filename}`, by id.
    pub attachments: HashMap<u64, FakeAttachment>,
    /// Rate limit windows and counters (used when `Options::rate_limits` is set).
    pub limiter: Limiter,
}

impl State {
    /// The shard that owns `guild`, as Discord computes it.
    pub fn shard_of(&self, guild: u64) -> u32 {
        ((guild >> 22) % u64::from(self.shard_count.max(1))) as u32
    }

    /// Whether any shard's session has a live connection.
    pub fn any_connected(&self) -> bool {
        self.sessions.values().any(|s| s.conn.is_some())
    }

    /// The guild and channel for a channel id, if registered.
    pub fn channel(&self, channel_id: u64) -> Option<(&FakeGuild, &FakeChannel)> {
        self.guilds
            .values()
            .find_map(|g| g.channel(channel_id).map(|c| (g, c)))
    }

    /// Finds a user among registered users and guild members.
    pub fn user(&self, user_id: u64) -> Option<FakeUser> {
        self.users.get(&user_id).cloned().or_else(|| {
            self.guilds
                .values()
                .find_map(|g| g.member(user_id).map(|m| m.user.clone()))
        })
    }

    /// Takes the first scripted answer matching the request.
    pub fn take_scripted(&mut self, method: &str, route: &str) -> Option<ScriptedResponse> {
        let pos = self
            .scripted
            .iter()
            .position(|s| s.times > 0 && s.matches(method, route))?;
        let s = self.scripted[pos].clone();
        self.scripted[pos].times -= 1;
        if self.scripted[pos].times == 0 {
            self.scripted.remove(pos);
        }
        Some(s)
    }

    /// Points an attachment's URLs at the fake (unless set) and serves its bytes.
    pub fn serve_attachment(&mut self, base_url: &str, channel_id: u64, a: &mut FakeAttachment) {
        a.point_at(base_url, channel_id);
        self.attachments.insert(a.id, a.clone());
    }

    /// Stores a created message.
    pub fn store_message(&mut self, channel_id: u64, json: Value) -> u64 {
        let id = json
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        self.messages.insert(
            id,
            StoredMessage {
                channel_id,
                json,
                deleted: false,
            },
        );
        self.channel_messages
            .entry(channel_id)
            .or_default()
            .push(id);
        id
    }

    /// A stored message with its current reactions filled in.
    pub fn message_json(&self, message_id: u64, bot_id: u64) -> Option<Value> {
        let m = self.messages.get(&message_id).filter(|m| !m.deleted)?;
        let mut json = m.json.clone();
        let mut reactions: Vec<(&String, &Vec<u64>)> = self
            .reactions
            .iter()
            .filter(|((mid, _), users)| *mid == message_id && !users.is_empty())
            .map(|((_, e), users)| (e, users))
            .collect();
        reactions.sort();
        json["reactions"] = Value::Array(
            reactions
                .into_iter()
                .map(|(emoji, users)| {
                    json!({
                        "count": users.len(),
                        "count_details": {"burst": 0, "normal": users.len()},
                        "me": users.contains(&bot_id),
                        "me_burst": false,
                        "burst_colors": [],
                        "emoji": emoji_json(emoji),
                    })
                })
                .collect(),
        );
        Some(json)
    }
}

/// The emoji object for a decoded reaction key (`🙏` or `name:id`).
pub(crate) fn emoji_json(key: &str) -> Value {
    match key.rsplit_once(':') {
        Some((name, id)) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => {
            json!({"id": id, "name": name.trim_start_matches("a:"), "animated": name.starts_with("a:")})
        }
        _ => json!({"id": null, "name": key}),
    }
}

/// Everything the server tasks and the `FakeDiscord` handle share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub state: Mutex<State>,
    pub changed: watch::Sender<u64>,
    pub shutdown: watch::Sender<bool>,
    pub options: Options,
    pub application_id: u64,
    pub bot: FakeUser,
    pub owner: FakeUser,
    pub port: u16,
    pub spec: Option<Arc<SpecChecker>>,
    pub started: Instant,
}

impl Shared {
    /// Locks the state (a panic elsewhere does not make the fake unusable).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wakes everyone waiting for something to be recorded.
    pub fn notify(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn gateway_url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.port)
    }

    /// Records a gateway frame.
    pub fn record_frame(
        &self,
        state: &mut State,
        connection: u64,
        direction: Direction,
        payload: Value,
    ) {
        let frame = GatewayFrame {
            index: state.gateway_frames.len(),
            connection,
            direction,
            op: payload
                .get("op")
                .and_then(Value::as_u64)
                .unwrap_or(u64::MAX),
            event: payload.get("t").and_then(Value::as_str).map(str::to_owned),
            seq: payload.get("s").and_then(Value::as_u64),
            payload,
            at: self.elapsed(),
        };
        state.gateway_frames.push(frame);
    }

    /// Sends a dispatch (op 0) on the session of the shard that owns its guild (Discord's
    /// `(guild_id >> 22) % shards`; shard 0 for an event of no guild), with that session's next
    /// sequence number.
    pub fn dispatch_locked(
        &self,
        state: &mut State,
        event: &str,
        data: Value,
    ) -> Result<u64, Error> {
        let guild = if event == "GUILD_CREATE" {
            data.get("id")
        } else {
            data.get("guild_id")
        }
        .and_then(|v| {
            v.as_str()
                .and_then(|s| s.parse().ok())
                .or_else(|| v.as_u64())
        });
        let shard = guild.map_or(0, |g| state.shard_of(g));
        self.dispatch_to_shard(state, shard, event, data)
    }

    /// Sends `event` on shard `shard`'s session (a READY goes to the shard
    /// that identified, whatever its number).
    pub fn dispatch_to_shard(
        &self,
        state: &mut State,
        shard: u32,
        event: &str,
        data: Value,
    ) -> Result<u64, Error> {
        let Some(session) = state.sessions.get_mut(&shard) else {
            return Err(Error::NotConnected {
                message: format!(
                    "cannot send {event}: no client has identified on the fake gateway yet \
                     (call wait_until_ready first)"
                ),
            });
        };
        let Some((conn, tx)) = session.conn.clone() else {
            return Err(Error::NotConnected {
                message: format!(
                    "cannot send {event}: the gateway session {} has no live connection \
                     (the client disconnected)",
                    session.session_id
                ),
            });
        };
        session.seq += 1;
        let seq = session.seq;
        let frame = json!({"op": 0, "t": event, "s": seq, "d": data});
        if tx.send(Outgoing::Text(frame.to_string())).is_err() {
            session.conn = None;
            return Err(Error::NotConnected {
                message: format!("cannot send {event}: the gateway connection just closed"),
            });
        }
        self.record_frame(state, conn, Direction::Sent, frame);
        Ok(seq)
    }
}
