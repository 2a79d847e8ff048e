/* reply.c - JSON in and out, shared by the API handlers. */
#include <string.h>

#include "api/api.h"
#include "core/json.h"

void api_reply_data(http_request *req, int status, json_t *data)
{
    json_t *doc = json_pack("{s:o}", "data", data);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    http_add_header(req, "Cache-Control", "no-store");
    http_reply(req, status, "application/json", text, strlen(text));
}

json_t *api_read_json(http_request *req, size_t max_len, size_t max_depth)
{
    if (api_require_json(req) != 0)
        return NULL;
    size_t len;
    const char *body = http_body(req, &len);
    err_t e;
    json_t *root = NULL;
    if (len > max_len)
        err_set(&e, ERR_TOO_LARGE, "request body is larger than %zu bytes", max_len);
    else if ((root = json_parse_strict(body, len, max_depth, 0, &e)) != NULL && !json_is_object(root)) {
        json_decref(root);
        root = NULL;
        err_set(&e, ERR_INVALID_REQUEST, "request body must be a JSON object");
    }
    if (root == NULL)
        http_reply_error(req, &e);
    return root;
}
