/* jws_internal.h - compact-JWS parsing steps shared by jws.c (session
 * tokens) and jws_external.c (identity providers' tokens); not for other
 * modules. Each step reports only pass/fail: the callers word the error
 * details, so session and external tokens keep their own vocabulary. */
#ifndef TESSERA_JWT_JWS_INTERNAL_H
#define TESSERA_JWT_JWS_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#define JWS_HEADER_B64_MAX 1024 /* longest protected header accepted, base64url */
#define JWS_HEADER_DEPTH 2      /* deeper headers are refused by the parser */

/* One part of a compact JWS; p points into the caller's token. */
typedef struct {
    const char *p;
    size_t n;
} jws_segment;

/* Splits header.payload.signature: exactly two dots, no empty part.
 * Returns 0 or -1. */
int jws__split(const char *compact, size_t len, jws_segment seg[3]);

/* Strictly base64url-decodes a header of at most JWS_HEADER_B64_MAX
 * characters and parses it with json_parse_strict (duplicate members
 * refused) into an object. Returns a new reference (caller decrefs) or NULL
 * with *malformed = 1 when the base64url was refused, 0 when the JSON was. */
json_t *jws__header_decode(jws_segment h, int *malformed);

/* The first of names[n] present as a member of hdr, or NULL. */
const char *jws__first_member(const json_t *hdr, const char *const *names, size_t n);

/* Strictly decodes a payload segment into a new buffer (caller frees;
 * *outlen bytes). NULL when the base64url is refused. */
unsigned char *jws__payload_decode(jws_segment p, size_t *outlen);

#endif
