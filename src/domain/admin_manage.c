/* admin_manage.c - changing and removing what admin.c creates: roles,
 * members, groups, grants and applications. Same rules as admin.c: input
 * checked here, one store call with its audit event. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "domain/admin.h"
#include "crypto/crypto.h"
#include "domain/email.h"

/* Refuses to leave the org without an owner when user u stops being one. */
static int keep_an_owner(const admin_ctx *c, const store_user *u, err_t *e)
{
    if (strcmp(u->role, "owner") != 0)
        return 0;
    int64_t owners = 0;
    if (c->store->ops->user_count_role(c->store, u->org_id, "owner", &owners, e) != 0)
        return -1;
    if (owners <= 1)
        return err_set(e, ERR_CONFLICT, "%s is the organization's last owner; make someone else an owner first",
                       u->email);
    return 0;
}

int admin_user_set_role(const admin_ctx *c, const char *org_id, const char *user_id, const char *role,
                        store_user *out, err_t *e)
{
    if (admin_check_role(role, e) != 0 || c->store->ops->user_get(c->store, org_id, user_id, out, e) != 0)
        return -1;
    if (strcmp(out->role, role) == 0)
        return 0;
    if (keep_an_owner(c, out, e) != 0)
        return -1;
    store_audit a;
    admin_audit_init(&a, c, org_id, "user.role_changed", user_id);
    snprintf(a.detail, sizeof(a.detail), "{\"from\":\"%s\",\"to\":\"%s\"}", out->role, role);
    str_copy(out->role, sizeof(out->role), role);
    return c->store->ops->user_update(c->store, out, &a, e);
}

int admin_user_set_password(const admin_ctx *c, const char *org_id, const char *user_id,
                            const char *password, err_t *e)
{
    store_user u;
    size_t n = strlen(password);
    if (n < 12 || n > 1024)
        return err_set(e, ERR_INVALID_REQUEST, "password must be 12 to 1024 characters");
    if (c->store->ops->user_get(c->store, org_id, user_id, &u, e) != 0)
        return -1;
    if (crypto_password_hash(password, u.password_hash) != 0)
        return err_set(e, ERR_INTERNAL, "cannot hash the password");
    store_audit a;
    admin_audit_init(&a, c, org_id, "user.password_set", user_id);
    return c->store->ops->user_update(c->store, &u, &a, e);
}

int admin_user_remove(const admin_ctx *c, const char *org_id, const char *user_id, err_t *e)
{
    store_user u;
    if (c->store->ops->user_get(c->store, org_id, user_id, &u, e) != 0 || keep_an_owner(c, &u, e) != 0)
        return -1;
    store_audit a;
    admin_audit_init(&a, c, org_id, "user.removed", user_id);
    buf_t b;
    buf_init(&b, sizeof(a.detail) - 1);
    buf_puts(&b, "{\"email\":");
    buf_json_string(&b, u.email, strlen(u.email));
    buf_puts(&b, "}");
    snprintf(a.detail, sizeof(a.detail), "%s", buf_str(&b));
    buf_free(&b);
    return c->store->ops->user_delete(c->store, org_id, user_id, &a, e);
}

int admin_group_rename(const admin_ctx *c, const char *org_id, const char *group_id, const char *name,
                       store_group *out, err_t *e)
{
    if (admin_check_name("group name", name, e) != 0 ||
        c->store->ops->group_get(c->store, org_id, group_id, out, e) != 0)
        return -1;
    str_copy(out->name, sizeof(out->name), name);
    store_audit a;
    admin_audit_init(&a, c, org_id, "group.renamed", group_id);
    buf_t b;
    buf_init(&b, sizeof(a.detail) - 1);
    buf_puts(&b, "{\"name\":");
    buf_json_string(&b, name, strlen(name));
    buf_puts(&b, "}");
    snprintf(a.detail, sizeof(a.detail), "%s", buf_str(&b));
    buf_free(&b);
    return c->store->ops->group_update(c->store, out, &a, e);
}

int admin_group_delete(const admin_ctx *c, const char *org_id, const char *group_id, err_t *e)
{
    store_group g;
    if (c->store->ops->group_get(c->store, org_id, group_id, &g, e) != 0)
        return -1;
    store_audit a;
    admin_audit_init(&a, c, org_id, "group.deleted", group_id);
    return c->store->ops->group_delete(c->store, org_id, group_id, &a, e);
}

int admin_group_remove_member(const admin_ctx *c, const char *org_id, const char *group_id,
                              const char *user_id, err_t *e)
{
    store_member m = {0};
    str_copy(m.org_id, sizeof(m.org_id), org_id);
    str_copy(m.group_id, sizeof(m.group_id), group_id);
    str_copy(m.user_id, sizeof(m.user_id), user_id);
    store_audit a;
    admin_audit_init(&a, c, org_id, "group.member_removed", group_id);
    snprintf(a.detail, sizeof(a.detail), "{\"user_id\":\"%s\"}", m.user_id);
    return c->store->ops->member_delete(c->store, &m, &a, e);
}

int admin_group_revoke(const admin_ctx *c, const char *org_id, const char *group_id, const char *app_id,
                       const char *permission, err_t *e)
{
    store_group g;
    if (admin_check_permission(permission, e) != 0 ||
        c->store->ops->group_get(c->store, org_id, group_id, &g, e) != 0)
        return -1;
    store_grant grant = {0};
    str_copy(grant.org_id, sizeof(grant.org_id), org_id);
    str_copy(grant.group_id, sizeof(grant.group_id), group_id);
    str_copy(grant.app_id, sizeof(grant.app_id), app_id);
    str_copy(grant.permission, sizeof(grant.permission), permission);
    store_audit a;
    admin_audit_init(&a, c, org_id, "group.revoked", group_id);
    snprintf(a.detail, sizeof(a.detail), "{\"app_id\":\"%s\",\"permission\":\"%s\"}", grant.app_id,
             grant.permission);
    return c->store->ops->grant_delete(c->store, &grant, &a, e);
}

int admin_app_update(const admin_ctx *c, const char *org_id, const char *app_id, const char *name,
                     const char *mode, const char *const *origins, size_t norigins, int set_origins,
                     store_app *out, err_t *e)
{
    if (c->store->ops->app_get(c->store, org_id, app_id, out, e) != 0)
        return -1;
    if (name != NULL) {
        if (admin_check_name("application name", name, e) != 0)
            return -1;
        str_copy(out->name, sizeof(out->name), name);
    }
    if (mode != NULL) {
        if (strcmp(mode, "public") != 0 && strcmp(mode, "private") != 0 && strcmp(mode, "sso") != 0)
            return err_set(e, ERR_INVALID_REQUEST, "mode must be public, private or sso");
        str_copy(out->mode, sizeof(out->mode), mode);
    }
    if (set_origins && admin_origins_text(origins, norigins, out->allowed_origins, e) != 0)
        return -1;
    store_audit a;
    admin_audit_init(&a, c, org_id, "app.updated", app_id);
    json_t *detail = json_pack("{s:s, s:s, s:s}", "name", out->name, "mode", out->mode, "allowed_origins",
                               out->allowed_origins);
    char *text = json_dumps(detail, JSON_COMPACT);
    json_decref(detail);
    if (text != NULL && strlen(text) < sizeof(a.detail))
        str_copy(a.detail, sizeof(a.detail), text);
    free(text);
    return c->store->ops->app_update(c->store, out, &a, e);
}
