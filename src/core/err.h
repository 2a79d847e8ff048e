/* err.h - the one error vocabulary of Tessera.
 *
 * Every failure is an err_class plus a human-readable detail. The class maps
 * to an HTTP status and an error code in exactly one table (err.c). Details
 * never contain secrets: callers format them from names and ids only. */
#ifndef TESSERA_CORE_ERR_H
#define TESSERA_CORE_ERR_H

typedef enum {
    ERR_NONE = 0,
    ERR_INVALID_REQUEST,    /* 400 invalid_request */
    ERR_UNAUTHORIZED,       /* 401 unauthorized */
    ERR_FORBIDDEN,          /* 403 forbidden */
    ERR_NOT_FOUND,          /* 404 not_found */
    ERR_METHOD_NOT_ALLOWED, /* 405 method_not_allowed */
    ERR_CONFLICT,           /* 409 conflict */
    ERR_TOO_LARGE,          /* 413 request_too_large */
    ERR_HEADERS_TOO_LARGE,  /* 431 request_header_fields_too_large */
    ERR_UNSUPPORTED_MEDIA,  /* 415 unsupported_media_type */
    ERR_RATE_LIMITED,       /* 429 rate_limited */
    ERR_INTERNAL,           /* 500 server_error */
    ERR_BAD_GATEWAY,        /* 502 bad_gateway: a host service Tessera called failed */
    ERR_UNAVAILABLE,        /* 503 temporarily_unavailable */
    ERR_CLASS_COUNT
} err_class;

#define ERR_DETAIL_MAX 256

typedef struct {
    err_class cls;
    char detail[ERR_DETAIL_MAX];
} err_t;

/* Records cls and a printf-formatted detail in *e (e may be NULL).
 * Always returns -1 so callers can write `return err_set(e, ...)`. */
int err_set(err_t *e, err_class cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Resets *e to ERR_NONE with an empty detail. */
void err_clear(err_t *e);

/* The HTTP status of a class (500 for unknown classes). */
int err_http_status(err_class cls);

/* The JSON "error" code of a class, e.g. "invalid_request". Static string. */
const char *err_code(err_class cls);

/* The code of the class whose HTTP status is status, e.g. 429 ->
 * "rate_limited"; "server_error" when no class has it. Static string. */
const char *err_code_for_status(int status);

#endif
