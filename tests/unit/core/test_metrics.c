/* Unit tests for the metrics tables and their Prometheus text rendering
 * (src/core/metrics.c). The tables are process-wide, so each case records
 * under names no other case uses and looks for its own lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"

static char *render(void)
{
    buf_t b;
    buf_init(&b, METRICS_RENDER_MAX);
    assert_int_equal(metrics_render(&b), 0);
    return buf_take(&b);
}

/* The value of the sample line that starts with `series ` (series with its
 * labels), or -1 when there is none. */
static double sample(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}

static void test_counters_and_labels(void **state)
{
    (void)state;
    metrics_count(METRIC_SESSIONS_ISSUED, NULL);
    metrics_add(METRIC_SESSIONS_ISSUED, "ignored for an unlabelled family", 2);
    metrics_count(METRIC_SESSIONS_REFUSED, "unauthorized");
    metrics_count(METRIC_SESSIONS_REFUSED, "unauthorized");
    metrics_count(METRIC_SESSIONS_REFUSED, "rate_limited");
    char *text = render();
    assert_true(sample(text, "tessera_sessions_issued_total") == 3);
    assert_true(sample(text, "tessera_sessions_refused_total{reason=\"unauthorized\"}") == 2);
    assert_true(sample(text, "tessera_sessions_refused_total{reason=\"rate_limited\"}") == 1);
    assert_non_null(strstr(text, "# TYPE tessera_sessions_refused_total counter\n"));
    assert_non_null(strstr(text, "# HELP tessera_revocations_total "));
    free(text);
}

static void test_label_values_are_bounded_and_escaped(void **state)
{
    (void)state;
    char label[32];
    for (int i = 0; i < METRICS_MAX_LABELS + 10; i++) {
        snprintf(label, sizeof(label), "r%d", i);
        metrics_count(METRIC_WEBHOOK_DELIVERIES, label);
    }
    char *text = render();
    assert_true(sample(text, "tessera_webhook_deliveries_total{result=\"r0\"}") == 1);
    assert_true(sample(text, "tessera_webhook_deliveries_total{result=\"other\"}") == 10);
    assert_true(sample(text, "tessera_webhook_deliveries_total{result=\"r40\"}") == -1);
    free(text);
    char esc[64];
    metrics_escape_label("a\"b\\c\nd", esc, sizeof(esc));
    assert_string_equal(esc, "a\\\"b\\\\c\\nd");
}

/* Buckets are cumulative, +Inf equals _count, _sum adds the observations. */
static void test_histogram_is_well_formed(void **state)
{
    (void)state;
    metrics_observe(METRIC_STORE_COMMIT, 0.0001);
    metrics_observe(METRIC_STORE_COMMIT, 0.003);
    metrics_observe(METRIC_STORE_COMMIT, 0.003);
    metrics_observe(METRIC_STORE_COMMIT, 42);
    char *text = render();
    const char *h = "tessera_store_commit_duration_seconds";
    char series[128];
    snprintf(series, sizeof(series), "%s_bucket{le=\"0.0005\"}", h);
    assert_true(sample(text, series) == 1);
    snprintf(series, sizeof(series), "%s_bucket{le=\"0.0025\"}", h);
    assert_true(sample(text, series) == 1);
    snprintf(series, sizeof(series), "%s_bucket{le=\"0.005\"}", h);
    assert_true(sample(text, series) == 3);
    snprintf(series, sizeof(series), "%s_bucket{le=\"10\"}", h);
    assert_true(sample(text, series) == 3);
    snprintf(series, sizeof(series), "%s_bucket{le=\"+Inf\"}", h);
    assert_true(sample(text, series) == 4);
    snprintf(series, sizeof(series), "%s_count", h);
    assert_true(sample(text, series) == 4);
    snprintf(series, sizeof(series), "%s_sum", h);
    double sum = sample(text, series);
    assert_true(sum > 42.0060 && sum < 42.0062);
    assert_non_null(strstr(text, "# TYPE tessera_store_commit_duration_seconds histogram\n"));
    free(text);
}

static void test_http_requests_by_route(void **state)
{
    (void)state;
    static const char route[] = "/test/{id}";
    char same_text[] = "/test/{id}"; /* another address, the same pattern: one series */
    metrics_http_request(route, "GET", 200, 0.002);
    metrics_http_request(route, "GET", 200, 0.002);
    metrics_http_request(same_text, "GET", 200, 0.002);
    metrics_http_request(route, "POST", 429, 0.0001);
    metrics_http_request(route, "BREW", 405, 0.0001);
    metrics_http_request(NULL, "GET", 404, 0.0001);
    char *text = render();
    assert_true(
        sample(text,
               "tessera_http_requests_total{route=\"/test/{id}\",method=\"GET\",status=\"200\"}") ==
        3);
    assert_true(
        sample(
            text,
            "tessera_http_requests_total{route=\"/test/{id}\",method=\"POST\",status=\"429\"}") ==
        1);
    assert_true(
        sample(
            text,
            "tessera_http_requests_total{route=\"/test/{id}\",method=\"other\",status=\"405\"}") ==
        1);
    assert_true(
        sample(text,
               "tessera_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}") ==
        1);
    assert_true(sample(text, "tessera_http_request_duration_seconds_count{route=\"/test/{id}\"}") ==
                5);
    assert_true(
        sample(text,
               "tessera_http_request_duration_seconds_bucket{route=\"/test/{id}\",le=\"+Inf\"}") ==
        5);
    assert_true(
        sample(
            text,
            "tessera_http_request_duration_seconds_bucket{route=\"/test/{id}\",le=\"0.0025\"}") ==
        5);
    assert_true(
        sample(text,
               "tessera_http_request_duration_seconds_bucket{route=\"/test/{id}\",le=\"0.001\"}") ==
        2);
    /* One TYPE line per family, and no sample line without a value. */
    const char *first = strstr(text, "# TYPE tessera_http_requests_total counter\n");
    assert_non_null(first);
    assert_null(strstr(first + 1, "# TYPE tessera_http_requests_total"));
    for (const char *p = text; *p; p = strchr(p, '\n') + 1) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl); /* every line ends with a newline */
        if (*p != '#')
            assert_non_null(memchr(p, ' ', (size_t)(nl - p)));
    }
    assert_non_null(strstr(text, "\nprocess_resident_memory_bytes "));
    assert_non_null(strstr(text, "\nprocess_open_fds "));
    assert_non_null(strstr(text, "\nprocess_start_time_seconds "));
    free(text);
}

static void *record_many(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        metrics_http_request("/concurrent", "POST", 200, 0.001);
        metrics_count(METRIC_INTEGRATION_CALLS, "ok");
    }
    return NULL;
}

static void test_concurrent_recording_loses_nothing(void **state)
{
    (void)state;
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, record_many, NULL), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    char *text = render();
    assert_true(
        sample(
            text,
            "tessera_http_requests_total{route=\"/concurrent\",method=\"POST\",status=\"200\"}") ==
        80000);
    assert_true(sample(text, "tessera_integration_calls_total{result=\"ok\"}") == 80000);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_and_labels),
        cmocka_unit_test(test_label_values_are_bounded_and_escaped),
        cmocka_unit_test(test_histogram_is_well_formed),
        cmocka_unit_test(test_http_requests_by_route),
        cmocka_unit_test(test_concurrent_recording_loses_nothing),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
