-- The channel where the bot tells a server's admins what needs them (no
-- bulletin for the coming week, a post that failed): `/prayer setup
-- notices:#channel`. NULL: the default channel.
ALTER TABLE guild_settings ADD COLUMN notice_channel_id INTEGER;
