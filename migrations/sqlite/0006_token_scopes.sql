-- Token scopes beyond writing readings: `metrics` (the Prometheus scrape, admins only)
-- and `read` (read-only integrations). SQLite cannot alter a CHECK constraint, so the
-- table is rebuilt. Migrations run inside a transaction, where foreign keys cannot be
-- switched off, and dropping api_tokens would cascade to api_token_meters: so that table
-- is set aside first and rebuilt after, with the same rows.
CREATE TABLE api_token_meters_kept AS SELECT token_id, meter_id FROM api_token_meters;
DROP TABLE api_token_meters;

CREATE TABLE api_tokens_rebuilt (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   BLOB    NOT NULL UNIQUE,   -- SHA-256; the token itself is shown once
    prefix       TEXT    NOT NULL,          -- its first characters, to tell tokens apart
    scope        TEXT    NOT NULL CHECK (scope IN ('ingest', 'read', 'metrics')),
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
INSERT INTO api_tokens_rebuilt (id, user_id, name, token_hash, prefix, scope, created_at, last_used_at, revoked_at)
    SELECT id, user_id, name, token_hash, prefix, scope, created_at, last_used_at, revoked_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_rebuilt RENAME TO api_tokens;
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE api_token_meters (
    token_id INTEGER NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    meter_id INTEGER NOT NULL REFERENCES meters (id) ON DELETE CASCADE,
    PRIMARY KEY (token_id, meter_id)
) WITHOUT ROWID;
INSERT INTO api_token_meters (token_id, meter_id) SELECT token_id, meter_id FROM api_token_meters_kept;
DROP TABLE api_token_meters_kept;
