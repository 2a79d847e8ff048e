/* ratelimit.h - token buckets per key (an access token id, a session jti),
 * in memory, per process: each node of a deployment limits on its own.
 *
 * A bucket holds at most `burst` requests and refills at `rps` requests per
 * second; a request takes one. The rule is passed on every call, so a new
 * limit applies at once (a fuller bucket than the new burst is cut down).
 *
 * Memory is bounded: the table has a fixed number of entries, fixed at
 * creation, in sets of RATELIMIT_WAYS. A new key takes a free entry of its
 * set, else the one whose bucket is (or will soonest be) full again: a full
 * bucket is the same as no entry. Keys are stored as 64-bit keyed hashes.
 * Thread-safe (a mutex per shard of sets); no allocation after creation. */
#ifndef TESSERA_DOMAIN_RATELIMIT_H
#define TESSERA_DOMAIN_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_WAYS 8
#define RATELIMIT_MAX_RATE 1000000 /* the largest rps and burst a rule may have */

typedef struct ratelimit ratelimit;

typedef struct {
    int64_t rps;   /* requests per second, 1 to RATELIMIT_MAX_RATE */
    int64_t burst; /* bucket size, 1 to RATELIMIT_MAX_RATE */
} ratelimit_rule;

/* What one request found; the numbers are what the RateLimit-* response
 * fields carry (docs/API.md#limits). */
typedef struct {
    int allowed;         /* 1: the request took a unit; 0: refuse it (429) */
    int64_t limit;       /* the burst */
    int64_t remaining;   /* whole units left after this request */
    int64_t reset;       /* seconds (rounded up) until the bucket is full again */
    int64_t retry_after; /* refused: seconds (>= 1, rounded up) until one unit; else 0 */
} ratelimit_result;

/* A table of about `capacity` entries (rounded up to whole sets). */
ratelimit *ratelimit_new(size_t capacity);
void ratelimit_free(ratelimit *rl);

/* Takes one unit from key's bucket under rule at now_us (a monotonic clock
 * in microseconds; callers pass clock_mono_us(), tests their own). *out is
 * always filled. Returns out->allowed. */
int ratelimit_take(ratelimit *rl, const char *key, const ratelimit_rule *rule, int64_t now_us,
                   ratelimit_result *out);

/* 1 when rule is within the bounds above. */
int ratelimit_rule_valid(const ratelimit_rule *rule);

#endif
