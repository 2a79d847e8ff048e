/* /api/v1/organizations/{org}/members: platform users */
#include <string.h>

#include "api/admin_api.h"

static int each_user(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    return s->ops->user_each(s, org_id, fn, ctx, e);
}

static json_t *user_json(const void *rec)
{
    return admin_user_json(rec);
}

void api_admin_members_list(api_worker *w, http_request *req, const route_params *p)
{
    admin_reply_list(w, req, p, each_user, user_json);
}

void api_admin_members_add(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    json_t *body = api_read_json(req, 8192, 4);
    if (body == NULL)
        return;
    const char *email, *name, *role, *password;
    store_user u;
    err_t e;
    if (admin_string_member(req, body, "email", &email) != 0 || admin_string_member(req, body, "name", &name) != 0 ||
        admin_string_member(req, body, "role", &role) != 0 ||
        admin_string_member(req, body, "password", &password) != 0)
        goto out;
    if (admin_user_add(&c.ctx, c.org_id, email ? email : "", name, role ? role : "end-user", password, &u, &e) != 0)
        http_reply_error(req, &e);
    else
        api_reply_data(req, 201, admin_user_json(&u));
out:
    json_decref(body);
}

void api_admin_member_update(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    json_t *body = api_read_json(req, 4096, 4);
    if (body == NULL)
        return;
    const char *role;
    store_user u;
    err_t e;
    if (admin_string_member(req, body, "role", &role) == 0) {
        if (admin_user_set_role(&c.ctx, c.org_id, p->value[1], role ? role : "", &u, &e) != 0)
            http_reply_error(req, &e);
        else
            api_reply_data(req, 200, admin_user_json(&u));
    }
    json_decref(body);
}

void api_admin_member_remove(api_worker *w, http_request *req, const route_params *p)
{
    admin_reply_removed(w, req, p, admin_user_remove);
}
