#include "cli/args.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "domain/admin.h"

static int in_list(const char *const *list, const char *name, size_t len)
{
    for (; list && *list; list++)
        if (strlen(*list) == len && strncmp(*list, name, len) == 0)
            return 1;
    return 0;
}

static int add_opt(cli_args *out, const char *name, size_t len, const char *value)
{
    if (out->nopts == CLI_MAX_OPTS)
        return cli_fail(CLI_USAGE, "too many options");
    snprintf(out->opt_name[out->nopts], sizeof(out->opt_name[0]), "%.*s", (int)len, name);
    out->opt_value[out->nopts] = value;
    out->nopts++;
    return 0;
}

int cli_parse(int argc, char **argv, const char *const *value_opts, const char *const *flag_opts,
              cli_args *out)
{
    static const char *const global_values[] = {"db", NULL};
    static const char *const global_flags[] = {"json", NULL};
    memset(out, 0, sizeof(*out));
    int options_done = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (options_done || strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            if (!options_done && strcmp(arg, "--") == 0) {
                options_done = 1;
                continue;
            }
            if (out->npos == CLI_MAX_POS)
                return cli_fail(CLI_USAGE, "too many arguments"), -1;
            out->pos[out->npos++] = arg;
            continue;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        if (in_list(value_opts, name, len) || in_list(global_values, name, len)) {
            const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (value == NULL)
                return cli_fail(CLI_USAGE, "--%.*s needs a value", (int)len, name), -1;
            if (add_opt(out, name, len, value) != 0)
                return -1;
        } else if (in_list(flag_opts, name, len) || in_list(global_flags, name, len)) {
            if (eq)
                return cli_fail(CLI_USAGE, "--%.*s takes no value", (int)len, name), -1;
            if (add_opt(out, name, len, NULL) != 0)
                return -1;
        } else {
            return cli_fail(CLI_USAGE, "unknown option --%.*s (see tessera --help)", (int)len, name), -1;
        }
    }
    out->json = cli_flag(out, "json");
    out->db_url = cli_opt(out, "db");
    if (out->db_url == NULL)
        out->db_url = getenv("TESSERA_DB");
    if (out->db_url == NULL || out->db_url[0] == '\0')
        out->db_url = "sqlite:tessera.db";
    return 0;
}

const char *cli_opt(const cli_args *a, const char *name)
{
    const char *v = NULL;
    for (int i = 0; i < a->nopts; i++)
        if (strcmp(a->opt_name[i], name) == 0 && a->opt_value[i] != NULL)
            v = a->opt_value[i];
    return v;
}

int cli_flag(const cli_args *a, const char *name)
{
    for (int i = 0; i < a->nopts; i++)
        if (strcmp(a->opt_name[i], name) == 0 && a->opt_value[i] == NULL)
            return 1;
    return 0;
}

size_t cli_opt_all(const cli_args *a, const char *name, const char **out, size_t max)
{
    size_t n = 0;
    for (int i = 0; i < a->nopts && n < max; i++)
        if (strcmp(a->opt_name[i], name) == 0 && a->opt_value[i] != NULL)
            out[n++] = a->opt_value[i];
    return n;
}

int cli_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tessera: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

int cli_fail_err(const err_t *e)
{
    return cli_fail(CLI_FAIL, "%s", e->detail);
}

store *cli_open_store(const cli_args *a, err_t *e)
{
    store *s = store_open(a->db_url, e);
    if (s == NULL)
        return NULL;
    if (s->ops->migrate(s, e) != 0) {
        s->ops->close(s);
        return NULL;
    }
    return s;
}

int cli_require_pos(const cli_args *a, int n, const char *usage)
{
    if (a->npos == n)
        return 0;
    cli_fail(CLI_USAGE, "usage: %s", usage);
    return -1;
}

int cli_open_org(const cli_args *a, store **s, store_org *org)
{
    const char *name = cli_opt(a, "org");
    if (name == NULL)
        return cli_fail(CLI_USAGE, "--org ORG is required");
    err_t e;
    *s = cli_open_store(a, &e);
    if (*s == NULL)
        return cli_fail_err(&e);
    if (admin_find_org(*s, name, org, &e) != 0) {
        (*s)->ops->close(*s);
        *s = NULL;
        return cli_fail_err(&e);
    }
    return 0;
}

int cli_list_command(int argc, char **argv, const char *usage, int needs_org, cli_each_op each,
                     store_each_fn print)
{
    static const char *const values[] = {"org", NULL};
    cli_args a;
    if (cli_parse(argc, argv, needs_org ? values : NULL, NULL, &a) != 0 || cli_require_pos(&a, 0, usage) != 0)
        return CLI_USAGE;
    store *s = NULL;
    store_org org = {0};
    err_t e;
    if (needs_org) {
        int code = cli_open_org(&a, &s, &org);
        if (code != 0)
            return code;
    } else if ((s = cli_open_store(&a, &e)) == NULL) {
        return cli_fail_err(&e);
    }
    json_t *list = a.json ? json_array() : NULL;
    int rc = each(s, org.id, print, list, &e);
    s->ops->close(s);
    if (rc != 0) {
        json_decref(list);
        return cli_fail_err(&e);
    }
    if (list)
        cli_print_json(json_pack("{s:o}", "data", list));
    return CLI_OK;
}

int cli_row_command(int argc, char **argv, const char *usage, cli_row_op op, const char *done_key,
                    const char *noun, const char *done_text)
{
    static const char *const values[] = {"org", NULL};
    cli_args a;
    if (cli_parse(argc, argv, values, NULL, &a) != 0 || cli_require_pos(&a, 1, usage) != 0)
        return CLI_USAGE;
    store *s;
    store_org org;
    int code = cli_open_org(&a, &s, &org);
    if (code != 0)
        return code;
    admin_ctx c = {s, "cli", "", ""};
    err_t e;
    int rc = op(&c, org.id, a.pos[0], &e);
    s->ops->close(s);
    if (rc != 0)
        return cli_fail_err(&e);
    if (a.json)
        cli_print_json(json_pack("{s:s, s:b}", "id", a.pos[0], done_key, 1));
    else
        fprintf(stderr, "%s %s%s\n", noun, a.pos[0], done_text);
    return CLI_OK;
}
