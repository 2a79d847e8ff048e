/* crypto.c - hashes, HMAC, AEAD, random and password hashing over OpenSSL 3
 * and libargon2. Parameters and reasons: docs/internals/CRYPTO.md.
 *
 * Out-of-memory policy (docs/internals/MEMORY.md): OpenSSL calls that can
 * only fail when an allocation fails (digests, GCM sealing with valid
 * arguments, the CSPRNG) abort the process instead of returning a result the
 * caller might not check. Everything that depends on input (opening a box,
 * verifying a password) reports failure normally. */
#include "crypto/crypto.h"


#include <argon2.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/hex.h"
#include "core/log.h"

#define AEAD_NONCE_LEN 12
#define AEAD_TAG_LEN 16

/* argon2id parameters (OWASP's first recommendation; see CRYPTO.md). */
#define PWHASH_T_COST 2
#define PWHASH_M_COST_KIB 19456
#define PWHASH_PARALLELISM 1
#define PWHASH_SALT_LEN 16
#define PWHASH_HASH_LEN 32
/* Largest memory cost accepted from a stored hash, so a tampered row cannot
 * make one verification allocate gigabytes. */
#define PWHASH_M_COST_MAX_KIB (256 * 1024)
#define PWHASH_T_COST_MAX 16
#define PWHASH_PARALLELISM_MAX 8

static void crypto__fatal(const char *what)
{
    log_msg(LOG_ERROR, "crypto failure, aborting", "operation", what, NULL);
    abort();
}

/* SHA-256 fetched once: EVP_sha256() would be fetched again on every use. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *crypto__sha256(void)
{
    pthread_once(&sha256_once, sha256_fetch);
    if (sha256_md == NULL)
        crypto__fatal("fetch SHA-256");
    return sha256_md;
}

void crypto_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        int chunk = n > INT_MAX ? INT_MAX : (int)n;
        if (RAND_bytes(p, chunk) != 1)
            crypto__fatal("RAND_bytes");
        p += chunk;
        n -= (size_t)chunk;
    }
}

void crypto_sha256(const void *data, size_t n, unsigned char out[CRYPTO_SHA256_LEN])
{
    crypto_sha256_parts(data, n, NULL, 0, out);
}

void crypto_sha256_parts(const void *a, size_t an, const void *b, size_t bn,
                         unsigned char out[CRYPTO_SHA256_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, crypto__sha256(), NULL) != 1 ||
        (an > 0 && EVP_DigestUpdate(ctx, a, an) != 1) ||
        (bn > 0 && EVP_DigestUpdate(ctx, b, bn) != 1) || EVP_DigestFinal_ex(ctx, out, NULL) != 1)
        crypto__fatal("SHA-256");
    EVP_MD_CTX_free(ctx);
}

void crypto_sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char md[CRYPTO_SHA256_LEN];
    crypto_sha256(data, n, md);
    hex_encode(md, sizeof(md), out);
}

void crypto_hmac_sha256(const void *key, size_t klen, const void *data, size_t n,
                        unsigned char out[CRYPTO_SHA256_LEN])
{
    static const unsigned char empty[1];
    unsigned int outlen = 0;
    if (klen > INT_MAX)
        crypto__fatal("HMAC key too long");
    /* OpenSSL refuses a NULL key even with length 0. */
    if (HMAC(crypto__sha256(), key ? key : empty, (int)klen, data ? data : empty, n, out,
             &outlen) == NULL ||
        outlen != CRYPTO_SHA256_LEN)
        crypto__fatal("HMAC-SHA256");
}

int crypto_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

int crypto_aead_seal(const unsigned char key[CRYPTO_AEAD_KEY_LEN], const void *aad, size_t aadlen,
                     const void *in, size_t n, unsigned char *out)
{
    int rc = -1, len = 0;
    unsigned char *nonce = out, *ct = out + AEAD_NONCE_LEN, *tag = ct + n;
    EVP_CIPHER_CTX *ctx = NULL;

    if (n > INT_MAX - CRYPTO_AEAD_OVERHEAD || aadlen > INT_MAX)
        goto out;
    crypto_random(nonce, AEAD_NONCE_LEN);
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
        (aadlen > 0 && EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aadlen) != 1) ||
        (n > 0 && EVP_EncryptUpdate(ctx, ct, &len, in, (int)n) != 1) ||
        EVP_EncryptFinal_ex(ctx, ct + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, AEAD_TAG_LEN, tag) != 1)
        crypto__fatal("AES-256-GCM seal");
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

int crypto_aead_open(const unsigned char key[CRYPTO_AEAD_KEY_LEN], const void *aad, size_t aadlen,
                     const unsigned char *in, size_t n, unsigned char *out)
{
    int rc = -1, len = 0;
    EVP_CIPHER_CTX *ctx = NULL;
    const unsigned char *nonce = in, *ct = in + AEAD_NONCE_LEN;
    size_t ctlen = n - CRYPTO_AEAD_OVERHEAD; /* checked below before use */

    if (n < CRYPTO_AEAD_OVERHEAD || n > INT_MAX || aadlen > INT_MAX)
        goto out;
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL || EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1)
        crypto__fatal("AES-256-GCM open");
    if ((aadlen > 0 && EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)aadlen) != 1) ||
        (ctlen > 0 && EVP_DecryptUpdate(ctx, out, &len, ct, (int)ctlen) != 1) ||
        /* The tag is only read; the cast drops const for OpenSSL's API. */
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AEAD_TAG_LEN,
                            (unsigned char *)(ct + ctlen)) != 1 ||
        EVP_DecryptFinal_ex(ctx, out + len, &len) != 1) {
        /* Never hand back plaintext that failed authentication. */
        OPENSSL_cleanse(out, ctlen);
        goto out;
    }
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

int crypto_password_hash(const char *password, char out[CRYPTO_PWHASH_MAX])
{
    unsigned char salt[PWHASH_SALT_LEN];
    size_t pwlen = strlen(password);
    if (pwlen > UINT32_MAX)
        return -1;
    crypto_random(salt, sizeof(salt));
    int rc =
        argon2id_hash_encoded(PWHASH_T_COST, PWHASH_M_COST_KIB, PWHASH_PARALLELISM, password, pwlen,
                              salt, sizeof(salt), PWHASH_HASH_LEN, out, CRYPTO_PWHASH_MAX);
    return rc == ARGON2_OK ? 0 : -1;
}

/* Reads the decimal after `key` (e.g. "m=") in s; 0 when absent or silly. */
static unsigned long pwhash_param(const char *s, const char *key)
{
    const char *p = strstr(s, key);
    unsigned long v = 0;
    if (p == NULL)
        return 0;
    for (p += strlen(key); *p >= '0' && *p <= '9'; p++) {
        if (v > 100000000UL)
            return 0;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    return v;
}

/* Only argon2id hashes with bounded costs are verified: a stored "argon2i"
 * or "argon2d" string (a downgrade) or absurd costs count as a mismatch. */
static int pwhash_encoded_acceptable(const char *encoded)
{
    static const char prefix[] = "$argon2id$v=19$";
    if (strnlen(encoded, CRYPTO_PWHASH_MAX) >= CRYPTO_PWHASH_MAX ||
        strncmp(encoded, prefix, sizeof(prefix) - 1) != 0)
        return 0;
    const char *params = encoded + sizeof(prefix) - 1;
    unsigned long m = pwhash_param(params, "m="), t = pwhash_param(params, "t="),
                  p = pwhash_param(params, "p=");
    return m > 0 && m <= PWHASH_M_COST_MAX_KIB && t > 0 && t <= PWHASH_T_COST_MAX && p > 0 &&
           p <= PWHASH_PARALLELISM_MAX;
}

int crypto_password_verify(const char *encoded, const char *password)
{
    if (encoded == NULL || password == NULL || !pwhash_encoded_acceptable(encoded))
        return 0;
    size_t pwlen = strlen(password);
    if (pwlen > UINT32_MAX)
        return 0;
    return argon2id_verify(encoded, password, pwlen) == ARGON2_OK;
}
