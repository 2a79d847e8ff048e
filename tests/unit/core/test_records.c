/* Unit tests for src/core/pack.c and src/core/recmap.c: the two together
 * hold the directory's orgs, tokens and groups (domain/directory.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pack.h"
#include "core/recmap.h"

typedef struct {
    char id[37];
    int64_t n;
    char name[201];
    char hash[65];
    unsigned char raw[4];
    char empty[8];
} record;

enum { F_ID, F_N, F_NAME, F_HASH, F_RAW, F_EMPTY };
static const pack_field record_fields[] = {
    PACK_UUID(record, id), PACK_BYTES(record, n), PACK_TEXT(record, name),
    PACK_HEX(record, hash), PACK_BYTES(record, raw), PACK_TEXT(record, empty),
};
static const pack_layout record_layout = PACK_LAYOUT(record, record_fields);

#define UUID_LOWER "0b7f3c9e-1111-4222-8333-944455556666"
#define HASH_LOWER "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static record sample(const char *id, const char *hash)
{
    record r;
    memset(&r, 0x5a, sizeof(r)); /* garbage after each NUL must not survive */
    snprintf(r.id, sizeof(r.id), "%s", id);
    r.n = -1234567890123;
    snprintf(r.name, sizeof(r.name), "%s", "Customers");
    snprintf(r.hash, sizeof(r.hash), "%s", hash);
    memcpy(r.raw, "\0\1\0\2", 4);
    r.empty[0] = '\0';
    return r;
}

/* rec packed and unpacked must give rec with every array zero after its
 * text; returns the packed size. */
static size_t check_round_trip(const record *in)
{
    record out, want;
    void *packed = pack_new(&record_layout, in, 0);
    memset(&out, 0x77, sizeof(out));
    pack_unpack(&record_layout, packed, &out);
    memset(&want, 0, sizeof(want));
    memcpy(want.id, in->id, strnlen(in->id, sizeof(in->id) - 1));
    want.n = in->n;
    memcpy(want.name, in->name, strlen(in->name));
    memcpy(want.hash, in->hash, strlen(in->hash));
    memcpy(want.raw, in->raw, 4);
    assert_memory_equal(&out, &want, sizeof(want));
    size_t len;
    const unsigned char *end = pack_span(&record_layout, packed, F_EMPTY, &len);
    size_t size = (size_t)(end + len - (const unsigned char *)packed);
    free(packed);
    return size;
}

static void test_pack_round_trip(void **state)
{
    (void)state;
    record in = sample(UUID_LOWER, HASH_LOWER);
    /* UUID 1 + 16, number 8, "Customers" 10, hash 1 + 32, raw 4, "" 1. */
    assert_int_equal(check_round_trip(&in), 73);
    /* Texts not in the lower-case form stay text (tag 0): */
    in = sample("0B7F3C9E-1111-4222-8333-944455556666", "9F86");
    assert_int_equal(check_round_trip(&in), 1 + 37 + 8 + 10 + 1 + 5 + 4 + 1);
    in = sample("not-a-uuid", "abc"); /* odd hex */
    check_round_trip(&in);
    in = sample("", "");
    check_round_trip(&in);
    in = sample("0b7f3c9e-1111-4222-8333-94445555666g", "zz");
    check_round_trip(&in);
}

static void test_pack_cuts_unterminated_text(void **state)
{
    (void)state;
    record in = sample(UUID_LOWER, HASH_LOWER), out;
    memset(in.name, 'x', sizeof(in.name)); /* no NUL in the array */
    memset(in.id, 'y', sizeof(in.id));
    void *packed = pack_new(&record_layout, &in, 0);
    pack_unpack(&record_layout, packed, &out);
    assert_int_equal(strlen(out.name), sizeof(out.name) - 1);
    assert_int_equal(strlen(out.id), sizeof(out.id) - 1);
    assert_string_equal(out.hash, HASH_LOWER);
    assert_int_equal(out.n, in.n);
    free(packed);
}

typedef struct {
    int tag;
    unsigned char rec[];
} with_head;

static void test_pack_after_head(void **state)
{
    (void)state;
    record in = sample(UUID_LOWER, HASH_LOWER), out;
    with_head *h = pack_new(&record_layout, &in, offsetof(with_head, rec));
    assert_int_equal(h->tag, 0);
    pack_unpack(&record_layout, h->rec, &out);
    assert_string_equal(out.id, UUID_LOWER);
    assert_string_equal(out.name, "Customers");
    free(h);
}

/* A key matches a field exactly when the texts are equal: never for another
 * case, a prefix, or a text longer than the field could hold. */
static void test_pack_keys(void **state)
{
    (void)state;
    record in = sample(UUID_LOWER, HASH_LOWER);
    unsigned char *packed = pack_new(&record_layout, &in, 0);
    assert_true(pack_field_is(&record_layout, packed, F_ID, UUID_LOWER));
    assert_true(pack_field_is(&record_layout, packed, F_HASH, HASH_LOWER));
    assert_true(pack_field_is(&record_layout, packed, F_NAME, "Customers"));
    assert_false(pack_field_is(&record_layout, packed, F_ID, "0B7F3C9E-1111-4222-8333-944455556666"));
    assert_false(pack_field_is(&record_layout, packed, F_ID, "0b7f3c9e-1111-4222-8333-94445555666"));
    assert_false(pack_field_is(&record_layout, packed, F_HASH, "9f86d081"));
    assert_false(pack_field_is(&record_layout, packed, F_NAME, "customers"));
    assert_false(pack_field_is(&record_layout, packed, F_NAME, "Customers "));

    unsigned char key[PACK_KEY_MAX];
    char longer[300];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(pack_key(&record_layout, F_NAME, longer, key), 0);
    longer[201] = '\0'; /* one byte more than the field holds */
    assert_int_equal(pack_key(&record_layout, F_NAME, longer, key), 0);
    longer[200] = '\0'; /* the longest name */
    assert_int_equal(pack_key(&record_layout, F_NAME, longer, key), 201);
    longer[37] = '\0';
    assert_int_equal(pack_key(&record_layout, F_ID, longer, key), 0);
    longer[36] = '\0'; /* not a UUID: a key in text form (tag, text, NUL) */
    assert_int_equal(pack_key(&record_layout, F_ID, longer, key), 38);
    assert_int_equal(pack_key(&record_layout, F_N, "1", key), 0);
    free(packed);
}

static const void *key_at_start(const void *rec, size_t *len)
{
    *len = strlen(rec);
    return rec;
}

/* Keys inside the records: a replacing record brings its own key, so the old
 * one can be freed at once; deletes leave tombstones that later puts reuse. */
static void test_recmap(void **state)
{
    (void)state;
    recmap m;
    recmap_init(&m, key_at_start);
    char *recs[3000];
    for (int i = 0; i < 3000; i++) {
        recs[i] = malloc(16);
        snprintf(recs[i], 16, "key-%d", i);
        assert_null(recmap_put(&m, recs[i]));
    }
    char *again = malloc(16);
    snprintf(again, 16, "key-%d", 42);
    char *old = recmap_put(&m, again);
    assert_ptr_equal(old, recs[42]);
    memset(old, 'z', 15); /* the map must no longer read the old record */
    free(old);
    recs[42] = again;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 3000; i += 3)
            assert_ptr_equal(recmap_del(&m, recs[i], strlen(recs[i])), recs[i]);
        assert_null(recmap_del(&m, "key-0", 5));
        for (int i = 0; i < 3000; i++) {
            char key[16];
            snprintf(key, sizeof(key), "key-%d", i);
            assert_ptr_equal(recmap_get(&m, key, strlen(key)), i % 3 ? recs[i] : NULL);
        }
        assert_int_equal(m.len, 2000);
        for (int i = 0; i < 3000; i += 3)
            assert_null(recmap_put(&m, recs[i]));
        assert_int_equal(m.len, 3000);
    }
    assert_true(m.cap * 3 >= m.used * 4);
    assert_null(recmap_get(&m, "key-3000", 8));
    assert_null(recmap_get(&m, "key-1", 4)); /* a prefix of a key is another key */
    recmap_free(&m, free);
    assert_int_equal(m.len, 0);
    assert_null(recmap_get(&m, "key-1", 5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_round_trip),
        cmocka_unit_test(test_pack_cuts_unterminated_text),
        cmocka_unit_test(test_pack_after_head),
        cmocka_unit_test(test_pack_keys),
        cmocka_unit_test(test_recmap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
