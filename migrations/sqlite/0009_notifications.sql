-- Notifications (SPEC S5): rules per meter, the episodes they fired in, and an outbox of
-- notifications and their deliveries, written in the transaction that records the
-- episode, so a crash loses nothing and a retry is recognisable by its idempotency key.

-- A meter's rules when its owner changed them (domain::alerts::AlertSettings as JSON);
-- a meter without a row has the defaults.
CREATE TABLE alert_settings (
    meter_id INTEGER PRIMARY KEY REFERENCES meters (id) ON DELETE CASCADE,
    settings TEXT    NOT NULL
);

-- A condition under way on a meter (rule 'range' or 'collector'): since when, and whether
-- it was told.
CREATE TABLE alert_state (
    meter_id INTEGER NOT NULL REFERENCES meters (id) ON DELETE CASCADE,
    rule     TEXT    NOT NULL,
    since    INTEGER NOT NULL,
    fired    INTEGER NOT NULL DEFAULT 0,
    last_ts  INTEGER NOT NULL,
    PRIMARY KEY (meter_id, rule)
) WITHOUT ROWID;

-- Each episode once per meter: the unique key is what makes a rule fire once, however
-- often and on however many instances it is evaluated.
CREATE TABLE alert_episodes (
    meter_id INTEGER NOT NULL REFERENCES meters (id) ON DELETE CASCADE,
    episode  TEXT    NOT NULL,
    fired_at INTEGER NOT NULL,
    PRIMARY KEY (meter_id, episode)
) WITHOUT ROWID;

-- One row per recipient: the meter's owner and everyone it is shared with.
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    meter_id   INTEGER REFERENCES meters (id) ON DELETE CASCADE,
    rule       TEXT    NOT NULL,
    episode    TEXT    NOT NULL,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    urgent     INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    read_at    INTEGER
);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;

-- Quiet hours (minutes of the user's local day) and whether urgent rules pass them.
CREATE TABLE notify_settings (
    user_id        INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    quiet_start    INTEGER,
    quiet_end      INTEGER,
    urgent_through INTEGER NOT NULL DEFAULT 1
);

-- One webhook per user; the secret signs each delivery and is shown once.
CREATE TABLE webhooks (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    url        TEXT    NOT NULL,
    secret     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- The outbox. Deliveries with the same (user_id, batch) go out as one request: a lone
-- notification ('n<id>'), or what quiet hours held until they ended ('digest:<until>').
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    notification_id INTEGER NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    channel         TEXT    NOT NULL CHECK (channel IN ('webhook')),
    batch           TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    first_due       INTEGER NOT NULL,
    due_at          INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    claimed_until   INTEGER NOT NULL DEFAULT 0,
    sent_at         INTEGER
);
CREATE INDEX deliveries_due ON deliveries (due_at) WHERE status = 'pending';
CREATE INDEX deliveries_batch ON deliveries (user_id, batch);

-- Every attempt, for its user to see: outcome, HTTP status, latency, the next try.
CREATE TABLE delivery_attempts (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    batch       TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    outcome     TEXT    NOT NULL,
    http_status INTEGER,
    latency_ms  INTEGER,
    next_at     INTEGER,
    error       TEXT
);
CREATE INDEX delivery_attempts_user ON delivery_attempts (user_id, id);
