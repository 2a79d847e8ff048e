-- 006_webhooks.sql - webhooks: the endpoints an org registers for session
-- lifecycle events, and their delivery log (SQLite dialect). Run by migrate()
-- inside one transaction; no BEGIN/COMMIT here.
--
-- The audit log is the outbox: a webhook remembers the position (cursor) of
-- the last audit event it dealt with and moves it only after its endpoint
-- answered 2xx, so nothing is lost across restarts. In SQLite the position is
-- the audit_events rowid, which grows in commit order because SQLite has one
-- writer at a time (VACUUM keeps it: tested in test_store_sqlite.c). The
-- PostgreSQL mirror needs its own sequence column filled in commit order
-- (issue 7), since a sequence does not give commit order there.

-- "The events of org X after position N": (org_id) entries are ordered by
-- (org_id, rowid), so this index answers it without touching other orgs.
CREATE INDEX audit_events_org ON audit_events (org_id);

-- secret_sealed: AES-256-GCM box of the signing secret under a key derived
-- from the master key (additional data: the webhook id); never in clear.
-- events: comma-separated event types. cursor, failures, next_attempt_at and
-- last_error belong to the deliverer (webhook_progress).
CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    secret_sealed   BLOB NOT NULL,
    events          TEXT NOT NULL,
    enabled         INTEGER NOT NULL,
    cursor          INTEGER NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    UNIQUE (org_id, id)
);

-- Bounded: each insert prunes the webhook's log to its newest 1000 rows
-- (STORE_WEBHOOK_DELIVERIES_KEPT), which the (webhook_id) index finds.
CREATE TABLE webhook_deliveries (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    webhook_id  TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    status_code INTEGER NOT NULL,
    error       TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    FOREIGN KEY (org_id, webhook_id) REFERENCES webhooks (org_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id);
