/*
 * test_cache_probe.c: sim/cache.c's shortcuts on the lookup and fill path give the answers a
 * plain search gives. A lookup first checks the entry the last hit or fill returned; a miss of
 * vtd_cache_lookup_any remembers its first key and hash, so the insert that follows skips the
 * search; an insert of a key whose class has no entry skips it too. Random operations (multi-key
 * lookups, single lookups, peeks, inserts, invalidations, flushes, resets) on classed caches of
 * several geometries are checked against a reference that knows which keys are present: every
 * answer, the entry count, the per-class counts and the statistics must agree with it.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

#include "sim/cache.h"

/* Keys are (class, page) with the class in word 0's low bits as the IOTLB keeps its page shift. */
#define PAGES 24u
#define CLASSES 3u
#define UNIVERSE (PAGES * CLASSES)

static const uint64_t class_value[CLASSES] = {12, 21, 30};

static struct vtd_cache_key key_of(unsigned k)
{
    return (struct vtd_cache_key){.w = {class_value[k % CLASSES] | 7u << 8, k / CLASSES}};
}

static unsigned index_of(const struct vtd_cache_key *key)
{
    uint64_t shift = key->w[0] & 0xff;
    unsigned cls = shift == 12 ? 0 : shift == 21 ? 1 : 2;
    return (unsigned)key->w[1] * CLASSES + cls;
}

struct reference {
    bool present[UNIVERSE];
    struct vtd_cache_stats st;
    uint64_t evicted_total; /* kept across resets */
};

static unsigned ref_count(const struct reference *r, int cls)
{
    unsigned n = 0;
    for (unsigned k = 0; k < UNIVERSE; k++)
        n += r->present[k] && (cls < 0 || k % CLASSES == (unsigned)cls);
    return n;
}

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A lookup of every class of one page, smallest first, as the IOTLB probes page sizes. */
static void lookup_any_step(struct vtd_cache *c, struct reference *r, unsigned page, unsigned op)
{
    struct vtd_cache_key keys[CLASSES];
    for (unsigned i = 0; i < CLASSES; i++)
        keys[i] = key_of(page * CLASSES + i);
    unsigned which = CLASSES, want = CLASSES;
    for (unsigned i = CLASSES; i-- > 0;)
        if (r->present[page * CLASSES + i])
            want = i;
    struct vtd_cache_entry *e = vtd_cache_lookup_any(c, keys, CLASSES, &which);
    r->st.lookups++;
    if (want == CLASSES) {
        cr_assert_null(e, "op %u: page %u is absent", op, page);
        r->st.misses++;
        return;
    }
    r->st.hits++;
    cr_assert_not_null(e, "op %u: page %u class %u is present", op, page, want);
    cr_assert_eq(which, want, "op %u: the smallest class present", op);
    cr_assert_eq(index_of(&e->key), page * CLASSES + want, "op %u: the entry holds its key", op);
}

static void insert_step(struct vtd_cache *c, struct reference *r, unsigned k, unsigned op)
{
    struct vtd_cache_key key = key_of(k), evicted;
    uint64_t before = vtd_cache_stats(c)->evictions;
    struct vtd_cache_entry *e = vtd_cache_insert(c, &key, op, &evicted);
    cr_assert_not_null(e);
    cr_assert_eq(index_of(&e->key), k, "op %u: the filled entry holds the key", op);
    r->st.fills++;
    if (vtd_cache_stats(c)->evictions != before) {
        cr_assert(!r->present[k], "op %u: a key already present is refilled in place, never evicts", op);
        unsigned v = index_of(&evicted);
        cr_assert(r->present[v], "op %u: the victim %u was present", op, v);
        r->present[v] = false;
        r->st.evictions++;
        r->evicted_total++;
    }
    r->present[k] = true;
}

/*
 * The same miss and fill in the two steps of a caller that decides in between: a peek of every
 * class of an absent page, then vtd_cache_miss_fill of its first key. It reports no victim: the
 * one present key that no peek finds any more is it.
 */
static void peek_then_miss_fill_step(struct vtd_cache *c, struct reference *r, unsigned page, unsigned op)
{
    struct vtd_cache_key keys[CLASSES];
    for (unsigned i = 0; i < CLASSES; i++)
        keys[i] = key_of(page * CLASSES + i);
    uint64_t token;
    cr_assert_null(vtd_cache_peek_any(c, keys, CLASSES, &token), "op %u: page %u is absent", op, page);
    uint64_t before = vtd_cache_stats(c)->evictions;
    struct vtd_cache_entry *e = vtd_cache_miss_fill(c, keys, token, op);
    cr_assert_not_null(e);
    cr_assert_eq(index_of(&e->key), page * CLASSES, "op %u: the filled entry holds the first key", op);
    r->st.lookups++;
    r->st.misses++;
    r->st.fills++;
    if (vtd_cache_stats(c)->evictions != before) {
        unsigned gone = 0, victim = UNIVERSE;
        for (unsigned k = 0; k < UNIVERSE; k++) {
            struct vtd_cache_key key = key_of(k);
            if (r->present[k] && !vtd_cache_peek(c, &key)) {
                gone++;
                victim = k;
            }
        }
        cr_assert_eq(gone, 1, "op %u: one victim", op);
        r->present[victim] = false;
        r->st.evictions++;
        r->evicted_total++;
    }
    r->present[page * CLASSES] = true;
}

static bool match_page(const struct vtd_cache_entry *e, void *arg)
{
    return e->key.w[1] == *(const uint64_t *)arg;
}

static void check_counts(const struct vtd_cache *c, const struct reference *r, unsigned op)
{
    cr_assert_eq(vtd_cache_count(c), ref_count(r, -1), "op %u: entries", op);
    for (unsigned i = 0; i < CLASSES; i++)
        cr_assert_eq(vtd_cache_class_count(c, class_value[i]), ref_count(r, (int)i), "op %u: class %u", op, i);
    const struct vtd_cache_stats *st = vtd_cache_stats(c);
    cr_assert(st->lookups == r->st.lookups && st->hits == r->st.hits && st->misses == r->st.misses &&
                  st->fills == r->st.fills && st->evictions == r->st.evictions && st->invalidated == r->st.invalidated,
              "op %u: statistics", op);
}

static void random_ops(unsigned sets, unsigned ways, enum vtd_repl repl, uint64_t seed)
{
    struct vtd_cache_geometry g = {.sets = sets, .ways = ways, .repl = repl, .seed = seed};
    struct vtd_cache *c = vtd_cache_new("probe", &g, 24);
    cr_assert_not_null(c);
    vtd_cache_count_classes(c, 0);
    struct reference r = {0};
    uint64_t s = seed, misses_then_fills = 0;
    for (unsigned op = 0; op < 30000; op++) {
        unsigned page = (unsigned)(next(&s) % PAGES), cls = (unsigned)(next(&s) % CLASSES), k = page * CLASSES + cls;
        uint64_t choice = next(&s) % 32;
        if (choice < 10) {
            lookup_any_step(c, &r, page, op);
        } else if (choice < 14) {
            /* A miss then the fill of its first key: the insert the noted miss shortcuts. */
            bool absent = !r.present[page * CLASSES] && !r.present[page * CLASSES + 1] && !r.present[page * CLASSES + 2];
            if (absent && next(&s) % 2) {
                peek_then_miss_fill_step(c, &r, page, op);
                misses_then_fills++;
            } else {
                lookup_any_step(c, &r, page, op);
                if (absent) {
                    insert_step(c, &r, page * CLASSES, op);
                    misses_then_fills++;
                }
            }
        } else if (choice < 22) {
            insert_step(c, &r, k, op);
        } else if (choice < 27) {
            struct vtd_cache_key key = key_of(k);
            struct vtd_cache_entry *e = vtd_cache_lookup(c, &key);
            r.st.lookups++;
            if (r.present[k])
                r.st.hits++;
            else
                r.st.misses++;
            cr_assert_eq(e != NULL, r.present[k], "op %u: lookup of %u", op, k);
            if (e)
                cr_assert_eq(index_of(&e->key), k);
        } else if (choice < 30) {
            struct vtd_cache_key key = key_of(k);
            const struct vtd_cache_entry *e = vtd_cache_peek(c, &key);
            cr_assert_eq(e != NULL, r.present[k], "op %u: peek of %u", op, k);
        } else if (choice < 31) {
            uint64_t p = page;
            unsigned held = r.present[k - cls] + r.present[k - cls + 1] + r.present[k - cls + 2];
            cr_assert_eq(vtd_cache_invalidate(c, match_page, NULL, &p), held, "op %u: invalidation of page %u", op, page);
            r.present[k - cls] = r.present[k - cls + 1] = r.present[k - cls + 2] = false;
            r.st.invalidated += held;
        } else if (next(&s) % 8 == 0) {
            vtd_cache_reset(c);
            r = (struct reference){.evicted_total = r.evicted_total};
        } else {
            r.st.invalidated += ref_count(&r, -1);
            vtd_cache_flush(c);
            memset(r.present, 0, sizeof r.present);
        }
        check_counts(c, &r, op);
    }
    cr_assert_gt(misses_then_fills, 1000u, "the sequence filled after misses (%llu times)", (unsigned long long)misses_then_fills);
    cr_assert_gt(r.evicted_total, 500u, "the sequence evicted (%llu times)", (unsigned long long)r.evicted_total);
    vtd_cache_free(c);
}

Test(cache_probe, lru_shortcuts_match_reference)
{
    random_ops(1, 16, VTD_REPL_LRU, 11);
    random_ops(4, 4, VTD_REPL_LRU, 12);
    random_ops(7, 2, VTD_REPL_LRU, 13);
    random_ops(16, 1, VTD_REPL_LRU, 14);
    /* 8 ways: the IOTLB's sets (their victim is a minimum over packed stamps). */
    random_ops(2, 8, VTD_REPL_LRU, 15);
}

Test(cache_probe, fifo_and_random_shortcuts_match_reference)
{
    random_ops(4, 4, VTD_REPL_FIFO, 21);
    random_ops(3, 5, VTD_REPL_RANDOM, 22);
}

/* ---- the way a miss fill takes, chosen at its peek ---- */

struct twin_walk {
    struct vtd_cache_key keys[256];
    unsigned n;
};

static void note_key(const struct vtd_cache_entry *e, void *arg)
{
    struct twin_walk *w = arg;
    cr_assert_lt(w->n, 256u);
    w->keys[w->n++] = e->key;
}

/* Both caches hold the same keys in the same sets and ways (foreach goes in set/way order). */
static void expect_same_contents(const struct vtd_cache *a, const struct vtd_cache *b, unsigned op)
{
    struct twin_walk wa = {.n = 0}, wb = {.n = 0};
    vtd_cache_foreach(a, note_key, &wa);
    vtd_cache_foreach(b, note_key, &wb);
    cr_assert_eq(wa.n, wb.n, "op %u: %u entries against %u", op, wa.n, wb.n);
    cr_assert_arr_eq(wa.keys, wb.keys, wa.n * sizeof wa.keys[0], "op %u: the twins differ", op);
}

/*
 * vtd_cache_peek_any() chooses the way of the fill that follows (free, else the victim) and
 * vtd_cache_miss_fill() takes it. Twin caches see the same random hits, fills and removals; the
 * absent pages one fills through the peek and the miss fill, the other through a lookup and an
 * insert. After every step both must hold the same keys in the same ways, with the same
 * statistics: a way chosen from stale stamps, or a token misread, puts a key in another way.
 */
static void miss_fill_twins(unsigned sets, unsigned ways, enum vtd_repl repl, uint64_t seed)
{
    struct vtd_cache_geometry g = {.sets = sets, .ways = ways, .repl = repl, .seed = seed};
    struct vtd_cache *a = vtd_cache_new("peeked", &g, 24), *b = vtd_cache_new("looked-up", &g, 24);
    cr_assert(a && b);
    vtd_cache_count_classes(a, 0);
    vtd_cache_count_classes(b, 0);
    uint64_t s = seed, evictions_seen = 0;
    for (unsigned op = 0; op < 20000; op++) {
        unsigned page = (unsigned)(next(&s) % PAGES), k = page * CLASSES + (unsigned)(next(&s) % CLASSES);
        struct vtd_cache_key keys[CLASSES], key = key_of(k);
        for (unsigned i = 0; i < CLASSES; i++)
            keys[i] = key_of(page * CLASSES + i);
        uint64_t choice = next(&s) % 16, token;
        if (choice < 8) {
            struct vtd_cache_entry *ea = vtd_cache_peek_any(a, keys, CLASSES, &token);
            unsigned which;
            struct vtd_cache_entry *eb = vtd_cache_lookup_any(b, keys, CLASSES, &which);
            cr_assert_eq(ea != NULL, eb != NULL, "op %u: page %u", op, page);
            if (ea)
                vtd_cache_touch(a, ea);
            else {
                struct vtd_cache_entry *fa = vtd_cache_miss_fill(a, keys, token, op);
                struct vtd_cache_entry *fb = vtd_cache_insert_unzeroed(b, &keys[0], op);
                cr_assert(fa && fb);
                cr_assert_eq(fa->slot, fb->slot, "op %u: the fill took slot %u, the insert %u", op, fa->slot, fb->slot);
            }
        } else if (choice < 12) {
            cr_assert_eq(vtd_cache_lookup(a, &key) != NULL, vtd_cache_lookup(b, &key) != NULL, "op %u", op);
        } else if (choice < 15) {
            vtd_cache_insert(a, &key, op, NULL);
            vtd_cache_insert(b, &key, op, NULL);
        } else {
            uint64_t p = page;
            vtd_cache_invalidate(a, match_page, NULL, &p);
            vtd_cache_invalidate(b, match_page, NULL, &p);
        }
        expect_same_contents(a, b, op);
        const struct vtd_cache_stats *sa = vtd_cache_stats(a), *sb = vtd_cache_stats(b);
        cr_assert(sa->lookups == sb->lookups && sa->hits == sb->hits && sa->misses == sb->misses &&
                      sa->fills == sb->fills && sa->evictions == sb->evictions,
                  "op %u: statistics", op);
        evictions_seen = sa->evictions;
    }
    cr_assert_gt(evictions_seen, 1000u, "the sequence evicted (%llu times)", (unsigned long long)evictions_seen);
    vtd_cache_free(a);
    vtd_cache_free(b);
}

Test(cache_probe, miss_fill_takes_the_way_an_insert_takes)
{
    miss_fill_twins(2, 8, VTD_REPL_LRU, 31);  /* the IOTLB's 8-way sets */
    miss_fill_twins(4, 4, VTD_REPL_LRU, 32);
    miss_fill_twins(3, 5, VTD_REPL_LRU, 33);
    miss_fill_twins(4, 4, VTD_REPL_FIFO, 34);
    miss_fill_twins(3, 5, VTD_REPL_RANDOM, 35); /* chosen at the fill: the draw is state */
    miss_fill_twins(1, 32, VTD_REPL_LRU, 36);   /* a wide set: its queue is state too */
}
