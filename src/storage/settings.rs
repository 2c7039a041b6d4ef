//! Where each server wants its posts: a default channel, and regions routed
//! to channels of their own.

use crate::ids::{ChannelId, RoleId};

/// Where a server's posts go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelSettings {
    pub default_channel: Option<ChannelId>,
    /// Regions routed to a channel of their own, by name as the admin typed it.
    pub region_channels: Vec<(String, ChannelId)>,
    /// The role the weekly header mentions, if an admin chose one.
    pub ping_role: Option<RoleId>,
    /// Whether the week's header opens a thread for the week.
    pub threads: bool,
    /// Where admins are told what needs them, if not the default channel.
    pub notice_channel: Option<ChannelId>,
}

impl ChannelSettings {
    /// Where the admins are told what needs them: the notices channel an
    /// admin chose, else the default channel.
    pub fn admin_channel(&self) -> Option<ChannelId> {
        self.notice_channel.or(self.default_channel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::ids::ChannelId;
    use crate::storage::fixtures::*;

    #[tokio::test]
    async fn channel_settings_route_regions_case_insensitively() -> Result<(), StorageError> {
        let store = store().await;
        assert_eq!(
            store.channel_settings(GUILD).await?,
            ChannelSettings::default()
        );
        store
            .set_default_channel(GUILD, ChannelId::of::<10>(), now())
            .await?;
        store
            .set_region_channel(GUILD, "latin america", ChannelId::of::<11>())
            .await?;
        store
            .set_region_channel(GUILD, "Latin America", ChannelId::of::<12>())
            .await?;
        let settings = store.channel_settings(GUILD).await?;
        assert_eq!(settings.default_channel, Some(ChannelId::of::<10>()));
        assert_eq!(
            settings.region_channels,
            [("Latin America".to_owned(), ChannelId::of::<12>())]
        );
        Ok(())
    }
}
