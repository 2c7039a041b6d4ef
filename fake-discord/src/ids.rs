//! Snowflake ids and Discord-style timestamps for the fake's objects.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds between the Unix epoch and Discord's epoch (2015-01-01T00:00:00Z).
pub const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

static LAST_ID: AtomicU64 = AtomicU64::new(0);

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(DISCORD_EPOCH_MS)
}

/// A fresh snowflake, unique within the process and increasing, whose timestamp part is now
/// (so serenity's `created_at()` on it gives a sensible time).
pub fn next_snowflake() -> u64 {
    let time_part = now_ms().saturating_sub(DISCORD_EPOCH_MS) << 22;
    let mut prev = LAST_ID.load(Ordering::Relaxed);
    loop {
        let candidate = time_part.max(prev + 1);
        match LAST_ID.compare_exchange_weak(prev, candidate, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return candidate,
            Err(actual) => prev = actual,
        }
    }
}

/// The time now as an RFC 3339 timestamp with milliseconds and `+00:00`, as Discord writes them.
pub fn now_timestamp() -> String {
    timestamp_from_ms(now_ms())
}

/// Formats milliseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmm+00:00`.
pub fn timestamp_from_ms(ms: u64) -> String {
    let secs = ms / 1000;
    let millis = ms % 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}+00:00",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(timestamp_from_ms(0), "1970-01-01T00:00:00.000+00:00");
        assert_eq!(
            timestamp_from_ms(DISCORD_EPOCH_MS),
            "2015-01-01T00:00:00.000+00:00"
        );
        assert_eq!(
            timestamp_from_ms(1_709_251_199_123),
            "2024-02-29T23:59:59.123+00:00"
        );
    }

    #[test]
    fn snowflakes_increase() {
        let a = next_snowflake();
        let b = next_snowflake();
        assert!(b > a);
        assert!(a >> 22 > 0);
    }
}
