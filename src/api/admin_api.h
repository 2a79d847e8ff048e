/* admin_api.h - shared pieces of the admin API handlers (docs/API.md,
 * "Admin API"): who is calling, and records as JSON. */
#ifndef TESSERA_API_ADMIN_API_H
#define TESSERA_API_ADMIN_API_H

#include <jansson.h>

#include "api/api.h"
#include "domain/admin.h"

typedef struct {
    char org_id[STORE_ID_MAX];
    char actor[STORE_EMAIL_MAX]; /* the user's email, or "token:<id>" */
    char role[16];               /* owner | admin | developer */
    admin_ctx ctx;               /* for domain calls: the worker's store, actor, client, request id */
} admin_caller;

/* Authenticates the call (admin access token, or console cookie plus CSRF
 * token for changes), checks that params->value[0] is the caller's org and
 * that the role may make this kind of request. 0, or -1 after replying. */
int admin_begin(api_worker *w, http_request *req, const route_params *params, admin_caller *out);

/* Lists: authorizes like admin_begin, walks the caller's org with each and
 * replies {"data": [to_json(rec)...]}. */
typedef int (*admin_each_op)(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e);
void admin_reply_list(api_worker *w, http_request *req, const route_params *params, admin_each_op each,
                      json_t *(*to_json)(const void *rec));

/* Removals of one row: authorizes like admin_begin, runs op on the row
 * named by params->value[1] and replies {"data": {"id", "removed": true}}. */
typedef int (*admin_row_op)(const admin_ctx *c, const char *org_id, const char *id, err_t *e);
void admin_reply_removed(api_worker *w, http_request *req, const route_params *params, admin_row_op op);

/* Records as the API shows them. New references. */
json_t *admin_token_json(const store_token *t);
json_t *admin_app_json(const store_app *a, int64_t latest_version);
json_t *admin_user_json(const store_user *u);
json_t *admin_version_json(const store_app_version *v);
json_t *admin_audit_json(const store_audit *a);
/* ISO 8601 text, or JSON null for 0. */
json_t *admin_time_json(int64_t t);

/* The value of query parameter name, %XX- and '+'-decoded, into out[cap];
 * NULL when absent (or longer than cap - 1). */
const char *admin_query_param(http_request *req, const char *name, char *out, size_t cap);

/* An optional string member; 0 and *out NULL when absent or null, -1 after
 * replying 400 when present but not a string. */
int admin_string_member(http_request *req, json_t *body, const char *key, const char **out);

#endif
