//! Discord's rate limits kept on the bot's side, so a post to many servers
//! stays inside them rather than learning of them from 429s: the per-route
//! buckets each answer's `X-RateLimit-*` headers describe, the global limit
//! on requests per second, and the waits a 429 asks for.
//!
//! Pure: the caller passes the time in, does the waiting, and sends. The
//! bucket rules are Discord's (see its "Rate Limits" topic):
//!
//! - A route is its method and path, with the ids in it as placeholders
//!   except the major parameter (the channel, guild, or webhook id and
//!   token), so `POST /channels/1/messages` and `POST /channels/2/messages`
//!   are limited apart. See [`RouteKey`].
//! - An answer names its route's bucket (`X-RateLimit-Bucket`); routes that
//!   name the same bucket with the same major parameter share one count.
//!   How many requests are left (`-Remaining`) and when the count starts
//!   again (`-Reset-After`, seconds from the answer) come with it.
//! - A route not yet answered has no known bucket and may go at once; only
//!   the global limit holds it back.
//! - The global limit counts every request except interaction answers, as
//!   a sliding window of the bot's own requests (at most `requests` in any
//!   `per`), which never exceeds Discord's fixed windows. A request counts
//!   from its answer, and holds its place while it is on its way: it
//!   reached Discord at some time between its send and its answer, so a
//!   window counted so holds however long each request took to arrive
//!   (counted from the send, one that waited in a busy machine and one
//!   that did not can reach Discord in the same window, one too many).
//! - Several processes of one bot (`--shards`) share its global limit, so
//!   each keeps to its shards' share of it ([`GlobalLimit::share`]).
//! - A 429 blocks its route (and its bucket) for `retry_after`, or, when it
//!   says `global`, every route under the global limit.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

/// A limit on requests across all routes: at most `requests` in any window
/// of `per`. No requests (0) means no global limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalLimit {
    pub requests: u32,
    pub per: Duration,
}

impl GlobalLimit {
    /// Discord's: 50 requests per second.
    pub const DISCORD: GlobalLimit = GlobalLimit {
        requests: 50,
        per: Duration::from_secs(1),
    };

    /// `rate` requests per second (`DISCORD_GLOBAL_RATE_LIMIT`), as the
    /// limiter keeps it: in windows of at most Discord's own 50 requests,
    /// each as long as its share of a second (`gcd(rate, 50)` requests per
    /// `gcd(rate, 50) / rate` s), so 50 stays 50 per second and 500 is 50
    /// per 100 ms. Discord does not say over what window it counts a
    /// higher limit; a whole second's worth sent in one burst would break
    /// any shorter one (the fake Discord, scaled, counts 50 per
    /// `1 s / scale`), while this pace keeps any window of a whole number
    /// of these within its share, a second included. The sustained rate is
    /// the same.
    pub fn per_second(rate: NonZeroU32) -> GlobalLimit {
        let rate = rate.get();
        let burst = gcd(rate, GlobalLimit::DISCORD.requests);
        // Rounded up: a window a nanosecond short would let one too many in.
        let nanos = (1_000_000_000 * u64::from(burst)).div_ceil(u64::from(rate));
        GlobalLimit {
            requests: burst,
            per: Duration::from_nanos(nanos),
        }
    }
}

impl GlobalLimit {
    /// This limit's share for a process that runs `part` of `whole`
    /// shards: as many requests per window times `part / whole` (rounded
    /// down), so the processes' windows together hold no more than the
    /// whole; when that is under one request, one request in a window
    /// that much longer. The whole when `part` is 0 or not less than
    /// `whole`.
    pub fn share(self, part: u32, whole: u32) -> GlobalLimit {
        if part == 0 || part >= whole || self.requests == 0 {
            return self;
        }
        let requests = u64::from(self.requests) * u64::from(part) / u64::from(whole);
        if requests > 0 {
            return GlobalLimit {
                requests: requests as u32,
                per: self.per,
            };
        }
        // One request in per × whole / (requests × part), rounded up.
        let nanos = self.per.as_nanos() * u128::from(whole);
        let slots = u128::from(self.requests) * u128::from(part);
        let per = u64::try_from(nanos.div_ceil(slots)).unwrap_or(u64::MAX);
        GlobalLimit {
            requests: 1,
            per: Duration::from_nanos(per),
        }
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// A route as Discord limits it: `POST /channels/123/messages`, or
/// `PUT /channels/123/messages/{id}/reactions/{emoji}/@me` (the message and
/// the emoji are not major parameters, so every reaction in one channel is
/// one route).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RouteKey {
    /// Method and path with placeholders.
    key: String,
    /// The major parameter, e.g. `channels/123`; empty for routes without.
    major: String,
    /// Interaction answers and follow-ups are outside the global limit.
    global_exempt: bool,
}

impl RouteKey {
    /// The route of a request with `method` to `path`: the URL's path, with
    /// or without the `/api/v10` prefix (anything before it, such as a
    /// proxy's own path, is dropped) and any query.
    pub fn new(method: &str, path: &str) -> RouteKey {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let all: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        // The part after `api/vN` (or `api`), when there is one.
        let start = all
            .iter()
            .position(|s| *s == "api")
            .map(|api| match all.get(api + 1) {
                Some(v) if is_version(v) => api + 2,
                _ => api + 1,
            })
            .unwrap_or(0);
        let segments = &all[start..];
        let top = segments.first().copied().unwrap_or_default();
        // How many segments after the first are the major parameter.
        let major_len = match top {
            "channels" | "guilds" => 1,
            "webhooks" | "interactions" => 2,
            _ => 0,
        };
        let major_end = (1 + major_len).min(segments.len());
        let major = if major_len == 0 {
            String::new()
        } else {
            segments[..major_end].join("/")
        };
        let mut key = method.to_ascii_uppercase();
        key.push(' ');
        for (i, segment) in segments.iter().enumerate() {
            key.push('/');
            if i > 0 && segments[i - 1] == "reactions" {
                key.push_str("{emoji}");
            } else if (1..major_end).contains(&i) || !is_id(segment) {
                key.push_str(segment);
            } else {
                key.push_str("{id}");
            }
        }
        if segments.is_empty() {
            key.push('/');
        }
        let global_exempt = top == "interactions" || (top == "webhooks" && segments.len() >= 3);
        RouteKey {
            key,
            major,
            global_exempt,
        }
    }

    /// The major parameter (`channels/123`), empty when the route has none.
    pub fn major(&self) -> &str {
        &self.major
    }

    /// Whether the route is outside the global limit (interaction answers
    /// and follow-ups).
    pub fn global_exempt(&self) -> bool {
        self.global_exempt
    }
}

impl fmt::Display for RouteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key)
    }
}

fn is_id(segment: &str) -> bool {
    !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit())
}

fn is_version(segment: &str) -> bool {
    segment
        .strip_prefix('v')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// What an answer's headers say about rate limits, as plain values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RateLimitHeaders {
    /// `X-RateLimit-Limit`: requests per window in the bucket.
    pub limit: Option<u32>,
    /// `X-RateLimit-Remaining`: requests left in this window.
    pub remaining: Option<u32>,
    /// `X-RateLimit-Reset-After`: from the answer to the window's end.
    pub reset_after: Option<Duration>,
    /// `X-RateLimit-Bucket`: the bucket's id, the same for every major
    /// parameter.
    pub bucket: Option<String>,
    /// `X-RateLimit-Global` is present, or `X-RateLimit-Scope` is `global`.
    pub global: bool,
}

impl RateLimitHeaders {
    /// Reads the headers from `(name, value)` pairs (names in any case);
    /// a value that does not parse counts as absent.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut headers = RateLimitHeaders::default();
        let count = |value: &str| {
            let n = value.trim().parse::<f64>().ok()?;
            // Discord sends whole numbers; a fraction rounds down.
            (n.is_finite() && n >= 0.0).then(|| n.min(f64::from(u32::MAX)) as u32)
        };
        for (name, value) in pairs {
            match name.to_ascii_lowercase().as_str() {
                "x-ratelimit-limit" => headers.limit = count(value),
                "x-ratelimit-remaining" => headers.remaining = count(value),
                "x-ratelimit-reset-after" => headers.reset_after = seconds(value),
                "x-ratelimit-bucket" => {
                    let id = value.trim();
                    headers.bucket = (!id.is_empty()).then(|| id.to_owned());
                }
                "x-ratelimit-global" => headers.global = true,
                "x-ratelimit-scope" => {
                    headers.global |= value.trim().eq_ignore_ascii_case("global");
                }
                _ => {}
            }
        }
        headers
    }
}

/// Seconds as Discord writes them (`0.347`), if a sane duration.
pub fn seconds(value: &str) -> Option<Duration> {
    let secs = value.trim().parse::<f64>().ok()?;
    Duration::try_from_secs_f64(secs).ok()
}

/// What the limiter knows of one bucket (for one major parameter).
#[derive(Clone, Debug)]
struct Bucket {
    limit: u32,
    /// Requests left before `reset_at`, less those on their way.
    remaining: u32,
    /// When the window ends; after it the bucket is full again.
    reset_at: Instant,
    /// The longest `Reset-After` seen: about the window's length, for a
    /// window the bot opens before any answer says when it ends.
    window: Duration,
}

/// What the limiter knows of one route.
#[derive(Clone, Debug, Default)]
struct Route {
    /// The bucket its answers named.
    bucket: Option<String>,
    /// Until when a 429 blocked it.
    blocked_until: Option<Instant>,
    /// Requests reserved and not yet answered.
    in_flight: u32,
}

/// The bot's view of Discord's rate limits; see the module comment. Ask
/// [`Limiter::wait_before`] (or [`Limiter::try_reserve`]) before a request,
/// [`Limiter::reserve`] when it goes, and tell the limiter its answer with
/// [`Limiter::update`] (and [`Limiter::on_429`]), or [`Limiter::release`]
/// when there was none.
#[derive(Clone, Debug)]
pub struct Limiter {
    global: GlobalLimit,
    /// The last `global.requests` requests under the global limit.
    recent: VecDeque<Sent>,
    /// Until when a global 429 blocked every route under the global limit.
    global_until: Option<Instant>,
    routes: HashMap<RouteKey, Route>,
    /// By bucket id and major parameter.
    buckets: HashMap<(String, String), Bucket>,
    /// How many routes and buckets to hold before forgetting stale ones.
    prune_at: usize,
}

/// A request counted against the global limit: when it went, on which
/// route, and when its answer came (or it was given up), if it has.
#[derive(Clone, Debug)]
struct Sent {
    at: Instant,
    route: RouteKey,
    answered: Option<Instant>,
}

impl Sent {
    /// From when the request no longer counts against a window of `per`,
    /// as seen at `now`: `per` after its answer. Still on its way, it may
    /// reach Discord at any moment, so its place is not free before `per`
    /// after its send, and after that it is asked about again every
    /// [`IN_FLIGHT_POLL`] until it is answered; one never answered (its
    /// caller gave up on it) counts as answered [`IN_FLIGHT_CAP`] after
    /// its send.
    fn frees_at(&self, per: Duration, now: Instant) -> Instant {
        if let Some(answered) = self.answered {
            return after(answered, per);
        }
        let earliest = after(self.at, per);
        let given_up = after(self.at, IN_FLIGHT_CAP.max(per));
        if now < earliest || now >= given_up {
            return earliest.min(given_up);
        }
        after(now, IN_FLIGHT_POLL).min(given_up)
    }
}

/// How often a request waiting on one still on its way asks again.
const IN_FLIGHT_POLL: Duration = Duration::from_millis(2);

/// How long a request with no answer and no word that it was given up
/// keeps its place in the global window (a call dropped mid-way; the HTTP
/// client's own timeout answers the others).
const IN_FLIGHT_CAP: Duration = Duration::from_secs(5);

/// Routes and buckets held before the first clean-up.
const PRUNE_AT: usize = 1024;

impl Default for Limiter {
    /// A limiter with Discord's global limit.
    fn default() -> Self {
        Limiter::new(GlobalLimit::DISCORD)
    }
}

impl Limiter {
    /// A limiter that knows no buckets yet and holds to `global`.
    pub fn new(global: GlobalLimit) -> Self {
        Limiter {
            global,
            recent: VecDeque::new(),
            global_until: None,
            routes: HashMap::new(),
            buckets: HashMap::new(),
            prune_at: PRUNE_AT,
        }
    }

    /// How long a request on `route` must wait at `now`; zero when it may
    /// go now.
    pub fn wait_before(&self, route: &RouteKey, now: Instant) -> Duration {
        let mut until = now;
        if !route.global_exempt {
            until = until.max(self.global_until.unwrap_or(now));
            let limit = self.global.requests as usize;
            if limit > 0 && self.recent.len() >= limit {
                // The request `limit` places back must leave the window.
                let oldest = &self.recent[self.recent.len() - limit];
                until = until.max(oldest.frees_at(self.global.per, now));
            }
        }
        if let Some(state) = self.routes.get(route) {
            until = until.max(state.blocked_until.unwrap_or(now));
        }
        if let Some(bucket) = self.bucket(route)
            && bucket.remaining == 0
        {
            until = until.max(bucket.reset_at);
        }
        until.saturating_duration_since(now)
    }

    /// Counts a request on `route` going at `now`, against the global
    /// limit and its bucket (whose window starts again if it has ended).
    pub fn reserve(&mut self, route: &RouteKey, now: Instant) {
        if !route.global_exempt && self.global.requests > 0 {
            self.recent.push_back(Sent {
                at: now,
                route: route.clone(),
                answered: None,
            });
            while self.recent.len() > self.global.requests as usize {
                self.recent.pop_front();
            }
        }
        self.routes.entry(route.clone()).or_default().in_flight += 1;
        if let Some(bucket) = self.bucket_mut(route) {
            if bucket.reset_at <= now {
                bucket.remaining = bucket.limit;
                bucket.reset_at = after(now, bucket.window);
            }
            bucket.remaining = bucket.remaining.saturating_sub(1);
        }
        if self.routes.len() + self.buckets.len() > self.prune_at {
            self.forget_stale(now);
        }
    }

    /// Reserves a place for a request on `route` at `now` if it may go now;
    /// otherwise says how long to wait and reserves nothing.
    pub fn try_reserve(&mut self, route: &RouteKey, now: Instant) -> Result<(), Duration> {
        let wait = self.wait_before(route, now);
        if wait.is_zero() {
            self.reserve(route, now);
            Ok(())
        } else {
            Err(wait)
        }
    }

    /// Learns from the headers of an answer on `route` that arrived at
    /// `now` (any status, a 429 too): its bucket, and how many requests are
    /// left in it until when. Requests on the bucket still on their way
    /// are taken from what the answer says is left, since Discord may not
    /// have counted them yet.
    pub fn update(&mut self, route: &RouteKey, headers: &RateLimitHeaders, now: Instant) {
        self.answered(route, now);
        let state = self.routes.entry(route.clone()).or_default();
        state.in_flight = state.in_flight.saturating_sub(1);
        if let Some(id) = &headers.bucket {
            state.bucket = Some(id.clone());
        } else if headers.limit.is_none() && headers.remaining.is_none() {
            // An answer with no bucket headers: the route is under none
            // (now), so an old bucket must not hold it back.
            state.bucket = None;
        }
        let (Some(limit), Some(remaining), Some(reset_after)) =
            (headers.limit, headers.remaining, headers.reset_after)
        else {
            return;
        };
        // Without a bucket id the route is a bucket of its own.
        let id = state
            .bucket
            .get_or_insert_with(|| route.key.clone())
            .clone();
        let on_the_way: u32 = self
            .routes
            .iter()
            .filter(|(key, r)| key.major == route.major && r.bucket.as_ref() == Some(&id))
            .map(|(_, r)| r.in_flight)
            .sum();
        let bucket = self
            .buckets
            .entry((id, route.major.clone()))
            .or_insert(Bucket {
                limit,
                remaining,
                reset_at: now,
                window: reset_after,
            });
        bucket.limit = limit.max(1);
        bucket.remaining = remaining.saturating_sub(on_the_way);
        bucket.reset_at = after(now, reset_after);
        bucket.window = bucket.window.max(reset_after);
    }

    /// A 429 on `route` at `now` that asked for `retry_after`: blocks the
    /// route and its bucket, or, if `global`, every route under the global
    /// limit. Call [`Limiter::update`] with the answer's headers as well.
    pub fn on_429(&mut self, route: &RouteKey, retry_after: Duration, global: bool, now: Instant) {
        let until = after(now, retry_after);
        if global {
            self.global_until = Some(self.global_until.map_or(until, |t| t.max(until)));
            return;
        }
        let state = self.routes.entry(route.clone()).or_default();
        state.blocked_until = Some(state.blocked_until.map_or(until, |t| t.max(until)));
        if let Some(bucket) = self.bucket_mut(route) {
            bucket.remaining = 0;
            bucket.reset_at = bucket.reset_at.max(until);
        }
    }

    /// A request on `route` that got no answer by `now`: it is no longer
    /// on its way. (Its place in the window stays counted, from `now`: it
    /// may have arrived.)
    pub fn release(&mut self, route: &RouteKey, now: Instant) {
        self.answered(route, now);
        if let Some(state) = self.routes.get_mut(route) {
            state.in_flight = state.in_flight.saturating_sub(1);
        }
    }

    /// The global window counts the oldest request on `route` still on
    /// its way from `now`, when its answer came. (Two on one route at
    /// once are rare: a channel's messages go one after another.)
    fn answered(&mut self, route: &RouteKey, now: Instant) {
        if let Some(sent) = self
            .recent
            .iter_mut()
            .find(|sent| sent.answered.is_none() && sent.route == *route)
        {
            sent.answered = Some(now);
        }
    }

    fn bucket(&self, route: &RouteKey) -> Option<&Bucket> {
        let id = self.routes.get(route)?.bucket.clone()?;
        self.buckets.get(&(id, route.major.clone()))
    }

    fn bucket_mut(&mut self, route: &RouteKey) -> Option<&mut Bucket> {
        let id = self.routes.get(route)?.bucket.clone()?;
        self.buckets.get_mut(&(id, route.major.clone()))
    }

    /// Forgets what no longer holds anything back, so a bot that posts to
    /// thousands of channels keeps a small map: buckets whose window has
    /// ended (the next answer teaches them again) and routes with nothing
    /// on the way, no block and no bucket left.
    fn forget_stale(&mut self, now: Instant) {
        self.buckets.retain(|_, bucket| bucket.reset_at > now);
        let buckets = &self.buckets;
        self.routes.retain(|key, route| {
            route.in_flight > 0
                || route.blocked_until.is_some_and(|t| t > now)
                || route
                    .bucket
                    .as_ref()
                    .is_some_and(|id| buckets.contains_key(&(id.clone(), key.major.clone())))
        });
        self.prune_at = PRUNE_AT.max(2 * (self.routes.len() + self.buckets.len()));
    }
}

/// `now + wait`, or as far as an `Instant` goes (a wait of centuries is a
/// wait all the same).
fn after(now: Instant, wait: Duration) -> Instant {
    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
    now.checked_add(wait)
        .or_else(|| now.checked_add(YEAR))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn messages(channel: u64) -> RouteKey {
        RouteKey::new("POST", &format!("/api/v10/channels/{channel}/messages"))
    }

    fn headers(
        limit: u32,
        remaining: u32,
        reset_after: Duration,
        bucket: &str,
    ) -> RateLimitHeaders {
        RateLimitHeaders {
            limit: Some(limit),
            remaining: Some(remaining),
            reset_after: Some(reset_after),
            bucket: Some(bucket.to_owned()),
            global: false,
        }
    }

    /// Sends one request at `now` if the limiter lets it, and answers it
    /// at once with `answer`; says whether it went.
    fn send(
        limiter: &mut Limiter,
        route: &RouteKey,
        now: Instant,
        answer: &RateLimitHeaders,
    ) -> bool {
        let went = limiter.try_reserve(route, now).is_ok();
        if went {
            limiter.update(route, answer, now);
        }
        went
    }

    #[test]
    fn routes_keep_their_major_parameter_and_hide_other_ids() {
        let key = |method: &str, path: &str| RouteKey::new(method, path).to_string();
        assert_eq!(
            key("post", "/api/v10/channels/12/messages"),
            "POST /channels/12/messages"
        );
        assert_eq!(
            key(
                "PUT",
                "/proxy/api/v10/channels/12/messages/34/reactions/%F0%9F%99%8F/@me"
            ),
            "PUT /channels/12/messages/{id}/reactions/{emoji}/@me"
        );
        assert_eq!(
            key("GET", "/channels/12/messages?limit=50&before=99"),
            "GET /channels/12/messages"
        );
        assert_eq!(
            key("GET", "/api/v10/guilds/5/members/77"),
            "GET /guilds/5/members/{id}"
        );
        assert_eq!(
            key("PATCH", "/api/v10/webhooks/9/tok/messages/@original"),
            "PATCH /webhooks/9/tok/messages/@original"
        );
        assert_eq!(key("GET", "/api/v10/users/@me"), "GET /users/@me");
        assert_eq!(key("GET", ""), "GET /");
        assert_eq!(
            RouteKey::new("POST", "/channels/12/messages").major(),
            "channels/12"
        );
        assert_ne!(messages(1), messages(2));
        assert!(RouteKey::new("POST", "/api/v10/interactions/1/tok/callback").global_exempt());
        assert!(RouteKey::new("POST", "/api/v10/webhooks/1/tok").global_exempt());
        assert!(!RouteKey::new("POST", "/api/v10/webhooks/1").global_exempt());
        assert!(!messages(1).global_exempt());
    }

    #[test]
    fn headers_are_read_in_any_case_and_bad_values_count_as_absent() {
        let read = RateLimitHeaders::from_pairs([
            ("X-RateLimit-Limit", "5"),
            ("x-ratelimit-remaining", "0"),
            ("X-RATELIMIT-RESET-AFTER", "0.347"),
            ("x-ratelimit-bucket", "abcd1234"),
            ("x-ratelimit-reset", "1470173023.123"),
            ("content-type", "application/json"),
        ]);
        assert_eq!(read, headers(5, 0, 347 * MS, "abcd1234"));
        let bad = RateLimitHeaders::from_pairs([
            ("x-ratelimit-limit", "many"),
            ("x-ratelimit-remaining", "-1"),
            ("x-ratelimit-reset-after", "NaN"),
            ("x-ratelimit-bucket", " "),
        ]);
        assert_eq!(bad, RateLimitHeaders::default());
        assert!(RateLimitHeaders::from_pairs([("X-RateLimit-Global", "true")]).global);
        assert!(RateLimitHeaders::from_pairs([("x-ratelimit-scope", "global")]).global);
        assert!(!RateLimitHeaders::from_pairs([("x-ratelimit-scope", "user")]).global);
    }

    #[test]
    fn an_unknown_route_goes_at_once() {
        let limiter = Limiter::default();
        let now = Instant::now();
        assert_eq!(limiter.wait_before(&messages(1), now), Duration::ZERO);
        // Answers without rate-limit headers teach nothing that holds back.
        let mut limiter = Limiter::default();
        for _ in 0..10 {
            assert!(send(
                &mut limiter,
                &messages(1),
                now,
                &RateLimitHeaders::default()
            ));
        }
        // A route whose answers stop naming a bucket is under none.
        assert!(send(
            &mut limiter,
            &messages(1),
            now,
            &headers(1, 0, 500 * MS, "m")
        ));
        assert_eq!(limiter.wait_before(&messages(1), now), 500 * MS);
        let later = now + Duration::from_secs(1);
        assert!(send(
            &mut limiter,
            &messages(1),
            later,
            &RateLimitHeaders::default()
        ));
        for _ in 0..10 {
            assert!(send(
                &mut limiter,
                &messages(1),
                later,
                &RateLimitHeaders::default()
            ));
        }
    }

    #[test]
    fn a_bucket_learned_from_headers_waits_from_remaining_zero_until_reset_after() {
        let mut limiter = Limiter::default();
        let t0 = Instant::now();
        let route = messages(1);
        for remaining in (0..5).rev() {
            assert!(send(
                &mut limiter,
                &route,
                t0,
                &headers(5, remaining, 500 * MS, "m")
            ));
        }
        assert_eq!(limiter.wait_before(&route, t0), 500 * MS);
        assert_eq!(limiter.wait_before(&route, t0 + 200 * MS), 300 * MS);
        assert!(limiter.try_reserve(&route, t0 + 499 * MS).is_err());
        // Another channel is another bucket, and goes at once.
        assert_eq!(limiter.wait_before(&messages(2), t0), Duration::ZERO);
        // When the window ends the bucket is full again: five more go
        // before any answer comes, and the sixth waits about a window.
        let t1 = t0 + 500 * MS;
        for _ in 0..5 {
            assert_eq!(limiter.try_reserve(&route, t1), Ok(()));
        }
        assert_eq!(limiter.try_reserve(&route, t1), Err(500 * MS));
    }

    #[test]
    fn requests_on_their_way_are_not_counted_twice_or_forgotten() {
        let mut limiter = Limiter::default();
        let t0 = Instant::now();
        let route = messages(1);
        assert!(send(
            &mut limiter,
            &route,
            t0,
            &headers(5, 4, 500 * MS, "m")
        ));
        // Three go before any of them is answered...
        for _ in 0..3 {
            limiter.reserve(&route, t0);
        }
        // ...and the first answer, which Discord gave before it counted the
        // other two, says three are left: only one is.
        limiter.update(&route, &headers(5, 3, 500 * MS, "m"), t0);
        assert_eq!(limiter.try_reserve(&route, t0), Ok(()));
        assert_eq!(limiter.try_reserve(&route, t0), Err(500 * MS));
    }

    #[test]
    fn routes_that_share_a_bucket_share_its_count_per_major_parameter() {
        let mut limiter = Limiter::default();
        let t0 = Instant::now();
        let put = RouteKey::new("PUT", "/api/v10/channels/1/messages/5/reactions/x/@me");
        let delete = RouteKey::new("DELETE", "/api/v10/channels/1/messages/6/reactions/y/@me");
        let elsewhere = RouteKey::new("PUT", "/api/v10/channels/2/messages/7/reactions/x/@me");
        // Each route's first answer names the same bucket.
        assert!(send(
            &mut limiter,
            &put,
            t0,
            &headers(1, 0, 250 * MS, "reactions")
        ));
        assert_eq!(limiter.wait_before(&put, t0), 250 * MS);
        let t1 = t0 + 250 * MS;
        assert!(send(
            &mut limiter,
            &delete,
            t1,
            &headers(1, 0, 250 * MS, "reactions")
        ));
        // The delete used the bucket's one place: the put waits for it too.
        assert_eq!(limiter.wait_before(&put, t1), 250 * MS);
        assert_eq!(limiter.wait_before(&delete, t1), 250 * MS);
        // The same bucket id in another channel is another count.
        assert!(send(
            &mut limiter,
            &elsewhere,
            t1,
            &headers(1, 0, 250 * MS, "reactions")
        ));
        assert_eq!(limiter.wait_before(&put, t1 + 250 * MS), Duration::ZERO);
    }

    #[test]
    fn the_global_limit_allows_fifty_in_any_second() {
        let mut limiter = Limiter::default();
        let t0 = Instant::now();
        // Fifty sends to fifty channels in the first half second, each
        // answered at once.
        for i in 0..50 {
            let now = t0 + i * 10 * MS;
            assert_eq!(
                limiter.try_reserve(&messages(u64::from(i)), now),
                Ok(()),
                "{i}"
            );
            limiter.update(&messages(u64::from(i)), &RateLimitHeaders::default(), now);
        }
        let now = t0 + 500 * MS;
        assert_eq!(limiter.wait_before(&messages(99), now), 500 * MS);
        // A second after the first went, the next may go, and one more
        // every 10 ms after it.
        assert_eq!(
            limiter.try_reserve(&messages(99), t0 + Duration::from_secs(1)),
            Ok(())
        );
        assert_eq!(
            limiter.wait_before(&messages(100), t0 + Duration::from_secs(1)),
            10 * MS
        );
        // Interaction answers are outside it.
        let answer = RouteKey::new("POST", "/api/v10/interactions/1/tok/callback");
        assert_eq!(limiter.wait_before(&answer, now), Duration::ZERO);
    }

    #[test]
    fn the_global_limit_is_configurable_and_zero_turns_it_off() {
        let t0 = Instant::now();
        let mut five = Limiter::new(GlobalLimit {
            requests: 5,
            per: 100 * MS,
        });
        for i in 0..5 {
            assert_eq!(five.try_reserve(&messages(i), t0), Ok(()));
        }
        assert_eq!(five.try_reserve(&messages(9), t0), Err(100 * MS));
        let mut none = Limiter::new(GlobalLimit {
            requests: 0,
            per: Duration::from_secs(1),
        });
        for i in 0..1000 {
            assert_eq!(none.try_reserve(&messages(i), t0), Ok(()));
        }
    }

    #[test]
    fn a_global_rate_is_kept_in_windows_of_at_most_fifty_and_never_exceeded() {
        let rate = |n: u32| GlobalLimit::per_second(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        assert_eq!(rate(50), GlobalLimit::DISCORD);
        assert_eq!(
            rate(500),
            GlobalLimit {
                requests: 50,
                per: 100 * MS
            }
        );
        assert_eq!(rate(400).per, 125 * MS);
        assert_eq!(rate(120).requests, 10);
        assert_eq!(rate(120).per, Duration::from_nanos(83_333_334));
        assert_eq!(rate(7).requests, 1);
        // Sending as fast as the limiter lets: no second holds more than
        // the rate, and no 100 ms more than 50.
        for n in [50, 120, 500] {
            let mut limiter = Limiter::new(rate(n));
            let t0 = Instant::now();
            let mut sent = Vec::new();
            let mut now = t0;
            while now < t0 + Duration::from_secs(3) {
                let route = messages(sent.len() as u64);
                match limiter.try_reserve(&route, now) {
                    // Answered at once.
                    Ok(()) => {
                        limiter.update(&route, &RateLimitHeaders::default(), now);
                        sent.push(now);
                    }
                    Err(wait) => now += wait,
                }
            }
            for (i, start) in sent.iter().enumerate() {
                let within =
                    |span: Duration| sent[i..].iter().take_while(|t| **t < *start + span).count();
                assert!(within(Duration::from_secs(1)) <= n as usize, "{n}/s");
                assert!(within(100 * MS) <= 50, "{n}/s");
            }
            let second = sent
                .iter()
                .filter(|t| **t < t0 + Duration::from_secs(1))
                .count();
            assert_eq!(second, n as usize, "the whole rate is used");
        }
    }

    #[test]
    fn the_global_window_counts_a_request_from_its_answer() {
        let mut limiter = Limiter::new(GlobalLimit {
            requests: 2,
            per: 100 * MS,
        });
        let t0 = Instant::now();
        let (one, two) = (messages(1), messages(2));
        assert_eq!(limiter.try_reserve(&one, t0), Ok(()));
        assert_eq!(limiter.try_reserve(&two, t0), Ok(()));
        // Unanswered, the first holds its place at least 100 ms after it
        // went, then for as long as it is on its way (asked about every
        // 2 ms), up to 5 s.
        assert_eq!(limiter.wait_before(&messages(3), t0), 100 * MS);
        assert_eq!(limiter.wait_before(&messages(3), t0 + 100 * MS), 2 * MS);
        assert_eq!(
            limiter.wait_before(&messages(3), t0 + 4999 * MS),
            MS,
            "a request never answered is not waited on for ever"
        );
        assert_eq!(
            limiter.wait_before(&messages(3), t0 + Duration::from_secs(5)),
            Duration::ZERO
        );
        // Answered after 30 ms, it may have reached Discord as late as
        // that: its place is free 100 ms after the answer.
        limiter.update(&one, &RateLimitHeaders::default(), t0 + 30 * MS);
        assert_eq!(limiter.wait_before(&messages(3), t0), 130 * MS);
        // The same for one given up without an answer.
        limiter.release(&two, t0 + 50 * MS);
        assert_eq!(limiter.try_reserve(&messages(3), t0 + 130 * MS), Ok(()));
        assert_eq!(
            limiter.wait_before(&messages(4), t0 + 130 * MS),
            20 * MS,
            "the second counts from when it was given up"
        );
        // Answers find their own route's request, whatever the order.
        limiter.update(&messages(3), &RateLimitHeaders::default(), t0 + 140 * MS);
        assert_eq!(limiter.try_reserve(&messages(4), t0 + 150 * MS), Ok(()));
        assert_eq!(limiter.wait_before(&messages(5), t0 + 150 * MS), 90 * MS);
    }

    #[test]
    fn processes_sharing_the_global_limit_each_keep_to_their_share() {
        let fifty = GlobalLimit {
            requests: 50,
            per: 100 * MS,
        };
        assert_eq!(fifty.share(1, 2).requests, 25);
        assert_eq!(fifty.share(1, 2).per, 100 * MS);
        assert_eq!(fifty.share(3, 4).requests, 37);
        assert_eq!(fifty.share(2, 2), fifty);
        assert_eq!(fifty.share(0, 2), fifty);
        assert_eq!(fifty.share(5, 2), fifty);
        assert_eq!(
            fifty.share(1, 64),
            GlobalLimit {
                requests: 1,
                per: 128 * MS
            }
        );
        let off = GlobalLimit {
            requests: 0,
            per: 100 * MS,
        };
        assert_eq!(off.share(1, 2), off);
        // Two halves sending as fast as they may: no window of 100 ms
        // holds more than the whole's 50.
        let mut halves = [
            Limiter::new(fifty.share(1, 2)),
            Limiter::new(fifty.share(1, 2)),
        ];
        let t0 = Instant::now();
        let mut sent = Vec::new();
        for (i, limiter) in halves.iter_mut().enumerate() {
            let mut now = t0 + Duration::from_millis(7 * i as u64);
            while now < t0 + Duration::from_secs(1) {
                let route = messages(sent.len() as u64);
                match limiter.try_reserve(&route, now) {
                    Ok(()) => {
                        limiter.update(&route, &RateLimitHeaders::default(), now);
                        sent.push(now);
                    }
                    Err(wait) => now += wait,
                }
            }
        }
        assert_eq!(sent.len(), 500, "together they use the whole");
        sent.sort();
        for (i, start) in sent.iter().enumerate() {
            let within = sent[i..]
                .iter()
                .take_while(|t| **t < *start + 100 * MS)
                .count();
            assert!(within <= 50, "{within} in 100 ms");
        }
    }

    #[test]
    fn a_429_blocks_its_route_for_retry_after() {
        let mut limiter = Limiter::default();
        let t0 = Instant::now();
        let route = messages(1);
        limiter.reserve(&route, t0);
        limiter.update(&route, &RateLimitHeaders::default(), t0);
        limiter.on_429(&route, 1200 * MS, false, t0);
        assert_eq!(limiter.wait_before(&route, t0), 1200 * MS);
        assert_eq!(
            limiter.wait_before(&route, t0 + Duration::from_secs(1)),
            200 * MS
        );
        assert_eq!(limiter.wait_before(&messages(2), t0), Duration::ZERO);
        assert_eq!(limiter.wait_before(&route, t0 + 1200 * MS), Duration::ZERO);
    }

    #[test]
    fn a_429_on_a_shared_bucket_blocks_every_route_in_it() {
        let mut limiter = Limiter::default();
        let t0 = Instant::now();
        let put = RouteKey::new("PUT", "/channels/1/messages/5/reactions/x/@me");
        let delete = RouteKey::new("DELETE", "/channels/1/messages/6/reactions/y/@me");
        assert!(send(
            &mut limiter,
            &put,
            t0,
            &headers(5, 4, 250 * MS, "reactions")
        ));
        assert!(send(
            &mut limiter,
            &delete,
            t0,
            &headers(5, 3, 250 * MS, "reactions")
        ));
        limiter.on_429(&put, Duration::from_secs(2), false, t0);
        assert_eq!(limiter.wait_before(&delete, t0), Duration::from_secs(2));
    }

    #[test]
    fn a_global_429_blocks_every_route_but_interaction_answers() {
        let mut limiter = Limiter::default();
        let t0 = Instant::now();
        limiter.on_429(&messages(1), 800 * MS, true, t0);
        for route in [
            messages(1),
            messages(2),
            RouteKey::new("GET", "/api/v10/users/@me"),
        ] {
            assert_eq!(limiter.wait_before(&route, t0), 800 * MS, "{route}");
            assert_eq!(limiter.wait_before(&route, t0 + 800 * MS), Duration::ZERO);
        }
        let answer = RouteKey::new("POST", "/api/v10/interactions/1/tok/callback");
        assert_eq!(limiter.wait_before(&answer, t0), Duration::ZERO);
        // A shorter global 429 later does not shorten the block.
        limiter.on_429(&messages(2), 100 * MS, true, t0);
        assert_eq!(limiter.wait_before(&messages(3), t0), 800 * MS);
    }

    #[test]
    fn a_huge_retry_after_does_not_panic() {
        let mut limiter = Limiter::default();
        let t0 = Instant::now();
        limiter.on_429(&messages(1), Duration::MAX, true, t0);
        limiter.on_429(&messages(1), Duration::MAX, false, t0);
        limiter.update(&messages(1), &headers(1, 0, Duration::MAX, "m"), t0);
        assert!(limiter.wait_before(&messages(1), t0) > Duration::from_secs(3600));
    }

    #[test]
    fn thousands_of_channels_leave_a_small_map_once_their_windows_end() {
        let mut limiter = Limiter::new(GlobalLimit {
            requests: 0,
            per: Duration::from_secs(1),
        });
        let t0 = Instant::now();
        for channel in 0..5000 {
            let now = t0 + Duration::from_secs(channel);
            assert!(send(
                &mut limiter,
                &messages(channel),
                now,
                &headers(5, 4, 500 * MS, "m")
            ));
        }
        assert!(
            limiter.routes.len() <= 2 * PRUNE_AT,
            "{}",
            limiter.routes.len()
        );
        assert!(
            limiter.buckets.len() <= 2 * PRUNE_AT,
            "{}",
            limiter.buckets.len()
        );
    }
}
