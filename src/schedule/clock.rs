//! The one place the bot reads the time. Everything else takes `now` as an
//! argument or a [`Clock`] handed down from here, so tests choose the
//! instant (`tick(now)`), and a rehearsal against a fake Discord can start
//! the bot's clock at any moment (`PRAYER_BOT_START_TIME`, see the README).

use chrono::{DateTime, TimeDelta, Utc};

/// The bot's clock: the system clock, or the system clock shifted so that
/// it read a chosen instant when it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    offset: TimeDelta,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock {
            offset: TimeDelta::zero(),
        }
    }

    /// A clock that reads `start` now and runs at the normal speed from
    /// there.
    pub fn starting_at(start: DateTime<Utc>) -> Clock {
        Clock {
            offset: start.signed_duration_since(Utc::now()),
        }
    }

    /// The current time by this clock.
    pub fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        now.checked_add_signed(self.offset).unwrap_or(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
