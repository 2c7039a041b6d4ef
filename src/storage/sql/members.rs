//! The statements of `storage/members.rs`, once per backend.

use super::{DbConnection, DbRow, Sql};
use crate::bulletins::week::PrayerWeek;
use crate::ids::{ChannelId, GuildId, MessageId, RequestId, UserId};
use crate::members::{GROUP_TITLE, StoredAuthor, author_hash};
use crate::storage::*;
use chrono::{DateTime, Utc};
use sqlx::Row;

/// The columns a [`MemberRequest`] is read from.
macro_rules! select_member {
    () => {
        "SELECT m.request_id, m.series, m.author_id, m.author_salt, m.author_hash,
                m.withdrawn_at IS NOT NULL AS withdrawn, b.week
         FROM member_requests AS m
         JOIN requests AS r ON r.id = m.request_id
         JOIN bulletins AS b ON b.id = r.bulletin_id"
    };
}

impl Sql {
    /// Adds `new` as one request per week it runs, in one transaction;
    /// `None` (nothing added) when its author already added `limit` in the
    /// first week in this server. Returns each week's request id.
    pub async fn add_member_request(
        &self,
        new: &NewMemberRequest<'_>,
        limit: usize,
    ) -> Result<Option<Vec<(PrayerWeek, RequestId)>>, StorageError> {
        let Some(&first) = new.weeks.first() else {
            return Ok(Some(Vec::new()));
        };
        // IMMEDIATE: two adds by one member at once count each other.
        let mut tx = self.begin_writing().await?;
        let earlier = week_requests(&mut tx, new.guild, first).await?;
        let by_author = earlier
            .iter()
            .filter(|r| r.author.is(new.guild, new.author))
            .count();
        if by_author >= limit {
            return Ok(None);
        }
        let salt: Vec<u8> = sqlx::query_scalar(random_salt!())
            .fetch_one(&mut *tx)
            .await?;
        let hash = author_hash(&salt, new.guild, new.author);
        let mut added = Vec::with_capacity(new.weeks.len());
        for &week in new.weeks {
            let container = container(&mut tx, new.guild, week, new.now).await?;
            let id: RequestId = sqlx::query_scalar(
                "INSERT INTO requests (bulletin_id, position, region, kind, text, countries)
                 VALUES ($1, (SELECT COALESCE(MAX(position) + 1, 0) FROM requests
                              WHERE bulletin_id = $1), $2, 'petition', $3, '[]')
                 RETURNING id",
            )
            .bind(container)
            .bind(new.region)
            .bind(new.text)
            .fetch_one(&mut *tx)
            .await?;
            let series = added.first().map_or(id, |(_, first)| *first);
            sqlx::query(
                "INSERT INTO member_requests
                     (request_id, guild_id, series, author_id, author_salt, author_hash, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(new.guild.to_sql())
            .bind(series)
            .bind((!new.anonymous).then(|| new.author.to_sql()))
            .bind(&salt)
            .bind(hash.as_slice())
            .bind(new.now)
            .execute(&mut *tx)
            .await?;
            added.push((week, id));
        }
        tx.commit().await?;
        Ok(Some(added))
    }

    /// `request`, if it is a member's request of `guild`.
    pub async fn member_request(
        &self,
        guild: GuildId,
        request: RequestId,
    ) -> Result<Option<MemberRequest>, StorageError> {
        let row = sqlx::query(concat!(
            select_member!(),
            " WHERE m.guild_id = $1 AND m.request_id = $2"
        ))
        .bind(guild.to_sql())
        .bind(request.get())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(member_from_row).transpose()
    }

    /// Every request `user` asked in `guild`, openly or anonymously.
    pub async fn member_requests_by(
        &self,
        guild: GuildId,
        user: UserId,
    ) -> Result<Vec<MemberRequest>, StorageError> {
        let rows = sqlx::query(concat!(
            select_member!(),
            " WHERE m.guild_id = $1 ORDER BY m.request_id"
        ))
        .bind(guild.to_sql())
        .fetch_all(&self.pool)
        .await?;
        let mut found = Vec::new();
        for row in &rows {
            let request = member_from_row(row)?;
            if request.author.is(guild, user) {
                found.push(request);
            }
        }
        Ok(found)
    }

    /// Marks every request of `series` in `guild` withdrawn (by its author
    /// or an admin); returns the messages they were posted in, to edit.
    pub async fn withdraw_member_series(
        &self,
        guild: GuildId,
        series: RequestId,
        by_admin: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<(ChannelId, MessageId)>, StorageError> {
        let mut tx = self.begin_writing().await?;
        sqlx::query(
            "UPDATE member_requests SET withdrawn_at = $1, withdrawn_by = $2
             WHERE guild_id = $3 AND series = $4 AND withdrawn_at IS NULL",
        )
        .bind(now)
        .bind(if by_admin { "admin" } else { "author" })
        .bind(guild.to_sql())
        .bind(series.get())
        .execute(&mut *tx)
        .await?;
        let posts = series_posts(&mut tx, guild, series).await?;
        tx.commit().await?;
        Ok(posts)
    }

    /// Deletes the requests of `series` in `guild` and their records of
    /// posts: an add that Discord refused to post, taken back.
    pub async fn delete_member_series(
        &self,
        guild: GuildId,
        series: RequestId,
    ) -> Result<(), StorageError> {
        let mut tx = self.begin_writing().await?;
        sqlx::query(
            "DELETE FROM posted_messages WHERE guild_id = $1 AND request_id IN
                 (SELECT request_id FROM member_requests WHERE guild_id = $1 AND series = $2)",
        )
        .bind(guild.to_sql())
        .bind(series.get())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM requests WHERE id IN
                 (SELECT request_id FROM member_requests WHERE guild_id = $1 AND series = $2)",
        )
        .bind(guild.to_sql())
        .bind(series.get())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes `user`'s requests in `guild` (for forget-me), with the marks
    /// and praises' links on them; returns the messages they were posted
    /// in, to edit.
    pub async fn erase_member_requests(
        &self,
        guild: GuildId,
        user: UserId,
    ) -> Result<Vec<(ChannelId, MessageId)>, StorageError> {
        let theirs = self.member_requests_by(guild, user).await?;
        let mut tx = self.begin_writing().await?;
        let mut posts = Vec::new();
        for request in &theirs {
            posts.extend(request_posts(&mut tx, guild, request.id).await?);
            sqlx::query("DELETE FROM requests WHERE id = $1")
                .bind(request.id.get())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(posts)
    }
}

fn member_from_row(row: &DbRow) -> Result<MemberRequest, StorageError> {
    let week: String = row.try_get("week")?;
    Ok(MemberRequest {
        id: row.try_get("request_id")?,
        series: row.try_get("series")?,
        week: parse_week(&week)?,
        author: StoredAuthor {
            author: row.try_get("author_id")?,
            salt: row.try_get("author_salt")?,
            hash: row.try_get("author_hash")?,
        },
        withdrawn: row.try_get("withdrawn")?,
    })
}

/// The members' requests of `guild` in `week`, withdrawn ones too.
async fn week_requests(
    tx: &mut DbConnection,
    guild: GuildId,
    week: PrayerWeek,
) -> Result<Vec<MemberRequest>, StorageError> {
    sqlx::query(concat!(
        select_member!(),
        " WHERE m.guild_id = $1 AND b.week = $2 AND b.kind = 'members'"
    ))
    .bind(guild.to_sql())
    .bind(week.to_string())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(member_from_row)
    .collect()
}

/// The id of `guild`'s container of members' requests for `week`, made if
/// need be.
async fn container(
    tx: &mut DbConnection,
    guild: GuildId,
    week: PrayerWeek,
    now: DateTime<Utc>,
) -> Result<i64, StorageError> {
    sqlx::query(
        "INSERT INTO bulletins (guild_id, week, hash, title, source, imported_at, kind)
         VALUES ($1, $2, 'members ' || $2, $3, 'members', $4, 'members')
         ON CONFLICT DO NOTHING",
    )
    .bind(guild.to_sql())
    .bind(week.to_string())
    .bind(GROUP_TITLE)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(sqlx::query_scalar(
        "SELECT id FROM bulletins WHERE guild_id = $1 AND week = $2 AND kind = 'members'",
    )
    .bind(guild.to_sql())
    .bind(week.to_string())
    .fetch_one(&mut *tx)
    .await?)
}

async fn series_posts(
    tx: &mut DbConnection,
    guild: GuildId,
    series: RequestId,
) -> Result<Vec<(ChannelId, MessageId)>, StorageError> {
    sqlx::query(
        "SELECT p.channel_id, p.message_id FROM posted_messages AS p
         JOIN member_requests AS m ON m.request_id = p.request_id
         WHERE p.guild_id = $1 AND m.guild_id = $1 AND m.series = $2 ORDER BY p.message_id",
    )
    .bind(guild.to_sql())
    .bind(series.get())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|row| Ok((row.try_get("channel_id")?, row.try_get("message_id")?)))
    .collect()
}

async fn request_posts(
    tx: &mut DbConnection,
    guild: GuildId,
    request: RequestId,
) -> Result<Vec<(ChannelId, MessageId)>, StorageError> {
    sqlx::query(
        "SELECT channel_id, message_id FROM posted_messages
         WHERE guild_id = $1 AND request_id = $2 ORDER BY message_id",
    )
    .bind(guild.to_sql())
    .bind(request.get())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|row| Ok((row.try_get("channel_id")?, row.try_get("message_id")?)))
    .collect()
}
