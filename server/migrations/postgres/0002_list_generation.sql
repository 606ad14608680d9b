-- A counter every replica's endpoint-list snapshot is keyed on: a write path that changes the
-- inventory outside a sync (imports, sensor batches, splits, re-models, inactivity) bumps it,
-- and every replica reloads its snapshot at its next request. One row (as SQLite's 0017).
CREATE TABLE list_generation (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO list_generation (id, n) VALUES (1, 0);
