#include "domain/token_limit.h"

#include <stdio.h>
#include <string.h>

static int is_embed(const store_token *t)
{
    return strcmp(t->type, "embed") == 0;
}

int token_limit_effective(const store_token *t, ratelimit_rule *rule)
{
    if (t->rate_rps == STORE_RATE_OFF)
        return 0;
    if (t->rate_rps == STORE_RATE_DEFAULT) {
        rule->rps = TOKEN_LIMIT_DEFAULT_RPS;
        rule->burst = TOKEN_LIMIT_DEFAULT_BURST;
    } else {
        rule->rps = t->rate_rps;
        rule->burst = t->rate_burst;
    }
    return 1;
}

int token_limit_check(int64_t rps, int64_t burst, err_t *e)
{
    if ((rps == STORE_RATE_DEFAULT || rps == STORE_RATE_OFF) && burst == 0)
        return 0;
    ratelimit_rule r = {rps, burst};
    if (!ratelimit_rule_valid(&r))
        return err_set(
            e, ERR_INVALID_REQUEST,
            "a rate limit needs whole numbers of requests per second and a burst, each 1 to %d",
            RATELIMIT_MAX_RATE);
    return 0;
}

/* Twice rps, within bounds: the burst when none is given. */
static int64_t default_burst(int64_t rps)
{
    return rps * 2 > RATELIMIT_MAX_RATE ? RATELIMIT_MAX_RATE : rps * 2;
}

/* A whole number 1..RATELIMIT_MAX_RATE spelled with digits only. */
static int parse_count(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > 7)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int token_limit_parse(const char *text, int64_t *rps, int64_t *burst, err_t *e)
{
    if (strcmp(text, "off") == 0 || strcmp(text, "default") == 0) {
        *rps = text[0] == 'o' ? STORE_RATE_OFF : STORE_RATE_DEFAULT;
        *burst = 0;
        return 0;
    }
    const char *colon = strchr(text, ':');
    size_t n = colon ? (size_t)(colon - text) : strlen(text);
    if (parse_count(text, n, rps) != 0 || *rps < 1 ||
        (colon && parse_count(colon + 1, strlen(colon + 1), burst) != 0))
        return err_set(e, ERR_INVALID_REQUEST,
                       "--rate-limit must be RPS[:BURST] (whole numbers), off or default");
    if (!colon)
        *burst = default_burst(*rps);
    return token_limit_check(*rps, *burst, e);
}

int token_limit_from_json(const json_t *v, int64_t *rps, int64_t *burst, err_t *e)
{
    if (v == NULL || json_is_null(v)) {
        *rps = STORE_RATE_DEFAULT;
        *burst = 0;
        return 0;
    }
    if (json_is_string(v) && strcmp(json_string_value(v), "off") == 0) {
        *rps = STORE_RATE_OFF;
        *burst = 0;
        return 0;
    }
    json_t *r = json_object_get(v, "rps"), *b = json_object_get(v, "burst");
    if (!json_is_object(v) || !json_is_integer(r) ||
        (b != NULL && !json_is_null(b) && !json_is_integer(b)))
        return err_set(e, ERR_INVALID_REQUEST,
                       "rate_limit must be {\"rps\": N, \"burst\": M} (burst optional), \"off\", "
                       "or null for the default");
    *rps = (int64_t)json_integer_value(r);
    *burst = json_is_integer(b) ? (int64_t)json_integer_value(b) : default_burst(*rps);
    if (*rps < 1) /* 0 and -1 are the stored codes, never a rate */
        return err_set(e, ERR_INVALID_REQUEST, "rate_limit.rps must be 1 to %d",
                       RATELIMIT_MAX_RATE);
    return token_limit_check(*rps, *burst, e);
}

json_t *token_limit_json(const store_token *t)
{
    ratelimit_rule rule;
    if (!is_embed(t))
        return json_null();
    if (!token_limit_effective(t, &rule))
        return json_string("off");
    return json_pack("{s:I, s:I, s:b}", "rps", (json_int_t)rule.rps, "burst",
                     (json_int_t)rule.burst, "default", t->rate_rps == STORE_RATE_DEFAULT);
}

void token_limit_text(const store_token *t, char *out, size_t cap)
{
    ratelimit_rule rule;
    if (!is_embed(t))
        snprintf(out, cap, "-");
    else if (!token_limit_effective(t, &rule))
        snprintf(out, cap, "off");
    else
        snprintf(out, cap, "%lld:%lld%s", (long long)rule.rps, (long long)rule.burst,
                 t->rate_rps == STORE_RATE_DEFAULT ? " (default)" : "");
}

int admin_token_set_rate_limit(const admin_ctx *c, const char *org_id, const char *token_id,
                               int64_t rps, int64_t burst, store_token *out, err_t *e)
{
    if (token_limit_check(rps, burst, e) != 0 ||
        c->store->ops->token_get(c->store, org_id, token_id, out, e) != 0)
        return -1;
    if (!is_embed(out))
        return err_set(
            e, ERR_INVALID_REQUEST,
            "rate limits apply to Embed tokens (on the token endpoint); token %s is of type '%s'",
            token_id, out->type);
    out->rate_rps = rps;
    out->rate_burst = burst;
    store_audit a;
    admin_audit_init(&a, c, org_id, "token.rate_limit_set", token_id);
    if (rps == STORE_RATE_OFF || rps == STORE_RATE_DEFAULT)
        snprintf(a.detail, sizeof(a.detail), "{\"rate_limit\":\"%s\"}",
                 rps == STORE_RATE_OFF ? "off" : "default");
    else
        snprintf(a.detail, sizeof(a.detail), "{\"rate_limit\":{\"rps\":%lld,\"burst\":%lld}}",
                 (long long)rps, (long long)burst);
    return c->store->ops->token_set_rate_limit(c->store, out, &a, e);
}
