-- Who is posting a week now, and until when: a lease, so that two bot
-- processes on one database (or a scheduler and `/prayer post`) never both
-- send the same post. The owner renews `lease_until` between messages; a
-- post whose lease has run out (its process died) may be taken over by
-- another owner. Both are NULL when nobody holds the post: a finished post,
-- one released after an error, or one begun before leases existed.
-- `lease_until` is UTC in a fixed-width form (storage/posts.rs), so comparing
-- the text compares the instants.

ALTER TABLE week_posts ADD COLUMN owner TEXT;
ALTER TABLE week_posts ADD COLUMN lease_until TEXT;
