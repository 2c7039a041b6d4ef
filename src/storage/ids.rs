//! The typed ids as SQL values: bound and read as SQLite's `INTEGER`
//! (through [`crate::ids`]'s one conversion), so queries take and return
//! `GuildId`, `MessageId`, … and never a bare integer. A stored 0 (which no
//! id is) is an error when read, not a patched value.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

use crate::ids::{ChannelId, GuildId, MessageId, RequestId, RoleId, UserId};

macro_rules! sql_integer {
    ($name:ident, $to:expr, $from:expr) => {
        impl<DB: Database> Type<DB> for $name
        where
            i64: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <i64 as Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <i64 as Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: Database> Encode<'q, DB> for $name
        where
            i64: Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as Database>::ArgumentBuffer,
            ) -> Result<IsNull, BoxDynError> {
                let to: fn($name) -> i64 = $to;
                to(*self).encode_by_ref(buf)
            }
        }

        impl<'r, DB: Database> Decode<'r, DB> for $name
        where
            i64: Decode<'r, DB>,
        {
            fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let from: fn(i64) -> Option<$name> = $from;
                from(i64::decode(value)?)
                    .ok_or_else(|| concat!("a stored ", stringify!($name), " is 0").into())
            }
        }
    };
}

sql_integer!(GuildId, GuildId::to_sql, GuildId::from_sql);
sql_integer!(ChannelId, ChannelId::to_sql, ChannelId::from_sql);
sql_integer!(MessageId, MessageId::to_sql, MessageId::from_sql);
sql_integer!(UserId, UserId::to_sql, UserId::from_sql);
sql_integer!(RoleId, RoleId::to_sql, RoleId::from_sql);
sql_integer!(RequestId, RequestId::get, RequestId::try_new);
