//! Rate limits (`Options::rate_limits`), driven with a bare HTTP/1.1 client so the tests see
//! the status, the `X-RateLimit-*` headers and the 429 bodies exactly as sent. Header values are
//! parsed as serenity 0.12's rate limiter parses them (`i64` for limit and remaining, `f64` for
//! reset, reset-after and `Retry-After`).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fake_discord::{FakeDiscord, Options, RateLimitStats, RateLimits};
use serde_json::{Value, json};

/// An answer as it came over the wire.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A header parsed as serenity parses it.
    fn parsed<T: std::str::FromStr>(&self, name: &str) -> T {
        let raw = self
            .header(name)
            .unwrap_or_else(|| panic!("no {name} header in {self:?}"));
        raw.parse()
            .unwrap_or_else(|_| panic!("{name}: {raw:?} does not parse as serenity expects"))
    }

    fn has_rate_limit_headers(&self) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.starts_with("x-ratelimit") || n == "retry-after")
    }

    fn retry_after(&self) -> f64 {
        self.body.as_ref().expect("a body")["retry_after"]
            .as_f64()
            .expect("retry_after is a number")
    }
}

/// One request over a fresh connection (`Connection: close`), with the bot's `Authorization`.
async fn send(fake: &FakeDiscord, method: &str, route: &str, body: Option<Value>) -> Answer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(fake.addr())
        .await
        .expect("connect");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} /api/v10{route} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bot t\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        fake.addr(),
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let raw = String::from_utf8(raw).expect("utf-8 answer");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a head");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: serde_json::from_str(body).ok(),
    }
}

async fn post_message(fake: &FakeDiscord, channel: u64, text: &str) -> Answer {
    send(
        fake,
        "POST",
        &format!("/channels/{channel}/messages"),
        Some(json!({"content": text})),
    )
    .await
}

fn limited(limits: RateLimits) -> Options {
    Options {
        rate_limits: Some(limits),
        ..Options::default()
    }
}

fn assert_clean(fake: &FakeDiscord) {
    fake.assert_no_spec_violations();
    assert!(
        fake.answer_violations().is_empty(),
        "{:#?}",
        fake.answer_violations()
    );
}

fn epoch_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}

#[tokio::test]
async fn answers_carry_the_bucket_headers_and_remaining_decreases() {
    let fake = FakeDiscord::start_with(limited(RateLimits::discord())).await;
    let (a, b) = (fake.next_id(), fake.next_id());

    let mut bucket = None;
    let mut last_reset_after = f64::MAX;
    for expected_remaining in [4i64, 3, 2] {
        let answer = post_message(&fake, a, "hello").await;
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(answer.parsed::<i64>("x-ratelimit-limit"), 5);
        assert_eq!(
            answer.parsed::<i64>("x-ratelimit-remaining"),
            expected_remaining
        );
        let reset_after: f64 = answer.parsed("x-ratelimit-reset-after");
        assert!(reset_after > 0.0 && reset_after <= 5.0, "{reset_after}");
        assert!(reset_after <= last_reset_after, "the window does not move");
        last_reset_after = reset_after;
        let reset: f64 = answer.parsed("x-ratelimit-reset");
        assert!(
            (reset - (epoch_secs() + reset_after)).abs() < 1.0,
            "reset {reset} is now + reset-after"
        );
        let id = answer.header("x-ratelimit-bucket").expect("bucket");
        assert!(!id.is_empty());
        assert_eq!(*bucket.get_or_insert_with(|| id.to_owned()), id);
        assert!(answer.header("retry-after").is_none());
        assert!(answer.header("x-ratelimit-global").is_none());
        assert!(answer.header("x-ratelimit-scope").is_none());
    }

    // Another channel: its own bucket (same hash, as on Discord), full again.
    let other = post_message(&fake, b, "hello").await;
    assert_eq!(other.parsed::<i64>("x-ratelimit-remaining"), 4);
    assert_eq!(other.header("x-ratelimit-bucket"), bucket.as_deref());

    // Another route: the default bucket.
    let me = send(&fake, "GET", "/users/@me", None).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.parsed::<i64>("x-ratelimit-limit"), 50);
    assert_eq!(me.parsed::<i64>("x-ratelimit-remaining"), 49);
    assert_ne!(me.header("x-ratelimit-bucket"), bucket.as_deref());

    assert_eq!(
        fake.rate_limit_stats(),
        RateLimitStats {
            served: 5,
            limited_global: 0,
            limited_bucket: 0
        }
    );
    assert_clean(&fake);
}

#[tokio::test]
async fn the_sixth_message_in_a_window_is_refused_and_not_created() {
    let fake = FakeDiscord::start_with(limited(RateLimits::discord())).await;
    let (a, b) = (fake.next_id(), fake.next_id());
    for i in 0..5 {
        let answer = post_message(&fake, a, &format!("m{i}")).await;
        assert_eq!(answer.status, 200, "{answer:?}");
    }
    let refused = post_message(&fake, a, "m5").await;
    assert_eq!(refused.status, 429, "{refused:?}");
    let body = refused.body.as_ref().expect("a JSON body");
    assert_eq!(body["message"], "You are being rate limited.");
    assert_eq!(body["global"], false);
    let retry_after = refused.retry_after();
    assert!(retry_after > 0.0 && retry_after <= 5.0, "{retry_after}");
    let header: f64 = refused.parsed("retry-after");
    assert!(
        (header - retry_after).abs() < 1e-9,
        "{header} vs {retry_after}"
    );
    assert_eq!(refused.header("x-ratelimit-scope"), Some("user"));
    assert_eq!(refused.parsed::<i64>("x-ratelimit-limit"), 5);
    assert_eq!(refused.parsed::<i64>("x-ratelimit-remaining"), 0);
    let reset_after: f64 = refused.parsed("x-ratelimit-reset-after");
    assert!((reset_after - retry_after).abs() < 1e-9);
    assert!(refused.header("x-ratelimit-global").is_none());

    assert_eq!(
        fake.messages_in(a).len(),
        5,
        "the refused message is not created"
    );
    let recorded = fake.requests_matching("POST", &format!("/channels/{a}/messages$"));
    assert_eq!(recorded.len(), 6, "the 429 is recorded too");
    assert_eq!(recorded[5].status, 429);
    assert!(!recorded[5].scripted);

    // Another channel is unaffected.
    let elsewhere = post_message(&fake, b, "fine").await;
    assert_eq!(elsewhere.status, 200);
    assert_eq!(fake.messages_in(b).len(), 1);

    assert_eq!(
        fake.rate_limit_stats(),
        RateLimitStats {
            served: 6,
            limited_global: 0,
            limited_bucket: 1
        }
    );
    assert_clean(&fake);
}

#[tokio::test]
async fn the_global_limit_trips_at_global_per_second_but_not_for_interactions() {
    // Scale 0.2: the global window is 5 s, so the test does not race the clock.
    let limits = RateLimits::discord().with_global_per_second(10).scaled(0.2);
    assert_eq!(limits.global_window(), Duration::from_secs(5));
    let fake = FakeDiscord::start_with(limited(limits)).await;
    for _ in 0..10 {
        let answer = send(&fake, "GET", "/users/@me", None).await;
        assert_eq!(answer.status, 200, "{answer:?}");
    }
    for route in ["/users/@me", "/gateway/bot"] {
        let refused = send(&fake, "GET", route, None).await;
        assert_eq!(refused.status, 429, "{refused:?}");
        assert_eq!(refused.body.as_ref().expect("body")["global"], true);
        let retry_after = refused.retry_after();
        assert!(retry_after > 0.0 && retry_after <= 5.0, "{retry_after}");
        assert_eq!(refused.header("x-ratelimit-global"), Some("true"));
        assert_eq!(refused.header("x-ratelimit-scope"), Some("global"));
        let header: f64 = refused.parsed("retry-after");
        assert!((header - retry_after).abs() < 1e-9);
    }
    // A message is refused too, and not created.
    let channel = fake.next_id();
    assert_eq!(post_message(&fake, channel, "x").await.status, 429);
    assert!(fake.messages_in(channel).is_empty());

    // Interaction callbacks are outside the global limit (this one is unknown: 404, not 429).
    let callback = send(
        &fake,
        "POST",
        "/interactions/1/tok/callback",
        Some(json!({"type": 4, "data": {"content": "hi"}})),
    )
    .await;
    assert_eq!(callback.status, 404, "{callback:?}");
    assert_eq!(callback.parsed::<i64>("x-ratelimit-limit"), 50);

    assert_eq!(
        fake.rate_limit_stats(),
        RateLimitStats {
            served: 11,
            limited_global: 3,
            limited_bucket: 0
        }
    );
    assert_clean(&fake);
}

#[tokio::test]
async fn the_scale_shrinks_windows_and_after_retry_after_the_request_succeeds() {
    let fake = FakeDiscord::start_with(limited(RateLimits::discord().scaled(10.0))).await;
    let channel = fake.next_id();
    for i in 0..5 {
        let answer = post_message(&fake, channel, &format!("m{i}")).await;
        if answer.status == 429 {
            // The 500 ms window ended under load; nothing to learn from this run's timing.
            tokio::time::sleep(Duration::from_secs_f64(answer.retry_after())).await;
            continue;
        }
        assert_eq!(answer.status, 200);
        let reset_after: f64 = answer.parsed("x-ratelimit-reset-after");
        assert!(reset_after <= 0.5, "scaled window: {reset_after}");
    }
    // Fill whatever window is open, then expect a refusal.
    let refused = loop {
        let answer = post_message(&fake, channel, "more").await;
        if answer.status == 429 {
            break answer;
        }
    };
    let retry_after = refused.retry_after();
    assert!(retry_after > 0.0 && retry_after <= 0.5, "{retry_after}");
    let before = fake.messages_in(channel).len();
    tokio::time::sleep(Duration::from_secs_f64(retry_after)).await;
    let again = post_message(&fake, channel, "after the wait").await;
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(again.parsed::<i64>("x-ratelimit-remaining"), 4);
    assert_eq!(fake.messages_in(channel).len(), before + 1);
    assert_clean(&fake);
}

#[tokio::test]
async fn reactions_share_one_bucket_per_channel() {
    // Scale 0.1: the reaction window is 2.5 s.
    let fake = FakeDiscord::start_with(limited(RateLimits::discord().scaled(0.1))).await;
    let (a, b) = (fake.next_id(), fake.next_id());
    let m1: String = post_message(&fake, a, "one").await.body.expect("message")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let m2: String = post_message(&fake, a, "two").await.body.expect("message")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let react = |channel: u64, message: &str| {
        format!("/channels/{channel}/messages/{message}/reactions/%F0%9F%99%8F/@me")
    };
    let first = send(&fake, "PUT", &react(a, &m1), None).await;
    assert_eq!(first.status, 204, "{first:?}");
    assert_eq!(first.parsed::<i64>("x-ratelimit-limit"), 1);
    assert_eq!(first.parsed::<i64>("x-ratelimit-remaining"), 0);
    let second = send(&fake, "DELETE", &react(a, &m2), None).await;
    assert_eq!(second.status, 429, "PUT and DELETE share the bucket");
    assert!(second.retry_after() <= 2.5);
    assert_eq!(
        second.header("x-ratelimit-bucket"),
        first.header("x-ratelimit-bucket")
    );
    let third = send(&fake, "PUT", &react(a, &m2), None).await;
    assert_eq!(third.status, 429);
    assert!(
        fake.reactions(m2.parse().expect("id"), "🙏").is_empty(),
        "the refused reaction is not added"
    );
    let m3: String = post_message(&fake, b, "three").await.body.expect("message")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(send(&fake, "PUT", &react(b, &m3), None).await.status, 204);
    assert_eq!(fake.rate_limit_stats().limited_bucket, 2);
    assert_clean(&fake);
}

#[tokio::test]
async fn a_client_that_honours_retry_after_never_beats_the_lower_bound() {
    let limits = RateLimits::discord().scaled(20.0);
    let fake = FakeDiscord::start_with(limited(limits.clone())).await;
    let (a, b) = (fake.next_id(), fake.next_id());
    let plan = [(a, 12u64), (b, 3)];
    let routes: Vec<(String, u64)> = plan
        .iter()
        .map(|(c, n)| (format!("/channels/{c}/messages"), *n))
        .collect();
    let bound = limits.lower_bound(routes.iter().map(|(r, n)| ("POST", r.as_str(), *n)));
    // 12 messages in one channel at 5 per 250 ms: two full windows before the last.
    assert_eq!(bound, Duration::from_millis(500));

    let started = Instant::now();
    let mut refusals = 0;
    for (channel, n) in plan {
        for i in 0..n {
            loop {
                let answer = post_message(&fake, channel, &format!("m{i}")).await;
                if answer.status != 429 {
                    assert_eq!(answer.status, 200);
                    break;
                }
                refusals += 1;
                tokio::time::sleep(Duration::from_secs_f64(answer.retry_after())).await;
            }
        }
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= bound, "{elapsed:?} < {bound:?}");
    assert_eq!(fake.messages_in(a).len(), 12);
    assert_eq!(fake.messages_in(b).len(), 3);
    let stats = fake.rate_limit_stats();
    assert_eq!(stats.served, 15);
    assert_eq!(stats.limited(), refusals);
    assert!(refusals >= 2, "the loop ran into the limit: {stats:?}");

    fake.reset_rate_limits();
    assert_eq!(fake.rate_limit_stats(), RateLimitStats::default());
    assert_eq!(post_message(&fake, a, "fresh").await.status, 200);
    assert_clean(&fake);
}

#[tokio::test]
async fn off_by_default_no_headers_and_no_429s() {
    let fake = FakeDiscord::start().await;
    assert!(fake.rate_limits().is_none());
    let channel = fake.next_id();
    for i in 0..12 {
        let answer = post_message(&fake, channel, &format!("m{i}")).await;
        assert_eq!(answer.status, 200);
        assert!(!answer.has_rate_limit_headers(), "{answer:?}");
    }
    for _ in 0..60 {
        let answer = send(&fake, "GET", "/users/@me", None).await;
        assert_eq!(answer.status, 200);
        assert!(!answer.has_rate_limit_headers());
    }
    assert_eq!(fake.messages_in(channel).len(), 12);
    assert_eq!(fake.rate_limit_stats(), RateLimitStats::default());
    assert_clean(&fake);
}

#[tokio::test]
async fn scripted_answers_bypass_the_limiter_and_slow_ones_go_through_it() {
    let fake = FakeDiscord::start_with(limited(RateLimits::discord())).await;
    let channel = fake.next_id();
    fake.rate_limit_next("POST", "/channels/*/messages$", 0.01);
    let scripted = post_message(&fake, channel, "x").await;
    assert_eq!(scripted.status, 429);
    assert_eq!(fake.rate_limit_stats(), RateLimitStats::default());
    fake.script(fake_discord::ScriptedResponse::slow(
        "POST",
        "/channels/*/messages$",
        Duration::from_millis(10),
    ));
    let slow = post_message(&fake, channel, "y").await;
    assert_eq!(slow.status, 200);
    assert_eq!(slow.parsed::<i64>("x-ratelimit-remaining"), 4);
    assert_eq!(fake.rate_limit_stats().served, 1);
    assert_clean(&fake);
}
