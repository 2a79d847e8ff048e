/* tessera org create|list, tessera migrate */
#include <stdio.h>
#include <stdlib.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "core/clock.h"
#include "domain/admin.h"

int cmd_migrate(int argc, char **argv)
{
    cli_args a;
    if (cli_parse(argc, argv, NULL, NULL, &a) != 0)
        return CLI_USAGE;
    if (cli_require_pos(&a, 0, "tessera migrate") != 0)
        return CLI_USAGE;
    err_t e;
    store *s = cli_open_store(&a, &e);
    if (s == NULL)
        return cli_fail_err(&e);
    s->ops->close(s);
    if (a.json)
        cli_print_json(json_pack("{s:b}", "migrated", 1));
    else
        fprintf(stderr, "database is up to date\n");
    return CLI_OK;
}

int cmd_org_create(int argc, char **argv)
{
    cli_args a;
    if (cli_parse(argc, argv, NULL, NULL, &a) != 0)
        return CLI_USAGE;
    if (cli_require_pos(&a, 1, "tessera org create NAME") != 0)
        return CLI_USAGE;
    err_t e;
    store *s = cli_open_store(&a, &e);
    if (s == NULL)
        return cli_fail_err(&e);
    admin_ctx c = {s, "cli", "", ""};
    store_org org;
    int rc = admin_org_create(&c, a.pos[0], &org, &e);
    s->ops->close(s);
    if (rc != 0)
        return cli_fail_err(&e);
    if (a.json)
        cli_print_json(json_pack("{s:s, s:s}", "id", org.id, "name", org.name));
    else
        puts(org.id);
    return CLI_OK;
}

int cmd_org_update(int argc, char **argv)
{
    static const char *const values[] = {"name", "session-ttl", NULL};
    cli_args a;
    if (cli_parse(argc, argv, values, NULL, &a) != 0 ||
        cli_require_pos(&a, 1, "tessera org update ORG [--name NAME] [--session-ttl SECONDS]") != 0)
        return CLI_USAGE;
    long long ttl = 0;
    const char *ttl_text = cli_opt(&a, "session-ttl");
    if (ttl_text != NULL) {
        char *end;
        ttl = strtoll(ttl_text, &end, 10);
        if (*ttl_text == '\0' || *end != '\0' || ttl < 1 || ttl > ADMIN_SESSION_TTL_MAX)
            return cli_fail(CLI_USAGE, "--session-ttl must be 1 to %d seconds", ADMIN_SESSION_TTL_MAX);
    }
    err_t e;
    store *s = cli_open_store(&a, &e);
    if (s == NULL)
        return cli_fail_err(&e);
    admin_ctx c = {s, "cli", "", ""};
    store_org org;
    int rc = admin_find_org(s, a.pos[0], &org, &e);
    if (rc == 0)
        rc = admin_org_update(&c, org.id, cli_opt(&a, "name"), ttl, &org, &e);
    s->ops->close(s);
    if (rc != 0)
        return cli_fail_err(&e);
    if (a.json)
        cli_print_json(json_pack("{s:s, s:s, s:I}", "id", org.id, "name", org.name, "session_ttl",
                                 (json_int_t)org.session_ttl));
    else
        fprintf(stderr, "organization %s updated (sessions last %lld seconds)\n", org.name,
                (long long)org.session_ttl);
    return CLI_OK;
}

static int print_org(void *ctx, const void *rec)
{
    const store_org *o = rec;
    json_t *list = ctx;
    char created[21];
    clock_iso8601(o->created_at, created);
    if (list)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "id", o->id, "name", o->name,
                                              "created_at", created));
    else
        printf("%s  %s  %s\n", o->id, created, o->name);
    return 0;
}

static int each_org(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    (void)org_id;
    return s->ops->org_each(s, fn, ctx, e);
}

int cmd_org_list(int argc, char **argv)
{
    return cli_list_command(argc, argv, "tessera org list", 0, each_org, print_org);
}
