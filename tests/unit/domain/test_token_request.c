/* Unit tests for the token endpoint's input rules: email, access token
 * format and the request body parser (src/domain). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "domain/access_token.h"
#include "domain/email.h"
#include "domain/token_request.h"

static void test_email_accepts_and_normalises(void **state)
{
    (void)state;
    char out[STORE_EMAIL_MAX];
    err_t e;
    const char *good[][2] = {
        {"jane.wind@company.com", "jane.wind@company.com"},
        {"Jane.Wind@Company.COM", "jane.wind@company.com"},
        {"a+tag@sub.example.co.uk", "a+tag@sub.example.co.uk"},
        {"o'brien@x-y.io", "o'brien@x-y.io"},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(email_normalize(good[i][0], strlen(good[i][0]), out, &e), 0);
        assert_string_equal(out, good[i][1]);
    }
}

static void test_email_rejects(void **state)
{
    (void)state;
    char out[STORE_EMAIL_MAX], long_local[100], long_all[300];
    err_t e;
    memset(long_local, 'a', 65);
    strcpy(long_local + 65, "@x.io");
    memset(long_all, 'a', 250);
    strcpy(long_all + 250, "@x.io");
    const char *bad[] = {"", "plain", "a@b", "a@@b.com", "a@b@c.com", "a b@c.com", "\"q\"@c.com",
                         ".a@c.com", "a.@c.com", "a..b@c.com", "a@-c.com", "a@c-.com", "a@c..com",
                         "a@1.2.3.4", "j\xc3\xa9@c.com", "a@c.com\n", "a@[1.2.3.4]", "a@c.com.",
                         long_local, long_all, "a\x01@c.com", "a(comment)@c.com"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        e.cls = ERR_NONE;
        assert_int_equal(email_normalize(bad[i], strlen(bad[i]), out, &e), -1);
        assert_int_equal(e.cls, ERR_INVALID_REQUEST);
    }
    /* an embedded NUL is not an end of string */
    assert_int_equal(email_normalize("a@c.com\0x", 9, out, &e), -1);
}

static void test_access_token_format(void **state)
{
    (void)state;
    char value[ACCESS_TOKEN_LEN + 1], prefix[ACCESS_TOKEN_PREFIX_LEN + 1], hash[65], hash2[65];
    char header[80];
    err_t e;
    access_token_generate("embed", value, prefix, hash);
    assert_int_equal(strlen(value), ACCESS_TOKEN_LEN);
    assert_memory_equal(value, "tse_", 4);
    assert_memory_equal(prefix, value, ACCESS_TOKEN_PREFIX_LEN);
    snprintf(header, sizeof(header), "Bearer %s", value);
    assert_int_equal(access_token_from_header(header, hash2, &e), 0);
    assert_string_equal(hash, hash2);
    snprintf(header, sizeof(header), "bearer   %s  ", value);
    assert_int_equal(access_token_from_header(header, hash2, &e), 0);
    assert_string_equal(hash, hash2);
    access_token_generate("admin", value, prefix, hash2);
    assert_memory_equal(value, "tsa_", 4);
    assert_string_not_equal(hash, hash2);
}

static void test_access_token_header_errors(void **state)
{
    (void)state;
    char hash[65];
    err_t e;
    const char *bad[] = {NULL, "", "   ", "Bearer", "Bearer ", "Basic abc", "Bearerx tse_a", "Bearer abc",
                         "Bearer tse_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",
                         "Bearer tsx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                         "Bearer tse_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        e.cls = ERR_NONE;
        assert_int_equal(access_token_from_header(bad[i], hash, &e), -1);
        assert_int_equal(e.cls, ERR_UNAUTHORIZED);
        if (bad[i] && strlen(bad[i]) > 20)
            assert_null(strstr(e.detail, bad[i] + 7)); /* never echoed */
    }
}

static int parse(const char *body, token_request *r, err_t *e)
{
    return token_request_parse(body, strlen(body), r, e);
}

static void test_parse_full_payload(void **state)
{
    (void)state;
    static token_request r;
    err_t e;
    const char *body = "{\"email\":\"Jane.Wind@company.com\",\"name\":\"Jane Wind\","
                       "\"groupIds\":[\"CC07E026-02C7-4AB5-B33B-232D57E7C804\",\"cc07e026-02c7-4ab5-b33b-232d57e7c804\"],"
                       "\"metadata\": {\"externalUserId\": \"d942\" , \"isAdmin\":true},"
                       "\"isSuperblocksUser\":false,\"extra\":1}";
    assert_int_equal(parse(body, &r, &e), 0);
    assert_string_equal(r.email, "jane.wind@company.com");
    assert_string_equal(r.name, "Jane Wind");
    assert_int_equal(r.ngroups, 1);
    assert_string_equal(r.group_ids[0], "cc07e026-02c7-4ab5-b33b-232d57e7c804");
    const char *meta = "{\"externalUserId\": \"d942\" , \"isAdmin\":true}";
    assert_int_equal(r.metadata_len, strlen(meta));
    assert_memory_equal(r.metadata_raw, meta, r.metadata_len);
    assert_int_equal(r.platform_user, 0);
    assert_int_equal(r.has_subject_token, 0);
}

static void test_parse_minimal_and_nulls(void **state)
{
    (void)state;
    static token_request r;
    err_t e;
    assert_int_equal(parse("{\"email\":\"a@b.io\"}", &r, &e), 0);
    assert_null(r.metadata_raw);
    assert_string_equal(r.name, "");
    assert_int_equal(parse("{\"email\":\"a@b.io\",\"name\":null,\"metadata\":null,\"groupIds\":null}", &r, &e), 0);
    assert_int_equal(parse("{\"email\":\"a@b.io\",\"isSuperblocks\":true}", &r, &e), 0);
    assert_int_equal(r.platform_user, 1);
    assert_int_equal(parse("{\"email\":\"a@b.io\",\"subject_token\":\"x.y.z\",\"subject_token_type\":"
                           "\"urn:ietf:params:oauth:token-type:id_token\"}",
                           &r, &e),
                     0);
    assert_int_equal(r.has_subject_token, 1);
    assert_string_equal(r.subject_token, "x.y.z");
    assert_int_equal(r.subject_token_len, 5);
    assert_string_equal(r.subject_token_type, TOKEN_TYPE_ID_TOKEN);
    assert_int_equal(parse("{\"email\":\"a@b.io\",\"subject_token\":\"x\",\"subject_token_type\":"
                           "\"urn:ietf:params:oauth:token-type:jwt\"}",
                           &r, &e),
                     0);
    assert_string_equal(r.subject_token_type, TOKEN_TYPE_JWT);
}

/* The correlation id for audit events and webhooks comes from metadata. */
static void test_parse_correlation_id(void **state)
{
    (void)state;
    static token_request r;
    err_t e;
    assert_int_equal(parse("{\"email\":\"a@b.io\",\"metadata\":{\"externalUserId\":\"u-1\",\"correlationId\":\"c-9\"}}", &r, &e), 0);
    assert_string_equal(r.correlation_id, "c-9");
    assert_int_equal(parse("{\"email\":\"a@b.io\",\"metadata\":{\"externalUserId\":\"u-1\",\"correlationId\":7}}", &r, &e), 0);
    assert_string_equal(r.correlation_id, "u-1");
    assert_int_equal(parse("{\"email\":\"a@b.io\",\"metadata\":{\"correlationId\":\"a\\u0001b\"}}", &r, &e), 0);
    assert_string_equal(r.correlation_id, "");
    assert_int_equal(parse("{\"email\":\"a@b.io\"}", &r, &e), 0);
    assert_string_equal(r.correlation_id, "");
}

static void test_parse_rejects(void **state)
{
    (void)state;
    static token_request r;
    err_t e;
    const char *bad[][2] = {
        {"[]", "JSON object"},
        {"\"x\"", "JSON object"},
        {"{}", "email is required"},
        {"{\"email\":5}", "email must be a string"},
        {"{\"email\":\"nope\"}", "email is invalid"},
        {"{\"email\":\"a@b.io\",\"name\":5}", "name must be a string"},
        {"{\"email\":\"a@b.io\",\"groupIds\":\"x\"}", "groupIds must be an array"},
        {"{\"email\":\"a@b.io\",\"groupIds\":[1]}", "groupIds[0] must be a string"},
        {"{\"email\":\"a@b.io\",\"groupIds\":[\"nope\"]}", "groupIds[0] is not a group id"},
        {"{\"email\":\"a@b.io\",\"metadata\":[]}", "metadata must be a JSON object"},
        {"{\"email\":\"a@b.io\",\"metadata\":\"x\"}", "metadata must be a JSON object"},
        {"{\"email\":\"a@b.io\",\"isSuperblocksUser\":\"true\"}", "isSuperblocksUser must be a boolean"},
        {"{\"email\":\"a@b.io\",\"isSuperblocksUser\":true,\"isSuperblocks\":false}", "disagree"},
        {"{\"email\":\"a@b.io\",\"subject_token\":5}", "subject_token must be a string"},
        {"{\"email\":\"a@b.io\",\"subject_token\":\"x\"}", "subject_token_type is required"},
        {"{\"email\":\"a@b.io\",\"subject_token_type\":\"urn:ietf:params:oauth:token-type:jwt\"}",
         "without a subject_token"},
        {"{\"email\":\"a@b.io\",\"subject_token\":\"x\",\"subject_token_type\":5}", "subject_token_type must be a string"},
        {"{\"email\":\"a@b.io\",\"subject_token\":\"x\",\"subject_token_type\":\"urn:ietf:params:oauth:token-type:saml2\"}",
         "subject_token_type must be"},
        {"{\"email\":\"a@b.io\",\"subject_token\":\"\",\"subject_token_type\":\"urn:ietf:params:oauth:token-type:jwt\"}",
         "subject_token must be 1 to"},
        {"{\"email\":\"a@b.io\",\"email\":\"c@d.io\"}", "duplicate"},
        {"{\"email\":\"a@b.io\",\"metadata\":{\"n\":123456789012345678901234567890}}", "number"},
        {"{\"email\":\"a@b.io\",\"name\":\"a\\u0000b\"}", "JSON"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        e.cls = ERR_NONE;
        e.detail[0] = '\0';
        assert_int_equal(parse(bad[i][0], &r, &e), -1);
        assert_int_equal(e.cls, ERR_INVALID_REQUEST);
        if (strstr(e.detail, bad[i][1]) == NULL)
            fail_msg("body %s: detail '%s' lacks '%s'", bad[i][0], e.detail, bad[i][1]);
    }
}

static void test_parse_limits(void **state)
{
    (void)state;
    static token_request r;
    static char body[20000];
    err_t e;
    int n = snprintf(body, sizeof(body), "{\"email\":\"a@b.io\",\"metadata\":{\"k\":\"");
    memset(body + n, 'x', TOKEN_REQ_MAX_METADATA);
    strcpy(body + n + TOKEN_REQ_MAX_METADATA, "\"}}");
    assert_int_equal(parse(body, &r, &e), -1);
    assert_non_null(strstr(e.detail, "metadata is larger"));

    n = snprintf(body, sizeof(body), "{\"email\":\"a@b.io\",\"name\":\"");
    memset(body + n, 'x', TOKEN_REQ_MAX_NAME + 1);
    strcpy(body + n + TOKEN_REQ_MAX_NAME + 1, "\"}");
    assert_int_equal(parse(body, &r, &e), -1);
    assert_non_null(strstr(e.detail, "name is longer"));

    n = snprintf(body, sizeof(body), "{\"email\":\"a@b.io\",\"groupIds\":[");
    for (int i = 0; i <= TOKEN_REQ_MAX_GROUPS; i++)
        n += snprintf(body + n, sizeof(body) - (size_t)n, "%s\"cc07e026-02c7-4ab5-b33b-%012d\"", i ? "," : "", i);
    snprintf(body + n, sizeof(body) - (size_t)n, "]}");
    assert_int_equal(parse(body, &r, &e), -1);
    assert_non_null(strstr(e.detail, "more than"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_email_accepts_and_normalises), cmocka_unit_test(test_email_rejects),
        cmocka_unit_test(test_access_token_format),         cmocka_unit_test(test_access_token_header_errors),
        cmocka_unit_test(test_parse_full_payload),          cmocka_unit_test(test_parse_minimal_and_nulls),
        cmocka_unit_test(test_parse_correlation_id),
        cmocka_unit_test(test_parse_rejects),               cmocka_unit_test(test_parse_limits),
    };
    return cmocka_run_group_tests_name("token_request", tests, NULL, NULL);
}
