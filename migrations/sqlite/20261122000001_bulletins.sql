-- Bulletins, each holding one prayer week, with their requests and notes.
-- Dates are ISO text (YYYY-MM-DD); a week is named by its Monday.
-- Discord ids are stored as INTEGER (u64 bits in an i64, converted in one
-- place in storage.rs).

CREATE TABLE bulletins (
    id              INTEGER PRIMARY KEY,
    -- The server the bulletin is for; 0 for every server (imported from the
    -- command line by whoever runs the bot). A server's own bulletin for a
    -- week wins over the shared one.
    guild_id        INTEGER NOT NULL DEFAULT 0,
    week            TEXT NOT NULL,
    -- SHA-256 of the normalised bulletin: the same text imported twice,
    -- whatever its line ends, BOM or file format, is found by this key.
    hash            TEXT NOT NULL,
    title           TEXT NOT NULL,
    date            TEXT,
    verse_text      TEXT,
    verse_reference TEXT,
    source          TEXT NOT NULL,
    imported_at     TEXT NOT NULL,
    UNIQUE (guild_id, week),
    UNIQUE (guild_id, hash)
) STRICT;

CREATE TABLE requests (
    id          INTEGER PRIMARY KEY,
    bulletin_id INTEGER NOT NULL REFERENCES bulletins (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    region      TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('petition', 'praise')),
    text        TEXT NOT NULL,
    -- A JSON array of country names, in the order the request names them.
    countries   TEXT NOT NULL,
    UNIQUE (bulletin_id, position)
) STRICT;

CREATE TABLE notes (
    id          INTEGER PRIMARY KEY,
    bulletin_id INTEGER NOT NULL REFERENCES bulletins (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    region      TEXT NOT NULL,
    text        TEXT NOT NULL,
    UNIQUE (bulletin_id, position)
) STRICT;
