//! What the fake records: REST requests, gateway frames and spec violations, plus the route
//! patterns tests use to pick requests out.

use std::fmt;
use std::time::Duration;

use percent_encoding::percent_decode_str;
use serde_json::Value;

/// The REST prefix serenity uses (API version 10).
pub const API_PREFIX: &str = "/api/v10";

/// A file part of a `multipart/form-data` request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadedFile {
    /// The form field name (`files[0]`...).
    pub field: String,
    /// The file name given.
    pub filename: Option<String>,
    /// The part's content type.
    pub content_type: Option<String>,
    /// The bytes.
    pub data: Vec<u8>,
}

/// One HTTP request the fake received, with the answer it gave.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// Position in the log (0-based, counting requests cleared by `clear_requests`).
    pub index: usize,
    /// HTTP method, upper case.
    pub method: String,
    /// The full path as requested, e.g. `/api/v10/channels/1/messages`.
    pub path: String,
    /// The path after `/api/v10` (e.g. `/channels/1/messages`), or the full path if it did not
    /// start with it.
    pub route: String,
    /// The query string, without `?`.
    pub query: Option<String>,
    /// All headers, names lower case.
    pub headers: Vec<(String, String)>,
    /// The JSON body; for `multipart/form-data`, the parsed `payload_json` part.
    pub body: Option<Value>,
    /// The body as text when it was not JSON (or multipart), for diagnosis.
    pub raw_body: Option<String>,
    /// Files uploaded in a multipart body.
    pub files: Vec<UploadedFile>,
    /// The templated path of the spec operation this request matched, if spec checking is on.
    pub spec_operation: Option<String>,
    /// Spec problems found in this request (also in `spec_violations()`).
    pub spec_problems: Vec<String>,
    /// Whether the answer came from a scripted failure (`fail_next` etc.).
    pub scripted: bool,
    /// HTTP status the fake answered.
    pub status: u16,
    /// The JSON body the fake answered, if any.
    pub response: Option<Value>,
    /// Time since the fake started, when the answer was given.
    pub at: Duration,
    /// Time since the fake started, when the request arrived (before any scripted delay), so
    /// tests can measure the gap a client left between two requests.
    pub received_at: Duration,
}

impl RecordedRequest {
    /// A header's value (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `Authorization` header (`Bot <token>` from serenity).
    pub fn authorization(&self) -> Option<&str> {
        self.header("authorization")
    }

    /// Whether the method matches (case-insensitive) and the route matches `pattern` (see
    /// [`route_matches`]).
    pub fn is(&self, method: &str, pattern: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && route_matches(pattern, &self.route)
    }

    /// The route's segments, percent-decoded (`/channels/1/messages` → `["channels","1","messages"]`).
    pub fn segments(&self) -> Vec<String> {
        self.route
            .trim_start_matches('/')
            .split('/')
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect()
    }

    /// A query parameter, decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        parse_query(self.query.as_deref())
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The body as compact JSON text (or the raw text, or empty).
    pub fn body_text(&self) -> String {
        match (&self.body, &self.raw_body) {
            (Some(v), _) => v.to_string(),
            (None, Some(raw)) => raw.clone(),
            _ => String::new(),
        }
    }

    /// Whether the body's JSON text contains `needle` (handy for `"pong"`).
    pub fn body_contains(&self, needle: &str) -> bool {
        self.body_text().contains(needle)
    }

    /// A string field of the body found by JSON pointer, e.g. `"/data/content"`.
    pub fn body_str(&self, pointer: &str) -> Option<&str> {
        self.body.as_ref()?.pointer(pointer)?.as_str()
    }

    /// One line: `POST /api/v10/channels/1/messages -> 200`.
    pub fn summary(&self) -> String {
        let mut s = format!("{} {}", self.method, self.path);
        if let Some(q) = &self.query {
            s.push('?');
            s.push_str(q);
        }
        s.push_str(&format!(" -> {}", self.status));
        if self.scripted {
            s.push_str(" (scripted)");
        }
        s
    }
}

/// Parses a query string into decoded pairs.
pub(crate) fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    let Some(q) = query else {
        return Vec::new();
    };
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

/// Whether a route (path after `/api/v10`) matches a pattern.
///
/// Patterns are compared segment by segment: `*` matches any one segment, `{name}` too, and a
/// pattern matches any route it is a prefix of (`/channels/1` matches
/// `/channels/1/messages`). End the pattern with `$` to require the whole route
/// (`/channels/*/messages$`). A leading `/api/v10` in the pattern is ignored. Segments are
/// compared percent-decoded, so `🙏` matches `%F0%9F%99%8F`.
pub fn route_matches(pattern: &str, route: &str) -> bool {
    let (pattern, exact) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let pattern = pattern.strip_prefix(API_PREFIX).unwrap_or(pattern);
    let route = route.strip_prefix(API_PREFIX).unwrap_or(route);
    let split = |s: &str| -> Vec<String> {
        s.trim_matches('/')
            .split('/')
            .filter(|x| !x.is_empty())
            .map(|x| percent_decode_str(x).decode_utf8_lossy().into_owned())
            .collect()
    };
    let p = split(pattern);
    let r = split(route);
    if p.len() > r.len() || (exact && p.len() != r.len()) {
        return false;
    }
    p.iter()
        .zip(&r)
        .all(|(ps, rs)| ps == "*" || (ps.starts_with('{') && ps.ends_with('}')) || ps == rs)
}

/// Which way a gateway frame went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From the bot to the fake.
    Received,
    /// From the fake to the bot.
    Sent,
}

/// One gateway (websocket) message.
#[derive(Clone, Debug)]
pub struct GatewayFrame {
    /// Position in the gateway log.
    pub index: usize,
    /// Which connection (counting from 1).
    pub connection: u64,
    /// Direction.
    pub direction: Direction,
    /// Opcode (`op`).
    pub op: u64,
    /// Event name (`t`) for dispatches.
    pub event: Option<String>,
    /// Sequence number (`s`) for dispatches.
    pub seq: Option<u64>,
    /// The whole frame as JSON.
    pub payload: Value,
    /// Time since the fake started.
    pub at: Duration,
}

/// A request body (or one of the fake's answers) that does not match Discord's spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecViolation {
    /// Index of the request in the request log.
    pub request_index: usize,
    /// HTTP method.
    pub method: String,
    /// Full path as requested.
    pub path: String,
    /// The spec operation's templated path, if one matched.
    pub operation: Option<String>,
    /// What is wrong: the validator's messages, each starting with the JSON location.
    pub messages: Vec<String>,
}

impl fmt::Display for SpecViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        if let Some(op) = &self.operation {
            write!(f, " (spec operation {} {op})", self.method)?;
        }
        write!(f, ": {}", self.messages.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(route_matches(
            "/channels/1/messages",
            "/channels/1/messages"
        ));
        assert!(route_matches("/api/v10/channels/*", "/channels/1/messages"));
        assert!(!route_matches("/channels/*$", "/channels/1/messages"));
        assert!(route_matches(
            "/interactions/*/*/callback",
            "/interactions/5/tok/callback"
        ));
        assert!(route_matches(
            "/channels/{c}/messages/{m}/reactions/🙏",
            "/channels/1/messages/2/reactions/%F0%9F%99%8F/@me"
        ));
        assert!(!route_matches("/channels/2", "/channels/1"));
    }

    #[test]
    fn queries() {
        assert_eq!(
            parse_query(Some("a=1&b=x%20y&c")),
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "x y".to_owned()),
                ("c".to_owned(), String::new())
            ]
        );
    }
}
