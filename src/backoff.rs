//! The one retry policy: a wait that starts at `first` and doubles after
//! each failure, never above `most`, until a success resets it. Every loop
//! that tries again (a send to Discord, a batch of 🙏 to the store, a post
//! the scheduler retries, asking for the gateway, the log's reminders that
//! Discord is unreachable) takes its waits from here. Pure: it says how long
//! to wait; the caller sleeps on tokio's clock (so tests can pause it).

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    first: Duration,
    most: Duration,
    next: Duration,
    failures: u32,
}

impl Backoff {
    /// A policy whose first wait is `first` and whose longest is `most`
    /// (`first` if `most` is smaller).
    pub const fn new(first: Duration, most: Duration) -> Self {
        let most = if most.as_nanos() < first.as_nanos() {
            first
        } else {
            most
        };
        Backoff {
            first,
            most,
            next: first,
            failures: 0,
        }
    }

    /// Counts one more failure and says how long to wait before the next
    /// attempt: `first`, then twice that, … up to `most`.
    pub fn failed(&mut self) -> Duration {
        let wait = self.next;
        self.failures = self.failures.saturating_add(1);
        self.next = self.next.saturating_mul(2).min(self.most);
        wait
    }

    /// The wait [`Self::failed`] would give next, without counting a failure.
    pub fn peek(&self) -> Duration {
        self.next
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// A success: the next failure waits `first` again.
    pub fn succeeded(&mut self) {
        self.next = self.first;
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn waits_double_up_to_the_longest_and_a_success_starts_over() {
        let mut backoff = Backoff::new(SECOND, 5 * SECOND);
        let waits: Vec<_> = (0..5).map(|_| backoff.failed().as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 5, 5]);
        assert_eq!(backoff.failures(), 5);
        backoff.succeeded();
        assert_eq!(backoff.failures(), 0);
        assert_eq!(backoff.peek(), SECOND);
        assert_eq!(backoff.failed(), SECOND);
    }

    #[test]
    fn a_longest_below_the_first_is_the_first() {
        let mut backoff = Backoff::new(5 * SECOND, SECOND);
        assert_eq!(backoff.failed(), 5 * SECOND);
        assert_eq!(backoff.failed(), 5 * SECOND);
    }

    #[test]
    fn many_failures_never_overflow() {
        let mut backoff = Backoff::new(Duration::MAX / 2, Duration::MAX);
        for _ in 0..100 {
            assert!(backoff.failed() >= Duration::MAX / 2);
        }
        assert_eq!(backoff.failures(), 100);
    }
}
