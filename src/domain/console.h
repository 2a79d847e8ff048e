/* console.h - sign-in sessions of the web console (platform users).
 *
 * The cookie value is 256 random bits, base64url; only its SHA-256 is
 * stored. Each session has its own CSRF token, which state-changing
 * requests must echo in X-CSRF-Token. */
#ifndef TESSERA_DOMAIN_CONSOLE_H
#define TESSERA_DOMAIN_CONSOLE_H

#include <stdint.h>

#include "core/err.h"
#include "domain/admin.h"
#include "domain/directory.h"
#include "store/store.h"

#define CONSOLE_COOKIE "tessera_console"
#define CONSOLE_COOKIE_LEN 43 /* base64url of 32 bytes */
#define CONSOLE_SESSION_TTL 43200

typedef struct {
    store_console_session session;
    store_user user;
    store_org org;
} console_identity;

/* Checks email + password against every platform user with that email
 * (any org; found in the directory, password read fresh from the store, so
 * a reset made anywhere applies at once) and opens a session for the first
 * match. A wrong email costs
 * the same argon2id work as a wrong password. End users are refused (403).
 * cookie[CONSOLE_COOKIE_LEN + 1] receives the cookie value (a secret). */
int console_signin(const admin_ctx *c, directory *d, const char *email, const char *password,
                   int64_t now, char *cookie, console_identity *out, err_t *e);

/* The identity behind the Cookie header (NULL = none), with the user's
 * current role. ERR_UNAUTHORIZED when there is no live session. */
int console_identify(store *s, directory *d, const char *cookie_header, int64_t now,
                     console_identity *out, err_t *e);

/* 1 when csrf (a request header, may be NULL) is the session's token. */
int console_csrf_ok(const console_identity *id, const char *csrf);

/* Ends the session behind the Cookie header (nothing when there is none). */
int console_signout(const admin_ctx *c, const char *cookie_header, err_t *e);

#endif
