-- Defender's facts about each software product an endpoint runs (Get software by id,
-- defender-api.md §4.15), one row per product the machine-vulnerability rows name, replaced
-- by every sync that could read them. Which machines run which version comes from
-- `machine_vulnerability`; these are the tenant-wide figures Defender computes.
CREATE TABLE software (
    -- `{vendor}-_-{product}` in lower case.
    software_id TEXT PRIMARY KEY,
    name TEXT,
    vendor TEXT,
    -- CVEs of the product across the tenant.
    weaknesses BIGINT,
    public_exploit BOOLEAN NOT NULL DEFAULT FALSE,
    active_alert BOOLEAN NOT NULL DEFAULT FALSE,
    exposed_machines BIGINT,
    impact_score DOUBLE PRECISION,
    synced_at TEXT NOT NULL
);
