#include "domain/token_request.h"

#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/uuid.h"
#include "core/xalloc.h"
#include "domain/email.h"

/* Fetches an optional member: NULL when absent or JSON null. */
static json_t *member(json_t *root, const char *key)
{
    json_t *v = json_object_get(root, key);
    return json_is_null(v) ? NULL : v;
}

static int parse_email(json_t *root, token_request *out, err_t *e)
{
    json_t *v = member(root, "email");
    if (v == NULL)
        return err_set(e, ERR_INVALID_REQUEST, "email is required");
    if (!json_is_string(v))
        return err_set(e, ERR_INVALID_REQUEST, "email must be a string");
    err_t inner;
    if (email_normalize(json_string_value(v), json_string_length(v), out->email, &inner) != 0)
        return err_set(e, ERR_INVALID_REQUEST, "email is invalid: %s", inner.detail);
    return 0;
}

static int parse_name(json_t *root, token_request *out, err_t *e)
{
    json_t *v = member(root, "name");
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return err_set(e, ERR_INVALID_REQUEST, "name must be a string");
    size_t n = json_string_length(v);
    if (n > TOKEN_REQ_MAX_NAME)
        return err_set(e, ERR_INVALID_REQUEST, "name is longer than %d bytes", TOKEN_REQ_MAX_NAME);
    const char *s = json_string_value(v);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return err_set(e, ERR_INVALID_REQUEST, "name must not contain control characters");
    memcpy(out->name, s, n + 1);
    return 0;
}

static int parse_groups(json_t *root, token_request *out, err_t *e)
{
    json_t *v = member(root, "groupIds");
    if (v == NULL)
        return 0;
    if (!json_is_array(v))
        return err_set(e, ERR_INVALID_REQUEST, "groupIds must be an array of group ids");
    if (json_array_size(v) > TOKEN_REQ_MAX_GROUPS)
        return err_set(e, ERR_INVALID_REQUEST, "groupIds has more than %d entries", TOKEN_REQ_MAX_GROUPS);
    size_t i;
    json_t *g;
    json_array_foreach(v, i, g)
    {
        if (!json_is_string(g))
            return err_set(e, ERR_INVALID_REQUEST, "groupIds[%zu] must be a string", i);
        const char *id = json_string_value(g);
        if (json_string_length(g) != 36 || !uuid_is_valid(id))
            return err_set(e, ERR_INVALID_REQUEST, "groupIds[%zu] is not a group id (UUID)", i);
        char lower[STORE_ID_MAX];
        for (size_t c = 0; c < 37; c++)
            lower[c] = (id[c] >= 'A' && id[c] <= 'F') ? (char)(id[c] - 'A' + 'a') : id[c];
        int dup = 0;
        for (size_t k = 0; k < out->ngroups && !dup; k++)
            dup = strcmp(out->group_ids[k], lower) == 0;
        if (!dup)
            memcpy(out->group_ids[out->ngroups++], lower, sizeof(lower));
    }
    return 0;
}

/* The host's correlation id for audit events and webhooks: metadata's
 * correlationId, else its externalUserId, when a short printable string. */
static void correlation_of(json_t *metadata, char out[TOKEN_REQ_MAX_CORRELATION + 1])
{
    static const char *const keys[] = {"correlationId", "externalUserId"};
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *v = json_object_get(metadata, keys[i]);
        const char *s = json_string_value(v);
        size_t n = s ? json_string_length(v) : 0;
        int ok = n > 0 && n <= TOKEN_REQ_MAX_CORRELATION;
        for (size_t k = 0; ok && k < n; k++)
            ok = (unsigned char)s[k] >= 0x20 && s[k] != 0x7f;
        if (ok) {
            memcpy(out, s, n + 1);
            return;
        }
    }
}

static int parse_metadata(const char *body, size_t len, json_t *root, token_request *out, err_t *e)
{
    json_t *v = member(root, "metadata");
    if (v == NULL)
        return 0;
    if (!json_is_object(v))
        return err_set(e, ERR_INVALID_REQUEST, "metadata must be a JSON object");
    size_t off, vlen;
    if (json_raw_member(body, len, "metadata", &off, &vlen) != 0)
        return err_set(e, ERR_INVALID_REQUEST, "metadata must be a JSON object");
    if (vlen > TOKEN_REQ_MAX_METADATA)
        return err_set(e, ERR_INVALID_REQUEST, "metadata is larger than %d bytes", TOKEN_REQ_MAX_METADATA);
    out->metadata_raw = body + off;
    out->metadata_len = vlen;
    correlation_of(v, out->correlation_id);
    return 0;
}

static int parse_flags(json_t *root, token_request *out, err_t *e)
{
    json_t *a = member(root, "isSuperblocksUser"), *b = member(root, "isSuperblocks");
    if (a != NULL && !json_is_boolean(a))
        return err_set(e, ERR_INVALID_REQUEST, "isSuperblocksUser must be a boolean");
    if (b != NULL && !json_is_boolean(b))
        return err_set(e, ERR_INVALID_REQUEST, "isSuperblocks must be a boolean");
    if (a != NULL && b != NULL && json_is_true(a) != json_is_true(b))
        return err_set(e, ERR_INVALID_REQUEST, "isSuperblocksUser and isSuperblocks disagree");
    out->platform_user = json_is_true(a) || json_is_true(b);
    return 0;
}

/* subject_token and subject_token_type (RFC 8693): both or neither. The
 * token itself is checked later, against the org's identity providers. */
static int parse_subject(json_t *root, token_request *out, err_t *e)
{
    json_t *st = member(root, "subject_token"), *stt = member(root, "subject_token_type");
    if (st == NULL && stt == NULL)
        return 0;
    if (st != NULL && !json_is_string(st))
        return err_set(e, ERR_INVALID_REQUEST, "subject_token must be a string");
    if (stt != NULL && !json_is_string(stt))
        return err_set(e, ERR_INVALID_REQUEST, "subject_token_type must be a string");
    if (st == NULL)
        return err_set(e, ERR_INVALID_REQUEST, "subject_token_type was given without a subject_token");
    if (stt == NULL)
        return err_set(e, ERR_INVALID_REQUEST, "subject_token_type is required with a subject_token (e.g. %s)",
                       TOKEN_TYPE_ACCESS_TOKEN);
    const char *type = json_string_value(stt);
    if (strcmp(type, TOKEN_TYPE_ACCESS_TOKEN) != 0 && strcmp(type, TOKEN_TYPE_ID_TOKEN) != 0 &&
        strcmp(type, TOKEN_TYPE_JWT) != 0)
        return err_set(e, ERR_INVALID_REQUEST, "subject_token_type must be %s, %s or %s", TOKEN_TYPE_ACCESS_TOKEN,
                       TOKEN_TYPE_ID_TOKEN, TOKEN_TYPE_JWT);
    size_t n = json_string_length(st);
    if (n == 0 || n > STORE_SUBJECT_TOKEN_MAX)
        return err_set(e, ERR_INVALID_REQUEST, "subject_token must be 1 to %d bytes", STORE_SUBJECT_TOKEN_MAX);
    memcpy(out->subject_token, json_string_value(st), n);
    out->subject_token[n] = '\0';
    out->subject_token_len = n;
    snprintf(out->subject_token_type, sizeof(out->subject_token_type), "%s", type);
    out->has_subject_token = 1;
    return 0;
}

int token_request_parse(const char *body, size_t len, token_request *out, err_t *e)
{
    memset(out, 0, sizeof(*out));
    /* Numbers outside what the verifier parses (64-bit integers, doubles)
     * are refused here, so every token issued can be verified. */
    json_t *root = json_parse_strict(body, len, JSON_MAX_DEPTH, JSON_DECODE_ANY, e);
    if (root == NULL)
        return -1;
    int rc = -1;
    if (!json_is_object(root)) {
        err_set(e, ERR_INVALID_REQUEST, "request body must be a JSON object");
        goto out;
    }
    if (parse_email(root, out, e) || parse_name(root, out, e) || parse_groups(root, out, e) ||
        parse_metadata(body, len, root, out, e) || parse_flags(root, out, e) ||
        parse_subject(root, out, e))
        goto out;
    rc = 0;
out:
    json_decref(root);
    return rc;
}
