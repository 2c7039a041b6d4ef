-- A server's weeks changed: a bulletin it sees, a prayer, a praise, a
-- member's request, a correction, or its settings (its time zone decides
-- its week). Each process keeps the weeks members read in memory
-- (`storage/cache.rs`) and reads these rows every 100 ms to forget what
-- another process (the CLI's import, another bot process) changed.
-- `guild_id` 0 is every server: a shared bulletin. SQLite writes one
-- transaction at a time, so `seq` grows in the order changes commit.
-- Rows older than ten minutes are deleted by the processes reading them.
CREATE TABLE week_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id   INTEGER NOT NULL,
    changed_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);

CREATE TRIGGER bulletins_insert_changes_week AFTER INSERT ON bulletins
BEGIN
    INSERT INTO week_changes (guild_id) VALUES (NEW.guild_id);
END;

CREATE TRIGGER bulletins_update_changes_week AFTER UPDATE ON bulletins
BEGIN
    INSERT INTO week_changes (guild_id) VALUES (NEW.guild_id);
END;

CREATE TRIGGER bulletins_delete_changes_week AFTER DELETE ON bulletins
BEGIN
    INSERT INTO week_changes (guild_id) VALUES (OLD.guild_id);
END;

CREATE TRIGGER prayer_marks_insert_changes_week AFTER INSERT ON prayer_marks
BEGIN
    INSERT INTO week_changes (guild_id) VALUES (NEW.guild_id);
END;

CREATE TRIGGER prayer_marks_update_changes_week AFTER UPDATE ON prayer_marks
BEGIN
    INSERT INTO week_changes (guild_id) VALUES (NEW.guild_id);
END;

CREATE TRIGGER prayer_marks_delete_changes_week AFTER DELETE ON prayer_marks
BEGIN
    INSERT INTO week_changes (guild_id) VALUES (OLD.guild_id);
END;

CREATE TRIGGER praises_insert_changes_week AFTER INSERT ON praises
BEGIN
    INSERT INTO week_changes (guild_id) VALUES (NEW.guild_id);
END;

CREATE TRIGGER praises_update_changes_week AFTER UPDATE ON praises
BEGIN
    INSERT INTO week_changes (guild_id) VALUES (NEW.guild_id);
END;

CREATE TRIGGER praises_delete_changes_week AFTER DELETE ON praises
BEGIN
    INSERT INTO week_changes (guild_id) VALUES (OLD.guild_id);
END;

CREATE TRIGGER member_requests_insert_changes_week AFTER INSERT ON member_requests
BEGIN
    INSERT INTO week_changes (guild_id) VALUES (NEW.guild_id);
END;

CREATE TRIGGER member_requests_update_changes_week AFTER UPDATE ON member_requests
BEGIN
    INSERT INTO week_changes (guild_id) VALUES (NEW.guild_id);
END;

CREATE TRIGGER member_requests_delete_changes_week AFTER DELETE ON member_requests
BEGIN
    INSERT INTO week_changes (guild_id) VALUES (OLD.guild_id);
END;

CREATE TRIGGER request_corrections_insert_changes_week AFTER INSERT ON request_corrections
BEGIN
    INSERT INTO week_changes (guild_id) VALUES (NEW.guild_id);
END;

CREATE TRIGGER request_corrections_update_changes_week AFTER UPDATE ON request_corrections
BEGIN
    INSERT INTO week_changes (guild_id) VALUES (NEW.guild_id);
END;

CREATE TRIGGER request_corrections_delete_changes_week AFTER DELETE ON request_corrections
BEGIN
    INSERT INTO week_changes (guild_id) VALUES (OLD.guild_id);
END;

CREATE TRIGGER guild_settings_insert_changes_week AFTER INSERT ON guild_settings
BEGIN
    INSERT INTO week_changes (guild_id) VALUES (NEW.guild_id);
END;

CREATE TRIGGER guild_settings_update_changes_week AFTER UPDATE ON guild_settings
BEGIN
    INSERT INTO week_changes (guild_id) VALUES (NEW.guild_id);
END;

CREATE TRIGGER guild_settings_delete_changes_week AFTER DELETE ON guild_settings
BEGIN
    INSERT INTO week_changes (guild_id) VALUES (OLD.guild_id);
END;
