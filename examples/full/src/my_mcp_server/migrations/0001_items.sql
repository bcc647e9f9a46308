-- The example domain: items by key. Plain SQL, applied in file-name order by `make db-migrate`
-- (and at server start); applied versions are recorded in schema_migrations.
CREATE TABLE IF NOT EXISTS items (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- text_pattern_ops lets the prefix search (LIKE 'abc%') use the index under any collation.
CREATE INDEX IF NOT EXISTS items_key_prefix ON items (key text_pattern_ops);
