/* metrics.c - the tables behind metrics.h and their text rendering.
 *
 * Everything lives in static tables, so recording never allocates (apart
 * from copying a label value the first time it is seen). Slots are claimed
 * with compare-and-swap and counts added with relaxed atomics; a render
 * reads each number once, so it may be a hair behind the recorders but is
 * always well-formed (a histogram's +Inf bucket and _count are the same
 * sum). */
#include "core/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/procstat.h"
#include "core/xalloc.h"

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define ADD(p, n) __atomic_add_fetch((p), (n), __ATOMIC_RELAXED)

/* ---- counters ---- */

static const struct {
    const char *name, *help, *label; /* label NULL: no label */
} counter_def[METRIC_COUNTER_COUNT] = {
    [METRIC_SESSIONS_ISSUED] =
        {"tessera_sessions_issued_total",
         "Session tokens issued (token endpoint and private-app sign-ins), once recorded.", NULL},
    [METRIC_SESSIONS_REFUSED] = {"tessera_sessions_refused_total",
                                 "Token endpoint requests refused, by error code.", "reason"},
    [METRIC_RATE_LIMITED] = {"tessera_rate_limited_total",
                             "Requests refused with 429, by limit (token, session, client).",
                             "limit"},
    [METRIC_INTEGRATION_CALLS] =
        {"tessera_integration_calls_total",
         "Integration calls, by result (ok = the host API answered, else Tessera's error code).",
         "result"},
    [METRIC_REVOCATIONS] = {"tessera_revocations_total",
                            "Session revocations, by what was revoked.", "by"},
    [METRIC_WEBHOOK_DELIVERIES] = {"tessera_webhook_deliveries_total",
                                   "Webhook delivery attempts, by result.", "result"},
};

typedef struct {
    const char *label; /* NULL = free; owned copy, kept for the process's life */
    uint64_t value;
} counter_slot;

/* The last slot of each family is "other". */
static counter_slot counters[METRIC_COUNTER_COUNT][METRICS_MAX_LABELS + 1];

static counter_slot *counter_slot_for(metric_counter m, const char *label)
{
    counter_slot *slots = counters[m];
    if (counter_def[m].label == NULL || label == NULL)
        label = "";
    for (int i = 0; i < METRICS_MAX_LABELS; i++) {
        const char *have = LOAD(&slots[i].label);
        if (have == NULL) {
            char *copy = xstrdup(label);
            const char *expected = NULL;
            if (__atomic_compare_exchange_n(&slots[i].label, &expected, copy, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE))
                return &slots[i];
            free(copy);
            have = expected;
        }
        if (strcmp(have, label) == 0)
            return &slots[i];
    }
    return &slots[METRICS_MAX_LABELS];
}

void metrics_add(metric_counter m, const char *label, uint64_t n)
{
    if ((unsigned)m >= METRIC_COUNTER_COUNT)
        return;
    ADD(&counter_slot_for(m, label)->value, n);
}

void metrics_count(metric_counter m, const char *label)
{
    metrics_add(m, label, 1);
}

/* ---- histograms ---- */

static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define NBOUNDS (sizeof(bounds) / sizeof(bounds[0]))

typedef struct {
    uint64_t bucket[NBOUNDS + 1]; /* not cumulative; the last is > 10 s */
    uint64_t sum_ns;
} histo;

static void histo_observe(histo *h, double seconds)
{
    if (!(seconds >= 0)) /* also NaN */
        seconds = 0;
    if (seconds > 1e9)
        seconds = 1e9;
    size_t i = 0;
    while (i < NBOUNDS && seconds > bounds[i])
        i++;
    ADD(&h->bucket[i], 1);
    ADD(&h->sum_ns, (uint64_t)(seconds * 1e9));
}

static const struct {
    const char *name, *help;
} histo_def[METRIC_HISTOGRAM_COUNT] = {
    [METRIC_STORE_COMMIT] =
        {"tessera_store_commit_duration_seconds",
         "Time of the recorder's group commits of session records and audit events."},
};

static histo histos[METRIC_HISTOGRAM_COUNT];

void metrics_observe(metric_histogram h, double seconds)
{
    if ((unsigned)h < METRIC_HISTOGRAM_COUNT)
        histo_observe(&histos[h], seconds);
}

/* ---- HTTP requests by route ---- */

static const char *const methods[] = {"GET",   "HEAD",   "POST",    "PUT",
                                      "PATCH", "DELETE", "OPTIONS", "other"};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))
#define ROUTE_SLOTS 64 /* (method, status) pairs per route */
#define ROUTE_MAP 1024 /* route pattern addresses; a power of two */

typedef struct {
    const char *pattern;
    struct {
        uint32_t key; /* (method index + 1) << 16 | status; 0 = free */
        uint64_t count;
    } req[ROUTE_SLOTS];
    histo latency;
} route_stats;

/* routes[0] is "unmatched", routes[1] collects routes beyond the table. */
static route_stats routes[METRICS_MAX_ROUTES + 2] = {{.pattern = "unmatched"},
                                                     {.pattern = "other"}};
static size_t nroutes = 2; /* under route_mu; read with LOAD */
static struct {
    const char *ptr; /* published last (release), read with acquire */
    size_t idx;
} route_map[ROUTE_MAP];
static pthread_mutex_t route_mu = PTHREAD_MUTEX_INITIALIZER;

static size_t ptr_hash(const char *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ULL;
    return (size_t)(h >> 40) & (ROUTE_MAP - 1);
}

/* The stats of a route pattern seen for the first time at this address
 * (route_mu held): an existing entry with the same text, or a new one. */
static size_t route_add(const char *pattern)
{
    size_t n = LOAD(&nroutes);
    for (size_t i = 2; i < n; i++)
        if (strcmp(routes[i].pattern, pattern) == 0)
            return i;
    if (n == METRICS_MAX_ROUTES + 2)
        return 1;
    routes[n].pattern = pattern;
    __atomic_store_n(&nroutes, n + 1, __ATOMIC_RELEASE);
    return n;
}

/* Claims map slot i for the address pattern (route_mu taken; rare: the
 * first request of each route). Returns the address now in slot i, which
 * is another one when a different route claimed it first. */
static const char *route_claim(size_t i, const char *pattern)
{
    pthread_mutex_lock(&route_mu);
    const char *p = LOAD(&route_map[i].ptr);
    if (p == NULL) {
        route_map[i].idx = route_add(pattern);
        __atomic_store_n(&route_map[i].ptr, pattern, __ATOMIC_RELEASE);
        p = pattern;
    }
    pthread_mutex_unlock(&route_mu);
    return p;
}

/* The stats of a route pattern: open addressing on the pattern's address,
 * lock-free once the address has been seen. */
static route_stats *route_for(const char *pattern)
{
    if (pattern == NULL)
        return &routes[0];
    size_t h = ptr_hash(pattern);
    for (size_t probe = 0; probe < ROUTE_MAP; probe++) {
        size_t i = (h + probe) & (ROUTE_MAP - 1);
        const char *p = LOAD(&route_map[i].ptr);
        if (p == NULL)
            p = route_claim(i, pattern);
        if (p == pattern)
            return &routes[route_map[i].idx];
    }
    return &routes[1];
}

static size_t method_index(const char *method)
{
    for (size_t i = 0; method != NULL && i + 1 < NMETHODS; i++)
        if (strcmp(method, methods[i]) == 0)
            return i;
    return NMETHODS - 1;
}

void metrics_http_request(const char *route, const char *method, int status, double seconds)
{
    route_stats *r = route_for(route);
    if (status < 0 || status > 999)
        status = 0;
    uint32_t key = (uint32_t)(method_index(method) + 1) << 16 | (uint32_t)status;
    size_t h = (size_t)(key * 2654435761u) % ROUTE_SLOTS;
    for (size_t probe = 0; probe < ROUTE_SLOTS; probe++) {
        size_t i = (h + probe) % ROUTE_SLOTS;
        uint32_t have = LOAD(&r->req[i].key);
        if (have == 0) {
            uint32_t expected = 0;
            if (__atomic_compare_exchange_n(&r->req[i].key, &expected, key, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE))
                have = key;
            else
                have = expected;
        }
        if (have == key) {
            ADD(&r->req[i].count, 1);
            break;
        }
    }
    histo_observe(&r->latency, seconds);
}

/* ---- rendering ---- */

void metrics_escape_label(const char *value, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = value; *p && o + 3 < cap; p++) {
        if (*p == '\\' || *p == '"') {
            out[o++] = '\\';
            out[o++] = *p;
        } else if (*p == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

static int header(buf_t *b, const char *name, const char *help, const char *type)
{
    return buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int render_counters(buf_t *b)
{
    int rc = 0;
    for (int m = 0; m < METRIC_COUNTER_COUNT; m++) {
        rc |= header(b, counter_def[m].name, counter_def[m].help, "counter");
        if (counter_def[m].label == NULL) {
            uint64_t v = 0;
            for (int i = 0; i <= METRICS_MAX_LABELS; i++)
                v += LOAD(&counters[m][i].value);
            rc |= buf_printf(b, "%s %llu\n", counter_def[m].name, (unsigned long long)v);
            continue;
        }
        for (int i = 0; i <= METRICS_MAX_LABELS; i++) {
            const char *label = i < METRICS_MAX_LABELS ? LOAD(&counters[m][i].label) : "other";
            uint64_t v = LOAD(&counters[m][i].value);
            if (label == NULL || (i == METRICS_MAX_LABELS && v == 0))
                continue;
            char esc[256];
            metrics_escape_label(label, esc, sizeof(esc));
            rc |= buf_printf(b, "%s{%s=\"%s\"} %llu\n", counter_def[m].name, counter_def[m].label,
                             esc, (unsigned long long)v);
        }
    }
    return rc;
}

/* One histogram's series; labels is "" or `route="...",` (with the comma). */
static int render_histo(buf_t *b, const char *name, const char *labels, const histo *h)
{
    uint64_t cumulative = 0;
    int rc = 0;
    for (size_t i = 0; i <= NBOUNDS; i++) {
        cumulative += LOAD(&h->bucket[i]);
        if (i < NBOUNDS)
            rc |= buf_printf(b, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels, bounds[i],
                             (unsigned long long)cumulative);
        else
            rc |= buf_printf(b, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels,
                             (unsigned long long)cumulative);
    }
    size_t n = strlen(labels);
    /* The same labels without the trailing comma, in braces (or none). */
    char plain[600];
    snprintf(plain, sizeof(plain), n ? "{%.*s}" : "%.*s", (int)(n ? n - 1 : 0), labels);
    rc |= buf_printf(b, "%s_sum%s %.9f\n", name, plain, (double)LOAD(&h->sum_ns) / 1e9);
    rc |= buf_printf(b, "%s_count%s %llu\n", name, plain, (unsigned long long)cumulative);
    return rc;
}

static uint64_t route_total(const route_stats *r)
{
    uint64_t n = 0;
    for (size_t i = 0; i <= NBOUNDS; i++)
        n += LOAD(&r->latency.bucket[i]);
    return n;
}

static int render_http(buf_t *b)
{
    size_t n = LOAD(&nroutes);
    int rc = header(b, "tessera_http_requests_total",
                    "HTTP requests answered, by route pattern, method and status.", "counter");
    for (size_t r = 0; r < n; r++) {
        char route[512];
        metrics_escape_label(routes[r].pattern, route, sizeof(route));
        for (size_t i = 0; i < ROUTE_SLOTS; i++) {
            uint32_t key = LOAD(&routes[r].req[i].key);
            uint64_t count = LOAD(&routes[r].req[i].count);
            if (key == 0 || count == 0)
                continue;
            rc |= buf_printf(
                b, "tessera_http_requests_total{route=\"%s\",method=\"%s\",status=\"%u\"} %llu\n",
                route, methods[(key >> 16) - 1], key & 0xffffu, (unsigned long long)count);
        }
    }
    rc |= header(b, "tessera_http_request_duration_seconds",
                 "Time from the start of a request to the end of its reply, by route pattern.",
                 "histogram");
    for (size_t r = 0; r < n; r++) {
        if (route_total(&routes[r]) == 0)
            continue;
        char route[512], labels[540];
        metrics_escape_label(routes[r].pattern, route, sizeof(route));
        snprintf(labels, sizeof(labels), "route=\"%s\",", route);
        rc |= render_histo(b, "tessera_http_request_duration_seconds", labels, &routes[r].latency);
    }
    return rc;
}

static int render_process(buf_t *b)
{
    int rc = 0;
    int64_t rss = procstat_rss_bytes(), fds = procstat_open_fds();
    double start = procstat_start_time(), cpu = procstat_cpu_seconds();
    if (cpu >= 0) {
        rc |= header(b, "process_cpu_seconds_total",
                     "Total user and system CPU time spent in seconds.", "counter");
        rc |= buf_printf(b, "process_cpu_seconds_total %.2f\n", cpu);
    }
    if (rss >= 0) {
        rc |= header(b, "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
        rc |= buf_printf(b, "process_resident_memory_bytes %lld\n", (long long)rss);
    }
    if (fds >= 0) {
        rc |= header(b, "process_open_fds", "Number of open file descriptors.", "gauge");
        rc |= buf_printf(b, "process_open_fds %lld\n", (long long)fds);
    }
    if (start >= 0) {
        rc |= header(b, "process_start_time_seconds",
                     "Start time of the process since unix epoch in seconds.", "gauge");
        rc |= buf_printf(b, "process_start_time_seconds %.2f\n", start);
    }
    return rc;
}

int metrics_render(buf_t *b)
{
    int rc = render_http(b);
    rc |= render_counters(b);
    for (int h = 0; h < METRIC_HISTOGRAM_COUNT; h++) {
        rc |= header(b, histo_def[h].name, histo_def[h].help, "histogram");
        rc |= render_histo(b, histo_def[h].name, "", &histos[h]);
    }
    rc |= render_process(b);
    return rc ? -1 : 0;
}
