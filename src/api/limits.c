#include "api/limits.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "domain/token_limit.h"

void api_limits_init(api_app *app)
{
    app->token_buckets = ratelimit_new(API_TOKEN_BUCKETS);
    app->session_buckets = ratelimit_new(API_SESSION_BUCKETS);
    app->auth_failures = throttle_new(API_AUTH_FAILURES, API_AUTH_WINDOW, API_AUTH_CLIENTS);
}

void api_limits_free(api_app *app)
{
    ratelimit_free(app->token_buckets);
    ratelimit_free(app->session_buckets);
    throttle_free(app->auth_failures);
    app->token_buckets = app->session_buckets = NULL;
    app->auth_failures = NULL;
}

static void add_number(http_request *req, const char *name, long long v)
{
    char text[24];
    snprintf(text, sizeof(text), "%lld", v);
    http_add_header(req, name, text);
}

/* The RateLimit-* fields; with_policy adds RateLimit-Policy (the quota is
 * `limit` requests per `window` seconds): it never changes, so only
 * refusals carry it, which keeps every successful reply a field shorter. */
static void add_fields(http_request *req, long long limit, long long remaining, long long reset,
                       long long window, int with_policy)
{
    add_number(req, "RateLimit-Limit", limit);
    add_number(req, "RateLimit-Remaining", remaining);
    add_number(req, "RateLimit-Reset", reset);
    if (with_policy) {
        char policy[48];
        snprintf(policy, sizeof(policy), "%lld;w=%lld", limit, window);
        http_add_header(req, "RateLimit-Policy", policy);
    }
}

/* A refusal: counted, not logged (a flood would flood the log too; the
 * token endpoint logs its refusals itself). */
static int refuse(http_request *req, const char *limit, long long retry_after, err_t *e,
                  const char *what)
{
    add_number(req, "Retry-After", retry_after);
    metrics_count(METRIC_RATE_LIMITED, limit);
    return err_set(e, ERR_RATE_LIMITED, "%s; retry after %lld s", what, retry_after);
}

/* Takes one unit for key; on refusal sets *e. fields_always: add the
 * RateLimit-* fields to allowed requests too. */
static int take(ratelimit *rl, http_request *req, const char *key, const ratelimit_rule *rule,
                const char *limit, int fields_always, const char *what, err_t *e)
{
    ratelimit_result r;
    ratelimit_take(rl, key, rule, clock_mono_us(), &r);
    if (r.allowed && !fields_always)
        return 0;
    long long window = (rule->burst + rule->rps - 1) / rule->rps;
    add_fields(req, r.limit, r.remaining, r.reset, window, !r.allowed);
    return r.allowed ? 0 : refuse(req, limit, r.retry_after, e, what);
}

int api_limit_token(api_app *app, http_request *req, const store_token *tok, err_t *e)
{
    ratelimit_rule rule;
    if (!token_limit_effective(tok, &rule))
        return 0;
    return take(app->token_buckets, req, tok->id, &rule, "token", 1,
                "this access token is over its rate limit", e);
}

int api_limit_session(api_app *app, http_request *req, const char *jti, err_t *e)
{
    const ratelimit_rule rule = {API_SESSION_RPS, API_SESSION_BURST};
    return take(app->session_buckets, req, jti, &rule, "session", 0,
                "this session is over its rate limit for integration calls", e);
}

int api_auth_guarded(const char *path)
{
    static const char *const prefixes[] = {"/api/v1/public/", "/api/v1/integrations/",
                                           "/api/v1/organizations/"};
    static const char *const exact[] = {"/api/v1/me", "/api/v1/embed/session",
                                        "/api/v1/embed/watch", "/metrics"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(path, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
        if (strcmp(path, exact[i]) == 0)
            return 1;
    return 0;
}

static void auth_key(http_request *req, char *key, size_t cap)
{
    snprintf(key, cap, "auth:%s", http_client(req));
}

int api_auth_check(api_app *app, http_request *req, err_t *e)
{
    char key[80];
    if (http_addr_is_loopback(http_client(req)))
        return 0;
    auth_key(req, key, sizeof(key));
    int64_t wait = throttle_check(app->auth_failures, key, clock_now());
    if (wait <= 0)
        return 0;
    add_fields(req, API_AUTH_FAILURES, 0, wait, API_AUTH_WINDOW, 1);
    return refuse(req, "client", wait, e, "too many failed authentications from this address");
}

void api_auth_failed(api_app *app, http_request *req)
{
    char key[80];
    int64_t now = clock_now();
    if (http_addr_is_loopback(http_client(req)))
        return;
    auth_key(req, key, sizeof(key));
    int was_over = throttle_check(app->auth_failures, key, now) > 0;
    throttle_fail(app->auth_failures, key, now);
    if (!was_over && throttle_check(app->auth_failures, key, now) > 0)
        log_msg(LOG_WARN, "client address over the failed-authentication limit", "client",
                http_client(req), "request_id", http_request_id(req), NULL);
}
