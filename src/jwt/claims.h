/* claims.h - the session token's claims (DESIGN section 3), and the checks
 * on an external identity provider's token (token exchange). */
#ifndef TESSERA_JWT_CLAIMS_H
#define TESSERA_JWT_CLAIMS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

typedef struct {
    const char *id;
    const char *name;
} claims_group;

/* Borrowed pointers; NULL optional fields are omitted from the token. */
typedef struct {
    const char *iss, *aud, *sub, *jti;
    int64_t iat, nbf, exp;
    const char *org_id, *org_type;
    const char *user_email, *user_id, *user_name, *user_type;
    const char *rbac_role; /* platform users only, else NULL */
    const char *atid;      /* NULL for sessions from a sign-in (no access token) */
    const claims_group *groups;
    size_t ngroups;
    /* The request's metadata object as raw JSON text, copied byte for byte
     * under "metadata"; NULL = {} is not added, the claim is omitted. */
    const char *metadata_raw;
    size_t metadata_len;
} session_claims;

/* Appends the claims as one compact JSON object. Returns 0 or -1 (buffer full,
 * a required string is NULL, or metadata_raw is not exactly one JSON object);
 * on -1 out is left as it was. */
int claims_encode(const session_claims *c, buf_t *out);

typedef struct {
    const char *iss;   /* required exact match */
    const char *aud;   /* must equal "aud" or be an element of it */
    int64_t now;
    int64_t skew;      /* seconds of leeway for exp and nbf */
} claims_expect;

/* Checks a verified token's claims: iss, aud, exp (required, integer, > now - skew),
 * nbf (if present, <= now + skew), iat (integer), and that sub, jti and org_id
 * are non-empty strings. On failure returns -1 with ERR_UNAUTHORIZED, and sets
 * *expired = 1 when the failure is expiry (else 0). */
int claims_check(const json_t *claims, const claims_expect *x, int *expired, err_t *e);

/* What an external token (the subject_token of token exchange, verified
 * by jws_verify_external) must satisfy. Borrowed pointers. */
typedef struct {
    const char *iss;         /* required; exact, case-sensitive match */
    const char *aud;         /* NULL or "" = no audience check */
    const char *email_claim; /* NULL or "" = "email" */
    int64_t now;
    int64_t skew; /* seconds of leeway for exp, nbf and iat (negative = 0) */
} external_claims_expect;

/* Checks a verified external token's claims, in this order: "iss" a string
 * equal to x->iss; "aud" (when x->aud is set) a string equal to it or an
 * array of strings containing it; "exp" an integer > now - skew; "nbf", if
 * present, an integer <= now + skew; "iat", if present, an integer
 * <= now + skew; the email claim a non-empty string; "email_verified", if
 * present, true or the string "true" (Cognito) - false, "false" and any
 * other value are refused.
 *
 * On success returns 0 and sets *email (may be NULL) to the email, borrowed
 * from claims. On failure returns -1 with *e set (ERR_UNAUTHORIZED, a fixed
 * detail naming the check, no claim value; ERR_INTERNAL when x or x->iss is
 * missing) and *expired (may be NULL) = 1 when the failure is expiry, else
 * 0; *email is NULL. */
int external_claims_check(const json_t *claims, const external_claims_expect *x, const char **email,
                          int *expired, err_t *e);

#endif
