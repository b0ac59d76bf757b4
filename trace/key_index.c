/* key_index.c: open-addressing table from 64-bit keys to indexes (see key_index.h). */
#include "trace/key_index.h"

#include "walker/alloc.h"

/* A 64-bit mix (the murmur3 finaliser): keys packed from source-ids and PASIDs differ in few bits. */
static size_t slot_of(uint64_t key, size_t cap)
{
    key ^= key >> 33;
    key *= UINT64_C(0xff51afd7ed558ccd);
    key ^= key >> 33;
    key *= UINT64_C(0xc4ceb9fe1a85ec53);
    key ^= key >> 33;
    return (size_t)key & (cap - 1);
}

int64_t vtrace_key_index_find(const struct vtrace_key_index *ix, uint64_t key)
{
    if (!ix->cap)
        return -1;
    for (size_t s = slot_of(key, ix->cap);; s = (s + 1) & (ix->cap - 1)) {
        if (!ix->vals[s])
            return -1;
        if (ix->keys[s] == key)
            return (int64_t)ix->vals[s] - 1;
    }
}

static void put(uint64_t *keys, uint32_t *vals, size_t cap, uint64_t key, uint32_t stored)
{
    size_t s = slot_of(key, cap);
    while (vals[s])
        s = (s + 1) & (cap - 1);
    keys[s] = key;
    vals[s] = stored;
}

/* Double the table (16 slots at first), moving every key. */
static bool grow(struct vtrace_key_index *ix)
{
    size_t ncap = ix->cap ? ix->cap * 2 : 16;
    uint64_t *keys = vtd_malloc(ncap * sizeof(*keys));
    uint32_t *vals = vtd_calloc(ncap, sizeof(*vals));
    if (!keys || !vals) {
        vtd_free(keys);
        vtd_free(vals);
        return false;
    }
    for (size_t s = 0; s < ix->cap; s++)
        if (ix->vals[s])
            put(keys, vals, ncap, ix->keys[s], ix->vals[s]);
    vtd_free(ix->keys);
    vtd_free(ix->vals);
    ix->keys = keys;
    ix->vals = vals;
    ix->cap = ncap;
    return true;
}

bool vtrace_key_index_add(struct vtrace_key_index *ix, uint64_t key, uint32_t val)
{
    if (val == UINT32_MAX || ((ix->n + 1) * 2 > ix->cap && !grow(ix)))
        return false;
    put(ix->keys, ix->vals, ix->cap, key, val + 1);
    ix->n++;
    return true;
}

void vtrace_key_index_free(struct vtrace_key_index *ix)
{
    vtd_free(ix->keys);
    vtd_free(ix->vals);
    *ix = (struct vtrace_key_index){0};
}
