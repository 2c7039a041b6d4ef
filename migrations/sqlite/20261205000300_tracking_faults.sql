-- What tracking must remember beyond the marks themselves.

-- Secrets of this database, made once when the table is created and never
-- shown: 'forget-me' salts the hashes below.
CREATE TABLE database_secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO database_secrets (name, value) VALUES ('forget-me', randomblob(32));

-- A member's 🙏 on a message, standing when they used /prayer forget-me:
-- reading reactions back from Discord (catch-up) finds it still there and
-- must not record it again. Who reacted is kept only as a one-way hash
-- (SHA-256 of the salt, the server, the message and the member). The row
-- goes when that member's own 🙏 is added or removed on that message
-- (a new prayer counts), or when every reaction on the message is cleared.
CREATE TABLE forgotten_reactions (
    member_hash BLOB PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    message_id  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX forgotten_reactions_by_message ON forgotten_reactions (message_id);

-- Request messages catch-up could not read: still unreadable after its
-- retries, or deleted from Discord (by a moderator, say). `/prayer status`
-- names them; a later read that succeeds removes the row.
CREATE TABLE unread_messages (
    message_id INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    -- 'deleted': Discord says the message is gone; 'unreadable': it kept
    -- failing (`reason` says how).
    state      TEXT NOT NULL CHECK (state IN ('deleted', 'unreadable')),
    reason     TEXT NOT NULL,
    noted_at   TEXT NOT NULL
) STRICT;

CREATE INDEX unread_messages_by_guild ON unread_messages (guild_id);
