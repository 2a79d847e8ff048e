/* store.c - picks the backend named by a database URL. */
#include "store/store.h"

#include <string.h>

#define ACCEPTED_FORMS "sqlite:PATH, a bare file path, or postgres://..."

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* 1 when s starts like a URL ("scheme:" with an RFC 3986 scheme), so that a
 * typo such as "sqllite:x.db" is an error rather than a file of that name. */
static int looks_like_url(const char *s)
{
    static const char first[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    static const char rest[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.";
    if (s[0] == '\0' || strchr(first, s[0]) == NULL)
        return 0;
    size_t n = 1 + strspn(s + 1, rest);
    return s[n] == ':';
}

store *store_open(const char *url, err_t *e)
{
    if (url == NULL || url[0] == '\0') {
        err_set(e, ERR_INVALID_REQUEST, "empty database URL; use " ACCEPTED_FORMS);
        return NULL;
    }
    if (has_prefix(url, "postgres://") || has_prefix(url, "postgresql://"))
        return store_pg_open(url, e);
    if (has_prefix(url, "sqlite:")) {
        const char *path = url + strlen("sqlite:");
        if (path[0] == '\0' || has_prefix(path, "//")) {
            err_set(e, ERR_INVALID_REQUEST,
                    "bad SQLite URL; use sqlite:PATH (e.g. sqlite:tessera.db or "
                    "sqlite:/var/lib/tessera/tessera.db)");
            return NULL;
        }
        return store_sqlite_open(path, e);
    }
    if (looks_like_url(url)) {
        err_set(e, ERR_INVALID_REQUEST,
                "unsupported database URL; use " ACCEPTED_FORMS
                " (start a file path that contains ':' with ./)");
        return NULL;
    }
    return store_sqlite_open(url, e);
}
