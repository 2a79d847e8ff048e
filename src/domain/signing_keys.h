/* signing_keys.h - the deployment's session-signing keys in the store.
 *
 * A key's private JWK is sealed with the master key (AES-256-GCM, the kid
 * as associated data) before it is stored. States: active (signs; exactly
 * one), retiring (verifies and is published, no longer signs), retired. */
#ifndef TESSERA_DOMAIN_SIGNING_KEYS_H
#define TESSERA_DOMAIN_SIGNING_KEYS_H

#include "core/err.h"
#include "jwt/jwk.h"
#include "store/store.h"

#define MASTER_KEY_LEN 32

/* The master key for store s: $TESSERA_MASTER_KEY (64 hex characters),
 * else the file $TESSERA_MASTER_KEY_FILE, else "<sqlite path>.key" (or
 * "tessera.key" for PostgreSQL). A missing file is created (mode 0600, new
 * random key) only while s has no signing keys; a key file readable by
 * group or others is refused. The key is then checked against every stored key
 * that is not retired. A wrong or missing key is an error, never a silent
 * new key. */
int signing_keys_master_key(store *s, const char *db_url, unsigned char key[MASTER_KEY_LEN], err_t *e);

/* Creates an active ES256 key when the store has none. */
int signing_keys_ensure(store *s, const unsigned char master[MASTER_KEY_LEN], err_t *e);

/* Makes a new active key; the previous active key becomes retiring in the
 * same transaction.
 * new_kid[64] receives the new kid. */
int signing_keys_rotate(store *s, const unsigned char master[MASTER_KEY_LEN], const char *actor,
                        char new_kid[64], err_t *e);

/* Opens a stored key (decrypts its private part). Caller frees. */
jwt_key *signing_keys_open(const store_key *k, const unsigned char master[MASTER_KEY_LEN], err_t *e);

#endif
