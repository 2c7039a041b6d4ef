-- The mid-week nudge (`/prayer setup nudge:Thursday`): the day, off when
-- NULL (as 0 = Monday .. 6 = Sunday), and when it was set (a nudge whose
-- time had passed then is not sent that week).
ALTER TABLE guild_settings ADD COLUMN nudge_weekday INTEGER
    CHECK (nudge_weekday BETWEEN 0 AND 6);
ALTER TABLE guild_settings ADD COLUMN nudge_since TEXT;

-- One row per server, week and member reminded: taken before the direct
-- message is sent, so a member is reminded once a week in every process
-- and across restarts; given back only if Discord failed on its side.
CREATE TABLE nudges (
    guild_id INTEGER NOT NULL,
    week     TEXT NOT NULL,
    user_id  INTEGER NOT NULL,
    sent_at  TEXT NOT NULL,
    PRIMARY KEY (guild_id, week, user_id)
) STRICT, WITHOUT ROWID;
