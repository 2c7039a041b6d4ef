-- The role a server's weekly header mentions (`/prayer setup role:`): the
-- only mention a weekly post makes. NULL: the header mentions no one.
ALTER TABLE guild_settings ADD COLUMN ping_role_id INTEGER;
