-- 003_token_exchange.sql - token exchange (PostgreSQL dialect; mirrors
-- migrations/sqlite/003_token_exchange.sql): the identity providers an org
-- trusts, the integrations (host APIs called on a user's behalf), and the
-- subject tokens kept with sessions.
--
-- Run by migrate() inside one transaction, after 002; no BEGIN/COMMIT here.

-- An org trusts an issuer at most once: a token's "iss" picks the provider.
-- Exactly one of jwks_uri and jwks (inline JWKS JSON) is non-empty.
-- algorithms is a comma-separated list, e.g. "RS256,PS256,ES256".
CREATE TABLE idps (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    jwks_uri    TEXT NOT NULL,
    jwks        TEXT NOT NULL,
    audience    TEXT NOT NULL,
    email_claim TEXT NOT NULL,
    algorithms  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    rid         BIGINT GENERATED ALWAYS AS IDENTITY,
    UNIQUE (org_id, issuer),
    UNIQUE (org_id, id)
);

-- client_secret is an AES-256-GCM box under the master key (additional data:
-- the integration id); the secret itself is never stored in the clear.
CREATE TABLE integrations (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    base_url      TEXT NOT NULL,
    token_url     TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    client_secret BYTEA NOT NULL,
    audience      TEXT NOT NULL,
    scope         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    rid           BIGINT GENERATED ALWAYS AS IDENTITY,
    UNIQUE (org_id, name)
);

-- The host IdP's token a session was issued for, sealed under the master key
-- (additional data: the jti). Never in the session JWT. Deleted when the
-- session ends (expiry or revocation: subject_token_purge) or its provider is
-- removed (the cascade).
CREATE TABLE subject_tokens (
    jti        TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL,
    idp_id     TEXT NOT NULL,
    token_type TEXT NOT NULL,
    sealed     BYTEA NOT NULL,
    expires_at BIGINT NOT NULL,
    FOREIGN KEY (org_id, idp_id) REFERENCES idps (org_id, id) ON DELETE CASCADE
);
CREATE INDEX subject_tokens_expires ON subject_tokens (expires_at);
CREATE INDEX subject_tokens_idp ON subject_tokens (org_id, idp_id);
