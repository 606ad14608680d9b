-- Several replicas on one database (server/src/leadership.rs): which replica runs the
-- background duties (the sync schedule and every sync, the inactivity check, the action
-- poller), and the syncs other replicas asked of it.

-- One row per duty; the holder renews its term well before it ends, and a replica that finds
-- the term over takes the lease. Times are milliseconds since the Unix epoch, so the
-- comparison is numeric on every backend.
CREATE TABLE lease (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    acquired_at TEXT NOT NULL
);

-- A sync asked of a replica that does not hold the lease; the holder runs it. One row per
-- kind: simultaneous requests collapse into one run.
CREATE TABLE duty_request (
    duty TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL
);
