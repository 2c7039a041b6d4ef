-- no-transaction
-- Members' own requests (`/prayer request add`). Each lives in `requests`
-- like a bulletin's, so marks, praises, `who`, `stats`, `mine` and
-- forget-me work on it unchanged. Its container is a `bulletins` row of
-- kind 'members': one per server and week, beside that week's bulletin.
--
-- Two tables are rebuilt (SQLite cannot change a constraint in place):
-- `bulletins`, whose one-bulletin-per-week rule now holds for kind
-- 'bulletin' only, and `posted_messages`, which loses its tie to
-- `week_posts` because a member's request is posted at once, before its
-- week's post may have begun. The rebuild runs with foreign keys off (as
-- SQLite's documented procedure asks: dropping a table with them on would
-- delete every request through ON DELETE CASCADE), in one transaction of
-- its own. Every row is copied with its id, so every key still holds.
PRAGMA foreign_keys = OFF;

BEGIN;

CREATE TABLE bulletins_rebuilt (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL DEFAULT 0,
    week            TEXT NOT NULL,
    hash            TEXT NOT NULL,
    title           TEXT NOT NULL,
    date            TEXT,
    verse_text      TEXT,
    verse_reference TEXT,
    source          TEXT NOT NULL,
    imported_at     TEXT NOT NULL,
    -- 'bulletin': an imported bulletin. 'members': the server's own
    -- requests of the week (never shared, guild_id is a server).
    kind            TEXT NOT NULL DEFAULT 'bulletin' CHECK (kind IN ('bulletin', 'members'))
) STRICT;

INSERT INTO bulletins_rebuilt
    (id, guild_id, week, hash, title, date, verse_text, verse_reference, source, imported_at, kind)
SELECT id, guild_id, week, hash, title, date, verse_text, verse_reference, source, imported_at,
       'bulletin'
FROM bulletins;

DROP TABLE bulletins;
ALTER TABLE bulletins_rebuilt RENAME TO bulletins;

CREATE UNIQUE INDEX bulletins_one_per_week ON bulletins (guild_id, week, kind);
CREATE UNIQUE INDEX bulletins_by_hash ON bulletins (guild_id, hash);

CREATE TABLE posted_messages_rebuilt (
    message_id INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    week       TEXT NOT NULL,
    channel_id INTEGER NOT NULL,
    request_id INTEGER REFERENCES requests (id) ON DELETE SET NULL,
    part       INTEGER NOT NULL,
    sent_at    TEXT NOT NULL
) STRICT;

INSERT INTO posted_messages_rebuilt
    (rowid, message_id, guild_id, week, channel_id, request_id, part, sent_at)
SELECT rowid, message_id, guild_id, week, channel_id, request_id, part, sent_at
FROM posted_messages;

DROP TABLE posted_messages;
ALTER TABLE posted_messages_rebuilt RENAME TO posted_messages;

CREATE INDEX posted_messages_by_week ON posted_messages (guild_id, week);
CREATE INDEX posted_messages_by_request ON posted_messages (request_id);

-- Who asked, for a member's request. `author_id` is NULL for an anonymous
-- one: then only `author_hash` (SHA-256 of a random salt, the server and
-- the member) lets its author withdraw it or erase it with forget-me.
CREATE TABLE member_requests (
    request_id   INTEGER PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    guild_id     INTEGER NOT NULL,
    -- The first request of the same `/prayer request add`: a request kept
    -- for several weeks has one row per week, all with the same series.
    series       INTEGER NOT NULL,
    author_id    INTEGER,
    author_salt  BLOB NOT NULL,
    author_hash  BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    -- Set when its author withdrew it or an admin removed it.
    withdrawn_at TEXT,
    withdrawn_by TEXT CHECK (withdrawn_by IN ('author', 'admin'))
) STRICT;

CREATE INDEX member_requests_by_series ON member_requests (guild_id, series);

COMMIT;

PRAGMA foreign_keys = ON;
