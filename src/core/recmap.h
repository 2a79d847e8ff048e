/* recmap.h - records found by a key they carry inside them.
 *
 * An open-addressing hash table (linear probing, as core/hmap.h) whose slots
 * are only the record pointers: the key of a record is read from the record
 * itself through key_of, so the map copies no key and a slot is 8 bytes. For
 * the directory's big tables (100,000 orgs, tokens, groups), where hmap's
 * copied keys and 24-byte slots would be most of the memory. A key is a run
 * of bytes (e.g. a packed field, core/pack.h); keys are equal when their
 * bytes are. Records are the caller's; recmap_free can free them through a
 * callback. Not thread-safe. */
#ifndef TESSERA_CORE_RECMAP_H
#define TESSERA_CORE_RECMAP_H

#include <stddef.h>

/* The key of rec: *len bytes inside the record, unchanged while it is in a map. */
typedef const void *(*recmap_key_fn)(const void *rec, size_t *len);

typedef struct {
    void **slots;  /* NULL = empty; RECMAP_TOMB (recmap.c) = deleted */
    size_t cap;    /* power of two, 0 before the first put */
    size_t len;    /* live records */
    size_t used;   /* live + tombstones */
    recmap_key_fn key_of;
} recmap;

void recmap_init(recmap *m, recmap_key_fn key_of);
/* The record whose key is the len bytes at key, or NULL. */
void *recmap_get(const recmap *m, const void *key, size_t len);
/* Stores rec under its key; returns the record it replaces (or NULL) for the
 * caller to free. */
void *recmap_put(recmap *m, void *rec);
/* Removes the record whose key is key[len] and returns it (or NULL). */
void *recmap_del(recmap *m, const void *key, size_t len);
/* Frees the table, calling free_rec (if non-NULL) on each record. */
void recmap_free(recmap *m, void (*free_rec)(void *rec));

#endif
