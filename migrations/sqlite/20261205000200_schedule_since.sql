-- When a server's schedule was set (its first setup, or a change that makes
-- this week's post time count from then): a post time that passed before it
-- is not posted by itself. NULL for schedules set before this column
-- existed: every post time counts, as before.
ALTER TABLE guild_settings ADD COLUMN schedule_since TEXT;
