/* tessera keys list|rotate, tessera audit */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "core/clock.h"
#include "domain/admin.h"
#include "domain/signing_keys.h"

static int print_key(void *ctx, const void *rec)
{
    const store_key *k = rec;
    json_t *list = ctx;
    char created[21];
    clock_iso8601(k->created_at, created);
    if (list)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "kid", k->kid, "alg", k->alg,
                                              "state", k->state, "created_at", created));
    else
        printf("%s  %s  %-8s  %s\n", k->kid, k->alg, k->state, created);
    return 0;
}

static int each_key(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    (void)org_id;
    return s->ops->key_each(s, fn, ctx, e);
}

int cmd_keys_list(int argc, char **argv)
{
    return cli_list_command(argc, argv, "tessera keys list", 0, each_key, print_key);
}

int cmd_keys_rotate(int argc, char **argv)
{
    cli_args a;
    if (cli_parse(argc, argv, NULL, NULL, &a) != 0 || cli_require_pos(&a, 0, "tessera keys rotate") != 0)
        return CLI_USAGE;
    err_t e;
    unsigned char master[MASTER_KEY_LEN];
    store *s = cli_open_store(&a, &e);
    if (s == NULL)
        return cli_fail_err(&e);
    char kid[64];
    int rc = signing_keys_master_key(s, a.db_url, master, &e);
    if (rc == 0)
        rc = signing_keys_rotate(s, master, "cli", kid, &e);
    explicit_bzero(master, sizeof(master));
    s->ops->close(s);
    if (rc != 0)
        return cli_fail_err(&e);
    if (a.json)
        cli_print_json(json_pack("{s:s}", "kid", kid));
    else
        puts(kid);
    return CLI_OK;
}

static int print_audit(void *ctx, const void *rec)
{
    const store_audit *ev = rec;
    json_t *list = ctx;
    char at[21];
    clock_iso8601(ev->at, at);
    json_error_t je;
    json_t *detail = json_loads(ev->detail, 0, &je);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "id", ev->id, "at", at, "actor",
                          ev->actor, "action", ev->action, "target", ev->target, "client", ev->client,
                          "request_id", ev->request_id, "detail", detail ? detail : json_object());
    if (list) {
        json_array_append_new(list, o);
    } else {
        char *line = json_dumps(o, JSON_COMPACT);
        if (line)
            puts(line);
        free(line);
        json_decref(o);
    }
    return 0;
}

int cmd_audit(int argc, char **argv)
{
    static const char *const values[] = {"org", "since", NULL};
    cli_args a;
    if (cli_parse(argc, argv, values, NULL, &a) != 0 ||
        cli_require_pos(&a, 0, "tessera audit --org ORG [--since ISO8601]") != 0)
        return CLI_USAGE;
    int64_t since = 0;
    if (cli_opt(&a, "since") && clock_parse_iso8601(cli_opt(&a, "since"), &since) != 0)
        return cli_fail(CLI_USAGE, "--since must be an ISO 8601 date or time");
    store *s;
    store_org org;
    int code = cli_open_org(&a, &s, &org);
    if (code != 0)
        return code;
    json_t *list = a.json ? json_array() : NULL;
    err_t e;
    int rc = s->ops->audit_each(s, org.id, since, print_audit, list, &e);
    s->ops->close(s);
    if (rc != 0) {
        json_decref(list);
        return cli_fail_err(&e);
    }
    if (list)
        cli_print_json(json_pack("{s:o}", "data", list));
    return CLI_OK;
}
