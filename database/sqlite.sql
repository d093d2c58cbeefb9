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
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')),
    node_id       INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX IF NOT EXISTS cache_stats_created_at ON cache_stats (created_at);

-- The orphan sweep asks which objects a row names.
CREATE INDEX IF NOT EXISTS images_location ON images (location);

-- The keys page lists keys in natural order (database.SortKey), a page at a time. Open adds the
-- column to a table made before it existed, before this runs.
CREATE INDEX IF NOT EXISTS images_sort_key ON images (sort_key, `key`);

-- The memcache pool: see memcache.sql.
CREATE TABLE IF NOT EXISTS memcache_nodes (
    id            INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    address       TEXT    NOT NULL UNIQUE,
    state         TEXT    NOT NULL DEFAULT 'active',
    capacity_mb   INTEGER NOT NULL DEFAULT 0,
    registered_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')),
    last_seen     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now'))
);

CREATE TABLE IF NOT EXISTS pool_settings (
    id           INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    enabled      INTEGER NOT NULL DEFAULT 0,
    interval_ms  INTEGER NOT NULL,
    grow_above   REAL    NOT NULL,
    shrink_below REAL    NOT NULL,
    grow_ratio   REAL    NOT NULL,
    shrink_ratio REAL    NOT NULL,
    cooldown_ms  INTEGER NOT NULL,
    min_nodes    INTEGER NOT NULL,
    max_nodes    INTEGER NOT NULL,
    created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now'))
);

CREATE TABLE IF NOT EXISTS pool_events (
    id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')),
    action     TEXT    NOT NULL,
    from_nodes INTEGER NOT NULL,
    to_nodes   INTEGER NOT NULL,
    miss_rate  REAL    NOT NULL DEFAULT 0,
    lookups    INTEGER NOT NULL DEFAULT 0,
    reason     TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX IF NOT EXISTS pool_events_created_at ON pool_events (created_at);

CREATE TABLE IF NOT EXISTS pool_lock (
    id           INTEGER NOT NULL PRIMARY KEY,
    evaluated_at TEXT    NOT NULL
);
