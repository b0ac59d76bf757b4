/*
 * cache_order_internal.h: the replacement order of sim/cache.c's LRU and FIFO sets, as one
 * circular doubly linked list per set threaded through a compact array of links.
 *
 * A full set used to find its victim by scanning every way for the smallest use stamp: 128
 * ways meant 128 entries in 128 cache lines, about 1,100 instructions per miss of a 128-way
 * PASID cache. The list keeps the same order (most recently stamped first), so the victim is
 * the list's last link, found in O(1), and restamping an entry moves its link to the front.
 * The victim is therefore exactly the entry the scan would have picked: stamps were unique and
 * the list orders entries by the same events that stamped them.
 *
 * links[0 .. entries) belong to the slots (by slot index); links[entries + set] is the set's
 * anchor, whose `next` is the most recent entry and whose `prev` the least recent. A set's list
 * holds its valid entries only.
 */
#ifndef VTDSIM_SIM_CACHE_ORDER_INTERNAL_H
#define VTDSIM_SIM_CACHE_ORDER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

struct cache_link {
    uint32_t next, prev; /* indices into the same links array */
};

/* Every set's list empty: each anchor links to itself. */
static inline void order_clear(struct cache_link *links, size_t entries, unsigned sets)
{
    for (size_t s = 0; s < sets; s++) {
        uint32_t a = (uint32_t)(entries + s);
        links[a] = (struct cache_link){a, a};
    }
}

static inline void order_unlink(struct cache_link *links, uint32_t i)
{
    uint32_t p = links[i].prev, n = links[i].next;
    links[p].next = n;
    links[n].prev = p;
}

/* Link i in as the most recent entry of the set whose anchor is a. */
static inline void order_push_recent(struct cache_link *links, uint32_t a, uint32_t i)
{
    uint32_t n = links[a].next;
    links[i] = (struct cache_link){n, a};
    links[n].prev = i;
    links[a].next = i;
}

/* Make the linked entry i the most recent; a hit on the most recent entry changes nothing. */
static inline void order_make_recent(struct cache_link *links, uint32_t a, uint32_t i)
{
    if (links[a].next == i)
        return;
    order_unlink(links, i);
    order_push_recent(links, a, i);
}

/* The least recent entry of a non-empty set. */
static inline uint32_t order_oldest(const struct cache_link *links, uint32_t a) { return links[a].prev; }

#endif
