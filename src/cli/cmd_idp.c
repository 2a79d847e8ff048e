/* tessera idp add|list|remove - trusted identity providers (token exchange). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "domain/idp.h"

#define IDP_ADD_USAGE                                                                              \
    "tessera idp add --org ORG --issuer URL (--jwks-uri URL | --jwks-file FILE) [--audience AUD] " \
    "[--name NAME] [--email-claim CLAIM] [--algorithms RS256,PS256,ES256]"

/* Reads a whole small file (an inline JWKS) into out[cap]. */
static int read_small_file(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return cli_fail(CLI_FAIL, "cannot open %s", path);
    size_t n = fread(out, 1, cap, f);
    int too_long = n == cap;
    fclose(f);
    if (too_long)
        return cli_fail(CLI_FAIL, "%s is larger than %zu bytes", path, cap - 1);
    out[n] = '\0';
    return 0;
}

int cmd_idp_add(int argc, char **argv)
{
    static const char *const values[] = {"org",  "issuer",      "jwks-uri",   "jwks-file",
                                         "name", "email-claim", "algorithms", "audience", NULL};
    cli_args a;
    if (cli_parse(argc, argv, values, NULL, &a) != 0 || cli_require_pos(&a, 0, IDP_ADD_USAGE) != 0)
        return CLI_USAGE;
    if (cli_opt(&a, "issuer") == NULL || (cli_opt(&a, "jwks-uri") == NULL) == (cli_opt(&a, "jwks-file") == NULL))
        return cli_fail(CLI_USAGE, "usage: %s", IDP_ADD_USAGE);
    char *jwks = NULL;
    if (cli_opt(&a, "jwks-file") != NULL) {
        jwks = malloc(STORE_JWKS_MAX);
        if (jwks == NULL || read_small_file(cli_opt(&a, "jwks-file"), jwks, STORE_JWKS_MAX) != 0) {
            free(jwks);
            return CLI_FAIL;
        }
    }
    idp_spec spec = {cli_opt(&a, "name"),        cli_opt(&a, "issuer"),      cli_opt(&a, "jwks-uri"), jwks,
                     cli_opt(&a, "audience"),    cli_opt(&a, "email-claim"), cli_opt(&a, "algorithms")};
    store *s;
    store_org org;
    int code = cli_open_org(&a, &s, &org);
    if (code != 0) {
        free(jwks);
        return code;
    }
    admin_ctx c = {s, "cli", "", ""};
    store_idp *p = malloc(sizeof(*p));
    err_t e;
    int rc = p ? admin_idp_add(&c, org.id, &spec, p, &e) : err_set(&e, ERR_INTERNAL, "out of memory");
    s->ops->close(s);
    free(jwks);
    if (rc == 0 && a.json)
        cli_print_json(idp_json(p));
    else if (rc == 0)
        puts(p->id);
    free(p);
    return rc == 0 ? CLI_OK : cli_fail_err(&e);
}

static int print_idp(void *ctx, const void *rec)
{
    const store_idp *p = rec;
    json_t *list = ctx;
    if (list)
        json_array_append_new(list, idp_json(p));
    else
        printf("%s  %s  %s  aud %s  keys %s\n", p->id, p->name, p->issuer, p->audience[0] ? p->audience : "(any)",
               p->jwks_uri[0] ? p->jwks_uri : "(inline)");
    return 0;
}

static int each_idp(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    return s->ops->idp_each(s, org_id, fn, ctx, e);
}

int cmd_idp_list(int argc, char **argv)
{
    return cli_list_command(argc, argv, "tessera idp list --org ORG", 1, each_idp, print_idp);
}

int cmd_idp_remove(int argc, char **argv)
{
    return cli_row_command(argc, argv, "tessera idp remove --org ORG IDP_ID", admin_idp_remove, "removed",
                           "identity provider", " removed");
}
