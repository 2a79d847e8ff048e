-- 005_rate_limits.sql - a rate limit per access token on the token endpoint
-- (PostgreSQL dialect; mirrors migrations/sqlite/005_rate_limits.sql). Run by
-- migrate() inside one transaction.
--
-- rate_limit_rps: 0 = the deployment's default limit, -1 = no limit,
-- N > 0 = N requests per second with a burst of rate_limit_burst.
ALTER TABLE access_tokens ADD COLUMN rate_limit_rps BIGINT NOT NULL DEFAULT 0;
ALTER TABLE access_tokens ADD COLUMN rate_limit_burst BIGINT NOT NULL DEFAULT 0;
