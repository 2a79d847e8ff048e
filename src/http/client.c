/* client.c - bounded outbound HTTP requests on libcurl (see client.h). */
#include "http/client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xalloc.h"

void http_client_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void http_client_global_cleanup(void)
{
    curl_global_cleanup();
}

typedef struct {
    http_client_response *resp;
    const char *const *keep;
    size_t max;
    int too_large;
} transfer;

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    transfer *t = ctx;
    size_t len = size * n;
    if (t->resp->body.len + len > t->max || buf_append(&t->resp->body, data, len) != 0) {
        t->too_large = 1;
        return 0; /* aborts the transfer */
    }
    return len;
}

/* Copies value (trimmed of spaces and CR/LF) into dst[cap]. */
static void copy_value(const char *v, size_t n, char *dst, size_t cap)
{
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static int wanted(const char *const *keep, const char *name, size_t n)
{
    for (size_t i = 0; keep != NULL && keep[i] != NULL; i++)
        if (strlen(keep[i]) == n && strncasecmp(keep[i], name, n) == 0)
            return 1;
    return 0;
}

/* One header line at a time; a new status line (after a 1xx) starts over. */
static size_t on_header(char *line, size_t size, size_t n, void *ctx)
{
    transfer *t = ctx;
    http_client_response *r = t->resp;
    size_t len = size * n;
    const char *colon = memchr(line, ':', len);
    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        r->cache_control[0] = r->content_type[0] = '\0';
        for (size_t i = 0; i < r->nheaders; i++)
            free(r->headers[i]);
        r->nheaders = 0;
        return len;
    }
    if (colon == NULL)
        return len;
    size_t name_len = (size_t)(colon - line);
    const char *value = colon + 1;
    size_t value_len = len - name_len - 1;
    if (name_len == 13 && strncasecmp(line, "cache-control", 13) == 0)
        copy_value(value, value_len, r->cache_control, sizeof(r->cache_control));
    else if (name_len == 12 && strncasecmp(line, "content-type", 12) == 0)
        copy_value(value, value_len, r->content_type, sizeof(r->content_type));
    if (wanted(t->keep, line, name_len) && r->nheaders < HTTP_CLIENT_MAX_HEADERS) {
        char v[1024];
        copy_value(value, value_len, v, sizeof(v));
        size_t cap = name_len + strlen(v) + 3;
        char *h = xmalloc(cap);
        snprintf(h, cap, "%.*s: %s", (int)name_len, line, v);
        r->headers[r->nheaders++] = h;
    }
    return len;
}

static int is_http_url(const char *url)
{
    return strncasecmp(url, "https://", 8) == 0 || strncasecmp(url, "http://", 7) == 0;
}

typedef struct {
    int (*cancelled)(void *ctx);
    void *ctx;
    int hit;
} cancel_check;

/* libcurl's progress callback: nonzero aborts the transfer. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    cancel_check *c = arg;
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    c->hit = c->cancelled(c->ctx) != 0;
    return c->hit;
}

int http_client_perform(const http_client_request *req, const char *const *keep_headers,
                        http_client_response *resp, err_t *e)
{
    return http_client_perform_cancellable(req, keep_headers, NULL, NULL, resp, e);
}

int http_client_perform_cancellable(const http_client_request *req, const char *const *keep_headers,
                                    int (*cancelled)(void *ctx), void *ctx, http_client_response *resp,
                                    err_t *e)
{
    cancel_check cancel = {cancelled, ctx, 0};
    memset(resp, 0, sizeof(*resp));
    buf_init(&resp->body, req->max_response + 1);
    if (!is_http_url(req->url))
        return err_set(e, ERR_INVALID_REQUEST, "only http and https URLs can be fetched");
    transfer t = {resp, keep_headers, req->max_response, 0};
    struct curl_slist *headers = NULL;
    for (size_t i = 0; req->headers != NULL && req->headers[i] != NULL; i++)
        headers = curl_slist_append(headers, req->headers[i]);
    headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
    CURL *curl = curl_easy_init();
    int rc = -1;
    if (curl == NULL) {
        err_set(e, ERR_INTERNAL, "cannot start an HTTP request");
        goto out;
    }
    curl_easy_setopt(curl, CURLOPT_URL, req->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "tessera");
    if (cancelled != NULL) {
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &cancel);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    }
    if (req->body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    } else if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    }
    CURLcode cc = curl_easy_perform(curl);
    if (cancel.hit) {
        err_set(e, ERR_UNAVAILABLE, "cancelled");
    } else if (t.too_large) {
        err_set(e, ERR_TOO_LARGE, "the response is larger than %zu bytes", req->max_response);
    } else if (cc == CURLE_OPERATION_TIMEDOUT) {
        err_set(e, ERR_UNAVAILABLE, "no response within %ld ms", req->timeout_ms);
    } else if (cc != CURLE_OK) {
        err_set(e, ERR_UNAVAILABLE, "request failed: %s", curl_easy_strerror(cc));
    } else {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
        rc = 0;
    }
out:
    if (curl != NULL)
        curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    return rc;
}

void http_client_response_free(http_client_response *resp)
{
    buf_free(&resp->body);
    for (size_t i = 0; i < resp->nheaders; i++)
        free(resp->headers[i]);
    resp->nheaders = 0;
}
