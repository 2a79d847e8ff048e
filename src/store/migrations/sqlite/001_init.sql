-- 001_init.sql - the initial schema (SQLite dialect).
--
-- Run by store_sqlite.c's migrate() inside one BEGIN IMMEDIATE transaction,
-- so a migration file must not contain BEGIN/COMMIT itself.
--
-- Portable on purpose, so migrations/postgres/ can mirror it table by table:
-- ids are TEXT (UUIDs; kid for keys), times are INTEGER epoch seconds
-- (BIGINT in PostgreSQL), BLOB becomes bytea. The *_each operations list rows
-- in creation order, which SQLite gives us as rowid order; the PostgreSQL
-- mirror needs an identity column for that.
--
-- Org isolation: every org-owned table carries org_id, and rows that refer to
-- another org-owned row do so through (org_id, id) composite foreign keys, so
-- the database itself refuses a grant, a member or a version that would point
-- into another org. The UNIQUE (org_id, id) constraints exist to be those
-- foreign keys' targets (and double as the org_id index).

CREATE TABLE orgs (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    type            TEXT NOT NULL,
    session_ttl     INTEGER NOT NULL,
    session_ttl_max INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
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
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0,
    revoked_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX access_tokens_org ON access_tokens (org_id);

CREATE TABLE groups (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (org_id, id)
);

CREATE TABLE apps (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    mode            TEXT NOT NULL,
    allowed_origins TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    UNIQUE (org_id, id)
);

CREATE TABLE group_grants (
    org_id     TEXT NOT NULL,
    group_id   TEXT NOT NULL,
    app_id     TEXT NOT NULL,
    permission TEXT NOT NULL,
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
    version     INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    file_count  INTEGER NOT NULL,
    total_bytes INTEGER NOT NULL,
    UNIQUE (app_id, version),
    FOREIGN KEY (org_id, app_id) REFERENCES apps (org_id, id) ON DELETE CASCADE
);

CREATE TABLE app_files (
    version_id   TEXT NOT NULL REFERENCES app_versions (id) ON DELETE CASCADE,
    path         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    data         BLOB NOT NULL,
    PRIMARY KEY (version_id, path)
);

-- Deployment-wide: keys belong to no org.
CREATE TABLE signing_keys (
    kid            TEXT PRIMARY KEY,
    alg            TEXT NOT NULL,
    state          TEXT NOT NULL,
    sealed_private BLOB NOT NULL,
    public_jwk     TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);

-- Written in batches (record_batch). No foreign key on user_id or atid: an
-- embed session's user is external, and a platform session has no token.
-- The (org_id, user_id) index also serves lookups by org_id alone, so there
-- is no separate org_id index to slow down the hot insert path.
CREATE TABLE sessions (
    jti        TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    email      TEXT NOT NULL,
    user_type  TEXT NOT NULL,
    atid       TEXT NOT NULL,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_org_user ON sessions (org_id, user_id);
CREATE INDEX sessions_atid ON sessions (atid);

-- No foreign key: org_id is '' for deployment-wide events, and the audit
-- trail outlives what it describes.
CREATE TABLE audit_events (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL,
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    client     TEXT NOT NULL,
    request_id TEXT NOT NULL,
    detail     TEXT NOT NULL
);
CREATE INDEX audit_events_org_at ON audit_events (org_id, at);

-- One row per committed mutation; other processes poll it (changes_since).
-- AUTOINCREMENT: a seq is never reused, even after rows are pruned.
CREATE TABLE change_log (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    kind   TEXT NOT NULL,
    org_id TEXT NOT NULL,
    id     TEXT NOT NULL,
    at     INTEGER NOT NULL
);
