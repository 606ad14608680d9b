-- Integrations (Microsoft Defender now; one row per kind) and their schedule state.
CREATE TABLE integration (
    integration_id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL UNIQUE,
    enabled INTEGER NOT NULL DEFAULT 0,
    -- Non-secret settings as JSON (tenant, client id, cloud, hosts).
    settings TEXT NOT NULL,
    -- The client secret, sealed with XChaCha20-Poly1305 under the server's key file.
    secret_sealed TEXT,
    secret_changed_at TEXT,
    demo INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_sync_at TEXT,
    last_sync_outcome TEXT,
    -- When the hourly schedule fires next; survives restarts.
    next_sync_at TEXT,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
