-- Each endpoint's assessment (profile, match level, the profiles considered, risk) moves out of
-- `endpoint` into a table of its own (see BENCHMARKS.md, "Full re-model"). A re-model that
-- reassesses every endpoint rewrote the whole endpoint table, facts and all, to store its
-- results, and every re-model read past about 1 KB of assessment per endpoint to reach the
-- facts it classifies. Now it reads the facts alone and writes the assessments alone.

CREATE TABLE endpoint_assessment (
    endpoint_id INTEGER PRIMARY KEY REFERENCES endpoint (endpoint_id),
    -- The chosen profile, its match level (VeryHigh, High, Medium, Low) and the runners-up as
    -- JSON [{"name":..,"level":..,"rules":[..]}].
    profile_name TEXT,
    match_level TEXT,
    profiles_considered TEXT NOT NULL DEFAULT '[]',
    -- The overall level (None, Low, Medium, High, Critical), the assessments as JSON
    -- (app::model::risk::EndpointRisk) and Defender's sub-levels (DefenderRisk) or NULL.
    risk_level TEXT NOT NULL DEFAULT 'None',
    risk TEXT NOT NULL DEFAULT '{"overall":"None","assessments":[]}',
    defender_risk TEXT,
    -- A digest of the columns above as the re-model stored them; NULL means "unknown", and the
    -- next re-model writes the endpoint whatever it computes.
    digest INTEGER
);

-- An endpoint that no re-model has reached yet keeps no row here: readers take the defaults
-- above (no profile, risk None).
INSERT INTO endpoint_assessment (endpoint_id, profile_name, match_level, profiles_considered,
                                 risk_level, risk, defender_risk, digest)
    SELECT endpoint_id, profile_name, match_level, profiles_considered, risk_level, risk,
           defender_risk, assessment_digest
    FROM endpoint
    WHERE profile_name IS NOT NULL OR match_level IS NOT NULL OR profiles_considered <> '[]'
       OR risk_level <> 'None' OR risk <> '{"overall":"None","assessments":[]}'
       OR defender_risk IS NOT NULL OR assessment_digest IS NOT NULL;

DROP TRIGGER endpoint_assessment_digest_unknown;
DROP INDEX endpoint_risk_level;
ALTER TABLE endpoint DROP COLUMN profile_name;
ALTER TABLE endpoint DROP COLUMN match_level;
ALTER TABLE endpoint DROP COLUMN profiles_considered;
ALTER TABLE endpoint DROP COLUMN risk_level;
ALTER TABLE endpoint DROP COLUMN risk;
ALTER TABLE endpoint DROP COLUMN defender_risk;
ALTER TABLE endpoint DROP COLUMN assessment_digest;

-- Any other write to the assessment that does not also set a new digest makes the stored
-- digest unknown, so a stale digest can never hide a change.
CREATE TRIGGER endpoint_assessment_digest_unknown
AFTER UPDATE OF profile_name, match_level, profiles_considered, risk_level, risk, defender_risk
ON endpoint_assessment
WHEN NEW.digest IS OLD.digest AND NEW.digest IS NOT NULL
BEGIN
    UPDATE endpoint_assessment SET digest = NULL WHERE endpoint_id = NEW.endpoint_id;
END;

-- The dashboard counts endpoints by risk level from this index (as it did from the endpoint
-- table's).
CREATE INDEX endpoint_assessment_risk_level ON endpoint_assessment (risk_level);

-- The re-model reads each endpoint's digest to tell whether its new assessment differs: from
-- this index it reads about 2 MB at 100k endpoints instead of every assessment row (120 MB).
CREATE INDEX endpoint_assessment_digest ON endpoint_assessment (endpoint_id, digest);

-- The re-model reads each representative machine's OS platform and version: from this index,
-- without a second lookup into the machine table (about 600 B a row) per endpoint.
CREATE INDEX defender_machine_os ON defender_machine (machine_id, os_platform, version);
