-- Machine actions (isolate, release from isolation, antivirus scan): what was asked, by whom,
-- and the status Defender reports for it. Rows are never deleted: they are the action history.
CREATE TABLE machine_action (
    machine_action_id INTEGER PRIMARY KEY,
    endpoint_id INTEGER NOT NULL REFERENCES endpoint (endpoint_id),
    -- The Defender machine the action targets (40 hex).
    machine_id TEXT NOT NULL,
    -- Isolate | Unisolate | RunAntiVirusScan
    kind TEXT NOT NULL,
    -- Actions that must not overlap on one device: 'isolation' (Isolate and Unisolate, which
    -- complete out of order when sent together) or 'scan'.
    action_group TEXT NOT NULL,
    -- Full/Selective for isolation, Quick/Full for scans.
    scope TEXT,
    comment TEXT NOT NULL,
    -- Our username, or Defender's requestor for actions started elsewhere (the portal).
    requested_by TEXT NOT NULL,
    -- 1 when the action was started outside this console and found in Defender.
    external INTEGER NOT NULL DEFAULT 0,
    -- The form's one-time key: a double click or a resent form finds the first request.
    request_key TEXT UNIQUE,
    -- Defender's MachineAction id (GUID); NULL until Defender accepted the request.
    defender_action_id TEXT UNIQUE,
    -- Submitting (claimed, not yet confirmed by Defender), Pending, InProgress, Succeeded,
    -- Failed, TimeOut, Cancelled, NotSent (Defender refused it or it never left).
    status TEXT NOT NULL,
    -- Why it was not sent, or the last polling problem (throttling, an outage).
    error TEXT,
    requested_at TEXT NOT NULL,
    -- Defender's lastUpdateDateTimeUtc, or ours while Submitting.
    updated_at TEXT NOT NULL,
    completed_at TEXT,
    -- When the server last asked Defender and when it asks next; the poller resumes from
    -- these after a restart.
    last_polled_at TEXT,
    next_poll_at TEXT,
    -- Consecutive failed polls, for the backoff.
    poll_failures INTEGER NOT NULL DEFAULT 0
);

-- At most one open action per device and group, whatever races the requests run.
CREATE UNIQUE INDEX machine_action_one_open
    ON machine_action (machine_id, action_group)
    WHERE status IN ('Submitting', 'Pending', 'InProgress');
CREATE INDEX machine_action_endpoint ON machine_action (endpoint_id, machine_action_id);
CREATE INDEX machine_action_open
    ON machine_action (next_poll_at)
    WHERE status IN ('Submitting', 'Pending', 'InProgress');
