-- 002_console_sessions.sql - web console sign-in sessions (PostgreSQL
-- dialect; mirrors migrations/sqlite/002_console_sessions.sql).
--
-- Run by migrate() inside one transaction, after 001; no BEGIN/COMMIT here.
--
-- The row is keyed by the hex SHA-256 of the cookie value: the value itself is
-- never stored, so a copy of the database signs nobody in. The session points
-- at its user through the (org_id, id) composite key of users, so it cannot
-- name a user of another org, and deleting the user (or the org) ends it.
-- No change-log rows: only the process that reads the cookie looks it up.
-- Never listed, so no rid.

CREATE TABLE console_sessions (
    id_hash    TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
-- For the cascade from users (and a future "sign out everywhere").
CREATE INDEX console_sessions_org_user ON console_sessions (org_id, user_id);
-- For the housekeeping delete of expired rows.
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
