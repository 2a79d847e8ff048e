-- 004_revocation.sql - revoking one session, or every session of a user
-- (PostgreSQL dialect; mirrors migrations/sqlite/004_revocation.sql). Run by
-- migrate() inside one transaction, after 003.

-- "Revoke everything of jane@acme.com": the sessions of an org by email.
CREATE INDEX sessions_org_email ON sessions (org_id, email);
-- Every node keeps the revoked sessions that have not expired in memory
-- (loaded at start): this finds them without scanning all sessions.
CREATE INDEX sessions_revoked ON sessions (expires_at) WHERE revoked_at != 0;
