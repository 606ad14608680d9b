-- A counter every replica's endpoint-list snapshot is keyed on: a write path that changes the
-- inventory outside a sync (imports, sensor batches, splits, re-models, inactivity) bumps it,
-- and every replica reloads its snapshot at its next request. One row.
CREATE TABLE list_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n INTEGER NOT NULL
);
INSERT INTO list_generation (id, n) VALUES (1, 0);
