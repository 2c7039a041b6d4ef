-- Prayer tracking: what members said about each request, praise reports,
-- and who asked not to be mentioned. Everything is per server (guild_id):
-- a shared bulletin's request is prayed for separately in each server.

-- One row per thing a member said about a request. A member counts once per
-- request however many rows they have; a row goes when what made it is
-- undone (the Undo button, the reaction removed, /prayer forget-me).
CREATE TABLE prayer_marks (
    guild_id   INTEGER NOT NULL,
    request_id INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    -- 'commit': I'll pray. 'prayed': the Prayed button. 'reaction': a 🙏
    -- (any skin tone) on one of the request's messages.
    kind       TEXT NOT NULL CHECK (kind IN ('commit', 'prayed', 'reaction')),
    -- For a reaction, the message and the exact emoji it is on (a member may
    -- react on two parts of a request, or with two skin tones); 0 and ''
    -- for a button.
    message_id INTEGER NOT NULL DEFAULT 0,
    emoji      TEXT NOT NULL DEFAULT '',
    marked_at  TEXT NOT NULL,
    PRIMARY KEY (guild_id, request_id, user_id, kind, message_id, emoji)
) STRICT, WITHOUT ROWID;

CREATE INDEX prayer_marks_by_member ON prayer_marks (guild_id, user_id);

-- An answered prayer (request_id set) or a praise report of the server.
CREATE TABLE praises (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    -- NULL for a praise report not tied to a request, or once the
    -- request's bulletin has been replaced.
    request_id  INTEGER REFERENCES requests (id) ON DELETE SET NULL,
    -- The prayer week it counts in: the request's week, else the week it
    -- was reported in.
    week        TEXT NOT NULL,
    -- NULL once its author used /prayer forget-me: the praise stays,
    -- without their name.
    author_id   INTEGER,
    note        TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

-- A request is answered once per server.
CREATE UNIQUE INDEX praises_one_per_request ON praises (guild_id, request_id)
    WHERE request_id IS NOT NULL;
CREATE INDEX praises_by_week ON praises (guild_id, week);
CREATE INDEX praises_by_author ON praises (guild_id, author_id);

-- Members who said /prayer notify off. Absent means on.
CREATE TABLE notify_off (
    guild_id INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    since    TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) STRICT, WITHOUT ROWID;
