-- Machine actions as Defender records them (defender-api.md §9.22, §9.23).

-- Defender's `requestor` and `requestSource` of the action: for this console's own actions
-- the name Defender gives the app, which is how an action whose answer was lost is found.
ALTER TABLE machine_action ADD COLUMN defender_requestor TEXT;
ALTER TABLE machine_action ADD COLUMN request_source TEXT;
CREATE INDEX machine_action_machine ON machine_action (machine_id, requested_at);

-- Defender refused an action for the device itself (OsPlatformNotSupported,
-- ClientVersionNotSupported): remembered for the OS it had, so the panel says so before
-- anyone tries again; a new OS or version forgets it.
CREATE TABLE machine_action_refusal (
    machine_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    os_platform TEXT,
    version TEXT,
    refused_at TEXT NOT NULL,
    PRIMARY KEY (machine_id, kind)
);

-- Where incremental listings of the sync resume (e.g. Defender's machine actions by creation
-- time).
CREATE TABLE sync_cursor (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
