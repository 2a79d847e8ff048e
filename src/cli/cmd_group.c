/* tessera group create|list|grant|add-member */
#include <stdio.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "domain/admin.h"

int cmd_group_create(int argc, char **argv)
{
    static const char *const values[] = {"org", NULL};
    cli_args a;
    if (cli_parse(argc, argv, values, NULL, &a) != 0 ||
        cli_require_pos(&a, 1, "tessera group create --org ORG NAME") != 0)
        return CLI_USAGE;
    store *s;
    store_org org;
    int code = cli_open_org(&a, &s, &org);
    if (code != 0)
        return code;
    admin_ctx c = {s, "cli", "", ""};
    store_group g;
    err_t e;
    int rc = admin_group_create(&c, org.id, a.pos[0], &g, &e);
    s->ops->close(s);
    if (rc != 0)
        return cli_fail_err(&e);
    if (a.json)
        cli_print_json(json_pack("{s:s, s:s}", "id", g.id, "name", g.name));
    else
        puts(g.id);
    return CLI_OK;
}

static int print_group(void *ctx, const void *rec)
{
    const store_group *g = rec;
    json_t *list = ctx;
    if (list)
        json_array_append_new(list, json_pack("{s:s, s:s}", "id", g->id, "name", g->name));
    else
        printf("%s  %s\n", g->id, g->name);
    return 0;
}

static int each_group(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    return s->ops->group_each(s, org_id, fn, ctx, e);
}

int cmd_group_list(int argc, char **argv)
{
    return cli_list_command(argc, argv, "tessera group list --org ORG", 1, each_group, print_group);
}

int cmd_group_grant(int argc, char **argv)
{
    static const char *const values[] = {"org", "permission", NULL};
    cli_args a;
    if (cli_parse(argc, argv, values, NULL, &a) != 0 ||
        cli_require_pos(&a, 2, "tessera group grant --org ORG GROUP APP [--permission apps:view]") != 0)
        return CLI_USAGE;
    store *s;
    store_org org;
    int code = cli_open_org(&a, &s, &org);
    if (code != 0)
        return code;
    admin_ctx c = {s, "cli", "", ""};
    store_group g;
    store_app app;
    err_t e;
    const char *perm = cli_opt(&a, "permission") ? cli_opt(&a, "permission") : "apps:view";
    int rc = admin_find_group(s, org.id, a.pos[0], &g, &e);
    if (rc == 0)
        rc = admin_find_app(s, org.id, a.pos[1], &app, &e);
    if (rc == 0)
        rc = admin_group_grant(&c, org.id, g.id, app.id, perm, &e);
    s->ops->close(s);
    if (rc != 0)
        return cli_fail_err(&e);
    if (a.json)
        cli_print_json(json_pack("{s:s, s:s, s:s}", "group_id", g.id, "app_id", app.id, "permission", perm));
    else
        fprintf(stderr, "group %s now has %s on app %s\n", g.name, perm, app.name);
    return CLI_OK;
}

int cmd_group_add_member(int argc, char **argv)
{
    static const char *const values[] = {"org", NULL};
    cli_args a;
    if (cli_parse(argc, argv, values, NULL, &a) != 0 ||
        cli_require_pos(&a, 2, "tessera group add-member --org ORG GROUP EMAIL") != 0)
        return CLI_USAGE;
    store *s;
    store_org org;
    int code = cli_open_org(&a, &s, &org);
    if (code != 0)
        return code;
    admin_ctx c = {s, "cli", "", ""};
    store_group g;
    err_t e;
    int rc = admin_find_group(s, org.id, a.pos[0], &g, &e);
    if (rc == 0)
        rc = admin_group_add_member(&c, org.id, g.id, a.pos[1], &e);
    s->ops->close(s);
    if (rc != 0)
        return cli_fail_err(&e);
    if (a.json)
        cli_print_json(json_pack("{s:s, s:s}", "group_id", g.id, "email", a.pos[1]));
    else
        fprintf(stderr, "added to group %s\n", g.name);
    return CLI_OK;
}
