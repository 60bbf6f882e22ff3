-- Token scopes beyond writing readings: `metrics` (the Prometheus scrape, admins only)
-- and `read` (read-only integrations).
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_scope_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_scope_check
    CHECK (scope IN ('ingest', 'read', 'metrics'));
