/*
 * cache.h: one generic, deterministic translation cache, the building block of every cache the
 * simulated IOMMU has (context cache, PASID cache, IOTLB, paging-structure caches, device TLBs).
 *
 * Geometry is sets x ways (1 set = fully associative, 1 way = direct-mapped); replacement is
 * LRU, FIFO or seeded random. A full set evicts exactly one entry, never flushes. Size 0
 * disables the cache (every lookup misses, inserts are dropped). Entries are a fixed-size key
 * (compared whole) plus a fixed-size payload the owner interprets; invalidation walks entries
 * with a predicate, so each owner expresses exactly what a descriptor removes.
 *
 * The entry header is 40 bytes, so a payload of up to 24 bytes (an IOTLB or paging-structure
 * cache entry) makes a slot of one 64-byte host cache line: a miss's fill then writes one line
 * the host rarely still holds, not two.
 */
#ifndef VTDSIM_SIM_CACHE_H
#define VTDSIM_SIM_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vtd_repl { VTD_REPL_LRU, VTD_REPL_FIFO, VTD_REPL_RANDOM };

struct vtd_cache_geometry {
    unsigned sets;       /* 0 sets or 0 ways disables the cache */
    unsigned ways;
    enum vtd_repl repl;
    uint64_t seed;       /* for VTD_REPL_RANDOM */
};

/* A key is two 64-bit words; unused bits must be zero. The set index hashes the whole key. */
#define VTD_CACHE_KEY_WORDS 2u
struct vtd_cache_key {
    uint64_t w[VTD_CACHE_KEY_WORDS];
};

struct vtd_cache_stats {
    uint64_t lookups, hits, misses, fills, evictions, invalidated, over_invalidated, stale_hits;
};

struct vtd_cache_entry {
    struct vtd_cache_key key;
    uint64_t fill_seq;      /* when it was filled (the owner's sequence number, e.g. a step) */
    uint64_t version;       /* the cache's generation when this fill happened: unique per fill;
                               0 once removed (a holder of an entry needs only compare it) */
    uint32_t slot;          /* internal: the entry's index in the cache (set * ways + way) */
    bool valid;
    _Alignas(uint64_t) unsigned char payload[]; /* payload_size bytes, aligned for 8-byte scalars */
};

struct vtd_cache;

/* NULL on allocation failure, a NULL geometry or absurd sizes (more than 1 << 24 entries). */
struct vtd_cache *vtd_cache_new(const char *name, const struct vtd_cache_geometry *g, size_t payload_size);
void vtd_cache_free(struct vtd_cache *c);
/*
 * Host memory vtd_cache_new allocates for this geometry and payload, in bytes: every slot is
 * allocated up front, so this is also the cache's worst case. UINT64_MAX for a geometry
 * vtd_cache_new refuses.
 */
uint64_t vtd_cache_host_bytes(const struct vtd_cache_geometry *g, size_t payload_size);
/* Empty, with the replacement state and statistics vtd_cache_new gave it (same geometry). */
void vtd_cache_reset(struct vtd_cache *c);
const char *vtd_cache_name(const struct vtd_cache *c);
unsigned vtd_cache_capacity(const struct vtd_cache *c);
unsigned vtd_cache_count(const struct vtd_cache *c);   /* valid entries */
/*
 * Bumped whenever an entry is added, refilled, evicted or removed (never by a lookup): a caller
 * that remembers entries knows they still hold what they held while this is unchanged.
 */
uint64_t vtd_cache_generation(const struct vtd_cache *c);
/*
 * Also bump *counter (the owner's, shared by several caches; NULL: none) at each of those
 * changes, so an owner holding entries of several caches can tell they all still hold by one
 * compare; the counter only grows.
 */
void vtd_cache_share_changes(struct vtd_cache *c, uint64_t *counter);
/*
 * Keep a count of valid entries per class, the class of a key being the low three bits of its
 * word `word` (0..VTD_CACHE_KEY_WORDS-1; another value turns counting off). Call it on an empty cache. An owner whose
 * keys carry a page size or a level there can then skip probing for a class the cache has no
 * entry of: an IOTLB keyed by page shift (12, 21, 30) or a paging-structure cache by level (2-5).
 */
#define VTD_CACHE_CLASSES 8u
void vtd_cache_count_classes(struct vtd_cache *c, unsigned word);
/* Valid entries whose class is value's low three bits (0 when not counting). */
unsigned vtd_cache_class_count(const struct vtd_cache *c, uint64_t value);

/* The entry with exactly this key, or NULL; counts a lookup and a hit or miss; LRU touches. */
struct vtd_cache_entry *vtd_cache_lookup(struct vtd_cache *c, const struct vtd_cache_key *key);
/*
 * The first of n candidate keys present (e.g. one key per page size, or per level), counted as
 * ONE lookup the way hardware probes all candidates at once; *which gets its index.
 */
struct vtd_cache_entry *vtd_cache_lookup_any(struct vtd_cache *c, const struct vtd_cache_key *keys, unsigned n,
                                             unsigned *which);
/*
 * Count a hit on an entry the caller already holds (it checked e->valid and e->key), exactly as
 * vtd_cache_lookup would for that key: for callers that remember their last entry.
 */
void vtd_cache_touch(struct vtd_cache *c, struct vtd_cache_entry *e);
/*
 * The same counts and replacement update, for a caller that kept the entry's e->slot (no load
 * through e for it); e does not become the entry a later lookup tries first, a hint that changes
 * no answer and no count.
 */
void vtd_cache_count_hit(struct vtd_cache *c, const struct vtd_cache_entry *e, uint32_t slot);
/*
 * vtd_cache_lookup_any() in two steps, for a caller that must decide whether to go on before
 * any count changes: _peek_any probes the same keys counting nothing (the entry found, or NULL
 * with *miss_token set); after a NULL, _count_miss counts the miss exactly as the lookup would
 * have (and lets the insert that follows reuse the first key's hash).
 */
struct vtd_cache_entry *vtd_cache_peek_any(const struct vtd_cache *c, const struct vtd_cache_key *keys, unsigned n,
                                           uint64_t *miss_token);
void vtd_cache_count_miss(struct vtd_cache *c, const struct vtd_cache_key *keys, unsigned n, uint64_t miss_token);
/*
 * After a NULL from _peek_any (n >= 1, and no other call on this cache since: the token holds
 * the way the fill takes, chosen at the peek): the miss counted as _count_miss counts it, then
 * keys[0] filled as vtd_cache_insert_unzeroed() fills an absent key (same way, victim, counts and
 * replacement state); the caller writes the whole payload. NULL only for a disabled cache.
 */
struct vtd_cache_entry *vtd_cache_miss_fill(struct vtd_cache *c, const struct vtd_cache_key *keys,
                                            uint64_t miss_token, uint64_t fill_seq);
/* Like lookup but counts nothing and touches nothing (for the oracle and reports). */
struct vtd_cache_entry *vtd_cache_peek(const struct vtd_cache *c, const struct vtd_cache_key *key);
/*
 * The entry to fill for `key`: the existing one with that key, else a free way, else the
 * victim the policy picks (counted as an eviction; *evicted, if given, receives a copy of the
 * victim's key). Returns NULL only for a disabled cache. The caller writes the payload.
 */
struct vtd_cache_entry *vtd_cache_insert(struct vtd_cache *c, const struct vtd_cache_key *key, uint64_t fill_seq,
                                         struct vtd_cache_key *evicted);
/* vtd_cache_insert without the copy of a victim's key, leaving a new entry's payload as it was:
 * for an owner that writes every byte of the payload (padding included) after each fill. */
struct vtd_cache_entry *vtd_cache_insert_unzeroed(struct vtd_cache *c, const struct vtd_cache_key *key,
                                                  uint64_t fill_seq);

/*
 * Invalidate every valid entry for which `match` returns true. For each one removed, `still_ok`
 * (if given) says whether its content was still correct: those are counted as over-invalidated.
 * Returns the number removed.
 */
typedef bool (*vtd_cache_pred)(const struct vtd_cache_entry *e, void *arg);
unsigned vtd_cache_invalidate(struct vtd_cache *c, vtd_cache_pred match, vtd_cache_pred still_ok, void *arg);
/* Remove everything (counted as invalidated). */
unsigned vtd_cache_flush(struct vtd_cache *c);
/* Call fn for every valid entry (in set/way order). */
void vtd_cache_foreach(const struct vtd_cache *c, void (*fn)(const struct vtd_cache_entry *e, void *arg), void *arg);

/* The statistics as of this call (lookups being hits plus misses), in memory the cache owns: the
 * same pointer every call, refreshed by each call and by vtd_cache_reset_stats. */
const struct vtd_cache_stats *vtd_cache_stats(const struct vtd_cache *c);
/* The counters themselves, for an owner that counts on the cache's behalf (stale_hits); their
 * lookups field is not kept. */
struct vtd_cache_stats *vtd_cache_stats_mut(struct vtd_cache *c);
void vtd_cache_reset_stats(struct vtd_cache *c);

#endif
