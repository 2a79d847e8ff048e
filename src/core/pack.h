/* pack.h - a fixed-size record kept in as few bytes as its content needs.
 *
 * The store's records (store.h) are structs of char arrays sized for the
 * longest value allowed, and numbers: a store_token is 680 bytes, of which a
 * typical token uses some 250. A table that holds many of them (the
 * directory: 100,000 orgs and tokens and groups) keeps each packed: the
 * fields in layout order, a text field up to and including its NUL, any
 * other field as its bytes. Unpacking gives back the record exactly, every
 * text field NUL-terminated and the rest of its array zero. */
#ifndef TESSERA_CORE_PACK_H
#define TESSERA_CORE_PACK_H

#include <stddef.h>

typedef struct {
    size_t offset;
    size_t size;
    int text; /* 1: a NUL-terminated char array; 0: bytes copied as they are */
} pack_field;

typedef struct {
    const pack_field *fields; /* in the order they are packed */
    size_t nfields;
    size_t size;              /* sizeof the record */
} pack_layout;

#define PACK_TEXT(type, member) {offsetof(type, member), sizeof(((type *)0)->member), 1}
#define PACK_BYTES(type, member) {offsetof(type, member), sizeof(((type *)0)->member), 0}
#define PACK_LAYOUT(type, fields) {fields, sizeof(fields) / sizeof(fields[0]), sizeof(type)}

/* A new allocation (caller frees) of head zero bytes followed by rec packed:
 * head lets a caller's struct end in the packed record (a flexible array
 * member at offset head); 0 for the packed record alone. A text field
 * without a NUL in its array is cut to size - 1 bytes. */
void *pack_new(const pack_layout *l, const void *rec, size_t head);
/* Writes the record packed by pack_new into rec (l->size bytes). */
void pack_unpack(const pack_layout *l, const unsigned char *packed, void *rec);
/* Where field i starts inside packed: for a text field, its C string. */
const char *pack_field_at(const pack_layout *l, const unsigned char *packed, size_t i);

#endif
