/* fuzz_pack.c - src/core/pack.h and src/core/recmap.h, the directory's
 * records and the lookups every request makes with ids it was sent (group
 * ids of a token request, ids in admin URLs, the hash of an access token).
 *
 * The input is two texts a and b ('\n' between them), each cut at its first
 * NUL as a C string would be. Beyond "no crash, no out-of-bounds access":
 * - a record whose UUID, HEX and TEXT fields hold a packs and unpacks to
 *   exactly those texts (cut to the field's size - 1), zero after them;
 * - a lookup with b finds a's field exactly when b is the text stored
 *   there: never for another case, a prefix, or a longer text;
 * - a recmap holding the records of a and b keyed by their UUID field finds
 *   each by its own text and holds one record when the two keys are equal. */
#include "core/pack.h"
#include "core/recmap.h"
#include "fuzz_util.h"

typedef struct {
    char id[37];
    char hash[65];
    char name[201];
} record;

enum { F_ID, F_HASH, F_NAME, NFIELDS };
static const pack_field record_fields[] = {
    PACK_UUID(record, id),
    PACK_HEX(record, hash),
    PACK_TEXT(record, name),
};
static const pack_layout layout = PACK_LAYOUT(record, record_fields);

static record record_of(const char *text)
{
    record r;
    memset(&r, 0, sizeof(r));
    strncpy(r.id, text, sizeof(r.id) - 1);
    strncpy(r.hash, text, sizeof(r.hash) - 1);
    strncpy(r.name, text, sizeof(r.name) - 1);
    return r;
}

static const char *field_text(const record *r, size_t i)
{
    return i == F_ID ? r->id : i == F_HASH ? r->hash : r->name;
}

static const void *id_key(const void *rec, size_t *len)
{
    return pack_span(&layout, rec, F_ID, len);
}

static void check_round_trip(const record *in, const unsigned char *packed)
{
    record out;
    memset(&out, 0x5a, sizeof(out));
    pack_unpack(&layout, packed, &out);
    FUZZ_CHECK(memcmp(&out, in, sizeof(out)) == 0);
}

static void check_lookups(const record *stored, const unsigned char *packed, const char *probe)
{
    for (size_t i = 0; i < NFIELDS; i++) {
        int same = strcmp(field_text(stored, i), probe) == 0;
        FUZZ_CHECK(pack_field_is(&layout, packed, i, probe) == same);
        unsigned char key[PACK_KEY_MAX];
        size_t len = pack_key(&layout, i, probe, key), have;
        const unsigned char *span = pack_span(&layout, packed, i, &have);
        FUZZ_CHECK(len == 0 || len <= PACK_KEY_MAX);
        FUZZ_CHECK((len == have && memcmp(key, span, len) == 0) == same);
    }
}

static void check_recmap(const char *a, const char *b, unsigned char *pa, unsigned char *pb)
{
    recmap m;
    recmap_init(&m, id_key);
    FUZZ_CHECK(recmap_put(&m, pa) == NULL);
    record ra = record_of(a), rb = record_of(b);
    int same = strcmp(ra.id, rb.id) == 0;
    FUZZ_CHECK(recmap_put(&m, pb) == (same ? pa : NULL));
    FUZZ_CHECK(m.len == (same ? 1u : 2u));
    unsigned char key[PACK_KEY_MAX];
    size_t len = pack_key(&layout, F_ID, rb.id, key);
    FUZZ_CHECK(len > 0 && recmap_get(&m, key, len) == pb);
    len = pack_key(&layout, F_ID, ra.id, key);
    FUZZ_CHECK(len > 0 && recmap_get(&m, key, len) == (same ? pb : pa));
    recmap_free(&m, NULL);
}

FUZZ_DEFAULT_INITIALIZE()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reader r = {data, size};
    char *a = fuzz_field(&r, NULL), *b = fuzz_rest(&r, NULL);
    record ra = record_of(a), rb = record_of(b);
    unsigned char *pa = pack_new(&layout, &ra, 0), *pb = pack_new(&layout, &rb, 0);
    check_round_trip(&ra, pa);
    check_round_trip(&rb, pb);
    check_lookups(&ra, pa, b);
    check_lookups(&ra, pa, a);
    check_recmap(a, b, pa, pb);
    free(pa);
    free(pb);
    free(a);
    free(b);
    return 0;
}
