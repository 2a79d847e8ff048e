/* buf.h - growable byte buffers with a maximum size fixed at creation.
 *
 * No input can grow a buf past its max: appends that would return -1 and
 * leave the buffer unchanged. The data is always NUL-terminated. */
#ifndef TESSERA_CORE_BUF_H
#define TESSERA_CORE_BUF_H

#include <stddef.h>

typedef struct {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
    size_t max;
} buf_t;

void buf_init(buf_t *b, size_t max);
int buf_append(buf_t *b, const void *p, size_t n);
int buf_puts(buf_t *b, const char *s);
int buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
int buf_json_string(buf_t *b, const char *s, size_t n);
void buf_reset(buf_t *b);  /* len = 0, keeps memory */
void buf_free(buf_t *b);   /* frees memory; b may be reused after buf_init */
/* Hands the data to the caller (caller frees) and re-initialises b empty. */
char *buf_take(buf_t *b);
/* data as a C string ("" when empty). Valid until the next append. */
const char *buf_str(const buf_t *b);

#endif
