/* /api/v1/organizations/{org}/access-tokens */
#include <string.h>

#include "api/admin_api.h"
#include "core/clock.h"
#include "domain/token_limit.h"

static int each_token(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    return s->ops->token_each(s, org_id, fn, ctx, e);
}

/* The admin API's token, with the rate limit in effect. */
static json_t *token_json(const void *rec)
{
    json_t *t = admin_token_json(rec);
    json_object_set_new(t, "rate_limit", token_limit_json(rec));
    return t;
}

void api_admin_tokens_list(api_worker *w, http_request *req, const route_params *p)
{
    admin_reply_list(w, req, p, each_token, token_json);
}

void api_admin_tokens_create(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    json_t *body = api_read_json(req, 4096, 4);
    if (body == NULL)
        return;
    const char *name, *type, *expires;
    err_t e;
    int64_t expires_at = clock_now() + (int64_t)ADMIN_TOKEN_DEFAULT_DAYS * 86400;
    char value[ACCESS_TOKEN_LEN + 1];
    store_token t;
    int64_t rps, burst;
    if (admin_string_member(req, body, "name", &name) != 0 || admin_string_member(req, body, "type", &type) != 0 ||
        admin_string_member(req, body, "expiresAt", &expires) != 0)
        goto out;
    if (token_limit_from_json(json_object_get(body, "rate_limit"), &rps, &burst, &e) != 0) {
        http_reply_error(req, &e);
        goto out;
    }
    if (name == NULL) {
        err_set(&e, ERR_INVALID_REQUEST, "name is required");
        http_reply_error(req, &e);
        goto out;
    }
    if (expires != NULL && clock_parse_iso8601(expires, &expires_at) != 0) {
        err_set(&e, ERR_INVALID_REQUEST, "expiresAt must be an ISO 8601 date or time");
        http_reply_error(req, &e);
        goto out;
    }
    if (admin_token_create(&c.ctx, c.org_id, name, type ? type : "embed", expires_at, rps, burst,
                           &t, value, &e) != 0) {
        http_reply_error(req, &e);
        goto out;
    }
    api_reply_data(req, 201, json_pack("{s:s, s:s, s:o}", "id", t.id, "key", value, "expiresAt",
                                       admin_time_json(t.expires_at)));
    explicit_bzero(value, sizeof(value));
out:
    json_decref(body);
}

void api_admin_tokens_revoke(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    err_t e;
    if (admin_token_revoke(&c.ctx, c.org_id, p->value[1], &e) != 0) {
        http_reply_error(req, &e);
        return;
    }
    api_reply_data(req, 200, json_pack("{s:s, s:b}", "id", p->value[1], "revoked", 1));
}

/* PATCH .../access-tokens/{id} {"rate_limit": {"rps", "burst"} | "off" | null} */
void api_admin_tokens_update(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    json_t *body = api_read_json(req, 4096, 4);
    if (body == NULL)
        return;
    err_t e;
    int64_t rps, burst;
    store_token t;
    if (json_object_get(body, "rate_limit") == NULL) {
        err_set(&e, ERR_INVALID_REQUEST,
                "rate_limit is required: {\"rps\": N, \"burst\": M}, \"off\", or null for the default");
        goto fail;
    }
    if (token_limit_from_json(json_object_get(body, "rate_limit"), &rps, &burst, &e) != 0 ||
        admin_token_set_rate_limit(&c.ctx, c.org_id, p->value[1], rps, burst, &t, &e) != 0)
        goto fail;
    api_reply_data(req, 200, token_json(&t));
    goto out;
fail:
    http_reply_error(req, &e);
out:
    json_decref(body);
}
