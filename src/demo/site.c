#include "demo/site.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/assets.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/mime.h"
#include "core/xalloc.h"
#include "http/router.h"
#include "http/server.h"
#include "http/urlpath.h"

typedef struct {
    const char *key; /* cookie value */
    const char *email;
    const char *name;
    const char *metadata; /* JSON object text */
} demo_user;

static const demo_user demo_users[] = {
    {"ada", "ada@demo.example", "Ada Admin",
     "{\"externalUserId\":\"u-1001\",\"externalOrgId\":\"acme\",\"isAdmin\":true}"},
    {"victor", "victor@demo.example", "Victor Viewer",
     "{\"externalUserId\":\"u-1002\",\"externalOrgId\":\"acme\",\"isAdmin\":false}"},
};

struct demo_site {
    demo_site_config cfg;
    int configured; /* atomic */
    http_server *http;
    char url[96];
};

typedef void (*site_handler)(demo_site *s, http_request *req, const route_params *p);

static void reply_text(http_request *req, int status, const char *ctype, const char *text)
{
    http_reply(req, status, ctype, xstrdup(text), strlen(text));
}

static void redirect(http_request *req, const char *to)
{
    http_add_header(req, "Location", to);
    reply_text(req, 303, "text/plain; charset=utf-8", "See Other\n");
}

static void serve_file(http_request *req, const char *rel)
{
    char path[600];
    snprintf(path, sizeof(path), "web/demo/%s", rel);
    const asset *a = assets_find(path);
    if (a == NULL) {
        reply_text(req, 404, "text/plain; charset=utf-8", "Not found\n");
        return;
    }
    http_add_header(req, "Cache-Control", "no-cache");
    http_reply_static(req, 200, mime_type_for(path), a->data, a->len);
}

/* The signed-in demo user from the demo_user cookie, or NULL. */
static const demo_user *current_user(http_request *req)
{
    const char *cookie = http_header(req, "Cookie");
    const char *p = cookie ? strstr(cookie, "demo_user=") : NULL;
    if (p == NULL)
        return NULL;
    p += strlen("demo_user=");
    for (size_t i = 0; i < sizeof(demo_users) / sizeof(demo_users[0]); i++) {
        size_t n = strlen(demo_users[i].key);
        if (strncmp(p, demo_users[i].key, n) == 0 && (p[n] == '\0' || p[n] == ';'))
            return &demo_users[i];
    }
    return NULL;
}

static void on_page(demo_site *s, http_request *req, const route_params *p)
{
    (void)s;
    char rel[512];
    if (urlpath_decode(p->value[0], rel, sizeof(rel)) != 0) {
        reply_text(req, 404, "text/plain; charset=utf-8", "Not found\n");
        return;
    }
    if (rel[0] == '\0')
        serve_file(req, "index.html");
    else if (strcmp(rel, "app") == 0)
        serve_file(req, "app.html");
    else
        serve_file(req, rel);
}

static void on_config(demo_site *s, http_request *req, const route_params *p)
{
    (void)p;
    json_t *doc = json_pack("{s:s, s:s}", "tesseraUrl", s->cfg.tessera_url, "appId", s->cfg.app_id);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    http_reply(req, 200, "application/json", text, strlen(text));
}

static void on_login(demo_site *s, http_request *req, const route_params *p)
{
    (void)s;
    (void)p;
    size_t len;
    const char *body = http_body(req, &len);
    for (size_t i = 0; i < sizeof(demo_users) / sizeof(demo_users[0]); i++) {
        char want[32];
        snprintf(want, sizeof(want), "user=%s", demo_users[i].key);
        if (len == strlen(want) && memcmp(body, want, len) == 0) {
            char cookie[96];
            snprintf(cookie, sizeof(cookie), "demo_user=%s; Path=/; HttpOnly; SameSite=Lax", demo_users[i].key);
            http_add_header(req, "Set-Cookie", cookie);
            redirect(req, "/app");
            return;
        }
    }
    redirect(req, "/");
}

static void on_logout(demo_site *s, http_request *req, const route_params *p)
{
    (void)s;
    (void)p;
    http_add_header(req, "Set-Cookie", "demo_user=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    redirect(req, "/");
}

static size_t on_curl_data(char *data, size_t size, size_t n, void *ctx)
{
    return buf_append(ctx, data, size * n) == 0 ? size * n : 0;
}

/* The host backend's token endpoint: what the seed's Node/Flask samples do. */
static void on_token(demo_site *s, http_request *req, const route_params *p)
{
    (void)p;
    const demo_user *u = current_user(req);
    if (u == NULL) {
        reply_text(req, 401, "application/json",
                   "{\"error\":\"unauthorized\",\"error_description\":\"sign in to the demo site first\"}");
        return;
    }
    char url[300], auth[96], body[512];
    snprintf(url, sizeof(url), "%s/api/v1/public/token", s->cfg.tessera_url);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->cfg.embed_token);
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"name\":\"%s\",\"groupIds\":[\"%s\"],\"metadata\":%s}",
             u->email, u->name, s->cfg.group_id, u->metadata);
    buf_t out;
    buf_init(&out, 64 * 1024);
    struct curl_slist *headers = curl_slist_append(NULL, auth);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    CURL *curl = curl_easy_init();
    long status = 0;
    CURLcode rc = CURLE_FAILED_INIT;
    if (curl != NULL) {
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_curl_data);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        rc = curl_easy_perform(curl);
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(curl);
    }
    curl_slist_free_all(headers);
    explicit_bzero(auth, sizeof(auth));
    if (rc != CURLE_OK) {
        log_msg(LOG_WARN, "demo site: token request failed", "error", curl_easy_strerror(rc), NULL);
        buf_free(&out);
        reply_text(req, 502, "application/json",
                   "{\"error\":\"bad_gateway\",\"error_description\":\"Tessera did not answer\"}");
        return;
    }
    http_add_header(req, "Cache-Control", "no-store");
    http_reply_json(req, (int)status, &out);
}

static const route site_routes[] = {
    {"GET", "/config.json", (const void *)on_config},
    {"GET", "/api/superblocks/token", (const void *)on_token},
    {"POST", "/login", (const void *)on_login},
    {"POST", "/logout", (const void *)on_logout},
    {"GET", "/{file*}", (const void *)on_page},
};

static void site_dispatch(void *app, void *worker, http_request *req)
{
    (void)worker;
    demo_site *s = app;
    if (!__atomic_load_n(&s->configured, __ATOMIC_ACQUIRE)) {
        reply_text(req, 503, "text/plain; charset=utf-8", "The demo is starting; reload in a moment.\n");
        return;
    }
    const route *match;
    route_params params;
    char allow[64];
    if (router_match(site_routes, sizeof(site_routes) / sizeof(site_routes[0]), http_method(req),
                     http_path(req), &match, &params, allow, sizeof(allow)) == ROUTE_FOUND)
        ((site_handler)match->target)(app, req, &params);
    else
        reply_text(req, 404, "text/plain; charset=utf-8", "Not found\n");
}

demo_site *demo_site_start(const char *listen, err_t *e)
{
    demo_site *s = xcalloc(1, sizeof(*s));
    http_config hc = {
        .listen = listen,
        .workers = 1,
        .handle = site_dispatch,
        .app = s,
        .max_connections = 256,
        .idle_timeout_seconds = 30,
    };
    s->http = http_server_start(&hc, e);
    if (s->http == NULL) {
        demo_site_stop(s);
        return NULL;
    }
    snprintf(s->url, sizeof(s->url), "http://localhost:%d", http_server_port(s->http));
    return s;
}

void demo_site_configure(demo_site *s, const demo_site_config *cfg)
{
    s->cfg = *cfg;
    __atomic_store_n(&s->configured, 1, __ATOMIC_RELEASE);
}

const char *demo_site_url(const demo_site *s)
{
    return s->url;
}

void demo_site_stop(demo_site *s)
{
    if (s == NULL)
        return;
    http_server_stop(s->http);
    explicit_bzero(s->cfg.embed_token, sizeof(s->cfg.embed_token));
    free(s);
}
