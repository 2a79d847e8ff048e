/* Unit tests for webhooks (src/domain/webhooks*.c): the signature against a
 * vector computed with openssl, the backoff schedule, the mapping from audit
 * events to payloads, and the delivery loop on a real store against a tiny
 * HTTP endpoint run by the test (in order, skipping, backoff, disabling). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "core/clock.h"
#include "core/uuid.h"
#include "domain/webhooks.h"
#include "http/client.h"

/* ---- signature and backoff ---- */

/* Computed with:
 *   printf '%s' '1700000000.{"id":"01890000-0000-7000-8000-000000000001","type":"session.created"}' \
 *     | openssl dgst -sha256 -hmac 'whsec_test-secret'
 *   printf '%s' '42.' | openssl dgst -sha256 -hmac 'whsec_test-secret'   (an empty body) */
static void test_signature_vector(void **state)
{
    (void)state;
    const char *body = "{\"id\":\"01890000-0000-7000-8000-000000000001\",\"type\":\"session.created\"}";
    char sig[WEBHOOK_SIGNATURE_MAX];
    webhook_sign("whsec_test-secret", 1700000000, body, strlen(body), sig);
    assert_string_equal(sig, "t=1700000000,v1=9722d1b2b28d9e2c19c2198c45f91dec8965c7cbda24437aa669b04bfbdf1a5e");
    /* Another secret: another signature at the same time. */
    char other[WEBHOOK_SIGNATURE_MAX];
    webhook_sign("whsec_test-secreT", 1700000000, body, strlen(body), other);
    assert_memory_equal(other, sig, strlen("t=1700000000,v1="));
    assert_string_not_equal(other, sig);
    webhook_sign("whsec_test-secret", 42, "", 0, sig);
    assert_string_equal(sig, "t=42,v1=8cb500237e0d14f85b8b4620b9e5d60a1b5449edf45d9aef7c2e3eeaced3601f");
}

static void test_backoff_schedule(void **state)
{
    (void)state;
    const int64_t want[] = {0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600};
    for (int64_t f = 0; f < (int64_t)(sizeof(want) / sizeof(want[0])); f++)
        assert_int_equal(webhook_backoff(f), want[f]);
    assert_int_equal(webhook_backoff(64), WEBHOOK_BACKOFF_MAX);
    assert_int_equal(webhook_backoff(INT64_MAX), WEBHOOK_BACKOFF_MAX);
    assert_int_equal(webhook_backoff(-3), 0);
}

/* ---- mapping and payloads ---- */

static store_audit audit_of(const char *org, const char *action, const char *target, const char *detail)
{
    store_audit a;
    memset(&a, 0, sizeof(a));
    uuid_v7(a.id);
    snprintf(a.org_id, sizeof(a.org_id), "%s", org);
    a.at = 1700000000;
    snprintf(a.actor, sizeof(a.actor), "token:x");
    snprintf(a.action, sizeof(a.action), "%s", action);
    snprintf(a.target, sizeof(a.target), "%s", target);
    snprintf(a.detail, sizeof(a.detail), "%s", detail);
    return a;
}

static json_t *payload_of(const store_audit *a)
{
    const char *type = webhook_event_type(a->action);
    assert_non_null(type);
    size_t len;
    char *text = webhook_payload(a, type, &len);
    assert_int_equal(len, strlen(text));
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "id")), a->id);
    assert_string_equal(json_string_value(json_object_get(j, "type")), type);
    assert_string_equal(json_string_value(json_object_get(j, "created_at")), "2023-11-14T22:13:20Z");
    assert_string_equal(json_string_value(json_object_get(j, "org_id")), a->org_id);
    return j;
}

#define DATA(j, k) json_object_get(json_object_get((j), "data"), (k))
#define DATA_STR(j, k) json_string_value(DATA(j, k))

static void test_event_mapping(void **state)
{
    (void)state;
    assert_string_equal(webhook_event_type("session.issued"), "session.created");
    assert_string_equal(webhook_event_type("session.refreshed"), "session.refreshed");
    assert_string_equal(webhook_event_type("session.revoked"), "session.revoked");
    assert_string_equal(webhook_event_type("session.denied"), "session.denied");
    const char *never[] = {"webhook.created", "webhook.tested", "token.revoked", "session.expired",
                           "session.issue", "", "user.created"};
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
        assert_null(webhook_event_type(never[i]));
    store_webhook w;
    memset(&w, 0, sizeof(w));
    snprintf(w.events, sizeof(w.events), "session.created,session.revoked");
    assert_true(webhook_wants(&w, "session.created"));
    assert_true(webhook_wants(&w, "session.revoked"));
    assert_false(webhook_wants(&w, "session.denied"));
    assert_false(webhook_wants(&w, "session"));
    assert_false(webhook_wants(&w, "session.created,session.revoked"));
}

static void test_payloads(void **state)
{
    (void)state;
    const char *org = "0a000000-0000-4000-8000-00000000000a", *jti = "01890000-0000-7000-8000-0000000000aa";
    store_audit issued = audit_of(org, "session.issued", jti,
                                  "{\"email\":\"jane@host.example\",\"user_id\":\"u-1\",\"user_type\":\"external\","
                                  "\"groups\":2,\"expires_at\":1700086400,\"correlation_id\":\"d942c6\"}");
    json_t *j = payload_of(&issued);
    assert_string_equal(DATA_STR(j, "jti"), jti);
    assert_string_equal(DATA_STR(j, "email"), "jane@host.example");
    assert_string_equal(DATA_STR(j, "user_id"), "u-1");
    assert_string_equal(DATA_STR(j, "user_type"), "external");
    assert_string_equal(DATA_STR(j, "expires_at"), "2023-11-15T22:13:20Z");
    assert_string_equal(DATA_STR(j, "correlation_id"), "d942c6");
    assert_null(DATA(j, "groups"));
    json_decref(j);

    store_audit by_jti = audit_of(org, "session.revoked", jti, "{\"jti\":\"x\"}");
    j = payload_of(&by_jti);
    assert_string_equal(DATA_STR(j, "scope"), "session");
    assert_string_equal(DATA_STR(j, "jti"), jti);
    assert_true(json_is_null(DATA(j, "correlation_id")));
    json_decref(j);

    store_audit by_email =
        audit_of(org, "session.revoked", "ann@host.example", "{\"email\":\"ann@host.example\",\"all_sessions\":true}");
    j = payload_of(&by_email);
    assert_string_equal(DATA_STR(j, "scope"), "user");
    assert_string_equal(DATA_STR(j, "email"), "ann@host.example");
    assert_null(DATA(j, "jti"));
    json_decref(j);

    store_audit denied = audit_of(org, "session.denied", "bob@host.example",
                                  "{\"reason\":\"invalid_request\",\"detail\":\"unknown groupIds: g\","
                                  "\"email\":\"bob@host.example\",\"correlation_id\":\"c-9\"}");
    j = payload_of(&denied);
    assert_string_equal(DATA_STR(j, "reason"), "invalid_request");
    assert_string_equal(DATA_STR(j, "description"), "unknown groupIds: g");
    assert_string_equal(DATA_STR(j, "email"), "bob@host.example");
    assert_string_equal(DATA_STR(j, "correlation_id"), "c-9");
    assert_null(DATA(j, "jti"));
    json_decref(j);

    /* A detail that is not JSON still gives a well-formed event. */
    store_audit odd = audit_of(org, "session.refreshed", jti, "not json");
    j = payload_of(&odd);
    assert_string_equal(DATA_STR(j, "jti"), jti);
    json_decref(j);
}

/* ---- the delivery loop, against a local endpoint ---- */

#define MAX_SEEN 64

typedef struct {
    int fd;
    int port;
    pthread_t thread;
    pthread_mutex_t mu;
    int status;                  /* what to answer */
    int nseen;
    char *bodies[MAX_SEEN];      /* owned */
    char signatures[MAX_SEEN][WEBHOOK_SIGNATURE_MAX];
} endpoint;

/* The value of header name (lower-case) in the request head req. */
static void header_value(const char *req, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    for (const char *p = req; (p = strstr(p, "\r\n")) != NULL; p += 2) {
        if (strncasecmp(p + 2, name, strlen(name)) == 0 && p[2 + strlen(name)] == ':') {
            const char *v = p + 2 + strlen(name) + 1;
            while (*v == ' ')
                v++;
            size_t n = strcspn(v, "\r\n");
            snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), v);
            return;
        }
    }
}

static void *serve(void *arg)
{
    endpoint *ep = arg;
    for (;;) {
        int c = accept(ep->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        char buf[16384];
        size_t got = 0;
        char *end = NULL;
        long want = -1;
        while (got < sizeof(buf) - 1) {
            ssize_t n = read(c, buf + got, sizeof(buf) - 1 - got);
            if (n <= 0)
                break;
            got += (size_t)n;
            buf[got] = '\0';
            if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
                char cl[32];
                header_value(buf, "content-length", cl, sizeof(cl));
                want = (long)(end + 4 - buf) + atol(cl);
            }
            if (want >= 0 && (long)got >= want)
                break;
        }
        pthread_mutex_lock(&ep->mu);
        int status = ep->status;
        if (end != NULL && ep->nseen < MAX_SEEN) {
            ep->bodies[ep->nseen] = strdup(end + 4);
            header_value(buf, "tessera-signature", ep->signatures[ep->nseen], WEBHOOK_SIGNATURE_MAX);
            ep->nseen++;
        }
        pthread_mutex_unlock(&ep->mu);
        char reply[128];
        int n = snprintf(reply, sizeof(reply), "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                         status);
        if (write(c, reply, (size_t)n) < 0) {
            /* the client went away: nothing to do */
        }
        close(c);
    }
}

static void endpoint_start(endpoint *ep)
{
    memset(ep, 0, sizeof(*ep));
    pthread_mutex_init(&ep->mu, NULL);
    ep->status = 200;
    ep->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(ep->fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    assert_int_equal(bind(ep->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(ep->fd, 16), 0);
    assert_int_equal(getsockname(ep->fd, (struct sockaddr *)&sa, &len), 0);
    ep->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&ep->thread, NULL, serve, ep), 0);
}

static void endpoint_stop(endpoint *ep)
{
    shutdown(ep->fd, SHUT_RDWR);
    close(ep->fd);
    pthread_join(ep->thread, NULL);
    for (int i = 0; i < ep->nseen; i++)
        free(ep->bodies[i]);
    pthread_mutex_destroy(&ep->mu);
}

typedef struct {
    store *s;
    directory *d;
    endpoint ep;
    store_org org;
    store_webhook hook;
    char secret[WEBHOOK_SECRET_LEN + 1];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    err_t e;
    unsigned char master[32];
    memset(master, 7, sizeof(master));
    f->s = store_open("sqlite::memory:", &e);
    if (f->s == NULL || f->s->ops->migrate(f->s, &e) != 0)
        return -1;
    f->d = directory_new(master);
    memset(&f->org, 0, sizeof(f->org));
    uuid_v4(f->org.id);
    snprintf(f->org.name, sizeof(f->org.name), "Org");
    snprintf(f->org.type, sizeof(f->org.type), "standard");
    f->org.session_ttl = f->org.session_ttl_max = 3600;
    if (f->s->ops->org_insert(f->s, &f->org, NULL, &e) != 0)
        return -1;
    endpoint_start(&f->ep);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", f->ep.port);
    admin_ctx c = {f->s, "admin@example.com", "", ""};
    const char *events[] = {"session.created", "session.revoked"};
    webhook_spec spec = {url, events, 2, 1, -1};
    if (admin_webhook_add(&c, f->d, f->org.id, &spec, &f->hook, f->secret, &e) != 0) {
        fprintf(stderr, "admin_webhook_add: %s\n", e.detail);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    endpoint_stop(&f->ep);
    directory_free(f->d);
    f->s->ops->close(f->s);
    free(f);
    return 0;
}

/* Appends an audit event of the fixture's org; returns its id in id[37]. */
static void add_event(fixture *f, const char *action, char *id)
{
    err_t e;
    store_audit a = audit_of(f->org.id, action, "01890000-0000-7000-8000-0000000000bb",
                             "{\"email\":\"jane@host.example\",\"expires_at\":1700086400}");
    assert_int_equal(f->s->ops->audit_insert(f->s, &a, &e), 0);
    if (id != NULL)
        memcpy(id, a.id, sizeof(a.id));
}

static store_webhook current(fixture *f)
{
    store_webhook w;
    err_t e;
    assert_int_equal(f->s->ops->webhook_get(f->s, f->org.id, f->hook.id, &w, &e), 0);
    return w;
}

typedef struct {
    store_webhook_delivery items[16];
    int n;
} delivery_list;

static int collect_delivery(void *ctx, const void *rec)
{
    delivery_list *l = ctx;
    if (l->n < 16)
        l->items[l->n++] = *(const store_webhook_delivery *)rec;
    return 0;
}

static int count_due(void *ctx, const void *rec)
{
    (void)rec;
    (*(int *)ctx)++;
    return 0;
}

static void test_secret_is_sealed(void **state)
{
    fixture *f = *state;
    char opened[WEBHOOK_SECRET_LEN + 1];
    err_t e;
    assert_int_equal(strlen(f->secret), WEBHOOK_SECRET_LEN);
    assert_memory_equal(f->secret, WEBHOOK_SECRET_PREFIX, strlen(WEBHOOK_SECRET_PREFIX));
    store_webhook w = current(f);
    assert_null(memmem(w.secret_sealed, w.secret_sealed_len, f->secret + 6, 20));
    assert_int_equal(webhook_secret_open(f->d, &w, opened, &e), 0);
    assert_string_equal(opened, f->secret);
    /* Sealed to its own webhook: under another id it does not open. */
    store_webhook moved = w;
    moved.id[0] = moved.id[0] == 'a' ? 'b' : 'a';
    assert_int_equal(webhook_secret_open(f->d, &moved, opened, &e), -1);
}

/* In order, only the subscribed types, the cursor at the last one; each POST
 * verifies with the secret. */
static void test_delivers_in_order(void **state)
{
    fixture *f = *state;
    char ids[3][37];
    add_event(f, "session.issued", ids[0]);
    add_event(f, "session.denied", NULL);   /* not subscribed */
    add_event(f, "webhook.created", NULL);  /* never delivered */
    add_event(f, "session.revoked", ids[1]);
    add_event(f, "session.issued", ids[2]);
    assert_int_equal(webhooks_run_once(f->s, f->d, -1, 1, clock_now()), 0);
    assert_int_equal(f->ep.nseen, 3);
    for (int i = 0; i < 3; i++) {
        json_t *j = json_loads(f->ep.bodies[i], 0, NULL);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "id")), ids[i]);
        json_decref(j);
        long long t = atoll(f->ep.signatures[i] + 2);
        char want[WEBHOOK_SIGNATURE_MAX];
        webhook_sign(f->secret, t, f->ep.bodies[i], strlen(f->ep.bodies[i]), want);
        assert_string_equal(f->ep.signatures[i], want);
    }
    store_webhook w = current(f);
    assert_int_equal(w.failures, 0);
    /* Caught up: nothing is due, nothing is sent again. */
    assert_int_equal(webhooks_run_once(f->s, f->d, -1, 1, clock_now()), 0);
    assert_int_equal(f->ep.nseen, 3);
    err_t e;
    int due = 0;
    assert_int_equal(f->s->ops->webhook_due(f->s, clock_now(), count_due, &due, &e), 0);
    assert_int_equal(due, 0);
}

/* A failure stops the webhook (the later events wait) until its backoff has
 * passed; then the same event goes again, attempt 2, and the rest follow. */
static void test_failure_backs_off(void **state)
{
    fixture *f = *state;
    char first[37], second[37];
    add_event(f, "session.issued", first);
    add_event(f, "session.issued", second);
    f->ep.status = 500;
    int64_t now = clock_now();
    webhooks_run_once(f->s, f->d, -1, 1, now);
    assert_int_equal(f->ep.nseen, 1);
    store_webhook w = current(f);
    assert_int_equal(w.failures, 1);
    assert_in_range(w.next_attempt_at, now + 1, clock_now() + 2); /* 1 s after the attempt, rounded up */
    assert_string_equal(w.last_error, "HTTP 500");
    now = w.next_attempt_at - 1;
    /* Not yet due: nothing sent. */
    webhooks_run_once(f->s, f->d, -1, 1, now);
    assert_int_equal(f->ep.nseen, 1);
    webhooks_run_once(f->s, f->d, -1, 1, now + 1);
    assert_int_equal(f->ep.nseen, 2);
    w = current(f);
    assert_int_equal(w.failures, 2);
    assert_int_equal(w.next_attempt_at, now + 1 + 2); /* the pass's time was ahead of the clock */
    f->ep.status = 204;
    webhooks_run_once(f->s, f->d, -1, 1, now + 3);
    assert_int_equal(f->ep.nseen, 4);
    for (int i = 0; i < 3; i++)
        assert_non_null(strstr(f->ep.bodies[i], first));
    assert_non_null(strstr(f->ep.bodies[3], second));
    w = current(f);
    assert_int_equal(w.failures, 0);
    assert_string_equal(w.last_error, "");
    /* The log, newest first: every attempt with its number and outcome. */
    delivery_list l = {.n = 0};
    err_t e;
    assert_int_equal(f->s->ops->webhook_delivery_each(f->s, f->org.id, f->hook.id, 10, collect_delivery, &l, &e), 0);
    assert_int_equal(l.n, 4);
    const int64_t attempts[] = {1, 3, 2, 1}, codes[] = {204, 204, 500, 500};
    const char *events[] = {second, first, first, first};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(l.items[i].attempt, attempts[i]);
        assert_int_equal(l.items[i].status_code, codes[i]);
        assert_string_equal(l.items[i].event_id, events[i]);
        assert_string_equal(l.items[i].event_type, "session.created");
        assert_string_equal(l.items[i].error, codes[i] == 500 ? "HTTP 500" : "");
    }
}

/* Nothing listening: the error is recorded, the cursor stays. A disabled
 * webhook gets nothing, and enabling it again starts after what happened
 * meanwhile. */
static void test_unreachable_and_disabled(void **state)
{
    fixture *f = *state;
    err_t e;
    admin_ctx c = {f->s, "admin@example.com", "", ""};
    store_webhook w = current(f);
    int64_t start = w.cursor;
    webhook_spec to_nowhere = {"http://127.0.0.1:1/hook", NULL, 0, 0, -1};
    assert_int_equal(admin_webhook_update(&c, f->org.id, f->hook.id, &to_nowhere, &w, &e), 0);
    add_event(f, "session.issued", NULL);
    webhooks_run_once(f->s, f->d, -1, 1, clock_now());
    w = current(f);
    assert_int_equal(w.failures, 1);
    assert_true(strlen(w.last_error) > 0);
    assert_true(w.cursor > start); /* past the webhook.updated event, not past the session */

    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", f->ep.port);
    webhook_spec back = {url, NULL, 0, 0, 0}; /* and disabled */
    assert_int_equal(admin_webhook_update(&c, f->org.id, f->hook.id, &back, &w, &e), 0);
    assert_int_equal(w.failures, 0);
    add_event(f, "session.issued", NULL);
    webhooks_run_once(f->s, f->d, -1, 1, clock_now() + 3600);
    assert_int_equal(f->ep.nseen, 0);
    webhook_spec on = {NULL, NULL, 0, 0, 1};
    assert_int_equal(admin_webhook_update(&c, f->org.id, f->hook.id, &on, &w, &e), 0);
    webhooks_run_once(f->s, f->d, -1, 1, clock_now());
    assert_int_equal(f->ep.nseen, 0); /* the events of the disabled time are not delivered */
    char later[37];
    add_event(f, "session.revoked", later);
    webhooks_run_once(f->s, f->d, -1, 1, clock_now());
    assert_int_equal(f->ep.nseen, 1);
    assert_non_null(strstr(f->ep.bodies[0], later));
}

/* Partitions: a webhook belongs to exactly one of the threads. */
static void test_partitions(void **state)
{
    fixture *f = *state;
    add_event(f, "session.issued", NULL);
    int64_t now = clock_now();
    for (int i = 0; i < WEBHOOK_THREADS; i++)
        webhooks_run_once(f->s, f->d, i, WEBHOOK_THREADS, now);
    assert_int_equal(f->ep.nseen, 1);
}

/* The admin rules: URL schemes, event names, the limit per org. */
static void test_admin_rules(void **state)
{
    fixture *f = *state;
    err_t e;
    admin_ctx c = {f->s, "admin@example.com", "", ""};
    store_webhook w;
    char secret[WEBHOOK_SECRET_LEN + 1];
    const char *bad_urls[] = {"http://example.com/hook", "ftp://example.com", "https://", "https://a b.example",
                              "https://user@example.com/", "https://example.com/#frag", "javascript:alert(1)",
                              "http://localhost.evil.example/"};
    for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
        webhook_spec s = {bad_urls[i], NULL, 0, 0, -1};
        assert_int_equal(admin_webhook_add(&c, f->d, f->org.id, &s, &w, secret, &e), -1);
        assert_int_equal(e.cls, ERR_INVALID_REQUEST);
    }
    const char *bogus[] = {"session.created", "session.expired"};
    webhook_spec s = {"https://hooks.example.com/x?token=abc", bogus, 2, 1, -1};
    assert_int_equal(admin_webhook_add(&c, f->d, f->org.id, &s, &w, secret, &e), -1);
    assert_int_equal(e.cls, ERR_INVALID_REQUEST);
    s.nevents = 0;
    assert_int_equal(admin_webhook_add(&c, f->d, f->org.id, &s, &w, secret, &e), -1);
    const char *twice[] = {"session.denied", "session.created", "session.denied"};
    webhook_spec ok = {"https://hooks.example.com/x?token=abc", twice, 3, 1, -1};
    assert_int_equal(admin_webhook_add(&c, f->d, f->org.id, &ok, &w, secret, &e), 0);
    assert_string_equal(w.events, "session.created,session.denied");
    assert_int_equal(w.enabled, 1);
    for (int i = 2; i < WEBHOOK_MAX_PER_ORG; i++)
        assert_int_equal(admin_webhook_add(&c, f->d, f->org.id, &ok, &w, secret, &e), 0);
    assert_int_equal(admin_webhook_add(&c, f->d, f->org.id, &ok, &w, secret, &e), -1);
    assert_int_equal(e.cls, ERR_CONFLICT);
}

int main(void)
{
    http_client_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signature_vector),
        cmocka_unit_test(test_backoff_schedule),
        cmocka_unit_test(test_event_mapping),
        cmocka_unit_test(test_payloads),
        cmocka_unit_test_setup_teardown(test_secret_is_sealed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delivers_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_backs_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreachable_and_disabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admin_rules, setup, teardown),
    };
    int failed = cmocka_run_group_tests_name("webhooks", tests, NULL, NULL);
    http_client_global_cleanup();
    return failed;
}
