/* /api/v1/organizations/{org}/idps: trusted identity providers (token exchange) */
#include <stdlib.h>
#include <string.h>

#include "api/admin_api.h"
#include "core/buf.h"
#include "domain/idp.h"

#define IDP_BODY_MAX (STORE_JWKS_MAX + 8192)

/* Text owned by the request: the inline JWKS re-serialised, the algorithms joined. */
typedef struct {
    char *jwks;
    char algorithms[64];
} idp_body_text;

/* "jwks" may be the JWKS object itself or its JSON text. */
static int read_jwks(http_request *req, json_t *body, idp_body_text *t, const char **out)
{
    json_t *v = json_object_get(body, "jwks");
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        *out = json_string_value(v);
        return 0;
    }
    if (json_is_object(v)) {
        t->jwks = json_dumps(v, JSON_COMPACT);
        *out = t->jwks;
        return 0;
    }
    err_t e;
    err_set(&e, ERR_INVALID_REQUEST, "jwks must be a JWKS object (or its JSON text)");
    http_reply_error(req, &e);
    return -1;
}

/* "algorithms" may be ["RS256", ...] or "RS256,ES256". */
static int read_algorithms(http_request *req, json_t *body, idp_body_text *t, const char **out)
{
    json_t *v = json_object_get(body, "algorithms");
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        *out = json_string_value(v);
        return 0;
    }
    err_t e;
    if (json_is_array(v) && json_array_size(v) > 0 && json_array_size(v) <= 3) {
        buf_t b;
        buf_init(&b, sizeof(t->algorithms) - 1);
        size_t i;
        json_t *item;
        int ok = 1;
        json_array_foreach(v, i, item)
        {
            ok = ok && json_is_string(item) && strlen(json_string_value(item)) <= 8 &&
                 buf_printf(&b, "%s%s", i ? "," : "", json_string_value(item)) == 0;
        }
        if (ok)
            memcpy(t->algorithms, buf_str(&b), b.len + 1);
        buf_free(&b);
        if (ok) {
            *out = t->algorithms;
            return 0;
        }
    }
    err_set(&e, ERR_INVALID_REQUEST, "algorithms must be a list of RS256, PS256, ES256");
    http_reply_error(req, &e);
    return -1;
}

/* Fills spec from the body; 0, or -1 after replying. */
static int read_spec(http_request *req, json_t *body, idp_spec *spec, idp_body_text *t)
{
    memset(spec, 0, sizeof(*spec));
    if (admin_string_member(req, body, "name", &spec->name) != 0 ||
        admin_string_member(req, body, "issuer", &spec->issuer) != 0 ||
        admin_string_member(req, body, "jwks_uri", &spec->jwks_uri) != 0 ||
        admin_string_member(req, body, "audience", &spec->audience) != 0 ||
        admin_string_member(req, body, "email_claim", &spec->email_claim) != 0 ||
        read_jwks(req, body, t, &spec->jwks) != 0 || read_algorithms(req, body, t, &spec->algorithms) != 0)
        return -1;
    return 0;
}

static int each_idp(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    return s->ops->idp_each(s, org_id, fn, ctx, e);
}

static json_t *idp_item(const void *rec)
{
    return idp_json(rec);
}

void api_admin_idps_list(api_worker *w, http_request *req, const route_params *p)
{
    admin_reply_list(w, req, p, each_idp, idp_item);
}

/* add (idp_id NULL) or update */
static void write_idp(api_worker *w, http_request *req, const route_params *p, const char *idp_id)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    json_t *body = api_read_json(req, IDP_BODY_MAX, 8);
    if (body == NULL)
        return;
    idp_spec spec;
    idp_body_text text = {0};
    store_idp *rec = malloc(sizeof(*rec));
    err_t e;
    if (rec == NULL || read_spec(req, body, &spec, &text) != 0)
        goto out;
    int rc = idp_id ? admin_idp_update(&c.ctx, c.org_id, idp_id, &spec, rec, &e)
                    : admin_idp_add(&c.ctx, c.org_id, &spec, rec, &e);
    if (rc != 0)
        http_reply_error(req, &e);
    else
        api_reply_data(req, idp_id ? 200 : 201, idp_json(rec));
out:
    free(rec);
    free(text.jwks);
    json_decref(body);
}

void api_admin_idps_create(api_worker *w, http_request *req, const route_params *p)
{
    write_idp(w, req, p, NULL);
}

void api_admin_idp_update(api_worker *w, http_request *req, const route_params *p)
{
    write_idp(w, req, p, p->value[1]);
}

void api_admin_idp_get(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    store_idp *rec = malloc(sizeof(*rec));
    err_t e;
    if (rec == NULL)
        err_set(&e, ERR_INTERNAL, "out of memory");
    if (rec == NULL || w->store->ops->idp_get(w->store, c.org_id, p->value[1], rec, &e) != 0)
        http_reply_error(req, &e);
    else
        api_reply_data(req, 200, idp_json(rec));
    free(rec);
}

void api_admin_idp_delete(api_worker *w, http_request *req, const route_params *p)
{
    admin_reply_removed(w, req, p, admin_idp_remove);
}
