#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "crypto/crypto.h"

#define HTTP_MAX_RESP_HEADERS 16
#define HTTP_STOP_WAIT_MS 5000 /* longest wait for the requests in flight at stop */

typedef enum { REQ_NEW, REQ_READING, REQ_REPLIED, REQ_SUSPENDED } req_state;

struct http_request {
    struct MHD_Connection *conn;
    http_server *server;
    void *worker;
    char *uri;        /* owned: raw target as received */
    char *path;       /* owned: uri up to '?' */
    const char *query;/* into uri */
    const char *method;
    buf_t body;
    size_t body_limit;
    int too_large;
    req_state state;
    int status;
    char *resp_body;  /* owned until queued (unless resp_static) */
    const void *resp_static; /* not owned: lives as long as the process */
    size_t resp_len;
    char content_type[64];
    char *hdr_name[HTTP_MAX_RESP_HEADERS];
    char *hdr_value[HTTP_MAX_RESP_HEADERS];
    int nhdr;
    char client[INET6_ADDRSTRLEN];
    char request_id[17];
    int64_t start_us;  /* monotonic, when the request line arrived */
    const char *route; /* not owned: the metrics label (http_set_route) */
    int sent;          /* the reply was queued */
};

typedef struct {
    http_server *server;
    void *worker;
} worker_slot;

struct http_server {
    http_config cfg;
    struct MHD_Daemon **daemons;
    worker_slot *slots;
    unsigned ndaemons;
    int port;
    char address[80];
    unsigned inflight; /* atomic: requests from their first line to their completion */
    int draining;      /* atomic: quiesced; replies close their connections */
    int refusing;      /* atomic: stopping; new requests get 503 without being handled */
    int64_t last_request_ms; /* atomic: clock_mono_ms() when the latest request began */
    http_proxies proxies; /* copy of *cfg.trusted_proxies */
};

/* ---- request lifecycle ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    worker_slot *slot = cls;
    http_request *r = xcalloc(1, sizeof(*r));
    r->conn = conn;
    r->server = slot->server;
    r->worker = slot->worker;
    r->start_us = clock_mono_us();
    r->uri = xstrdup(uri);
    const char *q = strchr(r->uri, '?');
    r->path = q ? xstrndup(r->uri, (size_t)(q - r->uri)) : xstrdup(r->uri);
    r->query = q ? q + 1 : "";
    buf_init(&r->body, HTTP_MAX_BODY);
    r->body_limit = HTTP_MAX_BODY;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, r->client, sizeof(r->client));
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, r->client, sizeof(r->client));
    }
    unsigned char rnd[8];
    crypto_random(rnd, sizeof(rnd));
    hex_encode(rnd, sizeof(rnd), r->request_id);
    __atomic_add_fetch(&r->server->inflight, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&r->server->last_request_ms, clock_mono_ms(), __ATOMIC_RELAXED);
    return r;
}

static void request_free(http_request *r)
{
    __atomic_sub_fetch(&r->server->inflight, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < r->nhdr; i++) {
        free(r->hdr_name[i]);
        free(r->hdr_value[i]);
    }
    free(r->resp_body);
    buf_free(&r->body);
    free(r->path);
    free(r->uri);
    free(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    http_request *r = *con_cls;
    if (r != NULL && r->sent && r->server->cfg.completed != NULL)
        r->server->cfg.completed(r->server->cfg.app, r, r->status,
                                 (double)(clock_mono_us() - r->start_us) / 1e6);
    if (r)
        request_free(r);
    *con_cls = NULL;
}

/* Keeps the raw target: handlers decode what they need themselves. */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

/* libmicrohttpd's log callback: fmt is its printf format (the attribute lets
 * clang's -Wformat-nonliteral, on in the fuzz build, accept passing it on). */
__attribute__((format(printf, 2, 0)))
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char text[512];
    vsnprintf(text, sizeof(text), fmt, ap);
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '\n')
        text[--n] = '\0';
    log_msg(LOG_WARN, "http", "detail", text, NULL);
}

static enum MHD_Result queue_reply(http_request *r)
{
    struct MHD_Response *resp;
    if (r->resp_static != NULL) {
        resp = MHD_create_response_from_buffer(r->resp_len, (void *)r->resp_static, MHD_RESPMEM_PERSISTENT);
    } else {
        resp = MHD_create_response_from_buffer_with_free_callback(r->resp_len, r->resp_body, free);
        if (resp != NULL)
            r->resp_body = NULL; /* the response owns it now */
    }
    if (resp == NULL)
        return MHD_NO;
    if (r->content_type[0])
        MHD_add_response_header(resp, "Content-Type", r->content_type);
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    for (int i = 0; i < r->nhdr; i++)
        MHD_add_response_header(resp, r->hdr_name[i], r->hdr_value[i]);
    /* Draining: the client's next request goes to a new connection (another
     * node behind the load balancer), not this one. */
    if (__atomic_load_n(&r->server->draining, __ATOMIC_RELAXED))
        MHD_add_response_header(resp, "Connection", "close");
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    r->sent = ret == MHD_YES;
    return ret;
}

static enum MHD_Result add_header_size(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    *(size_t *)cls += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

/* libmicrohttpd refuses (with its own HTML 431) only what overflows the
 * connection's memory pool; the documented limit is checked here so that
 * the usual oversized request gets a JSON error. */
static int headers_too_large(struct MHD_Connection *conn)
{
    size_t total = 0;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, add_header_size, &total);
    return total > HTTP_MAX_HEADER_BYTES;
}

static int content_length_too_large(struct MHD_Connection *conn, size_t limit)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (cl == NULL)
        return 0;
    char *end;
    unsigned long long n = strtoull(cl, &end, 10);
    return *end != '\0' || n > limit;
}

/* Request smuggling (RFC 9112 6.1, 6.3): a body whose length two HTTP parsers
 * could read differently (a proxy in front of us and libmicrohttpd, which
 * would take Transfer-Encoding over Content-Length, or the first of two
 * Content-Lengths, and keep the connection) is refused and the connection
 * closed. Found by tests/security/http-layer.test.js. */
typedef struct {
    int content_lengths, transfer_encodings, bad;
} body_framing;

static enum MHD_Result note_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    body_framing *f = cls;
    (void)kind;
    if (strpbrk(key, " \t") != NULL) /* "Transfer-Encoding : chunked" */
        f->bad = 1;
    if (strcasecmp(key, "Content-Length") == 0) {
        f->content_lengths++;
        if (value == NULL || value[0] == '\0' || value[strspn(value, "0123456789")] != '\0')
            f->bad = 1;
    } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        f->transfer_encodings++;
        if (value == NULL || strcasecmp(value, "chunked") != 0)
            f->bad = 1;
    }
    return MHD_YES;
}

static int framing_is_ambiguous(struct MHD_Connection *conn, const char *version)
{
    body_framing f = {0, 0, 0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, note_framing, &f);
    return f.bad || f.content_lengths > 1 || f.transfer_encodings > 1 ||
           (f.transfer_encodings > 0 && (f.content_lengths > 0 || strcmp(version, MHD_HTTP_VERSION_1_1) != 0));
}

static void reply_too_large(http_request *r)
{
    err_t e;
    err_set(&e, ERR_TOO_LARGE, "request body is larger than %zu bytes", r->body_limit);
    http_reply_error(r, &e);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    worker_slot *slot = cls;
    http_request *r = *con_cls;
    (void)url;
    if (r == NULL)
        return MHD_NO;
    if (r->state == REQ_NEW) {
        r->method = method;
        r->state = REQ_READING;
        if (slot->server->proxies.n > 0) {
            char peer[INET6_ADDRSTRLEN];
            memcpy(peer, r->client, sizeof(peer));
            const char *xff = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For");
            http_forwarded_client(&slot->server->proxies, peer, xff, r->client, sizeof(r->client));
        }
        if (slot->server->cfg.body_limit != NULL) {
            r->body_limit = slot->server->cfg.body_limit(method, r->path);
            buf_init(&r->body, r->body_limit);
        }
        if (headers_too_large(conn)) {
            err_t e;
            err_set(&e, ERR_HEADERS_TOO_LARGE, "request headers are larger than %d bytes",
                    HTTP_MAX_HEADER_BYTES);
            http_reply_error(r, &e);
            return queue_reply(r);
        }
        if (framing_is_ambiguous(conn, version)) {
            err_t e;
            err_set(&e, ERR_INVALID_REQUEST, "ambiguous request body framing (Content-Length, Transfer-Encoding)");
            http_add_header(r, "Connection", "close");
            http_reply_error(r, &e);
            return queue_reply(r);
        }
        if (content_length_too_large(conn, r->body_limit)) {
            reply_too_large(r);
            return queue_reply(r);
        }
        return MHD_YES;
    }
    if (r->state == REQ_READING && *upload_data_size > 0) {
        if (!r->too_large && buf_append(&r->body, upload_data, *upload_data_size) != 0) {
            r->too_large = 1;
            buf_free(&r->body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->state == REQ_READING) {
        if (r->too_large) {
            reply_too_large(r);
        } else if (__atomic_load_n(&slot->server->refusing, __ATOMIC_RELAXED)) {
            /* Arrived on a kept-alive connection while the server stops: not
             * handled at all (nothing was done), so the client can safely
             * send it again, to another node. */
            err_t e;
            err_set(&e, ERR_UNAVAILABLE, "the server is stopping; nothing was done, send the request again");
            http_add_header(r, "Retry-After", "1");
            http_reply_error(r, &e);
        } else {
            slot->server->cfg.handle(slot->server->cfg.app, slot->worker, r);
        }
        if (r->state == REQ_SUSPENDED)
            return MHD_YES;
    }
    if (r->state != REQ_REPLIED) {
        err_t e;
        err_set(&e, ERR_INTERNAL, "no reply was produced");
        http_reply_error(r, &e);
    }
    return queue_reply(r);
}

/* ---- listening address ---- */

static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len, err_t *e)
{
    char host[64];
    const char *colon;
    memset(ss, 0, sizeof(*ss));
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - listen - 1) >= sizeof(host))
            return err_set(e, ERR_INVALID_REQUEST, "--listen must be HOST:PORT or [IPV6]:PORT");
        memcpy(host, listen + 1, (size_t)(close - listen - 1));
        host[close - listen - 1] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(listen, ':');
        if (colon == NULL || (size_t)(colon - listen) >= sizeof(host))
            return err_set(e, ERR_INVALID_REQUEST, "--listen must be HOST:PORT or [IPV6]:PORT");
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
        return err_set(e, ERR_INVALID_REQUEST, "--listen port must be 0 to 65535");
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof(*v4);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*v6);
    } else {
        return err_set(e, ERR_INVALID_REQUEST, "--listen host must be an IP address or localhost");
    }
    return 0;
}

int http_listen_check(const char *listen, err_t *e)
{
    struct sockaddr_storage ss;
    socklen_t len;
    return parse_listen(listen, &ss, &len, e);
}

static struct MHD_Daemon *start_daemon(http_server *s, worker_slot *slot, struct sockaddr_storage *ss)
{
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (ss->ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    unsigned per_daemon = s->cfg.max_connections / s->ndaemons;
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, slot, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_CONNECTION_LIMIT,
        per_daemon ? per_daemon : 1u, MHD_OPTION_CONNECTION_TIMEOUT, s->cfg.idle_timeout_seconds,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_POOL_BYTES,
        MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_URI_LOG_CALLBACK, on_uri, slot,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_UNESCAPE_CALLBACK,
        keep_escaped, NULL, MHD_OPTION_END);
}

http_server *http_server_start(const http_config *cfg, err_t *e)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    if (parse_listen(cfg->listen, &ss, &sslen, e) != 0)
        return NULL;
    http_server *s = xcalloc(1, sizeof(*s));
    s->cfg = *cfg;
    if (cfg->trusted_proxies != NULL)
        s->proxies = *cfg->trusted_proxies;
    s->cfg.trusted_proxies = NULL; /* the copy above is what is used */
    s->ndaemons = cfg->workers ? cfg->workers : 1;
    s->daemons = xcalloc(s->ndaemons, sizeof(*s->daemons));
    s->slots = xcalloc(s->ndaemons, sizeof(*s->slots));
    for (unsigned i = 0; i < s->ndaemons; i++) {
        s->slots[i].server = s;
        s->slots[i].worker = cfg->worker_ctx ? cfg->worker_ctx[i] : NULL;
        s->daemons[i] = start_daemon(s, &s->slots[i], &ss);
        if (s->daemons[i] == NULL) {
            err_set(e, ERR_UNAVAILABLE, "cannot listen on %s (address in use or not permitted)", cfg->listen);
            http_server_stop(s);
            return NULL;
        }
        if (i == 0) {
            /* Port 0: the others share whatever port the first one got. */
            const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemons[0], MHD_DAEMON_INFO_BIND_PORT);
            s->port = di ? di->port : 0;
            if (ss.ss_family == AF_INET)
                ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)s->port);
            else
                ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)s->port);
        }
    }
    char host[INET6_ADDRSTRLEN];
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
        snprintf(s->address, sizeof(s->address), "%s:%d", host, s->port);
    } else {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
        snprintf(s->address, sizeof(s->address), "[%s]:%d", host, s->port);
    }
    return s;
}

int http_server_port(const http_server *s)
{
    return s->port;
}

const char *http_server_address(const http_server *s)
{
    return s->address;
}

void http_server_quiesce(http_server *s)
{
    __atomic_store_n(&s->draining, 1, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < s->ndaemons; i++) {
        if (s->daemons[i] == NULL)
            continue;
        MHD_socket fd = MHD_quiesce_daemon(s->daemons[i]);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
    }
}

unsigned http_server_inflight(http_server *s)
{
    return __atomic_load_n(&s->inflight, __ATOMIC_RELAXED);
}

int64_t http_server_quiet_ms(http_server *s)
{
    return clock_mono_ms() - __atomic_load_n(&s->last_request_ms, __ATOMIC_RELAXED);
}

/* Stops taking new work, waits up to HTTP_STOP_WAIT_MS for the requests in
 * flight (suspended ones included: libmicrohttpd aborts the process when it
 * is stopped with a suspended connection) and stops the daemons. The
 * components that resume suspended requests (recorder, offload pool, watch
 * hub) must still be running. */
void http_server_stop(http_server *s)
{
    if (s == NULL)
        return;
    __atomic_store_n(&s->draining, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&s->refusing, 1, __ATOMIC_RELAXED);
    int64_t deadline = clock_mono_ms() + HTTP_STOP_WAIT_MS;
    while (http_server_inflight(s) > 0 && clock_mono_ms() < deadline) {
        struct timespec ms = {0, 1000000L};
        nanosleep(&ms, NULL);
    }
    for (unsigned i = 0; i < s->ndaemons; i++)
        if (s->daemons[i])
            MHD_stop_daemon(s->daemons[i]);
    free(s->daemons);
    free(s->slots);
    free(s);
}

/* ---- accessors and replies ---- */

const char *http_method(const http_request *r)
{
    return r->method;
}

const char *http_path(const http_request *r)
{
    return r->path;
}

const char *http_query(const http_request *r)
{
    return r->query;
}

const char *http_header(const http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_client(const http_request *r)
{
    return r->client;
}

const char *http_request_id(const http_request *r)
{
    return r->request_id;
}

void http_set_route(http_request *r, const char *route)
{
    r->route = route;
}

const char *http_route(const http_request *r)
{
    return r->route;
}

int http_status(const http_request *r)
{
    return r->status;
}

const char *http_body(const http_request *r, size_t *len)
{
    *len = r->body.len;
    return buf_str(&r->body);
}

void http_add_header(http_request *r, const char *name, const char *value)
{
    for (int i = 0; i < r->nhdr; i++) {
        if (strcasecmp(r->hdr_name[i], name) == 0) {
            free(r->hdr_value[i]);
            r->hdr_value[i] = xstrdup(value);
            return;
        }
    }
    if (r->nhdr == HTTP_MAX_RESP_HEADERS)
        return;
    r->hdr_name[r->nhdr] = xstrdup(name);
    r->hdr_value[r->nhdr] = xstrdup(value);
    r->nhdr++;
}

void http_reply(http_request *r, int status, const char *content_type, char *body, size_t len)
{
    free(r->resp_body);
    r->resp_static = NULL;
    r->status = status;
    r->resp_body = body;
    r->resp_len = len;
    snprintf(r->content_type, sizeof(r->content_type), "%s", content_type ? content_type : "");
    if (r->state != REQ_SUSPENDED)
        r->state = REQ_REPLIED;
}

void http_reply_static(http_request *r, int status, const char *content_type, const void *data,
                       size_t len)
{
    http_reply(r, status, content_type, NULL, 0);
    r->resp_static = data;
    r->resp_len = len;
}

void http_reply_json(http_request *r, int status, buf_t *b)
{
    size_t len = b->len;
    http_reply(r, status, "application/json", buf_take(b), len);
}

void http_reply_error(http_request *r, const err_t *e)
{
    http_reply_error_code(r, e, NULL);
}

void http_reply_error_code(http_request *r, const err_t *e, const char *code)
{
    buf_t b;
    buf_init(&b, 2048);
    buf_puts(&b, "{\"error\":");
    const char *error = err_code(e->cls);
    buf_json_string(&b, error, strlen(error));
    buf_puts(&b, ",\"error_description\":");
    buf_json_string(&b, e->detail, strlen(e->detail));
    if (code != NULL) {
        buf_puts(&b, ",\"code\":");
        buf_json_string(&b, code, strlen(code));
    }
    buf_puts(&b, "}");
    if (e->cls == ERR_UNAUTHORIZED)
        http_add_header(r, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
    http_add_header(r, "Cache-Control", "no-store");
    http_reply_json(r, err_http_status(e->cls), &b);
}

void http_suspend(http_request *r)
{
    r->state = REQ_SUSPENDED;
    MHD_suspend_connection(r->conn);
}

void http_resume(http_request *r)
{
    r->state = REQ_REPLIED;
    MHD_resume_connection(r->conn);
}
