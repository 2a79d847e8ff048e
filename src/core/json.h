/* json.h - strict JSON input over jansson.
 *
 * Network JSON is parsed only through json_parse_strict: size and depth are
 * checked before jansson sees the text, duplicate keys are rejected, and
 * strings must be valid UTF-8 without NUL. */
#ifndef TESSERA_CORE_JSON_H
#define TESSERA_CORE_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "core/err.h"

#define JSON_MAX_DEPTH 32

/* Parses text[len]. Returns a new reference (caller json_decref's) or NULL
 * with ERR_INVALID_REQUEST in *e naming what is wrong (position, not text).
 * flags are extra jansson decode flags (e.g. JSON_DECODE_INT_AS_REAL). */
json_t *json_parse_strict(const char *text, size_t len, size_t max_depth, size_t flags, err_t *e);

/* Deepest nesting of arrays/objects in text (strings are skipped). */
size_t json_nesting_depth(const char *text, size_t len);

/* In a text already accepted by json_parse_strict, the index just past the
 * JSON value that starts at text[start] (len when it runs to the end). */
size_t json_value_end(const char *text, size_t len, size_t start);

/* In a text already accepted by json_parse_strict whose top level is an
 * object, finds the raw bytes of the value of top-level member `key`.
 * Returns 0 and sets *off and *vlen, or -1 when the member is absent. */
int json_raw_member(const char *text, size_t len, const char *key, size_t *off, size_t *vlen);

#endif
