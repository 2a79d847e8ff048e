-- 007_expiry_sweep.sql - where the "session.expired" audit sweep stopped
-- (PostgreSQL dialect; mirrors migrations/sqlite/007_expiry_sweep.sql). One
-- row per sweep; the sweep writes audit events with ids derived from the
-- session ids, so running a window twice (two nodes, a crash before this row
-- moved) writes nothing twice. The sweep reads its row FOR UPDATE, so two
-- nodes sweeping at once take turns.
CREATE TABLE sweeps (
    name       TEXT PRIMARY KEY,
    done_until BIGINT NOT NULL
);
