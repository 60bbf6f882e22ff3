-- Households and accounts (SPEC S10, S11): a family shares meters without sharing a
-- password. A user belongs to at most one household; a meter stays its owner's and is
-- shared with the owner's household as a whole (meters.household_role) or with chosen
-- members of it (meter_shares), as a viewer or an editor.

CREATE TABLE households (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

ALTER TABLE users ADD COLUMN household_id INTEGER REFERENCES households (id) ON DELETE SET NULL;
CREATE INDEX users_household ON users (household_id);

ALTER TABLE meters ADD COLUMN household_role TEXT CHECK (household_role IN ('viewer', 'editor'));

CREATE TABLE meter_shares (
    meter_id INTEGER NOT NULL REFERENCES meters (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role     TEXT    NOT NULL CHECK (role IN ('viewer', 'editor')),
    PRIMARY KEY (meter_id, user_id)
) WITHOUT ROWID;
CREATE INDEX meter_shares_user ON meter_shares (user_id);

-- Single-use links: an invitation to create an account (optionally into a household),
-- an invitation for an existing user to join a household, or a password reset. Only the
-- SHA-256 of the link's secret is kept.
CREATE TABLE invites (
    id           INTEGER PRIMARY KEY,
    token_hash   BLOB    NOT NULL UNIQUE,
    kind         TEXT    NOT NULL CHECK (kind IN ('account', 'household', 'reset')),
    created_by   INTEGER REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT    NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member')),
    household_id INTEGER REFERENCES households (id) ON DELETE CASCADE,
    user_id      INTEGER REFERENCES users (id) ON DELETE CASCADE, -- reset: whose password
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
);

-- Sessions say which device they are and when they were last used, so their owner can
-- tell them apart and sign any of them out.
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER;

ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;

-- Values the server generates once and keeps: the first-run setup code, later keys.
CREATE TABLE app_secrets (
    name       TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
