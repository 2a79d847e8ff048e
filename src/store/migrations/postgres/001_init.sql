-- 001_init.sql - the initial schema (PostgreSQL 15 dialect), table for table
-- the mirror of migrations/sqlite/001_init.sql.
--
-- Run by store_sql.c's migrate() inside one transaction (after it took the
-- migration advisory lock), so a migration file must not contain
-- BEGIN/COMMIT itself.
--
-- The mapping: ids are TEXT, every SQLite INTEGER is BIGINT (epoch seconds,
-- counters), BLOB is BYTEA; constraints, composite foreign keys, cascades and
-- index names are SQLite's. What differs, on purpose:
--
-- - Creation order. The *_each operations list rows in creation order, which
--   SQLite gives as rowid order. Every table a query orders that way has
--   rid BIGINT GENERATED ALWAYS AS IDENTITY, which the queries order by and
--   never read (it is in no column list).
-- - Commit order. A PostgreSQL sequence hands out numbers in the order
--   transactions ask, not the order they commit, so a reader of "seq > last"
--   could pass over a row that commits later with a smaller number. The
--   change log and the audit log (006: webhook cursors) therefore number their
--   rows from the counters table instead: each appending statement does
--   UPDATE counters SET value = value + n ... RETURNING value, whose row lock
--   is held to COMMIT, so the next writer gets the next numbers only after the
--   previous one committed. Gaps are allowed, order is what matters.
--
-- Org isolation as in SQLite: every org-owned table carries org_id, and rows
-- that refer to another org-owned row do so through (org_id, id) composite
-- foreign keys, whose targets are the UNIQUE (org_id, id) constraints.

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('change_log', 0), ('audit_events', 0);

CREATE TABLE orgs (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    type            TEXT NOT NULL,
    session_ttl     BIGINT NOT NULL,
    session_ttl_max BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    rid             BIGINT GENERATED ALWAYS AS IDENTITY
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    rid           BIGINT GENERATED ALWAYS AS IDENTITY,
    UNIQUE (org_id, email),
    UNIQUE (org_id, id)
);

CREATE TABLE access_tokens (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    type         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL DEFAULT 0,
    revoked_at   BIGINT NOT NULL DEFAULT 0,
    rid          BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX access_tokens_org ON access_tokens (org_id);

CREATE TABLE groups (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    rid        BIGINT GENERATED ALWAYS AS IDENTITY,
    UNIQUE (org_id, id)
);

CREATE TABLE apps (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    mode            TEXT NOT NULL,
    allowed_origins TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    rid             BIGINT GENERATED ALWAYS AS IDENTITY,
    UNIQUE (org_id, id)
);

CREATE TABLE group_grants (
    org_id     TEXT NOT NULL,
    group_id   TEXT NOT NULL,
    app_id     TEXT NOT NULL,
    permission TEXT NOT NULL,
    rid        BIGINT GENERATED ALWAYS AS IDENTITY,
    UNIQUE (group_id, app_id, permission),
    FOREIGN KEY (org_id, group_id) REFERENCES groups (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, app_id) REFERENCES apps (org_id, id) ON DELETE CASCADE
);
CREATE INDEX group_grants_org_group ON group_grants (org_id, group_id);
CREATE INDEX group_grants_org_app ON group_grants (org_id, app_id);

CREATE TABLE group_members (
    org_id   TEXT NOT NULL,
    group_id TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    rid      BIGINT GENERATED ALWAYS AS IDENTITY,
    UNIQUE (group_id, user_id),
    FOREIGN KEY (org_id, group_id) REFERENCES groups (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX group_members_org_group ON group_members (org_id, group_id);
CREATE INDEX group_members_org_user ON group_members (org_id, user_id);

CREATE TABLE app_versions (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    app_id      TEXT NOT NULL,
    version     BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    file_count  BIGINT NOT NULL,
    total_bytes BIGINT NOT NULL,
    rid         BIGINT GENERATED ALWAYS AS IDENTITY,
    UNIQUE (app_id, version),
    FOREIGN KEY (org_id, app_id) REFERENCES apps (org_id, id) ON DELETE CASCADE
);

CREATE TABLE app_files (
    version_id   TEXT NOT NULL REFERENCES app_versions (id) ON DELETE CASCADE,
    path         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    data         BYTEA NOT NULL,
    PRIMARY KEY (version_id, path)
);

-- Deployment-wide: keys belong to no org.
CREATE TABLE signing_keys (
    kid            TEXT PRIMARY KEY,
    alg            TEXT NOT NULL,
    state          TEXT NOT NULL,
    sealed_private BYTEA NOT NULL,
    public_jwk     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    rid            BIGINT GENERATED ALWAYS AS IDENTITY
);

-- Written in batches (record_batch). No foreign key on user_id or atid: an
-- embed session's user is external, and a platform session has no token.
-- The (org_id, user_id) index also serves lookups by org_id alone.
CREATE TABLE sessions (
    jti        TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    email      TEXT NOT NULL,
    user_type  TEXT NOT NULL,
    atid       TEXT NOT NULL,
    issued_at  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL DEFAULT 0,
    rid        BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX sessions_org_user ON sessions (org_id, user_id);
CREATE INDEX sessions_atid ON sessions (atid);

-- No foreign key: org_id is '' for deployment-wide events, and the audit
-- trail outlives what it describes. seq is the event's position in the audit
-- log (store_audit_entry.seq, what SQLite's rowid is), taken from
-- counters('audit_events') in commit order; it is also the creation order, so
-- this table needs no rid. Its (org_id, seq) index comes with the webhooks
-- that read it (006).
CREATE TABLE audit_events (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL,
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    client     TEXT NOT NULL,
    request_id TEXT NOT NULL,
    detail     TEXT NOT NULL,
    seq        BIGINT NOT NULL UNIQUE
);
CREATE INDEX audit_events_org_at ON audit_events (org_id, at);

-- One row per committed mutation; other processes poll it (changes_since) or
-- wait for the notification below. seq comes from counters('change_log') in
-- commit order (never reused: the counter only grows).
CREATE TABLE change_log (
    seq    BIGINT PRIMARY KEY,
    kind   TEXT NOT NULL,
    org_id TEXT NOT NULL,
    id     TEXT NOT NULL,
    at     BIGINT NOT NULL
);

-- Every statement that appends changes wakes the nodes LISTENing on
-- tessera_changes when its transaction commits (PostgreSQL delivers NOTIFY at
-- COMMIT, and folds identical ones of a transaction into one). The payload is
-- empty: a listener reads changes_since() itself. A trigger rather than a
-- NOTIFY in the code, so that every writer (the CLI too) wakes the servers.
-- (The BEGIN/END below delimit the PL/pgSQL body: no transaction control.)
CREATE FUNCTION change_log_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tessera_changes', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER change_log_notify AFTER INSERT ON change_log
    FOR EACH STATEMENT EXECUTE FUNCTION change_log_notify();
