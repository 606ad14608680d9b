-- The identity rules (server/src/sync/merge.rs): MACs of an endpoint that several live
-- Defender machines report, and joins an administrator split and pinned.

-- JSON [{"mac":..,"machines":[..]}] of the endpoint's conflicting MACs, NULL when none: the
-- duplicate-MAC assessment reads it without parsing every endpoint's evidence.
ALTER TABLE endpoint ADD COLUMN mac_conflicts TEXT;

-- "This machine is not that endpoint": the merge never joins them again until the row goes.
CREATE TABLE machine_split (
    machine_split_id INTEGER PRIMARY KEY,
    machine_id TEXT NOT NULL,
    endpoint_id INTEGER NOT NULL REFERENCES endpoint (endpoint_id),
    reason TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (machine_id, endpoint_id)
);
CREATE INDEX machine_split_endpoint ON machine_split (endpoint_id);

-- The sensor version: isolation and scans on macOS and Linux need a minimum client
-- (server/src/actions/platform.rs).
ALTER TABLE defender_machine ADD COLUMN agent_version TEXT;
