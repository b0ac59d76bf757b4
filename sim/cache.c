/*
 * cache.c: the generic set-associative cache of cache.h.
 *
 * Entries live in one calloc'd array of fixed-stride slots, set after set. Beside it, a tag
 * array holds an 8-bit fingerprint of each valid entry's key (0 = free way), each set's tags
 * padded to 16-byte groups. A lookup compares a whole group with one SIMD compare and checks
 * the full key only where a tag matches: walking the ways' slots instead, with a branch per
 * way, made an 8-way hit ~3x slower (cache lines touched and one mispredict per lookup).
 *
 * Nothing here reads a time or a global: LRU and FIFO order is a per-cache use counter stamped
 * into a compact array (one 64-bit stamp per way, the set's stamps contiguous) and random
 * replacement a per-cache seeded PRNG, so the same calls always give the same contents.
 *
 * Why stamps and not a list: a hit restamps with one store, where moving a linked entry to the
 * front of its set took an unlink and a push of dependent links in each of the three caches a
 * hit touches (an IOTLB hit went from 17 to 22 ns). A full set's victim is the smallest stamp.
 * A set of at most ORDER_WAYS ways (the IOTLB's, the PSCs', the device TLBs') keeps its ways in
 * stamp order in one word (oldest_in_order below): a fill takes the head, checked by one compare,
 * and rotates the word; a scan of 8 stamps and their minimum at every miss was a chain of loads
 * and compares that a PSC-assisted miss waited on. A hit still only restamps. Other sets scan
 * their stamps alone: 8 bytes a way in a row (1 KiB for a 128-way PASID cache set), not 128
 * entries in 128 cache lines; a wide set (WIDE_WAYS or more) does not rescan at every miss: one
 * scan queues its OLDEST_QUEUED oldest ways (victim_queue below).
 */
#include "sim/cache.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "walker/alloc.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define CACHE_MAX_ENTRIES (UINT64_C(1) << 24)
#define CACHE_NAME_MAX 31
#define TAG_GROUP 16 /* tags compared at once; one SSE2 register */
#define HOST_LINE 64u /* the host's cache line, which a slot of 64 bytes fills exactly */
/* Any non-zero state works for xorshift; this one is the 64-bit golden ratio. */
#define CACHE_DEFAULT_SEED UINT64_C(0x9e3779b97f4a7c15)
/* Sets this wide keep a queue of their oldest ways (the context and PASID caches' 64 and 128). */
#define WIDE_WAYS 32u
/* Sets of at most this many ways keep an order word: a nibble per way in 64 bits. */
#define ORDER_WAYS 16u
#define ORDER_NIBBLE 0xfu
#define OLDEST_QUEUED 32u

/*
 * A wide set's oldest ways as its last full scan found them, oldest first, with their stamps
 * then. Stamps only grow (a use or a fill takes a new, larger one), so a queued way whose stamp
 * is unchanged is older than every way outside the queue and every way queued after it: the
 * first such way is the set's least recently used (or first filled) way, the one a full scan
 * would pick. The queue turns the 128-stamp scan of each PASID-cache miss into one scan per
 * OLDEST_QUEUED evictions when spaces are used round-robin.
 */
struct victim_queue {
    uint64_t stamp[OLDEST_QUEUED];
    uint32_t way[OLDEST_QUEUED];
    uint8_t next, n; /* entries [next, n) not yet taken */
};

struct vtd_cache {
    unsigned char *slots;   /* sets * ways slots of `stride` bytes, set-major, from a host line start */
    void *slots_block;      /* the allocation `slots` lies in */
    uint64_t *stamps;         /* LRU and FIFO: per slot, the use counter at its last stamp; else NULL */
    uint64_t clock;           /* the last stamp given */
    struct victim_queue *queues; /* per set, for LRU/FIFO sets of WIDE_WAYS or more; else NULL */
    /* LRU and FIFO sets of at most ORDER_WAYS ways: per set, its ways in the order of their
     * stamps as last sorted, a nibble each, the oldest lowest; and per slot, its stamp when it
     * took its place there (a stamp since, from a hit or a refill, has moved it out of place).
     * Else NULL. See oldest_in_order. */
    uint64_t *order;
    uint64_t *placed;
    uint8_t *tags;          /* sets << tag_shift fingerprints; 0 = free way (and padding) */
    /* Per slot, the class of the key it was last filled with (classed caches): an eviction
     * uncounts the victim from here, so the fill that follows a miss loads nothing from the
     * victim's slot, which is rarely in the host's cache (its stores then wait on nothing). */
    uint8_t *slot_class;
    unsigned tag_shift;     /* log2 of a set's tag bytes: a shift, not a multiply, per lookup */
    size_t tag_bytes;       /* ways rounded up to TAG_GROUP: the groups a lookup compares */
    size_t set_bytes;       /* ways * stride */
    size_t stride;
    size_t payload_size;
    unsigned sets, ways;
    unsigned count;
    enum vtd_repl repl;
    uint64_t rng;           /* xorshift64* state for VTD_REPL_RANDOM */
    uint64_t seed;          /* rng's first state, for vtd_cache_reset */
    uint64_t generation;    /* changes of contents (vtd_cache_generation) */
    uint64_t *shared_changes; /* the owner's counter of the same changes, or NULL */
    /* Valid entries per class (vtd_cache_count_classes): the low 3 bits of key word class_word. */
    bool classed;
    unsigned class_word;
    unsigned class_count[VTD_CACHE_CLASSES];
    /* The key the last vtd_cache_lookup missed, while `generation` equals miss_generation + 1 it
     * is known absent: the insert that follows a miss (every cache's fill) skips its search. */
    struct vtd_cache_key miss_key;
    uint64_t miss_hash;     /* key_hash(&miss_key): the insert reuses it */
    uint64_t miss_generation;
    /* The entry the last hit or fill returned: a lookup of the same key (the PDE a run of pages
     * shares in a paging-structure cache) finds it without hashing or probing a set. Only a
     * valid entry whose key is equal counts, and keys are unique in a cache, so it is the entry a
     * probe would find. */
    struct vtd_cache_entry *last;
    /* Counted as they happen, but for lookups: every lookup is a hit or a miss, so their sum is
     * made when the statistics are read (an IOTLB hit counts three lookups: three increments
     * fewer). `view` is what vtd_cache_stats hands out, the sum filled in. */
    struct vtd_cache_stats stats;
    struct vtd_cache_stats *view;
    char name[CACHE_NAME_MAX + 1];
};

/* Contents changed: the cache's generation and the owner's shared count (never reset). */
static inline uint64_t note_change(struct vtd_cache *c)
{
    if (c->shared_changes)
        ++*c->shared_changes;
    return ++c->generation;
}

/* ---- hashing and slot addressing ---------------------------------------------------------- */

/*
 * Multilinear: each word times its own odd constant, summed, then the high half folded down
 * and multiplied so the top bits depend on every key bit. The multiplies are independent
 * (short critical path). An xor/rotate combine of the raw words is not safe here: keys such as
 * (pasid << 16, page) cancel linearly, and (x << 16, x) all collapsed to one set.
 * The top 32 bits pick the set; bits 24..31 are the tag (a product's low bits are weak).
 */
static inline uint64_t key_hash(const struct vtd_cache_key *k)
{
    uint64_t h = k->w[0] * UINT64_C(0x9e3779b97f4a7c15) + k->w[1] * UINT64_C(0xc2b2ae3d27d4eb4f);
    h ^= h >> 32;
    return h * UINT64_C(0xff51afd7ed558ccd);
}

/* A hash's bits below 24 are never used (the set comes from the top 32, the tag from 24..31), so
 * a miss token carries a hash and, in its low byte, the way the fill takes plus one (0: none;
 * only sets narrower than WIDE_WAYS get one). */
#define TOKEN_WAY_MASK UINT64_C(0xff)

/* Lemire's multiply-shift reduction: uniform over any set count, no division. */
static inline unsigned set_of(const struct vtd_cache *c, uint64_t h)
{
    return (unsigned)(((h >> 32) * c->sets) >> 32);
}

/* Never 0, which marks a free way. */
static inline uint8_t tag_of(uint64_t h)
{
    uint8_t t = (uint8_t)(h >> 24);
    return (uint8_t)(t + (t == 0));
}

static inline struct vtd_cache_entry *slot_at(const struct vtd_cache *c, size_t index)
{
    return (struct vtd_cache_entry *)(void *)(c->slots + index * c->stride);
}

/* Branch-free whole-key equality: one test instead of two. */
static inline bool key_equal(const struct vtd_cache_key *a, const struct vtd_cache_key *b)
{
    return ((a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1])) == 0;
}

static inline bool cache_disabled(const struct vtd_cache *c) { return c->sets == 0; }

static inline unsigned lowest_bit(uint64_t m)
{
#if defined(__GNUC__)
    return (unsigned)__builtin_ctzll(m);
#else
    unsigned n = 0;
    while (!(m & 1)) {
        m >>= 1;
        n++;
    }
    return n;
#endif
}

/*
 * Bit i set where group[i] == tag, for the TAG_GROUP tags at `group` (16-byte aligned). No
 * branch per way: which way hits is random, so a branch would mispredict once per lookup.
 */
static inline unsigned group_matches(const uint8_t *group, uint8_t tag)
{
#if defined(__SSE2__)
    __m128i g = _mm_load_si128((const __m128i *)(const void *)group);
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(g, _mm_set1_epi8((char)tag)));
#else
    unsigned m = 0;
    for (unsigned i = 0; i < TAG_GROUP; i++)
        m |= (unsigned)(group[i] == tag) << i;
    return m;
#endif
}

static inline const uint8_t *set_tags(const struct vtd_cache *c, unsigned set)
{
    return c->tags + ((size_t)set << c->tag_shift);
}

/* The tag byte of entry e (sets are padded in the tag array, not in the slot array). The slot
 * alone says where: a set in every entry would cost the fill a store and the header 4 bytes. */
static uint8_t *tag_of_entry(const struct vtd_cache *c, const struct vtd_cache_entry *e)
{
    size_t set = e->slot / c->ways;
    return c->tags + (set << c->tag_shift) + (e->slot - set * c->ways);
}

/*
 * The valid entry with this key (whose hash is h), or NULL. The tag only filters; the key
 * decides. The set's slot base is computed beside the tag compare, so only way * stride
 * follows it on the critical path.
 */
static inline struct vtd_cache_entry *find_in_set(const struct vtd_cache *c, uint64_t h,
                                                  const struct vtd_cache_key *key)
{
    unsigned set = set_of(c, h);
    const uint8_t *tags = set_tags(c, set);
    unsigned char *base = c->slots + (size_t)set * c->set_bytes;
    uint8_t tag = tag_of(h);
    size_t g = 0;
    do {
        /* Padding lanes hold 0 and a tag is never 0, so every match is a real way. */
        for (unsigned m = group_matches(tags + g, tag); m; m &= m - 1) {
            struct vtd_cache_entry *e = (struct vtd_cache_entry *)(void *)(base + (g + lowest_bit(m)) * c->stride);
            if (e->valid && key_equal(&e->key, key))
                return e;
        }
        g += TAG_GROUP;
    } while (g < c->tag_bytes);
    return NULL;
}

/* Whether the last entry returned still holds this key (see `last`). */
static inline bool last_holds(const struct vtd_cache *c, const struct vtd_cache_key *key)
{
    return c->last && c->last->valid && key_equal(&c->last->key, key);
}

/* The entry with this key, or NULL with *h its hash (for note_miss). */
static inline struct vtd_cache_entry *find_hashed(const struct vtd_cache *c, const struct vtd_cache_key *key,
                                                  uint64_t *h)
{
    if (last_holds(c, key))
        return c->last;
    *h = key_hash(key);
    return find_in_set(c, *h, key);
}

static inline struct vtd_cache_entry *find_entry(const struct vtd_cache *c, const struct vtd_cache_key *key)
{
    uint64_t h;
    return find_hashed(c, key, &h);
}

/* ---- creation ----------------------------------------------------------------------------- */

/* Slot size: header + payload, a multiple of the entry's alignment so every slot's payload
 * stays aligned for 8-byte scalars; a slot that fits one host cache line takes a whole one, so
 * no entry of up to 24 bytes of payload straddles two (its fill writes one line). 0 when it
 * would overflow. */
static size_t slot_stride(size_t payload_size)
{
    size_t align = _Alignof(struct vtd_cache_entry);
    size_t head = sizeof(struct vtd_cache_entry);
    if (payload_size > SIZE_MAX - head - (align - 1))
        return 0;
    size_t stride = (head + payload_size + align - 1) / align * align;
    return stride <= HOST_LINE ? HOST_LINE : stride;
}

/* The first host cache line boundary at or after p. */
static unsigned char *line_start(void *p)
{
    return (unsigned char *)p + ((HOST_LINE - (uintptr_t)p % HOST_LINE) % HOST_LINE);
}

/* The smallest shift with 1 << shift >= bytes (bytes <= 1 << 24, so this ends). */
static unsigned tag_shift_for(size_t bytes)
{
    unsigned shift = 0;
    while (((size_t)1 << shift) < bytes)
        shift++;
    return shift;
}

static void copy_name(char *dst, const char *name)
{
    const char *src = name ? name : "cache";
    size_t n = strlen(src);
    if (n > CACHE_NAME_MAX)
        n = CACHE_NAME_MAX;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* LRU and FIFO keep a replacement order; random needs none. */
static bool uses_order(enum vtd_repl repl) { return repl != VTD_REPL_RANDOM; }

/* The tag array: per set, the ways rounded up to whole SIMD groups, then to a power of two. */
static size_t tag_bytes_per_set(unsigned ways)
{
    return (size_t)1 << tag_shift_for((ways + (size_t)TAG_GROUP - 1) / TAG_GROUP * TAG_GROUP);
}

uint64_t vtd_cache_host_bytes(const struct vtd_cache_geometry *g, size_t payload_size)
{
    if (!g)
        return UINT64_MAX;
    uint64_t bytes = sizeof(struct vtd_cache) + sizeof(struct vtd_cache_stats); /* and its view */
    bool disabled = g->sets == 0 || g->ways == 0;
    uint64_t entries = disabled ? 0 : (uint64_t)g->sets * g->ways;
    size_t stride = slot_stride(payload_size);
    if (entries > CACHE_MAX_ENTRIES || stride == 0)
        return UINT64_MAX;
    if (disabled)
        return bytes;
    /* At most 2^24 entries of a stride below 2^39 (payloads are structures): no overflow. */
    return bytes + entries * (stride + 1) + HOST_LINE - 1 + (uint64_t)g->sets * tag_bytes_per_set(g->ways) +
           (uses_order(g->repl) ? entries * sizeof(uint64_t) : 0) +
           (uses_order(g->repl) && g->ways <= ORDER_WAYS ? (entries + g->sets) * sizeof(uint64_t) : 0);
}

/* The order of a set whose stamps are all 0: by way (the lowest way of equal stamps is older). */
static void reset_order(struct vtd_cache *c)
{
    if (!c->order)
        return;
    memset(c->placed, 0, (size_t)c->sets * c->ways * sizeof(*c->placed));
    uint64_t by_way = 0;
    for (unsigned w = 0; w < c->ways; w++)
        by_way |= (uint64_t)w << (4 * w);
    for (size_t s = 0; s < c->sets; s++)
        c->order[s] = by_way;
}

/* Every slot's index in its entry, once: a fill need not store it. */
static void number_slots(struct vtd_cache *c)
{
    for (size_t i = 0; i < (size_t)c->sets * c->ways; i++)
        slot_at(c, i)->slot = (uint32_t)i;
}

struct vtd_cache *vtd_cache_new(const char *name, const struct vtd_cache_geometry *g, size_t payload_size)
{
    if (!g)
        return NULL;
    bool disabled = g->sets == 0 || g->ways == 0;
    uint64_t entries = disabled ? 0 : (uint64_t)g->sets * g->ways;
    if (entries > CACHE_MAX_ENTRIES)
        return NULL;
    size_t stride = slot_stride(payload_size);
    if (stride == 0 || (entries && stride > (SIZE_MAX - HOST_LINE) / entries))
        return NULL;

    struct vtd_cache *c = vtd_calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->view = vtd_calloc(1, sizeof(*c->view));
    if (!c->view) {
        vtd_cache_free(c);
        return NULL;
    }
    if (entries) {
        c->tag_bytes = (g->ways + (size_t)TAG_GROUP - 1) / TAG_GROUP * TAG_GROUP;
        c->tag_shift = tag_shift_for(c->tag_bytes);
        c->set_bytes = (size_t)g->ways * stride;
        /* Slots start at a host cache line, so a 64-byte slot is one line; calloc's 16-byte
         * alignment keeps whole groups per set, and every tag group 16-byte aligned for the
         * SIMD load. */
        c->slots_block = vtd_calloc((size_t)entries * stride + HOST_LINE - 1, 1);
        c->slots = c->slots_block ? line_start(c->slots_block) : NULL;
        c->tags = vtd_calloc(g->sets, (size_t)1 << c->tag_shift);
        c->slot_class = vtd_calloc((size_t)entries, 1);
        bool queued = uses_order(g->repl) && g->ways >= WIDE_WAYS;
        bool ordered = uses_order(g->repl) && g->ways <= ORDER_WAYS;
        if (uses_order(g->repl))
            c->stamps = vtd_calloc((size_t)entries, sizeof(*c->stamps));
        if (ordered) {
            c->order = vtd_calloc(g->sets, sizeof(*c->order));
            c->placed = vtd_calloc((size_t)entries, sizeof(*c->placed));
        }
        if (queued)
            c->queues = vtd_calloc(g->sets, sizeof(*c->queues));
        if (!c->slots || !c->tags || !c->slot_class || (uses_order(g->repl) && !c->stamps) ||
            (ordered && (!c->order || !c->placed)) || (queued && !c->queues)) {
            vtd_cache_free(c);
            return NULL;
        }
    }
    c->stride = stride;
    c->payload_size = payload_size;
    c->sets = disabled ? 0 : g->sets;
    c->ways = disabled ? 0 : g->ways;
    c->repl = g->repl;
    c->rng = c->seed = g->seed ? g->seed : CACHE_DEFAULT_SEED;
    copy_name(c->name, name);
    number_slots(c);
    reset_order(c);
    return c;
}

void vtd_cache_reset(struct vtd_cache *c)
{
    if (c->sets) {
        memset(c->slots, 0, (size_t)c->sets * c->set_bytes);
        number_slots(c);
        memset(c->tags, 0, (size_t)c->sets << c->tag_shift);
        if (c->stamps)
            memset(c->stamps, 0, (size_t)c->sets * c->ways * sizeof(*c->stamps));
        /* The clock restarts, so a queued stamp could match a new one by chance. */
        if (c->queues)
            memset(c->queues, 0, (size_t)c->sets * sizeof(*c->queues));
        reset_order(c);
    }
    c->count = 0;
    c->clock = 0;
    /* The generation keeps growing: an entry's version stays unique over the cache's life, so a
     * holder of an entry from before the reset can never take a new fill of its slot for it. */
    note_change(c);
    c->miss_generation = 0;
    c->last = NULL;
    memset(c->class_count, 0, sizeof c->class_count);
    c->rng = c->seed;
    vtd_cache_reset_stats(c);
}

void vtd_cache_free(struct vtd_cache *c)
{
    if (!c)
        return;
    vtd_free(c->slots_block);
    vtd_free(c->tags);
    vtd_free(c->slot_class);
    vtd_free(c->stamps);
    vtd_free(c->placed);
    vtd_free(c->order);
    vtd_free(c->queues);
    vtd_free(c->view);
    vtd_free(c);
}

const char *vtd_cache_name(const struct vtd_cache *c) { return c->name; }
unsigned vtd_cache_capacity(const struct vtd_cache *c) { return c->sets * c->ways; }
unsigned vtd_cache_count(const struct vtd_cache *c) { return c->count; }
uint64_t vtd_cache_generation(const struct vtd_cache *c) { return c->generation; }

void vtd_cache_share_changes(struct vtd_cache *c, uint64_t *counter) { c->shared_changes = counter; }

void vtd_cache_count_classes(struct vtd_cache *c, unsigned word)
{
    c->classed = word < VTD_CACHE_KEY_WORDS;
    c->class_word = c->classed ? word : 0;
}

unsigned vtd_cache_class_count(const struct vtd_cache *c, uint64_t value)
{
    return c->class_count[value & (VTD_CACHE_CLASSES - 1)];
}

static inline uint8_t class_of(const struct vtd_cache *c, const struct vtd_cache_key *key)
{
    return (uint8_t)(key->w[c->class_word] & (VTD_CACHE_CLASSES - 1));
}

/* No valid entry of this key's class: a key that cannot be present (counted caches only). */
static inline bool class_empty(const struct vtd_cache *c, const struct vtd_cache_key *key)
{
    return c->classed && c->class_count[class_of(c, key)] == 0;
}

/* ---- lookup ------------------------------------------------------------------------------- */

/* Generations are stored plus one so that a fresh cache (all zeros) remembers no miss. */
static inline void note_miss(struct vtd_cache *c, const struct vtd_cache_key *key, uint64_t h)
{
    c->miss_key = *key;
    c->miss_hash = h;
    c->miss_generation = c->generation + 1;
}

static inline bool known_absent(const struct vtd_cache *c, const struct vtd_cache_key *key)
{
    return c->miss_generation == c->generation + 1 && key_equal(&c->miss_key, key);
}

/* The newest stamp, for a use (LRU) or a fill. Unless a fill of its order word's head (which
 * place_in_order moves to the end), the slot leaves its place in the word: see oldest_in_order. */
static inline void restamp(struct vtd_cache *c, uint32_t slot) { c->stamps[slot] = ++c->clock; }

/* A hit in slot `slot`: counted, made the most recent under LRU (FIFO keeps the insertion
 * order). */
static inline void count_hit_at(struct vtd_cache *c, uint32_t slot)
{
    c->stats.hits++;
    if (c->repl == VTD_REPL_LRU)
        restamp(c, slot);
}

/* The same, and remembered as the entry a lookup of the same key tries first. */
static inline void note_hit(struct vtd_cache *c, struct vtd_cache_entry *e)
{
    count_hit_at(c, e->slot);
    c->last = e;
}

struct vtd_cache_entry *vtd_cache_lookup(struct vtd_cache *c, const struct vtd_cache_key *key)
{
    uint64_t h = 0;
    struct vtd_cache_entry *e = cache_disabled(c) ? NULL : find_hashed(c, key, &h);
    if (!e) {
            c->stats.misses++;
        note_miss(c, key, h);
        return NULL;
    }
    note_hit(c, e);
    return e;
}

struct vtd_cache_entry *vtd_cache_lookup_any(struct vtd_cache *c, const struct vtd_cache_key *keys, unsigned n,
                                             unsigned *which)
{
    uint64_t h = 0, h0 = 0;
    for (unsigned i = 0; i < n && !cache_disabled(c); i++) {
        struct vtd_cache_entry *e = find_hashed(c, &keys[i], &h);
        if (i == 0)
            h0 = h;
        if (e) {
            *which = i;
            note_hit(c, e);
            return e;
        }
    }
    c->stats.misses++;
    /* The first candidate is the usual fill after a miss (the smallest page size): its insert
     * then skips the search and the hash. */
    if (n)
        note_miss(c, &keys[0], h0);
    return NULL;
}

void vtd_cache_touch(struct vtd_cache *c, struct vtd_cache_entry *e) { note_hit(c, e); }

void vtd_cache_count_hit(struct vtd_cache *c, const struct vtd_cache_entry *e, uint32_t slot)
{
    assert(slot == e->slot);
    (void)e;
    count_hit_at(c, slot);
}

static inline uint64_t way_ahead(const struct vtd_cache *c, unsigned set);

/* vtd_cache_lookup_any's probe without its counts: the same keys hashed in the same order. On a
 * miss the token also carries the way the fill would take (see way_ahead), while the probe's
 * loads are still in flight: computed at the fill, the victim search (stamps, their minimum, the
 * slot) was a chain of dependent loads and compares that the fill, and all that followed it,
 * waited on (4-5 ns of a 37 ns paging-structure-cache-assisted miss, before the order words). */
struct vtd_cache_entry *vtd_cache_peek_any(const struct vtd_cache *c, const struct vtd_cache_key *keys, unsigned n,
                                           uint64_t *miss_token)
{
    uint64_t h = 0;
    *miss_token = 0;
    for (unsigned i = 0; i < n && !cache_disabled(c); i++) {
        struct vtd_cache_entry *e = find_hashed(c, &keys[i], &h);
        if (e)
            return e;
        if (i == 0)
            *miss_token = h;
    }
    if (n && !cache_disabled(c))
        *miss_token = (*miss_token & ~TOKEN_WAY_MASK) | way_ahead(c, set_of(c, *miss_token));
    return NULL;
}

void vtd_cache_count_miss(struct vtd_cache *c, const struct vtd_cache_key *keys, unsigned n, uint64_t miss_token)
{
    c->stats.misses++;
    /* Only the hash is remembered: the way may not survive the calls before the insert. */
    if (n)
        note_miss(c, &keys[0], miss_token & ~TOKEN_WAY_MASK);
}

struct vtd_cache_entry *vtd_cache_peek(const struct vtd_cache *c, const struct vtd_cache_key *key)
{
    return cache_disabled(c) ? NULL : find_entry(c, key);
}

/* ---- insertion and replacement ------------------------------------------------------------ */

/* xorshift64*: tiny, full-period over non-zero states, reproducible from the seed. */
static uint64_t next_random(struct vtd_cache *c)
{
    uint64_t x = c->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c->rng = x;
    return x * UINT64_C(0x2545f4914f6cdd1d);
}

/* The way with the smallest of n stamps (a set of more than ORDER_WAYS ways and fewer than
 * WIDE_WAYS; the lowest of equal ones). Conditional moves, not a branch per way: which way is
 * oldest is data, and a compare-and-branch mispredicted about twice per fill of an 8-way set. */
static unsigned oldest_way(const uint64_t *stamp, unsigned n)
{
    uint64_t best = stamp[0];
    unsigned oldest = 0;
    for (unsigned w = 1; w < n; w++) {
        bool older = stamp[w] < best;
        oldest = older ? w : oldest;
        best = older ? stamp[w] : best;
    }
    return oldest;
}

/*
 * Fill q with the set's OLDEST_QUEUED smallest stamps, in increasing order: insertion into a
 * short sorted array, where most ways compare once against its largest and go no further. The
 * scan starts past the last way of the previous queue: when spaces are used round-robin the ways' stamps rise
 * from there, so the queue fills by appending and every later way is one compare.
 */
static void queue_oldest(struct victim_queue *q, const uint64_t *stamp, unsigned ways, unsigned start)
{
    unsigned n = 0;
    for (unsigned left = ways, w = start; left; left--, w = w + 1 == ways ? 0 : w + 1) {
        uint64_t s = stamp[w];
        if (n == OLDEST_QUEUED && s >= q->stamp[n - 1])
            continue;
        unsigned i = n < OLDEST_QUEUED ? n++ : n - 1;
        for (; i > 0 && q->stamp[i - 1] > s; i--) {
            q->stamp[i] = q->stamp[i - 1];
            q->way[i] = q->way[i - 1];
        }
        q->stamp[i] = s;
        q->way[i] = w;
    }
    q->n = (uint8_t)n;
    q->next = 0;
}

/* A wide set's oldest way: the first queued way not used or refilled since it was queued. Out of
 * line, so that the narrow sets' victim choice (the IOTLB's) inlines into every fill. */
static __attribute__((noinline)) unsigned queued_oldest_way(struct victim_queue *q, const uint64_t *stamp,
                                                           unsigned ways)
{
    for (;;) {
        while (q->next < q->n) {
            unsigned i = q->next++;
            if (stamp[q->way[i]] == q->stamp[i])
                return q->way[i];
        }
        unsigned last = q->n ? q->way[q->n - 1] : ways - 1;
        queue_oldest(q, stamp, ways, last + 1 == ways ? 0 : last + 1);
    }
}

/*
 * Sort a set's ways by stamp into its order word, every way back in place; its oldest way. Out of
 * line: the PSC-assisted misses that fill a set in turn sort it once, then only rotate it. The
 * order word is the host's memory, no state of the model: a const caller (a peek) may mend it.
 */
static __attribute__((noinline)) unsigned sort_order(const struct vtd_cache *c, unsigned set)
{
    size_t first = (size_t)set * c->ways;
    uint64_t packed[ORDER_WAYS];
    for (unsigned w = 0; w < c->ways; w++) { /* stamps below 2^60: the way in the low nibble */
        uint64_t p = c->stamps[first + w] << 4 | w;
        unsigned i = w;
        for (; i > 0 && packed[i - 1] > p; i--)
            packed[i] = packed[i - 1];
        packed[i] = p;
    }
    uint64_t order = 0;
    for (unsigned i = 0; i < c->ways; i++)
        order |= (packed[i] & ORDER_NIBBLE) << (4 * i);
    c->order[set] = order;
    memcpy(c->placed + first, c->stamps + first, c->ways * sizeof(*c->placed));
    return (unsigned)(packed[0] & ORDER_NIBBLE);
}

/* Whether a set's order-word head `head` still has the stamp it took its place with. */
static inline bool head_in_place(const struct vtd_cache *c, unsigned set, unsigned head)
{
    size_t slot = (size_t)set * c->ways + head;
    return c->stamps[slot] == c->placed[slot];
}

static inline unsigned order_head(const struct vtd_cache *c, unsigned set)
{
    return (unsigned)(c->order[set] & ORDER_NIBBLE);
}

/*
 * The oldest way of a set with an order word: its head, unless the head was restamped since it
 * took its place. Why the head is then the oldest: the word lists the ways in stamp order as last
 * sorted, with each fill of the head moved to the end (place_in_order); stamps only grow, and a
 * restamp takes a value above all others. So a head still at its placed stamp has the smallest
 * stamp of the ways still at theirs, and a moved way, restamped after the head took its stamp
 * or else resorted when it came to the head first, has a larger one. A hit stores nothing here.
 */
static inline unsigned oldest_in_order(const struct vtd_cache *c, unsigned set)
{
    unsigned head = order_head(c, set);
    if (__builtin_expect(head_in_place(c, set, head), 1))
        return head;
    return sort_order(c, set);
}

/* A fill of `way` (just stamped the newest): filling the head, it goes to the end of the word,
 * in place; any other way is out of place until the next sort. */
static inline void place_in_order(struct vtd_cache *c, unsigned set, unsigned way, uint32_t slot)
{
    uint64_t order = c->order[set];
    if ((order & ORDER_NIBBLE) == way) {
        c->order[set] = order >> 4 | (uint64_t)way << (4 * (c->ways - 1));
        c->placed[slot] = c->stamps[slot];
    }
}

/* The way the policy evicts from a full set: the smallest stamp (least recently used under
 * LRU, oldest fill under FIFO), or a random way. */
static inline unsigned victim_way(struct vtd_cache *c, unsigned set)
{
    if (c->repl == VTD_REPL_RANDOM)
        return (unsigned)(((next_random(c) >> 32) * c->ways) >> 32);
    if (c->order)
        return oldest_in_order(c, set);
    const uint64_t *stamp = c->stamps + (size_t)set * c->ways;
    return c->queues ? queued_oldest_way(&c->queues[set], stamp, c->ways) : oldest_way(stamp, c->ways);
}

/* The lowest free way of the set, or ways if it is full. */
static unsigned free_way(const struct vtd_cache *c, unsigned set)
{
    const uint8_t *tags = set_tags(c, set);
    unsigned w = 0;
    while (w < c->ways && tags[w] != 0)
        w++;
    return w;
}

/* A free way of the set when there is one (a full cache has none anywhere: no scan of a 128-way
 * set's tags), else ways. */
static inline unsigned free_way_if_any(const struct vtd_cache *c, unsigned set)
{
    return c->count < c->sets * c->ways ? free_way(c, set) : c->ways;
}

/*
 * The way a fill of `set` takes now, plus one, in the low bits of a miss token; 0 where choosing
 * changes state (random replacement draws, a wide set's queue advances), so the fill chooses.
 * Nothing but the free ways and the stamps decides it, and a miss fill follows its peek with no
 * call on the cache between (cache.h), so the fill finds the same way (way_for_fill). A full
 * set's way from its order word is the head unchecked: the check loads the head's stamps, which
 * the previous fill may have just stored, and a load at the start of a request that waits on
 * them held up the whole request (1.3 ns of a 33 ns PSC-assisted miss); the fill checks it.
 */
static inline uint64_t way_ahead(const struct vtd_cache *c, unsigned set)
{
    if (c->repl == VTD_REPL_RANDOM || c->queues)
        return 0;
    unsigned way = free_way_if_any(c, set);
    if (way == c->ways)
        way = c->order ? order_head(c, set) : oldest_way(c->stamps + (size_t)set * c->ways, c->ways);
    return (uint64_t)way + 1;
}

/* The way a fill of `set` takes: `ahead` less one when set (a free way, or a full set's victim,
 * checked here when it is an order word's head), else a free way or the victim. */
static inline unsigned way_for_fill(struct vtd_cache *c, unsigned set, uint64_t ahead)
{
    if (!ahead) {
        unsigned way = free_way_if_any(c, set);
        return way == c->ways ? victim_way(c, set) : way;
    }
    unsigned way = (unsigned)ahead - 1;
    if (c->order && set_tags(c, set)[way] != 0 && !head_in_place(c, set, way))
        return sort_order(c, set);
    return way;
}

/*
 * A key known absent, whose hash is h, into a free way of its set or over the victim (or into
 * `ahead`, the way_ahead() of its set, when non-zero); a new entry's payload zeroed when asked.
 */
static inline struct vtd_cache_entry *place_new(struct vtd_cache *c, const struct vtd_cache_key *key, uint64_t h,
                                                uint64_t ahead, struct vtd_cache_key *evicted, bool zero)
{
    unsigned set = set_of(c, h), way = way_for_fill(c, set, ahead);
    uint8_t *tag = c->tags + ((size_t)set << c->tag_shift) + way;
    uint32_t slot = (uint32_t)((size_t)set * c->ways + way);
    struct vtd_cache_entry *e = slot_at(c, slot);
    if (*tag == 0) {
        c->count++;
    } else {
        c->stats.evictions++;
        if (c->classed)
            c->class_count[c->slot_class[slot]]--;
        if (evicted)
            *evicted = e->key;
    }
    if (c->classed) {
        uint8_t cls = class_of(c, key);
        c->class_count[cls]++;
        c->slot_class[slot] = cls;
    }
    e->key = *key;
    e->valid = true;
    if (zero)
        memset(e->payload, 0, c->payload_size);
    *tag = tag_of(h);
    if (c->stamps) {
        restamp(c, slot);
        if (c->order)
            place_in_order(c, set, way, slot);
    }
    return e;
}

/* What every fill does to the entry it fills, new or not (stamped where it was placed). */
static inline struct vtd_cache_entry *note_fill(struct vtd_cache *c, struct vtd_cache_entry *e, uint64_t fill_seq)
{
    e->fill_seq = fill_seq;
    e->version = note_change(c);
    c->stats.fills++;
    c->last = e;
    return e;
}

/*
 * Existing key: the same entry, payload kept (the owner refreshes it). Otherwise a free way or
 * the victim, with a zeroed payload. Every insert makes the entry the most recent, under LRU and
 * FIFO alike, so FIFO age counts from the latest fill.
 */
static struct vtd_cache_entry *insert_present_or_new(struct vtd_cache *c, const struct vtd_cache_key *key,
                                                     uint64_t fill_seq, struct vtd_cache_key *evicted, bool zero)
{
    bool absent = known_absent(c, key);
    uint64_t h = absent ? c->miss_hash : key_hash(key);
    struct vtd_cache_entry *e = absent || class_empty(c, key) ? NULL : find_in_set(c, h, key);
    if (e) {
        if (c->stamps)
            restamp(c, e->slot);
    } else {
        e = place_new(c, key, h, 0, evicted, zero);
    }
    return note_fill(c, e, fill_seq);
}

/* The insert, *evicted all zeros when nothing valid was replaced; a disabled cache's answer
 * (NULL) without a call: a walk with the IOTLB and PSCs off asks at every request. */
static inline struct vtd_cache_entry *insert_entry(struct vtd_cache *c, const struct vtd_cache_key *key,
                                                   uint64_t fill_seq, struct vtd_cache_key *evicted, bool zero)
{
    if (evicted)
        memset(evicted, 0, sizeof(*evicted));
    if (cache_disabled(c))
        return NULL;
    return insert_present_or_new(c, key, fill_seq, evicted, zero);
}

struct vtd_cache_entry *vtd_cache_insert(struct vtd_cache *c, const struct vtd_cache_key *key, uint64_t fill_seq,
                                         struct vtd_cache_key *evicted)
{
    return insert_entry(c, key, fill_seq, evicted, true);
}

/* The payload size is the cache's, known here only: the memset of a fill is a library call that
 * an owner writing a fixed-size payload whole does not need. */
struct vtd_cache_entry *vtd_cache_insert_unzeroed(struct vtd_cache *c, const struct vtd_cache_key *key,
                                                  uint64_t fill_seq)
{
    return insert_entry(c, key, fill_seq, NULL, false);
}

/* vtd_cache_count_miss() and then the insert of keys[0], with none of the miss's memory of its
 * key: the fill that follows at once moves the generation, which voids that memory anyway. */
struct vtd_cache_entry *vtd_cache_miss_fill(struct vtd_cache *c, const struct vtd_cache_key *keys,
                                            uint64_t miss_token, uint64_t fill_seq)
{
    c->stats.misses++;
    if (cache_disabled(c))
        return NULL;
    struct vtd_cache_entry *e =
        place_new(c, &keys[0], miss_token & ~TOKEN_WAY_MASK, miss_token & TOKEN_WAY_MASK, NULL, false);
    return note_fill(c, e, fill_seq);
}

/* ---- invalidation and iteration ----------------------------------------------------------- */

static void remove_entry(struct vtd_cache *c, struct vtd_cache_entry *e)
{
    e->valid = false;
    e->version = 0;
    if (c->classed)
        c->class_count[c->slot_class[e->slot]]--;
    note_change(c);
    *tag_of_entry(c, e) = 0;
    c->count--;
    c->stats.invalidated++;
}

/*
 * The tag-byte position of the first valid way at or after `pos`, or the tag array's length.
 * A way is valid exactly when its tag is non-zero and padding lanes are zero, so the whole array
 * is scanned as one run of bytes, eight at a time: a scan of a large, mostly empty cache then
 * touches a byte per way, never a slot, and divides nothing (a trace sweep's 4,096-entry IOTLBs
 * spent a fifth of their time faulting in slots that an invalidation only looked at, and then
 * most of it in a division per way).
 */
static size_t next_valid_tag(const struct vtd_cache *c, size_t pos)
{
    size_t end = (size_t)c->sets << c->tag_shift;
    for (; pos < end && (pos & 7); pos++)
        if (c->tags[pos])
            return pos;
    for (; pos + 8 <= end; pos += 8) {
        uint64_t word;
        memcpy(&word, c->tags + pos, sizeof word);
        if (word)
            break;
    }
    for (; pos < end; pos++)
        if (c->tags[pos])
            return pos;
    return end;
}

/* The entry whose tag byte is at `pos` (a set's tags are padded; its slots are not). */
static struct vtd_cache_entry *entry_of_tag(const struct vtd_cache *c, size_t pos)
{
    size_t set = pos >> c->tag_shift, way = pos & (((size_t)1 << c->tag_shift) - 1);
    return (struct vtd_cache_entry *)(c->slots + set * c->set_bytes + way * c->stride);
}

/* A NULL `match` matches every entry (then it is a flush that still asks `still_ok`). The scan
 * ends once it has seen every entry the cache held. */
unsigned vtd_cache_invalidate(struct vtd_cache *c, vtd_cache_pred match, vtd_cache_pred still_ok, void *arg)
{
    unsigned removed = 0;
    size_t end = (size_t)c->sets << c->tag_shift;
    size_t unseen = c->count;
    for (size_t pos = next_valid_tag(c, 0); pos < end && unseen; pos = next_valid_tag(c, pos + 1)) {
        struct vtd_cache_entry *e = entry_of_tag(c, pos);
        unseen--;
        if (match && !match(e, arg))
            continue;
        if (still_ok && still_ok(e, arg))
            c->stats.over_invalidated++;
        remove_entry(c, e);
        removed++;
    }
    return removed;
}

unsigned vtd_cache_flush(struct vtd_cache *c) { return vtd_cache_invalidate(c, NULL, NULL, NULL); }

void vtd_cache_foreach(const struct vtd_cache *c, void (*fn)(const struct vtd_cache_entry *e, void *arg), void *arg)
{
    size_t end = (size_t)c->sets << c->tag_shift;
    size_t unseen = c->count;
    for (size_t pos = next_valid_tag(c, 0); pos < end && unseen; pos = next_valid_tag(c, pos + 1), unseen--)
        fn(entry_of_tag(c, pos), arg);
}

/* ---- statistics --------------------------------------------------------------------------- */

/* The view is host memory, no state of the model: a const cache may refresh it. */
const struct vtd_cache_stats *vtd_cache_stats(const struct vtd_cache *c)
{
    *c->view = c->stats;
    c->view->lookups = c->stats.hits + c->stats.misses;
    return c->view;
}

struct vtd_cache_stats *vtd_cache_stats_mut(struct vtd_cache *c) { return &c->stats; }

void vtd_cache_reset_stats(struct vtd_cache *c)
{
    memset(&c->stats, 0, sizeof(c->stats));
    memset(c->view, 0, sizeof(*c->view));
}
