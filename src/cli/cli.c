/* cli.c - dispatch of `tessera <command> [<verb>] ...` (docs/CLI.md). */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"

typedef struct {
    const char *group;
    const char *verb; /* NULL: the group is the whole command */
    int (*run)(int argc, char **argv);
    const char *usage;
} cli_command;

static const cli_command commands[] = {
    {"serve", NULL, cmd_serve,
     "serve [--listen ADDR:PORT] [--base-url URL] [--workers N] [--trust-proxy ADDR[/BITS],...]\n"
     "                [--metrics-token-file FILE]"},
    {"migrate", NULL, cmd_migrate, "migrate"},
    {"export", NULL, cmd_export, "export [--out FILE]   (every row, as JSON lines; docs/OPERATIONS.md)"},
    {"import", NULL, cmd_import, "import [--in FILE]    (into a new, migrated, empty database)"},
    {"demo", NULL, cmd_demo, "demo [--listen ADDR:PORT] [--site-listen ADDR:PORT]"},
    {"org", "create", cmd_org_create, "org create NAME"},
    {"org", "list", cmd_org_list, "org list"},
    {"org", "update", cmd_org_update, "org update ORG [--name NAME] [--session-ttl SECONDS]"},
    {"user", "add", cmd_user_add,
     "user add --org ORG EMAIL [--name N] [--role owner|admin|developer|end-user] [--password-stdin]"},
    {"user", "passwd", cmd_user_passwd, "user passwd --org ORG EMAIL   (new password on standard input)"},
    {"user", "list", cmd_user_list, "user list --org ORG"},
    {"token", "create", cmd_token_create,
     "token create --org ORG --name NAME [--type embed|admin] [--expires-in DAYS | --expires-at ISO8601]\n"
     "                [--rate-limit RPS[:BURST]|off]"},
    {"token", "list", cmd_token_list, "token list --org ORG"},
    {"token", "update", cmd_token_update, "token update --org ORG TOKEN_ID --rate-limit RPS[:BURST]|off|default"},
    {"token", "revoke", cmd_token_revoke, "token revoke --org ORG TOKEN_ID"},
    {"group", "create", cmd_group_create, "group create --org ORG NAME"},
    {"group", "list", cmd_group_list, "group list --org ORG"},
    {"group", "grant", cmd_group_grant, "group grant --org ORG GROUP APP [--permission apps:view]"},
    {"group", "add-member", cmd_group_add_member, "group add-member --org ORG GROUP EMAIL"},
    {"app", "create", cmd_app_create,
     "app create --org ORG NAME [--mode public|private|sso] [--allow-origin ORIGIN]..."},
    {"app", "list", cmd_app_list, "app list --org ORG"},
    {"app", "deploy", cmd_app_deploy, "app deploy --org ORG APP DIR"},
    {"session", "list", cmd_session_list, "session list --org ORG --email EMAIL"},
    {"session", "revoke", cmd_session_revoke, "session revoke --org ORG (--email EMAIL | --jti JTI)"},
    {"idp", "add", cmd_idp_add,
     "idp add --org ORG --issuer URL (--jwks-uri URL | --jwks-file FILE) [--audience AUD] [--name NAME]\n"
     "                [--email-claim CLAIM] [--algorithms RS256,PS256,ES256]"},
    {"idp", "list", cmd_idp_list, "idp list --org ORG"},
    {"idp", "remove", cmd_idp_remove, "idp remove --org ORG IDP_ID"},
    {"keys", "list", cmd_keys_list, "keys list"},
    {"keys", "rotate", cmd_keys_rotate, "keys rotate"},
    {"audit", NULL, cmd_audit, "audit --org ORG [--since ISO8601]"},
};

static void print_usage(FILE *out)
{
    fputs("usage: tessera <command> [options]   (every command takes --db URL and --json)\n\n", out);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  tessera %s\n", commands[i].usage);
    fputs("\n--db defaults to $TESSERA_DB, then sqlite:tessera.db. Details: docs/CLI.md\n", out);
}

int cli_main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        print_usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        puts("tessera 0.1.0");
        return CLI_OK;
    }
    int group_known = 0;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        const cli_command *c = &commands[i];
        if (strcmp(argv[1], c->group) != 0)
            continue;
        group_known = 1;
        if (c->verb == NULL)
            return c->run(argc - 2, argv + 2);
        if (argc >= 3 && strcmp(argv[2], c->verb) == 0)
            return c->run(argc - 3, argv + 3);
    }
    if (group_known)
        fprintf(stderr, "tessera: unknown or missing verb for '%s'; see tessera --help\n", argv[1]);
    else
        fprintf(stderr, "tessera: unknown command '%s'; see tessera --help\n", argv[1]);
    return CLI_USAGE;
}

void cli_print_json(json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    if (text != NULL) {
        puts(text);
        free(text);
    }
    json_decref(doc);
}
