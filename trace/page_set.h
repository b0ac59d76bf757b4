/*
 * page_set.h: a table from 64-bit keys to 32-bit values with removal, for the Linux import's
 * record of which pages each domain has mapped (trace/import_linux.c). Open addressing with
 * linear probing, kept at most half full; removal shifts the entries after a hole back, so no
 * tombstones build up over a long trace. Not a public interface.
 */
#ifndef VTDSIM_TRACE_PAGE_SET_H
#define VTDSIM_TRACE_PAGE_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vtrace_page_set {
    uint64_t *keys;
    uint32_t *vals;  /* value + 1; 0 marks an empty slot */
    size_t cap, n;
};

/* The value under `key`, or -1. */
int64_t vtrace_page_set_find(const struct vtrace_page_set *s, uint64_t key);
/* Store `val` (below UINT32_MAX) under `key`, replacing what was there; false when out of memory. */
bool vtrace_page_set_put(struct vtrace_page_set *s, uint64_t key, uint32_t val);
/* Remove `key`: true when it was there. */
bool vtrace_page_set_remove(struct vtrace_page_set *s, uint64_t key);
void vtrace_page_set_free(struct vtrace_page_set *s);

#endif
