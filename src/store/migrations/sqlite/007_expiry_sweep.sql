-- 007_expiry_sweep.sql - where the "session.expired" audit sweep stopped
-- (SQLite dialect). One row per sweep; the sweep writes audit events with
-- ids derived from the session ids, so running a window twice (two nodes,
-- a crash before this row moved) writes nothing twice.
CREATE TABLE sweeps (
    name       TEXT PRIMARY KEY,
    done_until INTEGER NOT NULL
);
