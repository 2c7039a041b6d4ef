//! Where each server wants its posts: a default channel, and regions routed
//! to channels of their own.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{StorageError, Store};
use crate::ids::{ChannelId, GuildId, RoleId};

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

/// The statement that sets one column of a server's settings, making its
/// row if need be (binds: the server, the value, the time). A macro, so
/// each statement stays a literal.
macro_rules! set_column {
    ($column:literal) => {
        concat!(
            "INSERT INTO guild_settings (guild_id, ",
            $column,
            ", updated_at) VALUES (?, ?, ?)
             ON CONFLICT (guild_id) DO UPDATE SET ",
            $column,
            " = excluded.",
            $column,
            ", updated_at = excluded.updated_at"
        )
    };
}

impl Store {
    /// Runs `statement` (a [`set_column`] statement) for `guild`.
    async fn set_setting<'q, T>(
        &self,
        statement: &'static str,
        guild: GuildId,
        value: T,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>
    where
        T: 'q + Send + sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
    {
        sqlx::query(statement)
            .bind(guild)
            .bind(value)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Where `guild`'s posts go.
    pub async fn channel_settings(&self, guild: GuildId) -> Result<ChannelSettings, StorageError> {
        let (default_channel, ping_role, threads, notice_channel): (
            Option<ChannelId>,
            Option<RoleId>,
            bool,
            Option<ChannelId>,
        ) = sqlx::query_as(
            "SELECT default_channel_id, ping_role_id, week_threads, notice_channel_id
             FROM guild_settings WHERE guild_id = ?",
        )
        .bind(guild)
        .fetch_optional(&self.pool)
        .await?
        .unwrap_or_default();
        let region_channels = sqlx::query(
            "SELECT region, channel_id FROM region_channels WHERE guild_id = ? ORDER BY region",
        )
        .bind(guild)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("region")?, row.try_get("channel_id")?)))
        .collect::<Result<Vec<_>, StorageError>>()?;
        Ok(ChannelSettings {
            default_channel,
            region_channels,
            ping_role,
            threads,
            notice_channel,
        })
    }

    /// Sends `guild`'s posts to `channel` by default.
    pub async fn set_default_channel(
        &self,
        guild: GuildId,
        channel: ChannelId,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.set_setting(set_column!("default_channel_id"), guild, channel, now)
            .await
    }

    /// Makes `guild`'s weekly header mention `role` (`None`: no one).
    pub async fn set_ping_role(
        &self,
        guild: GuildId,
        role: Option<RoleId>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.set_setting(set_column!("ping_role_id"), guild, role, now)
            .await
    }

    /// Where `guild`'s admins are told what needs them (`None`: the default
    /// channel).
    pub async fn set_notice_channel(
        &self,
        guild: GuildId,
        channel: Option<ChannelId>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.set_setting(set_column!("notice_channel_id"), guild, channel, now)
            .await
    }

    /// Whether the week's header opens a thread in `guild`.
    pub async fn set_threads(
        &self,
        guild: GuildId,
        threads: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.set_setting(set_column!("week_threads"), guild, threads, now)
            .await
    }

    /// Sends `guild`'s requests for `region` (any letter case) to `channel`.
    pub async fn set_region_channel(
        &self,
        guild: GuildId,
        region: &str,
        channel: ChannelId,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO region_channels (guild_id, region, channel_id) VALUES (?, ?, ?)
             ON CONFLICT (guild_id, region) DO UPDATE
             SET region = excluded.region, channel_id = excluded.channel_id",
        )
        .bind(guild)
        .bind(region)
        .bind(channel)
        .execute(&self.pool)
        .await?;
        Ok(())
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
