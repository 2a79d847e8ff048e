#include "core/pack.h"

#include <stdlib.h>
#include <string.h>

#include "core/hex.h"
#include "core/uuid.h"
#include "core/xalloc.h"

#define UUID_TEXT_LEN (UUID_STR_LEN - 1)
#define UUID_BYTES 16
#define HEX_BYTES_MAX 255 /* a tag byte counts them */

/* The value of a lower-case hex digit, or -1. */
static int lower_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes the lower-case hex digits of text[0..len), where dashes[i] == '-'
 * wants a '-' instead, into out; the byte count, or 0 when text does not
 * have exactly that form. */
static size_t decode(const char *text, size_t len, const char *dashes, unsigned char *out)
{
    size_t n = 0;
    int hi = -1;
    for (size_t i = 0; i < len; i++) {
        if (dashes[i] == '-') {
            if (text[i] != '-')
                return 0;
            continue;
        }
        int v = lower_hex(text[i]);
        if (v < 0)
            return 0;
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (unsigned char)(hi << 4 | v);
            hi = -1;
        }
    }
    return hi < 0 ? n : 0;
}

/* The n bytes text stands for when it is in field kind's lower-case form,
 * written to out[HEX_BYTES_MAX]; 0 when it is not. */
static size_t compact(pack_kind kind, const char *text, size_t len, unsigned char *out)
{
    static const char uuid_dashes[] = "........-....-....-....-............";
    static const char no_dashes[2 * HEX_BYTES_MAX] = {0};
    if (kind == PACK_KIND_UUID)
        return len == UUID_TEXT_LEN ? decode(text, len, uuid_dashes, out) : 0;
    if (kind == PACK_KIND_HEX && len > 0 && len <= 2 * HEX_BYTES_MAX)
        return decode(text, len, no_dashes, out);
    return 0;
}

/* Writes text (len bytes, no NUL in them) as a field of kind packs it;
 * returns the bytes written (at most len + 2). */
static size_t put_text(pack_kind kind, const char *text, size_t len, unsigned char *p)
{
    size_t at = 0;
    if (kind == PACK_KIND_UUID || kind == PACK_KIND_HEX) {
        size_t n = compact(kind, text, len, p + 1);
        p[at++] = (unsigned char)n;
        if (n > 0)
            return at + n;
    }
    memcpy(p + at, text, len);
    p[at + len] = '\0';
    return at + len + 1;
}

/* The length of field f packed at p. */
static size_t packed_len(const pack_field *f, const unsigned char *p)
{
    if (f->kind == PACK_KIND_BYTES)
        return f->size;
    if (f->kind == PACK_KIND_TEXT)
        return strlen((const char *)p) + 1;
    return p[0] > 0 ? 1 + (size_t)p[0] : 1 + strlen((const char *)p + 1) + 1;
}

static size_t text_len(const pack_field *f, const unsigned char *r)
{
    return strnlen((const char *)r + f->offset, f->size - 1);
}

void *pack_new(const pack_layout *l, const void *rec, size_t head)
{
    /* Packed into a scratch record first (a field packs to at most size + 1
     * bytes), then copied to a block of the exact size. */
    const unsigned char *r = rec;
    unsigned char *scratch = xmalloc(l->size + l->nfields), *p = scratch;
    for (size_t i = 0; i < l->nfields; i++) {
        const pack_field *f = &l->fields[i];
        if (f->kind == PACK_KIND_BYTES) {
            memcpy(p, r + f->offset, f->size);
            p += f->size;
        } else {
            p += put_text(f->kind, (const char *)r + f->offset, text_len(f, r), p);
        }
    }
    size_t len = (size_t)(p - scratch);
    unsigned char *block = xmalloc(head + len);
    memset(block, 0, head);
    memcpy(block + head, scratch, len);
    free(scratch);
    return block;
}

/* Writes a UUID or HEX field's n bytes back as their lower-case text. */
static void expand(pack_kind kind, const unsigned char *bytes, size_t n, char *out)
{
    if (kind == PACK_KIND_UUID)
        uuid_format(bytes, out); /* n is UUID_BYTES: only a UUID's text packs to a tag */
    else
        hex_encode(bytes, n, out);
}

void pack_unpack(const pack_layout *l, const unsigned char *packed, void *rec)
{
    unsigned char *r = rec;
    memset(r, 0, l->size);
    for (size_t i = 0; i < l->nfields; i++) {
        const pack_field *f = &l->fields[i];
        size_t n = packed_len(f, packed);
        if (f->kind == PACK_KIND_BYTES || f->kind == PACK_KIND_TEXT)
            memcpy(r + f->offset, packed, n);
        else if (packed[0] == 0)
            memcpy(r + f->offset, packed + 1, n - 1);
        else
            expand(f->kind, packed + 1, packed[0], (char *)r + f->offset);
        packed += n;
    }
}

const unsigned char *pack_span(const pack_layout *l, const unsigned char *packed, size_t i,
                               size_t *len)
{
    for (size_t k = 0; k < i; k++)
        packed += packed_len(&l->fields[k], packed);
    *len = packed_len(&l->fields[i], packed);
    return packed;
}

size_t pack_key(const pack_layout *l, size_t i, const char *text, unsigned char out[PACK_KEY_MAX])
{
    const pack_field *f = &l->fields[i];
    size_t len = strlen(text);
    if (f->kind == PACK_KIND_BYTES || f->size > PACK_KEY_MAX - 1 || len >= f->size)
        return 0;
    return put_text(f->kind, text, len, out);
}

int pack_field_is(const pack_layout *l, const unsigned char *packed, size_t i, const char *text)
{
    unsigned char key[PACK_KEY_MAX];
    size_t n = pack_key(l, i, text, key), have;
    const unsigned char *span = pack_span(l, packed, i, &have);
    return n > 0 && n == have && memcmp(span, key, n) == 0;
}
