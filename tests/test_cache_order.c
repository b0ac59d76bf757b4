/*
 * test_cache_order.c: the replacement order of sim/cache.c's LRU and FIFO caches. The victim of
 * a full set must be the entry a stamp-per-use scan would pick (the smallest stamp, stamped at
 * each fill and, under LRU, at each hit); these tests check the evicted key against exactly that
 * reference, on wide sets (128 ways, as the PASID cache) and on random operation sequences.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

#include "sim/cache.h"
#include "xorshift.h"

static struct vtd_cache_key key1(uint64_t w0) { return (struct vtd_cache_key){.w = {w0, 0}}; }

static struct vtd_cache *make(unsigned sets, unsigned ways, enum vtd_repl repl)
{
    struct vtd_cache_geometry g = {.sets = sets, .ways = ways, .repl = repl};
    struct vtd_cache *c = vtd_cache_new("order", &g, 8);
    cr_assert_not_null(c, "%ux%u cache", sets, ways);
    return c;
}

/* Insert key k and return the key it evicted (w[0] + 1, 0 when nothing was evicted). */
static uint64_t insert_evicting(struct vtd_cache *c, uint64_t k)
{
    struct vtd_cache_key key = key1(k), ev;
    uint64_t before = vtd_cache_stats(c)->evictions;
    cr_assert_not_null(vtd_cache_insert(c, &key, 0, &ev));
    return vtd_cache_stats(c)->evictions > before ? ev.w[0] + 1 : 0;
}

/* Insert keys first, first + 1, ... and require each to evict the next of want[] (n keys). */
static void expect_victims(struct vtd_cache *c, uint64_t first, const uint64_t *want, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint64_t got = insert_evicting(c, first + i);
        cr_assert_eq(got, want[i] + 1, "eviction %u (key %llu): key %lld, not %llu", i,
                     (unsigned long long)(first + i), (long long)got - 1, (unsigned long long)want[i]);
    }
}

static bool lookup(struct vtd_cache *c, uint64_t k)
{
    struct vtd_cache_key key = key1(k);
    return vtd_cache_lookup(c, &key) != NULL;
}

Test(cache_order, lru_128_ways_evicts_in_use_order)
{
    struct vtd_cache *c = make(1, 128, VTD_REPL_LRU);
    for (uint64_t k = 0; k < 128; k++)
        cr_assert_eq(insert_evicting(c, k), 0u, "a free way for key %llu", (unsigned long long)k);
    /* Use every key but the even ones below 8, newest last in reverse order of key. */
    for (uint64_t k = 127; k >= 8; k--)
        cr_assert(lookup(c, k));
    cr_assert(lookup(c, 1));
    cr_assert(lookup(c, 3));
    /* Least recent first: the keys never used since their fill (0, 2, 4, 5, 6, 7, in fill
     * order), then the used ones in use order (127, 126, ...). */
    const uint64_t want[] = {0, 2, 4, 5, 6, 7, 127, 126};
    expect_victims(c, 1000, want, sizeof(want) / sizeof(want[0]));
    vtd_cache_free(c);
}

static bool match_key(const struct vtd_cache_entry *e, void *arg)
{
    return e->key.w[0] == *(const uint64_t *)arg;
}

Test(cache_order, invalidated_way_is_refilled_then_order_resumes)
{
    struct vtd_cache *c = make(1, 128, VTD_REPL_LRU);
    for (uint64_t k = 0; k < 128; k++)
        insert_evicting(c, k);
    uint64_t five = 5;
    cr_assert_eq(vtd_cache_invalidate(c, match_key, NULL, &five), 1u);
    cr_assert_eq(insert_evicting(c, 200), 0u, "the invalidated way is free");
    cr_assert_eq(insert_evicting(c, 201), 0 + 1u, "then the least recent, key 0");
    cr_assert(lookup(c, 1));
    cr_assert_eq(insert_evicting(c, 202), 2 + 1u, "key 1 was used: key 2 goes");
    struct vtd_cache_key k200 = key1(200);
    cr_assert_not_null(vtd_cache_peek(c, &k200));
    /* A reset empties the order too: 128 fills, then key 0 of the new fills is the victim. */
    vtd_cache_reset(c);
    for (uint64_t k = 300; k < 428; k++)
        cr_assert_eq(insert_evicting(c, k), 0u);
    cr_assert_eq(insert_evicting(c, 999), 300 + 1u);
    vtd_cache_free(c);
}

Test(cache_order, fifo_128_ways_ignores_hits_but_refills_restamp)
{
    struct vtd_cache *c = make(1, 128, VTD_REPL_FIFO);
    for (uint64_t k = 0; k < 128; k++)
        insert_evicting(c, k);
    for (uint64_t k = 0; k < 128; k++)
        cr_assert(lookup(c, k));
    cr_assert_eq(insert_evicting(c, 0), 0u, "re-inserting a present key evicts nothing");
    cr_assert_eq(insert_evicting(c, 500), 1 + 1u, "key 0 was refilled last: key 1 is the oldest fill");
    cr_assert_eq(insert_evicting(c, 501), 2 + 1u);
    vtd_cache_free(c);
}

/* A 4-way set keeps its ways in an order word: fills of the oldest rotate it, and a hit on the
 * oldest (or a refill of a present key, or an invalidated way filled again) moves a way out of
 * its place, which the next eviction must notice. */
Test(cache_order, narrow_set_order_follows_hits_refills_and_free_ways)
{
    struct vtd_cache *c = make(1, 4, VTD_REPL_LRU);
    for (uint64_t k = 0; k < 4; k++)
        cr_assert_eq(insert_evicting(c, k), 0u);
    cr_assert_eq(insert_evicting(c, 4), 0 + 1u, "fill order: key 0 is the oldest");
    cr_assert_eq(insert_evicting(c, 5), 1 + 1u, "then key 1 (the order word rotated)");
    cr_assert(lookup(c, 2));
    cr_assert_eq(insert_evicting(c, 6), 3 + 1u, "key 2, the head, was used: key 3 goes");
    cr_assert_eq(insert_evicting(c, 5), 0u, "a refill of key 5 evicts nothing");
    cr_assert_eq(insert_evicting(c, 7), 4 + 1u, "key 4, not the refilled key 5");
    cr_assert_eq(insert_evicting(c, 8), 2 + 1u);
    /* Order now 6, 5, 7, 8 (oldest first). Free key 6's way and fill it: its way is the head. */
    uint64_t six = 6;
    cr_assert_eq(vtd_cache_invalidate(c, match_key, NULL, &six), 1u);
    cr_assert_eq(insert_evicting(c, 9), 0u, "the invalidated way is free");
    cr_assert_eq(insert_evicting(c, 10), 5 + 1u, "then key 5, key 9 being the newest");
    /* Free a way in the middle of the order: refilled, it is the newest, not in its old place. */
    uint64_t eight = 8;
    cr_assert_eq(vtd_cache_invalidate(c, match_key, NULL, &eight), 1u);
    cr_assert_eq(insert_evicting(c, 11), 0u);
    const uint64_t then[] = {7, 9, 10, 11};
    expect_victims(c, 12, then, 4);
    vtd_cache_free(c);
}

Test(cache_order, narrow_fifo_order_ignores_hits_on_the_oldest)
{
    struct vtd_cache *c = make(1, 4, VTD_REPL_FIFO);
    for (uint64_t k = 0; k < 4; k++)
        insert_evicting(c, k);
    cr_assert(lookup(c, 0));
    cr_assert_eq(insert_evicting(c, 4), 0 + 1u, "a hit does not renew a FIFO entry");
    cr_assert_eq(insert_evicting(c, 1), 0u, "key 1 refilled: renewed");
    const uint64_t then[] = {2, 3, 4, 1};
    expect_victims(c, 5, then, 4);
    vtd_cache_free(c);
}

/* The insert after a miss skips its search only while nothing changed since the miss. */
Test(cache_order, insert_after_miss_finds_what_changed_since)
{
    struct vtd_cache *c = make(1, 128, VTD_REPL_LRU);
    cr_assert(!lookup(c, 7));
    cr_assert_eq(insert_evicting(c, 7), 0u);
    cr_assert_eq(insert_evicting(c, 7), 0u, "the second insert finds the first");
    cr_assert_eq(vtd_cache_count(c), 1u);
    cr_assert(!lookup(c, 8));
    cr_assert_eq(insert_evicting(c, 9), 0u);
    cr_assert_eq(insert_evicting(c, 8), 0u);
    cr_assert_eq(insert_evicting(c, 8), 0u);
    cr_assert_eq(vtd_cache_count(c), 3u, "7, 8 and 9 once each");
    cr_assert(!lookup(c, 10));
    vtd_cache_reset(c);
    cr_assert_eq(insert_evicting(c, 10), 0u);
    cr_assert_eq(insert_evicting(c, 10), 0u);
    cr_assert_eq(vtd_cache_count(c), 1u);
    cr_assert_eq(vtd_cache_stats(c)->fills, 2u);
    vtd_cache_free(c);
}

/* ---- random operations against the stamp reference --------------------------------------- */

#define UNIVERSE 96u

struct reference {
    uint64_t stamp[UNIVERSE]; /* 0: absent */
    uint64_t clock;
    unsigned set_of[UNIVERSE];
    unsigned ways;
    bool lru;
};

/* Which keys share a set: a direct-mapped cache of the same set count evicts k for j exactly
 * when they do (the set index depends on the key and the set count only). */
static void learn_sets(struct reference *r, unsigned sets)
{
    struct vtd_cache *dm = make(sets, 1, VTD_REPL_LRU);
    unsigned classes = 0;
    uint64_t rep[UNIVERSE];
    for (uint64_t k = 0; k < UNIVERSE; k++) {
        unsigned cls = classes;
        for (unsigned i = 0; i < classes && cls == classes; i++) {
            vtd_cache_reset(dm);
            insert_evicting(dm, rep[i]);
            if (insert_evicting(dm, k) == rep[i] + 1)
                cls = i;
        }
        if (cls == classes)
            rep[classes++] = k;
        r->set_of[k] = cls;
    }
    vtd_cache_free(dm);
}

static unsigned held_in_set(const struct reference *r, unsigned set)
{
    unsigned n = 0;
    for (unsigned k = 0; k < UNIVERSE; k++)
        n += r->stamp[k] && r->set_of[k] == set;
    return n;
}

static uint64_t oldest_in_set(const struct reference *r, unsigned set)
{
    uint64_t best = UNIVERSE;
    for (unsigned k = 0; k < UNIVERSE; k++)
        if (r->stamp[k] && r->set_of[k] == set && (best == UNIVERSE || r->stamp[k] < r->stamp[best]))
            best = k;
    return best;
}

static void ref_insert(struct reference *r, uint64_t k, uint64_t *victim)
{
    *victim = 0;
    if (!r->stamp[k] && held_in_set(r, r->set_of[k]) == r->ways) {
        uint64_t v = oldest_in_set(r, r->set_of[k]);
        r->stamp[v] = 0;
        *victim = v + 1;
    }
    r->stamp[k] = ++r->clock;
}

static void random_ops_match_reference(unsigned sets, unsigned ways, enum vtd_repl repl, uint64_t seed)
{
    struct reference r = {.ways = ways, .lru = repl == VTD_REPL_LRU};
    learn_sets(&r, sets);
    struct vtd_cache *c = make(sets, ways, repl);
    uint64_t s = seed, evictions = 0;
    for (unsigned op = 0; op < 20000; op++) {
        uint64_t k = xorshift64(&s) % UNIVERSE, choice = xorshift64(&s) % 16;
        if (choice < 7) {
            uint64_t want, got;
            ref_insert(&r, k, &want);
            got = insert_evicting(c, k);
            cr_assert_eq(got, want, "op %u: inserting %llu evicted %lld, the reference %lld", op,
                         (unsigned long long)k, (long long)got - 1, (long long)want - 1);
            evictions += got != 0;
        } else if (choice < 14) {
            bool hit = lookup(c, k);
            cr_assert_eq(hit, r.stamp[k] != 0, "op %u: lookup of %llu", op, (unsigned long long)k);
            if (hit && r.lru)
                r.stamp[k] = ++r.clock;
        } else if (choice < 15) {
            cr_assert_eq(vtd_cache_invalidate(c, match_key, NULL, &k), r.stamp[k] != 0 ? 1u : 0u);
            r.stamp[k] = 0;
        } else if (xorshift64(&s) % 64 == 0) {
            vtd_cache_reset(c);
            memset(r.stamp, 0, sizeof(r.stamp));
        }
    }
    cr_assert_gt(evictions, 1000u, "the sequence exercised replacement (%llu evictions)", (unsigned long long)evictions);
    vtd_cache_free(c);
}

Test(cache_order, lru_random_ops_match_reference)
{
    random_ops_match_reference(1, 40, VTD_REPL_LRU, 1);
    random_ops_match_reference(3, 8, VTD_REPL_LRU, 2);
    random_ops_match_reference(4, 4, VTD_REPL_LRU, 11);
    random_ops_match_reference(8, 3, VTD_REPL_LRU, 3);
    random_ops_match_reference(5, 1, VTD_REPL_LRU, 4);
    /* The widest sets with an order word (16 ways, a nibble each) and the narrowest without. */
    random_ops_match_reference(2, 16, VTD_REPL_LRU, 13);
    random_ops_match_reference(1, 17, VTD_REPL_LRU, 14);
    /* Wide sets (32 ways and more) take victims from a queue of their oldest ways. */
    random_ops_match_reference(2, 32, VTD_REPL_LRU, 9);
}

Test(cache_order, fifo_random_ops_match_reference)
{
    random_ops_match_reference(1, 40, VTD_REPL_FIFO, 5);
    random_ops_match_reference(3, 8, VTD_REPL_FIFO, 6);
    random_ops_match_reference(4, 4, VTD_REPL_FIFO, 12);
    random_ops_match_reference(8, 3, VTD_REPL_FIFO, 7);
    random_ops_match_reference(2, 16, VTD_REPL_FIFO, 15);
    random_ops_match_reference(1, 17, VTD_REPL_FIFO, 16);
    random_ops_match_reference(2, 32, VTD_REPL_FIFO, 10);
}

/* Round-robin use of 300 keys through one 128-way set, with a recent key used again at every
 * third step: each eviction must be the key with the smallest stamp, over many refills of the
 * queue of oldest ways a wide set keeps. */
Test(cache_order, lru_128_ways_round_robin_past_the_queue)
{
    enum { KEYS = 300 };
    uint64_t stamp[KEYS] = {0}, clock = 0, evictions = 0;
    struct vtd_cache *c = make(1, 128, VTD_REPL_LRU);
    for (uint64_t i = 0; i < 6000; i++) {
        uint64_t k = i % KEYS, want = 0, held = 0, oldest = KEYS;
        for (uint64_t j = 0; j < KEYS; j++) {
            held += stamp[j] != 0;
            if (stamp[j] && (oldest == KEYS || stamp[j] < stamp[oldest]))
                oldest = j;
        }
        if (!stamp[k] && held == 128) {
            want = oldest + 1;
            stamp[oldest] = 0;
        }
        stamp[k] = ++clock;
        uint64_t got = insert_evicting(c, k);
        cr_assert_eq(got, want, "step %llu: evicted %lld, the reference %lld", (unsigned long long)i, (long long)got - 1,
                     (long long)want - 1);
        evictions += got != 0;
        uint64_t again = (k + KEYS - 5) % KEYS;
        if (i % 3 == 0 && stamp[again]) {
            cr_assert(lookup(c, again));
            stamp[again] = ++clock;
        }
    }
    cr_assert_gt(evictions, 5000u);
    vtd_cache_free(c);
}
