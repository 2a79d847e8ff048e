/* email.h - the one definition of an acceptable email address.
 *
 * Accepted: ASCII dot-atom local part (1-64 chars, RFC 5322 atext and '.'),
 * '@', a domain of at least two DNS labels (letters, digits, '-'), 254 bytes
 * at most. Refused: quoted local parts, comments, IP-literal domains and any
 * non-ASCII byte (look-alike addresses). The normal form is all lower case,
 * so "Jane@Example.com" and "jane@example.com" are one user
 * (docs/DECISIONS.md). */
#ifndef TESSERA_DOMAIN_EMAIL_H
#define TESSERA_DOMAIN_EMAIL_H

#include <stddef.h>

#include "core/err.h"
#include "store/store.h"

/* Validates in[len] and writes its normal form to out. 0, or -1 with
 * ERR_INVALID_REQUEST saying what is wrong (the address is not echoed). */
int email_normalize(const char *in, size_t len, char out[STORE_EMAIL_MAX], err_t *e);

#endif
