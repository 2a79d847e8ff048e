#include "core/pack.h"

#include <string.h>

#include "core/xalloc.h"

static size_t field_len(const pack_field *f, const unsigned char *p)
{
    return f->text ? strnlen((const char *)p, f->size - 1) + 1 : f->size;
}

void *pack_new(const pack_layout *l, const void *rec, size_t head)
{
    const unsigned char *r = rec;
    size_t total = head;
    for (size_t i = 0; i < l->nfields; i++)
        total += field_len(&l->fields[i], r + l->fields[i].offset);
    unsigned char *block = xmalloc(total);
    memset(block, 0, head);
    unsigned char *p = block + head;
    for (size_t i = 0; i < l->nfields; i++) {
        const pack_field *f = &l->fields[i];
        size_t n = field_len(f, r + f->offset);
        memcpy(p, r + f->offset, n);
        if (f->text)
            p[n - 1] = '\0'; /* a field cut at size - 1 */
        p += n;
    }
    return block;
}

void pack_unpack(const pack_layout *l, const unsigned char *packed, void *rec)
{
    unsigned char *r = rec;
    memset(r, 0, l->size);
    for (size_t i = 0; i < l->nfields; i++) {
        const pack_field *f = &l->fields[i];
        size_t n = field_len(f, packed);
        memcpy(r + f->offset, packed, n);
        packed += n;
    }
}

const char *pack_field_at(const pack_layout *l, const unsigned char *packed, size_t i)
{
    for (size_t k = 0; k < i; k++)
        packed += field_len(&l->fields[k], packed);
    return (const char *)packed;
}
