#include "core/recmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hmap.h"
#include "core/xalloc.h"

static char recmap_tomb_marker;
#define RECMAP_TOMB ((void *)&recmap_tomb_marker)

static int is_live(const void *slot)
{
    return slot != NULL && slot != RECMAP_TOMB;
}

void recmap_init(recmap *m, recmap_key_fn key_of)
{
    memset(m, 0, sizeof(*m));
    m->key_of = key_of;
}

static int key_is(const recmap *m, const void *rec, const void *key, size_t len)
{
    size_t have;
    const void *k = m->key_of(rec, &have);
    return have == len && memcmp(k, key, len) == 0;
}

/* The slot holding key's record, or NULL. A probe reads each record's key;
 * its first bytes differ for all but the record looked for. */
static void **find(const recmap *m, const void *key, size_t len)
{
    if (m->cap == 0)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = hmap_hash_bytes(key, len) & mask, n = 0; n < m->cap; i = (i + 1) & mask, n++) {
        void **s = &m->slots[i];
        if (*s == NULL)
            return NULL;
        if (*s != RECMAP_TOMB && key_is(m, *s, key, len))
            return s;
    }
    return NULL;
}

/* The first free slot for rec in slots[cap] (one exists: load stays <= 3/4). */
static void **free_slot(const recmap *m, void **slots, size_t cap, const void *rec)
{
    size_t len;
    const void *key = m->key_of(rec, &len);
    size_t i = hmap_hash_bytes(key, len) & (cap - 1);
    while (is_live(slots[i]))
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static void grow(recmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    if (m->len * 4 < m->cap)
        cap = m->cap; /* mostly tombstones: rehash at the same size */
    void **old = m->slots;
    size_t oldcap = m->cap;
    m->slots = xcalloc(cap, sizeof(*m->slots));
    m->cap = cap;
    m->used = m->len;
    for (size_t i = 0; i < oldcap; i++)
        if (is_live(old[i]))
            *free_slot(m, m->slots, cap, old[i]) = old[i];
    free(old);
}

void *recmap_get(const recmap *m, const void *key, size_t len)
{
    void **s = find(m, key, len);
    return s ? *s : NULL;
}

void *recmap_put(recmap *m, void *rec)
{
    size_t len;
    const void *key = m->key_of(rec, &len);
    void **s = find(m, key, len);
    if (s != NULL) {
        void *old = *s;
        *s = rec;
        return old;
    }
    if ((m->used + 1) * 4 > m->cap * 3)
        grow(m);
    s = free_slot(m, m->slots, m->cap, rec);
    if (*s == NULL)
        m->used++;
    *s = rec;
    m->len++;
    return NULL;
}

void *recmap_del(recmap *m, const void *key, size_t len)
{
    void **s = find(m, key, len);
    if (s == NULL)
        return NULL;
    void *rec = *s;
    *s = RECMAP_TOMB;
    m->len--;
    return rec;
}

void recmap_free(recmap *m, void (*free_rec)(void *rec))
{
    if (free_rec != NULL)
        for (size_t i = 0; i < m->cap; i++)
            if (is_live(m->slots[i]))
                free_rec(m->slots[i]);
    free(m->slots);
    recmap_init(m, m->key_of);
}
