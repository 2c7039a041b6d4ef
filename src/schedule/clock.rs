//! The one place the bot reads the time. Everything else takes `now` as an
//! argument or a [`Clock`] handed down from here, so tests choose the
//! instant (`tick(now)`), and a rehearsal against a fake Discord can start
//! the bot's clock at any moment (`PRAYER_BOT_START_TIME`, see the README).
//!
//! A clock started at an instant runs on tokio's clock (`tokio::time`), so
//! a test that pauses tokio's time (`start_paused`) also holds this clock
//! still, and moves it as tokio's time moves.

use chrono::{DateTime, TimeDelta, Utc};
use tokio::time::Instant;

/// The bot's clock: the system clock, or a clock that read a chosen
/// instant when it was made and has run on tokio's clock since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// The instant it read when it was made, and tokio's time then.
    started: Option<(DateTime<Utc>, Instant)>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock { started: None }
    }

    /// A clock that reads `start` now and runs at tokio's speed from there:
    /// the normal speed, or not at all while tokio's time is paused.
    pub fn starting_at(start: DateTime<Utc>) -> Clock {
        Clock {
            started: Some((start, Instant::now())),
        }
    }

    /// The current time by this clock.
    pub fn now(&self) -> DateTime<Utc> {
        match self.started {
            None => Utc::now(),
            Some((start, at)) => TimeDelta::from_std(at.elapsed())
                .ok()
                .and_then(|run| start.checked_add_signed(run))
                .unwrap_or(start),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_clock_started_at_an_instant_reads_that_instant_and_runs_on() {
        let start = DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default();
        let clock = Clock::starting_at(start);
        let read = clock.now();
        assert!(
            read >= start && read < start + TimeDelta::seconds(5),
            "{read}"
        );
        let system = Clock::system().now();
        assert!((system - Utc::now()).num_seconds().abs() < 5);
    }

    #[tokio::test(start_paused = true)]
    async fn a_started_clock_stands_still_and_moves_with_tokios_paused_time() {
        let start = DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default();
        let clock = Clock::starting_at(start);
        assert_eq!(clock.now(), start);
        tokio::time::sleep(Duration::from_secs(90)).await;
        assert_eq!(clock.now(), start + TimeDelta::seconds(90));
    }
}
