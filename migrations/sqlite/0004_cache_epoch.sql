-- Writers outside the server (the `headroom import` and `users` commands) cannot reach a
-- server's in-process cache, so they bump this counter; every server polls it each second
-- and drops its in-process copies when it moves.
CREATE TABLE cache_epoch (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    epoch BIGINT  NOT NULL
);
INSERT INTO cache_epoch (id, epoch) VALUES (1, 0);
