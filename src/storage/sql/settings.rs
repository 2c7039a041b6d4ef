//! The statements of `storage/settings.rs`, once per backend.

use super::{Db, Sql};
use crate::ids::{ChannelId, GuildId, RoleId};
use crate::storage::*;
use chrono::{DateTime, Utc};
use sqlx::Row;

/// The statement that sets one column of a server's settings, making its
/// row if need be (binds: the server, the value, the time). A macro, so
/// each statement stays a literal.
macro_rules! set_column {
    ($column:literal) => {
        concat!(
            "INSERT INTO guild_settings (guild_id, ",
            $column,
            ", updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (guild_id) DO UPDATE SET ",
            $column,
            " = excluded.",
            $column,
            ", updated_at = excluded.updated_at"
        )
    };
}

impl Sql {
    /// Runs `statement` (a [`set_column`] statement) for `guild`.
    async fn set_setting<'q, T>(
        &self,
        statement: &'static str,
        guild: GuildId,
        value: T,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>
    where
        T: 'q + Send + sqlx::Encode<'q, Db> + sqlx::Type<Db>,
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
             FROM guild_settings WHERE guild_id = $1",
        )
        .bind(guild)
        .fetch_optional(&self.pool)
        .await?
        .unwrap_or_default();
        let region_channels = sqlx::query(
            "SELECT region, channel_id FROM region_channels WHERE guild_id = $1 ORDER BY region",
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
            "INSERT INTO region_channels (guild_id, region, channel_id) VALUES ($1, $2, $3)
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
