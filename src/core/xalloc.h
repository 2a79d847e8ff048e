/* xalloc.h - allocation with Tessera's out-of-memory policy.
 *
 * Policy (docs/internals/MEMORY.md): every input is bounded before it is
 * allocated for, so an allocation failure means the machine is out of memory;
 * the process logs and aborts rather than running untested recovery paths. */
#ifndef TESSERA_CORE_XALLOC_H
#define TESSERA_CORE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);              /* caller frees */
void *xcalloc(size_t count, size_t n);/* caller frees */
void *xrealloc(void *p, size_t n);    /* caller frees the result */
char *xstrdup(const char *s);         /* caller frees */
char *xstrndup(const char *s, size_t n); /* caller frees; NUL-terminated */

/* Copies src into dst[cap] truncating; always NUL-terminates when cap > 0.
 * Returns 0 when everything fit, -1 when truncated. */
int str_copy(char *dst, size_t cap, const char *src);

#endif
