/* fuzz_token_request.c - the body of POST /api/v1/public/token:
 * token_request_parse (src/domain/token_request.h), then what issuance does
 * with a parsed request without needing a directory: the session claims
 * (claims_encode, as sessions_issue builds them) and the session.denied
 * audit event (sessions_denied_audit).
 *
 * The input is the raw body. Oracles beyond "no crash, no leak":
 * - a refusal is ERR_INVALID_REQUEST with a detail;
 * - an accepted request agrees with the body read independently: email is
 *   its own normal form (email_normalize is idempotent on it), name has no
 *   control characters and at most 200 bytes, groupIds are distinct
 *   lower-case UUIDs and exactly the lower-cased set of the body's ones,
 *   metadata_raw lies inside the body and parses to the body's metadata
 *   object, correlation_id is metadata.correlationId or .externalUserId,
 *   subject_token equals the body's and has a known type;
 * - "every token issued can be verified": the claims built from an accepted
 *   request encode, parse back with json_parse_strict exactly as jws_verify
 *   parses a payload, and carry the same email, name and metadata;
 * - the audit detail of a refusal is a JSON object, with or without the
 *   parsed request. */
#include <jansson.h>
#include <strings.h>

#include "core/json.h"
#include "core/uuid.h"
#include "domain/email.h"
#include "domain/sessions.h"
#include "domain/token_request.h"
#include "fuzz_util.h"
#include "jwt/claims.h"

#define ISSUER "https://sso.example.com"

static const json_t *member(const json_t *root, const char *key)
{
    const json_t *v = json_object_get(root, key);
    return json_is_null(v) ? NULL : v;
}

static int string_is(const json_t *v, const char *s, size_t n)
{
    return json_is_string(v) && json_string_length(v) == n &&
           memcmp(json_string_value(v), s, n) == 0;
}

static void check_email(const token_request *req)
{
    char again[STORE_EMAIL_MAX];
    err_t e;
    size_t n = strlen(req->email);
    FUZZ_CHECK(n >= 3 && n <= 254);
    FUZZ_CHECK(email_normalize(req->email, n, again, &e) == 0 && strcmp(again, req->email) == 0);
}

static void check_name(const json_t *root, const token_request *req)
{
    size_t n = strlen(req->name);
    FUZZ_CHECK(n <= TOKEN_REQ_MAX_NAME);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK((unsigned char)req->name[i] >= 0x20 && req->name[i] != 0x7f);
    const json_t *v = member(root, "name");
    FUZZ_CHECK(v == NULL ? n == 0 : string_is(v, req->name, n));
}

/* 1 when id, lower-cased, is one of the parsed group ids. */
static int group_listed(const token_request *req, const char *id)
{
    char lower[STORE_ID_MAX];
    for (size_t c = 0; c < STORE_ID_MAX; c++)
        lower[c] = (id[c] >= 'A' && id[c] <= 'F') ? (char)(id[c] - 'A' + 'a') : id[c];
    for (size_t i = 0; i < req->ngroups; i++)
        if (strcmp(req->group_ids[i], lower) == 0)
            return 1;
    return 0;
}

static void check_groups(const json_t *root, const token_request *req)
{
    const json_t *ids = member(root, "groupIds"), *v;
    size_t i;
    FUZZ_CHECK(req->ngroups <= TOKEN_REQ_MAX_GROUPS);
    FUZZ_CHECK(ids != NULL || req->ngroups == 0);
    for (i = 0; i < req->ngroups; i++) {
        const char *g = req->group_ids[i];
        FUZZ_CHECK(strlen(g) == 36 && uuid_is_valid(g));
        for (const char *c = g; *c; c++)
            FUZZ_CHECK(!(*c >= 'A' && *c <= 'F'));
        for (size_t k = 0; k < i; k++)
            FUZZ_CHECK(strcmp(req->group_ids[k], g) != 0);
        /* every kept id comes from the body */
        int found = 0;
        for (size_t k = 0; k < json_array_size(ids) && !found; k++) {
            const char *s = json_string_value(json_array_get(ids, k));
            found = s != NULL && strcasecmp(s, g) == 0;
        }
        FUZZ_CHECK(found);
    }
    json_array_foreach(ids, i, v)
        FUZZ_CHECK(json_is_string(v) && group_listed(req, json_string_value(v)));
}

static void check_metadata(const uint8_t *body, size_t size, const json_t *root,
                           const token_request *req)
{
    const json_t *md = member(root, "metadata");
    if (md == NULL) {
        FUZZ_CHECK(req->metadata_raw == NULL && req->correlation_id[0] == '\0');
        return;
    }
    const char *start = (const char *)body, *end = start + size;
    FUZZ_CHECK(req->metadata_raw >= start && req->metadata_raw < end);
    FUZZ_CHECK(req->metadata_len <= (size_t)(end - req->metadata_raw));
    FUZZ_CHECK(req->metadata_len <= TOKEN_REQ_MAX_METADATA);
    json_t *raw = json_loadb(req->metadata_raw, req->metadata_len, JSON_REJECT_DUPLICATES, NULL);
    FUZZ_CHECK(json_is_object(raw) && json_equal(raw, md));
    json_decref(raw);
    size_t n = strlen(req->correlation_id);
    FUZZ_CHECK(n <= TOKEN_REQ_MAX_CORRELATION);
    if (n > 0)
        FUZZ_CHECK(string_is(json_object_get(md, "correlationId"), req->correlation_id, n) ||
                   string_is(json_object_get(md, "externalUserId"), req->correlation_id, n));
}

static void check_subject(const json_t *root, const token_request *req)
{
    const json_t *st = member(root, "subject_token");
    FUZZ_CHECK(req->platform_user == 0 || req->platform_user == 1);
    if (!req->has_subject_token) {
        FUZZ_CHECK(st == NULL && member(root, "subject_token_type") == NULL);
        return;
    }
    FUZZ_CHECK(req->subject_token_len >= 1 && req->subject_token_len <= STORE_SUBJECT_TOKEN_MAX);
    FUZZ_CHECK(string_is(st, req->subject_token, req->subject_token_len));
    FUZZ_CHECK(strcmp(req->subject_token_type, TOKEN_TYPE_ACCESS_TOKEN) == 0 ||
               strcmp(req->subject_token_type, TOKEN_TYPE_ID_TOKEN) == 0 ||
               strcmp(req->subject_token_type, TOKEN_TYPE_JWT) == 0);
}

/* The claims sessions_issue would sign for req, parsed back as jws_verify
 * parses a payload. */
static void check_claims(const json_t *root, const token_request *req)
{
    static const char id[] = "0190f2a4-2c1e-7d3a-9b1c-5e6f7a8b9c0d";
    claims_group groups[TOKEN_REQ_MAX_GROUPS];
    for (size_t i = 0; i < req->ngroups; i++)
        groups[i] = (claims_group){req->group_ids[i], "Group name"};
    session_claims c = {
        .iss = ISSUER,
        .aud = SESSION_AUDIENCE,
        .sub = id,
        .jti = id,
        .iat = 1700000000,
        .nbf = 1700000000,
        .exp = 1700086400,
        .org_id = id,
        .org_type = "standard",
        .user_email = req->email,
        .user_id = id,
        .user_name = req->name[0] ? req->name : NULL,
        .user_type = "external",
        .atid = id,
        .groups = groups,
        .ngroups = req->ngroups,
        .metadata_raw = req->metadata_raw,
        .metadata_len = req->metadata_len,
    };
    buf_t payload;
    err_t e;
    buf_init(&payload, 64 * 1024); /* as sessions_issue */
    FUZZ_CHECK(claims_encode(&c, &payload) == 0);
    json_t *claims = json_parse_strict(payload.data, payload.len, JSON_MAX_DEPTH, 0, &e);
    FUZZ_CHECK(json_is_object(claims));
    FUZZ_CHECK(string_is(json_object_get(claims, "user_email"), req->email, strlen(req->email)));
    if (req->name[0])
        FUZZ_CHECK(string_is(json_object_get(claims, "user_name"), req->name, strlen(req->name)));
    const json_t *md = member(root, "metadata");
    FUZZ_CHECK(md == NULL ? json_object_get(claims, "metadata") == NULL
                          : json_equal(json_object_get(claims, "metadata"), md));
    FUZZ_CHECK(json_array_size(json_object_get(claims, "rbac_group_objects")) == req->ngroups);
    json_decref(claims);
    buf_free(&payload);
}

/* The session.denied event of a refusal: detail must be a JSON object. */
static void check_denied_audit(const token_request *req, const err_t *why)
{
    store_token tok;
    store_audit audit;
    session_context ctx = {ISSUER, "203.0.113.9", "00112233aabbccdd", NULL};
    memset(&tok, 0, sizeof(tok));
    memcpy(tok.id, "0190f2a4-2c1e-7d3a-9b1c-5e6f7a8b9c0d", 37);
    memcpy(tok.org_id, "0190f2a4-2c1e-7d3a-9b1c-5e6f7a8b9c0e", 37);
    sessions_denied_audit(&tok, req, why, &ctx, 1700000000, &audit);
    json_t *detail = json_loads(audit.detail, JSON_REJECT_DUPLICATES, NULL);
    FUZZ_CHECK(json_is_object(detail));
    if (req != NULL)
        FUZZ_CHECK(string_is(json_object_get(detail, "email"), req->email, strlen(req->email)));
    json_decref(detail);
}

static void check_accepted(const uint8_t *body, size_t size, const token_request *req)
{
    err_t e;
    json_t *root = json_parse_strict((const char *)body, size, JSON_MAX_DEPTH, JSON_DECODE_ANY, &e);
    FUZZ_CHECK(json_is_object(root));
    check_email(req);
    check_name(root, req);
    check_groups(root, req);
    check_metadata(body, size, root, req);
    check_subject(root, req);
    check_claims(root, req);
    err_t why;
    err_set(&why, ERR_FORBIDDEN, "a group in groupIds does not grant any application");
    check_denied_audit(req, &why);
    json_decref(root);
}

FUZZ_DEFAULT_INITIALIZE()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    token_request *req = malloc(sizeof(*req)); /* on the heap, so ASan sees overruns */
    err_t e;
    FUZZ_CHECK(req != NULL);
    if (token_request_parse((const char *)data, size, req, &e) == 0) {
        fuzz_note("accepted: %s", req->email);
        check_accepted(data, size, req);
    } else {
        fuzz_note("refused: %s", e.detail);
        FUZZ_CHECK(e.cls == ERR_INVALID_REQUEST && e.detail[0] != '\0');
        check_denied_audit(NULL, &e);
    }
    explicit_bzero(req->subject_token, sizeof(req->subject_token));
    free(req);
    return 0;
}
