/* /api/v1/organizations/{org}, its signing keys and its audit log */
#include <stdlib.h>
#include <string.h>

#include "api/admin_api.h"
#include "core/buf.h"
#include "core/clock.h"
#include "domain/signing_keys.h"

#define AUDIT_DEFAULT_LIMIT 200
#define AUDIT_MAX_LIMIT 1000
#define AUDIT_EXPORT_MAX (64 * 1024 * 1024)

void api_admin_org_get(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    store_org org;
    err_t e;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    if (w->store->ops->org_get(w->store, c.org_id, &org, &e) != 0)
        http_reply_error(req, &e);
    else
        api_reply_data(req, 200, json_pack("{s:s, s:s, s:I}", "id", org.id, "name", org.name, "session_ttl",
                                           (json_int_t)org.session_ttl));
}

static int each_key(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    (void)org_id; /* signing keys are deployment-wide */
    return s->ops->key_each(s, fn, ctx, e);
}

static json_t *key_json(const void *rec)
{
    const store_key *k = rec;
    return json_pack("{s:s, s:s, s:s, s:o}", "kid", k->kid, "alg", k->alg, "state", k->state, "created_at",
                     admin_time_json(k->created_at));
}

void api_admin_keys_list(api_worker *w, http_request *req, const route_params *p)
{
    admin_reply_list(w, req, p, each_key, key_json);
}

void api_admin_keys_rotate(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    err_t e;
    char kid[64];
    if (admin_begin(w, req, p, &c) != 0)
        return;
    if (directory_rotate_key(w->app->dir, w->store, c.actor, kid, &e) != 0)
        http_reply_error(req, &e);
    else
        api_reply_data(req, 200, json_pack("{s:s}", "kid", kid));
}

typedef struct {
    const char *action, *actor;
    json_t *list;   /* for the JSON reply: newest first after the walk */
    buf_t *lines;   /* for the export */
    size_t limit;
    int failed;
} audit_walk;

static int add_event(void *ctx, const void *rec)
{
    audit_walk *aw = ctx;
    const store_audit *a = rec;
    if ((aw->action && strcmp(a->action, aw->action) != 0) || (aw->actor && strcmp(a->actor, aw->actor) != 0))
        return 0;
    json_t *ev = admin_audit_json(a);
    if (aw->lines != NULL) {
        char *text = json_dumps(ev, JSON_COMPACT);
        aw->failed = text == NULL || buf_puts(aw->lines, text) != 0 || buf_puts(aw->lines, "\n") != 0;
        free(text);
        json_decref(ev);
        return aw->failed;
    }
    json_array_append_new(aw->list, ev);
    if (json_array_size(aw->list) > aw->limit)
        json_array_remove(aw->list, 0); /* keep the newest */
    return 0;
}

/* Reads since/action/actor/limit; -1 after replying 400. */
static int audit_filters(http_request *req, int64_t *since, char *action, char *actor, size_t cap, size_t *limit,
                         audit_walk *aw)
{
    char since_text[64], limit_text[16];
    err_t e;
    *since = 0;
    *limit = AUDIT_DEFAULT_LIMIT;
    if (admin_query_param(req, "since", since_text, sizeof(since_text)) &&
        clock_parse_iso8601(since_text, since) != 0) {
        err_set(&e, ERR_INVALID_REQUEST, "since must be an ISO 8601 date or time");
        http_reply_error(req, &e);
        return -1;
    }
    if (admin_query_param(req, "limit", limit_text, sizeof(limit_text))) {
        char *end;
        long v = strtol(limit_text, &end, 10);
        if (*end != '\0' || v < 1 || v > AUDIT_MAX_LIMIT) {
            err_set(&e, ERR_INVALID_REQUEST, "limit must be 1 to %d", AUDIT_MAX_LIMIT);
            http_reply_error(req, &e);
            return -1;
        }
        *limit = (size_t)v;
    }
    aw->action = admin_query_param(req, "action", action, cap);
    aw->actor = admin_query_param(req, "actor", actor, cap);
    aw->limit = *limit;
    return 0;
}

void api_admin_audit(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    int64_t since;
    size_t limit;
    char action[64], actor[STORE_EMAIL_MAX];
    audit_walk aw = {0};
    err_t e;
    if (audit_filters(req, &since, action, actor, sizeof(action), &limit, &aw) != 0)
        return;
    aw.list = json_array();
    if (w->store->ops->audit_each(w->store, c.org_id, since, add_event, &aw, &e) != 0) {
        json_decref(aw.list);
        http_reply_error(req, &e);
        return;
    }
    json_t *newest_first = json_array();
    for (size_t i = json_array_size(aw.list); i > 0; i--)
        json_array_append(newest_first, json_array_get(aw.list, i - 1));
    json_decref(aw.list);
    api_reply_data(req, 200, newest_first);
}

void api_admin_audit_export(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    int64_t since;
    size_t limit;
    char action[64], actor[STORE_EMAIL_MAX];
    audit_walk aw = {0};
    buf_t lines;
    err_t e;
    if (audit_filters(req, &since, action, actor, sizeof(action), &limit, &aw) != 0)
        return;
    buf_init(&lines, AUDIT_EXPORT_MAX);
    aw.lines = &lines;
    if (w->store->ops->audit_each(w->store, c.org_id, since, add_event, &aw, &e) != 0 || aw.failed) {
        buf_free(&lines);
        if (aw.failed)
            err_set(&e, ERR_TOO_LARGE, "the export is larger than 64 MiB; narrow it with since=");
        http_reply_error(req, &e);
        return;
    }
    http_add_header(req, "Content-Disposition", "attachment; filename=\"tessera-audit.jsonl\"");
    http_add_header(req, "Cache-Control", "no-store");
    size_t len = lines.len;
    http_reply(req, 200, "application/x-ndjson", buf_take(&lines), len);
}
