-- One row the health check writes to find out whether the database takes writes, when nothing
-- else has written lately (a read-only file, a full disk or a held lock would refuse it).
CREATE TABLE health_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    probes INTEGER NOT NULL
);
