#include "http/router.h"

#include <stdio.h>
#include <string.h>

/* Matches path against pattern; fills params. 1 on match. */
static int pattern_match(const char *pattern, const char *path, route_params *params)
{
    params->n = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            int rest = close && close > p && close[-1] == '*';
            const char *end = rest ? s + strlen(s) : strchr(s, '/');
            if (end == NULL)
                end = s + strlen(s);
            size_t len = (size_t)(end - s);
            if ((!rest && len == 0) || len >= ROUTE_PARAM_MAX || params->n == ROUTE_MAX_PARAMS)
                return 0;
            memcpy(params->value[params->n], s, len);
            params->value[params->n][len] = '\0';
            params->n++;
            p = close + 1;
            s = end;
            continue;
        }
        if (*p != *s)
            return 0;
        p++;
        s++;
    }
    /* An empty rest matches "{rest*}" and also "/{rest*}" (so ".../{app}/{path*}"
     * serves ".../APP" as well as ".../APP/"). */
    if (*s == '\0' && (p[0] == '{' || (p[0] == '/' && p[1] == '{')) && strstr(p, "*}") != NULL &&
        params->n < ROUTE_MAX_PARAMS) {
        params->value[params->n++][0] = '\0';
        p = strchr(p, '}') + 1;
    }
    return *p == '\0' && *s == '\0';
}

route_result router_match(const route *table, size_t n, const char *method, const char *path,
                          const route **match, route_params *params, char *allow, size_t allow_cap)
{
    int path_seen = 0;
    allow[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!pattern_match(table[i].pattern, path, params))
            continue;
        int same = strcmp(table[i].method, method) == 0 ||
                   (strcmp(method, "HEAD") == 0 && strcmp(table[i].method, "GET") == 0);
        if (same) {
            *match = &table[i];
            return ROUTE_FOUND;
        }
        size_t used = strlen(allow);
        if (strstr(allow, table[i].method) == NULL)
            snprintf(allow + used, allow_cap - used, "%s%s", used ? ", " : "", table[i].method);
        path_seen = 1;
    }
    return path_seen ? ROUTE_BAD_METHOD : ROUTE_NOT_FOUND;
}
