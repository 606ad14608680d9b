-- A re-model reads each representative machine's alerts (id, title, severity, status) by
-- machine. With those columns in the index it reads the index alone; before, every alert cost
-- a read of a random page of the alert table (about 0.2 s of a 100k-endpoint re-model).
DROP INDEX IF EXISTS defender_alert_machine;
CREATE INDEX defender_alert_machine
    ON defender_alert (machine_id, alert_id, title, severity, status);
