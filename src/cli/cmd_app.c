/* tessera app create|list|deploy */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "core/clock.h"
#include "domain/admin.h"

int cmd_app_create(int argc, char **argv)
{
    static const char *const values[] = {"org", "mode", "allow-origin", NULL};
    cli_args a;
    if (cli_parse(argc, argv, values, NULL, &a) != 0 ||
        cli_require_pos(&a, 1, "tessera app create --org ORG NAME [--mode public|private|sso] [--allow-origin ORIGIN]...") != 0)
        return CLI_USAGE;
    const char *origins[ADMIN_MAX_ORIGINS + 1];
    size_t norigins = cli_opt_all(&a, "allow-origin", origins, ADMIN_MAX_ORIGINS + 1);
    store *s;
    store_org org;
    int code = cli_open_org(&a, &s, &org);
    if (code != 0)
        return code;
    admin_ctx c = {s, "cli", "", ""};
    store_app app;
    err_t e;
    const char *mode = cli_opt(&a, "mode") ? cli_opt(&a, "mode") : "sso";
    int rc = admin_app_create(&c, org.id, a.pos[0], mode, origins, norigins, &app, &e);
    s->ops->close(s);
    if (rc != 0)
        return cli_fail_err(&e);
    if (a.json)
        cli_print_json(json_pack("{s:s, s:s, s:s, s:o}", "id", app.id, "name", app.name, "mode", app.mode,
                                 "allowed_origins", admin_origins_json(app.allowed_origins)));
    else
        puts(app.id);
    return CLI_OK;
}

static int print_app(void *ctx, const void *rec)
{
    const store_app *app = rec;
    json_t *list = ctx;
    if (list) {
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:o}", "id", app->id, "name", app->name,
                                              "mode", app->mode, "allowed_origins",
                                              admin_origins_json(app->allowed_origins)));
    } else {
        json_t *o = admin_origins_json(app->allowed_origins);
        char *text = json_dumps(o, JSON_COMPACT);
        printf("%s  %-7s  %s  origins %s\n", app->id, app->mode, app->name, text ? text : "[]");
        free(text);
        json_decref(o);
    }
    return 0;
}

static int each_app(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    return s->ops->app_each(s, org_id, fn, ctx, e);
}

int cmd_app_list(int argc, char **argv)
{
    return cli_list_command(argc, argv, "tessera app list --org ORG", 1, each_app, print_app);
}

int cmd_app_deploy(int argc, char **argv)
{
    static const char *const values[] = {"org", NULL};
    cli_args a;
    if (cli_parse(argc, argv, values, NULL, &a) != 0 ||
        cli_require_pos(&a, 2, "tessera app deploy --org ORG APP DIR") != 0)
        return CLI_USAGE;
    store *s;
    store_org org;
    int code = cli_open_org(&a, &s, &org);
    if (code != 0)
        return code;
    admin_ctx c = {s, "cli", "", ""};
    store_app app;
    store_app_version v;
    err_t e;
    int rc = admin_find_app(s, org.id, a.pos[0], &app, &e);
    if (rc == 0)
        rc = admin_app_deploy(&c, org.id, app.id, a.pos[1], &v, &e);
    s->ops->close(s);
    if (rc != 0)
        return cli_fail_err(&e);
    if (a.json)
        cli_print_json(json_pack("{s:s, s:s, s:I, s:I, s:I}", "id", v.id, "app_id", v.app_id, "version",
                                 (json_int_t)v.version, "files", (json_int_t)v.file_count, "bytes",
                                 (json_int_t)v.total_bytes));
    else
        puts(v.id);
    return CLI_OK;
}
