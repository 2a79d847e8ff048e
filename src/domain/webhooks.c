/* webhooks.c - webhooks: configuration, payloads, signatures, one POST. */
#include "domain/webhooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/hex.h"
#include "core/uuid.h"
#include "core/xalloc.h"
#include "crypto/crypto.h"
#include "domain/idp.h"
#include "http/client.h"
#include "jwt/b64url.h"

#define SECRET_KEY_PURPOSE "tessera webhook secrets v1"

const char *const webhook_event_types[] = {"session.created", "session.refreshed", "session.revoked",
                                           "session.denied", NULL};

/* audit action -> event type */
static const char *const action_map[][2] = {
    {"session.issued", "session.created"},
    {"session.refreshed", "session.refreshed"},
    {"session.revoked", "session.revoked"},
    {"session.denied", "session.denied"},
};

const char *webhook_event_type(const char *action)
{
    for (size_t i = 0; i < sizeof(action_map) / sizeof(action_map[0]); i++)
        if (strcmp(action, action_map[i][0]) == 0)
            return action_map[i][1];
    return NULL;
}

int webhook_wants(const store_webhook *w, const char *type)
{
    size_t n = strlen(type);
    for (const char *p = w->events; *p != '\0';) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, type, n) == 0)
            return 1;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* ---- configuration ---- */

static int check_url(const char *url, err_t *e)
{
    size_t n = strlen(url);
    if (n == 0 || n > STORE_URL_MAX - 1)
        return err_set(e, ERR_INVALID_REQUEST, "url must be 1 to %d bytes", STORE_URL_MAX - 1);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
            return err_set(e, ERR_INVALID_REQUEST, "url must not contain spaces or control characters");
    if (!idp_url_allowed(url) || strpbrk(url, "\"<>\\^`{|}#@") != NULL)
        return err_set(e, ERR_INVALID_REQUEST,
                       "url must be an https:// URL without user info or fragment (http:// only for "
                       "127.0.0.1, localhost or [::1])");
    return 0;
}

/* The canonical comma list of the given event types (known ones, each once). */
static int events_text(const char *const *events, size_t n, char out[128], err_t *e)
{
    int want[8] = {0};
    size_t known = 0;
    while (webhook_event_types[known] != NULL)
        known++;
    if (n == 0)
        return err_set(e, ERR_INVALID_REQUEST, "events must name at least one event type");
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < known && strcmp(events[i], webhook_event_types[k]) != 0)
            k++;
        if (k == known)
            return err_set(e, ERR_INVALID_REQUEST,
                           "events may be session.created, session.refreshed, session.revoked and "
                           "session.denied only");
        want[k] = 1;
    }
    buf_t b;
    buf_init(&b, 127);
    for (size_t k = 0; k < known; k++)
        if (want[k])
            buf_printf(&b, "%s%s", b.len ? "," : "", webhook_event_types[k]);
    snprintf(out, 128, "%s", buf_str(&b));
    buf_free(&b);
    return 0;
}

/* A new secret into secret[WEBHOOK_SECRET_LEN + 1], sealed into w. */
static void new_secret(directory *d, store_webhook *w, char *secret)
{
    unsigned char raw[32], key[CRYPTO_AEAD_KEY_LEN];
    crypto_random(raw, sizeof(raw));
    memcpy(secret, WEBHOOK_SECRET_PREFIX, strlen(WEBHOOK_SECRET_PREFIX));
    b64url_encode(raw, sizeof(raw), secret + strlen(WEBHOOK_SECRET_PREFIX));
    directory_derive_key(d, SECRET_KEY_PURPOSE, key);
    crypto_aead_seal(key, w->id, strlen(w->id), secret, WEBHOOK_SECRET_LEN, w->secret_sealed);
    w->secret_sealed_len = WEBHOOK_SECRET_LEN + CRYPTO_AEAD_OVERHEAD;
    explicit_bzero(raw, sizeof(raw));
    explicit_bzero(key, sizeof(key));
}

int webhook_secret_open(directory *d, const store_webhook *w, char *out, err_t *e)
{
    unsigned char key[CRYPTO_AEAD_KEY_LEN];
    if (w->secret_sealed_len != WEBHOOK_SECRET_LEN + CRYPTO_AEAD_OVERHEAD)
        return err_set(e, ERR_INTERNAL, "the webhook's stored secret has a bad length");
    directory_derive_key(d, SECRET_KEY_PURPOSE, key);
    int rc = crypto_aead_open(key, w->id, strlen(w->id), w->secret_sealed, w->secret_sealed_len,
                              (unsigned char *)out);
    explicit_bzero(key, sizeof(key));
    if (rc != 0)
        return err_set(e, ERR_INTERNAL, "the webhook's secret cannot be opened (wrong master key?)");
    out[WEBHOOK_SECRET_LEN] = '\0';
    return 0;
}

/* Checks every given field of spec, then copies them over *w. */
static int apply_spec(store_webhook *w, const webhook_spec *s, err_t *e)
{
    char events[128];
    if (s->url != NULL && check_url(s->url, e) != 0)
        return -1;
    if (s->set_events && events_text(s->events, s->nevents, events, e) != 0)
        return -1;
    if (s->url != NULL)
        snprintf(w->url, sizeof(w->url), "%s", s->url);
    if (s->set_events)
        snprintf(w->events, sizeof(w->events), "%s", events);
    if (s->enabled >= 0)
        w->enabled = s->enabled != 0;
    return 0;
}

/* The audit detail: the URL without its query (which may carry a token),
 * the event types and whether it is enabled. */
static void audit_detail(store_audit *a, const store_webhook *w)
{
    buf_t b;
    buf_init(&b, sizeof(a->detail) - 1);
    buf_puts(&b, "{\"url\":");
    buf_json_string(&b, w->url, strcspn(w->url, "?"));
    buf_puts(&b, ",\"events\":");
    buf_json_string(&b, w->events, strlen(w->events));
    buf_printf(&b, ",\"enabled\":%s}", w->enabled ? "true" : "false");
    snprintf(a->detail, sizeof(a->detail), "%s", b.len ? buf_str(&b) : "{}");
    buf_free(&b);
}

static int count_one(void *ctx, const void *rec)
{
    (void)rec;
    (*(size_t *)ctx)++;
    return 0;
}

int admin_webhook_add(const admin_ctx *c, directory *d, const char *org_id, const webhook_spec *spec,
                      store_webhook *out, char *secret, err_t *e)
{
    size_t n = 0;
    static const char *const all[] = {"session.created", "session.refreshed", "session.revoked",
                                      "session.denied"};
    if (spec->url == NULL)
        return err_set(e, ERR_INVALID_REQUEST, "url is required");
    memset(out, 0, sizeof(*out));
    uuid_v4(out->id);
    snprintf(out->org_id, sizeof(out->org_id), "%s", org_id);
    out->enabled = 1;
    out->created_at = clock_now();
    webhook_spec defaults = {NULL, all, sizeof(all) / sizeof(all[0]), 1, -1};
    if (apply_spec(out, &defaults, e) != 0 || apply_spec(out, spec, e) != 0)
        return -1;
    /* A read, then the write: two admins adding the 16th at once can both pass. */
    if (c->store->ops->webhook_each(c->store, org_id, count_one, &n, e) != 0)
        return -1;
    if (n >= WEBHOOK_MAX_PER_ORG)
        return err_set(e, ERR_CONFLICT, "an organization has at most %d webhooks", WEBHOOK_MAX_PER_ORG);
    new_secret(d, out, secret);
    store_audit a;
    admin_audit_init(&a, c, org_id, "webhook.created", out->id);
    audit_detail(&a, out);
    if (c->store->ops->webhook_insert(c->store, out, &a, e) != 0) {
        explicit_bzero(secret, WEBHOOK_SECRET_LEN + 1);
        return -1;
    }
    return c->store->ops->webhook_get(c->store, org_id, out->id, out, e);
}

int admin_webhook_update(const admin_ctx *c, const char *org_id, const char *id, const webhook_spec *spec,
                         store_webhook *out, err_t *e)
{
    if (c->store->ops->webhook_get(c->store, org_id, id, out, e) != 0 || apply_spec(out, spec, e) != 0)
        return -1;
    store_audit a;
    admin_audit_init(&a, c, org_id, "webhook.updated", id);
    audit_detail(&a, out);
    if (c->store->ops->webhook_update(c->store, out, &a, e) != 0)
        return -1;
    return c->store->ops->webhook_get(c->store, org_id, id, out, e);
}

int admin_webhook_rotate_secret(const admin_ctx *c, directory *d, const char *org_id, const char *id,
                                store_webhook *out, char *secret, err_t *e)
{
    if (c->store->ops->webhook_get(c->store, org_id, id, out, e) != 0)
        return -1;
    new_secret(d, out, secret);
    store_audit a;
    admin_audit_init(&a, c, org_id, "webhook.secret_rotated", id);
    if (c->store->ops->webhook_update(c->store, out, &a, e) != 0 ||
        c->store->ops->webhook_get(c->store, org_id, id, out, e) != 0) {
        explicit_bzero(secret, WEBHOOK_SECRET_LEN + 1);
        return -1;
    }
    return 0;
}

int admin_webhook_remove(const admin_ctx *c, const char *org_id, const char *id, err_t *e)
{
    store_audit a;
    admin_audit_init(&a, c, org_id, "webhook.deleted", id);
    return c->store->ops->webhook_delete(c->store, org_id, id, &a, e);
}

/* ---- JSON shapes ---- */

static json_t *time_or_null(int64_t t)
{
    char text[21];
    if (t == 0)
        return json_null();
    clock_iso8601(t, text);
    return json_string(text);
}

static json_t *text_or_null(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

json_t *webhook_json(const store_webhook *w)
{
    json_t *events = json_array();
    for (size_t k = 0; webhook_event_types[k] != NULL; k++)
        if (webhook_wants(w, webhook_event_types[k]))
            json_array_append_new(events, json_string(webhook_event_types[k]));
    const char *status = !w->enabled ? "disabled" : w->failures > 0 ? "failing" : "active";
    return json_pack("{s:s, s:s, s:o, s:b, s:s, s:I, s:o, s:o, s:o}", "id", w->id, "url", w->url, "events", events,
                     "enabled", w->enabled, "status", status, "failures", (json_int_t)w->failures, "last_error",
                     text_or_null(w->last_error), "next_attempt_at",
                     w->failures > 0 ? time_or_null(w->next_attempt_at) : json_null(), "created_at",
                     time_or_null(w->created_at));
}

json_t *webhook_delivery_json(const store_webhook_delivery *d)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:o, s:o, s:I, s:o}", "id", d->id, "event_id", d->event_id,
                     "event_type", d->event_type, "attempt", (json_int_t)d->attempt, "status_code",
                     d->status_code > 0 ? json_integer(d->status_code) : json_null(), "error",
                     text_or_null(d->error), "duration_ms", (json_int_t)d->duration_ms, "at",
                     time_or_null(d->at));
}

/* ---- payloads and signatures ---- */

/* Copies detail[key] (when a string) into data[as]. */
static void copy_string(json_t *data, json_t *detail, const char *key, const char *as)
{
    json_t *v = json_object_get(detail, key);
    if (json_is_string(v))
        json_object_set(data, as, v);
}

char *webhook_payload(const store_audit *a, const char *type, size_t *len)
{
    json_t *detail = json_loads(a->detail, 0, NULL);
    json_t *data = json_object();
    if (!json_is_object(detail)) {
        json_decref(detail);
        detail = json_object();
    }
    if (strcmp(type, "session.revoked") == 0) {
        /* target: the jti, or the email for "every session of this user" */
        int all = json_is_true(json_object_get(detail, "all_sessions"));
        json_object_set_new(data, "scope", json_string(all ? "user" : "session"));
        if (!all)
            json_object_set_new(data, "jti", json_string(a->target));
    } else if (strcmp(type, "session.denied") != 0) {
        json_object_set_new(data, "jti", json_string(a->target));
    }
    copy_string(data, detail, "email", "email");
    copy_string(data, detail, "user_id", "user_id");
    copy_string(data, detail, "user_type", "user_type");
    json_t *exp = json_object_get(detail, "expires_at");
    if (json_is_integer(exp))
        json_object_set_new(data, "expires_at", time_or_null(json_integer_value(exp)));
    copy_string(data, detail, "reason", "reason");
    copy_string(data, detail, "detail", "description");
    copy_string(data, detail, "idp_id", "idp_id");
    json_t *corr = json_object_get(detail, "correlation_id");
    json_object_set(data, "correlation_id", json_is_string(corr) ? corr : json_null());
    json_decref(detail);
    json_t *body = json_pack("{s:s, s:s, s:o, s:s, s:o}", "id", a->id, "type", type, "created_at",
                             time_or_null(a->at), "org_id", a->org_id, "data", data);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (text == NULL)
        abort(); /* jansson fails only when out of memory */
    *len = strlen(text);
    return text;
}

static char *ping_payload(const char *event_id, const store_webhook *w, int64_t now, size_t *len)
{
    json_t *body = json_pack("{s:s, s:s, s:o, s:s, s:{s:s}}", "id", event_id, "type", WEBHOOK_PING, "created_at",
                             time_or_null(now), "org_id", w->org_id, "data", "webhook_id", w->id);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (text == NULL)
        abort();
    *len = strlen(text);
    return text;
}

void webhook_sign(const char *secret, int64_t t, const char *body, size_t len, char out[WEBHOOK_SIGNATURE_MAX])
{
    char prefix[24];
    unsigned char mac[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];
    int plen = snprintf(prefix, sizeof(prefix), "%lld.", (long long)t);
    char *signed_text = xmalloc((size_t)plen + len + 1);
    memcpy(signed_text, prefix, (size_t)plen);
    memcpy(signed_text + plen, body, len);
    crypto_hmac_sha256(secret, strlen(secret), signed_text, (size_t)plen + len, mac);
    free(signed_text);
    hex_encode(mac, sizeof(mac), hex);
    snprintf(out, WEBHOOK_SIGNATURE_MAX, "t=%lld,v1=%s", (long long)t, hex);
}

int64_t webhook_backoff(int64_t failures)
{
    if (failures < 1)
        return 0;
    if (failures > 10) /* 2^10 > WEBHOOK_BACKOFF_MAX already */
        return WEBHOOK_BACKOFF_MAX;
    int64_t s = (int64_t)1 << (failures - 1);
    return s < WEBHOOK_BACKOFF_MAX ? s : WEBHOOK_BACKOFF_MAX;
}

void webhook_post(const store_webhook *w, const char *secret, const char *event_id, const char *type,
                  int64_t attempt, const char *body, size_t len, int (*cancelled)(void *ctx), void *ctx,
                  webhook_result *out)
{
    char sig[WEBHOOK_SIGNATURE_MAX];
    char h_sig[WEBHOOK_SIGNATURE_MAX + 32], h_hook[80], h_event[80], h_type[80], h_attempt[64];
    memset(out, 0, sizeof(*out));
    webhook_sign(secret, clock_now(), body, len, sig);
    snprintf(h_sig, sizeof(h_sig), "Tessera-Signature: %s", sig);
    snprintf(h_hook, sizeof(h_hook), "Tessera-Webhook-Id: %s", w->id);
    snprintf(h_event, sizeof(h_event), "Tessera-Event-Id: %s", event_id);
    snprintf(h_type, sizeof(h_type), "Tessera-Event-Type: %s", type);
    snprintf(h_attempt, sizeof(h_attempt), "Tessera-Delivery-Attempt: %lld", (long long)attempt);
    const char *headers[] = {"Content-Type: application/json", h_hook, h_event, h_type, h_attempt, h_sig, NULL};
    http_client_request req = {"POST", w->url, headers, body, len, WEBHOOK_TIMEOUT_MS, WEBHOOK_RESPONSE_MAX};
    http_client_response resp;
    err_t e;
    int64_t start = clock_mono_ms();
    int rc = http_client_perform_cancellable(&req, NULL, cancelled, ctx, &resp, &e);
    out->duration_ms = clock_mono_ms() - start;
    if (rc != 0) {
        out->cancelled = cancelled != NULL && cancelled(ctx);
        snprintf(out->error, sizeof(out->error), "%s", e.detail);
    } else {
        out->status = resp.status;
        out->delivered = resp.status >= 200 && resp.status <= 299;
        if (resp.status >= 300 && resp.status <= 399)
            snprintf(out->error, sizeof(out->error), "HTTP %ld (redirects are not followed)", resp.status);
        else if (!out->delivered)
            snprintf(out->error, sizeof(out->error), "HTTP %ld", resp.status);
    }
    http_client_response_free(&resp);
    explicit_bzero(h_sig, sizeof(h_sig));
}

int admin_webhook_test(const admin_ctx *c, directory *d, const char *org_id, const char *id,
                       webhook_result *out, char *event_id, err_t *e)
{
    store_webhook w;
    char secret[WEBHOOK_SECRET_LEN + 1];
    store *s = c->store;
    memset(out, 0, sizeof(*out));
    if (s->ops->webhook_get(s, org_id, id, &w, e) != 0 || webhook_secret_open(d, &w, secret, e) != 0)
        return -1;
    store_audit a;
    admin_audit_init(&a, c, org_id, "webhook.tested", id);
    if (s->ops->audit_insert(s, &a, e) != 0) {
        explicit_bzero(secret, sizeof(secret));
        return -1;
    }
    uuid_v4(event_id);
    int64_t now = clock_now();
    size_t len;
    char *body = ping_payload(event_id, &w, now, &len);
    webhook_post(&w, secret, event_id, WEBHOOK_PING, 1, body, len, NULL, NULL, out);
    explicit_bzero(secret, sizeof(secret));
    free(body);
    store_webhook_delivery dl;
    memset(&dl, 0, sizeof(dl));
    uuid_v7(dl.id);
    snprintf(dl.org_id, sizeof(dl.org_id), "%s", org_id);
    snprintf(dl.webhook_id, sizeof(dl.webhook_id), "%s", id);
    snprintf(dl.event_id, sizeof(dl.event_id), "%s", event_id);
    snprintf(dl.event_type, sizeof(dl.event_type), "%s", WEBHOOK_PING);
    dl.attempt = 1;
    dl.status_code = out->status;
    snprintf(dl.error, sizeof(dl.error), "%s", out->error);
    dl.duration_ms = out->duration_ms;
    dl.at = now;
    /* The webhook may have been deleted meanwhile: the ping happened anyway. */
    err_t ignored;
    s->ops->webhook_delivery_insert(s, &dl, &ignored);
    return 0;
}
