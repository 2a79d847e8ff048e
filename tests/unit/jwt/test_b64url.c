/* test_b64url.c - strict base64url (RFC 4648 section 5, no padding). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "jwt/b64url.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Decodes s (NUL-terminated); returns 0/-1 and the bytes in out. */
static int dec(const char *s, unsigned char *out, size_t *outlen)
{
    return b64url_decode(s, strlen(s), out, outlen);
}

static void assert_codec(const char *plain, const char *enc)
{
    char buf[64];
    unsigned char back[64];
    size_t n = strlen(plain), m = 0;
    assert_int_equal(b64url_encoded_len(n), strlen(enc));
    assert_int_equal(b64url_encode(plain, n, buf), strlen(enc));
    assert_string_equal(buf, enc);
    assert_int_equal(dec(enc, back, &m), 0);
    assert_int_equal(m, n);
    assert_memory_equal(back, plain, n);
}

/* RFC 4648 section 10, with the padding removed. */
static void test_rfc4648_vectors(void **state)
{
    (void)state;
    assert_codec("", "");
    assert_codec("f", "Zg");
    assert_codec("fo", "Zm8");
    assert_codec("foo", "Zm9v");
    assert_codec("foob", "Zm9vYg");
    assert_codec("fooba", "Zm9vYmE");
    assert_codec("foobar", "Zm9vYmFy");
}

/* The URL-safe alphabet: 62 is '-', 63 is '_'. */
static void test_alphabet(void **state)
{
    (void)state;
    unsigned char raw[48];
    char enc[65];
    size_t n = 0;
    assert_int_equal(dec(alphabet, raw, &n), 0);
    assert_int_equal(n, 48);
    assert_int_equal(b64url_encode(raw, n, enc), 64);
    assert_string_equal(enc, alphabet);

    const unsigned char hi[2] = {0xfb, 0xff};
    assert_int_equal(b64url_encode(hi, 2, enc), 3);
    assert_string_equal(enc, "-_8");
}

static void assert_rejected(const char *s)
{
    unsigned char out[128];
    size_t n = 12345;
    assert_int_equal(dec(s, out, &n), -1);
}

static void test_rejects_padding(void **state)
{
    (void)state;
    assert_rejected("Zg==");
    assert_rejected("Zg=");
    assert_rejected("Zm8=");
    assert_rejected("Zm9v====");
    assert_rejected("====");
    assert_rejected("Z=9v");
}

static void test_rejects_whitespace(void **state)
{
    (void)state;
    assert_rejected(" Zm9v");
    assert_rejected("Zm9v ");
    assert_rejected("Zm 9v");
    assert_rejected("Zm9v\n");
    assert_rejected("Zm\r\n9v");
    assert_rejected("\tZm9v");
}

static void test_rejects_standard_alphabet(void **state)
{
    (void)state;
    assert_rejected("-_8+");
    assert_rejected("+_8");
    assert_rejected("-/8");
    assert_rejected("ab/c");
}

/* Every byte outside the alphabet is refused in every position of a quantum
 * and of a partial tail; every byte inside is accepted. */
static void test_every_byte_value(void **state)
{
    (void)state;
    unsigned char out[8];
    size_t n;
    for (int c = 0; c < 256; c++) {
        int valid = c != 0 && strchr(alphabet, c) != NULL;
        for (int pos = 0; pos < 4; pos++) {
            char s[4] = {'A', 'A', 'A', 'A'};
            s[pos] = (char)c;
            assert_int_equal(b64url_decode(s, 4, out, &n), valid ? 0 : -1);
        }
        for (int pos = 0; pos < 2; pos++) {
            char s[2] = {'A', 'A'};
            s[pos] = (char)c;
            /* Position 1 of a 2-char tail must have its low 4 bits zero. */
            int ok = valid && (pos == 0 || (strchr(alphabet, c) - alphabet) % 16 == 0);
            assert_int_equal(b64url_decode(s, 2, out, &n), ok ? 0 : -1);
        }
    }
}

static void test_rejects_bad_length(void **state)
{
    (void)state;
    assert_rejected("Z");
    assert_rejected("Zm9vY");
    assert_rejected("Zm9vYmFyZ");
}

/* Unused trailing bits must be zero: one encoding per byte string. */
static void test_rejects_nonzero_trailing_bits(void **state)
{
    (void)state;
    unsigned char out[8];
    size_t n;
    assert_int_equal(dec("Zg", out, &n), 0);
    assert_rejected("Zh"); /* 'f' with a low bit set in the unused part */
    assert_rejected("Zv");
    assert_int_equal(dec("Zm8", out, &n), 0);
    assert_rejected("Zm9"); /* "fo" with its unused 2 bits non-zero */
    assert_rejected("Zm-");
    assert_int_equal(dec("AB", out, &n), -1); /* Wycheproof ModifiedUnusedBits */
    assert_int_equal(dec("AA", out, &n), 0);
}

static void test_rejects_embedded_nul(void **state)
{
    (void)state;
    unsigned char out[8];
    size_t n;
    assert_int_equal(b64url_decode("Zm\0v", 4, out, &n), -1);
    assert_int_equal(b64url_decode("Zm9v\0\0\0\0", 8, out, &n), -1);
}

/* Reference encoder, one bit at a time, to cross-check the table code. */
static void ref_encode(const unsigned char *in, size_t n, char *out)
{
    size_t bits = n * 8, o = 0;
    for (size_t i = 0; i < bits; i += 6) {
        unsigned v = 0;
        for (size_t j = i; j < i + 6; j++) {
            unsigned bit = j < bits ? (in[j / 8] >> (7 - j % 8)) & 1 : 0;
            v = v << 1 | bit;
        }
        out[o++] = alphabet[v];
    }
    out[o] = '\0';
}

static void test_round_trip_random(void **state)
{
    (void)state;
    unsigned char in[100], back[100];
    char enc[200], ref[200];
    for (int round = 0; round < 20; round++) {
        for (size_t n = 0; n <= 100; n++) {
            size_t m = 0;
            crypto_random(in, n);
            assert_int_equal(b64url_encode(in, n, enc), b64url_encoded_len(n));
            ref_encode(in, n, ref);
            assert_string_equal(enc, ref);
            assert_int_equal(dec(enc, back, &m), 0);
            assert_int_equal(m, n);
            assert_memory_equal(back, in, n);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_alphabet),
        cmocka_unit_test(test_rejects_padding),
        cmocka_unit_test(test_rejects_whitespace),
        cmocka_unit_test(test_rejects_standard_alphabet),
        cmocka_unit_test(test_every_byte_value),
        cmocka_unit_test(test_rejects_bad_length),
        cmocka_unit_test(test_rejects_nonzero_trailing_bits),
        cmocka_unit_test(test_rejects_embedded_nul),
        cmocka_unit_test(test_round_trip_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
