/* token_limit.h - the rate limit of an Embed access token on the token
 * endpoint: its forms (CLI text, admin API JSON), validation, the limit in
 * effect, and the admin operation that changes it.
 *
 * Stored with the token (store_token.rate_rps / rate_burst): STORE_RATE_DEFAULT
 * follows the deployment default (TOKEN_LIMIT_DEFAULT_*), STORE_RATE_OFF
 * means no limit, anything else is requests per second and a burst. */
#ifndef TESSERA_DOMAIN_TOKEN_LIMIT_H
#define TESSERA_DOMAIN_TOKEN_LIMIT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "domain/admin.h"
#include "domain/ratelimit.h"
#include "store/store.h"

#define TOKEN_LIMIT_DEFAULT_RPS 200
#define TOKEN_LIMIT_DEFAULT_BURST 400

/* 1 and *rule when a limit applies to t, 0 when t has none ("off"). */
int token_limit_effective(const store_token *t, ratelimit_rule *rule);

/* 0 when (rps, burst) is a storable setting: STORE_RATE_DEFAULT or
 * STORE_RATE_OFF with burst 0, or a valid rule; else -1 with
 * ERR_INVALID_REQUEST. */
int token_limit_check(int64_t rps, int64_t burst, err_t *e);

/* The CLI form: "RPS[:BURST]" (burst defaults to twice RPS), "off" or
 * "default", into the stored setting. 0, or -1 with ERR_INVALID_REQUEST. */
int token_limit_parse(const char *text, int64_t *rps, int64_t *burst, err_t *e);

/* The admin API form: {"rps": N, "burst": M} (burst optional, as above),
 * "off", or null (the default). v NULL is the default too. */
int token_limit_from_json(const json_t *v, int64_t *rps, int64_t *burst, err_t *e);

/* The limit in effect, as the admin API shows it: {"rps", "burst",
 * "default": bool}, or "off"; null for an admin token (the limit applies
 * on the token endpoint only). New reference. */
json_t *token_limit_json(const store_token *t);

/* The same as text for `tessera token list`: "200:400 (default)", "5:10",
 * "off" or "-" (admin token). */
void token_limit_text(const store_token *t, char *out, size_t cap);

/* Sets the limit of the Embed token token_id of org_id (rps, burst as
 * stored; checked), audited as token.rate_limit_set. *out receives the
 * token as it now is. ERR_NOT_FOUND, ERR_INVALID_REQUEST (an admin token). */
int admin_token_set_rate_limit(const admin_ctx *c, const char *org_id, const char *token_id,
                               int64_t rps, int64_t burst, store_token *out, err_t *e);

#endif
