//! The edge between serenity's ids and ours: both are non-zero, so each
//! converts to the other without a check (and without a `.max(1)`).

use poise::serenity_prelude as serenity;

use crate::ids::{ChannelId, GuildId, MessageId, RoleId, UserId};

macro_rules! both_ways {
    ($ours:ident) => {
        impl From<serenity::$ours> for $ours {
            fn from(id: serenity::$ours) -> Self {
                $ours::new(id.into())
            }
        }

        impl From<$ours> for serenity::$ours {
            fn from(id: $ours) -> Self {
                serenity::$ours::from(id.non_zero())
            }
        }
    };
}

both_ways!(GuildId);
both_ways!(ChannelId);
both_ways!(MessageId);
both_ways!(UserId);
both_ways!(RoleId);
