-- The weekly recap (`/prayer setup recap:Sunday`): the weekday it is posted
-- on (0 = Monday … 6 = Sunday; NULL: no recap, the default) and when an
-- admin chose it (a recap time that passed before then is not posted).
ALTER TABLE guild_settings ADD COLUMN recap_weekday INTEGER
    CHECK (recap_weekday BETWEEN 0 AND 6);
ALTER TABLE guild_settings ADD COLUMN recap_since TEXT;

-- A week's recap of a server: one row per server and week, taken before
-- the recap is sent (so two processes never both send it) and given back
-- if it could not be sent.
CREATE TABLE recaps (
    guild_id  INTEGER NOT NULL,
    week      TEXT NOT NULL,
    posted_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, week)
) STRICT, WITHOUT ROWID;
