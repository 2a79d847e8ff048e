/* integration_call.c - the RFC 8693 exchange and the forwarded call. */
#include "domain/integration_call.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "domain/integration.h"
#include "domain/token_exchange.h"
#include "http/client.h"
#include "jwt/b64url.h"

#define TOKEN_EXCHANGE_GRANT "urn:ietf:params:oauth:grant-type:token-exchange"
#define FORWARD_MAX_HEADERS 8

const char *const integration_request_headers[] = {"Content-Type", "Accept", "Accept-Language", "If-Match",
                                                   "If-None-Match", NULL};
const char *const integration_response_headers[] = {"content-language", "etag", "last-modified", "retry-after",
                                                    NULL};

static int is_pchar(char c)
{
    return isalnum((unsigned char)c) || strchr("-._~!$&'()*+,;=:@", c) != NULL;
}

/* Raw text of path or query characters and valid %XX escapes. */
static int escapes_ok(const char *s, int allow_slash_and_query_chars)
{
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '%') {
            if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2]))
                return 0;
            p += 2;
        } else if (!is_pchar(*p) && !(*p == '/' || (allow_slash_and_query_chars && *p == '?'))) {
            return 0;
        }
    }
    return 1;
}

/* A segment that is "." or "..", literally or percent-encoded. */
static int dot_segment(const char *seg, size_t n)
{
    size_t dots = 0;
    for (size_t i = 0; i < n;) {
        if (seg[i] == '.') {
            i++;
        } else if (n - i >= 3 && seg[i] == '%' && seg[i + 1] == '2' && (seg[i + 2] == 'e' || seg[i + 2] == 'E')) {
            i += 3;
        } else {
            return 0;
        }
        dots++;
    }
    return dots == 1 || dots == 2;
}

int integration_path_ok(const char *path)
{
    size_t n = strlen(path);
    if (n == 0 || n > 2048 || path[0] != '/' || !escapes_ok(path, 0) || strcasestr(path, "%2f") != NULL ||
        strcasestr(path, "%5c") != NULL || strstr(path, "%00") != NULL)
        return 0;
    for (const char *seg = path + 1;;) {
        size_t len = strcspn(seg, "/");
        if (dot_segment(seg, len))
            return 0;
        if (seg[len] == '\0')
            return 1;
        seg += len + 1;
    }
}

int integration_query_ok(const char *query)
{
    return strlen(query) <= 4096 && escapes_ok(query, 1);
}

/* application/x-www-form-urlencoded value. */
static void form_escape(buf_t *b, const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~')
            buf_append(b, p, 1);
        else
            buf_printf(b, "%%%02X", *p);
    }
}

static void form_field(buf_t *b, const char *name, const char *value)
{
    if (b->len > 0)
        buf_puts(b, "&");
    buf_puts(b, name);
    buf_puts(b, "=");
    form_escape(b, value);
}

/* "Authorization: Basic base64(form(id) ":" form(secret))" (RFC 6749 section 2.3.1). */
static char *basic_auth_header(const char *client_id, const char *secret)
{
    buf_t pair;
    buf_init(&pair, 2048);
    form_escape(&pair, client_id);
    buf_puts(&pair, ":");
    form_escape(&pair, secret);
    size_t cap = b64url_encoded_len(pair.len) + 4;
    char *b64 = malloc(cap);
    char *header = NULL;
    if (b64 != NULL) {
        size_t n = b64url_encode(pair.data ? pair.data : "", pair.len, b64);
        for (size_t i = 0; i < n; i++)
            b64[i] = b64[i] == '-' ? '+' : b64[i] == '_' ? '/' : b64[i];
        while (n % 4 != 0)
            b64[n++] = '=';
        b64[n] = '\0';
        size_t hcap = n + 32;
        header = malloc(hcap);
        if (header != NULL)
            snprintf(header, hcap, "Authorization: Basic %s", b64);
        explicit_bzero(b64, n);
    }
    free(b64);
    if (pair.data)
        explicit_bzero(pair.data, pair.len);
    buf_free(&pair);
    return header;
}

/* The "error" code of an OAuth error reply, when it is a plain word. */
static void oauth_error_code(const buf_t *body, char out[64])
{
    err_t ignored;
    out[0] = '\0';
    json_t *j = json_parse_strict(body->data ? body->data : "", body->len, 4, 0, &ignored);
    const char *code = json_string_value(json_object_get(j, "error"));
    if (code != NULL && strlen(code) < 64 && strspn(code, "abcdefghijklmnopqrstuvwxyz_") == strlen(code))
        snprintf(out, 64, "%s", code);
    json_decref(j);
}

/* Reads {"access_token", "token_type": "Bearer"/"N_A", "expires_in"} into token[cap]. */
static int read_exchange_reply(const buf_t *body, char *token, size_t cap, int64_t *expires_in, err_t *e)
{
    err_t why;
    json_t *j = json_parse_strict(body->data ? body->data : "", body->len, 8, 0, &why);
    const char *at = json_string_value(json_object_get(j, "access_token"));
    const char *type = json_string_value(json_object_get(j, "token_type"));
    json_t *exp = json_object_get(j, "expires_in");
    int rc = -1;
    if (at == NULL || at[0] == '\0' || strlen(at) >= cap || strpbrk(at, " \r\n\t") != NULL)
        err_set(e, ERR_BAD_GATEWAY, "the integration's token URL answered without a usable access_token");
    else if (type != NULL && strcasecmp(type, "Bearer") != 0 && strcasecmp(type, "N_A") != 0)
        err_set(e, ERR_BAD_GATEWAY, "the integration's token URL issued a token of a type other than Bearer");
    else {
        memcpy(token, at, strlen(at) + 1);
        *expires_in = json_is_integer(exp) && json_integer_value(exp) > 0 ? json_integer_value(exp)
                                                                            : INTEGRATION_DEFAULT_EXPIRES_IN;
        rc = 0;
    }
    json_decref(j);
    return rc;
}

/* The RFC 8693 exchange of the session's subject token. */
static int exchange(directory *d, const store_integration *g, const subject_token *st, char *token, size_t cap,
                    int64_t *expires_in, err_t *e)
{
    char secret[INTEGRATION_SECRET_MAX + 1];
    if (integration_client_secret(d, g, secret, e) != 0)
        return -1;
    char *auth = basic_auth_header(g->client_id, secret);
    explicit_bzero(secret, sizeof(secret));
    buf_t form;
    buf_init(&form, 64 * 1024);
    form_field(&form, "grant_type", TOKEN_EXCHANGE_GRANT);
    form_field(&form, "subject_token", st->token);
    form_field(&form, "subject_token_type", st->type);
    form_field(&form, "requested_token_type", "urn:ietf:params:oauth:token-type:access_token");
    if (g->audience[0])
        form_field(&form, "audience", g->audience);
    if (g->scope[0])
        form_field(&form, "scope", g->scope);
    const char *headers[] = {auth, "Content-Type: application/x-www-form-urlencoded", "Accept: application/json", NULL};
    http_client_request req = {"POST", g->token_url, headers, form.data ? form.data : "", form.len,
                               INTEGRATION_EXCHANGE_TIMEOUT_MS, 64 * 1024};
    http_client_response resp = {0};
    err_t why;
    int rc = -1;
    if (auth == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
    } else if (http_client_perform(&req, NULL, &resp, &why) != 0) {
        err_set(e, ERR_BAD_GATEWAY, "the integration's token URL could not be reached: %s", why.detail);
    } else if (resp.status != 200) {
        char code[64];
        oauth_error_code(&resp.body, code);
        err_set(e, ERR_BAD_GATEWAY, "the integration's token URL refused the exchange (HTTP %ld%s%s)", resp.status,
                code[0] ? " " : "", code);
    } else {
        rc = read_exchange_reply(&resp.body, token, cap, expires_in, e);
    }
    http_client_response_free(&resp);
    if (auth != NULL)
        explicit_bzero(auth, strlen(auth));
    free(auth);
    if (form.data)
        explicit_bzero(form.data, form.len);
    buf_free(&form);
    return rc;
}

/* Forwards the call with the exchanged token. */
static int forward(const store_integration *g, const integration_call_request *r, const char *token,
                   integration_call_response *out, err_t *e)
{
    size_t url_cap = strlen(g->base_url) + strlen(r->path) + strlen(r->query) + 2;
    char *url = malloc(url_cap);
    size_t auth_cap = strlen(token) + 32;
    char *auth = malloc(auth_cap);
    char rid[80] = "";
    int rc = -1;
    if (url == NULL || auth == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    snprintf(url, url_cap, "%s%s%s%s", g->base_url, r->path, r->query[0] ? "?" : "", r->query);
    snprintf(auth, auth_cap, "Authorization: Bearer %s", token);
    const char *headers[FORWARD_MAX_HEADERS + 3] = {auth};
    size_t n = 1;
    for (size_t i = 0; r->headers != NULL && r->headers[i] != NULL && i < FORWARD_MAX_HEADERS; i++)
        headers[n++] = r->headers[i];
    if (r->request_id != NULL) {
        snprintf(rid, sizeof(rid), "X-Request-Id: %s", r->request_id);
        headers[n++] = rid;
    }
    headers[n] = NULL;
    http_client_request req = {r->method, url, headers, r->body_len ? r->body : NULL, r->body_len,
                               INTEGRATION_CALL_TIMEOUT_MS, INTEGRATION_RESPONSE_MAX};
    err_t why;
    http_client_response_free(out);
    if (http_client_perform(&req, integration_response_headers, out, &why) != 0) {
        err_set(e, ERR_BAD_GATEWAY, "the integration's API %s: %s",
                why.cls == ERR_TOO_LARGE ? "answered more than Tessera relays" : "could not be reached", why.detail);
    } else if (out->status >= 300 && out->status < 400) {
        err_set(e, ERR_BAD_GATEWAY, "the integration's API answered with a redirect (HTTP %ld), which Tessera does not follow",
                out->status);
    } else {
        rc = 0;
    }
out:
    if (auth != NULL)
        explicit_bzero(auth, strlen(auth));
    free(auth);
    free(url);
    return rc;
}

int integration_call(directory *d, exchange_cache *cache, store *s, const integration_call_request *r, int64_t now,
                     integration_call_response *out, err_t *e)
{
    store_integration g;
    subject_token *st = malloc(sizeof(*st));
    char *token = malloc(EXCHANGE_TOKEN_MAX);
    int rc = -1;
    memset(out, 0, sizeof(*out));
    buf_init(&out->body, 1);
    if (token == NULL || st == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (s->ops->integration_get(s, r->org_id, r->integration_id, &g, e) != 0) {
        err_set(e, ERR_NOT_FOUND, "no such integration");
        goto out;
    }
    /* This session's own subject token is required even when the user's
     * exchanged token is cached: every caller proves its own exchange. */
    if (token_exchange_subject(d, s, r->org_id, r->jti, now, st, e) != 0) {
        if (e->cls == ERR_NOT_FOUND)
            err_set(e, ERR_CONFLICT, "this session has no subject token: it was not issued by token exchange "
                                     "(POST /api/v1/public/token with subject_token), or it has ended");
        goto out;
    }
    if (exchange_cache_get(cache, g.id, r->user_id, now, token, EXCHANGE_TOKEN_MAX) != 0) {
        int64_t expires_in = 0;
        if (exchange(d, &g, st, token, EXCHANGE_TOKEN_MAX, &expires_in, e) != 0)
            goto out;
        exchange_cache_put(cache, g.id, r->user_id, token, now, expires_in);
    }
    rc = forward(&g, r, token, out, e);
    if (rc == 0 && out->status == 401)
        exchange_cache_drop(cache, g.id, r->user_id); /* the API no longer takes it: exchange again next time */
out:
    if (st != NULL)
        explicit_bzero(st, sizeof(*st));
    free(st);
    if (token != NULL)
        explicit_bzero(token, EXCHANGE_TOKEN_MAX);
    free(token);
    return rc;
}
