-- imgcache schema, SQLite form (the embedded default database).
--
-- Run by Open, statement by statement, in one BEGIN IMMEDIATE transaction so
-- that two processes starting at once on a new file do not race. Keep it in
-- step with memcache.sql: same tables, same columns in the same order.
--
-- Times are TEXT in one fixed-width UTC form, 'YYYY-MM-DD HH:MM:SS.ffffff',
-- so that comparing the text compares the instants (StatsSince, PruneStats)
-- and the sqlite3 shell shows them readably. The defaults produce the same
-- form: %f is SS.SSS, and the appended 000 pads it to microseconds.
-- TEXT keys use the BINARY collation: compared byte for byte, like the
-- VARBINARY key of the MySQL form.

CREATE TABLE IF NOT EXISTS images (
    `key`        TEXT    NOT NULL PRIMARY KEY,
    location     TEXT    NOT NULL,
    size         INTEGER NOT NULL DEFAULT 0,
    content_type TEXT    NOT NULL DEFAULT '',
    updated_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')),
    sort_key     BLOB    NOT NULL DEFAULT x''
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS cache_properties (
    id                 INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    max_capacity       INTEGER NOT NULL,
    replacement_method TEXT    NOT NULL,
    created_at         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now'))
);

CREATE TABLE IF NOT EXISTS cache_stats (
    id            INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    cache_size    INTEGER NOT NULL DEFAULT 0,
    key_count     INTEGER NOT NULL DEFAULT 0,
    request_count INTEGER NOT NULL DEFAULT 0,
    hit_count     INTEGER NOT NULL DEFAULT 0,
    miss_count    INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now'))
);

CREATE INDEX IF NOT EXISTS cache_stats_created_at ON cache_stats (created_at);

-- The orphan sweep asks which objects a row names.
CREATE INDEX IF NOT EXISTS images_location ON images (location);

-- The keys page lists keys in natural order (database.SortKey), a page at a time. Open adds the
-- column to a table made before it existed, before this runs.
CREATE INDEX IF NOT EXISTS images_sort_key ON images (sort_key, `key`);
