-- What a full re-model reads, made cheaper (see BENCHMARKS.md, "Full re-model").

-- Machine-vulnerability rows clustered on their key: the re-model reads each machine's rows,
-- severity included, as one range of one B-tree. As a rowid table every row cost a second
-- lookup into the table, and the key was stored twice (table and its automatic index).
CREATE TABLE machine_vulnerability_by_machine (
    machine_id TEXT NOT NULL,
    cve_id TEXT NOT NULL,
    product_vendor TEXT NOT NULL DEFAULT '',
    product_name TEXT NOT NULL DEFAULT '',
    product_version TEXT NOT NULL DEFAULT '',
    fixing_kb_id TEXT,
    severity TEXT,
    PRIMARY KEY (machine_id, cve_id, product_vendor, product_name, product_version)
) WITHOUT ROWID;
INSERT INTO machine_vulnerability_by_machine
    SELECT machine_id, cve_id, product_vendor, product_name, product_version, fixing_kb_id,
           severity
    FROM machine_vulnerability
    ORDER BY machine_id, cve_id, product_vendor, product_name, product_version;
DROP TABLE machine_vulnerability;
ALTER TABLE machine_vulnerability_by_machine RENAME TO machine_vulnerability;

-- A digest of the stored assessment (profile, match level, profiles considered, risk level,
-- risk and Defender risk), so the re-model can tell an unchanged endpoint without reading and
-- copying about 1 KB of JSON per endpoint. NULL means "unknown": the next re-model writes the
-- endpoint whatever it computes.
ALTER TABLE endpoint ADD COLUMN assessment_digest INTEGER;

-- Any other write to the assessment that does not also set a new digest makes the stored
-- digest unknown, so a stale digest can never hide a change.
CREATE TRIGGER endpoint_assessment_digest_unknown
AFTER UPDATE OF profile_name, match_level, profiles_considered, risk_level, risk, defender_risk
ON endpoint
WHEN NEW.assessment_digest IS OLD.assessment_digest AND NEW.assessment_digest IS NOT NULL
BEGIN
    UPDATE endpoint SET assessment_digest = NULL WHERE endpoint_id = NEW.endpoint_id;
END;
