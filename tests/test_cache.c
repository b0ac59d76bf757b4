/*
 * test_cache.c: the generic cache of sim/cache.h: geometry (disabled, direct-mapped, fully
 * associative, non-power-of-two sets), each replacement policy, payload handling, predicate
 * invalidation and exact statistics.
 */
#include <criterion/criterion.h>

#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "sim/cache.h"

static struct vtd_cache_key key1(uint64_t w0) { return (struct vtd_cache_key){ .w = { w0, 0 } }; }

static bool key_eq(const struct vtd_cache_key *a, const struct vtd_cache_key *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

static bool key_is_zero(const struct vtd_cache_key *k)
{
    static const struct vtd_cache_key zero;
    return key_eq(k, &zero);
}

static struct vtd_cache *make(unsigned sets, unsigned ways, enum vtd_repl repl, uint64_t seed, size_t payload)
{
    struct vtd_cache_geometry g = { .sets = sets, .ways = ways, .repl = repl, .seed = seed };
    struct vtd_cache *c = vtd_cache_new("test", &g, payload);
    cr_assert_not_null(c, "%ux%u cache", sets, ways);
    return c;
}

/* Insert keys w0 = first, first+1, ... until the cache holds `n` entries; returns the next key. */
static uint64_t fill_to(struct vtd_cache *c, unsigned n, uint64_t first)
{
    uint64_t k = first;
    for (unsigned guard = 0; vtd_cache_count(c) < n; guard++, k++) {
        cr_assert_lt(guard, 100000u, "cache never reached %u entries", n);
        struct vtd_cache_key key = key1(k);
        cr_assert_not_null(vtd_cache_insert(c, &key, k, NULL));
    }
    return k;
}

/* ---- geometry ----------------------------------------------------------------------------- */

Test(cache, disabled_geometries_miss_and_drop)
{
    const unsigned geo[][2] = { { 0, 0 }, { 0, 4 }, { 4, 0 } };
    for (size_t i = 0; i < sizeof(geo) / sizeof(geo[0]); i++) {
        struct vtd_cache *c = make(geo[i][0], geo[i][1], VTD_REPL_LRU, 0, 16);
        struct vtd_cache_key k = key1(7), ev = key1(99);
        cr_assert_eq(vtd_cache_capacity(c), 0u);
        cr_assert_null(vtd_cache_insert(c, &k, 1, &ev));
        cr_assert(key_is_zero(&ev), "evicted is cleared even when nothing is inserted");
        cr_assert_null(vtd_cache_lookup(c, &k));
        cr_assert_null(vtd_cache_peek(c, &k));
        cr_assert_eq(vtd_cache_count(c), 0u);
        cr_assert_eq(vtd_cache_invalidate(c, NULL, NULL, NULL), 0u);
        cr_assert_eq(vtd_cache_flush(c), 0u);
        const struct vtd_cache_stats *s = vtd_cache_stats(c);
        cr_assert_eq(s->lookups, 1);
        cr_assert_eq(s->misses, 1);
        cr_assert_eq(s->hits + s->fills + s->evictions + s->invalidated, 0);
        vtd_cache_free(c);
    }
}

Test(cache, bad_geometry_is_rejected)
{
    cr_assert_null(vtd_cache_new("x", NULL, 8));
    struct vtd_cache_geometry too_many = { .sets = 1u << 13, .ways = 1u << 12 }; /* 2^25 entries */
    cr_assert_null(vtd_cache_new("x", &too_many, 8));
    struct vtd_cache_geometry wide = { .sets = 1u << 20, .ways = 1 };
    cr_assert_null(vtd_cache_new("x", &wide, SIZE_MAX / 2), "sets * ways * stride overflows");
    struct vtd_cache_geometry one = { .sets = 1, .ways = 1 };
    cr_assert_null(vtd_cache_new("x", &one, SIZE_MAX), "stride overflows");
    vtd_cache_free(NULL);
}

Test(cache, name_is_copied_and_bounded)
{
    char buf[64];
    strcpy(buf, "iotlb");
    struct vtd_cache_geometry g = { .sets = 1, .ways = 1 };
    struct vtd_cache *c = vtd_cache_new(buf, &g, 0);
    buf[0] = 'X';
    cr_assert_str_eq(vtd_cache_name(c), "iotlb");
    vtd_cache_free(c);

    c = vtd_cache_new(NULL, &g, 0);
    cr_assert_str_eq(vtd_cache_name(c), "cache");
    vtd_cache_free(c);

    memset(buf, 'n', sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = '\0';
    c = vtd_cache_new(buf, &g, 0);
    cr_assert_eq(strlen(vtd_cache_name(c)), 31u);
    vtd_cache_free(c);
}

Test(cache, capacity_and_count)
{
    struct vtd_cache *c = make(4, 8, VTD_REPL_LRU, 0, 0);
    cr_assert_eq(vtd_cache_capacity(c), 32u);
    cr_assert_eq(vtd_cache_count(c), 0u);
    struct vtd_cache_key a = key1(1), b = key1(2);
    vtd_cache_insert(c, &a, 0, NULL);
    vtd_cache_insert(c, &b, 0, NULL);
    vtd_cache_insert(c, &a, 0, NULL); /* same key: no new entry */
    cr_assert_eq(vtd_cache_count(c), 2u);
    cr_assert_eq(vtd_cache_flush(c), 2u);
    cr_assert_eq(vtd_cache_count(c), 0u);
    cr_assert_null(vtd_cache_peek(c, &a));
    vtd_cache_free(c);
}

/* 3 sets x 5 ways: every set must be reachable, so enough distinct keys fill all 15 ways. */
Test(cache, non_power_of_two_sets_all_used)
{
    struct vtd_cache *c = make(3, 5, VTD_REPL_LRU, 0, 0);
    for (uint64_t k = 0; k < 1000; k++) {
        struct vtd_cache_key key = key1(k);
        vtd_cache_insert(c, &key, k, NULL);
    }
    cr_assert_eq(vtd_cache_count(c), 15u);
    vtd_cache_free(c);

    /* Page-number-like keys (aligned, high bits only) must spread too. */
    c = make(7, 1, VTD_REPL_LRU, 0, 0);
    for (uint64_t k = 0; k < 1000; k++) {
        struct vtd_cache_key key = { .w = { 0, k << 12 } };
        vtd_cache_insert(c, &key, k, NULL);
    }
    cr_assert_eq(vtd_cache_count(c), 7u);
    vtd_cache_free(c);
}

/* Realistic key shapes must spread over all sets (an xor/rotate combine collapsed these). */
static struct vtd_cache_key shaped(int shape, uint64_t i)
{
    switch (shape) {
    case 0: return (struct vtd_cache_key){ .w = { i << 16, i } };
    case 1: return (struct vtd_cache_key){ .w = { (i & 0xff) << 24 | 12, i >> 8 } }; /* IOTLB: pasid, shift; page */
    case 2: return (struct vtd_cache_key){ .w = { 1, (i << 12) } };                 /* page addresses */
    case 3: return (struct vtd_cache_key){ .w = { 0, i << 48 } };                   /* top bits only */
    case 4: return (struct vtd_cache_key){ .w = { (i & 0xffff) << 8 | 2, 0 } };    /* PSC: DIDs, one level */
    default: return (struct vtd_cache_key){ .w = { i & 15, i >> 4 } };
    }
}

Test(cache, structured_keys_reach_every_set)
{
    for (int shape = 0; shape < 6; shape++) {
        struct vtd_cache *c = make(64, 1, VTD_REPL_LRU, 0, 0);
        for (uint64_t i = 0; i < 2048; i++) {
            struct vtd_cache_key k = shaped(shape, i);
            vtd_cache_insert(c, &k, i, NULL);
        }
        cr_assert_eq(vtd_cache_count(c), 64u, "shape %d fills %u of 64 sets", shape, vtd_cache_count(c));
        vtd_cache_free(c);
    }
}

Test(cache, keys_differing_only_in_the_last_word_are_distinct)
{
    struct vtd_cache *c = make(1, 4, VTD_REPL_LRU, 0, 8);
    struct vtd_cache_key a = { .w = { 1, 2 } }, b = { .w = { 1, 3 } };
    struct vtd_cache_entry *ea = vtd_cache_insert(c, &a, 1, NULL);
    struct vtd_cache_entry *eb = vtd_cache_insert(c, &b, 2, NULL);
    cr_assert_neq(ea, eb);
    cr_assert_eq(vtd_cache_count(c), 2u);
    cr_assert_eq(vtd_cache_lookup(c, &a), ea);
    cr_assert_eq(vtd_cache_lookup(c, &b), eb);
    cr_assert(key_eq(&ea->key, &a));
    cr_assert(key_eq(&eb->key, &b));
    vtd_cache_free(c);
}

/*
 * More keys than there are 8-bit tags in one set, differing in one word only: some share a tag,
 * so only the full-key compare can tell them apart (for each word in turn).
 */
Test(cache, full_key_compare_beyond_tag_collisions)
{
    for (unsigned word = 0; word < VTD_CACHE_KEY_WORDS; word++) {
        struct vtd_cache *c = make(1, 600, VTD_REPL_LRU, 0, 8);
        for (uint64_t i = 0; i < 600; i++) {
            struct vtd_cache_key k = { .w = { 1, 2 } };
            k.w[word] = 1000 + i;
            struct vtd_cache_entry *e = vtd_cache_insert(c, &k, 0, NULL);
            memcpy(e->payload, &i, sizeof(i));
        }
        cr_assert_eq(vtd_cache_count(c), 600u, "word %u", word);
        for (uint64_t i = 0; i < 600; i++) {
            struct vtd_cache_key k = { .w = { 1, 2 } };
            k.w[word] = 1000 + i;
            struct vtd_cache_entry *e = vtd_cache_lookup(c, &k);
            cr_assert_not_null(e);
            uint64_t got;
            memcpy(&got, e->payload, sizeof(got));
            cr_assert_eq(got, i, "word %u key %llu found entry %llu", word, (unsigned long long)i,
                         (unsigned long long)got);
        }
        vtd_cache_free(c);
    }
}

/* ---- replacement -------------------------------------------------------------------------- */

/* Direct-mapped: the first key that lands in A's set replaces A; nothing else is disturbed. */
Test(cache, direct_mapped_conflict_evicts)
{
    struct vtd_cache *c = make(16, 1, VTD_REPL_LRU, 0, 0);
    struct vtd_cache_key a = key1(1000), ev;
    vtd_cache_insert(c, &a, 0, NULL);
    uint64_t k = 0;
    for (;; k++) {
        cr_assert_lt(k, 10000u);
        struct vtd_cache_key b = key1(k);
        uint64_t evictions = vtd_cache_stats(c)->evictions;
        vtd_cache_insert(c, &b, 0, &ev);
        if (vtd_cache_peek(c, &a) == NULL)
            break;
        /* A survived: any eviction was of an earlier b, never of A. */
        if (vtd_cache_stats(c)->evictions != evictions)
            cr_assert(!key_eq(&ev, &a));
    }
    cr_assert(key_eq(&ev, &a), "the conflicting insert reports A as the victim");
    struct vtd_cache_key b = key1(k);
    cr_assert_not_null(vtd_cache_peek(c, &b));
    cr_assert_null(vtd_cache_lookup(c, &a));
    cr_assert_leq(vtd_cache_count(c), 16u);
    vtd_cache_free(c);
}

/* Fill 4 ways with k0..k3, touch k0, insert k4: returns the victim. */
static struct vtd_cache_key victim_after_touch(enum vtd_repl repl)
{
    struct vtd_cache *c = make(1, 4, repl, 0, 0);
    for (uint64_t k = 0; k < 4; k++) {
        struct vtd_cache_key key = key1(k);
        vtd_cache_insert(c, &key, k, NULL);
    }
    struct vtd_cache_key k0 = key1(0), k4 = key1(4), ev;
    cr_assert_not_null(vtd_cache_lookup(c, &k0));
    vtd_cache_insert(c, &k4, 4, &ev);
    cr_assert_eq(vtd_cache_count(c), 4u);
    cr_assert_eq(vtd_cache_stats(c)->evictions, 1);
    cr_assert_null(vtd_cache_peek(c, &ev), "the victim is gone");
    vtd_cache_free(c);
    return ev;
}

Test(cache, lru_evicts_least_recently_used)
{
    struct vtd_cache_key ev = victim_after_touch(VTD_REPL_LRU), k1 = key1(1);
    cr_assert(key_eq(&ev, &k1), "LRU evicted %llu, expected 1", (unsigned long long)ev.w[0]);
}

Test(cache, fifo_ignores_hits)
{
    struct vtd_cache_key ev = victim_after_touch(VTD_REPL_FIFO), k0 = key1(0);
    cr_assert(key_eq(&ev, &k0), "FIFO evicted %llu, expected 0", (unsigned long long)ev.w[0]);
}

Test(cache, lru_full_order)
{
    /* Touch in order 2, 0, 3, 1: evictions must follow that order. */
    struct vtd_cache *c = make(1, 4, VTD_REPL_LRU, 0, 0);
    fill_to(c, 4, 0);
    const uint64_t touch[] = { 2, 0, 3, 1 };
    for (size_t i = 0; i < 4; i++) {
        struct vtd_cache_key k = key1(touch[i]);
        cr_assert_not_null(vtd_cache_lookup(c, &k));
    }
    for (size_t i = 0; i < 4; i++) {
        struct vtd_cache_key k = key1(100 + i), ev;
        vtd_cache_insert(c, &k, 0, &ev);
        cr_assert_eq(ev.w[0], touch[i]);
    }
    vtd_cache_free(c);
}

/* The victims of a long insert stream into one 8-way set. */
static void random_victims(uint64_t seed, uint64_t out[], size_t n)
{
    struct vtd_cache *c = make(1, 8, VTD_REPL_RANDOM, seed, 0);
    uint64_t next = fill_to(c, 8, 0);
    for (size_t i = 0; i < n; i++) {
        struct vtd_cache_key k = key1(next + i), ev;
        vtd_cache_insert(c, &k, 0, &ev);
        out[i] = ev.w[0];
    }
    cr_assert_eq(vtd_cache_stats(c)->evictions, n);
    vtd_cache_free(c);
}

Test(cache, random_is_reproducible_per_seed)
{
    enum { N = 200 };
    uint64_t a[N], b[N], other[N], zero1[N], zero2[N];
    random_victims(42, a, N);
    random_victims(42, b, N);
    random_victims(43, other, N);
    random_victims(0, zero1, N);
    random_victims(0, zero2, N);
    cr_assert_arr_eq(a, b, sizeof(a), "same seed, same victims");
    cr_assert_arr_eq(zero1, zero2, sizeof(zero1), "seed 0 is a fixed seed too");
    cr_assert(memcmp(a, other, sizeof(a)) != 0, "another seed picks other victims");
}

Test(cache, random_uses_every_way)
{
    /* Not always way 0: over many evictions each of the 8 initial keys gets evicted. */
    enum { N = 200 };
    uint64_t v[N];
    random_victims(7, v, N);
    bool seen[8] = { false };
    for (size_t i = 0; i < N; i++)
        if (v[i] < 8)
            seen[v[i]] = true;
    for (size_t i = 0; i < 8; i++)
        cr_assert(seen[i], "initial key %zu never evicted", i);
}

Test(cache, full_cache_evicts_one_per_insert)
{
    const enum vtd_repl policies[] = { VTD_REPL_LRU, VTD_REPL_FIFO, VTD_REPL_RANDOM };
    for (size_t p = 0; p < 3; p++) {
        struct vtd_cache *c = make(4, 4, policies[p], 5, 0);
        uint64_t next = fill_to(c, 16, 0);
        for (uint64_t i = 0; i < 100; i++) {
            struct vtd_cache_key k = key1(next + i), ev;
            uint64_t before = vtd_cache_stats(c)->evictions;
            vtd_cache_insert(c, &k, 0, &ev);
            cr_assert_eq(vtd_cache_stats(c)->evictions, before + 1);
            cr_assert_eq(vtd_cache_count(c), 16u);
            cr_assert_null(vtd_cache_peek(c, &ev));
            cr_assert_not_null(vtd_cache_peek(c, &k));
        }
        vtd_cache_free(c);
    }
}

Test(cache, free_ways_before_victims)
{
    /* After an invalidation the freed way is refilled before anything is evicted. */
    struct vtd_cache *c = make(1, 4, VTD_REPL_LRU, 0, 0);
    fill_to(c, 4, 0);
    struct vtd_cache_key k3 = key1(3), k9 = key1(9), ev = key1(77);
    struct vtd_cache_entry *way3 = vtd_cache_peek(c, &k3); /* keys 0..3 went to ways 0..3 */
    cr_assert_eq(vtd_cache_invalidate(c, NULL, NULL, NULL), 4u);
    fill_to(c, 3, 100);
    cr_assert_eq(vtd_cache_insert(c, &k9, 0, &ev), way3, "lowest free way is way 3 after three refills");
    cr_assert(key_is_zero(&ev));
    cr_assert_eq(vtd_cache_stats(c)->evictions, 0);
    vtd_cache_free(c);
}

/* ---- payload ------------------------------------------------------------------------------ */

struct pl {
    uint64_t out;
    uint32_t perm;
    double d; /* 8-byte alignment: what a payload may need (sim/cache.h) */
};

Test(cache, payload_zeroed_when_new_kept_when_reinserted)
{
    struct vtd_cache *c = make(1, 1, VTD_REPL_LRU, 0, sizeof(struct pl));
    struct vtd_cache_key a = key1(1), b = key1(2);
    struct vtd_cache_entry *e = vtd_cache_insert(c, &a, 10, NULL);
    cr_assert_eq((uintptr_t)e->payload % alignof(uint64_t), 0u, "payload aligned for 8-byte scalars");
    static const unsigned char zero[sizeof(struct pl)];
    cr_assert_arr_eq(e->payload, zero, sizeof(zero));
    struct pl *p = (struct pl *)(void *)e->payload;
    p->out = 0x1234000;
    p->perm = 3;
    p->d = 1.5;

    struct vtd_cache_entry *again = vtd_cache_insert(c, &a, 20, NULL);
    cr_assert_eq(again, e);
    cr_assert_eq(again->fill_seq, 20);
    cr_assert_eq(p->out, 0x1234000);
    cr_assert_eq(p->perm, 3);
    cr_assert_eq(vtd_cache_stats(c)->fills, 2);
    cr_assert_eq(vtd_cache_stats(c)->evictions, 0);

    struct vtd_cache_key ev;
    struct vtd_cache_entry *eb = vtd_cache_insert(c, &b, 30, &ev);
    cr_assert_eq(eb, e, "the only way is reused");
    cr_assert(key_eq(&ev, &a));
    cr_assert_arr_eq(eb->payload, zero, sizeof(zero), "victim slot's payload is cleared");
    cr_assert_eq(eb->fill_seq, 30);
    vtd_cache_free(c);
}

Test(cache, every_slot_payload_aligned)
{
    /* Odd payload sizes must not break the stride's alignment. */
    const size_t sizes[] = { 0, 1, 7, 13, 24, 33 };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct vtd_cache *c = make(1, 5, VTD_REPL_LRU, 0, sizes[i]);
        for (uint64_t k = 0; k < 5; k++) {
            struct vtd_cache_key key = key1(k);
            struct vtd_cache_entry *e = vtd_cache_insert(c, &key, 0, NULL);
            cr_assert_eq((uintptr_t)e->payload % alignof(uint64_t), 0u, "payload %zu way %llu", sizes[i],
                         (unsigned long long)k);
            memset(e->payload, 0xff, sizes[i]); /* ASan catches an overlap */
        }
        vtd_cache_free(c);
    }
}

/* A payload of up to 24 bytes (the IOTLB's, the paging-structure caches') makes every entry one
 * 64-byte host cache line, header and payload, in every set and way: a fill then writes one line. */
Test(cache, small_payload_entry_is_one_host_line)
{
    for (size_t size = 1; size <= 24; size++) {
        struct vtd_cache *c = make(3, 5, VTD_REPL_LRU, 0, size);
        for (uint64_t k = 0; k < 200; k++) {
            struct vtd_cache_key key = key1(k);
            struct vtd_cache_entry *e = vtd_cache_insert(c, &key, 0, NULL);
            uintptr_t first = (uintptr_t)e, last = (uintptr_t)(e->payload + size - 1);
            cr_assert_eq(first / 64, last / 64, "payload %zu: entry %llu spans two lines", size,
                         (unsigned long long)k);
        }
        vtd_cache_free(c);
    }
}

/* ---- invalidation ------------------------------------------------------------------------- */

/* Keys are (domain, page); arg is the domain to remove; even pages were still correct. */
static bool in_domain(const struct vtd_cache_entry *e, void *arg) { return e->key.w[0] == *(uint64_t *)arg; }
static bool even_page(const struct vtd_cache_entry *e, void *arg)
{
    (void)arg;
    return e->key.w[1] % 2 == 0;
}
static void count_domain(const struct vtd_cache_entry *e, void *arg) { ((unsigned *)arg)[e->key.w[0]]++; }

Test(cache, predicate_invalidation_removes_exactly_matches)
{
    struct vtd_cache *c = make(1, 64, VTD_REPL_LRU, 0, 0);
    for (uint64_t d = 0; d < 4; d++)
        for (uint64_t pg = 0; pg < 10; pg++) {
            struct vtd_cache_key k = { .w = { d, pg } };
            vtd_cache_insert(c, &k, 0, NULL);
        }
    cr_assert_eq(vtd_cache_count(c), 40u);

    uint64_t dom = 2;
    cr_assert_eq(vtd_cache_invalidate(c, in_domain, even_page, &dom), 10u);
    cr_assert_eq(vtd_cache_count(c), 30u);
    cr_assert_eq(vtd_cache_stats(c)->invalidated, 10);
    cr_assert_eq(vtd_cache_stats(c)->over_invalidated, 5);

    unsigned per_domain[4] = { 0 };
    vtd_cache_foreach(c, count_domain, per_domain);
    cr_assert_eq(per_domain[0], 10u);
    cr_assert_eq(per_domain[1], 10u);
    cr_assert_eq(per_domain[2], 0u);
    cr_assert_eq(per_domain[3], 10u);

    /* Nothing left to match: removes nothing, counts nothing. */
    cr_assert_eq(vtd_cache_invalidate(c, in_domain, even_page, &dom), 0u);
    cr_assert_eq(vtd_cache_stats(c)->invalidated, 10);
    /* Without still_ok nothing is over-invalidated. */
    dom = 3;
    cr_assert_eq(vtd_cache_invalidate(c, in_domain, NULL, &dom), 10u);
    cr_assert_eq(vtd_cache_stats(c)->over_invalidated, 5);
    cr_assert_eq(vtd_cache_flush(c), 20u);
    cr_assert_eq(vtd_cache_stats(c)->invalidated, 40);
    cr_assert_eq(vtd_cache_count(c), 0u);
    vtd_cache_free(c);
}

/* ---- statistics --------------------------------------------------------------------------- */

static bool always(const struct vtd_cache_entry *e, void *arg)
{
    (void)e;
    (void)arg;
    return true;
}
static bool is_c(const struct vtd_cache_entry *e, void *arg)
{
    (void)arg;
    return e->key.w[0] == 'C';
}

Test(cache, stats_exact_after_script)
{
    struct vtd_cache *c = make(1, 2, VTD_REPL_LRU, 0, 4);
    struct vtd_cache_key a = key1('A'), b = key1('B'), cc = key1('C'), ev;
    cr_assert_null(vtd_cache_lookup(c, &a));         /* miss */
    vtd_cache_insert(c, &a, 1, NULL);                /* fill */
    cr_assert_not_null(vtd_cache_lookup(c, &a));     /* hit */
    vtd_cache_insert(c, &b, 2, NULL);                /* fill */
    cr_assert_not_null(vtd_cache_lookup(c, &a));     /* hit: now B is least recent */
    vtd_cache_insert(c, &cc, 3, &ev);                /* fill + eviction of B */
    cr_assert(key_eq(&ev, &b));
    cr_assert_null(vtd_cache_lookup(c, &b));         /* miss */
    cr_assert_not_null(vtd_cache_peek(c, &cc));      /* peek counts nothing */
    vtd_cache_insert(c, &a, 4, &ev);                 /* fill, same key: no eviction */
    cr_assert(key_is_zero(&ev));
    vtd_cache_stats_mut(c)->stale_hits++;
    cr_assert_eq(vtd_cache_invalidate(c, always, is_c, NULL), 2u);

    const struct vtd_cache_stats *s = vtd_cache_stats(c);
    cr_assert_eq(s->lookups, 4);
    cr_assert_eq(s->hits, 2);
    cr_assert_eq(s->misses, 2);
    cr_assert_eq(s->fills, 4);
    cr_assert_eq(s->evictions, 1);
    cr_assert_eq(s->invalidated, 2);
    cr_assert_eq(s->over_invalidated, 1);
    cr_assert_eq(s->stale_hits, 1);

    vtd_cache_reset_stats(c);
    static const struct vtd_cache_stats zero;
    cr_assert_arr_eq(s, &zero, sizeof(zero));
    vtd_cache_free(c);
}

Test(cache, peek_touches_nothing)
{
    /* A peek must not refresh LRU order. */
    struct vtd_cache *c = make(1, 2, VTD_REPL_LRU, 0, 0);
    struct vtd_cache_key a = key1(1), b = key1(2), k = key1(3), ev;
    vtd_cache_insert(c, &a, 0, NULL);
    vtd_cache_insert(c, &b, 0, NULL);
    cr_assert_not_null(vtd_cache_peek(c, &a));
    vtd_cache_insert(c, &k, 0, &ev);
    cr_assert(key_eq(&ev, &a));
    cr_assert_eq(vtd_cache_stats(c)->lookups, 0);
    vtd_cache_free(c);
}

/* Several candidate keys probed at once count as one lookup, a hit on the one present. */
Test(cache, lookup_any_counts_one_lookup)
{
    struct vtd_cache_geometry g = {.sets = 4, .ways = 2, .repl = VTD_REPL_LRU};
    struct vtd_cache *c = vtd_cache_new("any", &g, 8);
    cr_assert_not_null(c);
    struct vtd_cache_key keys[3] = {{{12, 1}}, {{21, 1}}, {{30, 1}}};
    cr_assert_not_null(vtd_cache_insert(c, &keys[1], 5, NULL));
    unsigned which = 9;
    struct vtd_cache_entry *e = vtd_cache_lookup_any(c, keys, 3, &which);
    cr_assert_not_null(e);
    cr_assert_eq(which, 1);
    cr_assert_eq(e->fill_seq, 5);
    cr_assert_null(vtd_cache_lookup_any(c, keys + 2, 1, &which));
    const struct vtd_cache_stats *st = vtd_cache_stats(c);
    cr_assert_eq(st->lookups, 2);
    cr_assert_eq(st->hits, 1);
    cr_assert_eq(st->misses, 1);
    vtd_cache_free(c);
}

Test(cache, reset_empties_and_restarts_replacement)
{
    enum { N = 100 };
    uint64_t fresh[N], again[N];
    struct vtd_cache *c = make(1, 8, VTD_REPL_RANDOM, 9, 0);
    uint64_t generation = vtd_cache_generation(c);
    for (int round = 0; round < 2; round++) {
        uint64_t *out = round ? again : fresh;
        uint64_t next = fill_to(c, 8, 1000);
        for (size_t i = 0; i < N; i++) {
            struct vtd_cache_key k = key1(next + i), ev;
            vtd_cache_insert(c, &k, 0, &ev);
            out[i] = ev.w[0];
        }
        cr_assert_eq(vtd_cache_stats(c)->evictions, N);
        vtd_cache_reset(c);
        cr_assert_eq(vtd_cache_count(c), 0);
        /* Versions stay unique over the cache's life: the generation never goes back. */
        cr_assert_gt(vtd_cache_generation(c), generation, "the reset moved the generation back");
        generation = vtd_cache_generation(c);
        cr_assert_eq(vtd_cache_stats(c)->evictions, 0);
        struct vtd_cache_key k = key1(1000);
        cr_assert_null(vtd_cache_lookup(c, &k), "an entry survived the reset");
    }
    cr_assert_arr_eq(fresh, again, sizeof fresh, "after a reset the random victims repeat as after vtd_cache_new");
    vtd_cache_free(c);
}

/* A holder of an entry compares its version: a fill of the same slot after a reset must not
 * repeat a version from before it. */
Test(cache, versions_unique_across_reset)
{
    struct vtd_cache *c = make(1, 1, VTD_REPL_LRU, 1, 0);
    uint64_t changes = 0;
    vtd_cache_share_changes(c, &changes);
    struct vtd_cache_key k = key1(7);
    struct vtd_cache_entry *e = vtd_cache_insert(c, &k, 0, NULL);
    cr_assert_not_null(e);
    uint64_t before = e->version, changes_before = changes;
    cr_assert_eq(changes, 1, "the fill was not counted in the shared counter");
    vtd_cache_reset(c);
    cr_assert_eq(e->version, 0, "a reset entry still holds");
    cr_assert_gt(changes, changes_before, "the reset was not counted in the shared counter");
    struct vtd_cache_entry *again = vtd_cache_insert(c, &k, 0, NULL);
    cr_assert_eq(again, e, "one way: the same slot is filled again");
    cr_assert_neq(again->version, before, "a version repeated across the reset");
    uint64_t after_fill = changes;
    cr_assert_eq(vtd_cache_invalidate(c, NULL, NULL, NULL), 1u);
    cr_assert_gt(changes, after_fill, "a removal was not counted in the shared counter");
    vtd_cache_free(c);
}

/* ---- scans over sparse caches --------------------------------------------------------------- */

static void count_visit(const struct vtd_cache_entry *e, void *arg)
{
    uint64_t *seen = arg;
    seen[0]++;
    seen[1] += e->key.w[0];
}

static bool key_is_odd(const struct vtd_cache_entry *e, void *arg)
{
    (void)arg;
    return e->key.w[0] & 1;
}

/*
 * foreach and invalidate find their entries through the tag bytes: in 9 sets of 7 ways (ways
 * not a multiple of the tag groups, so sets are padded) with every other entry removed, they
 * see exactly the valid entries, whichever set and way they sit in.
 */
Test(cache, scans_see_exactly_the_valid_entries_of_a_sparse_cache)
{
    struct vtd_cache *c = make(9, 7, VTD_REPL_LRU, 0, 0);
    uint64_t next = fill_to(c, 63, 1), sum = 0;
    cr_assert_eq(vtd_cache_count(c), 63u);
    cr_assert_eq(vtd_cache_invalidate(c, key_is_odd, NULL, NULL) + vtd_cache_count(c), 63u);
    for (uint64_t k = 1; k < next; k++) {
        struct vtd_cache_key key = key1(k);
        if (vtd_cache_peek(c, &key)) {
            cr_expect_eq(k & 1, 0u, "odd key %llu survived", (unsigned long long)k);
            sum += k;
        }
    }
    uint64_t seen[2] = {0, 0};
    vtd_cache_foreach(c, count_visit, seen);
    cr_expect_eq(seen[0], vtd_cache_count(c));
    cr_expect_eq(seen[1], sum);
    cr_expect_gt(seen[0], 0u);
    cr_expect_eq(vtd_cache_flush(c), (unsigned)seen[0]);
    seen[0] = seen[1] = 0;
    vtd_cache_foreach(c, count_visit, seen);
    cr_expect_eq(seen[0], 0u);
    vtd_cache_free(c);
}
