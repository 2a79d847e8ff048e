/* tessera token create|list|update|revoke */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "core/clock.h"
#include "domain/admin.h"
#include "domain/token_limit.h"

/* Expiry from --expires-in DAYS or --expires-at ISO8601 (default 90 days). */
static int parse_expiry(const cli_args *a, int64_t *expires_at)
{
    const char *in = cli_opt(a, "expires-in"), *at = cli_opt(a, "expires-at");
    if (in && at)
        return cli_fail(CLI_USAGE, "give --expires-in or --expires-at, not both");
    if (at) {
        if (clock_parse_iso8601(at, expires_at) != 0)
            return cli_fail(CLI_USAGE, "--expires-at must be an ISO 8601 date or time, e.g. 2027-03-01T00:00:00Z");
        return 0;
    }
    long days = ADMIN_TOKEN_DEFAULT_DAYS;
    if (in) {
        char *end;
        days = strtol(in, &end, 10);
        if (*in == '\0' || *end != '\0' || days < 1 || days > ADMIN_TOKEN_MAX_DAYS)
            return cli_fail(CLI_USAGE, "--expires-in must be a whole number of days from 1 to %d",
                            ADMIN_TOKEN_MAX_DAYS);
    }
    *expires_at = clock_now() + (int64_t)days * 86400;
    return 0;
}

/* --rate-limit RPS[:BURST]|off|default into the stored form (default when absent). */
static int parse_rate_limit(const cli_args *a, int64_t *rps, int64_t *burst)
{
    const char *text = cli_opt(a, "rate-limit");
    err_t e;
    *rps = STORE_RATE_DEFAULT;
    *burst = 0;
    if (text != NULL && token_limit_parse(text, rps, burst, &e) != 0)
        return cli_fail(CLI_USAGE, "%s", e.detail);
    return 0;
}

int cmd_token_create(int argc, char **argv)
{
    static const char *const values[] = {"org",        "name",       "type", "expires-in",
                                         "expires-at", "rate-limit", NULL};
    cli_args a;
    if (cli_parse(argc, argv, values, NULL, &a) != 0 ||
        cli_require_pos(&a, 0, "tessera token create --org ORG --name NAME [--type embed|admin] "
                               "[--expires-in DAYS | --expires-at ISO8601] "
                               "[--rate-limit RPS[:BURST]|off]") != 0)
        return CLI_USAGE;
    if (cli_opt(&a, "name") == NULL)
        return cli_fail(CLI_USAGE, "--name NAME is required");
    int64_t expires_at, rps, burst;
    int code = parse_expiry(&a, &expires_at);
    if (code != 0 || (code = parse_rate_limit(&a, &rps, &burst)) != 0)
        return code;
    store *s;
    store_org org;
    if ((code = cli_open_org(&a, &s, &org)) != 0)
        return code;
    admin_ctx c = {s, "cli", "", ""};
    store_token t;
    char value[ACCESS_TOKEN_LEN + 1];
    err_t e;
    const char *type = cli_opt(&a, "type") ? cli_opt(&a, "type") : "embed";
    int rc = admin_token_create(&c, org.id, cli_opt(&a, "name"), type, expires_at, rps, burst, &t,
                                value, &e);
    s->ops->close(s);
    if (rc != 0)
        return cli_fail_err(&e);
    char when[21];
    clock_iso8601(t.expires_at, when);
    if (a.json)
        cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "id", t.id, "token", value, "expires_at", when,
                                 "type", t.type));
    else
        puts(value);
    explicit_bzero(value, sizeof(value));
    fprintf(stderr, "token %s (%s, expires %s). The value is shown only once: store it now.\n", t.id,
            t.type, when);
    return CLI_OK;
}

static int print_token(void *ctx, const void *rec)
{
    const store_token *t = rec;
    json_t *list = ctx;
    char created[21], expires[21], used[21] = "never", revoked[21] = "", limit[48];
    clock_iso8601(t->created_at, created);
    clock_iso8601(t->expires_at, expires);
    if (t->last_used_at)
        clock_iso8601(t->last_used_at, used);
    if (t->revoked_at)
        clock_iso8601(t->revoked_at, revoked);
    if (list) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", t->id, "name", t->name, "type",
                              t->type, "prefix", t->prefix, "created_by", t->created_by, "created_at",
                              created, "expires_at", expires);
        json_object_set_new(o, "last_used_at", t->last_used_at ? json_string(used) : json_null());
        json_object_set_new(o, "revoked_at", t->revoked_at ? json_string(revoked) : json_null());
        json_object_set_new(o, "rate_limit", token_limit_json(t));
        json_array_append_new(list, o);
    } else {
        token_limit_text(t, limit, sizeof(limit));
        printf("%s  %-5s  %s…  expires %s  last used %s  rate %s%s%s  %s\n", t->id, t->type,
               t->prefix, expires, used, limit, t->revoked_at ? "  REVOKED " : "", revoked, t->name);
    }
    return 0;
}

static int each_token(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    return s->ops->token_each(s, org_id, fn, ctx, e);
}

int cmd_token_list(int argc, char **argv)
{
    return cli_list_command(argc, argv, "tessera token list --org ORG", 1, each_token, print_token);
}

int cmd_token_update(int argc, char **argv)
{
    static const char *const values[] = {"org", "rate-limit", NULL};
    static const char usage[] =
        "tessera token update --org ORG TOKEN_ID --rate-limit RPS[:BURST]|off|default";
    cli_args a;
    if (cli_parse(argc, argv, values, NULL, &a) != 0 || cli_require_pos(&a, 1, usage) != 0)
        return CLI_USAGE;
    if (cli_opt(&a, "rate-limit") == NULL)
        return cli_fail(CLI_USAGE, "nothing to change; usage: %s", usage);
    int64_t rps, burst;
    int code = parse_rate_limit(&a, &rps, &burst);
    store *s;
    store_org org;
    if (code != 0 || (code = cli_open_org(&a, &s, &org)) != 0)
        return code;
    admin_ctx c = {s, "cli", "", ""};
    store_token t;
    err_t e;
    int rc = admin_token_set_rate_limit(&c, org.id, a.pos[0], rps, burst, &t, &e);
    s->ops->close(s);
    if (rc != 0)
        return cli_fail_err(&e);
    char limit[48];
    token_limit_text(&t, limit, sizeof(limit));
    if (a.json)
        cli_print_json(json_pack("{s:s, s:o}", "id", t.id, "rate_limit", token_limit_json(&t)));
    else
        fprintf(stderr, "token %s: rate limit %s (requests per second:burst, on each node)\n", t.id,
                limit);
    return CLI_OK;
}

int cmd_token_revoke(int argc, char **argv)
{
    return cli_row_command(argc, argv, "tessera token revoke --org ORG TOKEN_ID", admin_token_revoke, "revoked", "token",
                           " revoked; its sessions are refused from now on");
}
