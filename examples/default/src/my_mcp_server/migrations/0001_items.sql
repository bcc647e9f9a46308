-- The example domain: items by key. Plain SQL, applied in file-name order by `make db-migrate`
-- (and at server start); applied versions are recorded in schema_migrations.
CREATE TABLE IF NOT EXISTS items (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
