-- Precomputed daily outlooks (cache warming) and the tips of the day that admins edit.

-- One outlook per user and local day, as JSON. `stale` is set when a reading changes the
-- user's data; the next read recomputes it.
CREATE TABLE outlooks (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day         INTEGER NOT NULL,            -- the user's local date, days since 1970-01-01
    computed_at INTEGER NOT NULL,
    stale       INTEGER NOT NULL DEFAULT 0,
    data        TEXT    NOT NULL,
    PRIMARY KEY (user_id, day)
) WITHOUT ROWID;

CREATE TABLE content_templates (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('tip')),
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,             -- may use {placeholders}, see domain::outlook::tips
    active     INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO content_templates (kind, title, body, active, created_at, updated_at) VALUES
('tip', 'Big downloads at night', 'Game updates and backups can run overnight; at {used_today} so far today, an evening download is what tips a day over its {daily_budget}.', 1, 0, 0),
('tip', 'Know your hour', 'An hour of HD video streams about 3 GB. Today you have {left_today} left on {meter}.', 1, 0, 0),
('tip', 'Lower the default quality', 'Streaming apps default to the highest quality your line allows; one notch lower often halves what a film uses.', 1, 0, 0),
('tip', 'Phones on Wi-Fi', 'Phones back up photos and update apps as soon as they see Wi-Fi. Limit that to charging overnight and the day''s budget goes further.', 1, 0, 0),
('tip', 'A cushion for later', 'At today''s pace {meter} lasts {safe_days} more days. Each day under budget adds to the cushion for the end of the period.', 1, 0, 0),
('tip', 'Keep the run going', 'You are on a run of {streak} days within budget. Checking the timeline in the evening shows where the day is going before it is over.', 1, 0, 0),
('tip', 'Shift the heavy hours', 'Electricity and data both peak in the evening. Moving the dishwasher or a large download to the morning spreads the load.', 1, 0, 0),
('tip', 'Read the counter yourself', 'If a meter has no collector, a reading typed in by hand once a day keeps its budget right.', 1, 0, 0);
