//! The mid-week nudge: which servers want one and on which day, who is
//! still to be reminded of a week's commitments, and the row taken per
//! member and week that makes a reminder go once.

use crate::ids::GuildId;
use crate::schedule::Schedule;
use chrono::{DateTime, Utc, Weekday};

/// A server that wants the mid-week nudge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NudgeServer {
    pub guild: GuildId,
    pub schedule: Schedule,
    pub day: Weekday,
    /// When the day was set.
    pub since: DateTime<Utc>,
}
