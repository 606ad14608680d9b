-- Full re-models asked through any replica (server/src/sync/remodel_job.rs): the asking
-- replica adds or joins a waiting row, the leader claims and runs it and writes its progress
-- and outcome here, so simultaneous requests give one run and every replica shows its bar.
CREATE TABLE remodel_run (
    remodel_run_id INTEGER PRIMARY KEY,
    -- requested -> running -> finished | failed | interrupted (its leader stopped leading).
    state TEXT NOT NULL CHECK (state IN ('requested', 'running', 'finished', 'failed', 'interrupted')),
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    runner TEXT,
    started_at TEXT,
    finished_at TEXT,
    processed INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    endpoints INTEGER,
    changed INTEGER,
    dynamic_profiles INTEGER,
    elapsed_ms INTEGER,
    -- Our own words (the error's display), never a Defender string.
    error TEXT
);
-- At most one waiting request: a second asker joins it.
CREATE UNIQUE INDEX remodel_run_one_waiting ON remodel_run (state) WHERE state = 'requested';
