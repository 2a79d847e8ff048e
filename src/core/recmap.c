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

/* The slot holding key's record, or NULL. A probe reads each record's key;
 * its first bytes differ for all but the record looked for. */
static void **find(const recmap *m, const char *key)
{
    if (m->cap == 0)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = hmap_hash(key) & mask, n = 0; n < m->cap; i = (i + 1) & mask, n++) {
        void **s = &m->slots[i];
        if (*s == NULL)
            return NULL;
        if (*s != RECMAP_TOMB && strcmp(m->key_of(*s), key) == 0)
            return s;
    }
    return NULL;
}

/* The first free slot for key in slots[cap] (one exists: load stays <= 3/4). */
static void **free_slot(void **slots, size_t cap, const char *key)
{
    size_t i = hmap_hash(key) & (cap - 1);
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
            *free_slot(m->slots, cap, m->key_of(old[i])) = old[i];
    free(old);
}

void *recmap_get(const recmap *m, const char *key)
{
    void **s = find(m, key);
    return s ? *s : NULL;
}

void *recmap_put(recmap *m, void *rec)
{
    const char *key = m->key_of(rec);
    void **s = find(m, key);
    if (s != NULL) {
        void *old = *s;
        *s = rec;
        return old;
    }
    if ((m->used + 1) * 4 > m->cap * 3)
        grow(m);
    s = free_slot(m->slots, m->cap, key);
    if (*s == NULL)
        m->used++;
    *s = rec;
    m->len++;
    return NULL;
}

void *recmap_del(recmap *m, const char *key)
{
    void **s = find(m, key);
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
