/* page_set.c: a 64-bit key table with removal (see page_set.h). */
#include "trace/page_set.h"

#include <string.h>

#include "walker/alloc.h"

/* Fibonacci hashing: IOVA pages are sequential, the multiply spreads them over the table. */
static size_t slot_of(uint64_t key, size_t cap) { return (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 20) & (cap - 1); }

static size_t probe(const struct vtrace_page_set *s, uint64_t key)
{
    size_t i = slot_of(key, s->cap);
    while (s->vals[i] && s->keys[i] != key)
        i = (i + 1) & (s->cap - 1);
    return i;
}

int64_t vtrace_page_set_find(const struct vtrace_page_set *s, uint64_t key)
{
    if (!s->cap)
        return -1;
    size_t i = probe(s, key);
    return s->vals[i] ? (int64_t)s->vals[i] - 1 : -1;
}

static bool regrow(struct vtrace_page_set *s)
{
    size_t ncap = s->cap ? s->cap * 2 : 1024;
    struct vtrace_page_set t = {.keys = vtd_malloc(ncap * sizeof(uint64_t)), .vals = vtd_calloc(ncap, sizeof(uint32_t)),
                                .cap = ncap};
    if (!t.keys || !t.vals) {
        vtd_free(t.keys);
        vtd_free(t.vals);
        return false;
    }
    for (size_t i = 0; i < s->cap; i++)
        if (s->vals[i]) {
            size_t j = probe(&t, s->keys[i]);
            t.keys[j] = s->keys[i];
            t.vals[j] = s->vals[i];
        }
    t.n = s->n;
    vtrace_page_set_free(s);
    *s = t;
    return true;
}

bool vtrace_page_set_put(struct vtrace_page_set *s, uint64_t key, uint32_t val)
{
    if ((s->n + 1) * 2 > s->cap && !regrow(s))
        return false;
    size_t i = probe(s, key);
    if (!s->vals[i])
        s->n++;
    s->keys[i] = key;
    s->vals[i] = val + 1;
    return true;
}

/* Backward-shift deletion: move each later entry of the run into the hole when its home slot
 * does not lie strictly between the hole and it (cyclically). */
bool vtrace_page_set_remove(struct vtrace_page_set *s, uint64_t key)
{
    if (!s->cap)
        return false;
    size_t hole = probe(s, key), mask = s->cap - 1;
    if (!s->vals[hole])
        return false;
    s->vals[hole] = 0;
    s->n--;
    for (size_t j = (hole + 1) & mask; s->vals[j]; j = (j + 1) & mask) {
        size_t home = slot_of(s->keys[j], s->cap);
        bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (stays)
            continue;
        s->keys[hole] = s->keys[j];
        s->vals[hole] = s->vals[j];
        s->vals[j] = 0;
        hole = j;
    }
    return true;
}

void vtrace_page_set_free(struct vtrace_page_set *s)
{
    vtd_free(s->keys);
    vtd_free(s->vals);
    memset(s, 0, sizeof(*s));
}
