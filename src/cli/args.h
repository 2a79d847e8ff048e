/* args.h - command-line parsing shared by every command.
 *
 * "--name value", "--name=value" and flags; "--" ends options. Each command
 * names the options it takes; --db and --json are accepted by all. */
#ifndef TESSERA_CLI_ARGS_H
#define TESSERA_CLI_ARGS_H

#include <stddef.h>

#include "domain/admin.h"
#include "store/store.h"

#define CLI_MAX_POS 8
#define CLI_MAX_OPTS 64

typedef struct {
    const char *pos[CLI_MAX_POS];
    int npos;
    char opt_name[CLI_MAX_OPTS][32];
    const char *opt_value[CLI_MAX_OPTS]; /* NULL for flags */
    int nopts;
    int json;
    const char *db_url;
} cli_args;

/* value_opts / flag_opts: NULL-terminated lists of names without "--".
 * Returns 0, or -1 after printing a one-line usage error. */
int cli_parse(int argc, char **argv, const char *const *value_opts, const char *const *flag_opts,
              cli_args *out);

const char *cli_opt(const cli_args *a, const char *name); /* last value or NULL */
int cli_flag(const cli_args *a, const char *name);
size_t cli_opt_all(const cli_args *a, const char *name, const char **out, size_t max);

/* Prints "tessera: <message>" on stderr and returns the exit code. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Exit code for a domain error: 1. Prints e's detail. */
int cli_fail_err(const err_t *e);

/* Opens and migrates the store named by --db / $TESSERA_DB / sqlite:tessera.db. */
store *cli_open_store(const cli_args *a, err_t *e);

/* Requires exactly n positional arguments; prints usage otherwise. */
int cli_require_pos(const cli_args *a, int n, const char *usage);

/* Opens the store and resolves the required --org (id or unique name).
 * Returns 0, or an exit code after printing the error (nothing left open). */
int cli_open_org(const cli_args *a, store **s, store_org *org);

/* A list command: `each` walks the rows (of --org when needs_org) and print
 * shows each one: its ctx is the JSON array to fill with --json, else NULL
 * (print a text line). Returns the exit code. */
typedef int (*cli_each_op)(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e);
int cli_list_command(int argc, char **argv, const char *usage, int needs_org, cli_each_op each,
                     store_each_fn print);

/* A command on one row of --org named by its only argument (revoke,
 * remove...): runs op as the CLI actor, then prints {"id", done_key: true}
 * with --json, else "<noun> <id><done_text>" on stderr. Returns the exit code. */
typedef int (*cli_row_op)(const admin_ctx *c, const char *org_id, const char *id, err_t *e);
int cli_row_command(int argc, char **argv, const char *usage, cli_row_op op, const char *done_key,
                    const char *noun, const char *done_text);

#endif
