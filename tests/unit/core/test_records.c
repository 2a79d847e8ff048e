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
    unsigned char raw[4];
    char empty[8];
} record;

static const pack_field record_fields[] = {
    PACK_TEXT(record, id), PACK_BYTES(record, n), PACK_TEXT(record, name),
    PACK_BYTES(record, raw), PACK_TEXT(record, empty),
};
static const pack_layout record_layout = PACK_LAYOUT(record, record_fields);

static record sample(void)
{
    record r;
    memset(&r, 0x5a, sizeof(r)); /* garbage after each NUL must not survive */
    snprintf(r.id, sizeof(r.id), "%s", "0b7f3c9e-1111-4222-8333-944455556666");
    r.n = -1234567890123;
    snprintf(r.name, sizeof(r.name), "%s", "Customers");
    memcpy(r.raw, "\0\1\0\2", 4);
    r.empty[0] = '\0';
    return r;
}

static void test_pack_round_trip(void **state)
{
    (void)state;
    record in = sample(), out;
    void *packed = pack_new(&record_layout, &in, 0);
    memset(&out, 0x77, sizeof(out));
    pack_unpack(&record_layout, packed, &out);

    record want;
    memset(&want, 0, sizeof(want));
    memcpy(want.id, in.id, strlen(in.id));
    want.n = in.n;
    memcpy(want.name, "Customers", 9);
    memcpy(want.raw, in.raw, 4);
    assert_memory_equal(&out, &want, sizeof(want));

    assert_string_equal(pack_field_at(&record_layout, packed, 0), in.id);
    assert_string_equal(pack_field_at(&record_layout, packed, 2), "Customers");
    assert_string_equal(pack_field_at(&record_layout, packed, 4), "");
    /* The packed size: 37 + 8 + 10 + 4 + 1 bytes, not sizeof(record). */
    assert_int_equal(pack_field_at(&record_layout, packed, 5) - (const char *)packed, 60);
    free(packed);
}

static void test_pack_cuts_unterminated_text(void **state)
{
    (void)state;
    record in = sample(), out;
    memset(in.id, 'x', sizeof(in.id)); /* no NUL in the array */
    void *packed = pack_new(&record_layout, &in, 0);
    pack_unpack(&record_layout, packed, &out);
    assert_int_equal(strlen(out.id), sizeof(out.id) - 1);
    assert_string_equal(out.name, "Customers");
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
    record in = sample(), out;
    with_head *h = pack_new(&record_layout, &in, offsetof(with_head, rec));
    assert_int_equal(h->tag, 0);
    pack_unpack(&record_layout, h->rec, &out);
    assert_string_equal(out.id, in.id);
    assert_string_equal(out.name, "Customers");
    free(h);
}

static const char *key_at_start(const void *rec)
{
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
            assert_ptr_equal(recmap_del(&m, recs[i]), recs[i]);
        assert_null(recmap_del(&m, "key-0"));
        for (int i = 0; i < 3000; i++) {
            char key[16];
            snprintf(key, sizeof(key), "key-%d", i);
            assert_ptr_equal(recmap_get(&m, key), i % 3 ? recs[i] : NULL);
        }
        assert_int_equal(m.len, 2000);
        for (int i = 0; i < 3000; i += 3)
            assert_null(recmap_put(&m, recs[i]));
        assert_int_equal(m.len, 3000);
    }
    assert_true(m.cap * 3 >= m.used * 4);
    assert_null(recmap_get(&m, "key-3000"));
    recmap_free(&m, free);
    assert_int_equal(m.len, 0);
    assert_null(recmap_get(&m, "key-1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_round_trip),
        cmocka_unit_test(test_pack_cuts_unterminated_text),
        cmocka_unit_test(test_pack_after_head),
        cmocka_unit_test(test_recmap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
