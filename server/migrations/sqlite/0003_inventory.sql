-- Endpoint inventory: endpoints, what Defender says about them, profiles, risk, sync journal.

-- One row per device. Keyed by its MAC when one is known, otherwise by its Defender machine id.
CREATE TABLE endpoint (
    endpoint_id INTEGER PRIMARY KEY,
    -- Canonical upper-case colon form, e.g. 00:15:5D:A1:B2:C3; NULL for Defender-only devices.
    mac TEXT UNIQUE,
    -- The Defender machine that represents this device (newest active record); NULL if none.
    defender_machine_id TEXT UNIQUE,
    -- Display values for the list (the full lists are below, as JSON).
    hostname TEXT,
    ip TEXT,
    mac_vendor TEXT,
    os TEXT,
    onboarding_status TEXT,
    source_network INTEGER NOT NULL DEFAULT 0,
    source_defender INTEGER NOT NULL DEFAULT 0,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    inactive INTEGER NOT NULL DEFAULT 0,
    -- Facts kept for re-modelling, as JSON arrays.
    hostnames TEXT NOT NULL DEFAULT '[]',
    ips TEXT NOT NULL DEFAULT '[]',
    open_ports TEXT NOT NULL DEFAULT '[]',
    os_matches TEXT NOT NULL DEFAULT '[]',
    dhcp_vendor_class TEXT,
    dhcp_hostname TEXT,
    -- Classification: the chosen profile, its match level (VeryHigh, High, Medium, Low) and the
    -- runners-up as JSON [{"name":..,"level":..,"rules":[..]}].
    profile_name TEXT,
    match_level TEXT,
    profiles_considered TEXT NOT NULL DEFAULT '[]',
    -- Risk: the overall level (None, Low, Medium, High, Critical), the assessments as JSON
    -- (app::model::risk::EndpointRisk) and Defender's sub-levels (DefenderRisk) or NULL.
    risk_level TEXT NOT NULL DEFAULT 'None',
    risk TEXT NOT NULL DEFAULT '{"overall":"None","assessments":[]}',
    defender_risk TEXT,
    -- Why a Defender machine was joined to this endpoint: JSON [{"machine_id","rule","detail"}].
    merge_evidence TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX endpoint_risk_level ON endpoint (risk_level);
CREATE INDEX endpoint_last_seen ON endpoint (last_seen);
CREATE INDEX endpoint_ip ON endpoint (ip);
CREATE INDEX endpoint_hostname ON endpoint (hostname);

-- Every Defender machine record, including duplicates of one device (re-imaged devices keep
-- separate records; the endpoint points at the newest active one).
CREATE TABLE defender_machine (
    machine_id TEXT PRIMARY KEY,
    endpoint_id INTEGER REFERENCES endpoint (endpoint_id),
    computer_dns_name TEXT,
    os_platform TEXT,
    os_version TEXT,
    version TEXT,
    os_build INTEGER,
    onboarding_status TEXT,
    health_status TEXT,
    risk_score TEXT,
    exposure_level TEXT,
    device_value TEXT,
    last_ip_address TEXT,
    first_seen TEXT,
    last_seen TEXT,
    is_potential_duplication INTEGER NOT NULL DEFAULT 0,
    merged_into_machine_id TEXT,
    -- JSON [{"ipAddress":..,"macAddress":..,"type":..}] as Defender reported it.
    ip_addresses TEXT NOT NULL DEFAULT '[]',
    -- Missing from the latest complete listing (kept, never deleted by a sync).
    gone INTEGER NOT NULL DEFAULT 0,
    synced_at TEXT NOT NULL
);
CREATE INDEX defender_machine_endpoint ON defender_machine (endpoint_id);

CREATE TABLE vulnerability (
    cve_id TEXT PRIMARY KEY,
    name TEXT,
    description TEXT,
    severity TEXT,
    cvss_v3 REAL,
    cvss_vector TEXT,
    public_exploit INTEGER NOT NULL DEFAULT 0,
    exploit_verified INTEGER NOT NULL DEFAULT 0,
    exploit_in_kit INTEGER NOT NULL DEFAULT 0,
    exploit_types TEXT NOT NULL DEFAULT '[]',
    published_on TEXT,
    updated_on TEXT,
    exposed_machines INTEGER,
    synced_at TEXT NOT NULL
);

-- The bulk machine-vulnerability rows (defender-api.md §4.12).
CREATE TABLE machine_vulnerability (
    machine_id TEXT NOT NULL,
    cve_id TEXT NOT NULL,
    product_vendor TEXT NOT NULL DEFAULT '',
    product_name TEXT NOT NULL DEFAULT '',
    product_version TEXT NOT NULL DEFAULT '',
    fixing_kb_id TEXT,
    severity TEXT,
    PRIMARY KEY (machine_id, cve_id, product_vendor, product_name, product_version)
);
CREATE INDEX machine_vulnerability_cve ON machine_vulnerability (cve_id);

CREATE TABLE defender_alert (
    alert_id TEXT PRIMARY KEY,
    machine_id TEXT,
    title TEXT,
    description TEXT,
    severity TEXT,
    status TEXT,
    category TEXT,
    classification TEXT,
    determination TEXT,
    detection_source TEXT,
    incident_id INTEGER,
    alert_creation_time TEXT,
    last_update_time TEXT,
    resolved_time TEXT,
    synced_at TEXT NOT NULL
);
CREATE INDEX defender_alert_machine ON defender_alert (machine_id);

-- The profile set: factory profiles, custom ones, and Defender's dynamic "⇋ <OS>" profiles.
CREATE TABLE profile (
    profile_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    origin TEXT NOT NULL CHECK (origin IN ('factory', 'custom', 'defender')),
    enabled INTEGER NOT NULL DEFAULT 1,
    risky_level TEXT,
    definition TEXT NOT NULL DEFAULT '{}'
);

-- The sync journal: one row per run.
CREATE TABLE sync_run (
    sync_run_id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    reason TEXT NOT NULL,
    -- Running, Succeeded, Failed, or Partial (a listing stopped early; nothing marked gone).
    outcome TEXT NOT NULL,
    machines_seen INTEGER NOT NULL DEFAULT 0,
    machines_added INTEGER NOT NULL DEFAULT 0,
    machines_updated INTEGER NOT NULL DEFAULT 0,
    machines_unchanged INTEGER NOT NULL DEFAULT 0,
    alerts INTEGER NOT NULL DEFAULT 0,
    vulnerabilities INTEGER NOT NULL DEFAULT 0,
    machine_vulnerabilities INTEGER NOT NULL DEFAULT 0,
    api_calls INTEGER NOT NULL DEFAULT 0,
    throttle_wait_ms INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    notes TEXT
);

-- API tokens for discovery sensors (JSON ingest); only a hash is stored.
CREATE TABLE api_token (
    api_token_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked INTEGER NOT NULL DEFAULT 0
);
