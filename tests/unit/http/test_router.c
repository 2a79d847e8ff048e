/* Unit tests for src/http/router.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http/router.h"

static const route table[] = {
    {"POST", "/api/v1/public/token", "token"},
    {"GET", "/api/v1/me", "me"},
    {"GET", "/api/v1/organizations/{org}/groups/{group}", "group"},
    {"DELETE", "/api/v1/organizations/{org}/groups/{group}", "group_delete"},
    {"GET", "/embed/applications/{app}/{path*}", "embed"},
};
#define N (sizeof(table) / sizeof(table[0]))

static void test_exact_and_methods(void **state)
{
    (void)state;
    const route *m;
    route_params p;
    char allow[64];
    assert_int_equal(router_match(table, N, "POST", "/api/v1/public/token", &m, &p, allow, sizeof(allow)), ROUTE_FOUND);
    assert_string_equal(m->target, "token");
    assert_int_equal(router_match(table, N, "GET", "/api/v1/public/token", &m, &p, allow, sizeof(allow)), ROUTE_BAD_METHOD);
    assert_string_equal(allow, "POST");
    assert_int_equal(router_match(table, N, "HEAD", "/api/v1/me", &m, &p, allow, sizeof(allow)), ROUTE_FOUND);
    assert_int_equal(router_match(table, N, "GET", "/api/v1/me/", &m, &p, allow, sizeof(allow)), ROUTE_NOT_FOUND);
    assert_int_equal(router_match(table, N, "GET", "/api/v1/mex", &m, &p, allow, sizeof(allow)), ROUTE_NOT_FOUND);
    assert_int_equal(router_match(table, N, "GET", "/", &m, &p, allow, sizeof(allow)), ROUTE_NOT_FOUND);
    assert_int_equal(router_match(table, N, "PUT", "/api/v1/organizations/a/groups/b", &m, &p, allow, sizeof(allow)), ROUTE_BAD_METHOD);
    assert_string_equal(allow, "GET, DELETE");
}

static void test_params(void **state)
{
    (void)state;
    const route *m;
    route_params p;
    char allow[64];
    assert_int_equal(router_match(table, N, "GET", "/api/v1/organizations/o1/groups/g%2F2", &m, &p, allow, sizeof(allow)), ROUTE_FOUND);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.value[0], "o1");
    assert_string_equal(p.value[1], "g%2F2");
    assert_int_equal(router_match(table, N, "GET", "/api/v1/organizations//groups/g", &m, &p, allow, sizeof(allow)), ROUTE_NOT_FOUND);
    assert_int_equal(router_match(table, N, "GET", "/api/v1/organizations/o/groups/g/x", &m, &p, allow, sizeof(allow)), ROUTE_NOT_FOUND);
    assert_int_equal(router_match(table, N, "GET", "/embed/applications/a1/", &m, &p, allow, sizeof(allow)), ROUTE_FOUND);
    assert_string_equal(p.value[0], "a1");
    assert_string_equal(p.value[1], "");
    assert_int_equal(router_match(table, N, "GET", "/embed/applications/a1", &m, &p, allow, sizeof(allow)), ROUTE_FOUND);
    assert_string_equal(p.value[0], "a1");
    assert_string_equal(p.value[1], "");
    assert_int_equal(router_match(table, N, "GET", "/embed/applications", &m, &p, allow, sizeof(allow)), ROUTE_NOT_FOUND);
    assert_int_equal(router_match(table, N, "GET", "/embed/applications/a1/x/y.js", &m, &p, allow, sizeof(allow)), ROUTE_FOUND);
    assert_string_equal(p.value[1], "x/y.js");
}

static void test_long_segment_rejected(void **state)
{
    (void)state;
    static char path[3000];
    const route *m;
    route_params p;
    char allow[64];
    strcpy(path, "/api/v1/organizations/");
    memset(path + strlen(path), 'a', 2000);
    strcat(path, "/groups/g");
    assert_int_equal(router_match(table, N, "GET", path, &m, &p, allow, sizeof(allow)), ROUTE_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_and_methods),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_long_segment_rejected),
    };
    return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
