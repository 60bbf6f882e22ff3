-- Readings move from a row per reading to a block per meter and UTC day (see
-- src/server/storage/codec.rs), with rollups kept beside them; plus API tokens, collection
-- sources and their attempts, the job leader lease, and resumable imports.
--
-- Block tables use an integer key `id = meter_id * 2^20 + day` as their rowid: one b-tree,
-- no separate index, and blocks up to ~4 KB stay inside their page (a WITHOUT ROWID table
-- would spill anything over ~1 KB to a whole overflow page).
-- Nothing has been released with the 0001 `readings` table, so it is dropped, not converted.

DROP TABLE readings;

CREATE TABLE reading_blocks (
    id       INTEGER PRIMARY KEY,
    meter_id INTEGER NOT NULL REFERENCES meters (id) ON DELETE CASCADE,
    day      INTEGER NOT NULL,              -- UTC day: Unix seconds / 86 400
    count    INTEGER NOT NULL,
    first_ts INTEGER NOT NULL,
    last_ts  INTEGER NOT NULL,
    data     BLOB    NOT NULL
);
CREATE INDEX reading_blocks_day ON reading_blocks (day);

-- The 96 quarter-hours and 24 hours of each UTC day that has readings.
CREATE TABLE rollup_blocks (
    id       INTEGER PRIMARY KEY,
    meter_id INTEGER NOT NULL REFERENCES meters (id) ON DELETE CASCADE,
    day      INTEGER NOT NULL,
    data     BLOB    NOT NULL
);
CREATE INDEX rollup_blocks_day ON rollup_blocks (day);

-- Local calendar days (the meter's timezone), with the quota summary of the day.
CREATE TABLE daily_rollups (
    meter_id       INTEGER NOT NULL REFERENCES meters (id) ON DELETE CASCADE,
    day            INTEGER NOT NULL,        -- local date as days since 1970-01-01
    count          INTEGER NOT NULL,
    sum            REAL    NOT NULL,
    min            REAL    NOT NULL,
    max            REAL    NOT NULL,
    first          REAL    NOT NULL,
    last           REAL    NOT NULL,
    first_ts       INTEGER NOT NULL,
    last_ts        INTEGER NOT NULL,
    last_remaining REAL,
    usage          REAL,                    -- quota meters: counter growth, resets counted from zero
    budget         REAL,                    -- quota meters: the day's budget
    pace           REAL,                    -- quota meters: pace score at the end of the day
    PRIMARY KEY (meter_id, day)
) WITHOUT ROWID;

-- Local weeks, Monday first.
CREATE TABLE weekly_rollups (
    meter_id INTEGER NOT NULL REFERENCES meters (id) ON DELETE CASCADE,
    week     INTEGER NOT NULL,              -- local date of the Monday, days since 1970-01-01
    count    INTEGER NOT NULL,
    sum      REAL    NOT NULL,
    min      REAL    NOT NULL,
    max      REAL    NOT NULL,
    first    REAL    NOT NULL,
    last     REAL    NOT NULL,
    first_ts INTEGER NOT NULL,
    last_ts  INTEGER NOT NULL,
    usage    REAL,
    PRIMARY KEY (meter_id, week)
) WITHOUT ROWID;

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   BLOB    NOT NULL UNIQUE,   -- SHA-256; the token itself is shown once
    prefix       TEXT    NOT NULL,          -- its first characters, to tell tokens apart
    scope        TEXT    NOT NULL CHECK (scope IN ('ingest')),
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE api_token_meters (
    token_id INTEGER NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    meter_id INTEGER NOT NULL REFERENCES meters (id) ON DELETE CASCADE,
    PRIMARY KEY (token_id, meter_id)
) WITHOUT ROWID;

CREATE TABLE meter_sources (
    meter_id             INTEGER PRIMARY KEY REFERENCES meters (id) ON DELETE CASCADE,
    kind                 TEXT    NOT NULL CHECK (kind IN ('http', 'simulator')),
    url                  TEXT,
    headers              TEXT    NOT NULL DEFAULT '{}',  -- JSON object of extra headers
    bearer_token         TEXT,
    used_path            TEXT,
    remaining_path       TEXT,
    quota_path           TEXT,
    scale                REAL    NOT NULL DEFAULT 1,     -- source unit → meter unit
    interval_secs        INTEGER NOT NULL DEFAULT 600,
    timeout_secs         INTEGER NOT NULL DEFAULT 30,
    enabled              INTEGER NOT NULL DEFAULT 1,
    next_due_at          INTEGER NOT NULL DEFAULT 0,
    consecutive_failures INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE collection_attempts (
    meter_id    INTEGER NOT NULL REFERENCES meters (id) ON DELETE CASCADE,
    started_at  INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,           -- 1, or 2 for the retry
    status      TEXT    NOT NULL CHECK (status IN ('success', 'failed', 'timeout', 'invalid')),
    response_ms INTEGER,
    http_status INTEGER,
    error       TEXT,
    PRIMARY KEY (meter_id, started_at, attempt)
) WITHOUT ROWID;
CREATE INDEX collection_attempts_time ON collection_attempts (started_at);

-- Who runs the collectors and scheduled jobs when several instances share a database.
CREATE TABLE leases (
    name       TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE imports (
    id            INTEGER PRIMARY KEY,
    meter_id      INTEGER NOT NULL REFERENCES meters (id) ON DELETE CASCADE,
    file_name     TEXT    NOT NULL,
    file_sha256   TEXT    NOT NULL,
    format        TEXT    NOT NULL CHECK (format IN ('legacy', 'generic')),
    total_bytes   INTEGER NOT NULL,
    done_bytes    INTEGER NOT NULL DEFAULT 0,  -- committed progress: a rerun resumes here
    rows_imported INTEGER NOT NULL DEFAULT 0,
    rows_skipped  INTEGER NOT NULL DEFAULT 0,
    status        TEXT    NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    error         TEXT,
    created_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    UNIQUE (meter_id, file_sha256)
);
