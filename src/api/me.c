/* GET /api/v1/me - who a session token belongs to. */
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "core/clock.h"
#include "domain/sessions.h"
#include "jwt/jws.h"

/* Claims are at most JWS_MAX_LEN as a token; their reply is smaller. */
#define ME_REPLY_MAX (2 * JWS_MAX_LEN)

const char *api_bearer(const char *header, size_t *len, err_t *e)
{
    if (header == NULL)
        return err_set(e, ERR_UNAUTHORIZED, "missing Authorization header; send 'Authorization: Bearer <session token>'"), NULL;
    while (*header == ' ')
        header++;
    if (strncasecmp(header, "Bearer ", 7) != 0)
        return err_set(e, ERR_UNAUTHORIZED, "Authorization header must use the Bearer scheme"), NULL;
    header += 7;
    while (*header == ' ')
        header++;
    size_t n = strlen(header);
    while (n > 0 && header[n - 1] == ' ')
        n--;
    if (n == 0)
        return err_set(e, ERR_UNAUTHORIZED, "Authorization header has no token after 'Bearer'"), NULL;
    *len = n;
    return header;
}

json_t *api_user_json(json_t *claims, const char *type_key)
{
    json_t *user = json_object();
    const char *const map[][2] = {
        {"id", "user_id"}, {"email", "user_email"}, {"name", "user_name"},
        {type_key, "user_type"}, {"role", "rbac_role"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        json_t *v = json_object_get(claims, map[i][1]);
        if (v != NULL)
            json_object_set(user, map[i][0], v);
    }
    json_t *groups = json_object_get(claims, "rbac_group_objects");
    json_object_set_new(user, "groups", groups ? json_incref(groups) : json_array());
    json_t *metadata = json_object_get(claims, "metadata");
    json_object_set_new(user, "metadata", metadata ? json_incref(metadata) : json_object());
    return user;
}

json_t *api_session_claims(api_worker *w, http_request *req, int64_t now, session_status *status, err_t *e)
{
    size_t len = 0;
    const char *token = api_bearer(http_header(req, "Authorization"), &len, e);
    *status = SESSION_INVALID;
    if (token == NULL)
        return NULL;
    return sessions_verify(w->app->dir, api_worker_verify_keys(w), w->app->base_url, token, len, now, status, e);
}

/* The members of one JSON object being written into a buffer; failed
 * records that an append did not fit. */
typedef struct {
    buf_t *b;
    int n;
    int failed;
} members;

static int dump_into(const char *text, size_t n, void *b)
{
    return buf_append(b, text, n);
}

static void member_value(members *m, const char *key, const json_t *v)
{
    m->failed |= buf_puts(m->b, m->n++ ? ",\"" : "\"") != 0 || buf_puts(m->b, key) != 0 ||
                 buf_puts(m->b, "\":") != 0 ||
                 json_dump_callback(v, dump_into, m->b, JSON_COMPACT | JSON_ENCODE_ANY) != 0;
}

/* key: the claim's value, when the claims have it. */
static void member_claim(members *m, const char *key, const json_t *claims, const char *claim)
{
    json_t *v = json_object_get(claims, claim);
    if (v != NULL)
        member_value(m, key, v);
}

/* The reply, written straight into b: api_user_json's members and the
 * session's, in the same order, without building a JSON tree (this is the
 * hot path of verification; bench/README.md). Returns 0 or -1 (too big). */
static int write_me(buf_t *b, const json_t *claims)
{
    members data = {b, 1, 0}, user = {b, 0, 0}; /* data's first member, "user", is opened by hand */
    json_t *groups = json_object_get(claims, "rbac_group_objects");
    json_t *metadata = json_object_get(claims, "metadata");
    char expires[21];
    clock_iso8601((int64_t)json_integer_value(json_object_get(claims, "exp")), expires);

    data.failed |= buf_puts(b, "{\"data\":{\"user\":{") != 0;
    member_claim(&user, "id", claims, "user_id");
    member_claim(&user, "email", claims, "user_email");
    member_claim(&user, "name", claims, "user_name");
    member_claim(&user, "type", claims, "user_type");
    member_claim(&user, "role", claims, "rbac_role");
    json_t *none_groups = groups ? NULL : json_array(), *none_metadata = metadata ? NULL : json_object();
    member_value(&user, "groups", groups ? groups : none_groups);
    member_value(&user, "metadata", metadata ? metadata : none_metadata);
    json_decref(none_groups);
    json_decref(none_metadata);
    data.failed |= buf_puts(b, "}") != 0;
    member_claim(&data, "org_id", claims, "org_id");
    json_t *when = json_string(expires);
    member_value(&data, "expires_at", when);
    json_decref(when);
    member_claim(&data, "session_id", claims, "jti");
    data.failed |= buf_puts(b, "}}") != 0;
    return data.failed || user.failed ? -1 : 0;
}

void api_me(api_worker *w, http_request *req, const route_params *params)
{
    (void)params;
    err_t e;
    session_status status;
    json_t *claims = api_session_claims(w, req, clock_now(), &status, &e);
    if (claims == NULL) {
        http_reply_error(req, &e);
        return;
    }
    buf_t reply;
    buf_init(&reply, ME_REPLY_MAX);
    if (write_me(&reply, claims) != 0) {
        buf_free(&reply);
        err_set(&e, ERR_INTERNAL, "the session's reply does not fit");
        http_reply_error(req, &e);
    } else {
        http_add_header(req, "Cache-Control", "no-store");
        http_reply_json(req, 200, &reply);
    }
    json_decref(claims);
}
