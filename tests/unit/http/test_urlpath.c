/* Unit tests for src/http/urlpath.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http/urlpath.h"

static void test_accepts(void **state)
{
    (void)state;
    char out[64];
    const char *good[][2] = {{"", ""}, {"index.html", "index.html"}, {"a/b/c.js", "a/b/c.js"},
                             {"my%20file.png", "my file.png"}, {"caf%C3%A9.css", "caf\xc3\xa9.css"},
                             {"a..b/.x", "a..b/.x"}};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(urlpath_decode(good[i][0], out, sizeof(out)), 0);
        assert_string_equal(out, good[i][1]);
    }
}

static void test_rejects(void **state)
{
    (void)state;
    char out[64];
    const char *bad[] = {"..", "../x", "a/../b", "a/./b", "./a", "a//b", "a/", "/a", "%2e%2e/x",
                         "a%2Fb", "a%00b", "a%zz", "a%4", "a\\b", "a%5Cb", "a\tb", "%7f"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (urlpath_decode(bad[i], out, sizeof(out)) != -1)
            fail_msg("accepted '%s'", bad[i]);
    char longp[100];
    memset(longp, 'a', 99);
    longp[99] = '\0';
    assert_int_equal(urlpath_decode(longp, out, sizeof(out)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_accepts), cmocka_unit_test(test_rejects)};
    return cmocka_run_group_tests_name("urlpath", tests, NULL, NULL);
}
