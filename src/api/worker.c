#include <stdlib.h>

#include "api/api.h"
#include "core/xalloc.h"
#include "jwt/jws_cache.h"

api_worker *api_worker_new(api_app *app, store *s)
{
    api_worker *w = xcalloc(1, sizeof(*w));
    w->app = app;
    w->store = s;
    w->signer_gen = UINT64_MAX;
    w->verify_gen = UINT64_MAX;
    w->session_keys.verified = jws_cache_new(API_VERIFIED_TOKENS_PER_WORKER);
    return w;
}

void api_worker_free(api_worker *w)
{
    if (w == NULL)
        return;
    jwt_key_free(w->signer);
    directory_keys_free(w->verify_keys, w->session_keys.nkeys);
    jws_cache_free(w->session_keys.verified);
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

const session_keys *api_worker_verify_keys(api_worker *w)
{
    if (directory_key_generation(w->app->dir) != w->verify_gen) {
        directory_keys_free(w->verify_keys, w->session_keys.nkeys);
        w->session_keys.nkeys = directory_verify_keys(w->app->dir, &w->verify_keys, &w->verify_gen);
        w->session_keys.keys = w->verify_keys;
        jws_cache_clear(w->session_keys.verified);
    }
    return &w->session_keys;
}
