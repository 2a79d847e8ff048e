/* GET /api/v1/me - who a session token belongs to. */
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "core/clock.h"
#include "domain/sessions.h"
#include "jwt/jws.h"

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
    jwt_key *const *keys;
    size_t nkeys = api_worker_verify_keys(w, &keys);
    return sessions_verify(w->app->dir, keys, nkeys, w->app->base_url, token, len, now, status, e);
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
    char expires[21];
    clock_iso8601((int64_t)json_integer_value(json_object_get(claims, "exp")), expires);
    json_t *data = json_pack("{s:o, s:O, s:s, s:O}", "user", api_user_json(claims, "type"), "org_id",
                             json_object_get(claims, "org_id"), "expires_at", expires, "session_id",
                             json_object_get(claims, "jti"));
    json_t *doc = json_pack("{s:o}", "data", data);
    char *text = json_dumps(doc, JSON_COMPACT);
    http_add_header(req, "Cache-Control", "no-store");
    http_reply(req, 200, "application/json", text, strlen(text));
    json_decref(doc);
    json_decref(claims);
}
