/* api.h - the HTTP API: shared state, per-worker state and the dispatcher.
 *
 * api_app is shared by all workers (read-only after start, apart from the
 * thread-safe directory and recorder). api_worker belongs to one worker
 * thread: its own copies of the signing and verification keys, re-taken
 * when the directory's key generation changes. */
#ifndef TESSERA_API_API_H
#define TESSERA_API_API_H

#include <stddef.h>
#include <stdint.h>

#include "domain/directory.h"
#include "domain/recorder.h"
#include "http/router.h"
#include "http/server.h"
#include "jwt/jwk.h"

typedef struct {
    directory *dir;
    recorder *rec;
    char base_url[256]; /* no trailing '/'; the "iss" of session tokens */
} api_app;

typedef struct {
    api_app *app;
    jwt_key *signer;
    uint64_t signer_gen;
    jwt_key **verify_keys;
    size_t nverify_keys;
    uint64_t verify_gen;
} api_worker;

typedef void (*api_handler)(api_worker *w, http_request *req, const route_params *params);

api_worker *api_worker_new(api_app *app);
void api_worker_free(api_worker *w);
/* The worker's signing key, refreshed if the keys changed; NULL if none. */
const jwt_key *api_worker_signer(api_worker *w);
/* The worker's verification keys, refreshed if the keys changed. */
size_t api_worker_verify_keys(api_worker *w, jwt_key *const **keys);

/* The http_handler: routes the request (api/routes.c). */
void api_dispatch(void *app, void *worker, http_request *req);

/* Handlers, one file per resource. */
void api_public_token(api_worker *w, http_request *req, const route_params *params);
void api_me(api_worker *w, http_request *req, const route_params *params);
void api_jwks(api_worker *w, http_request *req, const route_params *params);
void api_healthz(api_worker *w, http_request *req, const route_params *params);

/* Requires "Content-Type: application/json" (parameters allowed). 0 or -1
 * after replying 415. */
int api_require_json(http_request *req);

#endif
