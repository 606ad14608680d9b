-- Account lifecycle (disable, forced password change) and the index from accounts to their
-- sessions (server/src/accounts/, server/src/auth/session_registry.rs).

-- A disabled account cannot sign in and has no session; it keeps its name, so the audit log
-- still reads.
ALTER TABLE account ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
-- 1 while the password is one someone else chose (a reset by an Administrator, or the one the
-- first start generated): the account can do nothing but choose its own.
ALTER TABLE account ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;

-- One row per signed-in session, written at sign-in. A session whose row is gone is signed
-- out, whatever its cookie says.
CREATE TABLE account_session (
    account_session_id INTEGER PRIMARY KEY,
    -- The key the session store files the session under: a SHA-256 digest of the cookie's
    -- session id (server/src/auth/session_store.rs), never the id itself.
    session_key TEXT NOT NULL UNIQUE,
    account_id INTEGER NOT NULL REFERENCES account (account_id) ON DELETE CASCADE,
    -- Sign-in time (the absolute limit counts from it) and the last request that counted as
    -- activity (the idle limit counts from it), RFC 3339 with milliseconds.
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    -- The address and User-Agent the sign-in came from, as the session list shows them.
    client TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX account_session_account ON account_session (account_id);
