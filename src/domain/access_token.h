/* access_token.h - the format of access token values.
 *
 * A value is a type prefix ("tse_" embed, "tsa_" admin) followed by 43
 * base64url characters: 256 random bits. Only the SHA-256 of the value is
 * stored; lists show its first ACCESS_TOKEN_PREFIX_LEN characters. */
#ifndef TESSERA_DOMAIN_ACCESS_TOKEN_H
#define TESSERA_DOMAIN_ACCESS_TOKEN_H

#include <stddef.h>

#include "core/err.h"

#define ACCESS_TOKEN_LEN 47        /* 4 + 43 */
#define ACCESS_TOKEN_PREFIX_LEN 12 /* "tse_" + 8 */

/* 1 for "embed" or "admin". */
int access_token_type_valid(const char *type);

/* A new value of type ("embed" | "admin"): value[ACCESS_TOKEN_LEN + 1] is a
 * secret (show it once, never log it), prefix[ACCESS_TOKEN_PREFIX_LEN + 1]
 * and hash_hex[65] may be stored. */
void access_token_generate(const char *type, char *value, char *prefix, char hash_hex[65]);

/* Extracts the token from an Authorization header value and hashes it.
 * header NULL = no header. Returns 0, or -1 with ERR_UNAUTHORIZED: missing,
 * blank, not Bearer, or not a Tessera access token. */
int access_token_from_header(const char *header, char hash_hex[65], err_t *e);

#endif
