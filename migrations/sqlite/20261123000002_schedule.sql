-- When each server's weekly post goes out, and what went wrong with it.

-- The schedule, in the server's own time zone. A server without a row (no
-- channel set up yet) has the defaults and nowhere to post.
ALTER TABLE guild_settings ADD COLUMN post_weekday INTEGER NOT NULL DEFAULT 0
    CHECK (post_weekday BETWEEN 0 AND 6);          -- 0 = Monday … 6 = Sunday
ALTER TABLE guild_settings ADD COLUMN post_time TEXT NOT NULL DEFAULT '09:00';  -- HH:MM
ALTER TABLE guild_settings ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';    -- IANA name
ALTER TABLE guild_settings ADD COLUMN auto_post INTEGER NOT NULL DEFAULT 1
    CHECK (auto_post IN (0, 1));

-- A weekly post that failed, kept for /prayer status; `announced_at` is set
-- once the admins were told in the default channel, so they are told once.
CREATE TABLE post_problems (
    guild_id     INTEGER NOT NULL,
    week         TEXT NOT NULL,
    problem      TEXT NOT NULL,
    failed_at    TEXT NOT NULL,
    announced_at TEXT,
    PRIMARY KEY (guild_id, week)
) STRICT;
