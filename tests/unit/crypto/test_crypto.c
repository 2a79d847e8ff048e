/* test_crypto.c - known answers and tamper tests for src/crypto. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"

static void to_hex(const unsigned char *b, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static void assert_sha256(const char *msg, const char *want)
{
    unsigned char md[CRYPTO_SHA256_LEN];
    char hex[65];
    crypto_sha256(msg, strlen(msg), md);
    to_hex(md, sizeof(md), hex);
    assert_string_equal(hex, want);
    crypto_sha256_hex(msg, strlen(msg), hex);
    assert_string_equal(hex, want);
}

static void test_sha256_known_answers(void **state)
{
    (void)state;
    assert_sha256("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_sha256("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_sha256_parts(void **state)
{
    (void)state;
    unsigned char a[CRYPTO_SHA256_LEN], b[CRYPTO_SHA256_LEN];
    crypto_sha256("abc", 3, a);
    crypto_sha256_parts("a", 1, "bc", 2, b);
    assert_memory_equal(a, b, sizeof(a));
    crypto_sha256_parts("abc", 3, NULL, 0, b);
    assert_memory_equal(a, b, sizeof(a));
    crypto_sha256_parts(NULL, 0, "abc", 3, b);
    assert_memory_equal(a, b, sizeof(a));
}

static void assert_hmac(const void *key, size_t klen, const char *msg, const char *want)
{
    unsigned char mac[CRYPTO_SHA256_LEN];
    char hex[65];
    crypto_hmac_sha256(key, klen, msg, strlen(msg), mac);
    to_hex(mac, sizeof(mac), hex);
    assert_string_equal(hex, want);
}

/* RFC 4231 section 4.2 and 4.3. */
static void test_hmac_rfc4231(void **state)
{
    (void)state;
    unsigned char key1[20];
    memset(key1, 0x0b, sizeof(key1));
    assert_hmac(key1, sizeof(key1), "Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    assert_hmac("Jefe", 4, "what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* An empty key is a valid HMAC key (and must not crash). */
    assert_hmac(NULL, 0, "", "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static void test_equal(void **state)
{
    (void)state;
    assert_int_equal(crypto_equal("abcd", "abcd", 4), 1);
    assert_int_equal(crypto_equal("abcd", "abce", 4), 0);
    assert_int_equal(crypto_equal("xbcd", "abcd", 4), 0);
    assert_int_equal(crypto_equal("abcd", "abce", 3), 1);
    assert_int_equal(crypto_equal("", "", 0), 1);
}

static void test_random(void **state)
{
    (void)state;
    unsigned char a[32] = {0}, b[32] = {0}, zero[32] = {0};
    crypto_random(a, sizeof(a));
    crypto_random(b, sizeof(b));
    assert_memory_not_equal(a, zero, sizeof(a));
    assert_memory_not_equal(a, b, sizeof(a));
    crypto_random(a, 0);
}

static const unsigned char aead_key[CRYPTO_AEAD_KEY_LEN] = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

static void test_aead_round_trip(void **state)
{
    (void)state;
    const char msg[] = "a private JWK goes here";
    size_t n = sizeof(msg);
    unsigned char box[sizeof(msg) + CRYPTO_AEAD_OVERHEAD], box2[sizeof(box)];
    unsigned char plain[sizeof(msg)];

    assert_int_equal(crypto_aead_seal(aead_key, "kid-1", 5, msg, n, box), 0);
    assert_int_equal(crypto_aead_open(aead_key, "kid-1", 5, box, sizeof(box), plain), 0);
    assert_memory_equal(plain, msg, n);
    /* A fresh nonce per seal: the same input never gives the same box. */
    assert_int_equal(crypto_aead_seal(aead_key, "kid-1", 5, msg, n, box2), 0);
    assert_memory_not_equal(box, box2, 12);
    assert_memory_not_equal(box + 12, box2 + 12, n);
}

static void test_aead_empty(void **state)
{
    (void)state;
    unsigned char box[CRYPTO_AEAD_OVERHEAD], plain[1];
    assert_int_equal(crypto_aead_seal(aead_key, NULL, 0, "", 0, box), 0);
    assert_int_equal(crypto_aead_open(aead_key, NULL, 0, box, sizeof(box), plain), 0);
    assert_int_equal(crypto_aead_open(aead_key, NULL, 0, box, sizeof(box) - 1, plain), -1);
    assert_int_equal(crypto_aead_open(aead_key, NULL, 0, box, 0, plain), -1);
}

/* Flipping one bit anywhere in the box, or changing aad or key, fails. */
static void test_aead_tamper(void **state)
{
    (void)state;
    const char msg[] = "secret";
    unsigned char box[sizeof(msg) + CRYPTO_AEAD_OVERHEAD], plain[sizeof(msg)];
    unsigned char key2[CRYPTO_AEAD_KEY_LEN];
    assert_int_equal(crypto_aead_seal(aead_key, "aad", 3, msg, sizeof(msg), box), 0);

    size_t where[] = {0, 11, 12, 12 + sizeof(msg) - 1, 12 + sizeof(msg), sizeof(box) - 1};
    for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
        box[where[i]] ^= 0x01; /* nonce, ciphertext, tag */
        assert_int_equal(crypto_aead_open(aead_key, "aad", 3, box, sizeof(box), plain), -1);
        box[where[i]] ^= 0x01;
    }
    assert_int_equal(crypto_aead_open(aead_key, "aae", 3, box, sizeof(box), plain), -1);
    assert_int_equal(crypto_aead_open(aead_key, "aa", 2, box, sizeof(box), plain), -1);
    assert_int_equal(crypto_aead_open(aead_key, NULL, 0, box, sizeof(box), plain), -1);
    memcpy(key2, aead_key, sizeof(key2));
    key2[31] ^= 0x80;
    assert_int_equal(crypto_aead_open(key2, "aad", 3, box, sizeof(box), plain), -1);
    /* Truncated box. */
    assert_int_equal(crypto_aead_open(aead_key, "aad", 3, box, sizeof(box) - 1, plain), -1);
    /* And the untouched box still opens. */
    assert_int_equal(crypto_aead_open(aead_key, "aad", 3, box, sizeof(box), plain), 0);
    assert_memory_equal(plain, msg, sizeof(msg));
}

static void test_password(void **state)
{
    (void)state;
    char enc[CRYPTO_PWHASH_MAX], enc2[CRYPTO_PWHASH_MAX];
    assert_int_equal(crypto_password_hash("correct horse", enc), 0);
    assert_true(strncmp(enc, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
    assert_int_equal(crypto_password_verify(enc, "correct horse"), 1);
    assert_int_equal(crypto_password_verify(enc, "correct horsf"), 0);
    assert_int_equal(crypto_password_verify(enc, ""), 0);
    /* Random salt: the same password hashes differently. */
    assert_int_equal(crypto_password_hash("correct horse", enc2), 0);
    assert_string_not_equal(enc, enc2);
    assert_int_equal(crypto_password_verify(enc2, "correct horse"), 1);
    /* The empty password is hashed like any other. */
    assert_int_equal(crypto_password_hash("", enc2), 0);
    assert_int_equal(crypto_password_verify(enc2, ""), 1);
    assert_int_equal(crypto_password_verify(enc2, "x"), 0);
}

static void test_password_garbage(void **state)
{
    (void)state;
    char enc[CRYPTO_PWHASH_MAX];
    assert_int_equal(crypto_password_verify("", "pw"), 0);
    assert_int_equal(crypto_password_verify("garbage", "pw"), 0);
    assert_int_equal(crypto_password_verify("$argon2id$v=19$m=19456,t=2,p=1$", "pw"), 0);
    assert_int_equal(crypto_password_verify("$argon2id$v=19$m=19456,t=2,p=1$AAAA$AAAA", "pw"), 0);
    assert_int_equal(crypto_password_verify(NULL, "pw"), 0);
    /* A downgrade to argon2i, or absurd costs, count as a mismatch even when
     * the rest of the string is well formed. */
    assert_int_equal(crypto_password_hash("pw", enc), 0);
    char downgraded[CRYPTO_PWHASH_MAX + 8];
    snprintf(downgraded, sizeof(downgraded), "$argon2i$%s", enc + 10);
    assert_int_equal(crypto_password_verify(downgraded, "pw"), 0);
    char huge[CRYPTO_PWHASH_MAX + 8];
    const char *rest = strstr(enc, ",t=");
    assert_non_null(rest);
    snprintf(huge, sizeof(huge), "$argon2id$v=19$m=4194304%s", rest);
    assert_int_equal(crypto_password_verify(huge, "pw"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_known_answers),
        cmocka_unit_test(test_sha256_parts),
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_aead_round_trip),
        cmocka_unit_test(test_aead_empty),
        cmocka_unit_test(test_aead_tamper),
        cmocka_unit_test(test_password),
        cmocka_unit_test(test_password_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
