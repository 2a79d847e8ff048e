-- 009_expiry_index.sql - the session.expired sweep's index (SQLite dialect).
-- Run by migrate() inside one transaction.
--
-- Every 5 s each node audits the sessions that expired since the last sweep
-- (Q_SWEEP_EXPIRED: expires_at in a window, revoked_at = 0). Without an index
-- that was a scan of the whole sessions table inside a write transaction:
-- at 1.45 million sessions, token requests waited behind it (issuance p99
-- 70-86 ms instead of 13 ms, bench/run --scale). Partial: only the sessions
-- the sweep can still report.
CREATE INDEX sessions_live_expiry ON sessions (expires_at) WHERE revoked_at = 0;
