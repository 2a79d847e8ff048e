/* /api/v1/organizations/{org}/groups */
#include <string.h>

#include "api/admin_api.h"

static int add_grant(void *ctx, const void *rec)
{
    const store_grant *g = rec;
    json_array_append_new(ctx, json_pack("{s:s, s:s}", "app_id", g->app_id, "permission", g->permission));
    return 0;
}

static int count_member(void *ctx, const void *rec)
{
    (void)rec;
    (*(json_int_t *)ctx)++;
    return 0;
}

static json_t *group_summary(store *s, const store_group *g, err_t *e)
{
    json_int_t members = 0;
    json_t *grants = json_array();
    if (s->ops->member_each(s, g->org_id, g->id, count_member, &members, e) != 0 ||
        s->ops->grant_each(s, g->org_id, g->id, add_grant, grants, e) != 0) {
        json_decref(grants);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:I, s:o}", "id", g->id, "name", g->name, "member_count", members,
                     "permissions", grants);
}

typedef struct {
    store *s;
    json_t *list;
    err_t *e;
    int failed;
} group_walk;

static int add_group(void *ctx, const void *rec)
{
    group_walk *gw = ctx;
    json_t *g = group_summary(gw->s, rec, gw->e);
    if (g == NULL) {
        gw->failed = 1;
        return 1;
    }
    json_array_append_new(gw->list, g);
    return 0;
}

typedef struct {
    store *s;
    const char *org_id;
    json_t *list;
} member_walk;

static int add_member(void *ctx, const void *rec)
{
    const store_member *m = rec;
    member_walk *mw = ctx;
    store_user u;
    err_t miss;
    if (mw->s->ops->user_get(mw->s, mw->org_id, m->user_id, &u, &miss) == 0)
        json_array_append_new(mw->list, json_pack("{s:s, s:s, s:s, s:s}", "id", u.id, "email", u.email,
                                                  "name", u.name, "role", u.role));
    return 0;
}

static int name_grant(void *ctx, const void *rec)
{
    const store_grant *g = rec;
    member_walk *mw = ctx; /* reuses store/org/list */
    store_app app;
    err_t miss;
    const char *app_name = mw->s->ops->app_get(mw->s, mw->org_id, g->app_id, &app, &miss) == 0 ? app.name : "";
    json_array_append_new(mw->list, json_pack("{s:s, s:s, s:s}", "app_id", g->app_id, "app_name", app_name,
                                              "permission", g->permission));
    return 0;
}

/* The group as GET /groups/{id} shows it, or NULL with *e. */
static json_t *group_detail(store *s, const char *org_id, const char *group_id, err_t *e)
{
    store_group g;
    if (s->ops->group_get(s, org_id, group_id, &g, e) != 0)
        return NULL;
    member_walk members = {s, org_id, json_array()}, grants = {s, org_id, json_array()};
    if (s->ops->member_each(s, org_id, group_id, add_member, &members, e) != 0 ||
        s->ops->grant_each(s, org_id, group_id, name_grant, &grants, e) != 0) {
        json_decref(members.list);
        json_decref(grants.list);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:o, s:o}", "id", g.id, "name", g.name, "members", members.list,
                     "permissions", grants.list);
}

static void reply_group(http_request *req, store *s, const char *org_id, const char *group_id, int status)
{
    err_t e;
    json_t *g = group_detail(s, org_id, group_id, &e);
    if (g == NULL)
        http_reply_error(req, &e);
    else
        api_reply_data(req, status, g);
}

void api_admin_groups_list(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    err_t e;
    group_walk gw = {w->store, json_array(), &e, 0};
    if (w->store->ops->group_each(w->store, c.org_id, add_group, &gw, &e) != 0 || gw.failed) {
        json_decref(gw.list);
        http_reply_error(req, &e);
        return;
    }
    api_reply_data(req, 200, gw.list);
}

void api_admin_groups_create(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    json_t *body = api_read_json(req, 4096, 4);
    if (body == NULL)
        return;
    const char *name;
    store_group g;
    err_t e;
    if (admin_string_member(req, body, "name", &name) == 0) {
        if (admin_group_create(&c.ctx, c.org_id, name ? name : "", &g, &e) != 0)
            http_reply_error(req, &e);
        else
            reply_group(req, w->store, c.org_id, g.id, 201);
    }
    json_decref(body);
}

void api_admin_group_get(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) == 0)
        reply_group(req, w->store, c.org_id, p->value[1], 200);
}

void api_admin_group_update(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    json_t *body = api_read_json(req, 4096, 4);
    if (body == NULL)
        return;
    const char *name;
    store_group g;
    err_t e;
    if (admin_string_member(req, body, "name", &name) == 0) {
        if (admin_group_rename(&c.ctx, c.org_id, p->value[1], name ? name : "", &g, &e) != 0)
            http_reply_error(req, &e);
        else
            reply_group(req, w->store, c.org_id, g.id, 200);
    }
    json_decref(body);
}

void api_admin_group_delete(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    err_t e;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    if (admin_group_delete(&c.ctx, c.org_id, p->value[1], &e) != 0)
        http_reply_error(req, &e);
    else
        api_reply_data(req, 200, json_pack("{s:s, s:b}", "id", p->value[1], "deleted", 1));
}

void api_admin_group_add_member(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    json_t *body = api_read_json(req, 4096, 4);
    if (body == NULL)
        return;
    const char *email;
    store_user u;
    err_t e;
    if (admin_string_member(req, body, "email", &email) == 0) {
        if (admin_group_add_member(&c.ctx, c.org_id, p->value[1], email ? email : "", &e) != 0 ||
            w->store->ops->user_find_email(w->store, c.org_id, email, &u, &e) != 0)
            http_reply_error(req, &e);
        else
            api_reply_data(req, 200, json_pack("{s:s, s:s}", "group_id", p->value[1], "user_id", u.id));
    }
    json_decref(body);
}

void api_admin_group_remove_member(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    err_t e;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    if (admin_group_remove_member(&c.ctx, c.org_id, p->value[1], p->value[2], &e) != 0)
        http_reply_error(req, &e);
    else
        api_reply_data(req, 200, json_pack("{s:s, s:s, s:b}", "group_id", p->value[1], "user_id", p->value[2],
                                           "removed", 1));
}

void api_admin_group_permissions(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    json_t *body = api_read_json(req, 4096, 4);
    if (body == NULL)
        return;
    const char *app_id, *permission;
    json_t *granted = json_object_get(body, "granted");
    err_t e;
    if (admin_string_member(req, body, "app_id", &app_id) != 0 ||
        admin_string_member(req, body, "permission", &permission) != 0)
        goto out;
    if (app_id == NULL || !json_is_boolean(granted)) {
        err_set(&e, ERR_INVALID_REQUEST, "app_id (string) and granted (boolean) are required");
        http_reply_error(req, &e);
        goto out;
    }
    if (permission == NULL)
        permission = "apps:view";
    int rc = json_is_true(granted) ? admin_group_grant(&c.ctx, c.org_id, p->value[1], app_id, permission, &e)
                                   : admin_group_revoke(&c.ctx, c.org_id, p->value[1], app_id, permission, &e);
    if (rc != 0)
        http_reply_error(req, &e);
    else
        reply_group(req, w->store, c.org_id, p->value[1], 200);
out:
    json_decref(body);
}
