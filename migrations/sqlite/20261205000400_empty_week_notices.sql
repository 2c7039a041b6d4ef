-- The admins of a server were told, a day before an automatic post, that
-- its week had no bulletin yet: one row per server and week, taken before
-- the notice is sent (so two processes never both send it) and given back
-- if the notice could not be sent. Rows of weeks long past are harmless.
CREATE TABLE empty_week_notices (
    guild_id INTEGER NOT NULL,
    week     TEXT NOT NULL,
    told_at  TEXT NOT NULL,
    PRIMARY KEY (guild_id, week)
) STRICT, WITHOUT ROWID;
