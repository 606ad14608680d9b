-- JSON columns become jsonb: PostgreSQL checks every value written is JSON, and queries can
-- use its operators without a cast. The code passes the text in jsonb's binary form
-- (server/src/db/json_text.rs). A column's text default cannot be cast in place, so each
-- default is dropped and set again as jsonb.
ALTER TABLE endpoint
    ALTER COLUMN hostnames DROP DEFAULT,
    ALTER COLUMN ips DROP DEFAULT,
    ALTER COLUMN open_ports DROP DEFAULT,
    ALTER COLUMN os_matches DROP DEFAULT,
    ALTER COLUMN merge_evidence DROP DEFAULT,
    ALTER COLUMN hostnames TYPE JSONB USING hostnames::jsonb,
    ALTER COLUMN ips TYPE JSONB USING ips::jsonb,
    ALTER COLUMN open_ports TYPE JSONB USING open_ports::jsonb,
    ALTER COLUMN os_matches TYPE JSONB USING os_matches::jsonb,
    ALTER COLUMN merge_evidence TYPE JSONB USING merge_evidence::jsonb,
    ALTER COLUMN mac_conflicts TYPE JSONB USING mac_conflicts::jsonb,
    ALTER COLUMN hostnames SET DEFAULT '[]',
    ALTER COLUMN ips SET DEFAULT '[]',
    ALTER COLUMN open_ports SET DEFAULT '[]',
    ALTER COLUMN os_matches SET DEFAULT '[]',
    ALTER COLUMN merge_evidence SET DEFAULT '[]';

ALTER TABLE defender_machine
    ALTER COLUMN ip_addresses DROP DEFAULT,
    ALTER COLUMN ip_addresses TYPE JSONB USING ip_addresses::jsonb,
    ALTER COLUMN ip_addresses SET DEFAULT '[]';

ALTER TABLE vulnerability
    ALTER COLUMN exploit_types DROP DEFAULT,
    ALTER COLUMN exploit_types TYPE JSONB USING exploit_types::jsonb,
    ALTER COLUMN exploit_types SET DEFAULT '[]';

ALTER TABLE profile
    ALTER COLUMN definition DROP DEFAULT,
    ALTER COLUMN definition TYPE JSONB USING definition::jsonb,
    ALTER COLUMN definition SET DEFAULT '{}';

ALTER TABLE integration
    ALTER COLUMN settings TYPE JSONB USING settings::jsonb;

-- The digest trigger names these columns (UPDATE OF ...), which pins their type: it is
-- dropped for the change and made again as 0001 made it.
DROP TRIGGER endpoint_assessment_digest_unknown ON endpoint_assessment;
ALTER TABLE endpoint_assessment
    ALTER COLUMN profiles_considered DROP DEFAULT,
    ALTER COLUMN risk DROP DEFAULT,
    ALTER COLUMN profiles_considered TYPE JSONB USING profiles_considered::jsonb,
    ALTER COLUMN risk TYPE JSONB USING risk::jsonb,
    ALTER COLUMN defender_risk TYPE JSONB USING defender_risk::jsonb,
    ALTER COLUMN profiles_considered SET DEFAULT '[]',
    ALTER COLUMN risk SET DEFAULT '{"overall":"None","assessments":[]}';
CREATE TRIGGER endpoint_assessment_digest_unknown
BEFORE UPDATE OF profile_name, match_level, profiles_considered, risk_level, risk, defender_risk
ON endpoint_assessment
FOR EACH ROW
WHEN (NEW.digest IS NOT DISTINCT FROM OLD.digest AND NEW.digest IS NOT NULL)
EXECUTE FUNCTION endpoint_assessment_digest_unknown();

ALTER TABLE sync_run
    ALTER COLUMN missing_permissions TYPE JSONB USING missing_permissions::jsonb;

ALTER TABLE sync_progress
    ALTER COLUMN progress TYPE JSONB USING progress::jsonb;
