/* hmap.h - string-keyed hash map (open addressing, linear probing).
 *
 * The map owns copies of its keys; values are borrowed pointers whose owner
 * is the caller (hmap_free can free them through a callback). Not
 * thread-safe: the owner of a map serialises access to it. */
#ifndef TESSERA_CORE_HMAP_H
#define TESSERA_CORE_HMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *key; /* NULL = empty; HMAP_TOMB = deleted */
    void *val;
    uint64_t hash;
} hmap_slot;

typedef struct {
    hmap_slot *slots;
    size_t cap;  /* power of two, 0 before the first put */
    size_t len;  /* live entries */
    size_t used; /* live + tombstones */
} hmap;

void hmap_init(hmap *m);
/* The hash of len bytes (FNV-1a); core/recmap.c uses it too. */
uint64_t hmap_hash_bytes(const void *key, size_t len);
/* The value stored under key, or NULL. */
void *hmap_get(const hmap *m, const char *key);
/* Stores val under key; returns the previous value (or NULL) for the caller to free. */
void *hmap_put(hmap *m, const char *key, void *val);
/* Removes key; returns its value (or NULL). */
void *hmap_del(hmap *m, const char *key);
/* Calls fn for every entry (no changes to m during the walk). */
void hmap_each(const hmap *m, void (*fn)(void *ctx, const char *key, void *val), void *ctx);
/* Frees the map's memory, calling free_val (if non-NULL) on each value. */
void hmap_free(hmap *m, void (*free_val)(void *val));

#endif
