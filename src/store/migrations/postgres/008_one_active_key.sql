-- 008_one_active_key.sql - at most one active signing key (PostgreSQL dialect).
-- Run by migrate() inside one transaction.
--
-- Nodes starting at once on an empty database could each create an active
-- key (check, then insert, in two transactions). Now the database refuses a
-- second one, and key_insert of an active key retires the previous one in
-- the same transaction. A database that already has several keeps the newest
-- active; the others become retiring: still published, so every token they
-- signed still verifies.
UPDATE signing_keys SET state = 'retiring'
WHERE state = 'active'
  AND kid != (SELECT kid FROM signing_keys WHERE state = 'active' ORDER BY created_at DESC, kid DESC LIMIT 1);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (state) WHERE state = 'active';
