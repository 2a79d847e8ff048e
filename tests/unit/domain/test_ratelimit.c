/* Unit tests for the token buckets (src/domain/ratelimit.c) with an injected
 * clock, and the forms of a token's rate limit (src/domain/token_limit.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "domain/ratelimit.h"
#include "domain/token_limit.h"

#define SEC 1000000LL /* microseconds */

static void test_burst_then_refused(void **state)
{
    (void)state;
    ratelimit *rl = ratelimit_new(64);
    ratelimit_rule rule = {5, 10};
    ratelimit_result r;
    int64_t t = 1000 * SEC;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(ratelimit_take(rl, "tok", &rule, t, &r), 1);
        assert_int_equal(r.limit, 10);
        assert_int_equal(r.remaining, 9 - i);
        assert_int_equal(r.retry_after, 0);
    }
    /* Empty: one unit comes back after 1/5 s. */
    assert_int_equal(ratelimit_take(rl, "tok", &rule, t, &r), 0);
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.retry_after, 1); /* 0.2 s, rounded up to whole seconds */
    assert_int_equal(r.reset, 2);       /* 10 units at 5/s */
    /* 0.2 s later exactly one more passes. */
    assert_int_equal(ratelimit_take(rl, "tok", &rule, t + SEC / 5, &r), 1);
    assert_int_equal(ratelimit_take(rl, "tok", &rule, t + SEC / 5, &r), 0);
    /* A refused request takes nothing: after 1 s there are 5 units. */
    int ok = 0;
    for (int i = 0; i < 20; i++)
        ok += ratelimit_take(rl, "tok", &rule, t + SEC / 5 + SEC, &r);
    assert_int_equal(ok, 5);
    ratelimit_free(rl);
}

static void test_keys_are_independent(void **state)
{
    (void)state;
    ratelimit *rl = ratelimit_new(64);
    ratelimit_rule rule = {1, 2};
    ratelimit_result r;
    assert_true(ratelimit_take(rl, "a", &rule, 0, &r));
    assert_true(ratelimit_take(rl, "a", &rule, 0, &r));
    assert_false(ratelimit_take(rl, "a", &rule, 0, &r));
    assert_true(ratelimit_take(rl, "b", &rule, 0, &r));
    assert_int_equal(r.remaining, 1);
    ratelimit_free(rl);
}

static void test_retry_after_and_reset_round_up(void **state)
{
    (void)state;
    ratelimit *rl = ratelimit_new(8);
    ratelimit_rule slow = {1, 3};
    ratelimit_result r;
    for (int i = 0; i < 3; i++)
        ratelimit_take(rl, "k", &slow, 0, &r);
    assert_int_equal(r.reset, 3);
    assert_false(ratelimit_take(rl, "k", &slow, SEC / 2, &r));
    assert_int_equal(r.retry_after, 1); /* half a unit left to wait for */
    assert_int_equal(r.reset, 3);       /* 2.5 s, rounded up */
    assert_true(ratelimit_take(rl, "k", &slow, SEC, &r));
    assert_int_equal(r.remaining, 0);
    ratelimit_free(rl);
}

static void test_rule_change_applies_at_once(void **state)
{
    (void)state;
    ratelimit *rl = ratelimit_new(8);
    ratelimit_rule big = {100, 100}, small = {1, 2};
    ratelimit_result r;
    assert_true(ratelimit_take(rl, "k", &big, 0, &r));
    assert_int_equal(r.remaining, 99);
    /* The new burst caps what is left. */
    assert_true(ratelimit_take(rl, "k", &small, 0, &r));
    assert_int_equal(r.remaining, 1);
    assert_int_equal(r.limit, 2);
    assert_true(ratelimit_take(rl, "k", &small, 0, &r));
    assert_false(ratelimit_take(rl, "k", &small, 0, &r));
    ratelimit_free(rl);
}

static void test_long_idle_and_big_rates(void **state)
{
    (void)state;
    ratelimit *rl = ratelimit_new(8);
    ratelimit_rule max = {RATELIMIT_MAX_RATE, RATELIMIT_MAX_RATE};
    ratelimit_result r;
    assert_true(ratelimit_take(rl, "k", &max, 0, &r));
    /* Years later, no overflow: simply full. */
    assert_true(ratelimit_take(rl, "k", &max, INT64_C(100) * 365 * 86400 * SEC, &r));
    assert_int_equal(r.remaining, RATELIMIT_MAX_RATE - 1);
    /* A clock that goes back refills nothing and breaks nothing. */
    assert_true(ratelimit_take(rl, "k", &max, 0, &r));
    assert_int_equal(r.remaining, RATELIMIT_MAX_RATE - 2);
    ratelimit_free(rl);
}

/* The table never grows: with far more keys than entries, an old key is
 * forgotten (a fresh, full bucket next time) rather than memory used. */
static void test_bounded_memory(void **state)
{
    (void)state;
    ratelimit *rl = ratelimit_new(RATELIMIT_WAYS); /* one set */
    ratelimit_rule rule = {1, 1};
    ratelimit_result r;
    char key[32];
    assert_true(ratelimit_take(rl, "first", &rule, 0, &r));
    assert_false(ratelimit_take(rl, "first", &rule, 0, &r));
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        ratelimit_take(rl, key, &rule, i + 1, &r); /* one microsecond apart */
    }
    /* "first" was evicted (its bucket was the first to be full again): it
     * starts again with a full bucket. */
    assert_true(ratelimit_take(rl, "first", &rule, 1001, &r));
    /* Eviction prefers buckets that are already full again. */
    ratelimit *two = ratelimit_new(RATELIMIT_WAYS);
    for (int i = 0; i < RATELIMIT_WAYS; i++) {
        snprintf(key, sizeof(key), "busy%d", i);
        ratelimit_rule slow = {1, 1};
        ratelimit_take(two, key, &slow, i == 3 ? 0 : 100 * SEC,
                       &r); /* busy3 is full again at 1 s */
    }
    ratelimit_take(two, "newcomer", &rule, 100 * SEC, &r);
    ratelimit_rule slow = {1, 1};
    for (int i = 0; i < RATELIMIT_WAYS; i++) {
        snprintf(key, sizeof(key), "busy%d", i);
        /* The others kept their (empty) buckets... */
        if (i != 3)
            assert_false(ratelimit_take(two, key, &slow, 100 * SEC, &r));
    }
    /* ... busy3 lost its entry. */
    assert_true(ratelimit_take(two, "busy3", &slow, 100 * SEC, &r));
    ratelimit_free(two);
    ratelimit_free(rl);
}

typedef struct {
    ratelimit *rl;
    int allowed;
} taker;

static void *take_many(void *arg)
{
    taker *t = arg;
    ratelimit_rule rule = {1, 1000};
    ratelimit_result r;
    for (int i = 0; i < 5000; i++)
        t->allowed += ratelimit_take(t->rl, "shared", &rule, 0, &r);
    return NULL;
}

static void test_threads_share_one_bucket(void **state)
{
    (void)state;
    ratelimit *rl = ratelimit_new(64);
    taker t[4] = {{rl, 0}, {rl, 0}, {rl, 0}, {rl, 0}};
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, take_many, &t[i]), 0);
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        total += t[i].allowed;
    }
    assert_int_equal(total, 1000);
    ratelimit_free(rl);
}

static void test_token_limit_forms(void **state)
{
    (void)state;
    int64_t rps, burst;
    err_t e;
    assert_int_equal(token_limit_parse("5:10", &rps, &burst, &e), 0);
    assert_int_equal(rps, 5);
    assert_int_equal(burst, 10);
    assert_int_equal(token_limit_parse("7", &rps, &burst, &e), 0);
    assert_int_equal(burst, 14);
    assert_int_equal(token_limit_parse("off", &rps, &burst, &e), 0);
    assert_int_equal(rps, STORE_RATE_OFF);
    assert_int_equal(token_limit_parse("default", &rps, &burst, &e), 0);
    assert_int_equal(rps, STORE_RATE_DEFAULT);
    const char *bad[] = {
        "", "0", "0:5", "5:0", "-1", "5:", ":5", "1.5", "5:10:1", "10000000", "x", "5: 10"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        e.cls = ERR_NONE;
        assert_int_equal(token_limit_parse(bad[i], &rps, &burst, &e), -1);
        assert_int_equal(e.cls, ERR_INVALID_REQUEST);
    }

    json_t *v = json_pack("{s:i, s:i}", "rps", 3, "burst", 9);
    assert_int_equal(token_limit_from_json(v, &rps, &burst, &e), 0);
    assert_int_equal(rps, 3);
    assert_int_equal(burst, 9);
    json_decref(v);
    v = json_string("off");
    assert_int_equal(token_limit_from_json(v, &rps, &burst, &e), 0);
    assert_int_equal(rps, STORE_RATE_OFF);
    json_decref(v);
    assert_int_equal(token_limit_from_json(json_null(), &rps, &burst, &e), 0);
    assert_int_equal(rps, STORE_RATE_DEFAULT);
    const char *bad_json[] = {"{\"rps\":0}",
                              "{\"rps\":-1}",
                              "{\"burst\":3}",
                              "{\"rps\":\"3\"}",
                              "\"on\"",
                              "5",
                              "{\"rps\":2,\"burst\":0}",
                              "{\"rps\":2000000}"};
    for (size_t i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++) {
        v = json_loads(bad_json[i], JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        assert_int_equal(token_limit_from_json(v, &rps, &burst, &e), -1);
        json_decref(v);
    }
}

static void test_token_limit_effective(void **state)
{
    (void)state;
    store_token t;
    ratelimit_rule rule;
    char text[48];
    memset(&t, 0, sizeof(t));
    strcpy(t.type, "embed");
    assert_int_equal(token_limit_effective(&t, &rule), 1);
    assert_int_equal(rule.rps, TOKEN_LIMIT_DEFAULT_RPS);
    assert_int_equal(rule.burst, TOKEN_LIMIT_DEFAULT_BURST);
    token_limit_text(&t, text, sizeof(text));
    assert_string_equal(text, "200:400 (default)");
    json_t *j = token_limit_json(&t);
    assert_true(json_is_true(json_object_get(j, "default")));
    json_decref(j);
    t.rate_rps = 5;
    t.rate_burst = 10;
    assert_int_equal(token_limit_effective(&t, &rule), 1);
    assert_int_equal(rule.burst, 10);
    token_limit_text(&t, text, sizeof(text));
    assert_string_equal(text, "5:10");
    t.rate_rps = STORE_RATE_OFF;
    assert_int_equal(token_limit_effective(&t, &rule), 0);
    j = token_limit_json(&t);
    assert_string_equal(json_string_value(j), "off");
    json_decref(j);
    strcpy(t.type, "admin");
    j = token_limit_json(&t);
    assert_true(json_is_null(j));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_refused),
        cmocka_unit_test(test_keys_are_independent),
        cmocka_unit_test(test_retry_after_and_reset_round_up),
        cmocka_unit_test(test_rule_change_applies_at_once),
        cmocka_unit_test(test_long_idle_and_big_rates),
        cmocka_unit_test(test_bounded_memory),
        cmocka_unit_test(test_threads_share_one_bucket),
        cmocka_unit_test(test_token_limit_forms),
        cmocka_unit_test(test_token_limit_effective),
    };
    return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
