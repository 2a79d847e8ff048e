/* clock.h - wall-clock time and ISO 8601. */
#ifndef TESSERA_CORE_CLOCK_H
#define TESSERA_CORE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

int64_t clock_now(void);     /* seconds since the epoch (UTC) */
int64_t clock_now_ms(void);  /* milliseconds since the epoch (UTC) */
int64_t clock_mono_ms(void); /* monotonic milliseconds, for intervals */
int64_t clock_mono_us(void); /* monotonic microseconds, for intervals */

/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" into out[21]. */
void clock_iso8601(int64_t t, char out[21]);

/* Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS][.frac](Z|+HH:MM|-HH:MM)".
 * Returns 0 and sets *t, or -1 on anything else. */
int clock_parse_iso8601(const char *s, int64_t *t);

#endif
