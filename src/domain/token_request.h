/* token_request.h - the body of POST /api/v1/public/token, parsed and
 * validated (DESIGN section 2; limits in docs/API.md). Pure: no I/O. */
#ifndef TESSERA_DOMAIN_TOKEN_REQUEST_H
#define TESSERA_DOMAIN_TOKEN_REQUEST_H

#include <stddef.h>

#include "core/err.h"
#include "store/store.h"

#define TOKEN_REQ_MAX_GROUPS 100
#define TOKEN_REQ_MAX_METADATA 8192 /* bytes of the metadata object's JSON text */
#define TOKEN_REQ_MAX_NAME 200      /* bytes */
#define TOKEN_REQ_MAX_CORRELATION 128

typedef struct {
    char email[STORE_EMAIL_MAX]; /* normalised */
    char name[STORE_NAME_MAX];   /* "" when absent */
    char group_ids[TOKEN_REQ_MAX_GROUPS][STORE_ID_MAX]; /* lower-case, no duplicates */
    size_t ngroups;
    const char *metadata_raw;    /* points into the body; NULL when absent */
    size_t metadata_len;
    char correlation_id[TOKEN_REQ_MAX_CORRELATION + 1]; /* metadata.correlationId or .externalUserId, else "" */
    int platform_user;           /* isSuperblocksUser / isSuperblocks */
    int has_subject_token;       /* token exchange: subject_token with a known type */
    char subject_token[STORE_SUBJECT_TOKEN_MAX + 1]; /* a secret: never log it */
    size_t subject_token_len;
    char subject_token_type[64]; /* one of the TOKEN_TYPE_* URNs */
} token_request;

/* The subject_token_type values accepted (RFC 8693 section 3). */
#define TOKEN_TYPE_ACCESS_TOKEN "urn:ietf:params:oauth:token-type:access_token"
#define TOKEN_TYPE_ID_TOKEN "urn:ietf:params:oauth:token-type:id_token"
#define TOKEN_TYPE_JWT "urn:ietf:params:oauth:token-type:jwt"

/* Parses body[len] into *out. metadata_raw borrows from body, so body must
 * outlive *out. Returns 0, or -1 with ERR_INVALID_REQUEST naming the field. */
int token_request_parse(const char *body, size_t len, token_request *out, err_t *e);

#endif
