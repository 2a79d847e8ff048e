/* /api/v1/organizations/{org}/integrations: host APIs called on a user's behalf */
#include <string.h>

#include "api/admin_api.h"
#include "domain/integration.h"

/* Fills spec from the body; 0, or -1 after replying. */
static int read_spec(http_request *req, json_t *body, integration_spec *s)
{
    memset(s, 0, sizeof(*s));
    return admin_string_member(req, body, "name", &s->name) || admin_string_member(req, body, "base_url", &s->base_url) ||
                   admin_string_member(req, body, "token_url", &s->token_url) ||
                   admin_string_member(req, body, "client_id", &s->client_id) ||
                   admin_string_member(req, body, "client_secret", &s->client_secret) ||
                   admin_string_member(req, body, "audience", &s->audience) ||
                   admin_string_member(req, body, "scope", &s->scope)
               ? -1
               : 0;
}

static int each_integration(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    return s->ops->integration_each(s, org_id, fn, ctx, e);
}

static json_t *integration_item(const void *rec)
{
    return integration_json(rec);
}

void api_admin_integrations_list(api_worker *w, http_request *req, const route_params *p)
{
    admin_reply_list(w, req, p, each_integration, integration_item);
}

/* add (id NULL) or update */
static void write_integration(api_worker *w, http_request *req, const route_params *p, const char *id)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    json_t *body = api_read_json(req, 16384, 4);
    if (body == NULL)
        return;
    integration_spec spec;
    store_integration g;
    err_t e;
    if (read_spec(req, body, &spec) == 0) {
        int rc = id ? admin_integration_update(&c.ctx, w->app->dir, c.org_id, id, &spec, &g, &e)
                    : admin_integration_add(&c.ctx, w->app->dir, c.org_id, &spec, &g, &e);
        if (rc != 0)
            http_reply_error(req, &e);
        else
            api_reply_data(req, id ? 200 : 201, integration_json(&g));
    }
    json_decref(body);
}

void api_admin_integrations_create(api_worker *w, http_request *req, const route_params *p)
{
    write_integration(w, req, p, NULL);
}

void api_admin_integration_update(api_worker *w, http_request *req, const route_params *p)
{
    write_integration(w, req, p, p->value[1]);
}

void api_admin_integration_get(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    store_integration g;
    err_t e;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    if (w->store->ops->integration_get(w->store, c.org_id, p->value[1], &g, &e) != 0)
        http_reply_error(req, &e);
    else
        api_reply_data(req, 200, integration_json(&g));
}

void api_admin_integration_delete(api_worker *w, http_request *req, const route_params *p)
{
    admin_reply_removed(w, req, p, admin_integration_remove);
}
