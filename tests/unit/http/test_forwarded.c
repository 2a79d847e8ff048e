/* Unit tests for trusted proxies and X-Forwarded-For (src/http/forwarded.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http/forwarded.h"

static void test_parse(void **state)
{
    (void)state;
    http_proxies p;
    err_t e;
    assert_int_equal(http_proxies_parse("127.0.0.1", &p, &e), 0);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.nets[0].bits, 32);
    assert_int_equal(http_proxies_parse("10.0.0.0/8, ::1,fd00::/8", &p, &e), 0);
    assert_int_equal(p.n, 3);
    assert_int_equal(p.nets[1].bits, 128);
    const char *bad[] = {"",        ",",        "localhost", "10.0.0.0/33",
                         "::1/129", "1.2.3.4/", "1.2.3.4/x", "1.2.3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        e.cls = ERR_NONE;
        assert_int_equal(http_proxies_parse(bad[i], &p, &e), -1);
        assert_int_equal(e.cls, ERR_INVALID_REQUEST);
    }
}

static void test_contain(void **state)
{
    (void)state;
    http_proxies p;
    err_t e;
    assert_int_equal(http_proxies_parse("10.1.0.0/16,192.168.7.9,2001:db8::/33", &p, &e), 0);
    assert_true(http_proxies_contain(&p, "10.1.255.3"));
    assert_false(http_proxies_contain(&p, "10.2.0.1"));
    assert_true(http_proxies_contain(&p, "192.168.7.9"));
    assert_false(http_proxies_contain(&p, "192.168.7.8"));
    assert_true(http_proxies_contain(&p, "2001:db8:7fff::1"));
    assert_false(http_proxies_contain(&p, "2001:db8:8000::1"));
    assert_false(http_proxies_contain(&p, "not an address"));
}

static void test_client(void **state)
{
    (void)state;
    http_proxies p;
    err_t e;
    char out[64];
    assert_int_equal(http_proxies_parse("127.0.0.1,10.0.0.0/8", &p, &e), 0);
    /* No trusted proxy, or no header: the peer. */
    http_forwarded_client(&p, "203.0.113.1", "198.51.100.7", out, sizeof(out));
    assert_string_equal(out, "203.0.113.1");
    http_forwarded_client(&p, "127.0.0.1", NULL, out, sizeof(out));
    assert_string_equal(out, "127.0.0.1");
    http_proxies none = {0};
    http_forwarded_client(&none, "127.0.0.1", "198.51.100.7", out, sizeof(out));
    assert_string_equal(out, "127.0.0.1");
    /* The rightmost address no trusted proxy stands for. */
    http_forwarded_client(&p, "127.0.0.1", "198.51.100.7", out, sizeof(out));
    assert_string_equal(out, "198.51.100.7");
    http_forwarded_client(&p, "127.0.0.1", "1.1.1.1, 198.51.100.7, 10.2.3.4", out, sizeof(out));
    assert_string_equal(out, "198.51.100.7");
    /* A spoofed leftmost entry does not win. */
    http_forwarded_client(&p, "127.0.0.1", "127.0.0.1,198.51.100.7", out, sizeof(out));
    assert_string_equal(out, "198.51.100.7");
    /* Canonical text; garbage stops the walk at the last vouched-for hop. */
    http_forwarded_client(&p, "127.0.0.1", "2001:DB8:0:0::1", out, sizeof(out));
    assert_string_equal(out, "2001:db8::1");
    http_forwarded_client(&p, "127.0.0.1", "198.51.100.7, garbage", out, sizeof(out));
    assert_string_equal(out, "127.0.0.1");
    http_forwarded_client(&p, "127.0.0.1", " , ", out, sizeof(out));
    assert_string_equal(out, "127.0.0.1");
    /* Every hop trusted: the leftmost. */
    http_forwarded_client(&p, "127.0.0.1", "10.0.0.1,10.0.0.2", out, sizeof(out));
    assert_string_equal(out, "10.0.0.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_contain),
        cmocka_unit_test(test_client),
    };
    return cmocka_run_group_tests_name("forwarded", tests, NULL, NULL);
}
