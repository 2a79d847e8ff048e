/* /api/v1/organizations/{org}/webhooks: endpoints for session lifecycle
 * events (domain/webhooks.h, docs/SESSIONS.md "Webhooks"). The signing
 * secret appears in the replies of create and rotate-secret only. A test
 * ping waits on the endpoint, so it runs on the offload pool. */
#include <stdlib.h>
#include <string.h>

#include "api/admin_api.h"
#include "core/xalloc.h"
#include "domain/webhooks.h"

#define DELIVERIES_DEFAULT 100

/* Fills spec from the body; 0, or -1 after replying 400. events[] holds
 * pointers into body. */
static int read_spec(http_request *req, json_t *body, webhook_spec *s, const char *events[8])
{
    err_t e;
    memset(s, 0, sizeof(*s));
    s->enabled = -1;
    if (admin_string_member(req, body, "url", &s->url) != 0)
        return -1;
    json_t *ev = json_object_get(body, "events");
    if (ev != NULL && !json_is_null(ev)) {
        size_t i;
        json_t *item;
        if (!json_is_array(ev) || json_array_size(ev) > 8) {
            err_set(&e, ERR_INVALID_REQUEST, "events must be an array of event types");
            goto bad;
        }
        json_array_foreach(ev, i, item) {
            if (!json_is_string(item)) {
                err_set(&e, ERR_INVALID_REQUEST, "events must be an array of event types");
                goto bad;
            }
            events[i] = json_string_value(item);
        }
        s->events = events;
        s->nevents = json_array_size(ev);
        s->set_events = 1;
    }
    json_t *en = json_object_get(body, "enabled");
    if (en != NULL && !json_is_null(en)) {
        if (!json_is_boolean(en)) {
            err_set(&e, ERR_INVALID_REQUEST, "enabled must be true or false");
            goto bad;
        }
        s->enabled = json_is_true(en);
    }
    return 0;
bad:
    http_reply_error(req, &e);
    return -1;
}

static int each_webhook(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    return s->ops->webhook_each(s, org_id, fn, ctx, e);
}

static json_t *webhook_item(const void *rec)
{
    return webhook_json(rec);
}

/* The webhook with its new secret: the one reply that shows it. */
static void reply_with_secret(http_request *req, int status, const store_webhook *w, char *secret)
{
    json_t *data = webhook_json(w);
    json_object_set_new(data, "secret", json_string(secret));
    explicit_bzero(secret, WEBHOOK_SECRET_LEN + 1);
    api_reply_data(req, status, data);
}

void api_admin_webhooks_list(api_worker *w, http_request *req, const route_params *p)
{
    admin_reply_list(w, req, p, each_webhook, webhook_item);
}

/* add (id NULL) or update */
static void write_webhook(api_worker *w, http_request *req, const route_params *p, const char *id)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    json_t *body = api_read_json(req, 8192, 4);
    if (body == NULL)
        return;
    webhook_spec spec;
    const char *events[8];
    store_webhook hook;
    char secret[WEBHOOK_SECRET_LEN + 1];
    err_t e;
    if (read_spec(req, body, &spec, events) == 0) {
        if (id != NULL) {
            if (admin_webhook_update(&c.ctx, c.org_id, id, &spec, &hook, &e) != 0)
                http_reply_error(req, &e);
            else
                api_reply_data(req, 200, webhook_json(&hook));
        } else if (admin_webhook_add(&c.ctx, w->app->dir, c.org_id, &spec, &hook, secret, &e) != 0) {
            http_reply_error(req, &e);
        } else {
            reply_with_secret(req, 201, &hook, secret);
        }
    }
    json_decref(body);
}

void api_admin_webhooks_create(api_worker *w, http_request *req, const route_params *p)
{
    write_webhook(w, req, p, NULL);
}

void api_admin_webhook_update(api_worker *w, http_request *req, const route_params *p)
{
    write_webhook(w, req, p, p->value[1]);
}

void api_admin_webhook_get(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    store_webhook hook;
    err_t e;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    if (w->store->ops->webhook_get(w->store, c.org_id, p->value[1], &hook, &e) != 0)
        http_reply_error(req, &e);
    else
        api_reply_data(req, 200, webhook_json(&hook));
}

void api_admin_webhook_delete(api_worker *w, http_request *req, const route_params *p)
{
    admin_reply_removed(w, req, p, admin_webhook_remove);
}

void api_admin_webhook_rotate_secret(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    store_webhook hook;
    char secret[WEBHOOK_SECRET_LEN + 1];
    err_t e;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    if (admin_webhook_rotate_secret(&c.ctx, w->app->dir, c.org_id, p->value[1], &hook, secret, &e) != 0)
        http_reply_error(req, &e);
    else
        reply_with_secret(req, 200, &hook, secret);
}

static int add_delivery(void *ctx, const void *rec)
{
    json_array_append_new(ctx, webhook_delivery_json(rec));
    return 0;
}

/* GET .../deliveries?limit=N (1 to STORE_WEBHOOK_DELIVERIES_KEPT), newest first. */
void api_admin_webhook_deliveries(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    store_webhook hook;
    char text[16];
    err_t e;
    long limit = DELIVERIES_DEFAULT;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    if (admin_query_param(req, "limit", text, sizeof(text)) != NULL) {
        char *end;
        limit = strtol(text, &end, 10);
        if (text[0] == '\0' || *end != '\0' || limit < 1 || limit > STORE_WEBHOOK_DELIVERIES_KEPT) {
            err_set(&e, ERR_INVALID_REQUEST, "limit must be 1 to %d", STORE_WEBHOOK_DELIVERIES_KEPT);
            http_reply_error(req, &e);
            return;
        }
    }
    if (w->store->ops->webhook_get(w->store, c.org_id, p->value[1], &hook, &e) != 0) {
        http_reply_error(req, &e);
        return;
    }
    json_t *list = json_array();
    if (w->store->ops->webhook_delivery_each(w->store, c.org_id, hook.id, (size_t)limit, add_delivery, list, &e) !=
        0) {
        json_decref(list);
        http_reply_error(req, &e);
        return;
    }
    api_reply_data(req, 200, list);
}

/* ---- POST .../test, on the offload pool ---- */

typedef struct {
    api_app *app;
    http_request *req;
    char org_id[STORE_ID_MAX], id[STORE_ID_MAX];
    char actor[STORE_EMAIL_MAX], client[64], request_id[40];
} test_job;

static void run_test(void *arg, store *s)
{
    test_job *j = arg;
    admin_ctx ctx = {s, j->actor, j->client, j->request_id};
    webhook_result r;
    char event_id[37];
    err_t e;
    if (admin_webhook_test(&ctx, j->app->dir, j->org_id, j->id, &r, event_id, &e) != 0)
        http_reply_error(j->req, &e);
    else
        api_reply_data(j->req, 200,
                       json_pack("{s:s, s:b, s:o, s:I, s:o}", "event_id", event_id, "delivered", r.delivered,
                                 "status_code", r.status ? json_integer(r.status) : json_null(), "duration_ms",
                                 (json_int_t)r.duration_ms, "error",
                                 r.error[0] ? json_string(r.error) : json_null()));
    http_resume(j->req);
    free(j);
}

void api_admin_webhook_test(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    err_t e;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    if (strlen(p->value[1]) >= STORE_ID_MAX) {
        err_set(&e, ERR_NOT_FOUND, "webhook not found");
        http_reply_error(req, &e);
        return;
    }
    test_job *j = xcalloc(1, sizeof(*j));
    j->app = w->app;
    j->req = req;
    snprintf(j->org_id, sizeof(j->org_id), "%s", c.org_id);
    memcpy(j->id, p->value[1], strlen(p->value[1]) + 1); /* fits: checked above */
    snprintf(j->actor, sizeof(j->actor), "%s", c.actor);
    snprintf(j->client, sizeof(j->client), "%s", c.ctx.client ? c.ctx.client : "");
    snprintf(j->request_id, sizeof(j->request_id), "%s", c.ctx.request_id ? c.ctx.request_id : "");
    http_suspend(req);
    if (offload_submit(w->app->offload, run_test, j) != 0) {
        err_set(&e, ERR_UNAVAILABLE, "too many calls in flight; retry shortly");
        http_reply_error(req, &e);
        http_resume(req);
        free(j);
    }
}
