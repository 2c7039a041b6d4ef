-- `/prayer setup threads:true`: the week's header opens a thread where the
-- group can talk about the week (0 off, 1 on; off by default).
ALTER TABLE guild_settings ADD COLUMN week_threads INTEGER NOT NULL DEFAULT 0
    CHECK (week_threads IN (0, 1));
