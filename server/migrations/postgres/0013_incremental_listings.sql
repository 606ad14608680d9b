-- Where a run's incremental listings started. Once a full listing is less than a day old, a
-- run lists only the alerts Defender changed since the last one (`lastUpdateTime ge ...`) and
-- the machine-vulnerability rows its change feed names (`sinceTime=...`). NULL when the
-- listing was full, and for older runs.
ALTER TABLE sync_run ADD COLUMN alerts_since TEXT;
ALTER TABLE sync_run ADD COLUMN machine_vulnerabilities_since TEXT;
