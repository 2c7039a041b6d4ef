-- An admin's correction of a request's text, per server: a bulletin
-- imported from the command line is shared by every server (guild_id 0), so
-- one server's correction must not change what the others see. Every read
-- of a request's text for a server takes its correction first. The request
-- itself is kept, so every prayer recorded on it stays.
CREATE TABLE request_corrections (
    guild_id     INTEGER NOT NULL,
    request_id   INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    text         TEXT NOT NULL,
    corrected_by INTEGER NOT NULL,
    corrected_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, request_id)
) STRICT, WITHOUT ROWID;

-- What admins changed after the fact (`/prayer correct`, `/prayer unpost`),
-- for `/prayer status`. The unposts of a week also count its rounds: a post
-- of the week after an unpost uses nonces of a round of its own, so Discord
-- never answers it with a deleted message of the round before.
CREATE TABLE admin_actions (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    admin_id   INTEGER NOT NULL,
    action     TEXT NOT NULL CHECK (action IN ('correct', 'unpost')),
    week       TEXT NOT NULL,
    -- What was done, in words, as `/prayer status` shows it.
    detail     TEXT NOT NULL,
    at         TEXT NOT NULL
) STRICT;

CREATE INDEX admin_actions_by_week ON admin_actions (guild_id, week, action);
