-- 006_webhooks.sql - webhooks: the endpoints an org registers for session
-- lifecycle events, and their delivery log (PostgreSQL dialect; mirrors
-- migrations/sqlite/006_webhooks.sql). Run by migrate() inside one
-- transaction; no BEGIN/COMMIT here.
--
-- The audit log is the outbox: a webhook remembers the position (cursor) of
-- the last audit event it dealt with and moves it only after its endpoint
-- answered 2xx, so nothing is lost across restarts. The position is
-- audit_events.seq (001), numbered from counters('audit_events') in commit
-- order, so a reader of "seq > cursor" never passes over an event that
-- commits later; the end of the log is that counter's value.

-- "The events of org X after position N", in position order. SQLite's
-- audit_events_org is (org_id), whose entries are in rowid order; here the
-- position is a column of its own.
CREATE INDEX audit_events_org ON audit_events (org_id, seq);

-- secret_sealed: AES-256-GCM box of the signing secret under a key derived
-- from the master key (additional data: the webhook id); never in clear.
-- events: comma-separated event types. cursor, failures, next_attempt_at and
-- last_error belong to the deliverer (webhook_progress).
CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    secret_sealed   BYTEA NOT NULL,
    events          TEXT NOT NULL,
    enabled         BIGINT NOT NULL,
    cursor          BIGINT NOT NULL,
    failures        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    rid             BIGINT GENERATED ALWAYS AS IDENTITY,
    UNIQUE (org_id, id)
);

-- Bounded: each insert prunes the webhook's log to its newest 1000 rows
-- (STORE_WEBHOOK_DELIVERIES_KEPT). The (webhook_id, rid) index finds them in
-- creation order (SQLite's (webhook_id) index is implicitly in rowid order).
CREATE TABLE webhook_deliveries (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    webhook_id  TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    attempt     BIGINT NOT NULL,
    status_code BIGINT NOT NULL,
    error       TEXT NOT NULL,
    duration_ms BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    rid         BIGINT GENERATED ALWAYS AS IDENTITY,
    FOREIGN KEY (org_id, webhook_id) REFERENCES webhooks (org_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, rid);
