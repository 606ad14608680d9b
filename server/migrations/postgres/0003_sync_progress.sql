-- The live progress of the leader's sync or re-model, as JSON text, so that a browser connected
-- to any replica follows it. One row, rewritten as the run goes (as SQLite's 0018).
CREATE TABLE sync_progress (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    progress TEXT NOT NULL
);
INSERT INTO sync_progress (id, progress) VALUES (1, '{}');
