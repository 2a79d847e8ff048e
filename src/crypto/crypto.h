/* crypto.h - the one interface over OpenSSL and libargon2.
 *
 * Nothing outside src/crypto and src/jwt includes OpenSSL headers. */
#ifndef TESSERA_CRYPTO_CRYPTO_H
#define TESSERA_CRYPTO_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_AEAD_KEY_LEN 32
/* Sealed box layout: 12-byte nonce || ciphertext || 16-byte tag. */
#define CRYPTO_AEAD_OVERHEAD (12 + 16)

/* Fills buf with n cryptographically random bytes; aborts if the CSPRNG fails
 * (the process must not continue issuing credentials without randomness). */
void crypto_random(void *buf, size_t n);

void crypto_sha256(const void *data, size_t n, unsigned char out[CRYPTO_SHA256_LEN]);
/* SHA-256 over a || b (no separator added). */
void crypto_sha256_parts(const void *a, size_t an, const void *b, size_t bn,
                         unsigned char out[CRYPTO_SHA256_LEN]);
/* Lower-case hex of SHA-256(data): out gets 64 chars + NUL. */
void crypto_sha256_hex(const void *data, size_t n, char out[65]);

void crypto_hmac_sha256(const void *key, size_t klen, const void *data, size_t n,
                        unsigned char out[CRYPTO_SHA256_LEN]);

/* 1 when a[n] == b[n], in time independent of the contents. */
int crypto_equal(const void *a, const void *b, size_t n);

/* AES-256-GCM. seal: out must hold n + CRYPTO_AEAD_OVERHEAD bytes; returns 0
 * (-1 only when n > INT_MAX - CRYPTO_AEAD_OVERHEAD or aadlen > INT_MAX; it aborts
 * if OpenSSL fails, which happens only when out of memory).
 * open: in is a sealed box of n bytes; out must hold n - CRYPTO_AEAD_OVERHEAD;
 * returns 0, or -1 if the box was tampered with or the key/aad is wrong. */
int crypto_aead_seal(const unsigned char key[CRYPTO_AEAD_KEY_LEN], const void *aad, size_t aadlen,
                     const void *in, size_t n, unsigned char *out);
int crypto_aead_open(const unsigned char key[CRYPTO_AEAD_KEY_LEN], const void *aad, size_t aadlen,
                     const unsigned char *in, size_t n, unsigned char *out);

/* argon2id password hashing (encoded PHC string, at most 128 chars + NUL).
 * Parameters: docs/internals/CRYPTO.md. Returns 0 or -1. */
#define CRYPTO_PWHASH_MAX 128
int crypto_password_hash(const char *password, char out[CRYPTO_PWHASH_MAX]);
/* 1 when password matches the encoded hash, 0 otherwise (also on bad hash). */
int crypto_password_verify(const char *encoded, const char *password);

#endif
