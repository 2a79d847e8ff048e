/* pack.h - a fixed-size record kept in as few bytes as its content needs.
 *
 * The store's records (store.h) are structs of char arrays sized for the
 * longest value allowed, and numbers: a store_token is 680 bytes, of which a
 * typical token uses some 250. A table that holds many of them (the
 * directory: 100,000 orgs and tokens and groups) keeps each packed: the
 * fields in layout order,
 *   - TEXT:  the text up to and including its NUL;
 *   - BYTES: the field's bytes as they are (numbers);
 *   - UUID, HEX: text that is usually a lower-case UUID (36 characters) or
 *     lower-case hex of even length: one tag byte n, then the n bytes it
 *     stands for (16 for a UUID, half the digits for hex); any other text is
 *     tag 0 and the text as TEXT keeps it. Only the lower-case form is
 *     compacted, so two different texts never pack alike.
 * Unpacking gives back the record exactly: every text field NUL-terminated,
 * the rest of its array zero. */
#ifndef TESSERA_CORE_PACK_H
#define TESSERA_CORE_PACK_H

#include <stddef.h>

typedef enum { PACK_KIND_TEXT, PACK_KIND_BYTES, PACK_KIND_UUID, PACK_KIND_HEX } pack_kind;

typedef struct {
    size_t offset;
    size_t size;
    pack_kind kind;
} pack_field;

typedef struct {
    const pack_field *fields; /* in the order they are packed */
    size_t nfields;
    size_t size;              /* sizeof the record */
} pack_layout;

#define PACK_FIELD(type, member, kind) {offsetof(type, member), sizeof(((type *)0)->member), kind}
#define PACK_TEXT(type, member) PACK_FIELD(type, member, PACK_KIND_TEXT)
#define PACK_BYTES(type, member) PACK_FIELD(type, member, PACK_KIND_BYTES)
#define PACK_UUID(type, member) PACK_FIELD(type, member, PACK_KIND_UUID)
#define PACK_HEX(type, member) PACK_FIELD(type, member, PACK_KIND_HEX)
#define PACK_LAYOUT(type, fields) {fields, sizeof(fields) / sizeof(fields[0]), sizeof(type)}

/* The most bytes pack_key writes: a key field is at most this minus 1 long. */
#define PACK_KEY_MAX 256

/* A new allocation (caller frees) of head zero bytes followed by rec packed:
 * head lets a caller's struct end in the packed record (a flexible array
 * member at offset head); 0 for the packed record alone. A text field
 * without a NUL in its array is cut to size - 1 bytes. */
void *pack_new(const pack_layout *l, const void *rec, size_t head);
/* Writes the record packed by pack_new into rec (l->size bytes). */
void pack_unpack(const pack_layout *l, const unsigned char *packed, void *rec);

/* Field i of a packed record as it is packed: *len bytes at the result. A
 * TEXT field's bytes are its C string and NUL. */
const unsigned char *pack_span(const pack_layout *l, const unsigned char *packed, size_t i,
                               size_t *len);
/* Writes text as field i (TEXT, UUID or HEX) would pack it into
 * out[PACK_KEY_MAX]: equal to pack_span's bytes exactly when the field holds
 * that text. Returns the length, or 0 when no record can hold text there
 * (longer than the field, or the field is longer than a key may be). */
size_t pack_key(const pack_layout *l, size_t i, const char *text, unsigned char out[PACK_KEY_MAX]);
/* 1 when field i of packed holds text. */
int pack_field_is(const pack_layout *l, const unsigned char *packed, size_t i, const char *text);

#endif
