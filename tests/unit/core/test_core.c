/* Unit tests for src/core: buf, json, hmap, clock, uuid, err. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/hmap.h"
#include "core/json.h"
#include "core/uuid.h"

static void test_buf_respects_max(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b, 8);
    assert_int_equal(buf_puts(&b, "12345678"), 0);
    assert_int_equal(buf_puts(&b, "9"), -1);
    assert_string_equal(buf_str(&b), "12345678");
    assert_int_equal(buf_printf(&b, "%d", 1), -1);
    buf_free(&b);
}

/* buf_printf formats into the room the buffer has, grows it when the text
 * does not fit, and leaves it unchanged when max would be passed. */
static void test_buf_printf_room_and_growth(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b, 100);
    assert_int_equal(buf_puts(&b, "abc"), 0); /* 64 bytes of room */
    assert_int_equal(buf_printf(&b, "-%d-", 42), 0);
    assert_string_equal(buf_str(&b), "abc-42-");
    assert_int_equal(buf_printf(&b, "%070d", 7), 0); /* past the room: grows */
    assert_int_equal(b.len, 77);
    assert_string_equal(buf_str(&b) + 7, "0000000000000000000000000000000000000000000000000000000000000000000007");
    assert_int_equal(buf_printf(&b, "%030d", 1), -1); /* 107 > max */
    assert_int_equal(b.len, 77);
    assert_int_equal(strlen(buf_str(&b)), 77);
    assert_int_equal(buf_printf(&b, "%023d", 1), 0); /* exactly max */
    assert_int_equal(b.len, 100);
    assert_int_equal(buf_printf(&b, "%s", ""), 0);
    assert_int_equal(buf_printf(&b, "x"), -1);
    assert_int_equal(strlen(buf_str(&b)), 100);
    buf_free(&b);
}

static void test_buf_json_string_escapes(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b, 256);
    const char in[] = "a\"b\\c\n\x01\x7f\xc3\xa9";
    buf_json_string(&b, in, sizeof(in) - 1);
    assert_string_equal(buf_str(&b), "\"a\\\"b\\\\c\\n\\u0001\\u007f\xc3\xa9\"");
    buf_free(&b);
}

static void test_json_strict_rejects(void **state)
{
    (void)state;
    err_t e;
    const char *bad[] = {"", "{", "{\"a\":1,\"a\":2}", "{\"a\":\"\\u0000\"}", "{\"a\":\"\xff\"}", "[1,]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = json_parse_strict(bad[i], strlen(bad[i]), 32, 0, &e);
        assert_null(j);
        assert_int_equal(e.cls, ERR_INVALID_REQUEST);
    }
    char deep[200];
    memset(deep, '[', 40);
    memset(deep + 40, ']', 40);
    assert_null(json_parse_strict(deep, 80, 32, 0, &e));
    assert_non_null(strstr(e.detail, "deeper"));
    json_t *ok = json_parse_strict(deep + 20, 40, 32, 0, &e);
    assert_non_null(ok);
    json_decref(ok);
}

static void test_json_nul_byte_rejected(void **state)
{
    (void)state;
    err_t e;
    const char body[] = "{\"a\":1}\0{}";
    assert_null(json_parse_strict(body, sizeof(body) - 1, 32, 0, &e));
    assert_non_null(strstr(e.detail, "NUL"));
}

static void test_json_raw_member(void **state)
{
    (void)state;
    const char *t = " { \"x\" : \"}\\\"{\" , \"metadata\" :  {\"a\": [1, {\"b\":\"]\"}] } ,\"z\":1}";
    size_t off, len;
    assert_int_equal(json_raw_member(t, strlen(t), "metadata", &off, &len), 0);
    assert_int_equal(len, strlen("{\"a\": [1, {\"b\":\"]\"}] }"));
    assert_memory_equal(t + off, "{\"a\": [1, {\"b\":\"]\"}] }", len);
    assert_int_equal(json_raw_member(t, strlen(t), "z", &off, &len), 0);
    assert_memory_equal(t + off, "1", len);
    assert_int_equal(json_raw_member(t, strlen(t), "missing", &off, &len), -1);
    /* a key written with escapes is the same key */
    const char *esc = "{\"metad\\u0061ta\":{\"x\":1}}";
    assert_int_equal(json_raw_member(esc, strlen(esc), "metadata", &off, &len), 0);
    assert_memory_equal(esc + off, "{\"x\":1}", len);
    /* a key nested deeper is not a top-level member */
    const char *nested = "{\"a\":{\"metadata\":1}}";
    assert_int_equal(json_raw_member(nested, strlen(nested), "metadata", &off, &len), -1);
}

static void test_hmap_put_get_del(void **state)
{
    (void)state;
    hmap m;
    hmap_init(&m);
    char key[32];
    static int values[5000];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        values[i] = i;
        assert_null(hmap_put(&m, key, &values[i]));
    }
    assert_int_equal(m.len, 5000);
    for (int i = 0; i < 5000; i += 2) {
        snprintf(key, sizeof(key), "k%d", i);
        assert_ptr_equal(hmap_del(&m, key), &values[i]);
    }
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        if (i % 2)
            assert_ptr_equal(hmap_get(&m, key), &values[i]);
        else
            assert_null(hmap_get(&m, key));
    }
    assert_ptr_equal(hmap_put(&m, "k1", &values[7]), &values[1]);
    assert_int_equal(m.len, 2500);
    hmap_free(&m, NULL);
}

static void test_clock_iso8601(void **state)
{
    (void)state;
    int64_t t;
    char out[21];
    assert_int_equal(clock_parse_iso8601("2027-03-01T00:00:00Z", &t), 0);
    assert_int_equal(t, 1803859200);
    clock_iso8601(t, out);
    assert_string_equal(out, "2027-03-01T00:00:00Z");
    assert_int_equal(clock_parse_iso8601("2027-03-01", &t), 0);
    assert_int_equal(t, 1803859200);
    assert_int_equal(clock_parse_iso8601("2027-03-01T02:00:00+02:00", &t), 0);
    assert_int_equal(t, 1803859200);
    assert_int_equal(clock_parse_iso8601("2027-03-01T00:00:00.123Z", &t), 0);
    const char *bad[] = {"2027-02-30", "2027-13-01", "2027-03-01T25:00Z", "27-03-01", "2027-03-01T00:00:00",
                         "2027-03-01Tx", "2026-02-29", "tomorrow"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(clock_parse_iso8601(bad[i], &t), -1);
}

/* A time from outside (the exp of a token, an expiry typed by an admin) may
 * be any 64-bit value: the text is clamped to 1970 .. 9999 and always fits
 * and is terminated (strftime leaves the buffer undefined when a 5-digit
 * year does not fit, and gmtime_r fails for years beyond int). */
static void test_clock_iso8601_out_of_range(void **state)
{
    (void)state;
    const int64_t late[] = {253402300799, 253402300800, 4102444800000, INT64_MAX};
    const int64_t early[] = {-1, -62135596800, INT64_MIN};
    char out[22];
    for (size_t i = 0; i < sizeof(late) / sizeof(late[0]); i++) {
        memset(out, 'x', sizeof(out));
        clock_iso8601(late[i], out);
        assert_string_equal(out, "9999-12-31T23:59:59Z");
        assert_int_equal(out[21], 'x'); /* nothing written past out[21] */
    }
    for (size_t i = 0; i < sizeof(early) / sizeof(early[0]); i++) {
        memset(out, 'x', sizeof(out));
        clock_iso8601(early[i], out);
        assert_string_equal(out, "1970-01-01T00:00:00Z");
    }
}

static void test_uuid(void **state)
{
    (void)state;
    char a[UUID_STR_LEN], b[UUID_STR_LEN];
    uuid_v4(a);
    uuid_v4(b);
    assert_true(uuid_is_valid(a));
    assert_string_not_equal(a, b);
    assert_int_equal(a[14], '4');
    uuid_from_name("ns", "jane@example.com", a);
    uuid_from_name("ns", "jane@example.com", b);
    assert_string_equal(a, b);
    uuid_from_name("ns2", "jane@example.com", b);
    assert_string_not_equal(a, b);
    assert_true(uuid_is_valid("CC07E026-02C7-4AB5-B33B-232D57E7C804"));
    assert_false(uuid_is_valid("cc07e026-02c7-4ab5-b33b-232d57e7c80"));
    assert_false(uuid_is_valid("cc07e026-02c7-4ab5-b33b-232d57e7c8045"));
    assert_false(uuid_is_valid("cc07e026x02c7-4ab5-b33b-232d57e7c804"));
}

static void test_err_table(void **state)
{
    (void)state;
    assert_int_equal(err_http_status(ERR_INVALID_REQUEST), 400);
    assert_int_equal(err_http_status(ERR_UNAUTHORIZED), 401);
    assert_int_equal(err_http_status(ERR_TOO_LARGE), 413);
    assert_int_equal(err_http_status(ERR_UNSUPPORTED_MEDIA), 415);
    assert_string_equal(err_code(ERR_RATE_LIMITED), "rate_limited");
    assert_string_equal(err_code(ERR_INTERNAL), "server_error");
    assert_int_equal(err_http_status(ERR_BAD_GATEWAY), 502);
    assert_string_equal(err_code(ERR_BAD_GATEWAY), "bad_gateway");
    assert_int_equal(err_http_status((err_class)999), 500);
    /* Status back to code: one class per status (the metrics' refusal reasons). */
    for (int c = ERR_NONE + 1; c < ERR_CLASS_COUNT; c++)
        assert_string_equal(err_code_for_status(err_http_status((err_class)c)), err_code((err_class)c));
    assert_string_equal(err_code_for_status(429), "rate_limited");
    assert_string_equal(err_code_for_status(418), "server_error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_respects_max),
        cmocka_unit_test(test_buf_printf_room_and_growth),
        cmocka_unit_test(test_buf_json_string_escapes),
        cmocka_unit_test(test_json_strict_rejects),
        cmocka_unit_test(test_json_nul_byte_rejected),
        cmocka_unit_test(test_json_raw_member),
        cmocka_unit_test(test_hmap_put_get_del),
        cmocka_unit_test(test_clock_iso8601),
        cmocka_unit_test(test_clock_iso8601_out_of_range),
        cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_err_table),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
