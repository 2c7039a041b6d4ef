//! Typed ids: a server, channel, message and user id from Discord, and a
//! request's id in the store, as distinct types so that
//! `react(channel, message)` cannot be called with its arguments swapped.
//! Pure: the one place where an id becomes SQLite's `INTEGER` and back.

use std::fmt;

macro_rules! discord_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(u64);

        impl $name {
            pub const fn new(id: u64) -> Self {
                Self(id)
            }

            pub const fn get(self) -> u64 {
                self.0
            }

            /// The id as SQLite's INTEGER (see [`sql_id`]).
            pub fn to_sql(self) -> i64 {
                sql_id(self.0)
            }

            /// The inverse of [`Self::to_sql`].
            pub fn from_sql(value: i64) -> Self {
                Self(discord_id(value))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

discord_id!(
    /// A Discord server.
    GuildId
);
discord_id!(
    /// A Discord channel.
    ChannelId
);
discord_id!(
    /// A Discord message.
    MessageId
);
discord_id!(
    /// A Discord user (a member of a server).
    UserId
);

/// A prayer request's id in the store: stable for as long as its
/// bulletin is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(i64);

impl RequestId {
    pub const fn new(id: i64) -> Self {
        Self(id)
    }

    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A Discord id (a u64 snowflake) as SQLite's INTEGER. The bits are kept as
/// they are, so ids above `i64::MAX` (none exist yet) still round-trip.
pub fn sql_id(id: u64) -> i64 {
    i64::from_ne_bytes(id.to_ne_bytes())
}

/// The inverse of [`sql_id`].
pub fn discord_id(value: i64) -> u64 {
    u64::from_ne_bytes(value.to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discord_ids_round_trip_through_sqlite_integers() {
        for id in [0, 1, 1_234_567_890_123_456_789, i64::MAX as u64, u64::MAX] {
            assert_eq!(discord_id(sql_id(id)), id);
            assert_eq!(UserId::from_sql(UserId::new(id).to_sql()), UserId::new(id));
        }
    }
}
