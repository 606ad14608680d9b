-- Microsoft keeps no history of an endpoint's risk: each sync records it here, compactly.
-- risk_state is every endpoint's risk as the last sync found it (its overall level and its
-- representative machine's CVEs by severity); risk_history gets a row only when that changes;
-- risk_daily is how many endpoints were at each level after the last sync of each day (UTC).
-- Rows older than the retention are pruned; risk_state always holds the current values.
CREATE TABLE risk_state (
    endpoint_id BIGINT PRIMARY KEY,
    risk_level TEXT NOT NULL,
    critical BIGINT NOT NULL,
    high BIGINT NOT NULL,
    medium BIGINT NOT NULL,
    low BIGINT NOT NULL,
    since TEXT NOT NULL
);

CREATE TABLE risk_history (
    endpoint_id BIGINT NOT NULL,
    recorded_at TEXT NOT NULL,
    risk_level TEXT NOT NULL,
    critical BIGINT NOT NULL,
    high BIGINT NOT NULL,
    medium BIGINT NOT NULL,
    low BIGINT NOT NULL,
    PRIMARY KEY (endpoint_id, recorded_at)
);
CREATE INDEX risk_history_recorded ON risk_history (recorded_at);

CREATE TABLE risk_daily (
    day TEXT NOT NULL,
    risk_level TEXT NOT NULL,
    endpoints BIGINT NOT NULL,
    PRIMARY KEY (day, risk_level)
);
