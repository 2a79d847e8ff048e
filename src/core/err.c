#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>

static const struct {
    int status;
    const char *code;
} err_table[ERR_CLASS_COUNT] = {
    [ERR_NONE] = {200, "ok"},
    [ERR_INVALID_REQUEST] = {400, "invalid_request"},
    [ERR_UNAUTHORIZED] = {401, "unauthorized"},
    [ERR_FORBIDDEN] = {403, "forbidden"},
    [ERR_NOT_FOUND] = {404, "not_found"},
    [ERR_METHOD_NOT_ALLOWED] = {405, "method_not_allowed"},
    [ERR_CONFLICT] = {409, "conflict"},
    [ERR_TOO_LARGE] = {413, "request_too_large"},
    [ERR_HEADERS_TOO_LARGE] = {431, "request_header_fields_too_large"},
    [ERR_UNSUPPORTED_MEDIA] = {415, "unsupported_media_type"},
    [ERR_RATE_LIMITED] = {429, "rate_limited"},
    [ERR_INTERNAL] = {500, "server_error"},
    [ERR_BAD_GATEWAY] = {502, "bad_gateway"},
    [ERR_UNAVAILABLE] = {503, "temporarily_unavailable"},
};

int err_set(err_t *e, err_class cls, const char *fmt, ...)
{
    if (e == NULL)
        return -1;
    e->cls = cls;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
    va_end(ap);
    return -1;
}

void err_clear(err_t *e)
{
    e->cls = ERR_NONE;
    e->detail[0] = '\0';
}

int err_http_status(err_class cls)
{
    if ((unsigned)cls >= ERR_CLASS_COUNT)
        return 500;
    return err_table[cls].status;
}

const char *err_code(err_class cls)
{
    if ((unsigned)cls >= ERR_CLASS_COUNT)
        return "server_error";
    return err_table[cls].code;
}

const char *err_code_for_status(int status)
{
    for (int c = ERR_NONE + 1; c < ERR_CLASS_COUNT; c++)
        if (err_table[c].status == status)
            return err_table[c].code;
    return "server_error";
}
