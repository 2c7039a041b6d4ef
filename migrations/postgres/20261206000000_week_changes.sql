-- A server's weeks changed: a bulletin it sees, a prayer, a praise, a
-- member's request, a correction, or its settings (its time zone decides
-- its week). Each process keeps the weeks members read in memory
-- (`storage/cache.rs`) and listens on this channel to forget what another
-- process changed; Postgres delivers the notice when the change commits.
-- The channel is named after the schema (`storage/feed.rs` names it the
-- same way), so databases in two schemas of one server do not hear each
-- other. The payload is the server's id; 0 is every server (a shared
-- bulletin).
CREATE FUNCTION week_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('prayer_bot_weeks_' || md5(current_schema()), OLD.guild_id::text);
    ELSE
        PERFORM pg_notify('prayer_bot_weeks_' || md5(current_schema()), NEW.guild_id::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER bulletins_change_weeks AFTER INSERT OR UPDATE OR DELETE ON bulletins
    FOR EACH ROW EXECUTE FUNCTION week_changed();

CREATE TRIGGER prayer_marks_change_weeks AFTER INSERT OR UPDATE OR DELETE ON prayer_marks
    FOR EACH ROW EXECUTE FUNCTION week_changed();

CREATE TRIGGER praises_change_weeks AFTER INSERT OR UPDATE OR DELETE ON praises
    FOR EACH ROW EXECUTE FUNCTION week_changed();

CREATE TRIGGER member_requests_change_weeks AFTER INSERT OR UPDATE OR DELETE ON member_requests
    FOR EACH ROW EXECUTE FUNCTION week_changed();

CREATE TRIGGER request_corrections_change_weeks AFTER INSERT OR UPDATE OR DELETE ON request_corrections
    FOR EACH ROW EXECUTE FUNCTION week_changed();

CREATE TRIGGER guild_settings_change_weeks AFTER INSERT OR UPDATE OR DELETE ON guild_settings
    FOR EACH ROW EXECUTE FUNCTION week_changed();
