-- Lookups by request and by message that deleting a replaced bulletin
-- (ON DELETE CASCADE / SET NULL from `requests`) and reading reactions back
-- would otherwise do by scanning whole tables.
CREATE INDEX prayer_marks_by_request ON prayer_marks (request_id);
CREATE INDEX prayer_marks_by_message ON prayer_marks (message_id) WHERE message_id <> 0;
CREATE INDEX praises_by_request ON praises (request_id) WHERE request_id IS NOT NULL;
CREATE INDEX posted_messages_by_request ON posted_messages (request_id);
