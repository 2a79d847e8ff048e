/* /api/v1/organizations/{org}/applications */
#include <stdlib.h>
#include <string.h>

#include "api/admin_api.h"
#include "core/mime.h"
#include "core/xalloc.h"
#include "http/urlpath.h"
#include "jwt/b64url.h"

#define UPLOAD_MAX_FILES 2000

static int newest_version(void *ctx, const void *rec)
{
    const store_app_version *v = rec;
    if (v->version > *(int64_t *)ctx)
        *(int64_t *)ctx = v->version;
    return 0;
}

static json_t *app_json(store *s, const store_app *a, err_t *e)
{
    int64_t latest = 0;
    if (s->ops->app_version_each(s, a->org_id, a->id, newest_version, &latest, e) != 0)
        return NULL;
    return admin_app_json(a, latest);
}

typedef struct {
    store *s;
    json_t *list;
    err_t *e;
    int failed;
} app_walk;

static int add_app(void *ctx, const void *rec)
{
    app_walk *aw = ctx;
    json_t *a = app_json(aw->s, rec, aw->e);
    if (a == NULL) {
        aw->failed = 1;
        return 1;
    }
    json_array_append_new(aw->list, a);
    return 0;
}

static int add_version(void *ctx, const void *rec)
{
    json_array_append_new(ctx, admin_version_json(rec));
    return 0;
}

static void reply_app(http_request *req, store *s, const char *org_id, const char *app_id, int status,
                      int with_versions)
{
    err_t e;
    store_app a;
    json_t *doc = NULL, *versions = json_array();
    if (s->ops->app_get(s, org_id, app_id, &a, &e) == 0 && (doc = app_json(s, &a, &e)) != NULL &&
        (!with_versions || s->ops->app_version_each(s, org_id, app_id, add_version, versions, &e) == 0)) {
        if (with_versions)
            json_object_set(doc, "versions", versions);
        api_reply_data(req, status, doc);
    } else {
        json_decref(doc);
        http_reply_error(req, &e);
    }
    json_decref(versions);
}

/* allowed_origins of body: 1 when present (list filled), 0 when absent, -1 after replying. */
static int read_origins(http_request *req, json_t *body, const char **origins, size_t *n)
{
    json_t *arr = json_object_get(body, "allowed_origins");
    *n = 0;
    if (arr == NULL || json_is_null(arr))
        return 0;
    size_t i;
    json_t *o;
    err_t e;
    if (!json_is_array(arr) || json_array_size(arr) > ADMIN_MAX_ORIGINS) {
        err_set(&e, ERR_INVALID_REQUEST, "allowed_origins must be an array of at most %d origins", ADMIN_MAX_ORIGINS);
        http_reply_error(req, &e);
        return -1;
    }
    json_array_foreach(arr, i, o)
    {
        if (!json_is_string(o)) {
            err_set(&e, ERR_INVALID_REQUEST, "allowed_origins[%zu] must be a string", i);
            http_reply_error(req, &e);
            return -1;
        }
        origins[(*n)++] = json_string_value(o);
    }
    return 1;
}

void api_admin_apps_list(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    err_t e;
    app_walk aw = {w->store, json_array(), &e, 0};
    if (w->store->ops->app_each(w->store, c.org_id, add_app, &aw, &e) != 0 || aw.failed) {
        json_decref(aw.list);
        http_reply_error(req, &e);
        return;
    }
    api_reply_data(req, 200, aw.list);
}

void api_admin_apps_create(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    json_t *body = api_read_json(req, 16384, 4);
    if (body == NULL)
        return;
    const char *name, *mode, *origins[ADMIN_MAX_ORIGINS];
    size_t n;
    store_app a;
    err_t e;
    if (admin_string_member(req, body, "name", &name) != 0 || admin_string_member(req, body, "mode", &mode) != 0 ||
        read_origins(req, body, origins, &n) < 0)
        goto out;
    if (admin_app_create(&c.ctx, c.org_id, name ? name : "", mode ? mode : "sso", origins, n, &a, &e) != 0)
        http_reply_error(req, &e);
    else
        reply_app(req, w->store, c.org_id, a.id, 201, 0);
out:
    json_decref(body);
}

void api_admin_app_get(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) == 0)
        reply_app(req, w->store, c.org_id, p->value[1], 200, 1);
}

void api_admin_app_update(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    json_t *body = api_read_json(req, 16384, 4);
    if (body == NULL)
        return;
    const char *name, *mode, *origins[ADMIN_MAX_ORIGINS];
    size_t n;
    int set_origins;
    store_app a;
    err_t e;
    if (admin_string_member(req, body, "name", &name) != 0 || admin_string_member(req, body, "mode", &mode) != 0 ||
        (set_origins = read_origins(req, body, origins, &n)) < 0)
        goto out;
    if (admin_app_update(&c.ctx, c.org_id, p->value[1], name, mode, origins, n, set_origins, &a, &e) != 0)
        http_reply_error(req, &e);
    else
        reply_app(req, w->store, c.org_id, a.id, 200, 0);
out:
    json_decref(body);
}

void api_admin_versions_list(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    err_t e;
    store_app a;
    json_t *list = json_array();
    if (w->store->ops->app_get(w->store, c.org_id, p->value[1], &a, &e) != 0 ||
        w->store->ops->app_version_each(w->store, c.org_id, p->value[1], add_version, list, &e) != 0) {
        json_decref(list);
        http_reply_error(req, &e);
        return;
    }
    api_reply_data(req, 200, list);
}

/* Decodes the upload's files into files[] (data owned by the caller). */
static int read_files(json_t *arr, store_app_file *files, size_t *n, err_t *e)
{
    size_t i;
    json_t *f;
    *n = 0;
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > UPLOAD_MAX_FILES)
        return err_set(e, ERR_INVALID_REQUEST, "files must be an array of 1 to %d files", UPLOAD_MAX_FILES);
    json_array_foreach(arr, i, f)
    {
        const char *path = json_string_value(json_object_get(f, "path"));
        json_t *b64 = json_object_get(f, "content_base64");
        const char *ctype = json_string_value(json_object_get(f, "content_type"));
        store_app_file *out = &files[*n];
        memset(out, 0, sizeof(*out));
        if (path == NULL || urlpath_decode(path, out->path, sizeof(out->path)) != 0 || out->path[0] == '\0' ||
            strchr(path, '%') != NULL)
            return err_set(e, ERR_INVALID_REQUEST, "files[%zu].path must be a relative path like assets/app.js", i);
        if (!json_is_string(b64))
            return err_set(e, ERR_INVALID_REQUEST, "files[%zu].content_base64 must be a string", i);
        /* Standard base64 is accepted too: map it to base64url and drop padding. */
        size_t len = json_string_length(b64);
        char *text = xstrndup(json_string_value(b64), len);
        for (size_t k = 0; k < len; k++)
            text[k] = text[k] == '+' ? '-' : text[k] == '/' ? '_' : text[k];
        while (len > 0 && text[len - 1] == '=')
            len--;
        unsigned char *data = xmalloc(len * 3 / 4 + 1);
        size_t dlen = 0;
        int bad = b64url_decode(text, len, data, &dlen) != 0;
        free(text);
        if (bad) {
            free(data);
            return err_set(e, ERR_INVALID_REQUEST, "files[%zu].content_base64 is not valid base64", i);
        }
        out->data = data;
        out->len = dlen;
        str_copy(out->content_type, sizeof(out->content_type), ctype ? ctype : mime_type_for(out->path));
        (*n)++;
    }
    return 0;
}

void api_admin_versions_create(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    json_t *body = api_read_json(req, ADMIN_UPLOAD_MAX, 4);
    if (body == NULL)
        return;
    store_app_file *files = xcalloc(UPLOAD_MAX_FILES, sizeof(*files));
    size_t n = 0;
    store_app_version v;
    err_t e;
    if (read_files(json_object_get(body, "files"), files, &n, &e) != 0 ||
        admin_app_deploy_files(&c.ctx, c.org_id, p->value[1], files, n, &v, &e) != 0)
        http_reply_error(req, &e);
    else
        api_reply_data(req, 201, json_pack("{s:s, s:I, s:I, s:I}", "id", v.id, "version", (json_int_t)v.version,
                                           "files", (json_int_t)v.file_count, "bytes", (json_int_t)v.total_bytes));
    for (size_t i = 0; i < n; i++)
        free((void *)files[i].data);
    free(files);
    json_decref(body);
}

void api_admin_embed_snippet(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    store_app a;
    err_t e;
    if (w->store->ops->app_get(w->store, c.org_id, p->value[1], &a, &e) != 0) {
        http_reply_error(req, &e);
        return;
    }
    char url[512], js[2048], react[2048];
    snprintf(url, sizeof(url), "%s/embed/applications/%s", w->app->base_url, a.id);
    snprintf(js, sizeof(js),
             "<script src=\"%s/sdk/embed.js\"></script>\n"
             "<script>\n"
             "  // token: a session token from your backend (POST %s/api/v1/public/token)\n"
             "  const app = Superblocks.createSuperblocksEmbed({\n"
             "    src: '%s',\n"
             "    token,\n"
             "    onAuthError: (err) => console.warn('Tessera auth error', err),\n"
             "  });\n"
             "  document.getElementById('app-slot').appendChild(app);\n"
             "</script>\n",
             w->app->base_url, w->app->base_url, url);
    snprintf(react, sizeof(react),
             "import { SuperblocksEmbed } from '@tessera/embed-react'; // sdk/react in the Tessera repository\n\n"
             "export function %sEmbed({ token }) {\n"
             "  return (\n"
             "    <SuperblocksEmbed\n"
             "      src=\"%s\"\n"
             "      token={token}\n"
             "      onAuthError={(err) => console.warn('Tessera auth error', err)}\n"
             "    />\n"
             "  );\n"
             "}\n",
             "App", url);
    api_reply_data(req, 200, json_pack("{s:s, s:s, s:s}", "url", url, "javascript", js, "react", react));
}
