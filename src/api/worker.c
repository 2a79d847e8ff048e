#include <stdlib.h>

#include "api/api.h"
#include "core/xalloc.h"

api_worker *api_worker_new(api_app *app, store *s)
{
    api_worker *w = xcalloc(1, sizeof(*w));
    w->app = app;
    w->store = s;
    w->signer_gen = UINT64_MAX;
    w->verify_gen = UINT64_MAX;
    return w;
}

void api_worker_free(api_worker *w)
{
    if (w == NULL)
        return;
    jwt_key_free(w->signer);
    directory_keys_free(w->verify_keys, w->nverify_keys);
    if (w->store)
        w->store->ops->close(w->store);
    free(w);
}

const jwt_key *api_worker_signer(api_worker *w)
{
    if (directory_key_generation(w->app->dir) != w->signer_gen) {
        jwt_key_free(w->signer);
        w->signer = directory_signing_key(w->app->dir, &w->signer_gen);
    }
    return w->signer;
}

size_t api_worker_verify_keys(api_worker *w, jwt_key *const **keys)
{
    if (directory_key_generation(w->app->dir) != w->verify_gen) {
        directory_keys_free(w->verify_keys, w->nverify_keys);
        w->nverify_keys = directory_verify_keys(w->app->dir, &w->verify_keys, &w->verify_gen);
    }
    *keys = w->verify_keys;
    return w->nverify_keys;
}
