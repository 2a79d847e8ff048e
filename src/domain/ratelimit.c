#include "domain/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/xalloc.h"
#include "crypto/crypto.h"

/* Levels are kept in micro-units: one request costs UNIT, and a rate of rps
 * requests per second refills exactly rps micro-units per microsecond, so
 * the arithmetic is in integers. burst * UNIT <= 1e12 fits easily. */
#define UNIT 1000000
#define SHARDS 64

typedef struct {
    uint64_t key;    /* keyed hash of the key; 0 = free */
    int64_t level;   /* micro-units in the bucket at `last` */
    int64_t last;    /* microseconds */
    int64_t full_at; /* when the bucket will be full again (eviction order) */
} bucket;

struct ratelimit {
    bucket *buckets; /* nsets * RATELIMIT_WAYS, owned */
    size_t nsets;    /* a power of two */
    uint64_t seed;
    pthread_mutex_t shard[SHARDS];
};

ratelimit *ratelimit_new(size_t capacity)
{
    ratelimit *rl = xcalloc(1, sizeof(*rl));
    size_t want = (capacity + RATELIMIT_WAYS - 1) / RATELIMIT_WAYS;
    rl->nsets = 1;
    while (rl->nsets < want)
        rl->nsets *= 2;
    rl->buckets = xcalloc(rl->nsets * RATELIMIT_WAYS, sizeof(bucket));
    crypto_random(&rl->seed, sizeof(rl->seed));
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_init(&rl->shard[i], NULL);
    return rl;
}

void ratelimit_free(ratelimit *rl)
{
    if (rl == NULL)
        return;
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_destroy(&rl->shard[i]);
    free(rl->buckets);
    free(rl);
}

int ratelimit_rule_valid(const ratelimit_rule *rule)
{
    return rule->rps >= 1 && rule->rps <= RATELIMIT_MAX_RATE && rule->burst >= 1 &&
           rule->burst <= RATELIMIT_MAX_RATE;
}

/* FNV-1a over the key, seeded, with a final avalanche so the low bits
 * (the set index) depend on every byte. Never 0 (0 marks a free entry). */
static uint64_t key_hash(uint64_t seed, const char *key)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h ? h : 1;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

/* The entry for h in set (shard lock held): its own, a free one, or the
 * one that will soonest be full again (reset to a full bucket). */
static bucket *find_or_evict(bucket *set, uint64_t h, int64_t now, int64_t max)
{
    bucket *victim = &set[0];
    for (int i = 0; i < RATELIMIT_WAYS; i++) {
        if (set[i].key == h)
            return &set[i];
        if (set[i].key == 0 || (victim->key != 0 && set[i].full_at < victim->full_at))
            victim = &set[i];
    }
    victim->key = h;
    victim->level = max;
    victim->last = now;
    victim->full_at = now;
    return victim;
}

int ratelimit_take(ratelimit *rl, const char *key, const ratelimit_rule *rule, int64_t now_us,
                   ratelimit_result *out)
{
    const int64_t rps = rule->rps, max = rule->burst * UNIT;
    uint64_t h = key_hash(rl->seed, key);
    size_t set = (size_t)h & (rl->nsets - 1);
    pthread_mutex_t *mu = &rl->shard[set % SHARDS];
    pthread_mutex_lock(mu);
    bucket *b = find_or_evict(&rl->buckets[set * RATELIMIT_WAYS], h, now_us, max);
    int64_t elapsed = now_us > b->last ? now_us - b->last : 0;
    int64_t level = b->level < max ? b->level : max;
    /* elapsed * rps may overflow after a long idle time: compare first. */
    level = elapsed >= (max - level) / rps + 1 ? max : level + elapsed * rps;
    if (level > max)
        level = max;
    out->allowed = level >= UNIT;
    if (out->allowed)
        level -= UNIT;
    b->level = level;
    b->last = now_us;
    b->full_at = now_us + ceil_div(max - level, rps);
    pthread_mutex_unlock(mu);

    out->limit = rule->burst;
    out->remaining = level / UNIT;
    out->reset = ceil_div(ceil_div(max - level, rps), 1000000);
    out->retry_after = out->allowed ? 0 : ceil_div(ceil_div(UNIT - level, rps), 1000000);
    if (!out->allowed && out->retry_after < 1)
        out->retry_after = 1;
    return out->allowed;
}
