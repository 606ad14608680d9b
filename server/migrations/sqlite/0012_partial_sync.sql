-- Partial data still syncs (server/src/sync/fetch.rs): undecodable items are skipped and named,
-- listings the app may not read are left out and named, and what they feed reads unknown.

-- Whether the app could read each optional source at the last sync, and since when.
CREATE TABLE defender_source (
    source TEXT PRIMARY KEY,
    readable INTEGER NOT NULL,
    -- The permissions Defender said would do (any one), when not readable.
    missing_permission TEXT,
    -- When the source became readable or unreadable.
    since TEXT NOT NULL
);

-- The items a run skipped, for its journal entry (the first few hundred of each run).
CREATE TABLE sync_run_skip (
    sync_run_skip_id INTEGER PRIMARY KEY,
    sync_run_id INTEGER NOT NULL REFERENCES sync_run (sync_run_id),
    listing TEXT NOT NULL,
    item_id TEXT,
    field TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX sync_run_skip_run ON sync_run_skip (sync_run_id);

ALTER TABLE sync_run ADD COLUMN skipped_items INTEGER NOT NULL DEFAULT 0;
-- JSON [{"source":..,"permissions":[..]}] of the listings left out, NULL when none.
ALTER TABLE sync_run ADD COLUMN missing_permissions TEXT;
