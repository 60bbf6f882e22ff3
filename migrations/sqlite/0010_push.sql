-- Web Push (SPEC S5): the devices a user asked to be notified on, and 'push' as a second
-- delivery channel of the outbox.

-- One row per browser subscription (PushManager.subscribe): where to post (endpoint,
-- unique: a browser has one per origin) and the keys that encrypt for it (RFC 8291).
CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint   TEXT    NOT NULL UNIQUE,
    p256dh     TEXT    NOT NULL,
    auth       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id, id);

-- deliveries.channel allowed only 'webhook', and SQLite cannot alter a CHECK: the table
-- is rebuilt (SQLite's documented way). Nothing references deliveries, so dropping the
-- old table cascades nowhere; every row and id is copied, so batches, attempts and dead
-- letters carry on as they were. Migrations run in one transaction: a failure leaves the
-- old table in place.
CREATE TABLE deliveries_new (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    notification_id INTEGER NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    channel         TEXT    NOT NULL CHECK (channel IN ('webhook', 'push')),
    batch           TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    first_due       INTEGER NOT NULL,
    due_at          INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    claimed_until   INTEGER NOT NULL DEFAULT 0,
    sent_at         INTEGER
);
INSERT INTO deliveries_new (id, user_id, notification_id, channel, batch, status, first_due,
                            due_at, attempts, claimed_until, sent_at)
    SELECT id, user_id, notification_id, channel, batch, status, first_due,
           due_at, attempts, claimed_until, sent_at
    FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (due_at) WHERE status = 'pending';
CREATE INDEX deliveries_batch ON deliveries (user_id, batch);
