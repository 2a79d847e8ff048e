/* fuzz_b64url.c - src/jwt/b64url.h, the strict base64url every JWS segment
 * goes through.
 *
 * Beyond "no crash, no out-of-bounds access" (buffers are allocated at
 * exactly the documented sizes, so ASan sees any overrun):
 * - decode(input) succeeds only for the one canonical encoding: when it
 *   succeeds, encode(decoded) is the input byte for byte, and the decoded
 *   length is exactly 3/4 of the input's (rounded down);
 * - an input containing a byte outside [A-Za-z0-9_-] never decodes;
 * - encode(input) is b64url_encoded_len(n) characters of the alphabet,
 *   and decodes back to the input. */
#include "fuzz_util.h"
#include "jwt/b64url.h"

static int in_alphabet(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static int all_in_alphabet(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!in_alphabet(s[i]))
            return 0;
    return 1;
}

/* The input as base64url text. */
static void check_decode(const uint8_t *data, size_t size)
{
    unsigned char *out = malloc(size * 3 / 4 + 1); /* the documented size */
    size_t outlen = 0;
    FUZZ_CHECK(out != NULL);
    if (b64url_decode((const char *)data, size, out, &outlen) == 0) {
        FUZZ_CHECK(size % 4 != 1 && all_in_alphabet(data, size));
        FUZZ_CHECK(outlen == size / 4 * 3 + (size % 4 ? size % 4 - 1 : 0));
        FUZZ_CHECK(b64url_encoded_len(outlen) == size);
        char *again = malloc(b64url_encoded_len(outlen) + 1);
        FUZZ_CHECK(again != NULL);
        FUZZ_CHECK(b64url_encode(out, outlen, again) == size);
        FUZZ_CHECK(memcmp(again, data, size) == 0 && again[size] == '\0');
        free(again);
    }
    free(out);
}

/* The input as bytes to encode. */
static void check_encode(const uint8_t *data, size_t size)
{
    size_t n = b64url_encoded_len(size);
    char *enc = malloc(n + 1);
    unsigned char *back = malloc(n * 3 / 4 + 1);
    size_t backlen = 0;
    FUZZ_CHECK(enc != NULL && back != NULL);
    FUZZ_CHECK(b64url_encode(data, size, enc) == n && enc[n] == '\0');
    FUZZ_CHECK(all_in_alphabet((const uint8_t *)enc, n));
    FUZZ_CHECK(b64url_decode(enc, n, back, &backlen) == 0);
    FUZZ_CHECK(backlen == size && (size == 0 || memcmp(back, data, size) == 0));
    free(back);
    free(enc);
}

FUZZ_DEFAULT_INITIALIZE()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_decode(data, size);
    check_encode(data, size);
    return 0;
}
