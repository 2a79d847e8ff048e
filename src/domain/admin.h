/* admin.h - administrative operations, shared by the CLI and the admin API
 * so nothing is implemented twice. Each validates its input, writes through
 * the store with an audit event in the same transaction, and never logs or
 * stores a secret. */
#ifndef TESSERA_DOMAIN_ADMIN_H
#define TESSERA_DOMAIN_ADMIN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "domain/access_token.h"
#include "store/store.h"

typedef struct {
    store *store;
    const char *actor;      /* "cli", an email, or "token:<id>" */
    const char *client;     /* client address or "" */
    const char *request_id; /* or "" */
} admin_ctx;

#define ADMIN_MAX_ORIGINS 32
#define ADMIN_TOKEN_MAX_DAYS 3650
#define ADMIN_TOKEN_DEFAULT_DAYS 90
#define ADMIN_SESSION_TTL_MAX 86400
#define ADMIN_UPLOAD_MAX (16 * 1024 * 1024) /* a bundle uploaded through the admin API, as JSON */

/* Resolving "id or unambiguous name" arguments. */
int admin_find_org(store *s, const char *id_or_name, store_org *out, err_t *e);
int admin_find_group(store *s, const char *org_id, const char *id_or_name, store_group *out, err_t *e);
int admin_find_app(store *s, const char *org_id, const char *id_or_name, store_app *out, err_t *e);

int admin_org_create(const admin_ctx *c, const char *name, store_org *out, err_t *e);
/* Renames the org (name NULL = keep) and sets its session lifetime in
 * seconds (session_ttl 0 = keep; 1 to ADMIN_SESSION_TTL_MAX). */
int admin_org_update(const admin_ctx *c, const char *org_id, const char *name, int64_t session_ttl,
                     store_org *out, err_t *e);
/* password may be NULL (no console sign-in). role: owner|admin|developer|end-user. */
int admin_user_add(const admin_ctx *c, const char *org_id, const char *email, const char *name,
                   const char *role, const char *password, store_user *out, err_t *e);
/* value[ACCESS_TOKEN_LEN + 1] receives the secret: shown once by the caller.
 * rate_rps/rate_burst: the token endpoint limit as stored (domain/token_limit.h;
 * STORE_RATE_DEFAULT, 0 for the default); only Embed tokens may set one. */
int admin_token_create(const admin_ctx *c, const char *org_id, const char *name, const char *type,
                       int64_t expires_at, int64_t rate_rps, int64_t rate_burst, store_token *out,
                       char *value, err_t *e);
int admin_token_revoke(const admin_ctx *c, const char *org_id, const char *token_id, err_t *e);
int admin_group_create(const admin_ctx *c, const char *org_id, const char *name, store_group *out,
                       err_t *e);
int admin_group_grant(const admin_ctx *c, const char *org_id, const char *group_id,
                      const char *app_id, const char *permission, err_t *e);
int admin_group_add_member(const admin_ctx *c, const char *org_id, const char *group_id,
                           const char *email, err_t *e);
int admin_app_create(const admin_ctx *c, const char *org_id, const char *name, const char *mode,
                     const char *const *origins, size_t norigins, store_app *out, err_t *e);
/* Stores every regular file under dir (which needs an index.html) as the
 * app's next version. */
int admin_app_deploy(const admin_ctx *c, const char *org_id, const char *app_id, const char *dir,
                     store_app_version *out, err_t *e);

/* Stores files (paths already checked) as the app's next version. */
int admin_app_deploy_files(const admin_ctx *c, const char *org_id, const char *app_id,
                           const store_app_file *files, size_t nfiles, store_app_version *out,
                           err_t *e);

/* Changes and removals (admin_manage.c). The last owner of an org can be
 * neither demoted nor removed (ERR_CONFLICT). */
int admin_user_set_role(const admin_ctx *c, const char *org_id, const char *user_id, const char *role,
                        store_user *out, err_t *e);
int admin_user_set_password(const admin_ctx *c, const char *org_id, const char *user_id,
                            const char *password, err_t *e);
int admin_user_remove(const admin_ctx *c, const char *org_id, const char *user_id, err_t *e);
int admin_group_rename(const admin_ctx *c, const char *org_id, const char *group_id, const char *name,
                       store_group *out, err_t *e);
int admin_group_delete(const admin_ctx *c, const char *org_id, const char *group_id, err_t *e);
int admin_group_remove_member(const admin_ctx *c, const char *org_id, const char *group_id,
                              const char *user_id, err_t *e);
int admin_group_revoke(const admin_ctx *c, const char *org_id, const char *group_id, const char *app_id,
                       const char *permission, err_t *e);
/* name/mode NULL = keep; origins replace the list when set_origins. */
int admin_app_update(const admin_ctx *c, const char *org_id, const char *app_id, const char *name,
                     const char *mode, const char *const *origins, size_t norigins, int set_origins,
                     store_app *out, err_t *e);

/* Fills an audit event of c's actor, client and request id (detail "{}"). */
void admin_audit_init(store_audit *a, const admin_ctx *c, const char *org_id, const char *action,
                      const char *target);

/* Validation helpers, also used by the admin API. */
int admin_check_name(const char *what, const char *name, err_t *e);
/* Text of at most max bytes (at least 1 when required) without control
 * characters; ERR_INVALID_REQUEST naming what otherwise. */
int admin_check_text(const char *what, const char *v, size_t max, int required, err_t *e);
/* owner | admin | developer | end-user; apps:view | apps:update. */
int admin_check_role(const char *role, err_t *e);
int admin_check_permission(const char *perm, err_t *e);
/* Normalised, de-duplicated origins as the newline-separated list stored. */
int admin_origins_text(const char *const *origins, size_t n, char out[STORE_ORIGINS_MAX], err_t *e);
/* 1 when origin[n] is one of the lines of list (an app's allowed origins). */
int admin_origins_contain(const char *list, const char *origin, size_t n);
/* The newline-separated list as a JSON array (new reference). */
json_t *admin_origins_json(const char *list);
/* Normalises an origin ("https://host[:port]", lower-case, no path). */
int admin_normalize_origin(const char *in, char *out, size_t cap, err_t *e);

#endif
