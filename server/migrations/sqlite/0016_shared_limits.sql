-- Sign-in throttling and the Test Connection limit, shared by every replica on the database
-- (server/src/auth/throttle.rs, server/src/integrations/test_limiter.rs). Times are
-- milliseconds since the Unix epoch; rows older than the window are swept.

-- One row per sign-in attempt admitted and not yet taken back: it counts against its account
-- (until a right password clears the account) and against its client address.
CREATE TABLE login_attempt (
    login_attempt_id INTEGER PRIMARY KEY,
    account TEXT NOT NULL,
    address TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    account_cleared INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX login_attempt_account ON login_attempt (account, at_ms);
CREATE INDEX login_attempt_address ON login_attempt (address, at_ms);
CREATE INDEX login_attempt_at ON login_attempt (at_ms);

-- One row per Test Connection an account ran.
CREATE TABLE connection_test (
    connection_test_id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX connection_test_account ON connection_test (account_id, at_ms);
