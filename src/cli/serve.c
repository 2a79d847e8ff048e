/* tessera serve - the server: store, directory, recorder, HTTP workers,
 * and the main loop that applies changes and waits for SIGTERM/SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/limits.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/server.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "crypto/crypto.h"
#include "domain/change_listener.h"
#include "domain/signing_keys.h"
#include "domain/webhooks.h"

#define SERVE_REFRESH_MS 200
#define SERVE_PURGE_SECONDS 60
#define SERVE_SWEEP_SECONDS 5     /* session.expired audit events, a minute of expiries at most per sweep */
#define SERVE_OFFLOAD_THREADS 4   /* integration calls waiting on host APIs at once */
#define SERVE_OFFLOAD_QUEUE 256
#define SERVE_MAX_WATCHERS 4096   /* open embeds long-polling at once (per process) */
#define SERVE_DRAIN_MS 10000
#define SERVE_DRAIN_QUIET_MS 300 /* drained: nothing in flight and no new request for this long */
#define SERVE_MAX_WORKERS 64
#define SERVE_SIGNIN_PER_EMAIL 5   /* failed sign-ins per email ... */
#define SERVE_SIGNIN_PER_CLIENT 20 /* ... and per client address ... */
#define SERVE_SIGNIN_WINDOW 900    /* ... per 15 minutes */
#define SERVE_METRICS_TOKEN_MIN 16  /* characters */
#define SERVE_METRICS_TOKEN_MAX 512

struct server_state {
    sigset_t stop;         /* SIGTERM, SIGINT: blocked, taken by sigtimedwait */
    store *store;          /* the main thread's handle (directory refresh) */
    directory *dir;
    recorder *rec;
    api_app app;
    api_worker *workers[SERVE_MAX_WORKERS];
    unsigned nworkers;      /* wanted */
    unsigned nworkers_open; /* created */
    http_server *http;
    int listening;          /* server_open got as far as listening */
    http_proxies proxies;   /* --trust-proxy */
    webhook_deliverer *webhooks; /* delivery threads, each with its own store */
    change_listener *listener;   /* applies other nodes' changes when notified */
};

static int parse_workers(const cli_args *a, unsigned *n)
{
    const char *w = cli_opt(a, "workers");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    *n = cores > 0 ? (unsigned)cores : 1;
    if (w != NULL) {
        char *end;
        long v = strtol(w, &end, 10);
        if (*w == '\0' || *end != '\0' || v < 1 || v > SERVE_MAX_WORKERS)
            return cli_fail(CLI_USAGE, "--workers must be 1 to %d", SERVE_MAX_WORKERS);
        *n = (unsigned)v;
    }
    if (*n > SERVE_MAX_WORKERS)
        *n = SERVE_MAX_WORKERS;
    return 0;
}

static int set_base_url(server_state *st, const char *base_url)
{
    if (base_url == NULL) {
        snprintf(st->app.base_url, sizeof(st->app.base_url), "http://%s",
                 http_server_address(st->http));
        return 0;
    }
    size_t n = strlen(base_url);
    while (n > 0 && base_url[n - 1] == '/')
        n--;
    if ((strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0) ||
        n >= sizeof(st->app.base_url))
        return cli_fail(CLI_USAGE, "--base-url must be an http:// or https:// URL");
    memcpy(st->app.base_url, base_url, n);
    st->app.base_url[n] = '\0';
    return 0;
}

/* The scheme://host[:port] part of the base URL. */
static void set_origin(api_app *app)
{
    const char *host = strstr(app->base_url, "://") + 3;
    const char *slash = strchr(host, '/');
    size_t n = slash ? (size_t)(slash - app->base_url) : strlen(app->base_url);
    snprintf(app->origin, sizeof(app->origin), "%.*s", (int)n, app->base_url);
}

/* The /metrics bearer token from --metrics-token-file FILE (first line) or
 * else $TESSERA_METRICS_TOKEN: only its SHA-256 is kept. None is fine. */
static int load_metrics_token(const cli_args *a, api_app *app)
{
    const char *path = cli_opt(a, "metrics-token-file"), *env = getenv("TESSERA_METRICS_TOKEN");
    char text[SERVE_METRICS_TOKEN_MAX + 2] = "";
    int code = CLI_OK;
    if (path != NULL) {
        FILE *f = fopen(path, "r");
        if (f == NULL)
            return cli_fail(CLI_USAGE, "--metrics-token-file: cannot read %s", path);
        if (fgets(text, sizeof(text), f) == NULL)
            text[0] = '\0';
        fclose(f);
    } else if (env != NULL && env[0] != '\0') {
        snprintf(text, sizeof(text), "%s", env);
    } else {
        return CLI_OK;
    }
    size_t n = strcspn(text, "\r\n");
    while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
        n--;
    text[n] = '\0';
    if (n < SERVE_METRICS_TOKEN_MIN || n > SERVE_METRICS_TOKEN_MAX ||
        strpbrk(text, " \t") != NULL) {
        code = cli_fail(CLI_USAGE, "the metrics token must be %d to %d characters without spaces",
                        SERVE_METRICS_TOKEN_MIN, SERVE_METRICS_TOKEN_MAX);
    } else {
        crypto_sha256(text, n, app->metrics_token_hash);
        app->metrics_token_set = 1;
    }
    explicit_bzero(text, sizeof(text));
    return code;
}

/* Opens everything up to (not including) the HTTP server. */
static int open_state(server_state *st, const cli_args *a, err_t *e)
{
    unsigned char master[MASTER_KEY_LEN];
    int rc = -1;
    st->store = cli_open_store(a, e);
    if (st->store == NULL || signing_keys_master_key(st->store, a->db_url, master, e) != 0 ||
        signing_keys_ensure(st->store, master, e) != 0)
        goto out;
    st->dir = directory_new(master);
    if (directory_load(st->dir, st->store, e) != 0)
        goto out;
    store *rec_store = store_open(a->db_url, e);
    if (rec_store == NULL)
        goto out;
    st->rec = recorder_start(rec_store, e);
    if (st->rec == NULL) {
        rec_store->ops->close(rec_store);
        goto out;
    }
    st->app.dir = st->dir;
    st->app.rec = st->rec;
    st->app.signin_by_email = throttle_new(SERVE_SIGNIN_PER_EMAIL, SERVE_SIGNIN_WINDOW, 100000);
    st->app.signin_by_client = throttle_new(SERVE_SIGNIN_PER_CLIENT, SERVE_SIGNIN_WINDOW, 100000);
    api_limits_init(&st->app);
    st->app.jwks = jwks_cache_new();
    st->app.exchanges = exchange_cache_new();
    st->app.watch = watch_hub_new(SERVE_MAX_WATCHERS);
    st->app.offload = offload_start(a->db_url, SERVE_OFFLOAD_THREADS, SERVE_OFFLOAD_QUEUE, e);
    if (st->app.offload == NULL)
        goto out;
    if ((st->webhooks = webhooks_start(a->db_url, st->dir, e)) == NULL)
        goto out;
    if ((st->listener = change_listener_start(a->db_url, st->dir, st->app.watch, e)) == NULL)
        goto out;
    rc = 0;
out:
    explicit_bzero(master, sizeof(master));
    return rc;
}

static void close_state(server_state *st)
{
    offload_stop(st->app.offload); /* its jobs resume their requests: before the server goes */
    http_server_stop(st->http);
    st->http = NULL;
    recorder_stop(st->rec);
    webhooks_stop(st->webhooks);          /* uses the directory: before it goes */
    change_listener_stop(st->listener);   /* uses the directory and the watch hub */
    for (unsigned i = 0; i < st->nworkers_open; i++)
        api_worker_free(st->workers[i]);
    throttle_free(st->app.signin_by_email);
    throttle_free(st->app.signin_by_client);
    api_limits_free(&st->app);
    jwks_cache_free(st->app.jwks);
    exchange_cache_free(st->app.exchanges);
    watch_hub_free(st->app.watch);
    directory_free(st->dir);
    if (st->store)
        st->store->ops->close(st->store);
}

/* Deletes the subject tokens of sessions that have ended, at most once
 * every SERVE_PURGE_SECONDS. */
static void purge_ended(server_state *st, int64_t *last)
{
    int64_t now = clock_now(), deleted = 0;
    err_t e;
    if (now - *last < SERVE_PURGE_SECONDS)
        return;
    *last = now;
    if (st->store->ops->subject_token_purge(st->store, now, &deleted, &e) != 0)
        log_msg(LOG_WARN, "cannot delete the subject tokens of ended sessions; retrying", "error", e.detail, NULL);
}

/* Audits the sessions that expired, at most once every SERVE_SWEEP_SECONDS
 * (store: session_expiry_sweep, a minute of expiries per transaction;
 * idempotent across nodes); catches up at most an hour per call. */
static void sweep_expired(server_state *st, int64_t *last)
{
    int64_t now = clock_now(), count = 0, done = 0;
    err_t e;
    if (now - *last < SERVE_SWEEP_SECONDS)
        return;
    *last = now;
    for (int i = 0; i < 60 && done < now; i++) {
        if (st->store->ops->session_expiry_sweep(st->store, now, &count, &done, &e) != 0) {
            log_msg(LOG_WARN, "cannot audit expired sessions; retrying", "error", e.detail, NULL);
            return;
        }
    }
}

/* Waits for a stop signal, applying store changes every SERVE_REFRESH_MS. */
static int run_until_signal(server_state *st, const sigset_t *stop)
{
    struct timespec tick = {0, SERVE_REFRESH_MS * 1000000L};
    int64_t last_purge = 0, last_sweep = 0;
    for (;;) {
        int sig = sigtimedwait(stop, NULL, &tick);
        if (sig > 0)
            return sig;
        err_t e;
        if (directory_refresh(st->dir, st->store, &e) != 0)
            log_msg(LOG_WARN, "cannot apply store changes; retrying", "error", e.detail, NULL);
        purge_ended(st, &last_purge);
        sweep_expired(st, &last_sweep);
        watch_hub_check(st->app.watch, st->dir, clock_now());
    }
}

static void drain(server_state *st)
{
    watch_hub_close(st->app.watch); /* long polls answer now: they would hold the drain */
    http_server_quiesce(st->http);
    /* Kept-alive connections (a load balancer's pool) still bring requests
     * after the listener closed; each reply now closes its connection, so
     * they stop coming once every such connection carried one more. Done
     * when nothing is in flight and nothing new arrived for a while. */
    int64_t deadline = clock_mono_ms() + SERVE_DRAIN_MS;
    while ((http_server_inflight(st->http) > 0 || http_server_quiet_ms(st->http) < SERVE_DRAIN_QUIET_MS) &&
           clock_mono_ms() < deadline) {
        struct timespec ms = {0, 10 * 1000000L};
        nanosleep(&ms, NULL);
    }
}

int server_open(server_state **out, const cli_args *a, const char *listen, const char *base_url)
{
    server_state *st = xcalloc(1, sizeof(*st));
    *out = st;
    int code = parse_workers(a, &st->nworkers);
    if (code != 0)
        return code;
    err_t e;
    if (http_listen_check(listen, &e) != 0)
        return cli_fail(CLI_USAGE, "%s", e.detail);
    const char *proxies = cli_opt(a, "trust-proxy");
    if (proxies != NULL && http_proxies_parse(proxies, &st->proxies, &e) != 0)
        return cli_fail(CLI_USAGE, "%s", e.detail);
    if ((code = load_metrics_token(a, &st->app)) != 0)
        return code;

    /* Signals are taken by sigtimedwait on the main thread only; every
     * thread started from here on inherits the blocked mask. */
    sigemptyset(&st->stop);
    sigaddset(&st->stop, SIGTERM);
    sigaddset(&st->stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &st->stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (open_state(st, a, &e) != 0)
        return cli_fail_err(&e);
    void *ctx[SERVE_MAX_WORKERS];
    for (unsigned i = 0; i < st->nworkers; i++) {
        store *ws = store_open(a->db_url, &e);
        if (ws == NULL)
            return cli_fail_err(&e);
        ctx[i] = st->workers[st->nworkers_open++] = api_worker_new(&st->app, ws);
    }
    http_config cfg = {
        .listen = listen,
        .workers = st->nworkers,
        .worker_ctx = ctx,
        .handle = api_dispatch,
        .app = &st->app,
        .max_connections = 4096,
        .idle_timeout_seconds = 30,
        .body_limit = api_body_limit,
        .trusted_proxies = &st->proxies,
        .completed = api_completed,
    };
    st->http = http_server_start(&cfg, &e);
    if (st->http == NULL)
        return cli_fail_err(&e);
    if ((code = set_base_url(st, base_url)) != 0)
        return code;
    set_origin(&st->app);
    st->listening = 1;
    log_msg(LOG_INFO, "tessera started", "address", http_server_address(st->http), "base_url",
            st->app.base_url, NULL);
    fprintf(stderr, "listening on http://%s\n", http_server_address(st->http));
    fflush(stderr);
    return CLI_OK;
}

const char *server_base_url(const server_state *st)
{
    return st->app.base_url;
}

void server_run(server_state *st)
{
    int sig = run_until_signal(st, &st->stop);
    log_msg(LOG_INFO, "shutting down", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    drain(st);
}

void server_close(server_state *st)
{
    if (st == NULL)
        return;
    int was_listening = st->listening;
    close_state(st);
    free(st);
    if (was_listening)
        log_msg(LOG_INFO, "stopped", NULL);
}

int cmd_serve(int argc, char **argv)
{
    static const char *const values[] = {"listen",      "base-url",           "workers",
                                         "trust-proxy", "metrics-token-file", NULL};
    cli_args a;
    if (cli_parse(argc, argv, values, NULL, &a) != 0 ||
        cli_require_pos(&a, 0, "tessera serve [--listen ADDR:PORT] [--base-url URL] [--workers N] "
                               "[--trust-proxy ADDR[/BITS],...] [--metrics-token-file FILE]") != 0)
        return CLI_USAGE;
    server_state *st;
    const char *listen = cli_opt(&a, "listen") ? cli_opt(&a, "listen") : "127.0.0.1:8080";
    int code = server_open(&st, &a, listen, cli_opt(&a, "base-url"));
    if (code == CLI_OK)
        server_run(st);
    server_close(st);
    return code;
}
