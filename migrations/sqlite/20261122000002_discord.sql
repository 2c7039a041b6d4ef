-- Where each server wants its posts, and what has been posted.

CREATE TABLE guild_settings (
    guild_id           INTEGER PRIMARY KEY,
    default_channel_id INTEGER,
    updated_at         TEXT NOT NULL
) STRICT;

-- A region routed to a channel of its own; the rest go to the default channel.
CREATE TABLE region_channels (
    guild_id   INTEGER NOT NULL,
    region     TEXT NOT NULL COLLATE NOCASE,
    channel_id INTEGER NOT NULL,
    PRIMARY KEY (guild_id, region)
) STRICT;

-- One row per server and week once a post of that week has begun: the claim
-- that keeps a week from being posted twice.
CREATE TABLE week_posts (
    guild_id    INTEGER NOT NULL,
    week        TEXT NOT NULL,
    -- NULL once a forced import has replaced the posted bulletin.
    bulletin_id INTEGER REFERENCES bulletins (id) ON DELETE SET NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    PRIMARY KEY (guild_id, week)
) STRICT;

-- Every message a weekly post sent, so reactions and button presses map back
-- to their request. `request_id` is NULL for a channel's header message.
CREATE TABLE posted_messages (
    message_id INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    week       TEXT NOT NULL,
    channel_id INTEGER NOT NULL,
    request_id INTEGER REFERENCES requests (id) ON DELETE SET NULL,
    part       INTEGER NOT NULL,
    sent_at    TEXT NOT NULL,
    FOREIGN KEY (guild_id, week) REFERENCES week_posts (guild_id, week)
) STRICT;

CREATE INDEX posted_messages_by_week ON posted_messages (guild_id, week);
