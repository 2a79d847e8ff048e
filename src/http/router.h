/* router.h - matching a request against a route table.
 *
 * Patterns are '/'-separated; a segment "{name}" captures one non-empty
 * path segment, and a final "{name*}" captures the rest of the path (which
 * may be empty; "/x/{rest*}" also matches "/x"). Captures are raw (not percent-decoded). GET routes also
 * answer HEAD. */
#ifndef TESSERA_HTTP_ROUTER_H
#define TESSERA_HTTP_ROUTER_H

#include <stddef.h>

#define ROUTE_MAX_PARAMS 4
#define ROUTE_PARAM_MAX 1024

typedef struct {
    size_t n;
    char value[ROUTE_MAX_PARAMS][ROUTE_PARAM_MAX];
} route_params;

typedef struct {
    const char *method;
    const char *pattern;
    const void *target; /* what the caller dispatches to */
} route;

typedef enum { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD } route_result;

/* Finds the route for method+path. On ROUTE_FOUND sets *match and params;
 * on ROUTE_BAD_METHOD writes the allowed methods ("GET, POST") to allow. */
route_result router_match(const route *table, size_t n, const char *method, const char *path,
                          const route **match, route_params *params, char *allow, size_t allow_cap);

#endif
