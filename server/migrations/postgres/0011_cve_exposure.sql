-- How many endpoints of each device group (as the endpoint list names them) each CVE affects,
-- as of the last sync. The Vulnerabilities page's list scoped to a group reads it: counting
-- the 1.2 million machine-vulnerability rows of a 100k tenant per request took seconds.
CREATE TABLE cve_exposure (
    device_group TEXT NOT NULL,
    cve_id TEXT NOT NULL,
    endpoints BIGINT NOT NULL,
    PRIMARY KEY (device_group, cve_id)
);
