/* bundle.c - reading a static app bundle from a directory for deployment. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/mime.h"
#include "core/uuid.h"
#include "core/xalloc.h"
#include "domain/admin.h"

#define BUNDLE_MAX_FILES 2000
#define BUNDLE_MAX_BYTES (64 * 1024 * 1024)
#define BUNDLE_MAX_FILE (16 * 1024 * 1024)

typedef struct {
    store_app_file *files; /* data owned (cast away const when freeing) */
    size_t n;
    int64_t total;
} bundle;

static int read_file(const char *full, const char *rel, bundle *b, err_t *e)
{
    FILE *f = fopen(full, "rb");
    if (f == NULL)
        return err_set(e, ERR_INVALID_REQUEST, "cannot read %s", rel);
    buf_t data;
    buf_init(&data, BUNDLE_MAX_FILE);
    char chunk[65536];
    size_t got;
    int rc = 0;
    while (rc == 0 && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (buf_append(&data, chunk, got) != 0)
            rc = err_set(e, ERR_TOO_LARGE, "%s is larger than %d MiB", rel, BUNDLE_MAX_FILE >> 20);
    if (rc == 0 && ferror(f))
        rc = err_set(e, ERR_INVALID_REQUEST, "cannot read %s", rel);
    fclose(f);
    if (rc == 0 && b->total + (int64_t)data.len > BUNDLE_MAX_BYTES)
        rc = err_set(e, ERR_TOO_LARGE, "bundle is larger than %d MiB", BUNDLE_MAX_BYTES >> 20);
    if (rc != 0) {
        buf_free(&data);
        return -1;
    }
    store_app_file *slot = &b->files[b->n++];
    memset(slot, 0, sizeof(*slot));
    str_copy(slot->path, sizeof(slot->path), rel); /* walk() checked the length */
    snprintf(slot->content_type, sizeof(slot->content_type), "%s", mime_type_for(rel));
    slot->len = data.len;
    slot->data = (const unsigned char *)buf_take(&data);
    b->total += (int64_t)slot->len;
    return 0;
}

/* Adds every regular file under root/rel (rel "" = root). Hidden entries
 * are skipped; symbolic links are refused so a bundle cannot pull in files
 * from outside its directory. */
static int walk(const char *root, const char *rel, bundle *b, err_t *e)
{
    char dirpath[4096];
    snprintf(dirpath, sizeof(dirpath), "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(dirpath);
    if (d == NULL)
        return err_set(e, ERR_INVALID_REQUEST, "cannot open directory %s", rel[0] ? rel : root);
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char sub[600], full[4700];
        if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name) >=
            sizeof(((store_app_file *)0)->path)) {
            rc = err_set(e, ERR_INVALID_REQUEST, "a path in the bundle is longer than 511 bytes");
            break;
        }
        snprintf(full, sizeof(full), "%s/%s", root, sub);
        struct stat st;
        if (lstat(full, &st) != 0)
            rc = err_set(e, ERR_INVALID_REQUEST, "cannot read %s", sub);
        else if (S_ISLNK(st.st_mode))
            rc = err_set(e, ERR_INVALID_REQUEST, "%s is a symbolic link; bundles may hold only regular files", sub);
        else if (S_ISDIR(st.st_mode))
            rc = walk(root, sub, b, e);
        else if (!S_ISREG(st.st_mode))
            continue;
        else if (b->n == BUNDLE_MAX_FILES)
            rc = err_set(e, ERR_TOO_LARGE, "bundle has more than %d files", BUNDLE_MAX_FILES);
        else
            rc = read_file(full, sub, b, e);
    }
    closedir(d);
    return rc;
}

static void bundle_free(bundle *b)
{
    for (size_t i = 0; i < b->n; i++)
        free((void *)b->files[i].data);
    free(b->files);
}

int admin_app_deploy_files(const admin_ctx *c, const char *org_id, const char *app_id,
                           const store_app_file *files, size_t nfiles, store_app_version *out,
                           err_t *e)
{
    store_app app;
    if (c->store->ops->app_get(c->store, org_id, app_id, &app, e) != 0)
        return -1;
    int has_index = 0;
    int64_t total = 0;
    for (size_t i = 0; i < nfiles; i++) {
        has_index |= strcmp(files[i].path, "index.html") == 0;
        total += (int64_t)files[i].len;
    }
    if (!has_index)
        return err_set(e, ERR_INVALID_REQUEST, "the bundle needs an index.html at its top level");
    memset(out, 0, sizeof(*out));
    uuid_v4(out->id);
    snprintf(out->org_id, sizeof(out->org_id), "%s", org_id);
    snprintf(out->app_id, sizeof(out->app_id), "%s", app_id);
    snprintf(out->created_by, sizeof(out->created_by), "%s", c->actor ? c->actor : "cli");
    out->created_at = clock_now();
    store_audit a;
    admin_audit_init(&a, c, org_id, "app.deployed", app_id);
    snprintf(a.detail, sizeof(a.detail), "{\"version_id\":\"%s\",\"files\":%zu,\"bytes\":%lld}", out->id,
             nfiles, (long long)total);
    return c->store->ops->app_version_insert(c->store, out, files, nfiles, &a, e);
}

int admin_app_deploy(const admin_ctx *c, const char *org_id, const char *app_id, const char *dir,
                     store_app_version *out, err_t *e)
{
    store_app app;
    if (c->store->ops->app_get(c->store, org_id, app_id, &app, e) != 0)
        return -1;
    bundle b = {xcalloc(BUNDLE_MAX_FILES, sizeof(store_app_file)), 0, 0};
    int rc = -1;
    if (walk(dir, "", &b, e) == 0)
        rc = admin_app_deploy_files(c, org_id, app_id, b.files, b.n, out, e);
    bundle_free(&b);
    return rc;
}
