/* fuzz_http_path.c - what Tessera does with a request's method and raw
 * path before any handler: router_match (src/http/router.h) over the
 * route patterns of src/api/routes.c, urlpath_decode (src/http/urlpath.h)
 * of a captured file path, as the static, SDK, console and app-file
 * handlers do, and api_body_limit (src/api/api.h).
 *
 * Input: a selector byte (the method: one of eight, or the first line of
 * the rest when it is 8 or more), then the raw path.
 * Oracles:
 * - ROUTE_FOUND: the route's method is the request's (HEAD also finds GET
 *   routes), and the pattern with its captures put back is the path itself
 *   (a capture of an empty rest also matches without its '/'); a "{name}"
 *   capture is a non-empty segment without '/'; captures fit their buffer;
 * - ROUTE_BAD_METHOD: the allow list is non-empty and names no method twice;
 * - urlpath_decode succeeds only when the result names a file under the
 *   root: no empty, "." or ".." segment, no '\\', no control character, no
 *   leading '/', and it is exactly the percent-decoding of the input (read
 *   here independently), which never decodes to '/' or NUL;
 * - api_body_limit is one of its two limits, the larger only for a POST of
 *   a bundle version. */
#include "api/api.h"
#include "domain/admin.h"
#include "fuzz_util.h"
#include "http/router.h"
#include "http/server.h"
#include "http/urlpath.h"

/* The patterns of src/api/routes.c (its table is private to it, so the
 * shapes are repeated here: exact paths, "{name}" segments, "{name*}"
 * rests after a segment and at the end of a longer prefix). target: 1 for
 * a route whose capture is a file path that goes through urlpath_decode. */
static const int file_route = 1;
static const route routes[] = {
    {"POST", "/api/v1/public/token", NULL},
    {"GET", "/api/v1/me", NULL},
    {"GET", "/.well-known/jwks.json", NULL},
    {"GET", "/sdk/{file*}", &file_route},
    {"GET", "/assets/embed/{file*}", &file_route},
    {"GET", "/embed/applications/{app}/{path*}", &file_route},
    {"GET", "/api/v1/embed/apps/{app}", NULL},
    {"GET", "/apps/{app}/{ticket}/{path*}", &file_route},
    {"GET", "/api/v1/integrations/{integration}/proxy", NULL},
    {"GET", "/api/v1/integrations/{integration}/proxy/{path*}", NULL},
    {"POST", "/api/v1/integrations/{integration}/proxy/{path*}", NULL},
    {"DELETE", "/api/v1/integrations/{integration}/proxy/{path*}", NULL},
    {"GET", "/console/{file*}", &file_route},
    {"GET", "/api/v1/organizations/{org}", NULL},
    {"DELETE", "/api/v1/organizations/{org}/access-tokens/{id}", NULL},
    {"PATCH", "/api/v1/organizations/{org}/access-tokens/{id}", NULL},
    {"DELETE", "/api/v1/organizations/{org}/groups/{group}/members/{user}", NULL},
    {"GET", "/api/v1/organizations/{org}/applications/{app}/versions", NULL},
    {"POST", "/api/v1/organizations/{org}/applications/{app}/versions", NULL},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* The pattern of m with the captures of p put back, into out[cap]. */
static void rebuild(const char *pattern, const route_params *p, char *out, size_t cap)
{
    size_t o = 0, k = 0;
    for (const char *s = pattern; *s;) {
        if (*s == '{') {
            const char *close = strchr(s, '}');
            FUZZ_CHECK(close != NULL && k < p->n);
            size_t n = strlen(p->value[k]);
            FUZZ_CHECK(o + n < cap);
            memcpy(out + o, p->value[k++], n);
            o += n;
            s = close + 1;
            continue;
        }
        FUZZ_CHECK(o + 1 < cap);
        out[o++] = *s++;
    }
    FUZZ_CHECK(k == p->n);
    out[o] = '\0';
}

/* The Allow list names each method once. */
static void check_allow(const char *allow)
{
    char seen[64] = ",";
    for (const char *s = allow; *s;) {
        size_t n = strcspn(s, ",");
        char item[16];
        FUZZ_CHECK(n > 0 && n < sizeof(item) - 2);
        snprintf(item, sizeof(item), ",%.*s,", (int)n, s);
        FUZZ_CHECK(strstr(seen, item) == NULL);
        snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%.*s,", (int)n, s);
        s += n;
        if (*s == ',') {
            FUZZ_CHECK(s[1] == ' ');
            s += 2;
        }
    }
}

static void check_found(const route *m, const char *method, const char *path, const route_params *p)
{
    static char again[ROUTE_MAX_PARAMS * ROUTE_PARAM_MAX + 256];
    FUZZ_CHECK(m >= routes && m < routes + NROUTES);
    FUZZ_CHECK(strcmp(m->method, method) == 0 ||
               (strcmp(method, "HEAD") == 0 && strcmp(m->method, "GET") == 0));
    FUZZ_CHECK(p->n <= ROUTE_MAX_PARAMS);
    size_t k = 0;
    for (const char *s = strchr(m->pattern, '{'); s; s = strchr(s + 1, '{'), k++) {
        FUZZ_CHECK(k < p->n && strlen(p->value[k]) < ROUTE_PARAM_MAX);
        if (strchr(s, '}')[-1] != '*')
            FUZZ_CHECK(p->value[k][0] != '\0' && strchr(p->value[k], '/') == NULL);
    }
    rebuild(m->pattern, p, again, sizeof(again));
    /* an empty rest: "/x/{rest*}" matches "/x/" and also "/x" */
    size_t an = strlen(again);
    int rest_dropped = p->n > 0 && p->value[p->n - 1][0] == '\0' && an > 0 &&
                       again[an - 1] == '/' && strlen(path) == an - 1 &&
                       strncmp(again, path, an - 1) == 0;
    FUZZ_CHECK(strcmp(again, path) == 0 || rest_dropped);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* What must hold when urlpath_decode accepted raw as out. */
static void check_decoded(const char *raw, const char *out)
{
    size_t o = 0;
    for (size_t i = 0; raw[i]; i++, o++) {
        char c = raw[i];
        if (c == '%') {
            FUZZ_CHECK(hexval(raw[i + 1]) >= 0 && hexval(raw[i + 2]) >= 0);
            c = (char)(hexval(raw[i + 1]) << 4 | hexval(raw[i + 2]));
            FUZZ_CHECK(c != '/' && c != '\0');
            i += 2;
        }
        FUZZ_CHECK(out[o] == c);
    }
    FUZZ_CHECK(out[o] == '\0');
    if (o == 0)
        return;
    FUZZ_CHECK(out[0] != '/' && out[o - 1] != '/' && strstr(out, "//") == NULL);
    FUZZ_CHECK(strchr(out, '\\') == NULL);
    for (size_t i = 0; i < o; i++)
        FUZZ_CHECK((unsigned char)out[i] >= 0x20 && out[i] != 0x7f);
    for (const char *seg = out; seg; seg = strchr(seg, '/') ? strchr(seg, '/') + 1 : NULL) {
        size_t n = strcspn(seg, "/");
        FUZZ_CHECK(!(n == 1 && seg[0] == '.') && !(n == 2 && seg[0] == '.' && seg[1] == '.'));
    }
}

static void check_file_path(const char *raw)
{
    char *out = malloc(ROUTE_PARAM_MAX); /* the size the handlers use; heap, for ASan */
    FUZZ_CHECK(out != NULL);
    if (urlpath_decode(raw, out, ROUTE_PARAM_MAX) == 0)
        check_decoded(raw, out);
    free(out);
}

FUZZ_DEFAULT_INITIALIZE()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET",   "HEAD",   "POST",    "PUT",
                                          "PATCH", "DELETE", "OPTIONS", "get"};
    fuzz_reader r = {data, size};
    uint8_t sel = fuzz_byte(&r);
    char *method = sel < 8 ? strdup(methods[sel]) : fuzz_field(&r, NULL);
    char *path = fuzz_rest(&r, NULL);
    route_params *params = malloc(sizeof(*params));
    const route *m = NULL;
    char allow[64];
    FUZZ_CHECK(method != NULL && params != NULL);

    route_result res =
        router_match(routes, NROUTES, method, path, &m, params, allow, sizeof(allow));
    if (res == ROUTE_FOUND) {
        check_found(m, method, path, params);
        if (m->target == &file_route)
            check_file_path(params->value[params->n - 1]);
    } else if (res == ROUTE_BAD_METHOD) {
        FUZZ_CHECK(allow[0] != '\0' && strlen(allow) < sizeof(allow));
        check_allow(allow);
    } else {
        FUZZ_CHECK(res == ROUTE_NOT_FOUND && allow[0] == '\0');
    }
    /* any captured text may reach urlpath_decode: also try the raw path */
    check_file_path(path[0] == '/' ? path + 1 : path);

    size_t limit = api_body_limit(method, path);
    FUZZ_CHECK(limit == HTTP_MAX_BODY ||
               (limit == ADMIN_UPLOAD_MAX && strcmp(method, "POST") == 0 &&
                strstr(path, "/versions") != NULL));
    free(params);
    free(path);
    free(method);
    return 0;
}
