/* b64url.h - base64url without padding (RFC 7515 section 2). */
#ifndef TESSERA_JWT_B64URL_H
#define TESSERA_JWT_B64URL_H

#include <stddef.h>

/* Characters needed to encode n bytes, without the NUL. */
size_t b64url_encoded_len(size_t n);

/* Encodes in[n] into out (b64url_encoded_len(n) + 1 bytes), NUL-terminated.
 * Returns the encoded length. */
size_t b64url_encode(const void *in, size_t n, char *out);

/* Strict decode of in[n]: only [A-Za-z0-9_-], no '=' padding, no whitespace,
 * n % 4 != 1, and unused trailing bits must be zero (one encoding per value).
 * out must hold n * 3 / 4 + 1 bytes. Returns 0 and sets *outlen, or -1. */
int b64url_decode(const char *in, size_t n, unsigned char *out, size_t *outlen);

#endif
