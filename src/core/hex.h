/* hex.h - lower-case hexadecimal text. */
#ifndef TESSERA_CORE_HEX_H
#define TESSERA_CORE_HEX_H

#include <stddef.h>

/* Writes 2n lower-case hex characters and a NUL to out (2n + 1 bytes). */
void hex_encode(const void *in, size_t n, char *out);

/* Decodes exactly 2n hex characters (either case) from in into out[n].
 * Returns 0, or -1 when in[0..2n) holds a non-hex character. */
int hex_decode(const char *in, unsigned char *out, size_t n);

#endif
