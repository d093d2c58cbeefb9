-- imgcache schema, MySQL 5.7+ / MariaDB 10.3+ form.
--
-- Both services create these tables themselves on start (this file is embedded
-- in them and run statement by statement), so loading it by hand is optional:
--
--     mysql imgcache < database/memcache.sql
--
-- Every statement is idempotent. Keep sqlite.sql beside it in step: same
-- tables, same columns in the same order (schema_test.go checks).
--
-- Choices, and why:
--   images.key is VARBINARY, not VARCHAR: keys are compared byte for byte, so
--   "a", "A" and "a " are three keys. utf8mb4_bin would fold nothing by case,
--   but it is a PAD SPACE collation, so "a" and "a " would collide. 255 is in
--   bytes, the key limit of the API.
--   Times are DATETIME(6), not TIMESTAMP: the program always writes UTC with
--   microseconds, and DATETIME has neither TIMESTAMP's 2038 limit nor its
--   implicit ON UPDATE CURRENT_TIMESTAMP on older servers.
--   cache_stats.cache_size is BIGINT: a 2000 MB cache holds more than 2^31 bytes.
--   images.sort_key orders the keys page naturally (img2 before img10): Go computes it from the key
--   (database.SortKey), as neither engine can, and the index lets the page filter and page in SQL.
--   Open adds it, with its index, to a table made before it existed.
--   images.location is indexed for the orphan sweep, which asks which objects a row names. A table
--   made before the index existed works without it, more slowly; MySQL has no CREATE INDEX IF NOT
--   EXISTS, so add it by hand there: CREATE INDEX images_location ON images (location).

CREATE TABLE IF NOT EXISTS images (
    `key`        VARBINARY(255) NOT NULL,
    location     VARCHAR(255)   NOT NULL,
    size         BIGINT         NOT NULL DEFAULT 0,
    content_type VARCHAR(64)    NOT NULL DEFAULT '',
    updated_at   DATETIME(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    sort_key     VARBINARY(512) NOT NULL DEFAULT '',
    PRIMARY KEY (`key`),
    INDEX images_location (location),
    INDEX images_sort_key (sort_key, `key`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS cache_properties (
    id                 BIGINT       NOT NULL AUTO_INCREMENT,
    max_capacity       INT          NOT NULL,
    replacement_method VARCHAR(255) NOT NULL,
    created_at         DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS cache_stats (
    id            BIGINT      NOT NULL AUTO_INCREMENT,
    cache_size    BIGINT      NOT NULL DEFAULT 0,
    key_count     INT         NOT NULL DEFAULT 0,
    request_count INT         NOT NULL DEFAULT 0,
    hit_count     INT         NOT NULL DEFAULT 0,
    miss_count    INT         NOT NULL DEFAULT 0,
    created_at    DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    node_id       BIGINT      NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    INDEX cache_stats_created_at (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The memcache pool. Each node registers itself under the URL backends reach it at, and heartbeats;
-- the active set is chosen by hand (the pool page) or by the auto-scaler.
CREATE TABLE IF NOT EXISTS memcache_nodes (
    id            BIGINT       NOT NULL AUTO_INCREMENT,
    address       VARCHAR(255) NOT NULL,
    state         VARCHAR(16)  NOT NULL DEFAULT 'active',
    capacity_mb   INT          NOT NULL DEFAULT 0,
    registered_at DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    last_seen     DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY memcache_nodes_address (address)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The auto-scaler's settings; the newest row is in force.
CREATE TABLE IF NOT EXISTS pool_settings (
    id           BIGINT      NOT NULL AUTO_INCREMENT,
    enabled      INT         NOT NULL DEFAULT 0,
    interval_ms  BIGINT      NOT NULL,
    grow_above   DOUBLE      NOT NULL,
    shrink_below DOUBLE      NOT NULL,
    grow_ratio   DOUBLE      NOT NULL,
    shrink_ratio DOUBLE      NOT NULL,
    cooldown_ms  BIGINT      NOT NULL,
    min_nodes    INT         NOT NULL,
    max_nodes    INT         NOT NULL,
    created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Every decision about the pool's size, the auto-scaler's and the ones made by hand, with its inputs.
CREATE TABLE IF NOT EXISTS pool_events (
    id         BIGINT       NOT NULL AUTO_INCREMENT,
    created_at DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    action     VARCHAR(16)  NOT NULL,
    from_nodes INT          NOT NULL,
    to_nodes   INT          NOT NULL,
    miss_rate  DOUBLE       NOT NULL DEFAULT 0,
    lookups    BIGINT       NOT NULL DEFAULT 0,
    reason     VARCHAR(255) NOT NULL DEFAULT '',
    PRIMARY KEY (id),
    INDEX pool_events_created_at (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- One row: when the auto-scaler last evaluated, so that of several backends only one acts per interval.
CREATE TABLE IF NOT EXISTS pool_lock (
    id           INT         NOT NULL,
    evaluated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
