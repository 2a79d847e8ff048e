/* uuid.h - UUID text form (36 chars + NUL). */
#ifndef TESSERA_CORE_UUID_H
#define TESSERA_CORE_UUID_H

#include <stddef.h>

#define UUID_STR_LEN 37

/* A random (version 4) UUID in lower-case text form. */
void uuid_v4(char out[UUID_STR_LEN]);

/* A time-ordered (version 7) UUID: 48 bits of Unix milliseconds, then
 * random bits. Used for high-volume rows (sessions, audit events) so that
 * inserts land at the end of their indexes instead of all over them. */
void uuid_v7(char out[UUID_STR_LEN]);

/* A name-based UUID (version 8 layout over SHA-256 of namespace "\0" name):
 * the same inputs always give the same id. */
void uuid_from_name(const char *ns, const char *name, char out[UUID_STR_LEN]);

/* The lower-case text form of the 16 bytes of a UUID. */
void uuid_format(const unsigned char b[16], char out[UUID_STR_LEN]);

/* 1 when s is exactly 36 chars of 8-4-4-4-12 hex (either case), else 0. */
int uuid_is_valid(const char *s);

#endif
