/* tessera export | import - move an installation between databases
 * (e.g. SQLite to PostgreSQL): every row of every table, as JSON lines.
 *
 * The dump (docs/OPERATIONS.md, "Moving from SQLite to PostgreSQL"):
 *
 *   {"tessera_export":1,"schema":7}            header: format and schema version
 *   {"table":"orgs","columns":["id",...]}      before the rows of each table
 *   ["9b2f...","Acme",...]                     one row: strings, integers, null,
 *                                              {"b64u":"..."} for bytes
 *   {"end":{"rows":1234}}                      the count, so a cut file is refused
 *
 * It holds everything the database holds: token hashes, password hashes and
 * the sealed keys (useless without the master key, which is not in it), so
 * --out creates the file with mode 0600 and never overwrites one. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "core/xalloc.h"
#include "jwt/b64url.h"

#define DUMP_FORMAT 1

/* ---- export ---- */

typedef struct {
    FILE *out;
    const char *table; /* of the last "columns" line written */
    int64_t rows;
    int failed;        /* a write failed */
} export_ctx;

static json_t *value_json(const store_value *v)
{
    switch (v->kind) {
    case STORE_VALUE_INT:
        return json_integer(v->i);
    case STORE_VALUE_TEXT: {
        json_t *s = json_stringn(v->s, v->len);
        if (s != NULL)
            return s;
        break; /* not UTF-8: kept as bytes */
    }
    case STORE_VALUE_BLOB:
        break;
    case STORE_VALUE_NULL:
    default:
        return json_null();
    }
    char *b64 = xmalloc(b64url_encoded_len(v->len) + 1);
    b64url_encode(v->s, v->len, b64);
    json_t *o = json_pack("{s:s}", "b64u", b64);
    free(b64);
    return o;
}

static int write_line(export_ctx *x, json_t *doc)
{
    if (doc == NULL || json_dumpf(doc, x->out, JSON_COMPACT) != 0 || fputc('\n', x->out) == EOF)
        x->failed = 1;
    json_decref(doc);
    return x->failed;
}

static int export_row(void *ctx, const store_row *row)
{
    export_ctx *x = ctx;
    if (x->table == NULL || strcmp(x->table, row->table) != 0) {
        json_t *cols = json_array();
        for (size_t i = 0; i < row->ncols; i++)
            json_array_append_new(cols, json_string(row->columns[i]));
        if (write_line(x, json_pack("{s:s, s:o}", "table", row->table, "columns", cols)) != 0)
            return 1;
        x->table = row->table;
    }
    json_t *values = json_array();
    for (size_t i = 0; i < row->ncols; i++)
        json_array_append_new(values, value_json(&row->values[i]));
    if (write_line(x, values) != 0)
        return 1;
    x->rows++;
    return 0;
}

/* --out FILE: a new file, mode 0600 (the dump holds hashes and sealed keys). */
static FILE *open_out(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "w");
    if (f == NULL)
        close(fd);
    return f;
}

int cmd_export(int argc, char **argv)
{
    static const char *const opts[] = {"out", NULL};
    cli_args a;
    if (cli_parse(argc, argv, opts, NULL, &a) != 0 || cli_require_pos(&a, 0, "tessera export [--out FILE]") != 0)
        return CLI_USAGE;
    const char *path = cli_opt(&a, "out");
    export_ctx x = {stdout, NULL, 0, 0};
    int64_t schema = 0;
    int code = CLI_OK;
    err_t e;
    store *s = cli_open_store(&a, &e);
    if (s == NULL)
        return cli_fail_err(&e);
    if (s->ops->schema_version(s, &schema, &e) != 0) {
        code = cli_fail_err(&e);
        goto out;
    }
    if (path != NULL && (x.out = open_out(path)) == NULL) {
        code = cli_fail(CLI_FAIL, "cannot create %s: %s (an existing file is never overwritten)", path,
                        strerror(errno));
        goto out;
    }
    if (write_line(&x, json_pack("{s:i, s:I}", "tessera_export", DUMP_FORMAT, "schema", (json_int_t)schema)) != 0 ||
        s->ops->export_rows(s, export_row, &x, &e) != 0 ||
        write_line(&x, json_pack("{s:{s:I}}", "end", "rows", (json_int_t)x.rows)) != 0 || fflush(x.out) != 0 ||
        (path != NULL && fsync(fileno(x.out)) != 0)) {
        code = x.failed ? cli_fail(CLI_FAIL, "cannot write the dump: %s", strerror(errno)) : cli_fail_err(&e);
        goto out;
    }
    fprintf(stderr, "exported %lld rows (schema %lld)%s%s\n", (long long)x.rows, (long long)schema,
            path ? " to " : "", path ? path : "");
out:
    if (x.out != stdout && x.out != NULL && fclose(x.out) != 0 && code == CLI_OK)
        code = cli_fail(CLI_FAIL, "cannot write the dump: %s", strerror(errno));
    s->ops->close(s);
    return code;
}

/* ---- import ---- */

#define IMPORT_MAX_COLUMNS 16

typedef struct {
    FILE *in;
    char *line; /* getline's buffer, owned */
    size_t cap;
    int64_t lineno;
    json_t *header;  /* the current table's "columns" line, owned */
    json_t *row;     /* the current row line, owned */
    const char *columns[IMPORT_MAX_COLUMNS];
    store_value values[IMPORT_MAX_COLUMNS];
    unsigned char *bytes[IMPORT_MAX_COLUMNS]; /* decoded b64u values of the row, owned */
    int64_t rows;
    int64_t end_rows; /* from the end line; -1 until seen */
} import_ctx;

static void free_row(import_ctx *m)
{
    json_decref(m->row);
    m->row = NULL;
    for (size_t i = 0; i < IMPORT_MAX_COLUMNS; i++) {
        free(m->bytes[i]);
        m->bytes[i] = NULL;
    }
}

/* The next line as JSON; NULL with *e set at the end of input or on bad JSON. */
static json_t *read_line(import_ctx *m, int *eof, err_t *e)
{
    *eof = 0;
    errno = 0;
    if (getline(&m->line, &m->cap, m->in) < 0) {
        if (errno != 0)
            err_set(e, ERR_UNAVAILABLE, "cannot read the dump: %s", strerror(errno));
        *eof = errno == 0;
        return NULL;
    }
    m->lineno++;
    json_t *doc = json_loads(m->line, JSON_REJECT_DUPLICATES, NULL);
    if (doc == NULL)
        err_set(e, ERR_INVALID_REQUEST, "line %lld of the dump is not JSON", (long long)m->lineno);
    return doc;
}

static int set_table(import_ctx *m, json_t *doc, err_t *e)
{
    json_t *cols = json_object_get(doc, "columns");
    size_t n = json_array_size(cols);
    if (!json_is_string(json_object_get(doc, "table")) || n == 0 || n > IMPORT_MAX_COLUMNS)
        return err_set(e, ERR_INVALID_REQUEST, "line %lld: a table line needs a table and its columns",
                       (long long)m->lineno);
    for (size_t i = 0; i < n; i++)
        if ((m->columns[i] = json_string_value(json_array_get(cols, i))) == NULL)
            return err_set(e, ERR_INVALID_REQUEST, "line %lld: column names are strings", (long long)m->lineno);
    json_decref(m->header);
    m->header = json_incref(doc);
    return 0;
}

static int set_value(import_ctx *m, size_t i, json_t *v, err_t *e)
{
    store_value *out = &m->values[i];
    memset(out, 0, sizeof(*out));
    const char *b64 = json_string_value(json_object_get(v, "b64u"));
    if (json_is_integer(v)) {
        out->kind = STORE_VALUE_INT;
        out->i = json_integer_value(v);
    } else if (json_is_string(v)) {
        out->kind = STORE_VALUE_TEXT;
        out->s = json_string_value(v);
        out->len = json_string_length(v);
    } else if (json_is_null(v)) {
        out->kind = STORE_VALUE_NULL;
    } else if (b64 != NULL) {
        size_t n = strlen(b64), len = 0;
        m->bytes[i] = xmalloc(n * 3 / 4 + 1);
        if (b64url_decode(b64, n, m->bytes[i], &len) != 0)
            return err_set(e, ERR_INVALID_REQUEST, "line %lld: bad b64u value", (long long)m->lineno);
        out->kind = STORE_VALUE_BLOB;
        out->s = (const char *)m->bytes[i];
        out->len = len;
    } else {
        return err_set(e, ERR_INVALID_REQUEST, "line %lld: a value is a string, an integer, null or {\"b64u\"}",
                       (long long)m->lineno);
    }
    return 0;
}

/* store_row_next_fn: the next row of the dump (table lines in between are
 * taken in passing); 0 at the end line. */
static int import_next(void *ctx, store_row *row, err_t *e)
{
    import_ctx *m = ctx;
    int eof;
    free_row(m);
    for (;;) {
        json_t *doc = read_line(m, &eof, e);
        if (doc == NULL) {
            if (eof)
                err_set(e, ERR_INVALID_REQUEST, "the dump ends without its end line (cut short?)");
            return -1;
        }
        if (json_is_array(doc)) {
            size_t n = json_array_size(doc);
            if (m->header == NULL || n != json_array_size(json_object_get(m->header, "columns"))) {
                json_decref(doc);
                return err_set(e, ERR_INVALID_REQUEST, "line %lld: a row without its table line, or of another width",
                               (long long)m->lineno);
            }
            m->row = doc;
            for (size_t i = 0; i < n; i++)
                if (set_value(m, i, json_array_get(doc, i), e) != 0)
                    return -1;
            row->table = json_string_value(json_object_get(m->header, "table"));
            row->ncols = n;
            row->columns = m->columns;
            row->values = m->values;
            m->rows++;
            return 1;
        }
        json_t *end = json_object_get(doc, "end");
        if (end != NULL) {
            m->end_rows = json_integer_value(json_object_get(end, "rows"));
            json_decref(doc);
            if (m->end_rows != m->rows)
                return err_set(e, ERR_INVALID_REQUEST, "the dump says %lld rows but holds %lld",
                               (long long)m->end_rows, (long long)m->rows);
            return 0;
        }
        int rc = set_table(m, doc, e);
        json_decref(doc);
        if (rc != 0)
            return -1;
    }
}

static int check_header(import_ctx *m, store *s, err_t *e)
{
    int eof;
    int64_t schema = 0;
    json_t *doc = read_line(m, &eof, e);
    if (doc == NULL)
        return eof ? err_set(e, ERR_INVALID_REQUEST, "the dump is empty") : -1;
    json_int_t format = json_integer_value(json_object_get(doc, "tessera_export"));
    json_int_t from = json_integer_value(json_object_get(doc, "schema"));
    json_decref(doc);
    if (format != DUMP_FORMAT)
        return err_set(e, ERR_INVALID_REQUEST, "not a tessera export (format %d expected)", DUMP_FORMAT);
    if (s->ops->schema_version(s, &schema, e) != 0)
        return -1;
    if (from != schema)
        return err_set(e, ERR_INVALID_REQUEST,
                       "the dump has schema %lld, this database %lld: export and import with the same tessera version",
                       (long long)from, (long long)schema);
    return 0;
}

int cmd_import(int argc, char **argv)
{
    static const char *const opts[] = {"in", NULL};
    cli_args a;
    if (cli_parse(argc, argv, opts, NULL, &a) != 0 || cli_require_pos(&a, 0, "tessera import [--in FILE]") != 0)
        return CLI_USAGE;
    const char *path = cli_opt(&a, "in");
    import_ctx m = {.in = stdin, .end_rows = -1};
    int64_t rows = 0;
    int code = CLI_OK;
    err_t e;
    if (path != NULL && (m.in = fopen(path, "re")) == NULL)
        return cli_fail(CLI_FAIL, "cannot open %s: %s", path, strerror(errno));
    store *s = cli_open_store(&a, &e);
    if (s == NULL || check_header(&m, s, &e) != 0 || s->ops->import_rows(s, import_next, &m, &rows, &e) != 0) {
        code = cli_fail_err(&e);
        goto out;
    }
    if (a.json)
        cli_print_json(json_pack("{s:I}", "rows", (json_int_t)rows));
    else
        fprintf(stderr, "imported %lld rows\n", (long long)rows);
out:
    free_row(&m);
    json_decref(m.header);
    free(m.line);
    if (m.in != stdin)
        fclose(m.in);
    if (s != NULL)
        s->ops->close(s);
    return code;
}
