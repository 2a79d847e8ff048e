/* test_jws_cache.c - the cache of verified session tokens: a hit serves
 * exactly the token verified before, anything else is verified again, and
 * what depends on time or keys is never served stale. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "jwt/jwk.h"
#include "jwt/jws.h"
#include "jwt/jws_cache.h"

#define NOW 1800000000

static jwt_key *g_key;
static int g_lookups; /* how many times verification looked a key up */

static const jwt_key *lookup(void *ctx, const char *kid)
{
    (void)ctx;
    g_lookups++;
    return strcmp(kid, jwt_key_kid(g_key)) == 0 ? g_key : NULL;
}

static int setup(void **state)
{
    (void)state;
    err_t e;
    g_key = jwt_key_generate(JWT_ALG_ES256, "cache-test", &e);
    return g_key == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    jwt_key_free(g_key);
    return 0;
}

/* A signed token for sub, expiring at exp; caller buf_free's. */
static void mint(buf_t *out, const char *sub, long long exp)
{
    buf_t payload;
    err_t e;
    buf_init(&payload, JWS_MAX_LEN);
    assert_int_equal(buf_printf(&payload, "{\"sub\":\"%s\",\"exp\":%lld}", sub, exp), 0);
    buf_init(out, JWS_MAX_LEN);
    assert_int_equal(jws_sign(g_key, payload.data, payload.len, out, &e), 0);
    buf_free(&payload);
}

static json_t *verify(jws_cache *c, const buf_t *t, int64_t now)
{
    err_t e;
    return jws_cache_verify(c, t->data, t->len, lookup, NULL, now, &e);
}

static void assert_stats(const jws_cache *c, uint64_t hits, uint64_t misses)
{
    uint64_t h, m;
    jws_cache_stats(c, &h, &m);
    assert_int_equal(h, hits);
    assert_int_equal(m, misses);
}

static void test_second_verification_is_a_hit(void **state)
{
    (void)state;
    jws_cache *c = jws_cache_new(8);
    buf_t t;
    mint(&t, "ada", NOW + 600);
    g_lookups = 0;
    json_t *first = verify(c, &t, NOW);
    json_t *second = verify(c, &t, NOW + 1);
    assert_non_null(first);
    assert_ptr_equal(first, second); /* the same payload, shared */
    assert_string_equal(json_string_value(json_object_get(second, "sub")), "ada");
    assert_int_equal(g_lookups, 1); /* verified once */
    assert_stats(c, 1, 1);
    json_decref(first);
    json_decref(second);
    buf_free(&t);
    jws_cache_free(c);
}

/* Every byte of a cached token matters: a changed copy is verified (and
 * refused), never served from the entry of the original. */
static void test_changed_token_is_verified_again(void **state)
{
    (void)state;
    jws_cache *c = jws_cache_new(1); /* one slot: every token meets the cached one */
    buf_t t;
    mint(&t, "ada", NOW + 600);
    json_t *ok = verify(c, &t, NOW);
    assert_non_null(ok);
    size_t positions[] = {0, t.len / 2, t.len - 1};
    for (size_t i = 0; i < sizeof(positions) / sizeof(positions[0]); i++) {
        char saved = t.data[positions[i]];
        t.data[positions[i]] = saved == 'A' ? 'B' : 'A';
        assert_null(verify(c, &t, NOW));
        t.data[positions[i]] = saved;
    }
    assert_null(jws_cache_verify(c, t.data, t.len - 1, lookup, NULL, NOW, &(err_t){0}));
    json_t *again = verify(c, &t, NOW); /* the failures did not evict it */
    assert_ptr_equal(again, ok);
    assert_stats(c, 1, 5);
    json_decref(ok);
    json_decref(again);
    buf_free(&t);
    jws_cache_free(c);
}

static void test_two_tokens_in_one_slot_both_stay_correct(void **state)
{
    (void)state;
    jws_cache *c = jws_cache_new(1);
    buf_t a, b;
    mint(&a, "ada", NOW + 600);
    mint(&b, "bob", NOW + 600);
    for (int round = 0; round < 3; round++) {
        json_t *pa = verify(c, &a, NOW), *pb = verify(c, &b, NOW);
        assert_string_equal(json_string_value(json_object_get(pa, "sub")), "ada");
        assert_string_equal(json_string_value(json_object_get(pb, "sub")), "bob");
        json_decref(pa);
        json_decref(pb);
    }
    assert_stats(c, 0, 6); /* each evicted the other */
    buf_free(&a);
    buf_free(&b);
    jws_cache_free(c);
}

static void test_expired_entry_is_dropped_and_not_stored(void **state)
{
    (void)state;
    jws_cache *c = jws_cache_new(8);
    buf_t t;
    mint(&t, "ada", NOW + 10);
    json_decref(verify(c, &t, NOW));
    g_lookups = 0;
    json_t *late = verify(c, &t, NOW + 10); /* exp reached: verified again, the caller judges it */
    assert_non_null(late);
    json_decref(late);
    json_decref(verify(c, &t, NOW + 11));
    assert_int_equal(g_lookups, 2); /* neither late verification was remembered */
    assert_stats(c, 0, 3);
    buf_free(&t);
    jws_cache_free(c);
}

static void test_clear_forgets_everything(void **state)
{
    (void)state;
    jws_cache *c = jws_cache_new(8);
    buf_t t;
    mint(&t, "ada", NOW + 600);
    json_decref(verify(c, &t, NOW));
    jws_cache_clear(c);
    g_lookups = 0;
    json_decref(verify(c, &t, NOW));
    assert_int_equal(g_lookups, 1);
    assert_stats(c, 0, 2);
    buf_free(&t);
    jws_cache_free(c);
}

static void test_failures_and_long_tokens_are_not_remembered(void **state)
{
    (void)state;
    jws_cache *c = jws_cache_new(8);
    err_t e;
    const char *junk = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZGEifQ.";
    for (int i = 0; i < 2; i++)
        assert_null(jws_cache_verify(c, junk, strlen(junk), lookup, NULL, NOW, &e));
    assert_stats(c, 0, 2);

    char sub[JWS_CACHE_MAX_TOKEN];
    memset(sub, 'x', sizeof(sub) - 1);
    sub[sizeof(sub) - 1] = '\0';
    buf_t t;
    mint(&t, sub, NOW + 600);
    assert_true(t.len > JWS_CACHE_MAX_TOKEN);
    g_lookups = 0;
    json_decref(verify(c, &t, NOW));
    json_decref(verify(c, &t, NOW));
    assert_int_equal(g_lookups, 2);
    assert_stats(c, 0, 2); /* not even counted: the cache is bypassed */
    buf_free(&t);
    jws_cache_free(c);
}

static void test_no_cache_verifies_every_time(void **state)
{
    (void)state;
    buf_t t;
    mint(&t, "ada", NOW + 600);
    g_lookups = 0;
    json_decref(verify(NULL, &t, NOW));
    json_decref(verify(NULL, &t, NOW));
    assert_int_equal(g_lookups, 2);
    buf_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_second_verification_is_a_hit),
        cmocka_unit_test(test_changed_token_is_verified_again),
        cmocka_unit_test(test_two_tokens_in_one_slot_both_stay_correct),
        cmocka_unit_test(test_expired_entry_is_dropped_and_not_stored),
        cmocka_unit_test(test_clear_forgets_everything),
        cmocka_unit_test(test_failures_and_long_tokens_are_not_remembered),
        cmocka_unit_test(test_no_cache_verifies_every_time),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
