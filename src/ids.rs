//! Typed ids: a server, channel, message and user id from Discord, and a
//! request's id in the store, as distinct types so that
//! `react(channel, message)` cannot be called with its arguments swapped.
//! Pure: the one place where an id becomes SQLite's `INTEGER` and back.

use std::fmt;
use std::num::{NonZeroI64, NonZeroU64};

macro_rules! discord_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(NonZeroU64);

        impl $name {
            pub const fn new(id: NonZeroU64) -> Self {
                Self(id)
            }

            /// The id of a number from outside (Discord's JSON, a typed
            /// value), or `None` for 0, which names nothing.
            pub const fn try_new(id: u64) -> Option<Self> {
                match NonZeroU64::new(id) {
                    Some(id) => Some(Self(id)),
                    None => None,
                }
            }

            /// An id written in the source, checked when compiled:
            /// `GuildId::of::<0>()` does not build.
            pub const fn of<const ID: u64>() -> Self {
                const { assert!(ID != 0, "Discord ids are never 0") };
                match NonZeroU64::new(ID) {
                    Some(id) => Self(id),
                    None => unreachable!(),
                }
            }

            pub const fn get(self) -> u64 {
                self.0.get()
            }

            pub const fn non_zero(self) -> NonZeroU64 {
                self.0
            }

            /// The id as SQLite's INTEGER (see [`sql_id`]).
            pub fn to_sql(self) -> i64 {
                sql_id(self.0.get())
            }

            /// The inverse of [`Self::to_sql`]; `None` for 0.
            pub fn from_sql(value: i64) -> Option<Self> {
                Self::try_new(discord_id(value))
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
discord_id!(
    /// A role in a Discord server.
    RoleId
);

/// A prayer request's id in the store: stable for as long as its
/// bulletin is stored. SQLite's row ids start at 1, so it is never 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(NonZeroI64);

impl RequestId {
    pub const fn new(id: NonZeroI64) -> Self {
        Self(id)
    }

    /// The id of a number from outside (a button, a typed value, a row),
    /// or `None` for 0.
    pub const fn try_new(id: i64) -> Option<Self> {
        match NonZeroI64::new(id) {
            Some(id) => Some(Self(id)),
            None => None,
        }
    }

    /// An id written in the source, checked when compiled.
    pub const fn of<const ID: i64>() -> Self {
        const { assert!(ID != 0, "request ids are never 0") };
        match NonZeroI64::new(ID) {
            Some(id) => Self(id),
            None => unreachable!(),
        }
    }

    pub const fn get(self) -> i64 {
        self.0.get()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::str::FromStr for RequestId {
    type Err = ();

    /// A request id as a button or a member writes it: a non-zero integer.
    fn from_str(text: &str) -> Result<Self, ()> {
        text.parse::<i64>().ok().and_then(Self::try_new).ok_or(())
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
    #[allow(unused_imports)]
    use crate::ids::{ChannelId, GuildId, MessageId, RequestId, UserId};

    #[test]
    fn discord_ids_round_trip_through_sqlite_integers() {
        for id in [1, 1_234_567_890_123_456_789, i64::MAX as u64, u64::MAX] {
            assert_eq!(discord_id(sql_id(id)), id);
            let user = UserId::try_new(id).expect("non-zero");
            assert_eq!(UserId::from_sql(user.to_sql()), Some(user));
        }
        assert_eq!(discord_id(sql_id(0)), 0);
    }

    #[test]
    fn zero_names_nothing() {
        assert_eq!(GuildId::try_new(0), None);
        assert_eq!(MessageId::from_sql(0), None);
        assert_eq!(RequestId::try_new(0), None);
        assert_eq!("0".parse::<RequestId>(), Err(()));
        assert_eq!("12".parse::<RequestId>(), Ok(RequestId::of::<12>()));
        assert_eq!(ChannelId::of::<7>().get(), 7);
    }
}
