/* b64url.c - strict, table-driven base64url without padding (RFC 4648 section 5,
 * as used by RFC 7515). It is on the token hot path: no allocation, one table
 * lookup per character, four characters per loop step. */
#include "jwt/b64url.h"

#include <stdint.h>

static const char b64url_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Value of each byte in the alphabet, or BAD (high bit set) for every other
 * byte: '=', '+', '/', whitespace, NUL and non-ASCII are all rejected. */
/* clang-format off */
#define BAD 0x80
#define ROW_BAD BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD
static const uint8_t b64url_value[256] = {
    ROW_BAD, /* 0x00 */
    ROW_BAD, /* 0x10 */
    /* 0x20: ' ' ... '/'; '-' (0x2d) = 62 */
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, 62, BAD, BAD,
    /* 0x30: '0'..'9' = 52..61 */
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, BAD, BAD, BAD, BAD, BAD, BAD,
    /* 0x40: 'A'..'O' = 0..14 */
    BAD, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    /* 0x50: 'P'..'Z' = 15..25; '_' (0x5f) = 63 */
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, BAD, BAD, BAD, BAD, 63,
    /* 0x60: 'a'..'o' = 26..40 */
    BAD, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    /* 0x70: 'p'..'z' = 41..51 */
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, BAD, BAD, BAD, BAD, BAD,
    ROW_BAD, ROW_BAD, ROW_BAD, ROW_BAD, ROW_BAD, ROW_BAD, ROW_BAD, ROW_BAD, /* 0x80-0xff */
};
#undef ROW_BAD
/* clang-format on */

size_t b64url_encoded_len(size_t n)
{
    return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

size_t b64url_encode(const void *in, size_t n, char *out)
{
    const unsigned char *p = in;
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        o[0] = b64url_alphabet[v >> 18];
        o[1] = b64url_alphabet[(v >> 12) & 63];
        o[2] = b64url_alphabet[(v >> 6) & 63];
        o[3] = b64url_alphabet[v & 63];
        o += 4;
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        o[0] = b64url_alphabet[v >> 18];
        o[1] = b64url_alphabet[(v >> 12) & 63];
        o += 2;
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        o[0] = b64url_alphabet[v >> 18];
        o[1] = b64url_alphabet[(v >> 12) & 63];
        o[2] = b64url_alphabet[(v >> 6) & 63];
        o += 3;
    }
    *o = '\0';
    return (size_t)(o - out);
}

/* Decodes the 2 or 3 characters left after the last full quantum. Unused
 * low bits of the last character must be zero, so each byte string has
 * exactly one accepted encoding. Returns bytes written, or -1. */
static int b64url_decode_tail(const unsigned char *in, size_t rem, unsigned char *out)
{
    uint32_t a = b64url_value[in[0]], b = b64url_value[in[1]];
    if (rem == 2) {
        if (((a | b) & BAD) || (b & 0x0f))
            return -1;
        out[0] = (unsigned char)(a << 2 | b >> 4);
        return 1;
    }
    uint32_t c = b64url_value[in[2]];
    if (((a | b | c) & BAD) || (c & 0x03))
        return -1;
    out[0] = (unsigned char)(a << 2 | b >> 4);
    out[1] = (unsigned char)((b & 0x0f) << 4 | c >> 2);
    return 2;
}

int b64url_decode(const char *in, size_t n, unsigned char *out, size_t *outlen)
{
    const unsigned char *p = (const unsigned char *)in;
    unsigned char *o = out;
    size_t i = 0;

    if (n % 4 == 1)
        return -1;
    for (; i + 4 <= n; i += 4) {
        uint32_t a = b64url_value[p[i]], b = b64url_value[p[i + 1]], c = b64url_value[p[i + 2]],
                 d = b64url_value[p[i + 3]];
        if ((a | b | c | d) & BAD)
            return -1;
        uint32_t v = a << 18 | b << 12 | c << 6 | d;
        o[0] = (unsigned char)(v >> 16);
        o[1] = (unsigned char)(v >> 8);
        o[2] = (unsigned char)v;
        o += 3;
    }
    if (i < n) {
        int t = b64url_decode_tail(p + i, n - i, o);
        if (t < 0)
            return -1;
        o += t;
    }
    *outlen = (size_t)(o - out);
    return 0;
}
