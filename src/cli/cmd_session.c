/* tessera session list|revoke - a user's sessions, and ending them early. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "core/clock.h"
#include "domain/email.h"
#include "domain/revocation.h"

#define SESSION_REVOKE_USAGE "tessera session revoke --org ORG (--email EMAIL | --jti JTI)"

static int print_session(void *ctx, const void *rec)
{
    const store_session *s = rec;
    json_t *list = ctx;
    char issued[21], expires[21];
    clock_iso8601(s->issued_at, issued);
    clock_iso8601(s->expires_at, expires);
    if (list)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "jti", s->jti, "email", s->email,
                                              "user_type", s->user_type, "access_token_id", s->atid, "issued_at",
                                              issued, "expires_at", expires, "revoked", s->revoked_at != 0));
    else
        printf("%s  issued %s  expires %s%s\n", s->jti, issued, expires, s->revoked_at ? "  REVOKED" : "");
    return 0;
}

int cmd_session_list(int argc, char **argv)
{
    static const char *const values[] = {"org", "email", NULL};
    cli_args a;
    if (cli_parse(argc, argv, values, NULL, &a) != 0 ||
        cli_require_pos(&a, 0, "tessera session list --org ORG --email EMAIL") != 0)
        return CLI_USAGE;
    if (cli_opt(&a, "email") == NULL)
        return cli_fail(CLI_USAGE, "usage: tessera session list --org ORG --email EMAIL");
    char email[STORE_EMAIL_MAX];
    err_t e;
    if (email_normalize(cli_opt(&a, "email"), strlen(cli_opt(&a, "email")), email, &e) != 0)
        return cli_fail_err(&e);
    store *s;
    store_org org;
    int code = cli_open_org(&a, &s, &org);
    if (code != 0)
        return code;
    json_t *list = a.json ? json_array() : NULL;
    int rc = s->ops->session_each_email(s, org.id, email, clock_now(), print_session, list, &e);
    s->ops->close(s);
    if (rc != 0) {
        json_decref(list);
        return cli_fail_err(&e);
    }
    if (list)
        cli_print_json(json_pack("{s:o}", "data", list));
    return CLI_OK;
}

int cmd_session_revoke(int argc, char **argv)
{
    static const char *const values[] = {"org", "email", "jti", NULL};
    cli_args a;
    if (cli_parse(argc, argv, values, NULL, &a) != 0 || cli_require_pos(&a, 0, SESSION_REVOKE_USAGE) != 0)
        return CLI_USAGE;
    const char *email = cli_opt(&a, "email"), *jti = cli_opt(&a, "jti");
    if ((email == NULL) == (jti == NULL))
        return cli_fail(CLI_USAGE, "usage: %s", SESSION_REVOKE_USAGE);
    store *s;
    store_org org;
    int code = cli_open_org(&a, &s, &org);
    if (code != 0)
        return code;
    admin_ctx c = {s, "cli", "", ""};
    err_t e;
    int64_t count = 1;
    int rc = email ? revoke_user_sessions(&c, org.id, email, &count, &e) : revoke_session(&c, org.id, jti, &e);
    s->ops->close(s);
    if (rc != 0)
        return cli_fail_err(&e);
    if (a.json)
        cli_print_json(json_pack("{s:I}", "revoked", (json_int_t)count));
    else
        fprintf(stderr, "%lld session(s) revoked; refused from now on (a running server: within a second)\n",
                (long long)count);
    return CLI_OK;
}
