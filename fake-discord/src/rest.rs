//! The fake REST API under `/api/v10`: records every request, checks it against the spec, plays
//! scripted failures, and otherwise answers from the fake's state in Discord's shapes.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use crate::ids::next_snowflake;
use crate::model::{FakeUser, permissions};
use crate::payloads::{self, MessageParts};
use crate::ratelimit::Decision;
use crate::record::{
    API_PREFIX, RecordedRequest, SpecViolation, UploadedFile, parse_query, route_matches,
};
use crate::spec::BodyForCheck;
use crate::state::{InteractionRecord, Shared, State as FakeState};

/// An answer to give.
#[derive(Debug)]
pub(crate) struct Reply {
    status: u16,
    body: Option<Value>,
    headers: Vec<(String, String)>,
    /// A non-JSON body (a served file) with its content type; `body` is then `None`.
    bytes: Option<(Vec<u8>, String)>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Self {
        Reply {
            status,
            body: Some(body),
            headers: Vec::new(),
            bytes: None,
        }
    }

    fn ok(body: Value) -> Self {
        Reply::json(200, body)
    }

    fn no_content() -> Self {
        Reply {
            status: 204,
            body: None,
            headers: Vec::new(),
            bytes: None,
        }
    }

    fn error(status: u16, code: u64, message: &str) -> Self {
        Reply::json(status, json!({"message": message, "code": code}))
    }

    fn file(status: u16, data: Vec<u8>, content_type: &str) -> Self {
        Reply {
            status,
            body: None,
            headers: Vec::new(),
            bytes: Some((data, content_type.to_owned())),
        }
    }

    fn into_response(self) -> Response {
        let mut resp = match (&self.body, self.bytes) {
            (Some(v), _) => Response::new(Body::from(v.to_string())),
            (None, Some((data, ct))) => {
                let mut r = Response::new(Body::from(data));
                if let Ok(v) = HeaderValue::from_str(&ct) {
                    r.headers_mut().insert(CONTENT_TYPE, v);
                }
                r
            }
            (None, None) => Response::new(Body::empty()),
        };
        *resp.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if self.body.is_some() {
            resp.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        for (name, value) in &self.headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                resp.headers_mut().insert(n, v);
            }
        }
        resp
    }
}

fn unknown_route() -> Reply {
    Reply::error(404, 0, "Unknown route")
}
fn unknown_channel() -> Reply {
    Reply::error(404, 10003, "Unknown Channel")
}
fn unknown_message() -> Reply {
    Reply::error(404, 10008, "Unknown Message")
}
fn unknown_guild() -> Reply {
    Reply::error(404, 10004, "Unknown Guild")
}
fn unknown_webhook() -> Reply {
    Reply::error(404, 10015, "Unknown Webhook")
}
fn unknown_interaction() -> Reply {
    Reply::error(404, 10062, "Unknown interaction")
}
fn missing_permissions() -> Reply {
    Reply::error(403, 50013, "Missing Permissions")
}
fn missing_access() -> Reply {
    Reply::error(403, 50001, "Missing Access")
}
fn not_snowflake(s: &str) -> Reply {
    Reply::json(
        400,
        json!({
            "message": "Invalid Form Body",
            "code": 50035,
            "errors": {"_errors": [{"code": "NUMBER_TYPE_COERCE", "message": format!("Value \"{s}\" is not snowflake.")}]},
        }),
    )
}

/// The body as parsed.
#[derive(Debug, Default)]
struct ParsedBody {
    json: Option<Value>,
    raw: Option<String>,
    files: Vec<UploadedFile>,
    multipart: bool,
    unreadable: Option<String>,
}

impl ParsedBody {
    fn for_check(&self) -> BodyForCheck<'_> {
        if let Some(why) = &self.unreadable {
            BodyForCheck::Unreadable(why.clone())
        } else if self.multipart {
            BodyForCheck::Multipart(self.json.as_ref())
        } else {
            match &self.json {
                Some(v) => BodyForCheck::Json(v),
                None => BodyForCheck::None,
            }
        }
    }
}

fn find_sub(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

fn header_param(header: &str, key: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k.trim().eq_ignore_ascii_case(key)).then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// One part of a `multipart/form-data` body.
struct FormPart {
    name: String,
    filename: Option<String>,
    content_type: Option<String>,
    data: Vec<u8>,
}

/// Splits a `multipart/form-data` body into its parts.
fn parse_multipart(body: &[u8], boundary: &str) -> Vec<FormPart> {
    let delim = format!("--{boundary}");
    let delim = delim.as_bytes();
    let mut parts = Vec::new();
    let Some(mut pos) = find_sub(body, delim, 0) else {
        return parts;
    };
    loop {
        let start = pos + delim.len();
        if body.get(start..start + 2) == Some(b"--") {
            break;
        }
        let Some(next) = find_sub(body, delim, start) else {
            break;
        };
        let mut part = &body[start..next];
        part = part.strip_prefix(b"\r\n").unwrap_or(part);
        part = part.strip_suffix(b"\r\n").unwrap_or(part);
        if let Some(split) = find_sub(part, b"\r\n\r\n", 0) {
            let head = String::from_utf8_lossy(&part[..split]);
            let data = part[split + 4..].to_vec();
            let (mut name, mut filename, mut ctype) = (String::new(), None, None);
            for line in head.lines() {
                let Some((k, v)) = line.split_once(':') else {
                    continue;
                };
                if k.trim().eq_ignore_ascii_case("content-disposition") {
                    name = header_param(v, "name").unwrap_or_default();
                    filename = header_param(v, "filename");
                } else if k.trim().eq_ignore_ascii_case("content-type") {
                    ctype = Some(v.trim().to_owned());
                }
            }
            parts.push(FormPart {
                name,
                filename,
                content_type: ctype,
                data,
            });
        }
        pos = next;
    }
    parts
}

fn parse_body(content_type: Option<&str>, body: &[u8]) -> ParsedBody {
    let mut parsed = ParsedBody::default();
    if body.is_empty() {
        return parsed;
    }
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    if ct.starts_with("multipart/form-data") {
        parsed.multipart = true;
        let Some(boundary) = content_type.and_then(|c| header_param(c, "boundary")) else {
            parsed.unreadable = Some("multipart body without a boundary".to_owned());
            return parsed;
        };
        for part in parse_multipart(body, &boundary) {
            if part.name == "payload_json" {
                match serde_json::from_slice::<Value>(&part.data) {
                    Ok(v) => parsed.json = Some(v),
                    Err(e) => {
                        parsed.unreadable = Some(format!("payload_json is not valid JSON: {e}"));
                        parsed.raw = Some(String::from_utf8_lossy(&part.data).into_owned());
                    }
                }
            } else {
                parsed.files.push(UploadedFile {
                    field: part.name,
                    filename: part.filename,
                    content_type: part.content_type,
                    data: part.data,
                });
            }
        }
        return parsed;
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => {
            if !ct.is_empty() && !ct.starts_with("application/json") {
                parsed.unreadable = Some(format!(
                    "JSON body sent with content type {ct:?} instead of application/json"
                ));
            }
            parsed.json = Some(v);
        }
        Err(e) => {
            parsed.raw = Some(String::from_utf8_lossy(body).into_owned());
            parsed.unreadable = Some(format!("body (content type {ct:?}) is not valid JSON: {e}"));
        }
    }
    parsed
}

/// A Discord limit that a request breaks but the spec does not state.
struct LimitBreach {
    /// Where the field is in the body (`["data", "content"]`).
    field: &'static [&'static str],
    /// The violation as recorded.
    problem: String,
}

/// Limits Discord enforces beyond what the spec says: a bot's message `content` is at most 2000
/// characters, wherever a message is sent or edited.
fn discord_rules(method: &str, route: &str, body: Option<&Value>) -> Option<LimitBreach> {
    let is = |m: &str, pattern: &str| method == m && route_matches(pattern, route);
    let field: &'static [&'static str] = if is("POST", "/channels/*/messages$")
        || is("PATCH", "/channels/*/messages/*$")
        || is("POST", "/webhooks/*/*$")
        || is("PATCH", "/webhooks/*/*/messages/*$")
    {
        &["content"]
    } else if is("POST", "/interactions/*/*/callback$") {
        &["data", "content"]
    } else {
        return None;
    };
    let content = field
        .iter()
        .try_fold(body?, |value, key| value.get(*key))
        .and_then(Value::as_str)?;
    let n = content.chars().count();
    (n > 2000).then(|| LimitBreach {
        field,
        problem: format!(
            "/{}: {n} characters; Discord refuses more than 2000 from a bot \
             (the spec's maxLength of 4000 is for Nitro users) [Discord limit, not in the spec]",
            field.join("/")
        ),
    })
}

/// Discord's answer to a message over its limits: `Invalid Form Body` with the field's error
/// nested as Discord nests it (`{"errors": {"data": {"content": {"_errors": [..]}}}}`).
fn over_the_limit(breach: &LimitBreach) -> Reply {
    let mut errors = json!({});
    let mut at = &mut errors;
    for key in breach.field {
        at = &mut at[*key];
    }
    *at = json!({"_errors": [{
        "code": "BASE_TYPE_MAX_LENGTH",
        "message": "Must be 2000 or fewer in length."
    }]});
    Reply::json(
        400,
        json!({"message": "Invalid Form Body", "code": 50035, "errors": errors}),
    )
}

fn invalid_form_body(problems: &[String]) -> Reply {
    let errors: Vec<Value> = problems
        .iter()
        .map(|p| json!({"code": "FAKE_DISCORD_SPEC", "message": p}))
        .collect();
    Reply::json(
        400,
        json!({"message": "Invalid Form Body", "code": 50035, "errors": {"_errors": errors}}),
    )
}

/// A request as the router sees it.
struct Req<'a> {
    method: &'a str,
    segments: Vec<String>,
    query: Vec<(String, String)>,
    body: Option<&'a Value>,
    files: &'a [UploadedFile],
    authorized: bool,
}

impl Req<'_> {
    fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn body(&self) -> Value {
        self.body.cloned().unwrap_or(Value::Null)
    }
}

/// The axum fallback handler: every HTTP request that is not the gateway websocket.
pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let received_at = shared.elapsed();
    let method = method.as_str().to_ascii_uppercase();
    let path = uri.path().to_owned();
    let query = uri.query().map(str::to_owned);
    let header_list: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let parsed = parse_body(content_type.as_deref(), &body);
    let api_route = path
        .strip_prefix(API_PREFIX)
        .filter(|r| r.is_empty() || r.starts_with('/'))
        .map(str::to_owned);
    let route = api_route.clone().unwrap_or_else(|| path.clone());

    let query_pairs = parse_query(query.as_deref());
    let (spec_operation, mut problems) = match (&shared.spec, &api_route) {
        (Some(spec), Some(r)) => (
            spec.template_for(&method, r),
            spec.check_request(&method, r, &query_pairs, &parsed.for_check()),
        ),
        _ => (None, Vec::new()),
    };
    let breach = discord_rules(&method, &route, parsed.json.as_ref());
    if shared.spec.is_some() || shared.options.enforce_limits {
        problems.extend(breach.iter().map(|b| b.problem.clone()));
    }

    let authorized = header_list.iter().any(|(n, _)| n == "authorization");
    let req = Req {
        method: &method,
        segments: route
            .trim_start_matches('/')
            .split('/')
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect(),
        query: query_pairs,
        body: parsed.json.as_ref(),
        files: &parsed.files,
        authorized,
    };

    // The script is taken before waiting, so requests that arrive during a delay each take
    // their own; the lock is not held while waiting.
    let script = shared.lock().take_scripted(&method, &route);
    if let Some(delay) = script.as_ref().map(|s| s.delay).filter(|d| !d.is_zero()) {
        tokio::time::sleep(delay).await;
    }
    // `limited`: the rate limiter answered 429 (Discord's documented body, which has no
    // `code`, unlike the spec's schema; so the answer is not checked against the spec).
    let (reply, scripted, limited) = {
        let mut st = shared.lock();
        let decision = match (&shared.options.rate_limits, &api_route) {
            (Some(limits), Some(r)) if script.as_ref().is_none_or(|s| s.serve_normally) => {
                Some(st.limiter.check(limits, &method, r, Instant::now()))
            }
            _ => None,
        };
        if let Some(Decision::Limited { body, headers }) = decision {
            let reply = Reply {
                status: 429,
                body: Some(body),
                headers,
                bytes: None,
            };
            (reply, false, true)
        } else {
            let (mut reply, scripted) = if let Some(s) = script.filter(|s| !s.serve_normally) {
                let reply = Reply {
                    status: s.status,
                    body: s.body,
                    headers: s.headers,
                    bytes: None,
                };
                (reply, true)
            } else if api_route.is_none() {
                (serve_file(&st, &method, &path), false)
            } else if let Some(breach) = breach.as_ref().filter(|_| shared.options.enforce_limits) {
                (over_the_limit(breach), false)
            } else if shared.options.reject_invalid_requests && !problems.is_empty() {
                (invalid_form_body(&problems), false)
            } else {
                (route_request(&shared, &mut st, &req), false)
            };
            if let Some(Decision::Serve(headers)) = decision {
                reply.headers.extend(headers);
            }
            (reply, scripted, false)
        }
    };

    let answer_problems = match (&shared.spec, &api_route) {
        (Some(spec), Some(r)) if !scripted && !limited && reply.status != 404 => {
            spec.check_response(&method, r, reply.status, reply.body.as_ref())
        }
        _ => Vec::new(),
    };

    {
        let mut st = shared.lock();
        let index = st.requests_cleared + st.requests.len();
        if !problems.is_empty() {
            st.violations.push(SpecViolation {
                request_index: index,
                method: method.clone(),
                path: path.clone(),
                operation: spec_operation.clone(),
                messages: problems.clone(),
            });
        }
        if !answer_problems.is_empty() {
            tracing::warn!(
                "fake-discord answered {method} {path} with {} in a shape the spec does not allow: {answer_problems:?}",
                reply.status
            );
            st.answer_violations.push(SpecViolation {
                request_index: index,
                method: method.clone(),
                path: path.clone(),
                operation: spec_operation.clone(),
                messages: answer_problems,
            });
        }
        st.requests.push(RecordedRequest {
            index,
            method: method.clone(),
            path: path.clone(),
            route: route.clone(),
            query,
            headers: header_list,
            body: parsed.json.clone(),
            raw_body: parsed.raw.clone(),
            files: parsed.files.clone(),
            spec_operation,
            spec_problems: problems,
            scripted,
            status: reply.status,
            response: reply.body.clone(),
            at: shared.elapsed(),
            received_at,
        });
    }
    shared.notify();
    reply.into_response()
}

/// Outside `/api/v10`: the files the fake serves (`GET`/`HEAD`
/// `/attachments/{channel}/{id}/{filename}`, also under `/ephemeral-attachments/`, the query
/// ignored), like Discord's CDN: no authorization, 404 for an unknown id or file name. Anything
/// else is an unknown route.
fn serve_file(st: &FakeState, method: &str, path: &str) -> Reply {
    let segs: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let [prefix, _channel, id, filename] = segs.as_slice() else {
        return unknown_route();
    };
    if !matches!(prefix.as_str(), "attachments" | "ephemeral-attachments") {
        return unknown_route();
    }
    if !matches!(method, "GET" | "HEAD") {
        return Reply::error(405, 0, "405: Method Not Allowed");
    }
    let found = id
        .parse::<u64>()
        .ok()
        .and_then(|id| st.attachments.get(&id))
        .filter(|a| a.filename == *filename);
    match found {
        Some(a) => Reply::file(
            200,
            a.data.clone(),
            a.content_type
                .as_deref()
                .unwrap_or("application/octet-stream"),
        ),
        None => Reply::file(404, b"404: Not Found".to_vec(), "text/plain"),
    }
}

fn snowflake(s: &str) -> Result<u64, Reply> {
    s.parse::<u64>().map_err(|_| not_snowflake(s))
}

macro_rules! id {
    ($s:expr) => {
        match snowflake($s) {
            Ok(v) => v,
            Err(reply) => return reply,
        }
    };
}

fn route_request(shared: &Shared, st: &mut FakeState, req: &Req<'_>) -> Reply {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let needs_auth = !matches!(
        segs.first(),
        Some(&"interactions" | &"webhooks" | &"gateway")
    );
    if needs_auth && !req.authorized {
        return Reply::error(401, 0, "401: Unauthorized");
    }
    match (req.method, segs.as_slice()) {
        ("GET", ["gateway"]) => {
            st.gateway_requests += 1;
            Reply::ok(json!({"url": shared.gateway_url()}))
        }
        ("GET", ["gateway", "bot"]) => {
            st.gateway_requests += 1;
            Reply::ok(json!({
                "url": shared.gateway_url(),
                "shards": st.shard_count,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 86_400_000, "max_concurrency": 1},
            }))
        }
        ("GET", ["users", "@me"]) => {
            let mut user = shared.bot.to_json();
            user["verified"] = json!(true);
            user["mfa_enabled"] = json!(false);
            user["email"] = Value::Null;
            user["locale"] = json!("en-US");
            Reply::ok(user)
        }
        ("GET", ["users", id]) => {
            let id = id!(id);
            if id == shared.bot.id {
                return Reply::ok(shared.bot.to_json());
            }
            match st.user(id) {
                Some(u) => Reply::ok(u.to_json()),
                None => Reply::error(404, 10013, "Unknown User"),
            }
        }
        ("POST", ["users", "@me", "channels"]) => {
            let Some(recipient) = req.body.and_then(|b| b.get("recipient_id")).and_then(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .or_else(|| v.as_u64().map(|n| n.to_string()))
            }) else {
                return Reply::error(400, 50035, "Invalid Form Body");
            };
            let recipient = id!(&recipient);
            let channel_id = *st
                .dm_channels
                .entry(recipient)
                .or_insert_with(next_snowflake);
            let user = st
                .user(recipient)
                .unwrap_or_else(|| FakeUser::new(recipient, format!("user-{recipient}")));
            Reply::ok(dm_channel_json(channel_id, &user))
        }
        ("GET", ["oauth2", "applications", "@me"]) | ("GET", ["applications", "@me"]) => {
            Reply::ok(application_json(shared, st))
        }
        ("PUT", ["applications", app, "commands"]) => {
            if id!(app) != shared.application_id {
                return Reply::error(404, 10002, "Unknown Application");
            }
            set_commands(shared, st, None, req)
        }
        ("PUT", ["applications", app, "guilds", guild, "commands"]) => {
            if id!(app) != shared.application_id {
                return Reply::error(404, 10002, "Unknown Application");
            }
            let guild = id!(guild);
            set_commands(shared, st, Some(guild), req)
        }
        ("GET", ["applications", app, "commands"]) => {
            if id!(app) != shared.application_id {
                return Reply::error(404, 10002, "Unknown Application");
            }
            Reply::ok(Value::Array(st.global_commands.clone()))
        }
        ("GET", ["applications", app, "guilds", guild, "commands"]) => {
            if id!(app) != shared.application_id {
                return Reply::error(404, 10002, "Unknown Application");
            }
            let guild = id!(guild);
            Reply::ok(Value::Array(
                st.guild_commands.get(&guild).cloned().unwrap_or_default(),
            ))
        }
        ("POST", ["applications", app, "commands"]) => {
            if id!(app) != shared.application_id {
                return Reply::error(404, 10002, "Unknown Application");
            }
            upsert_command(shared, st, None, req)
        }
        ("POST", ["applications", app, "guilds", guild, "commands"]) => {
            if id!(app) != shared.application_id {
                return Reply::error(404, 10002, "Unknown Application");
            }
            let guild = id!(guild);
            upsert_command(shared, st, Some(guild), req)
        }
        ("DELETE", ["applications", _, "commands", id]) => {
            let id = id!(id).to_string();
            st.global_commands.retain(|c| c["id"] != json!(id));
            Reply::no_content()
        }
        ("DELETE", ["applications", _, "guilds", guild, "commands", id]) => {
            let guild = id!(guild);
            let id = id!(id).to_string();
            if let Some(list) = st.guild_commands.get_mut(&guild) {
                list.retain(|c| c["id"] != json!(id));
            }
            Reply::no_content()
        }
        ("POST", ["interactions", id, token, "callback"]) => {
            let id = id!(id);
            interaction_callback(shared, st, id, token, req)
        }
        (_, ["webhooks", app, token, rest @ ..]) => {
            let app = id!(app);
            webhook(shared, st, app, token, rest, req)
        }
        ("GET", ["channels", channel]) => {
            let channel = id!(channel);
            if let Some((g, c)) = st.channel(channel) {
                return Reply::ok(c.to_json(g.id));
            }
            match st.dm_channels.iter().find(|(_, c)| **c == channel) {
                Some((user, _)) => {
                    let u = st
                        .user(*user)
                        .unwrap_or_else(|| FakeUser::new(*user, format!("user-{user}")));
                    Reply::ok(dm_channel_json(channel, &u))
                }
                None => unknown_channel(),
            }
        }
        ("POST", ["channels", channel, "typing"]) => {
            let _ = id!(channel);
            Reply::no_content()
        }
        ("GET", ["channels", channel, "messages"]) => {
            let channel = id!(channel);
            list_messages(shared, st, channel, req)
        }
        ("POST", ["channels", channel, "messages"]) => {
            let channel = id!(channel);
            create_channel_message(shared, st, channel, req)
        }
        ("GET", ["channels", channel, "messages", message]) => {
            let (channel, message) = (id!(channel), id!(message));
            match st.messages.get(&message) {
                Some(m) if m.channel_id == channel => st
                    .message_json(message, shared.bot.id)
                    .map_or_else(unknown_message, Reply::ok),
                _ => unknown_message(),
            }
        }
        ("PATCH", ["channels", channel, "messages", message]) => {
            let (channel, message) = (id!(channel), id!(message));
            // Discord lets a bot edit only its own messages.
            if st
                .messages
                .get(&message)
                .is_some_and(|m| m.channel_id == channel && !m.deleted && !by(m, shared.bot.id))
            {
                return Reply::error(403, 50005, "Cannot edit a message authored by another user");
            }
            edit_message(shared, st, Some(channel), message, req)
        }
        ("POST", ["channels", channel, "messages", message, "threads"]) => {
            let (channel, message) = (id!(channel), id!(message));
            start_thread(shared, st, channel, message, req)
        }
        ("DELETE", ["channels", channel, "messages", message]) => {
            let (channel, message) = (id!(channel), id!(message));
            delete_channel_message(shared, st, channel, message)
        }
        (
            "PUT",
            [
                "channels",
                channel,
                "messages",
                message,
                "reactions",
                emoji,
                "@me",
            ],
        ) => {
            let (channel, message) = (id!(channel), id!(message));
            add_own_reaction(shared, st, channel, message, emoji)
        }
        (
            "DELETE",
            [
                "channels",
                channel,
                "messages",
                message,
                "reactions",
                emoji,
                user,
            ],
        ) => {
            let (_, message) = (id!(channel), id!(message));
            let user = if *user == "@me" {
                shared.bot.id
            } else {
                id!(user)
            };
            if let Some(users) = st.reactions.get_mut(&(message, (*emoji).to_owned())) {
                users.retain(|u| *u != user);
            }
            Reply::no_content()
        }
        (
            "DELETE",
            [
                "channels",
                channel,
                "messages",
                message,
                "reactions",
                rest @ ..,
            ],
        ) if rest.len() <= 1 => {
            let (_, message) = (id!(channel), id!(message));
            st.reactions
                .retain(|(m, e), _| *m != message || rest.first().is_some_and(|x| *x != e));
            Reply::no_content()
        }
        ("GET", ["channels", channel, "messages", message, "reactions", emoji]) => {
            let (_, message) = (id!(channel), id!(message));
            reaction_users(shared, st, message, emoji, req)
        }
        ("GET", ["guilds", guild]) => {
            let guild = id!(guild);
            match st.guilds.get(&guild) {
                Some(g) => {
                    let mut v = g.to_rest_json();
                    if req.query("with_counts") == Some("true") {
                        v["approximate_member_count"] = json!(g.members.len());
                        v["approximate_presence_count"] = json!(0);
                    }
                    Reply::ok(v)
                }
                None => unknown_guild(),
            }
        }
        ("GET", ["guilds", guild, "channels"]) => {
            let guild = id!(guild);
            match st.guilds.get(&guild) {
                Some(g) => Reply::ok(Value::Array(
                    g.channels.iter().map(|c| c.to_json(g.id)).collect(),
                )),
                None => unknown_guild(),
            }
        }
        ("GET", ["guilds", guild, "roles"]) => {
            let guild = id!(guild);
            match st.guilds.get(&guild) {
                Some(g) => Reply::ok(Value::Array(g.roles.iter().map(|r| r.to_json()).collect())),
                None => unknown_guild(),
            }
        }
        ("GET", ["guilds", guild, "members", user]) => {
            let guild = id!(guild);
            let user = if *user == "@me" {
                shared.bot.id
            } else {
                id!(user)
            };
            match st.guilds.get(&guild) {
                Some(g) => match g.member(user) {
                    Some(m) => Reply::ok(m.to_json()),
                    None => Reply::error(404, 10007, "Unknown Member"),
                },
                None => unknown_guild(),
            }
        }
        ("GET", ["guilds", guild, "members"]) => {
            let guild = id!(guild);
            let limit = req
                .query("limit")
                .and_then(|l| l.parse::<usize>().ok())
                .unwrap_or(1)
                .clamp(1, 1000);
            let after = req
                .query("after")
                .and_then(|a| a.parse::<u64>().ok())
                .unwrap_or(0);
            match st.guilds.get(&guild) {
                Some(g) => {
                    let mut members: Vec<_> =
                        g.members.iter().filter(|m| m.user.id > after).collect();
                    members.sort_by_key(|m| m.user.id);
                    Reply::ok(Value::Array(
                        members
                            .into_iter()
                            .take(limit)
                            .map(|m| m.to_json())
                            .collect(),
                    ))
                }
                None => unknown_guild(),
            }
        }
        _ => unknown_route(),
    }
}

fn dm_channel_json(channel_id: u64, user: &FakeUser) -> Value {
    json!({
        "id": channel_id.to_string(),
        "type": 1,
        "last_message_id": null,
        "flags": 0,
        "recipients": [user.to_json()],
    })
}

fn application_json(shared: &Shared, st: &FakeState) -> Value {
    json!({
        "id": shared.application_id.to_string(),
        "name": shared.bot.username,
        "icon": null,
        "description": "",
        "summary": "",
        "type": null,
        "bot_public": true,
        "bot_require_code_grant": false,
        "verify_key": "0000000000000000000000000000000000000000000000000000000000000000",
        "flags": 0,
        "flags_new": "0",
        "owner": shared.owner.to_json(),
        "team": null,
        "rpc_origins": [],
        "hook": true,
        "bot": shared.bot.to_json(),
        "redirect_uris": [],
        "interactions_endpoint_url": null,
        "role_connections_verification_url": null,
        "approximate_guild_count": st.guilds.len(),
        "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 0,
        "eligible_oauth2_scopes": ["bot", "applications.commands"],
        "integration_types_config": {"0": {}},
        "is_monetized": false,
        "storefront_available": false,
        "explicit_content_filter": 0,
        "tags": [],
    })
}

fn normalize_command(
    shared: &Shared,
    existing: &[Value],
    cmd: &Value,
    guild: Option<u64>,
) -> Value {
    let mut c = if cmd.is_object() {
        cmd.clone()
    } else {
        json!({})
    };
    let kind = c.get("type").and_then(Value::as_u64).unwrap_or(1);
    let name = c.get("name").cloned().unwrap_or(Value::Null);
    let id = existing
        .iter()
        .find(|e| e["name"] == name && e["type"] == json!(kind))
        .and_then(|e| e["id"].as_str().map(str::to_owned))
        .unwrap_or_else(|| next_snowflake().to_string());
    if let Some(options) = c.get_mut("options") {
        strip_nulls(options);
    }
    c["id"] = json!(id);
    c["type"] = json!(kind);
    c["application_id"] = json!(shared.application_id.to_string());
    c["version"] = json!(next_snowflake().to_string());
    if c.get("description").is_none_or(Value::is_null) {
        c["description"] = json!("");
    }
    for (key, default) in [
        ("default_member_permissions", Value::Null),
        ("nsfw", json!(false)),
        ("integration_types", json!([0])),
    ] {
        if c.get(key).is_none() {
            c[key] = default;
        }
    }
    if c.get("contexts").is_none() {
        c["contexts"] = Value::Null;
    }
    if c.get("dm_permission").is_none() && guild.is_none() {
        c["dm_permission"] = json!(true);
    }
    if let Some(g) = guild {
        c["guild_id"] = json!(g.to_string());
    }
    c
}

/// Removes `null` members recursively: Discord omits unset option fields in its answers.
fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, x| !x.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(list) => list.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

fn set_commands(shared: &Shared, st: &mut FakeState, guild: Option<u64>, req: &Req<'_>) -> Reply {
    let body = req.body();
    let Some(list) = body.as_array() else {
        return Reply::error(400, 50035, "Invalid Form Body");
    };
    let existing = match guild {
        Some(g) => st.guild_commands.get(&g).cloned().unwrap_or_default(),
        None => st.global_commands.clone(),
    };
    let new: Vec<Value> = list
        .iter()
        .map(|c| normalize_command(shared, &existing, c, guild))
        .collect();
    match guild {
        Some(g) => {
            st.guild_commands.insert(g, new.clone());
        }
        None => st.global_commands = new.clone(),
    }
    Reply::ok(Value::Array(new))
}

fn upsert_command(shared: &Shared, st: &mut FakeState, guild: Option<u64>, req: &Req<'_>) -> Reply {
    let body = req.body();
    let list = match guild {
        Some(g) => st.guild_commands.entry(g).or_default(),
        None => &mut st.global_commands,
    };
    let cmd = normalize_command(shared, list, &body, guild);
    let existed = list.iter().any(|c| c["id"] == cmd["id"]);
    list.retain(|c| c["id"] != cmd["id"]);
    list.push(cmd.clone());
    Reply::json(if existed { 200 } else { 201 }, cmd)
}

fn attachments_from(files: &[UploadedFile], body: &Value) -> Vec<Value> {
    files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let id = next_snowflake();
            let filename = f.filename.clone().unwrap_or_else(|| format!("file{i}"));
            let description = body
                .get("attachments")
                .and_then(Value::as_array)
                .and_then(|a| a.get(i))
                .and_then(|a| a.get("description"))
                .filter(|d| d.is_string());
            let mut a = json!({
                "id": id.to_string(),
                "filename": filename,
                "size": f.data.len(),
                "url": format!("https://cdn.discordapp.com/attachments/0/{id}/{filename}"),
                "proxy_url": format!("https://media.discordapp.net/attachments/0/{id}/{filename}"),
                "ephemeral": false,
            });
            if let Some(d) = description {
                a["description"] = d.clone();
            }
            if let Some(ct) = &f.content_type {
                a["content_type"] = json!(ct);
            }
            a
        })
        .collect()
}

fn bot_permissions_in(shared: &Shared, st: &FakeState, channel_id: u64) -> Option<u64> {
    let (g, _) = st.channel(channel_id)?;
    Some(g.permissions_in(channel_id, shared.bot.id).unwrap_or(0))
}

/// `POST /channels/{c}/messages/{m}/threads`: a public thread on a message,
/// once (Discord refuses a second with 160004), if the bot may create
/// public threads there.
fn start_thread(
    shared: &Shared,
    st: &mut FakeState,
    channel_id: u64,
    message_id: u64,
    req: &Req<'_>,
) -> Reply {
    let Some((guild_id, _)) = st.channel(channel_id).map(|(g, c)| (g.id, c.id)) else {
        return unknown_channel();
    };
    match st.messages.get(&message_id) {
        Some(m) if m.channel_id == channel_id && !m.deleted => {}
        _ => return unknown_message(),
    }
    if shared.options.enforce_permissions
        && let Some(perms) = bot_permissions_in(shared, st, channel_id)
        && perms & permissions::ADMINISTRATOR == 0
        && perms & permissions::CREATE_PUBLIC_THREADS == 0
    {
        return missing_permissions();
    }
    if st.threads.contains_key(&message_id) {
        return Reply::error(
            400,
            160004,
            "A thread has already been created for this message",
        );
    }
    let body = req.body();
    let thread = serde_json::json!({
        "id": message_id.to_string(),
        "type": crate::model::channel_kind::PUBLIC_THREAD,
        "guild_id": guild_id.to_string(),
        "parent_id": channel_id.to_string(),
        "name": body.get("name").cloned().unwrap_or(Value::Null),
        "owner_id": shared.bot.id.to_string(),
        "thread_metadata": {
            "archived": false,
            "auto_archive_duration": body.get("auto_archive_duration").cloned().unwrap_or(serde_json::json!(4320)),
            "archive_timestamp": "2026-01-01T00:00:00+00:00",
            "locked": false
        }
    });
    st.threads.insert(message_id, thread.clone());
    Reply::ok(thread)
}

fn create_channel_message(
    shared: &Shared,
    st: &mut FakeState,
    channel_id: u64,
    req: &Req<'_>,
) -> Reply {
    let guild_id = st.channel(channel_id).map(|(g, _)| g.id);
    let closed = st
        .dm_channels
        .iter()
        .any(|(user, channel)| *channel == channel_id && st.closed_dms.contains(user));
    if closed {
        return Reply::error(403, 50007, "Cannot send messages to this user");
    }
    if shared.options.enforce_permissions
        && let Some(perms) = bot_permissions_in(shared, st, channel_id)
    {
        if perms & permissions::VIEW_CHANNEL == 0 {
            return missing_access();
        }
        if perms & permissions::SEND_MESSAGES == 0 {
            return missing_permissions();
        }
    }
    let body = req.body();
    let parts = MessageParts {
        id: next_snowflake(),
        channel_id,
        guild_id,
        author: &shared.bot,
        webhook_id: None,
        application_id: None,
    };
    let msg = payloads::message(&parts, &body, attachments_from(req.files, &body));
    st.store_message(channel_id, msg.clone());
    Reply::ok(msg)
}

fn list_messages(shared: &Shared, st: &FakeState, channel_id: u64, req: &Req<'_>) -> Reply {
    let limit = req
        .query("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(50)
        .clamp(1, 100);
    let before = req.query("before").and_then(|v| v.parse::<u64>().ok());
    let after = req.query("after").and_then(|v| v.parse::<u64>().ok());
    let ids = st
        .channel_messages
        .get(&channel_id)
        .cloned()
        .unwrap_or_default();
    let mut ids: Vec<u64> = ids
        .into_iter()
        .filter(|id| before.is_none_or(|b| *id < b) && after.is_none_or(|a| *id > a))
        .collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    if after.is_some() {
        // Discord returns the messages just after `after`, newest first.
        let keep = ids.len().saturating_sub(limit);
        ids.drain(..keep);
    } else {
        ids.truncate(limit);
    }
    Reply::ok(Value::Array(
        ids.into_iter()
            .filter_map(|id| st.message_json(id, shared.bot.id))
            .collect(),
    ))
}

fn edit_message(
    shared: &Shared,
    st: &mut FakeState,
    channel_id: Option<u64>,
    message_id: u64,
    req: &Req<'_>,
) -> Reply {
    let body = req.body();
    let attachments = if req.files.is_empty() {
        None
    } else {
        Some(attachments_from(req.files, &body))
    };
    match st.messages.get_mut(&message_id) {
        Some(m) if !m.deleted && channel_id.is_none_or(|c| c == m.channel_id) => {
            payloads::apply_edit(&mut m.json, &body, attachments);
        }
        _ => return unknown_message(),
    }
    st.message_json(message_id, shared.bot.id)
        .map_or_else(unknown_message, Reply::ok)
}

/// Whether `user` wrote the stored message.
fn by(message: &crate::state::StoredMessage, user: u64) -> bool {
    message.json["author"]["id"].as_str() == Some(user.to_string().as_str())
}

/// `DELETE /channels/{c}/messages/{m}`: the bot's own message always; another's only with
/// MANAGE_MESSAGES there (when permissions are enforced). A message already deleted, or not
/// in the channel, is 404 Unknown Message.
fn delete_channel_message(
    shared: &Shared,
    st: &mut FakeState,
    channel: u64,
    message: u64,
) -> Reply {
    let others = match st.messages.get(&message) {
        Some(m) if m.channel_id == channel && !m.deleted => !by(m, shared.bot.id),
        _ => return unknown_message(),
    };
    if others
        && shared.options.enforce_permissions
        && bot_permissions_in(shared, st, channel)
            .is_some_and(|perms| perms & permissions::MANAGE_MESSAGES == 0)
    {
        return missing_permissions();
    }
    if let Some(m) = st.messages.get_mut(&message) {
        m.deleted = true;
    }
    st.reactions.retain(|(m, _), _| *m != message);
    Reply::no_content()
}

fn add_own_reaction(
    shared: &Shared,
    st: &mut FakeState,
    channel_id: u64,
    message_id: u64,
    emoji: &str,
) -> Reply {
    let key = (message_id, emoji.to_owned());
    if shared.options.enforce_permissions
        && let Some(perms) = bot_permissions_in(shared, st, channel_id)
    {
        if perms & permissions::VIEW_CHANNEL == 0 {
            return missing_access();
        }
        let exists = st.reactions.get(&key).is_some_and(|u| !u.is_empty());
        if perms & permissions::READ_MESSAGE_HISTORY == 0
            || (!exists && perms & permissions::ADD_REACTIONS == 0)
        {
            return missing_permissions();
        }
    }
    if let Some(m) = st.messages.get(&message_id)
        && (m.channel_id != channel_id || m.deleted)
    {
        return unknown_message();
    }
    let users = st.reactions.entry(key).or_default();
    if !users.contains(&shared.bot.id) {
        users.push(shared.bot.id);
    }
    Reply::no_content()
}

fn reaction_users(
    shared: &Shared,
    st: &FakeState,
    message_id: u64,
    emoji: &str,
    req: &Req<'_>,
) -> Reply {
    let limit = req
        .query("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(25)
        .clamp(1, 100);
    let after = req
        .query("after")
        .and_then(|a| a.parse::<u64>().ok())
        .unwrap_or(0);
    let mut ids = st
        .reactions
        .get(&(message_id, emoji.to_owned()))
        .cloned()
        .unwrap_or_default();
    ids.sort_unstable();
    ids.dedup();
    let users: Vec<Value> = ids
        .into_iter()
        .filter(|id| *id > after)
        .take(limit)
        .map(|id| {
            if id == shared.bot.id {
                shared.bot.to_json()
            } else {
                st.user(id)
                    .unwrap_or_else(|| FakeUser::new(id, format!("user-{id}")))
                    .to_json()
            }
        })
        .collect();
    Reply::ok(Value::Array(users))
}

fn interaction_callback(
    shared: &Shared,
    st: &mut FakeState,
    id: u64,
    token: &str,
    req: &Req<'_>,
) -> Reply {
    let Some(rec) = st.interactions.get(token).cloned() else {
        return unknown_interaction();
    };
    if rec.id != id {
        return unknown_interaction();
    }
    if rec.acknowledged {
        return Reply::error(400, 40060, "Interaction has already been acknowledged.");
    }
    let body = req.body();
    let kind = body.get("type").and_then(Value::as_u64).unwrap_or(0);
    let data = body.get("data").cloned().unwrap_or_else(|| json!({}));
    let mut message = None;
    let mut updated = rec.clone();
    updated.acknowledged = true;
    match kind {
        4 | 5 => {
            let mut data = data.clone();
            if kind == 5 {
                let flags = data.get("flags").and_then(Value::as_u64).unwrap_or(0);
                data = json!({"content": "", "flags": flags | 128});
            }
            let parts = MessageParts {
                id: next_snowflake(),
                channel_id: rec.channel_id,
                guild_id: rec.guild_id,
                author: &shared.bot,
                webhook_id: Some(shared.application_id),
                application_id: Some(shared.application_id),
            };
            let msg = payloads::message(&parts, &data, attachments_from(req.files, &data));
            let mid = st.store_message(rec.channel_id, msg.clone());
            updated.original = Some(mid);
            message = Some(msg);
        }
        6 | 7 => {
            if let Some(mid) = rec.component_message {
                if kind == 7
                    && let Some(m) = st.messages.get_mut(&mid)
                {
                    payloads::apply_edit(&mut m.json, &data, None);
                }
                updated.original = Some(mid);
                message = st.message_json(mid, shared.bot.id);
            }
        }
        _ => {}
    }
    st.interactions.insert(token.to_owned(), updated.clone());
    if req.query("with_response") == Some("true") {
        let flags = message
            .as_ref()
            .and_then(|m| m.get("flags"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let mut interaction = json!({
            "id": id.to_string(),
            "type": rec_kind(st, token),
            "activity_instance_id": null,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": flags & 64 != 0,
        });
        if let Some(mid) = updated.original {
            interaction["response_message_id"] = json!(mid.to_string());
        }
        let mut answer = json!({"interaction": interaction});
        // Discord describes a resource only for answers that show a message now (4 and 7).
        if let (4 | 7, Some(m)) = (kind, message) {
            answer["resource"] = json!({"type": kind, "message": m});
        }
        return Reply::ok(answer);
    }
    Reply::no_content()
}

fn rec_kind(st: &FakeState, token: &str) -> u64 {
    st.interactions
        .get(token)
        .map(|r| if r.component_message.is_some() { 3 } else { 2 })
        .unwrap_or(2)
}

fn webhook(
    shared: &Shared,
    st: &mut FakeState,
    app: u64,
    token: &str,
    rest: &[&str],
    req: &Req<'_>,
) -> Reply {
    if app != shared.application_id {
        return unknown_webhook();
    }
    let Some(rec): Option<InteractionRecord> = st.interactions.get(token).cloned() else {
        return unknown_webhook();
    };
    let message_id = match rest {
        [] => None,
        ["messages", "@original"] => match rec.original {
            Some(id) => Some(id),
            None => return unknown_message(),
        },
        ["messages", id] => Some(id!(id)),
        _ => return unknown_route(),
    };
    match (req.method, message_id) {
        ("POST", None) => {
            if !rec.acknowledged {
                return unknown_webhook();
            }
            let body = req.body();
            let parts = MessageParts {
                id: next_snowflake(),
                channel_id: rec.channel_id,
                guild_id: rec.guild_id,
                author: &shared.bot,
                webhook_id: Some(shared.application_id),
                application_id: Some(shared.application_id),
            };
            let msg = payloads::message(&parts, &body, attachments_from(req.files, &body));
            st.store_message(rec.channel_id, msg.clone());
            Reply::ok(msg)
        }
        ("GET", Some(mid)) => st
            .message_json(mid, shared.bot.id)
            .map_or_else(unknown_message, Reply::ok),
        ("PATCH", Some(mid)) => edit_message(shared, st, None, mid, req),
        ("DELETE", Some(mid)) => match st.messages.get_mut(&mid) {
            Some(m) if !m.deleted => {
                m.deleted = true;
                Reply::no_content()
            }
            _ => unknown_message(),
        },
        _ => unknown_route(),
    }
}
