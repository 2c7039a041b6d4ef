-- Discord allows `max_concurrency` IDENTIFYs per 5 s, one per bucket
-- (`shard % max_concurrency`), across every process of the bot. Before a
-- process identifies its shards it takes each of their buckets here, for
-- as long as its own IDENTIFYs there take; another process waits for
-- `until` to pass.
CREATE TABLE identify_leases (
    bucket INTEGER PRIMARY KEY,
    holder TEXT NOT NULL,
    until  TEXT NOT NULL
) STRICT;
