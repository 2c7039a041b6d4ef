//! The statements of `storage/prayers.rs`, once per backend.

use super::{DbConnection, DbRow, Sql};
use crate::bulletins::parse::Kind;
use crate::bulletins::week::PrayerWeek;
use crate::ids::{ChannelId, GuildId, MessageId, RequestId, UserId};
use crate::storage::*;
use crate::tracking::{Mark, ReactionKey, ReactionStep, Source, forgotten_hash};
use chrono::{DateTime, Utc};
use sqlx::Row;
use std::collections::HashSet;

/// The requests a server sees: of the bulletins, its own for a week where
/// it has one, else the shared one; and its members' own requests not
/// withdrawn. `b` is the bulletin, `r` the request; the server is
/// parameter `?1`. A macro, so the statements using it stay string
/// literals.
macro_rules! visible {
    () => {
        "((b.kind = 'members' AND b.guild_id = $1 AND NOT EXISTS
           (SELECT 1 FROM member_requests AS m
            WHERE m.request_id = r.id AND m.withdrawn_at IS NOT NULL))
          OR (b.kind = 'bulletin' AND (b.guild_id = $1 OR (b.guild_id = 0 AND NOT EXISTS
           (SELECT 1 FROM bulletins AS own
            WHERE own.guild_id = $1 AND own.week = b.week AND own.kind = 'bulletin')))))"
    };
}

/// Ids as a JSON array, for `IN (SELECT value FROM json_each(?))`: one
/// statement whatever the number of ids, with nothing spliced into the SQL.
fn json_ids(ids: impl Iterator<Item = i64>) -> String {
    let ids: Vec<String> = ids.map(|id| id.to_string()).collect();
    format!("[{}]", ids.join(","))
}

fn mark_from_row(row: &DbRow) -> Result<Mark, StorageError> {
    let kind: String = row.try_get("kind")?;
    Ok(Mark {
        request: row.try_get("request_id")?,
        user: row.try_get("user_id")?,
        source: Source::parse(&kind)
            .ok_or_else(|| StorageError::Corrupt(format!("prayer mark kind `{kind}`")))?,
    })
}

/// How many reaction rows one multi-row statement carries (4 values each,
/// well under SQLite's limit on bound values).
const REACTIONS_PER_STATEMENT: usize = 200;

impl Sql {
    /// `request` as `guild` sees it; `None` when it is not one of the
    /// server's requests (another server's, or its bulletin replaced). The
    /// two cases look the same, so a caller cannot reveal which.
    pub async fn guild_request(
        &self,
        guild: GuildId,
        request: RequestId,
    ) -> Result<Option<GuildRequest>, StorageError> {
        let row = sqlx::query(concat!(
            "SELECT r.id, b.week, r.region, r.kind,
                    COALESCE((SELECT c.text FROM request_corrections AS c WHERE c.guild_id = $1 AND c.request_id = r.id), r.text) AS text
             FROM requests AS r JOIN bulletins AS b ON b.id = r.bulletin_id
             WHERE r.id = $2 AND ",
            visible!()
        ))
        .bind(guild.to_sql())
        .bind(request.get())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(guild_request_from_row).transpose()
    }

    /// The requests of the weeks `from` to `to` (inclusive) that `guild`
    /// sees, newest week first, each week in bulletin order.
    pub async fn guild_requests(
        &self,
        guild: GuildId,
        from: PrayerWeek,
        to: PrayerWeek,
    ) -> Result<Vec<GuildRequest>, StorageError> {
        sqlx::query(concat!(
            "SELECT r.id, b.week, r.region, r.kind,
                    COALESCE((SELECT c.text FROM request_corrections AS c WHERE c.guild_id = $1 AND c.request_id = r.id), r.text) AS text
             FROM bulletins AS b JOIN requests AS r ON r.bulletin_id = b.id
             WHERE b.week >= $2 AND b.week <= $3 AND b.guild_id IN ($1, 0) AND ",
            visible!(),
            " ORDER BY b.week DESC, r.position"
        ))
        .bind(guild.to_sql())
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(guild_request_from_row)
        .collect()
    }

    /// What `message` is, if it is a message of `guild`'s weekly posts.
    pub async fn posted_in(
        &self,
        guild: GuildId,
        message: MessageId,
    ) -> Result<Option<PostedIn>, StorageError> {
        let request: Option<Option<RequestId>> = sqlx::query_scalar(
            "SELECT request_id FROM posted_messages WHERE message_id = $1 AND guild_id = $2",
        )
        .bind(message.to_sql())
        .bind(guild.to_sql())
        .fetch_optional(&self.pool)
        .await?;
        Ok(request.map(|request| match request {
            Some(id) => PostedIn::Request(id),
            None => PostedIn::NoRequest,
        }))
    }

    /// The first message `guild`'s weekly post sent for `request`, and its
    /// channel: where a praise replies.
    pub async fn request_message(
        &self,
        guild: GuildId,
        request: RequestId,
    ) -> Result<Option<(crate::ids::ChannelId, MessageId)>, StorageError> {
        let row = sqlx::query(
            "SELECT channel_id, message_id FROM posted_messages
             WHERE guild_id = $1 AND request_id = $2 ORDER BY part, message_id LIMIT 1",
        )
        .bind(guild.to_sql())
        .bind(request.get())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok((row.try_get("channel_id")?, row.try_get("message_id")?)))
            .transpose()
    }

    /// Records a button's mark (`Commit` or `Prayed`); `false` when the
    /// member had already said so. The caller has checked that `guild`
    /// sees `request`.
    pub async fn mark(
        &self,
        guild: GuildId,
        request: RequestId,
        user: UserId,
        source: Source,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let inserted = sqlx::query(
            "INSERT INTO prayer_marks (guild_id, request_id, user_id, kind, marked_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(guild.to_sql())
        .bind(request.get())
        .bind(user.to_sql())
        .bind(source.as_str())
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// Withdraws a button's mark; `false` when there was none.
    pub async fn unmark(
        &self,
        guild: GuildId,
        request: RequestId,
        user: UserId,
        source: Source,
    ) -> Result<bool, StorageError> {
        let deleted = sqlx::query(
            "DELETE FROM prayer_marks
             WHERE guild_id = $1 AND request_id = $2 AND user_id = $3 AND kind = $4
               AND message_id = 0 AND emoji = ''",
        )
        .bind(guild.to_sql())
        .bind(request.get())
        .bind(user.to_sql())
        .bind(source.as_str())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(deleted > 0)
    }

    /// Applies a batch of 🙏 changes in one transaction. A reaction on a
    /// message that is not one of its server's request posts records
    /// nothing.
    pub async fn apply_reactions(
        &self,
        steps: &[ReactionStep],
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let mut tx = self.begin_writing().await?;
        let salt = forget_salt(&mut tx).await?;
        for step in steps {
            match step {
                ReactionStep::Add(keys) => {
                    for chunk in keys.chunks(REACTIONS_PER_STATEMENT) {
                        add_reactions(&mut tx, chunk, now).await?;
                    }
                    unforget(&mut tx, &salt, keys).await?;
                }
                ReactionStep::Remove(keys) => {
                    remove_reactions(&mut tx, keys).await?;
                    unforget(&mut tx, &salt, keys).await?;
                }
                ReactionStep::Clear {
                    guild,
                    channel,
                    message,
                    emoji,
                } => {
                    let cleared = ClearedReactions {
                        guild: *guild,
                        channel: *channel,
                        message: *message,
                        emoji: emoji.as_deref(),
                    };
                    clear_reactions(&mut tx, &cleared).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Which of `users` (seen with a 🙏 on `message` now) had one there
    /// when they used `/prayer forget-me`, with no add or remove of theirs
    /// seen on it since: reading reactions back must not record them.
    pub async fn forgotten_among(
        &self,
        guild: GuildId,
        message: MessageId,
        users: &[UserId],
    ) -> Result<HashSet<UserId>, StorageError> {
        if users.is_empty() {
            return Ok(HashSet::new());
        }
        let mut conn = self.pool.acquire().await?;
        let salt = forget_salt(&mut conn).await?;
        let hashes: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT member_hash FROM forgotten_reactions WHERE guild_id = $1 AND message_id = $2",
        )
        .bind(guild.to_sql())
        .bind(message.to_sql())
        .fetch_all(&mut *conn)
        .await?;
        if hashes.is_empty() {
            return Ok(HashSet::new());
        }
        let hashes: HashSet<Vec<u8>> = hashes.into_iter().collect();
        Ok(users
            .iter()
            .filter(|user| {
                hashes.contains(forgotten_hash(&salt, guild, message, **user).as_slice())
            })
            .copied()
            .collect())
    }

    /// Every mark `guild`'s members left on `requests`.
    pub async fn marks(
        &self,
        guild: GuildId,
        requests: &[RequestId],
    ) -> Result<Vec<Mark>, StorageError> {
        sqlx::query(concat!(
            "SELECT request_id, user_id, kind FROM prayer_marks
             WHERE guild_id = $1 AND request_id IN ",
            ids_in!("$2"),
            ""
        ))
        .bind(guild.to_sql())
        .bind(json_ids(requests.iter().map(|r| r.get())))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(mark_from_row)
        .collect()
    }

    /// Everything tracking shows about `guild`'s `week` in one statement:
    /// the marks on the requests of the bulletin the server sees for it,
    /// which of them are answered, and how many praise reports it made that
    /// week, with the server's time zone in a column of its own on that
    /// count's row. It names the week, not request
    /// ids, so a command can run it beside reading the bulletin
    /// (`/prayer week` and `/prayer stats` run it on every call).
    pub async fn week_tracking(
        &self,
        guild: GuildId,
        week: PrayerWeek,
    ) -> Result<WeekTracking, StorageError> {
        let rows = sqlx::query(concat!(
            "WITH ",
            requested_in_week!(),
            "
             SELECT 'mark' AS what, request_id, user_id, kind, NULL AS time_zone
             FROM prayer_marks
             WHERE guild_id = $1 AND request_id IN (SELECT id FROM requested)
             UNION ALL
             SELECT 'answered', request_id, 0, '', NULL FROM praises
             WHERE guild_id = $1 AND request_id IN (SELECT id FROM requested)
             UNION ALL
             SELECT 'reports', COUNT(*), 0, '',
                    (SELECT time_zone FROM guild_settings WHERE guild_id = $1)
             FROM praises
             WHERE guild_id = $1 AND week = $2 AND request_id IS NULL"
        ))
        .bind(guild.to_sql())
        .bind(week.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut tracking = WeekTracking::default();
        for row in &rows {
            let what: String = row.try_get("what")?;
            match what.as_str() {
                "mark" => tracking.marks.push(mark_from_row(row)?),
                "answered" => {
                    tracking.answered.insert(row.try_get("request_id")?);
                }
                _ => {
                    // The one `reports` row (an aggregate always gives one)
                    // also carries the zone, in its own column.
                    let count: i64 = row.try_get("request_id")?;
                    tracking.praise_reports = usize::try_from(count).unwrap_or(0);
                    let zone: Option<String> = row.try_get("time_zone")?;
                    tracking.zone = zone
                        .map(|name| {
                            name.parse::<chrono_tz::Tz>()
                                .map_err(|_| StorageError::Corrupt(format!("time zone `{name}`")))
                        })
                        .transpose()?;
                }
            }
        }
        Ok(tracking)
    }

    /// Records a praise: an answered `request`, or a report of the server
    /// when `request` is `None`. A request is answered once per server.
    pub async fn record_praise(
        &self,
        guild: GuildId,
        request: Option<RequestId>,
        week: PrayerWeek,
        author: UserId,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<PraiseOutcome, StorageError> {
        let inserted = sqlx::query(
            "INSERT INTO praises (guild_id, request_id, week, author_id, note, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(guild.to_sql())
        .bind(request.map(RequestId::get))
        .bind(week.to_string())
        .bind(author.to_sql())
        .bind(note)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(PraiseOutcome::Recorded);
        }
        let row = sqlx::query(
            "SELECT author_id, created_at FROM praises WHERE guild_id = $1 AND request_id = $2",
        )
        .bind(guild.to_sql())
        .bind(request.map(RequestId::get))
        .fetch_one(&self.pool)
        .await?;
        Ok(PraiseOutcome::AlreadyAnswered {
            by: row.try_get::<Option<UserId>, _>("author_id")?,
            at: row.try_get("created_at")?,
        })
    }

    /// Withdraws a praise recorded a moment ago, when posting it failed, so
    /// the member can try again.
    pub async fn withdraw_praise(
        &self,
        guild: GuildId,
        request: RequestId,
    ) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM praises WHERE guild_id = $1 AND request_id = $2")
            .bind(guild.to_sql())
            .bind(request.get())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Turns `/praise` mentions of `user` in `guild` on or off.
    pub async fn set_notify(
        &self,
        guild: GuildId,
        user: UserId,
        on: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let query = if on {
            sqlx::query("DELETE FROM notify_off WHERE guild_id = $1 AND user_id = $2")
        } else {
            sqlx::query(
                "INSERT INTO notify_off (guild_id, user_id, since) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
            )
        };
        query
            .bind(guild.to_sql())
            .bind(user.to_sql())
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Which of `users` turned `/praise` mentions off in `guild`.
    pub async fn notify_off(
        &self,
        guild: GuildId,
        users: &[UserId],
    ) -> Result<HashSet<UserId>, StorageError> {
        let ids: Vec<UserId> = sqlx::query_scalar(concat!(
            "SELECT user_id FROM notify_off
             WHERE guild_id = $1 AND user_id IN ",
            ids_in!("$2"),
            ""
        ))
        .bind(guild.to_sql())
        .bind(json_ids(users.iter().map(|u| u.to_sql())))
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().collect())
    }

    /// Erases what the bot holds about `user` in `guild`: their marks and
    /// notify setting; their praises stay, without their name. One
    /// transaction: all of it or none.
    pub async fn forget_member(
        &self,
        guild: GuildId,
        user: UserId,
    ) -> Result<Forgotten, StorageError> {
        let mut tx = self.begin_writing().await?;
        leave_tombstones(&mut tx, guild, user).await?;
        let forgotten = erase_member(&mut tx, guild, user).await?;
        tx.commit().await?;
        Ok(forgotten)
    }

    /// The request messages of `guild`'s post of `week`: where to read the
    /// reactions back from.
    pub async fn request_posts(
        &self,
        guild: GuildId,
        week: PrayerWeek,
    ) -> Result<Vec<(crate::ids::ChannelId, MessageId)>, StorageError> {
        sqlx::query(
            "SELECT channel_id, message_id FROM posted_messages
             WHERE guild_id = $1 AND week = $2 AND request_id IS NOT NULL ORDER BY message_id",
        )
        .bind(guild.to_sql())
        .bind(week.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("channel_id")?, row.try_get("message_id")?)))
        .collect()
    }

    /// The 🙏 reactions recorded on `message`: who, with which emoji.
    pub async fn reactions_on(
        &self,
        guild: GuildId,
        message: MessageId,
    ) -> Result<Vec<(UserId, String)>, StorageError> {
        sqlx::query(
            "SELECT user_id, emoji FROM prayer_marks
             WHERE guild_id = $1 AND kind = 'reaction' AND message_id = $2",
        )
        .bind(guild.to_sql())
        .bind(message.to_sql())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("user_id")?, row.try_get("emoji")?)))
        .collect()
    }

    /// Notes that catch-up could not read `message` of `guild`: Discord
    /// says it was `deleted`, or it kept failing (`reason`).
    pub async fn note_unread(
        &self,
        guild: GuildId,
        message: MessageId,
        deleted: bool,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO unread_messages (message_id, guild_id, state, reason, noted_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (message_id) DO UPDATE SET state = excluded.state,
                 reason = excluded.reason, noted_at = excluded.noted_at",
        )
        .bind(message.to_sql())
        .bind(guild.to_sql())
        .bind(if deleted { "deleted" } else { "unreadable" })
        .bind(reason)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// `message` was read: any problem noted for it is over.
    pub async fn clear_unread(&self, message: MessageId) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM unread_messages WHERE message_id = $1")
            .bind(message.to_sql())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The request messages of `guild`'s posts of `since` or later that
    /// catch-up could not read, in the order they were posted: for
    /// `/prayer status`.
    pub async fn unread_posts(
        &self,
        guild: GuildId,
        since: PrayerWeek,
    ) -> Result<Vec<UnreadPost>, StorageError> {
        sqlx::query(
            "SELECT u.message_id, p.channel_id, u.state, u.reason,
                    r.region AS region,
                    COALESCE((SELECT c.text FROM request_corrections AS c
                              WHERE c.guild_id = u.guild_id AND c.request_id = r.id), r.text) AS text
             FROM unread_messages AS u
             JOIN posted_messages AS p ON p.message_id = u.message_id AND p.guild_id = u.guild_id
             LEFT JOIN requests AS r ON r.id = p.request_id
             WHERE u.guild_id = $1 AND p.week >= $2
             ORDER BY p.message_id",
        )
        .bind(guild.to_sql())
        .bind(since.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            let state: String = row.try_get("state")?;
            Ok(UnreadPost {
                message: row.try_get("message_id")?,
                channel: row.try_get("channel_id")?,
                deleted: state == "deleted",
                reason: row.try_get("reason")?,
                region: row
                    .try_get::<Option<String>, _>("region")?
                    .unwrap_or_default(),
                text: row
                    .try_get::<Option<String>, _>("text")?
                    .unwrap_or_default(),
            })
        })
        .collect()
    }

    /// Drops `guild`'s tombstones and unread-message notes on messages of
    /// posts older than `since`: reactions there are never read back, so
    /// they have served.
    pub async fn prune_read_back_notes(
        &self,
        guild: GuildId,
        since: PrayerWeek,
    ) -> Result<(), StorageError> {
        let mut tx = self.begin_writing().await?;
        for sql in [
            "DELETE FROM forgotten_reactions WHERE guild_id = $1 AND message_id NOT IN
                 (SELECT message_id FROM posted_messages WHERE guild_id = $1 AND week >= $2)",
            "DELETE FROM unread_messages WHERE guild_id = $1 AND message_id NOT IN
                 (SELECT message_id FROM posted_messages WHERE guild_id = $1 AND week >= $2)",
        ] {
            sqlx::query(sql)
                .bind(guild.to_sql())
                .bind(since.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// How many marks `guild`'s members have left, of any kind (for checks
    /// that nothing was lost).
    pub async fn mark_count_in(&self, guild: GuildId) -> Result<i64, StorageError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM prayer_marks WHERE guild_id = $1")
                .bind(guild.to_sql())
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

impl Sql {
    /// `guild`'s praises of `from` and later weeks, newest first, at most
    /// `limit`: answered requests (with their post) and praise reports.
    pub async fn answered_praises(
        &self,
        guild: GuildId,
        from: PrayerWeek,
        limit: u32,
    ) -> Result<Vec<AnsweredPraise>, StorageError> {
        sqlx::query(
            "SELECT p.week, p.note, p.created_at, r.region,
                    COALESCE((SELECT c.text FROM request_corrections AS c
                              WHERE c.guild_id = p.guild_id AND c.request_id = r.id), r.text) AS text,
                    (SELECT channel_id FROM posted_messages AS m
                     WHERE m.guild_id = p.guild_id AND m.request_id = p.request_id
                     ORDER BY m.part, m.message_id LIMIT 1) AS channel_id,
                    (SELECT message_id FROM posted_messages AS m
                     WHERE m.guild_id = p.guild_id AND m.request_id = p.request_id
                     ORDER BY m.part, m.message_id LIMIT 1) AS message_id
             FROM praises AS p LEFT JOIN requests AS r ON r.id = p.request_id
             WHERE p.guild_id = $1 AND p.week >= $2
             ORDER BY p.created_at DESC, p.id DESC LIMIT $3",
        )
        .bind(guild)
        .bind(from.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(answered_from_row)
        .collect()
    }
}

fn answered_from_row(row: &DbRow) -> Result<AnsweredPraise, StorageError> {
    let region: Option<String> = row.try_get("region")?;
    let text: Option<String> = row.try_get("text")?;
    let channel: Option<ChannelId> = row.try_get("channel_id")?;
    let message: Option<MessageId> = row.try_get("message_id")?;
    Ok(AnsweredPraise {
        week: parse_week(&row.try_get::<String, _>("week")?)?,
        note: row.try_get("note")?,
        at: row.try_get("created_at")?,
        request: region.zip(text),
        message: channel.zip(message),
    })
}

/// The database's secret for the hashes of forgotten reactions (made by
/// its migration).
async fn forget_salt(conn: &mut DbConnection) -> Result<Vec<u8>, StorageError> {
    sqlx::query_scalar("SELECT value FROM database_secrets WHERE name = 'forget-me'")
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StorageError::Corrupt("the forget-me secret is missing".into()))
}

/// A member's own add or remove of a 🙏 on a message, seen live: a
/// tombstone of theirs there has served (what they do from now on counts).
async fn unforget(
    tx: &mut DbConnection,
    salt: &[u8],
    keys: &[ReactionKey],
) -> Result<(), StorageError> {
    // Most batches touch no message with a tombstone: one look finds out.
    let messages: HashSet<i64> = keys.iter().map(|k| k.message.to_sql()).collect();
    let standing: HashSet<Vec<u8>> = sqlx::query_scalar(concat!(
        "SELECT member_hash FROM forgotten_reactions
         WHERE message_id IN ",
        ids_in!("$1"),
        ""
    ))
    .bind(json_ids(messages.into_iter()))
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    if standing.is_empty() {
        return Ok(());
    }
    for key in keys {
        let hash = forgotten_hash(salt, key.guild, key.message, key.user);
        if standing.contains(hash.as_slice()) {
            sqlx::query("DELETE FROM forgotten_reactions WHERE member_hash = $1")
                .bind(hash.to_vec())
                .execute(&mut *tx)
                .await?;
        }
    }
    Ok(())
}

/// Inserts the 🙏 reactions of `keys` whose message is a request post of
/// the same server.
async fn add_reactions(
    tx: &mut DbConnection,
    keys: &[ReactionKey],
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    // `$1` is the time; each key's four values follow.
    let rows: Vec<String> = (0..keys.len())
        .map(|i| {
            let first = 4 * i + 2;
            format!("(${first}, ${}, ${}, ${})", first + 1, first + 2, first + 3)
        })
        .collect();
    let rows = rows.join(", ");
    let sql = format!(
        "WITH changed (guild_id, message_id, user_id, emoji) AS (VALUES {rows})
         INSERT INTO prayer_marks (guild_id, request_id, user_id, kind, message_id, emoji, marked_at)
         SELECT p.guild_id, p.request_id, changed.user_id, 'reaction', p.message_id, changed.emoji, $1
         FROM changed JOIN posted_messages AS p
           ON p.message_id = changed.message_id AND p.guild_id = changed.guild_id
         WHERE p.request_id IS NOT NULL
         ON CONFLICT DO NOTHING"
    );
    // Audited: the only text spliced in is `($n, …)` placeholders; every
    // value is bound.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
    for key in keys {
        query = query
            .bind(key.guild.to_sql())
            .bind(key.message.to_sql())
            .bind(key.user.to_sql())
            .bind(&key.emoji);
    }
    query.execute(&mut *tx).await?;
    Ok(())
}

/// Deletes the 🙏 reactions of `keys`, one statement each.
async fn remove_reactions(tx: &mut DbConnection, keys: &[ReactionKey]) -> Result<(), StorageError> {
    for key in keys {
        sqlx::query(
            "DELETE FROM prayer_marks
             WHERE guild_id = $1 AND user_id = $2 AND kind = 'reaction'
               AND message_id = $3 AND emoji = $4",
        )
        .bind(key.guild.to_sql())
        .bind(key.user.to_sql())
        .bind(key.message.to_sql())
        .bind(&key.emoji)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// The reactions an event cleared from one message: all of them, or one
/// emoji's.
struct ClearedReactions<'a> {
    guild: Option<GuildId>,
    channel: ChannelId,
    message: MessageId,
    emoji: Option<&'a str>,
}

/// Deletes the reactions `cleared` names, and the message's tombstones
/// when no reaction is left on it.
async fn clear_reactions(
    tx: &mut DbConnection,
    cleared: &ClearedReactions<'_>,
) -> Result<(), StorageError> {
    // The request and server come from the message as posted, and the
    // event's channel (and server, when it names one) must be the
    // message's own: a clear can only touch that message's rows in its own
    // server.
    let posted = "SELECT guild_id, request_id FROM posted_messages
                  WHERE message_id = $1 AND channel_id = $3
                    AND ($4 IS NULL OR guild_id = $4)";
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM prayer_marks
         WHERE (guild_id, request_id) IN ({posted})
           AND kind = 'reaction' AND message_id = $1
           AND ($2 IS NULL OR emoji = $2)"
    )))
    .bind(cleared.message.to_sql())
    .bind(cleared.emoji)
    .bind(cleared.channel.to_sql())
    .bind(cleared.guild.map(GuildId::to_sql))
    .execute(&mut *tx)
    .await?;
    if cleared.emoji.is_none() {
        // No reaction is left on the message: nothing of it can be read
        // back.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM forgotten_reactions
             WHERE message_id = $1
               AND guild_id IN (SELECT guild_id FROM ({posted}) AS posted)"
        )))
        .bind(cleared.message.to_sql())
        .bind(None::<String>)
        .bind(cleared.channel.to_sql())
        .bind(cleared.guild.map(GuildId::to_sql))
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Leaves a tombstone that names no one on each message where reading
/// reactions back could find a 🙏 of `user`'s in `guild`.
async fn leave_tombstones(
    tx: &mut DbConnection,
    guild: GuildId,
    user: UserId,
) -> Result<(), StorageError> {
    // The member's 🙏 are still on Discord, and reading reactions back
    // would record them again: each message they were on keeps a
    // tombstone that names no one. So does every request message of the
    // server's three latest posted weeks (what is read back), in case a
    // 🙏 of theirs there was never recorded; a later 🙏 of theirs there,
    // seen live, ends it.
    let salt = forget_salt(&mut *tx).await?;
    let messages: Vec<MessageId> = sqlx::query_scalar(
        "SELECT message_id FROM prayer_marks
         WHERE guild_id = $1 AND user_id = $2 AND kind = 'reaction'
         UNION
         SELECT message_id FROM posted_messages
         WHERE guild_id = $1 AND request_id IS NOT NULL AND week IN
             (SELECT DISTINCT week FROM posted_messages WHERE guild_id = $1
              ORDER BY week DESC LIMIT 3)",
    )
    .bind(guild.to_sql())
    .bind(user.to_sql())
    .fetch_all(&mut *tx)
    .await?;
    for message in messages {
        sqlx::query(
            "INSERT INTO forgotten_reactions (member_hash, guild_id, message_id)
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(forgotten_hash(&salt, guild, message, user).to_vec())
        .bind(guild.to_sql())
        .bind(message.to_sql())
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Deletes `user`'s marks and notification choice in `guild` and takes
/// their name off their praise reports.
async fn erase_member(
    tx: &mut DbConnection,
    guild: GuildId,
    user: UserId,
) -> Result<Forgotten, StorageError> {
    let marks = sqlx::query("DELETE FROM prayer_marks WHERE guild_id = $1 AND user_id = $2")
        .bind(guild.to_sql())
        .bind(user.to_sql())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let praises =
        sqlx::query("UPDATE praises SET author_id = NULL WHERE guild_id = $1 AND author_id = $2")
            .bind(guild.to_sql())
            .bind(user.to_sql())
            .execute(&mut *tx)
            .await?
            .rows_affected();
    let notify = sqlx::query("DELETE FROM notify_off WHERE guild_id = $1 AND user_id = $2")
        .bind(guild.to_sql())
        .bind(user.to_sql())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    Ok(Forgotten {
        marks,
        praises,
        notify: notify > 0,
        requests: 0,
    })
}

pub(super) fn guild_request_from_row(row: &DbRow) -> Result<GuildRequest, StorageError> {
    let kind: String = row.try_get("kind")?;
    let week: String = row.try_get("week")?;
    Ok(GuildRequest {
        id: row.try_get("id")?,
        week: parse_week(&week)?,
        region: row.try_get("region")?,
        kind: match kind.as_str() {
            "praise" => Kind::Praise,
            "petition" => Kind::Petition,
            other => return Err(StorageError::Corrupt(format!("request kind `{other}`"))),
        },
        text: row.try_get("text")?,
    })
}
