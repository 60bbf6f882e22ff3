-- The performance center (SPEC S8): editable alert thresholds, alerts with their history,
-- and one downsampled row of figures per instance and minute, kept for 7 days.
CREATE TABLE perf_thresholds (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    body       TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL
);

CREATE TABLE perf_alerts (
    id              BIGSERIAL PRIMARY KEY,
    metric          TEXT    NOT NULL,
    severity        TEXT    NOT NULL,
    message         TEXT    NOT NULL,
    value           DOUBLE PRECISION NOT NULL,
    threshold       DOUBLE PRECISION NOT NULL,
    ratio           DOUBLE PRECISION NOT NULL,
    raised_at       BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    acknowledged_at BIGINT,
    acknowledged_by TEXT,
    resolved_at     BIGINT,
    resolved_by     TEXT
);
CREATE INDEX perf_alerts_open ON perf_alerts (resolved_at, id);

CREATE TABLE perf_history (
    id             BIGSERIAL PRIMARY KEY,
    ts             BIGINT  NOT NULL,
    instance       TEXT    NOT NULL,
    requests       BIGINT  NOT NULL,
    errors         BIGINT  NOT NULL,
    p50_ms         DOUBLE PRECISION,
    p95_ms         DOUBLE PRECISION,
    p99_ms         DOUBLE PRECISION,
    queries        BIGINT  NOT NULL,
    query_p95_ms   DOUBLE PRECISION,
    slow_queries   BIGINT  NOT NULL,
    cache_hits     BIGINT  NOT NULL,
    cache_misses   BIGINT  NOT NULL,
    rss_mb         DOUBLE PRECISION,
    cpu_percent    DOUBLE PRECISION,
    disk_free_mb   DOUBLE PRECISION,
    db_connections BIGINT  NOT NULL,
    score          BIGINT  NOT NULL
);
CREATE INDEX perf_history_ts ON perf_history (ts);
