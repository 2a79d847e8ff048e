/* directory.h - the in-memory view of everything the hot paths look up:
 * orgs, access tokens (by hash and id), groups with their grants, platform
 * users with their group memberships, apps, trusted identity providers, the
 * revoked sessions that have not expired, and the signing keys.
 *
 * Loaded once from the store, then kept current by directory_refresh(),
 * which applies the store's change log (changes made by this process, by
 * the CLI, or by other nodes). Readers copy what they need out under a read
 * lock; nothing returned points into the directory. Thread-safe. */
#ifndef TESSERA_DOMAIN_DIRECTORY_H
#define TESSERA_DOMAIN_DIRECTORY_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "jwt/jwk.h"
#include "store/store.h"

#define DIRECTORY_MAX_USER_GROUPS 256

typedef struct directory directory;

/* master_key decrypts the signing keys; it is copied. */
directory *directory_new(const unsigned char master_key[32]);
void directory_free(directory *d);

/* Full load (call once, before serving). 0 or -1 with *e. */
int directory_load(directory *d, store *s, err_t *e);
/* Applies every change since the last load/refresh. Any thread may call it
 * (the serve loop polls it; the admin API calls it after a change so the
 * change is visible before the reply); calls are serialized. 0 or -1 with *e. */
int directory_refresh(directory *d, store *s, err_t *e);

/* Lookups: 0 when found (copied to *out), -1 when not.
 * An access token comes with the fields the request paths read: id, org_id,
 * type, hash, expires_at, revoked_at, rate_rps and rate_burst. Its name,
 * prefix, created_by, created_at and last_used_at are empty: the directory
 * does not keep them (memory, docs/internals/MEMORY.md); the admin API reads
 * them from the store. */
int directory_token_by_hash(directory *d, const char *hash_hex, store_token *out);
int directory_token_by_id(directory *d, const char *id, store_token *out);
int directory_org(directory *d, const char *id, store_org *out);
/* The group's name when group_id is a group of org_id. */
int directory_group_name(directory *d, const char *org_id, const char *group_id,
                         char name[STORE_NAME_MAX]);
/* A platform user of org_id by normalised email, and the ids of the groups
 * the user belongs to (at most max; *ngroups set). */
int directory_user_by_email(directory *d, const char *org_id, const char *email, store_user *out,
                            char (*group_ids)[STORE_ID_MAX], size_t max, size_t *ngroups);

/* Every platform user (any org) with this normalised email, up to max;
 * returns how many were copied. */
size_t directory_users_with_email(directory *d, const char *email, store_user *out, size_t max);

/* A platform user by id (any org). */
int directory_user_by_id(directory *d, const char *id, store_user *out);

/* An application by id (any org; callers compare org_id). */
int directory_app(directory *d, const char *id, store_app *out);
/* The id of the app's newest deployed version; -1 when never deployed. */
int directory_app_version(directory *d, const char *app_id, char version_id[STORE_ID_MAX]);
/* 1 when one of the groups (ids of org_id) grants permission on app_id. */
int directory_groups_allow(directory *d, const char *org_id, const char *const *group_ids,
                           size_t ngroups, const char *app_id, const char *permission);

/* 1 when the session jti was revoked (one by one or with all of its
 * user's); revoked sessions are kept until they expire. */
int directory_session_revoked(directory *d, const char *jti);

/* Trusted identity providers (token exchange): the one of org_id whose
 * issuer is exactly issuer (0, copied to *out), and how many org_id has. */
int directory_idp_by_issuer(directory *d, const char *org_id, const char *issuer, store_idp *out);
size_t directory_idp_count(directory *d, const char *org_id);

/* Signing keys. The generation changes whenever the key set changes; a
 * worker keeps its own copies and re-takes them when it sees a new one. */
uint64_t directory_key_generation(directory *d);
/* A private copy of the active signing key (caller frees), or NULL when
 * there is none. *gen is set to the generation it belongs to. */
jwt_key *directory_signing_key(directory *d, uint64_t *gen);
/* Private copies of every verification key (active and retiring): sets
 * *keys to an array the caller frees with directory_keys_free. */
size_t directory_verify_keys(directory *d, jwt_key ***keys, uint64_t *gen);
void directory_keys_free(jwt_key **keys, size_t n);

/* Rotates the signing keys with the directory's master key (the new key
 * reaches the workers through the change log). new_kid[64]. */
int directory_rotate_key(directory *d, store *s, const char *actor, char new_kid[64], err_t *e);

/* A key for one purpose (e.g. "app tickets v1") derived from the master
 * key with HMAC-SHA256: the same on every node sharing the master key. */
void directory_derive_key(directory *d, const char *purpose, unsigned char out[32]);

/* The public JWKS document {"keys":[...]} (caller frees). */
char *directory_jwks(directory *d);

#endif
