/* addrset.c: an open-addressing set of 64-bit keys, doubled at half full. */
#include "inspect/addrset.h"

#include <errno.h>

#include "walker/alloc.h"

static size_t slot_of(uint64_t key, size_t cap)
{
    key *= UINT64_C(0x9E3779B97F4A7C15); /* Fibonacci hashing spreads page-aligned keys */
    return (size_t)(key >> 32) & (cap - 1);
}

static void insert(uint64_t *slot, size_t cap, uint64_t stored)
{
    size_t i = slot_of(stored - 1, cap);
    while (slot[i])
        i = (i + 1) & (cap - 1);
    slot[i] = stored;
}

static int grow(struct vtd_insp_addrset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    uint64_t *slot = vtd_calloc(cap, sizeof *slot);
    if (!slot)
        return -ENOMEM;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slot[i])
            insert(slot, cap, s->slot[i]);
    vtd_free(s->slot);
    s->slot = slot;
    s->cap = cap;
    return 0;
}

int vtd_insp_addrset_add(struct vtd_insp_addrset *s, uint64_t key)
{
    if (2 * (s->n + 1) > s->cap && grow(s))
        return -ENOMEM;
    uint64_t stored = key + 1;
    size_t i = slot_of(key, s->cap);
    for (; s->slot[i]; i = (i + 1) & (s->cap - 1))
        if (s->slot[i] == stored)
            return 0;
    s->slot[i] = stored;
    s->n++;
    return 1;
}

void vtd_insp_addrset_free(struct vtd_insp_addrset *s)
{
    vtd_free(s->slot);
    *s = (struct vtd_insp_addrset){0};
}
