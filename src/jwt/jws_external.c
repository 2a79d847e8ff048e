/* jws_external.c - verification of identity providers' tokens (the
 * subject_token of token exchange) against their JWKS.
 *
 * Checks, in order, stopping at the first failure (ERR_UNAUTHORIZED):
 * length and shape; strict header (base64url, strict JSON object); no
 * header that could carry or point to a key or demand an extension we do
 * not implement; "alg" allowed; "typ" a JWT type; "kid" known and the
 * alg usable with that key; strict base64url payload and signature; the
 * signature; the payload a strict JSON object. The thumbprint headers
 * "x5t" and "x5t#S256" are tolerated (as strings) but never used: Entra ID
 * v1 tokens carry "x5t" next to "kid", and a thumbprint cannot inject a
 * key. docs/internals/CRYPTO.md records these decisions. */
#include "jwt/jws_external.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "jwt/b64url.h"
#include "jwt/jws_internal.h"

#define EXT_SIG_B64_MAX 1366 /* an 8192-bit RSA signature, base64url */

/* Headers that could let the token choose or fetch its key, or make us
 * process an extension we do not implement (RFC 7515 4.1, RFC 7797,
 * RFC 8725 3.10). */
static const char *const ext_forbidden_headers[] = {
    "jwk", "jku", "x5u", "x5c", "crit", "b64",
};

/* Thumbprint hints: allowed as strings, ignored (the kid picks the key). */
static const char *const ext_hint_headers[] = {"x5t", "x5t#S256"};

/* Registered JOSE signature algorithm names (RFC 7518 3.1, RFC 8037, RFC
 * 8812): a refused "alg" equal to one of these is named in the detail,
 * copied from here rather than from the token. */
static const char *const jose_alg_names[] = {
    "none",  "HS256", "HS384", "HS512", "RS256", "RS384", "RS512",  "ES256",
    "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA", "ES256K",
};

/* "subject token algorithm X is not allowed", X only from jose_alg_names. */
static int refuse_alg(const char *name, err_t *e)
{
    for (size_t i = 0; i < sizeof(jose_alg_names) / sizeof(jose_alg_names[0]); i++)
        if (strcmp(name, jose_alg_names[i]) == 0)
            return err_set(e, ERR_UNAUTHORIZED, "subject token algorithm %s is not allowed",
                           jose_alg_names[i]);
    return err_set(e, ERR_UNAUTHORIZED, "subject token algorithm is not allowed");
}

/* The header's "alg" if it is one of allowed[n]; else 0 with *e set. */
static jwt_alg header_alg(const json_t *hdr, const jwt_alg *allowed, size_t n, err_t *e)
{
    const json_t *alg = json_object_get(hdr, "alg");
    if (!json_is_string(alg)) {
        err_set(e, ERR_UNAUTHORIZED, "subject token has no algorithm");
        return (jwt_alg)0;
    }
    jwt_alg a = jwt_alg_from_name(json_string_value(alg));
    for (size_t i = 0; a != 0 && i < n; i++)
        if (allowed[i] == a)
            return a;
    refuse_alg(json_string_value(alg), e);
    return (jwt_alg)0;
}

/* "typ" (RFC 7515 4.1.9) absent, or a media type naming a JWT: "JWT" or
 * "at+jwt" (RFC 9068), optionally with the "application/" prefix, compared
 * case-insensitively as media types are. */
static int typ_ok(const json_t *typ)
{
    static const char prefix[] = "application/";
    if (typ == NULL)
        return 1;
    if (!json_is_string(typ))
        return 0;
    const char *t = json_string_value(typ);
    if (strncasecmp(t, prefix, sizeof(prefix) - 1) == 0)
        t += sizeof(prefix) - 1;
    return strcasecmp(t, "jwt") == 0 || strcasecmp(t, "at+jwt") == 0;
}

/* The parameters that never depend on the key set: forbidden and hint
 * headers, "typ". Returns 0 or -1 with *e set. */
static int header_rules(const json_t *hdr, err_t *e)
{
    const char *bad =
        jws__first_member(hdr, ext_forbidden_headers,
                          sizeof(ext_forbidden_headers) / sizeof(ext_forbidden_headers[0]));
    if (bad != NULL)
        return err_set(e, ERR_UNAUTHORIZED, "subject token has the forbidden header \"%s\"", bad);
    for (size_t i = 0; i < sizeof(ext_hint_headers) / sizeof(ext_hint_headers[0]); i++) {
        const json_t *v = json_object_get(hdr, ext_hint_headers[i]);
        if (v != NULL && !json_is_string(v))
            return err_set(e, ERR_UNAUTHORIZED, "subject token header \"%s\" is not a string",
                           ext_hint_headers[i]);
    }
    if (!typ_ok(json_object_get(hdr, "typ")))
        return err_set(e, ERR_UNAUTHORIZED, "subject token type is not JWT or at+jwt");
    return 0;
}

/* Finds the key for the header's kid and alg in set. Returns the borrowed
 * key, or NULL with *e set (and *unknown_kid = 1 for a kid not in set). */
static const jwt_key *header_key(const json_t *hdr, const jwks_set *set, jwt_alg alg,
                                 int *unknown_kid, err_t *e)
{
    const json_t *kidv = json_object_get(hdr, "kid");
    if (kidv != NULL && !json_is_string(kidv)) {
        err_set(e, ERR_UNAUTHORIZED, "subject token key id is not a string");
        return NULL;
    }
    const char *kid = json_string_value(kidv); /* NULL when absent */
    if (!jwks_has_kid(set, kid)) {
        if (kid == NULL) {
            err_set(e, ERR_UNAUTHORIZED, "subject token has no key id");
            return NULL;
        }
        *unknown_kid = 1;
        err_set(e, ERR_UNAUTHORIZED, "subject token key id is unknown");
        return NULL;
    }
    const jwt_key *k = jwks_find(set, kid, alg);
    if (k == NULL)
        err_set(e, ERR_UNAUTHORIZED, "subject token algorithm is not usable with its key");
    return k;
}

/* Header steps: decode, rules, alg, key. Returns the key or NULL. */
static const jwt_key *verify_header(jws_segment h, const jwks_set *set, const jwt_alg *allowed,
                                    size_t nallowed, int *unknown_kid, err_t *e)
{
    int malformed;
    const jwt_key *k = NULL;
    json_t *hdr = jws__header_decode(h, &malformed);
    if (hdr == NULL) {
        err_set(e, ERR_UNAUTHORIZED,
                malformed ? "subject token is malformed"
                          : "subject token header is not a valid JSON object");
        return NULL;
    }
    if (header_rules(hdr, e) == 0) {
        jwt_alg alg = header_alg(hdr, allowed, nallowed, e);
        if (alg != 0)
            k = header_key(hdr, set, alg, unknown_kid, e);
    }
    json_decref(hdr);
    return k;
}

/* 1 when allowed[n] names at least one known algorithm. */
static int allowed_ok(const jwt_alg *allowed, size_t n)
{
    for (size_t i = 0; allowed != NULL && i < n; i++)
        if (allowed[i] >= JWT_ALG_ES256 && allowed[i] <= JWT_ALG_MAX)
            return 1;
    return 0;
}

json_t *jws_verify_external(const char *compact, size_t len, const jwks_set *set,
                            const jwt_alg *allowed, size_t nallowed, int *unknown_kid, err_t *e)
{
    jws_segment seg[3];
    json_t *claims = NULL, *ret = NULL;
    const jwt_key *k;              /* borrowed from set */
    unsigned char *payload = NULL; /* owned; freed at out */
    unsigned char sig[EXT_SIG_B64_MAX * 3 / 4 + 1];
    size_t siglen = 0, plen = 0;
    int unknown = 0;
    err_t pe;

    if (set == NULL || !allowed_ok(allowed, nallowed)) {
        err_set(e, ERR_INTERNAL, "subject token verification needs a key set and algorithms");
        goto out;
    }
    if (compact == NULL || len > JWS_MAX_LEN) {
        err_set(e, ERR_UNAUTHORIZED, "subject token is missing or too long");
        goto out;
    }
    if (jws__split(compact, len, seg) != 0) {
        err_set(e, ERR_UNAUTHORIZED, "subject token is malformed");
        goto out;
    }
    k = verify_header(seg[0], set, allowed, nallowed, &unknown, e);
    if (k == NULL)
        goto out;
    /* Cheap strict decoding of the rest before the costly signature check. */
    if (seg[2].n > EXT_SIG_B64_MAX || b64url_decode(seg[2].p, seg[2].n, sig, &siglen) != 0 ||
        (payload = jws__payload_decode(seg[1], &plen)) == NULL) {
        err_set(e, ERR_UNAUTHORIZED, "subject token is malformed");
        goto out;
    }
    /* The signing input is the ASCII text "header.payload". */
    if (!jws_verify_signature(k, compact, seg[0].n + 1 + seg[1].n, sig, siglen)) {
        err_set(e, ERR_UNAUTHORIZED, "subject token signature is invalid");
        goto out;
    }
    claims = json_parse_strict((const char *)payload, plen, JSON_MAX_DEPTH, 0, &pe);
    if (claims == NULL || !json_is_object(claims)) {
        err_set(e, ERR_UNAUTHORIZED, "subject token payload is not a valid JSON object");
        goto out;
    }
    ret = claims;
    claims = NULL;
out:
    if (unknown_kid != NULL)
        *unknown_kid = unknown;
    json_decref(claims);
    free(payload);
    return ret;
}
