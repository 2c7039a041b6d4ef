//! Discord's rate limits, enforced by the fake at a configurable time scale: per-route buckets
//! (with major parameters) and the global limit, the `X-RateLimit-*` headers on every answer
//! under a bucket, and `429`s in Discord's shapes.
//!
//! Windows are fixed: a bucket's window opens with the first request after the previous window
//! ended and lasts `window / scale`; within it, `limit` requests are served and the rest get
//! `429` with `retry_after` = the time until the window ends. The global limit is the same with
//! `global_per_second` requests per `1 s / scale`. A `429` consumes nothing: the request counts
//! against neither the bucket nor the global limit and is not applied.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use crate::record::{API_PREFIX, route_matches};

/// One bucket rule: requests with `method` whose route matches `pattern` share a bucket of
/// `limit` requests per `window` (before scaling), one bucket per major parameter (channel,
/// guild, webhook id + token, interaction id + token). Rules with the same `name` share their
/// buckets, as Discord's shared buckets do (e.g. `PUT` and `DELETE` of reactions).
#[derive(Clone, Debug, PartialEq)]
pub struct BucketRule {
    /// The bucket's name; `X-RateLimit-Bucket` is a hash of it (the same for every major
    /// parameter, as Discord's bucket hashes are).
    pub name: String,
    /// HTTP method (case-insensitive), or `*` for any.
    pub method: String,
    /// Route pattern, as for [`crate::route_matches`] (`/channels/{channel}/messages$`).
    pub pattern: String,
    /// Requests served per window (0 counts as 1).
    pub limit: u32,
    /// The window at scale 1.
    pub window: Duration,
}

impl BucketRule {
    /// A rule: `limit` `method` requests matching `pattern` per `window` and major parameter.
    pub fn new(name: &str, method: &str, pattern: &str, limit: u32, window: Duration) -> Self {
        BucketRule {
            name: name.to_owned(),
            method: method.to_owned(),
            pattern: pattern.to_owned(),
            limit,
            window,
        }
    }

    fn matches(&self, method: &str, route: &str) -> bool {
        (self.method == "*" || self.method.eq_ignore_ascii_case(method))
            && route_matches(&self.pattern, route)
    }
}

/// A limit: `limit` requests per `window` (at scale 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Requests served per window (0 counts as 1).
    pub limit: u32,
    /// The window at scale 1.
    pub window: Duration,
}

/// Rate limits the fake enforces (see [`crate::Options::rate_limits`]; off by default).
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimits {
    /// Divides every window: 10 makes windows 10× shorter (and the global limit 10× higher,
    /// `global_per_second` per 100 ms). A value that is not a positive finite number counts as 1.
    pub scale: f64,
    /// Requests per second (at scale 1) across all routes except interaction callbacks and
    /// webhook (interaction follow-up) routes; 0 turns the global limit off.
    pub global_per_second: u32,
    /// Bucket rules, tried in order; the first that matches names the request's bucket.
    pub buckets: Vec<BucketRule>,
    /// The limit for requests no rule matches, with one bucket per method, route (ids replaced
    /// by placeholders) and major parameter; `None`: such requests have no bucket (and no
    /// `X-RateLimit-*` headers), only the global limit applies.
    pub default_bucket: Option<Limit>,
}

impl Default for RateLimits {
    /// Same as [`RateLimits::discord`].
    fn default() -> Self {
        Self::discord()
    }
}

/// The bucket a request falls in, with its effective (scaled) limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectiveBucket {
    /// What `X-RateLimit-Bucket` says (a hash of the rule's name, or of method + route template
    /// for the default bucket; the same for every major parameter).
    pub id: String,
    /// The bucket's identity inside the fake: name (or method + route template) and major
    /// parameter, e.g. `messages|channels/123`.
    pub key: String,
    /// Requests served per window.
    pub limit: u32,
    /// The window, scaled.
    pub window: Duration,
}

/// How many requests the rate limiter let through or refused (see
/// [`crate::FakeDiscord::rate_limit_stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimitStats {
    /// Requests under `/api/v10` that passed the limiter (whatever the fake then answered).
    pub served: u64,
    /// `429`s for the global limit (`"global": true`).
    pub limited_global: u64,
    /// `429`s for a route bucket (`"global": false`, scope `user`).
    pub limited_bucket: u64,
}

impl RateLimitStats {
    /// All `429`s the limiter answered.
    pub fn limited(&self) -> u64 {
        self.limited_global + self.limited_bucket
    }
}

const MS: Duration = Duration::from_millis(1);

impl RateLimits {
    /// Discord-like limits at scale 1: global 50 requests per second; `POST
    /// /channels/{channel}/messages` 5 per 5 s per channel; `PUT`/`DELETE` of reactions
    /// (`/channels/{channel}/messages/{message}/reactions/...`) 1 per 250 ms per channel,
    /// shared; anything else 50 per second per method, route and major parameter.
    pub fn discord() -> Self {
        let reactions = "/channels/{channel}/messages/{message}/reactions";
        RateLimits {
            scale: 1.0,
            global_per_second: 50,
            buckets: vec![
                BucketRule::new(
                    "messages",
                    "POST",
                    "/channels/{channel}/messages$",
                    5,
                    Duration::from_secs(5),
                ),
                BucketRule::new("reactions", "PUT", reactions, 1, 250 * MS),
                BucketRule::new("reactions", "DELETE", reactions, 1, 250 * MS),
            ],
            default_bucket: Some(Limit {
                limit: 50,
                window: Duration::from_secs(1),
            }),
        }
    }

    /// The same limits with every window divided by `scale`.
    pub fn scaled(mut self, scale: f64) -> Self {
        self.scale = scale;
        self
    }

    /// The same with another global limit (0: none).
    pub fn with_global_per_second(mut self, n: u32) -> Self {
        self.global_per_second = n;
        self
    }

    /// Adds a bucket rule that takes precedence over the existing ones.
    pub fn with_bucket(
        mut self,
        name: &str,
        method: &str,
        pattern: &str,
        limit: u32,
        window: Duration,
    ) -> Self {
        self.buckets
            .insert(0, BucketRule::new(name, method, pattern, limit, window));
        self
    }

    /// The same with another default bucket (`None`: requests no rule matches have no bucket).
    pub fn with_default_bucket(mut self, default: Option<Limit>) -> Self {
        self.default_bucket = default;
        self
    }

    /// The scale in use (1 unless `scale` is a positive finite number).
    pub fn effective_scale(&self) -> f64 {
        if self.scale.is_finite() && self.scale > 0.0 {
            self.scale
        } else {
            1.0
        }
    }

    /// A window at this scale (saturating, never panics).
    pub fn scale_window(&self, window: Duration) -> Duration {
        Duration::try_from_secs_f64(window.as_secs_f64() / self.effective_scale())
            .unwrap_or(Duration::MAX)
    }

    /// The global limit's window: `1 s / scale`.
    pub fn global_window(&self) -> Duration {
        self.scale_window(Duration::from_secs(1))
    }

    /// Whether a route (path after `/api/v10`) is outside the global limit: interaction
    /// callbacks (`/interactions/...`) and webhook routes with a token (interaction follow-ups
    /// and edits, `/webhooks/{id}/{token}/...`), as on Discord.
    pub fn is_global_exempt(route: &str) -> bool {
        let segs = segments(route);
        match segs.first().map(String::as_str) {
            Some("interactions") => true,
            Some("webhooks") => segs.len() >= 3,
            _ => false,
        }
    }

    /// The bucket a request falls in, with its scaled limit; `None` when no rule matches and
    /// there is no default bucket. `route` is the path after `/api/v10` (a leading `/api/v10` is
    /// ignored).
    pub fn bucket_for(&self, method: &str, route: &str) -> Option<EffectiveBucket> {
        let route = route.strip_prefix(API_PREFIX).unwrap_or(route);
        let segs = segments(route);
        let (template, major) = shape(&segs);
        let (name, limit) = match self.buckets.iter().find(|r| r.matches(method, route)) {
            Some(rule) => (
                rule.name.clone(),
                Limit {
                    limit: rule.limit,
                    window: rule.window,
                },
            ),
            None => (
                format!("{} {template}", method.to_ascii_uppercase()),
                self.default_bucket?,
            ),
        };
        Some(EffectiveBucket {
            id: bucket_hash(&name),
            key: format!("{name}|{major}"),
            limit: limit.limit.max(1),
            window: self.scale_window(limit.window),
        })
    }

    /// The shortest time from the first to the last of these requests being served: the
    /// largest of, per bucket, `floor((n - 1) / limit) × window` for its `n` requests, and for
    /// the global limit `floor((g - 1) / global_per_second) × (1 s / scale)` for the `g`
    /// requests under it (windows scaled). Each item is `(method, route, count)` with a concrete
    /// route (`/channels/123/messages`), so requests in different channels fall in different
    /// buckets. The order requests must go in (a reaction after its message) is not counted.
    pub fn lower_bound<'a>(
        &self,
        requests: impl IntoIterator<Item = (&'a str, &'a str, u64)>,
    ) -> Duration {
        let mut per_bucket: HashMap<String, (u64, u32, Duration)> = HashMap::new();
        let mut global = 0u64;
        for (method, route, count) in requests {
            if let Some(b) = self.bucket_for(method, route) {
                per_bucket.entry(b.key).or_insert((0, b.limit, b.window)).0 += count;
            }
            if !Self::is_global_exempt(route.strip_prefix(API_PREFIX).unwrap_or(route)) {
                global += count;
            }
        }
        let mut bound = per_bucket
            .values()
            .map(|&(n, limit, window)| Self::min_span(n, limit, window))
            .max()
            .unwrap_or(Duration::ZERO);
        if self.global_per_second > 0 {
            bound = bound.max(Self::min_span(
                global,
                self.global_per_second,
                self.global_window(),
            ));
        }
        bound
    }

    /// The shortest time from the first to the last of `n` requests in one fixed-window bucket
    /// of `limit` per `window`: `floor((n - 1) / limit) × window` (zero for `n <= 1`).
    pub fn min_span(n: u64, limit: u32, window: Duration) -> Duration {
        let full_windows = n.saturating_sub(1) / u64::from(limit.max(1));
        window
            .checked_mul(u32::try_from(full_windows).unwrap_or(u32::MAX))
            .unwrap_or(Duration::MAX)
    }
}

/// The route's segments, percent-decoded, without the `/api/v10` prefix.
fn segments(route: &str) -> Vec<String> {
    route
        .strip_prefix(API_PREFIX)
        .unwrap_or(route)
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect()
}

/// The route template (ids, tokens and emoji replaced by placeholders) and the major parameter.
fn shape(segs: &[String]) -> (String, String) {
    let top = segs.first().map(String::as_str).unwrap_or("");
    let with_token = matches!(top, "webhooks" | "interactions");
    let major = match (top, segs.get(1), segs.get(2)) {
        ("channels" | "guilds", Some(id), _) => format!("{top}/{id}"),
        ("webhooks" | "interactions", Some(id), Some(token)) => format!("{top}/{id}/{token}"),
        ("webhooks" | "interactions", Some(id), None) => format!("{top}/{id}"),
        _ => String::new(),
    };
    let mut template = String::new();
    for (i, seg) in segs.iter().enumerate() {
        template.push('/');
        let placeholder = if i > 0 && segs[i - 1] == "reactions" {
            "{emoji}"
        } else if with_token && i == 2 {
            "{token}"
        } else if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            "{id}"
        } else {
            template.push_str(seg);
            continue;
        };
        template.push_str(placeholder);
    }
    (template, major)
}

/// An opaque 32-hex-digit bucket id (two FNV-1a hashes of the name).
fn bucket_hash(name: &str) -> String {
    let fnv = |seed: u64| {
        name.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    format!(
        "{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x6c62_272e_07bb_0142)
    )
}

/// One fixed window's state.
#[derive(Clone, Copy, Debug)]
struct Window {
    start: Instant,
    count: u32,
}

impl Window {
    /// The window as of `now` (a new one if the last has ended).
    fn current(w: Option<Window>, now: Instant, length: Duration) -> Window {
        match w {
            Some(w) if now.saturating_duration_since(w.start) < length => w,
            _ => Window {
                start: now,
                count: 0,
            },
        }
    }

    fn left(&self, now: Instant, length: Duration) -> Duration {
        length.saturating_sub(now.saturating_duration_since(self.start))
    }
}

/// The limiter's state inside the fake.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    buckets: HashMap<String, Window>,
    global: Option<Window>,
    pub stats: RateLimitStats,
}

/// What the limiter decided.
pub(crate) enum Decision {
    /// Serve the request; add these headers to the answer.
    Serve(Vec<(String, String)>),
    /// Answer `429` with this body and these headers.
    Limited {
        body: Value,
        headers: Vec<(String, String)>,
    },
}

/// Seconds rounded up to the millisecond (so waiting that long is always enough).
fn secs_up(d: Duration) -> f64 {
    let ms = d.as_nanos().div_ceil(1_000_000);
    ms as f64 / 1000.0
}

fn epoch_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl Limiter {
    /// Forgets every window and the counters.
    pub fn reset(&mut self) {
        *self = Limiter::default();
    }

    /// Decides on a request under `/api/v10` (route without the prefix) at `now`, counting it.
    pub fn check(
        &mut self,
        limits: &RateLimits,
        method: &str,
        route: &str,
        now: Instant,
    ) -> Decision {
        let bucket = limits.bucket_for(method, route);
        let global_length = limits.global_window();
        let global = (limits.global_per_second > 0 && !RateLimits::is_global_exempt(route))
            .then(|| Window::current(self.global, now, global_length));
        if let Some(g) = global
            && g.count >= limits.global_per_second
        {
            self.stats.limited_global += 1;
            let retry = secs_up(g.left(now, global_length));
            return Decision::Limited {
                body: json!({
                    "message": "You are being rate limited.",
                    "retry_after": retry,
                    "global": true,
                }),
                headers: vec![
                    ("retry-after".to_owned(), format!("{retry:.3}")),
                    ("x-ratelimit-global".to_owned(), "true".to_owned()),
                    ("x-ratelimit-scope".to_owned(), "global".to_owned()),
                ],
            };
        }
        let Some(b) = bucket else {
            if let Some(mut g) = global {
                g.count += 1;
                self.global = Some(g);
            }
            self.stats.served += 1;
            return Decision::Serve(Vec::new());
        };
        let mut w = Window::current(self.buckets.get(&b.key).copied(), now, b.window);
        let limited = w.count >= b.limit;
        if !limited {
            w.count += 1;
        }
        let left = secs_up(w.left(now, b.window));
        let mut headers = vec![
            ("x-ratelimit-limit".to_owned(), b.limit.to_string()),
            (
                "x-ratelimit-remaining".to_owned(),
                b.limit.saturating_sub(w.count).to_string(),
            ),
            (
                "x-ratelimit-reset".to_owned(),
                format!("{:.3}", epoch_secs() + left),
            ),
            ("x-ratelimit-reset-after".to_owned(), format!("{left:.3}")),
            ("x-ratelimit-bucket".to_owned(), b.id),
        ];
        if limited {
            self.stats.limited_bucket += 1;
            headers.push(("retry-after".to_owned(), format!("{left:.3}")));
            headers.push(("x-ratelimit-scope".to_owned(), "user".to_owned()));
            return Decision::Limited {
                body: json!({
                    "message": "You are being rate limited.",
                    "retry_after": left,
                    "global": false,
                }),
                headers,
            };
        }
        self.buckets.insert(b.key, w);
        if let Some(mut g) = global {
            g.count += 1;
            self.global = Some(g);
        }
        self.stats.served += 1;
        Decision::Serve(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_major_parameters() {
        let s = |r: &str| shape(&segments(r));
        assert_eq!(
            s("/channels/12/messages/34"),
            (
                "/channels/{id}/messages/{id}".to_owned(),
                "channels/12".to_owned()
            )
        );
        assert_eq!(
            s("/channels/12/messages/34/reactions/%F0%9F%99%8F/@me"),
            (
                "/channels/{id}/messages/{id}/reactions/{emoji}/@me".to_owned(),
                "channels/12".to_owned()
            )
        );
        assert_eq!(
            s("/webhooks/1/tok/messages/@original"),
            (
                "/webhooks/{id}/{token}/messages/@original".to_owned(),
                "webhooks/1/tok".to_owned()
            )
        );
        assert_eq!(s("/users/@me"), ("/users/@me".to_owned(), String::new()));
        assert_eq!(s(""), (String::new(), String::new()));
    }

    #[test]
    fn buckets_follow_rules_and_major_parameters() {
        let l = RateLimits::discord();
        let a = l
            .bucket_for("POST", "/channels/1/messages")
            .expect("bucket");
        let b = l
            .bucket_for("post", "/api/v10/channels/2/messages")
            .expect("bucket");
        assert_eq!((a.limit, a.window), (5, Duration::from_secs(5)));
        assert_eq!(a.id, b.id, "the hash leaves the major parameter out");
        assert_ne!(a.key, b.key);
        let put = l
            .bucket_for("PUT", "/channels/1/messages/5/reactions/x/@me")
            .expect("bucket");
        let del = l
            .bucket_for("DELETE", "/channels/1/messages/6/reactions/y/@me")
            .expect("bucket");
        assert_eq!(put.key, del.key, "reactions share one bucket per channel");
        let get = l
            .bucket_for("GET", "/channels/1/messages/5")
            .expect("bucket");
        assert_eq!((get.limit, get.window), (50, Duration::from_secs(1)));
        assert_ne!(get.key, a.key);
        assert!(
            l.clone()
                .with_default_bucket(None)
                .bucket_for("GET", "/users/@me")
                .is_none()
        );
        let custom = l
            .with_bucket("slow", "*", "/users/@me", 0, Duration::from_secs(2))
            .scaled(4.0);
        let u = custom.bucket_for("GET", "/users/@me").expect("bucket");
        assert_eq!((u.limit, u.window), (1, Duration::from_millis(500)));
    }

    #[test]
    fn odd_scales_do_not_panic() {
        for scale in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-300, 1e300] {
            let l = RateLimits::discord().scaled(scale);
            let _ = l.global_window();
            let _ = l.bucket_for("POST", "/channels/1/messages");
            let _ = l.lower_bound([("POST", "/channels/1/messages", u64::MAX)]);
            let mut lim = Limiter::default();
            let now = Instant::now();
            for _ in 0..60 {
                let _ = lim.check(&l, "GET", "/users/@me", now);
            }
        }
    }

    #[test]
    fn lower_bounds() {
        assert_eq!(RateLimits::min_span(0, 5, MS), Duration::ZERO);
        assert_eq!(RateLimits::min_span(5, 5, MS), Duration::ZERO);
        assert_eq!(RateLimits::min_span(6, 5, MS), MS);
        assert_eq!(RateLimits::min_span(11, 5, MS), 2 * MS);
        let l = RateLimits::discord().scaled(10.0);
        // 12 messages in one channel: two full 500 ms windows before the last.
        assert_eq!(
            l.lower_bound([("POST", "/channels/1/messages", 12)]),
            Duration::from_secs(1)
        );
        // Two channels of 6 each: one window each.
        assert_eq!(
            l.lower_bound([
                ("POST", "/channels/1/messages", 6),
                ("POST", "/channels/2/messages", 6)
            ]),
            Duration::from_millis(500)
        );
        // 1001 messages over 1001 channels: only the global limit binds, 50 per 100 ms
        // (500/s): 20 full windows before the last request.
        let many: Vec<String> = (0..1001)
            .map(|c| format!("/channels/{c}/messages"))
            .collect();
        assert_eq!(
            l.lower_bound(many.iter().map(|r| ("POST", r.as_str(), 1))),
            Duration::from_secs(2)
        );
        // Interaction callbacks are outside the global limit (each in its own bucket).
        let callbacks: Vec<String> = (0..1001)
            .map(|i| format!("/interactions/{i}/tok-{i}/callback"))
            .collect();
        assert_eq!(
            l.lower_bound(callbacks.iter().map(|r| ("POST", r.as_str(), 1))),
            Duration::ZERO
        );
    }

    #[test]
    fn windows_count_and_refuse() {
        let l = RateLimits::discord().with_global_per_second(0);
        let mut lim = Limiter::default();
        let t0 = Instant::now();
        for i in 0..5 {
            match lim.check(&l, "POST", "/channels/1/messages", t0) {
                Decision::Serve(h) => {
                    assert!(h.contains(&("x-ratelimit-remaining".to_owned(), (4 - i).to_string())));
                }
                Decision::Limited { .. } => panic!("request {i} refused"),
            }
        }
        let later = t0 + Duration::from_secs(2);
        match lim.check(&l, "POST", "/channels/1/messages", later) {
            Decision::Limited { body, .. } => {
                assert_eq!(body["global"], false);
                assert_eq!(body["retry_after"], 3.0);
            }
            Decision::Serve(_) => panic!("sixth served"),
        }
        assert!(matches!(
            lim.check(
                &l,
                "POST",
                "/channels/1/messages",
                t0 + Duration::from_secs(5)
            ),
            Decision::Serve(_)
        ));
        assert_eq!(
            lim.stats,
            RateLimitStats {
                served: 6,
                limited_global: 0,
                limited_bucket: 1
            }
        );
    }
}
