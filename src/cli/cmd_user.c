/* tessera user add|passwd|list */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "core/clock.h"
#include "domain/admin.h"
#include "domain/email.h"

/* Reads one line from stdin (without the newline) into pw[cap]. */
static int read_password(char *pw, size_t cap)
{
    if (fgets(pw, (int)cap, stdin) == NULL)
        return -1;
    size_t n = strlen(pw);
    while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
        pw[--n] = '\0';
    return 0;
}

int cmd_user_add(int argc, char **argv)
{
    static const char *const values[] = {"org", "name", "role", NULL};
    static const char *const flags[] = {"password-stdin", NULL};
    cli_args a;
    if (cli_parse(argc, argv, values, flags, &a) != 0 ||
        cli_require_pos(&a, 1, "tessera user add --org ORG EMAIL [--name N] [--role R] [--password-stdin]") != 0)
        return CLI_USAGE;
    char pw[1100] = "";
    if (cli_flag(&a, "password-stdin") && read_password(pw, sizeof(pw)) != 0)
        return cli_fail(CLI_USAGE, "--password-stdin: no password on standard input");
    store *s;
    store_org org;
    int code = cli_open_org(&a, &s, &org);
    if (code != 0)
        return code;
    admin_ctx c = {s, "cli", "", ""};
    const char *role = cli_opt(&a, "role") ? cli_opt(&a, "role") : "end-user";
    store_user u;
    err_t e;
    int rc = admin_user_add(&c, org.id, a.pos[0], cli_opt(&a, "name"), role,
                            cli_flag(&a, "password-stdin") ? pw : NULL, &u, &e);
    explicit_bzero(pw, sizeof(pw));
    s->ops->close(s);
    if (rc != 0)
        return cli_fail_err(&e);
    if (a.json)
        cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "id", u.id, "email", u.email, "role", u.role,
                                 "org_id", u.org_id));
    else
        puts(u.id);
    return CLI_OK;
}

/* A new password for an existing user, read from stdin; it ends the
 * user's console sign-ins (store: user_update). */
int cmd_user_passwd(int argc, char **argv)
{
    static const char *const values[] = {"org", NULL};
    cli_args a;
    if (cli_parse(argc, argv, values, NULL, &a) != 0 ||
        cli_require_pos(&a, 1, "tessera user passwd --org ORG EMAIL   (the password on standard input)") != 0)
        return CLI_USAGE;
    char pw[1100] = "", email[STORE_EMAIL_MAX];
    err_t e;
    if (email_normalize(a.pos[0], strlen(a.pos[0]), email, &e) != 0)
        return cli_fail_err(&e);
    if (read_password(pw, sizeof(pw)) != 0)
        return cli_fail(CLI_USAGE, "no password on standard input");
    store *s;
    store_org org;
    int code = cli_open_org(&a, &s, &org);
    if (code != 0) {
        explicit_bzero(pw, sizeof(pw));
        return code;
    }
    admin_ctx c = {s, "cli", "", ""};
    store_user u;
    int rc = s->ops->user_find_email(s, org.id, email, &u, &e);
    if (rc == 0)
        rc = admin_user_set_password(&c, org.id, u.id, pw, &e);
    explicit_bzero(pw, sizeof(pw));
    s->ops->close(s);
    if (rc != 0)
        return cli_fail_err(&e);
    if (a.json)
        cli_print_json(json_pack("{s:s, s:s, s:b}", "id", u.id, "email", u.email, "password_set", 1));
    else
        puts(u.id);
    return CLI_OK;
}

static int print_user(void *ctx, const void *rec)
{
    const store_user *u = rec;
    json_t *list = ctx;
    if (list)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:b}", "id", u->id, "email", u->email,
                                              "name", u->name, "role", u->role, "has_password",
                                              u->password_hash[0] != '\0'));
    else
        printf("%s  %-9s  %s  %s\n", u->id, u->role, u->email, u->name);
    return 0;
}

static int each_user(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    return s->ops->user_each(s, org_id, fn, ctx, e);
}

int cmd_user_list(int argc, char **argv)
{
    return cli_list_command(argc, argv, "tessera user list --org ORG", 1, each_user, print_user);
}
