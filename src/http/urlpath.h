/* urlpath.h - turning a raw URL path into a safe relative file path. */
#ifndef TESSERA_HTTP_URLPATH_H
#define TESSERA_HTTP_URLPATH_H

#include <stddef.h>

/* Percent-decodes raw (a path captured by the router, no leading '/') into
 * out[cap] and checks it names a file under a root: segments non-empty, not
 * "." or "..", no '\\', no control characters, no encoded '/' or NUL.
 * "" stays "". Returns 0, or -1 for anything else. */
int urlpath_decode(const char *raw, char *out, size_t cap);

#endif
