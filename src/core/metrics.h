/* metrics.h - process-wide counters and histograms, rendered in the
 * Prometheus text exposition format 0.0.4 (GET /metrics, docs/API.md).
 *
 * Recording is lock-free (relaxed atomic adds on fixed tables), so any
 * thread may record on a hot path; nothing is allocated per observation.
 * Label values must come from a small, fixed vocabulary (error codes,
 * outcome names, route patterns) - never from request input - so the
 * number of series stays bounded. Each labelled family keeps at most
 * METRICS_MAX_LABELS values; later new values are counted under "other".
 *
 * Adding a counter: add an enum value below and its name, help text and
 * label name in metrics.c's table, then call
 *     metrics_count(METRIC_REVOCATIONS, "email");
 * where the event happens (label NULL for a family without a label). */
#ifndef TESSERA_CORE_METRICS_H
#define TESSERA_CORE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define METRICS_MAX_LABELS 32 /* distinct label values per counter family */
#define METRICS_MAX_ROUTES 256
#define METRICS_RENDER_MAX (4 * 1024 * 1024)

typedef enum {
    METRIC_SESSIONS_ISSUED,    /* tessera_sessions_issued_total (no label) */
    METRIC_SESSIONS_REFUSED,   /* tessera_sessions_refused_total{reason=<error code>} */
    METRIC_RATE_LIMITED,       /* tessera_rate_limited_total{limit=token|session|client} */
    METRIC_INTEGRATION_CALLS,  /* tessera_integration_calls_total{result=ok|<error code>} */
    METRIC_REVOCATIONS,        /* tessera_revocations_total{by=jti|email|access_token|...} */
    METRIC_WEBHOOK_DELIVERIES, /* tessera_webhook_deliveries_total{result=delivered|failed|...} */
    METRIC_COUNTER_COUNT
} metric_counter;

typedef enum {
    METRIC_STORE_COMMIT, /* tessera_store_commit_duration_seconds: the recorder's group commits */
    METRIC_HISTOGRAM_COUNT
} metric_histogram;

/* Adds n (or 1) to counter m under label value label (NULL or "" for a
 * family without a label). label is copied the first time it is seen. */
void metrics_add(metric_counter m, const char *label, uint64_t n);
void metrics_count(metric_counter m, const char *label);

/* Records one observation of seconds in histogram h. */
void metrics_observe(metric_histogram h, double seconds);

/* One HTTP request answered: route is the pattern of the route table that
 * matched (a string that lives as long as the process; compared by
 * address first), or NULL for an unmatched path ("unmatched"). method is
 * folded to the standard methods (anything else is "other"); status is the
 * reply's status code. Feeds tessera_http_requests_total and
 * tessera_http_request_duration_seconds. */
void metrics_http_request(const char *route, const char *method, int status, double seconds);

/* Appends the whole exposition (every family, then the process metrics) to
 * b. Returns 0, or -1 when b's maximum is reached (b is then incomplete). */
int metrics_render(buf_t *b);

/* The label value escaped for the text format (\\, \" and \n) into out[cap];
 * exposed for the unit tests. */
void metrics_escape_label(const char *value, char *out, size_t cap);

#endif
