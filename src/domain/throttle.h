/* throttle.h - counting failures per key in fixed windows (sign-in
 * throttling). In memory, per process; bounded: when full, the oldest
 * windows are dropped first. Thread-safe. */
#ifndef TESSERA_DOMAIN_THROTTLE_H
#define TESSERA_DOMAIN_THROTTLE_H

#include <stdint.h>

typedef struct throttle throttle;

/* At most max_failures per key within window_seconds; at most max_keys keys. */
throttle *throttle_new(unsigned max_failures, int64_t window_seconds, unsigned max_keys);
void throttle_free(throttle *t);

/* 0 when key may try now; else the seconds until it may (Retry-After). */
int64_t throttle_check(throttle *t, const char *key, int64_t now);
/* Records a failure for key. */
void throttle_fail(throttle *t, const char *key, int64_t now);
/* Forgets key (after a success). */
void throttle_reset(throttle *t, const char *key);

#endif
