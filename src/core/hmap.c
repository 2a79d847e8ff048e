#include "core/hmap.h"

#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

static char hmap_tomb_marker;
#define HMAP_TOMB (&hmap_tomb_marker)

/* FNV-1a: keys are ids and hashes chosen by Tessera, and a lookup never
 * inserts, so hostile keys cannot grow a chain. */
uint64_t hmap_hash_bytes(const void *key, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = key; p < (const unsigned char *)key + len; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t hmap_hash(const char *key)
{
    return hmap_hash_bytes(key, strlen(key));
}

void hmap_init(hmap *m)
{
    memset(m, 0, sizeof(*m));
}

static hmap_slot *hmap_find(const hmap *m, const char *key, uint64_t h)
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = h & (m->cap - 1), n = 0; n < m->cap; i = (i + 1) & (m->cap - 1), n++) {
        hmap_slot *s = &m->slots[i];
        if (s->key == NULL)
            return NULL;
        if (s->key != HMAP_TOMB && s->hash == h && strcmp(s->key, key) == 0)
            return s;
    }
    return NULL;
}

static void hmap_grow(hmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    if (m->len * 4 < m->cap)
        cap = m->cap; /* mostly tombstones: rehash in place size */
    hmap_slot *old = m->slots;
    size_t oldcap = m->cap;
    m->slots = xcalloc(cap, sizeof(hmap_slot));
    m->cap = cap;
    m->used = m->len;
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].key == NULL || old[i].key == HMAP_TOMB)
            continue;
        size_t j = old[i].hash & (cap - 1);
        while (m->slots[j].key != NULL)
            j = (j + 1) & (cap - 1);
        m->slots[j] = old[i];
    }
    free(old);
}

void *hmap_get(const hmap *m, const char *key)
{
    hmap_slot *s = hmap_find(m, key, hmap_hash(key));
    return s ? s->val : NULL;
}

void *hmap_put(hmap *m, const char *key, void *val)
{
    uint64_t h = hmap_hash(key);
    hmap_slot *s = hmap_find(m, key, h);
    if (s != NULL) {
        void *old = s->val;
        s->val = val;
        return old;
    }
    if ((m->used + 1) * 4 > m->cap * 3)
        hmap_grow(m);
    size_t i = h & (m->cap - 1);
    while (m->slots[i].key != NULL && m->slots[i].key != HMAP_TOMB)
        i = (i + 1) & (m->cap - 1);
    if (m->slots[i].key == NULL)
        m->used++;
    m->slots[i].key = xstrdup(key);
    m->slots[i].val = val;
    m->slots[i].hash = h;
    m->len++;
    return NULL;
}

void *hmap_del(hmap *m, const char *key)
{
    hmap_slot *s = hmap_find(m, key, hmap_hash(key));
    if (s == NULL)
        return NULL;
    void *val = s->val;
    free(s->key);
    s->key = HMAP_TOMB;
    s->val = NULL;
    m->len--;
    return val;
}

void hmap_each(const hmap *m, void (*fn)(void *ctx, const char *key, void *val), void *ctx)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key != NULL && m->slots[i].key != HMAP_TOMB)
            fn(ctx, m->slots[i].key, m->slots[i].val);
}

void hmap_free(hmap *m, void (*free_val)(void *val))
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key == NULL || m->slots[i].key == HMAP_TOMB)
            continue;
        free(m->slots[i].key);
        if (free_val)
            free_val(m->slots[i].val);
    }
    free(m->slots);
    hmap_init(m);
}
