/* webhooks.h - webhooks: an org's HTTPS endpoints for its session lifecycle
 * events (docs/SESSIONS.md, "Webhooks").
 *
 * The audit log is the outbox. Each event type maps from an audit action that
 * is committed durably with what it describes (session.issued ->
 * session.created, session.refreshed, session.revoked, session.denied), and a
 * webhook keeps a cursor: the audit-log position of the last event it dealt
 * with, moved only after its endpoint answered 2xx. Events are delivered in
 * order, one at a time per webhook, at least once: a failure stops the
 * webhook until its backoff has passed (1 s, 2 s, 4 s ... 10 min) and the
 * later events wait. Admin actions (webhook.*, token.*, ...) are never
 * delivered.
 *
 * Each POST is signed: Tessera-Signature: t=<unix seconds>,v1=<hex
 * HMAC-SHA256(secret, "<t>.<body>")>, the key being the secret's text
 * ("whsec_..."). The secret is made here (32 random bytes), shown once, and
 * stored sealed under a key derived from the master key (the webhook id as
 * additional data). */
#ifndef TESSERA_DOMAIN_WEBHOOKS_H
#define TESSERA_DOMAIN_WEBHOOKS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "domain/admin.h"
#include "domain/directory.h"
#include "store/store.h"

#define WEBHOOK_SECRET_PREFIX "whsec_"
#define WEBHOOK_SECRET_LEN (6 + 43)  /* the prefix and 32 random bytes in base64url */
#define WEBHOOK_MAX_PER_ORG 16
#define WEBHOOK_TIMEOUT_MS 10000
#define WEBHOOK_RESPONSE_MAX (64 * 1024)
#define WEBHOOK_BACKOFF_MAX 600      /* seconds between attempts at most */
#define WEBHOOK_SIGNATURE_MAX 100    /* "t=<digits>,v1=<64 hex>" and NUL */
#define WEBHOOK_PING "webhook.ping"

/* The event types a webhook may subscribe to, NULL-terminated, in the order
 * store_webhook.events lists them. */
extern const char *const webhook_event_types[];

/* What an admin sends. NULL / -1 = absent (add: the default, every event
 * type and enabled; update: keep). */
typedef struct {
    const char *url;            /* https://, or http:// to 127.0.0.1, localhost or [::1] */
    const char *const *events;  /* event types, when set_events */
    size_t nevents;
    int set_events;
    int enabled;                /* 0, 1, or -1 */
} webhook_spec;

/* secret[WEBHOOK_SECRET_LEN + 1] receives the new signing secret, to be
 * shown once by the caller (and wiped). At most WEBHOOK_MAX_PER_ORG per org
 * (ERR_CONFLICT beyond). Audited as webhook.created. */
int admin_webhook_add(const admin_ctx *c, directory *d, const char *org_id, const webhook_spec *spec,
                      store_webhook *out, char *secret, err_t *e);
/* Audited as webhook.updated. Enabling a disabled webhook starts it at the
 * end of the audit log; any change clears the backoff (store.h). */
int admin_webhook_update(const admin_ctx *c, const char *org_id, const char *id, const webhook_spec *spec,
                         store_webhook *out, err_t *e);
/* A new secret, in effect for the next delivery. Audited as
 * webhook.secret_rotated. */
int admin_webhook_rotate_secret(const admin_ctx *c, directory *d, const char *org_id, const char *id,
                                store_webhook *out, char *secret, err_t *e);
/* Deletes the webhook and its delivery log. Audited as webhook.deleted. */
int admin_webhook_remove(const admin_ctx *c, const char *org_id, const char *id, err_t *e);

/* The outcome of one POST. */
typedef struct {
    int delivered;       /* the endpoint answered 2xx */
    int cancelled;       /* stopped by the caller's cancel check: nothing to record */
    long status;         /* HTTP status, 0 = no response */
    int64_t duration_ms;
    char error[256];     /* "" when delivered; never a secret */
} webhook_result;

/* Sends a signed webhook.ping to the webhook now (whether enabled or not),
 * logs it in its delivery log and audits webhook.tested. Apart from the log,
 * the webhook is untouched. event_id[37] receives the ping's id. Waits up
 * to WEBHOOK_TIMEOUT_MS: run it off the HTTP threads. */
int admin_webhook_test(const admin_ctx *c, directory *d, const char *org_id, const char *id,
                       webhook_result *out, char *event_id, err_t *e);

/* {id, url, events[], enabled, status, failures, last_error, next_attempt_at,
 * created_at} (new reference). status: active, failing or disabled. */
json_t *webhook_json(const store_webhook *w);
/* {id, event_id, event_type, attempt, status_code, error, duration_ms, at}. */
json_t *webhook_delivery_json(const store_webhook_delivery *d);

/* ---- the pieces of a delivery (exposed for the unit tests) ---- */

/* The event type of an audit action, or NULL when it is not delivered. */
const char *webhook_event_type(const char *action);
/* 1 when w subscribes to type. */
int webhook_wants(const store_webhook *w, const char *type);
/* The JSON body for audit event a as an event of type (caller frees;
 * *len gets its length): {"id","type","created_at","org_id","data":{...}}. */
char *webhook_payload(const store_audit *a, const char *type, size_t *len);
/* out = "t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>". */
void webhook_sign(const char *secret, int64_t t, const char *body, size_t len, char out[WEBHOOK_SIGNATURE_MAX]);
/* Seconds to wait after the failures-th consecutive failure (>= 1):
 * 1, 2, 4 ... capped at WEBHOOK_BACKOFF_MAX. */
int64_t webhook_backoff(int64_t failures);
/* The webhook's secret, opened into out[WEBHOOK_SECRET_LEN + 1] (wipe it after use). */
int webhook_secret_open(directory *d, const store_webhook *w, char *out, err_t *e);
/* POSTs body to w->url signed with secret, as event event_id of type, attempt
 * n; cancelled (may be NULL) is polled during the request. */
void webhook_post(const store_webhook *w, const char *secret, const char *event_id, const char *type,
                  int64_t attempt, const char *body, size_t len, int (*cancelled)(void *ctx), void *ctx,
                  webhook_result *out);

/* ---- the deliverer (webhooks_deliver.c) ---- */

#define WEBHOOK_THREADS 4        /* webhooks are shared among them by id */
#define WEBHOOK_POLL_MS 500
#define WEBHOOK_ROUND_MAX 50     /* deliveries to one webhook before the next gets a turn */
#define WEBHOOK_SCAN_MAX 500     /* audit events read at a time */

typedef struct webhook_deliverer webhook_deliverer;

/* Starts the delivery threads, each with its own store opened from db_url;
 * d gives the key that opens secrets. NULL with *e on failure. */
webhook_deliverer *webhooks_start(const char *db_url, directory *d, err_t *e);
/* Stops the threads (a request in flight is abandoned within a second; its
 * event is delivered again later) and closes their stores. NULL is fine. */
void webhooks_stop(webhook_deliverer *wd);

/* One pass of the delivery loop over every due webhook (wd's thread
 * `index`, or every webhook when index < 0), on store s: for tests.
 * Returns 1 when a webhook has more to deliver right away. */
int webhooks_run_once(store *s, directory *d, int index, int nthreads, int64_t now);

#endif
