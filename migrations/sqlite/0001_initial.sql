-- The spine of SPEC S1 and S10: users and their sessions, meters and their readings.
-- Times are Unix seconds (INTEGER) in both backends: compact, free of timezone
-- ambiguity, and it lets one SQL text serve SQLite and PostgreSQL alike.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    -- stored lower-cased by the application, so uniqueness is case-insensitive
    email         TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,          -- argon2id PHC string
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'member')),
    plan_tier     TEXT    NOT NULL DEFAULT 'mid'
                  CHECK (plan_tier IN ('budget', 'mid', 'professional', 'enterprise')),
    location      TEXT    NOT NULL DEFAULT '', -- free text region, groups peers
    timezone      TEXT    NOT NULL DEFAULT 'UTC',
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER
);

CREATE TABLE sessions (
    -- SHA-256 of the cookie value: a stolen database does not yield usable cookies
    token_hash BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE meters (
    id          INTEGER PRIMARY KEY,
    owner_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('quota', 'sensor')),
    name        TEXT    NOT NULL,
    unit        TEXT    NOT NULL,
    timezone    TEXT    NOT NULL,
    quota       REAL,                        -- quota meters: amount per period
    reset_rule  TEXT,                        -- quota meters: see domain::period::ResetRule
    range_min   REAL,                        -- sensors: optional normal range
    range_max   REAL,
    position    INTEGER NOT NULL DEFAULT 0,  -- display order; the first quota meter is primary
    created_at  INTEGER NOT NULL,
    archived_at INTEGER,
    CHECK (kind = 'sensor' OR (quota IS NOT NULL AND reset_rule IS NOT NULL))
);
CREATE INDEX meters_owner ON meters (owner_id, position);

-- One row per (meter, instant): re-sending a reading can never duplicate it.
-- WITHOUT ROWID clusters rows by the key, so "latest reading before T" is one seek.
CREATE TABLE readings (
    meter_id  INTEGER NOT NULL REFERENCES meters (id) ON DELETE CASCADE,
    ts        INTEGER NOT NULL,
    value     REAL    NOT NULL,
    remaining REAL,                          -- only when the source reports it
    PRIMARY KEY (meter_id, ts)
) WITHOUT ROWID;
