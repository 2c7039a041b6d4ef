//! Prayer tracking: the marks members leave on requests (buttons and 🙏
//! reactions), praise reports, and who asked not to be mentioned. Every
//! statement is scoped to one server.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{StorageError, Store, parse_week};
use crate::bulletins::parse::Kind;
use crate::bulletins::week::PrayerWeek;
use crate::ids::{ChannelId, GuildId, MessageId, RequestId, UserId};
use crate::tracking::{Mark, ReactionKey, ReactionStep, Source, forgotten_hash};

/// The requests a server sees: of the bulletins, its own for a week where
/// it has one, else the shared one; and its members' own requests not
/// withdrawn. `b` is the bulletin, `r` the request; the server is
/// parameter `?1`. A macro, so the statements using it stay string
/// literals.
macro_rules! visible {
    () => {
        "((b.kind = 'members' AND b.guild_id = ?1 AND NOT EXISTS
           (SELECT 1 FROM member_requests AS m
            WHERE m.request_id = r.id AND m.withdrawn_at IS NOT NULL))
          OR (b.kind = 'bulletin' AND (b.guild_id = ?1 OR (b.guild_id = 0 AND NOT EXISTS
           (SELECT 1 FROM bulletins AS own
            WHERE own.guild_id = ?1 AND own.week = b.week AND own.kind = 'bulletin')))))"
    };
}

/// A request as a server sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuildRequest {
    pub id: RequestId,
    pub week: PrayerWeek,
    pub region: String,
    pub kind: Kind,
    pub text: String,
}

impl GuildRequest {
    /// Whether members can pray for it ([`crate::bulletins::parse::is_prayable`]).
    pub fn is_prayable(&self) -> bool {
        crate::bulletins::parse::is_prayable(self.kind, &self.text)
    }
}

/// What a posted message is, for a reaction or a button press on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostedIn {
    /// A message of this request.
    Request(RequestId),
    /// A week's header, or a request whose bulletin was replaced since.
    NoRequest,
}

/// A praise, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PraiseOutcome {
    Recorded,
    /// The request was already marked answered in this server.
    AlreadyAnswered {
        by: Option<UserId>,
        at: DateTime<Utc>,
    },
}

/// What tracking shows about a week: see [`Store::week_tracking`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeekTracking {
    pub marks: Vec<Mark>,
    pub answered: HashSet<RequestId>,
    pub praise_reports: usize,
    /// The server's time zone, if it has settings: read here so a command
    /// that shows a week needs no statement of its own to learn the
    /// server's today.
    pub zone: Option<chrono_tz::Tz>,
}

/// What `/prayer forget-me` erased.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Forgotten {
    /// Commitments, prayers and reactions.
    pub marks: u64,
    /// Praises kept, now without the member's name.
    pub praises: u64,
    /// Whether a notify setting was stored.
    pub notify: bool,
    /// Requests the member asked (`/prayer request add`), deleted; set by
    /// the use-case that also edits their posts.
    pub requests: usize,
}

/// A request message catch-up could not read: see [`Store::unread_posts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadPost {
    pub message: MessageId,
    pub channel: crate::ids::ChannelId,
    /// Discord says it is gone; else it kept failing.
    pub deleted: bool,
    /// Why it could not be read, as a clause.
    pub reason: String,
    /// The request's region and text ('' if its bulletin was replaced).
    pub region: String,
    pub text: String,
}

/// Ids as a JSON array, for `IN (SELECT value FROM json_each(?))`: one
/// statement whatever the number of ids, with nothing spliced into the SQL.
fn json_ids(ids: impl Iterator<Item = i64>) -> String {
    let ids: Vec<String> = ids.map(|id| id.to_string()).collect();
    format!("[{}]", ids.join(","))
}

fn mark_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Mark, StorageError> {
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

impl Store {
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
                    COALESCE((SELECT c.text FROM request_corrections AS c WHERE c.guild_id = ?1 AND c.request_id = r.id), r.text) AS text
             FROM requests AS r JOIN bulletins AS b ON b.id = r.bulletin_id
             WHERE r.id = ?2 AND ",
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
                    COALESCE((SELECT c.text FROM request_corrections AS c WHERE c.guild_id = ?1 AND c.request_id = r.id), r.text) AS text
             FROM bulletins AS b JOIN requests AS r ON r.bulletin_id = b.id
             WHERE b.week >= ?2 AND b.week <= ?3 AND b.guild_id IN (?1, 0) AND ",
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
            "SELECT request_id FROM posted_messages WHERE message_id = ? AND guild_id = ?",
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
             WHERE guild_id = ? AND request_id = ? ORDER BY part, rowid LIMIT 1",
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
             VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
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
             WHERE guild_id = ? AND request_id = ? AND user_id = ? AND kind = ?
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
        let mut tx = self.pool.begin().await?;
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
            "SELECT member_hash FROM forgotten_reactions WHERE guild_id = ? AND message_id = ?",
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
        sqlx::query(
            "SELECT request_id, user_id, kind FROM prayer_marks
             WHERE guild_id = ? AND request_id IN (SELECT value FROM json_each(?))",
        )
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
             WHERE guild_id = ?1 AND request_id IN requested
             UNION ALL
             SELECT 'answered', request_id, 0, '', NULL FROM praises
             WHERE guild_id = ?1 AND request_id IN requested
             UNION ALL
             SELECT 'reports', COUNT(*), 0, '',
                    (SELECT time_zone FROM guild_settings WHERE guild_id = ?1)
             FROM praises
             WHERE guild_id = ?1 AND week = ?2 AND request_id IS NULL"
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
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
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
            "SELECT author_id, created_at FROM praises WHERE guild_id = ? AND request_id = ?",
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
        sqlx::query("DELETE FROM praises WHERE guild_id = ? AND request_id = ?")
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
            sqlx::query("DELETE FROM notify_off WHERE guild_id = ? AND user_id = ?")
        } else {
            sqlx::query(
                "INSERT INTO notify_off (guild_id, user_id, since) VALUES (?, ?, ?)
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
        let ids: Vec<UserId> = sqlx::query_scalar(
            "SELECT user_id FROM notify_off
             WHERE guild_id = ? AND user_id IN (SELECT value FROM json_each(?))",
        )
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
        let mut tx = self.pool.begin().await?;
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
             WHERE guild_id = ? AND week = ? AND request_id IS NOT NULL ORDER BY rowid",
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
             WHERE guild_id = ? AND kind = 'reaction' AND message_id = ?",
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
             VALUES (?, ?, ?, ?, ?)
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
        sqlx::query("DELETE FROM unread_messages WHERE message_id = ?")
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
             WHERE u.guild_id = ? AND p.week >= ?
             ORDER BY p.rowid",
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
        let mut tx = self.pool.begin().await?;
        for sql in [
            "DELETE FROM forgotten_reactions WHERE guild_id = ?1 AND message_id NOT IN
                 (SELECT message_id FROM posted_messages WHERE guild_id = ?1 AND week >= ?2)",
            "DELETE FROM unread_messages WHERE guild_id = ?1 AND message_id NOT IN
                 (SELECT message_id FROM posted_messages WHERE guild_id = ?1 AND week >= ?2)",
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
            sqlx::query_scalar("SELECT COUNT(*) FROM prayer_marks WHERE guild_id = ?")
                .bind(guild.to_sql())
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

/// A praise of a server's, as `/prayer answered` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnsweredPraise {
    pub week: PrayerWeek,
    pub note: String,
    pub at: DateTime<Utc>,
    /// The request answered (its region and text), `None` for a praise
    /// report or a request whose bulletin was replaced.
    pub request: Option<(String, String)>,
    /// The request's own post in this server, if it was posted.
    pub message: Option<(ChannelId, MessageId)>,
}

impl Store {
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
                     ORDER BY m.part, m.rowid LIMIT 1) AS channel_id,
                    (SELECT message_id FROM posted_messages AS m
                     WHERE m.guild_id = p.guild_id AND m.request_id = p.request_id
                     ORDER BY m.part, m.rowid LIMIT 1) AS message_id
             FROM praises AS p LEFT JOIN requests AS r ON r.id = p.request_id
             WHERE p.guild_id = ? AND p.week >= ?
             ORDER BY p.created_at DESC, p.id DESC LIMIT ?",
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

fn answered_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<AnsweredPraise, StorageError> {
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
async fn forget_salt(conn: &mut sqlx::SqliteConnection) -> Result<Vec<u8>, StorageError> {
    sqlx::query_scalar("SELECT value FROM database_secrets WHERE name = 'forget-me'")
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StorageError::Corrupt("the forget-me secret is missing".into()))
}

/// A member's own add or remove of a 🙏 on a message, seen live: a
/// tombstone of theirs there has served (what they do from now on counts).
async fn unforget(
    tx: &mut sqlx::SqliteConnection,
    salt: &[u8],
    keys: &[ReactionKey],
) -> Result<(), StorageError> {
    // Most batches touch no message with a tombstone: one look finds out.
    let messages: HashSet<i64> = keys.iter().map(|k| k.message.to_sql()).collect();
    let standing: HashSet<Vec<u8>> = sqlx::query_scalar(
        "SELECT member_hash FROM forgotten_reactions
         WHERE message_id IN (SELECT value FROM json_each(?))",
    )
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
            sqlx::query("DELETE FROM forgotten_reactions WHERE member_hash = ?")
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
    tx: &mut sqlx::SqliteConnection,
    keys: &[ReactionKey],
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let rows = vec!["(?, ?, ?, ?)"; keys.len()].join(", ");
    let sql = format!(
        "WITH changed (guild_id, message_id, user_id, emoji) AS (VALUES {rows})
         INSERT INTO prayer_marks (guild_id, request_id, user_id, kind, message_id, emoji, marked_at)
         SELECT p.guild_id, p.request_id, changed.user_id, 'reaction', p.message_id, changed.emoji, ?
         FROM changed JOIN posted_messages AS p
           ON p.message_id = changed.message_id AND p.guild_id = changed.guild_id
         WHERE p.request_id IS NOT NULL
         ON CONFLICT DO NOTHING"
    );
    // Audited: the only text spliced in is `(?, ?, ?, ?)` repeated; every
    // value is bound.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for key in keys {
        query = query
            .bind(key.guild.to_sql())
            .bind(key.message.to_sql())
            .bind(key.user.to_sql())
            .bind(&key.emoji);
    }
    query.bind(now).execute(&mut *tx).await?;
    Ok(())
}

/// Deletes the 🙏 reactions of `keys`, one statement each.
async fn remove_reactions(
    tx: &mut sqlx::SqliteConnection,
    keys: &[ReactionKey],
) -> Result<(), StorageError> {
    for key in keys {
        sqlx::query(
            "DELETE FROM prayer_marks
             WHERE guild_id = ? AND user_id = ? AND kind = 'reaction'
               AND message_id = ? AND emoji = ?",
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
    tx: &mut sqlx::SqliteConnection,
    cleared: &ClearedReactions<'_>,
) -> Result<(), StorageError> {
    // The request and server come from the message as posted, and the
    // event's channel (and server, when it names one) must be the
    // message's own: a clear can only touch that message's rows in its own
    // server.
    let posted = "SELECT guild_id, request_id FROM posted_messages
                  WHERE message_id = ?1 AND channel_id = ?3
                    AND (?4 IS NULL OR guild_id = ?4)";
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM prayer_marks
         WHERE (guild_id, request_id) IN ({posted})
           AND kind = 'reaction' AND message_id = ?1
           AND (?2 IS NULL OR emoji = ?2)"
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
             WHERE message_id = ?1
               AND guild_id IN (SELECT guild_id FROM ({posted}))"
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
    tx: &mut sqlx::SqliteConnection,
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
         WHERE guild_id = ?1 AND user_id = ?2 AND kind = 'reaction'
         UNION
         SELECT message_id FROM posted_messages
         WHERE guild_id = ?1 AND request_id IS NOT NULL AND week IN
             (SELECT DISTINCT week FROM posted_messages WHERE guild_id = ?1
              ORDER BY week DESC LIMIT 3)",
    )
    .bind(guild.to_sql())
    .bind(user.to_sql())
    .fetch_all(&mut *tx)
    .await?;
    for message in messages {
        sqlx::query(
            "INSERT INTO forgotten_reactions (member_hash, guild_id, message_id)
             VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
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
    tx: &mut sqlx::SqliteConnection,
    guild: GuildId,
    user: UserId,
) -> Result<Forgotten, StorageError> {
    let marks = sqlx::query("DELETE FROM prayer_marks WHERE guild_id = ? AND user_id = ?")
        .bind(guild.to_sql())
        .bind(user.to_sql())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let praises =
        sqlx::query("UPDATE praises SET author_id = NULL WHERE guild_id = ? AND author_id = ?")
            .bind(guild.to_sql())
            .bind(user.to_sql())
            .execute(&mut *tx)
            .await?
            .rows_affected();
    let notify = sqlx::query("DELETE FROM notify_off WHERE guild_id = ? AND user_id = ?")
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

pub(super) fn guild_request_from_row(
    row: &sqlx::sqlite::SqliteRow,
) -> Result<GuildRequest, StorageError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::ids::{ChannelId, GuildId, MessageId, UserId};
    use crate::storage::fixtures::*;
    use crate::tracking::ReactionChange;

    const HERE: GuildId = GUILD;
    const THERE: GuildId = GuildId::of::<7>();
    const ANN: UserId = UserId::of::<100>();
    const BOB: UserId = UserId::of::<200>();

    fn reaction(guild: GuildId, message: u64, user: UserId, emoji: &str) -> ReactionKey {
        ReactionKey {
            guild,
            channel: crate::ids::ChannelId::of::<42>(),
            message: MessageId::try_new(message).expect("ids are not 0"),
            user,
            emoji: emoji.to_owned(),
        }
    }

    async fn apply(store: &Store, changes: Vec<ReactionChange>) -> Result<(), StorageError> {
        store
            .apply_reactions(&crate::tracking::coalesce(changes), now())
            .await
    }

    #[tokio::test]
    async fn a_button_mark_is_recorded_once_and_undone() -> Result<(), StorageError> {
        let store = store().await;
        let ids = posted(&store).await?;
        assert!(store.mark(HERE, ids[0], ANN, Source::Commit, now()).await?);
        assert!(!store.mark(HERE, ids[0], ANN, Source::Commit, now()).await?);
        assert!(store.mark(HERE, ids[0], ANN, Source::Prayed, now()).await?);
        assert_eq!(store.marks(HERE, &ids).await?.len(), 2);
        assert!(store.unmark(HERE, ids[0], ANN, Source::Commit).await?);
        assert!(!store.unmark(HERE, ids[0], ANN, Source::Commit).await?);
        assert_eq!(
            store.marks(HERE, &ids).await?,
            [Mark {
                request: ids[0],
                user: ANN,
                source: Source::Prayed
            }]
        );
        assert_eq!(store.marks(THERE, &ids).await?, []);
        Ok(())
    }

    #[tokio::test]
    async fn reactions_count_only_on_this_servers_request_posts() -> Result<(), StorageError> {
        let store = store().await;
        let ids = posted(&store).await?;
        apply(
            &store,
            vec![
                ReactionChange::Added(reaction(HERE, 500, ANN, "🙏")),
                ReactionChange::Added(reaction(HERE, 500, ANN, "🙏🏽")),
                ReactionChange::Added(reaction(HERE, 499, BOB, "🙏")), // the header
                ReactionChange::Added(reaction(HERE, 777, BOB, "🙏")), // not a post
                ReactionChange::Added(reaction(THERE, 500, BOB, "🙏")), // another server
            ],
        )
        .await?;
        assert_eq!(store.mark_count_in(HERE).await?, 2);
        assert_eq!(store.mark_count_in(THERE).await?, 0);
        assert_eq!(
            store.request_posts(HERE, week("2026-11-23")).await?,
            [(crate::ids::ChannelId::of::<42>(), MessageId::of::<500>())]
        );
        let mut on = store.reactions_on(HERE, MessageId::of::<500>()).await?;
        on.sort();
        assert_eq!(on, [(ANN, "🙏".to_owned()), (ANN, "🙏🏽".to_owned())]);
        assert_eq!(store.reactions_on(THERE, MessageId::of::<500>()).await?, []);
        apply(
            &store,
            vec![ReactionChange::Removed(reaction(HERE, 500, ANN, "🙏"))],
        )
        .await?;
        let marks = store.marks(HERE, &ids).await?;
        assert_eq!(marks.len(), 1, "the skin-tone reaction stays: {marks:?}");
        apply(
            &store,
            vec![ReactionChange::Cleared {
                guild: Some(HERE),
                channel: crate::ids::ChannelId::of::<42>(),
                message: MessageId::of::<500>(),
                emoji: None,
            }],
        )
        .await?;
        assert_eq!(store.mark_count_in(HERE).await?, 0);
        Ok(())
    }

    #[tokio::test]
    async fn a_server_sees_only_its_own_requests() -> Result<(), StorageError> {
        let store = store().await;
        let ids = posted(&store).await?;
        let w = week("2026-11-23");
        let seen = store.guild_request(HERE, ids[0]).await?.expect("seen");
        assert_eq!((seen.week, seen.region.as_str()), (w, "Africa"));
        // THERE has its own bulletin for the week: the shared one is not its.
        put(
            &store,
            Scope::Guild(GuildId::of::<7>()),
            TWO,
            Placement::Exactly(w),
        )
        .await?;
        assert_eq!(store.guild_request(THERE, ids[0]).await?, None);
        let own = store.guild_requests(THERE, w, w).await?;
        assert_eq!(own.len(), 1);
        assert_eq!(store.guild_request(HERE, own[0].id).await?, None);
        assert_eq!(store.guild_requests(HERE, w, w).await?.len(), ids.len());
        assert_eq!(
            store.posted_in(HERE, MessageId::of::<500>()).await?,
            Some(PostedIn::Request(ids[0]))
        );
        assert_eq!(
            store.posted_in(HERE, MessageId::of::<499>()).await?,
            Some(PostedIn::NoRequest)
        );
        assert_eq!(store.posted_in(THERE, MessageId::of::<500>()).await?, None);
        Ok(())
    }

    #[tokio::test]
    async fn a_request_is_answered_once_per_server() -> Result<(), StorageError> {
        let store = store().await;
        let ids = posted(&store).await?;
        let w = week("2026-11-23");
        let praise = |guild, request| store.record_praise(guild, request, w, ANN, "Thanks!", now());
        assert_eq!(praise(HERE, Some(ids[0])).await?, PraiseOutcome::Recorded);
        assert_eq!(
            praise(HERE, Some(ids[0])).await?,
            PraiseOutcome::AlreadyAnswered {
                by: Some(ANN),
                at: now()
            }
        );
        assert_eq!(praise(THERE, Some(ids[0])).await?, PraiseOutcome::Recorded);
        assert_eq!(praise(HERE, None).await?, PraiseOutcome::Recorded);
        assert_eq!(praise(HERE, None).await?, PraiseOutcome::Recorded);
        store.mark(HERE, ids[1], BOB, Source::Commit, now()).await?;
        let tracking = store.week_tracking(HERE, w).await?;
        assert_eq!(tracking.answered, HashSet::from([ids[0]]));
        assert_eq!(tracking.praise_reports, 2);
        assert_eq!(tracking.marks.len(), 1);
        assert_eq!(store.week_tracking(THERE, w).await?.praise_reports, 0);
        assert_eq!(tracking.zone, None, "no settings: the caller's default");
        let sydney = crate::schedule::Schedule {
            zone: chrono_tz::Australia::Sydney,
            ..crate::schedule::Schedule::default()
        };
        store.set_schedule(HERE, &sydney, now()).await?;
        assert_eq!(
            store.week_tracking(HERE, w).await?.zone,
            Some(chrono_tz::Australia::Sydney)
        );
        // A week with no bulletin, marks or praise still reads the zone.
        assert_eq!(
            store.week_tracking(HERE, week("2030-01-07")).await?.zone,
            Some(chrono_tz::Australia::Sydney)
        );
        Ok(())
    }

    #[tokio::test]
    async fn forgetting_a_member_erases_them_in_one_server_only() -> Result<(), StorageError> {
        let store = store().await;
        let ids = posted(&store).await?;
        let w = week("2026-11-23");
        for guild in [HERE, THERE] {
            store
                .mark(guild, ids[0], ANN, Source::Commit, now())
                .await?;
            store.set_notify(guild, ANN, false, now()).await?;
        }
        store.mark(HERE, ids[0], BOB, Source::Commit, now()).await?;
        apply(
            &store,
            vec![ReactionChange::Added(reaction(HERE, 500, ANN, "🙏"))],
        )
        .await?;
        store
            .record_praise(HERE, Some(ids[0]), w, ANN, "Answered!", now())
            .await?;
        assert_eq!(
            store.notify_off(HERE, &[ANN, BOB]).await?,
            HashSet::from([ANN])
        );
        let forgotten = store.forget_member(HERE, ANN).await?;
        assert_eq!(
            forgotten,
            Forgotten {
                marks: 2,
                praises: 1,
                notify: true,
                requests: 0,
            }
        );
        assert_eq!(
            store.marks(HERE, &ids).await?,
            [Mark {
                request: ids[0],
                user: BOB,
                source: Source::Commit
            }]
        );
        assert_eq!(store.notify_off(HERE, &[ANN]).await?, HashSet::new());
        assert_eq!(
            store
                .record_praise(HERE, Some(ids[0]), w, BOB, "x", now())
                .await?,
            PraiseOutcome::AlreadyAnswered {
                by: None,
                at: now()
            },
            "the praise stays, without its author"
        );
        assert_eq!(store.marks(THERE, &ids).await?.len(), 1);
        // Each server's count is its own.
        assert_eq!(store.mark_count_in(HERE).await?, 1);
        assert_eq!(store.mark_count_in(THERE).await?, 1);
        assert_eq!(store.notify_off(THERE, &[ANN]).await?, HashSet::from([ANN]));
        Ok(())
    }

    #[tokio::test]
    async fn a_forgotten_reaction_is_not_read_back_until_the_member_reacts_again()
    -> Result<(), StorageError> {
        let store = store().await;
        posted(&store).await?; // the first request's message is 500
        let message = MessageId::of::<500>();
        apply(
            &store,
            vec![ReactionChange::Added(reaction(HERE, 500, ANN, "🙏"))],
        )
        .await?;
        assert_eq!(
            store.forgotten_among(HERE, message, &[ANN, BOB]).await?,
            HashSet::new()
        );
        store.forget_member(HERE, ANN).await?;
        assert_eq!(store.mark_count_in(HERE).await?, 0);
        assert_eq!(
            store.forgotten_among(HERE, message, &[ANN, BOB]).await?,
            HashSet::from([ANN])
        );
        assert_eq!(
            store.forgotten_among(THERE, message, &[ANN]).await?,
            HashSet::new()
        );
        // Nothing stored names the member.
        let stored: Vec<(Vec<u8>, i64, i64)> =
            sqlx::query_as("SELECT member_hash, guild_id, message_id FROM forgotten_reactions")
                .fetch_all(&store.pool)
                .await?;
        assert_eq!(stored.len(), 1);
        assert!(
            !stored
                .iter()
                .any(|(_, g, m)| *g == ANN.to_sql() || *m == ANN.to_sql())
        );
        // Their own 🙏 added again, live: it counts, and the tombstone goes.
        apply(
            &store,
            vec![ReactionChange::Added(reaction(HERE, 500, ANN, "🙏🏽"))],
        )
        .await?;
        assert_eq!(store.mark_count_in(HERE).await?, 1);
        assert_eq!(
            store.forgotten_among(HERE, message, &[ANN]).await?,
            HashSet::new()
        );
        // Forgotten again, then a clear of every reaction on the message:
        // nothing is left to read back.
        store.forget_member(HERE, ANN).await?;
        assert_eq!(store.forgotten_among(HERE, message, &[ANN]).await?.len(), 1);
        apply(
            &store,
            vec![ReactionChange::Cleared {
                guild: Some(HERE),
                channel: crate::ids::ChannelId::of::<42>(),
                message,
                emoji: None,
            }],
        )
        .await?;
        assert_eq!(
            store.forgotten_among(HERE, message, &[ANN]).await?,
            HashSet::new()
        );
        // A tombstone on a week no longer read back is dropped.
        apply(
            &store,
            vec![ReactionChange::Added(reaction(HERE, 500, ANN, "🙏"))],
        )
        .await?;
        store.forget_member(HERE, ANN).await?;
        store
            .prune_read_back_notes(HERE, week("2026-11-23"))
            .await?;
        assert_eq!(store.forgotten_among(HERE, message, &[ANN]).await?.len(), 1);
        store
            .prune_read_back_notes(HERE, week("2026-11-30"))
            .await?;
        assert_eq!(
            store.forgotten_among(HERE, message, &[ANN]).await?,
            HashSet::new()
        );
        // A member with no 🙏 recorded gets tombstones on the latest weeks'
        // request messages all the same (one of theirs may have been missed).
        store.forget_member(HERE, BOB).await?;
        assert_eq!(
            store.forgotten_among(HERE, message, &[BOB]).await?,
            HashSet::from([BOB])
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_clear_touches_only_a_message_of_its_own_channel_and_server()
    -> Result<(), StorageError> {
        let store = store().await;
        posted(&store).await?; // message 500, in channel 42
        apply(
            &store,
            vec![ReactionChange::Added(reaction(HERE, 500, ANN, "🙏"))],
        )
        .await?;
        let clear = |guild, channel| ReactionChange::Cleared {
            guild,
            channel: crate::ids::ChannelId::try_new(channel).expect("ids are not 0"),
            message: MessageId::of::<500>(),
            emoji: None,
        };
        apply(&store, vec![clear(Some(THERE), 42)]).await?;
        apply(&store, vec![clear(None, 43)]).await?;
        apply(&store, vec![clear(Some(HERE), 43)]).await?;
        assert_eq!(
            store.mark_count_in(HERE).await?,
            1,
            "another server's clear changes nothing"
        );
        apply(&store, vec![clear(None, 42)]).await?;
        assert_eq!(store.mark_count_in(HERE).await?, 0);
        Ok(())
    }

    #[tokio::test]
    async fn an_unread_message_is_listed_until_it_is_read() -> Result<(), StorageError> {
        let store = store().await;
        posted(&store).await?; // message 500 of the week of 2026-11-23
        let message = MessageId::of::<500>();
        store
            .note_unread(HERE, message, true, "gone", now())
            .await?;
        let listed = store.unread_posts(HERE, week("2026-11-16")).await?;
        assert_eq!(listed.len(), 1);
        assert!(listed[0].deleted);
        assert_eq!(listed[0].region, "Africa");
        assert_eq!(store.unread_posts(THERE, week("2026-11-16")).await?, []);
        assert_eq!(
            store.unread_posts(HERE, week("2026-11-30")).await?,
            [],
            "a week over"
        );
        store
            .note_unread(HERE, message, false, "Discord answered 500", now())
            .await?;
        let listed = store.unread_posts(HERE, week("2026-11-23")).await?;
        assert!(!listed[0].deleted);
        store.clear_unread(message).await?;
        assert_eq!(store.unread_posts(HERE, week("2026-11-16")).await?, []);
        Ok(())
    }
}
