/*
 * dirty_pages.h: what a replay with `dirty` events knows of each page of each second-stage
 * space: when the device last wrote it and when a harvest last reported it, so that the replay
 * can say how many pages were written, reported, and lost (written after the harvest that last
 * reported them, never reported again). Open addressing with linear probing, grown at half full.
 * Not a public interface.
 */
#ifndef VTDSIM_TRACE_DIRTY_PAGES_H
#define VTDSIM_TRACE_DIRTY_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vtrace_page_slot {
    uint64_t key;                 /* space index << 45 | page number, + 1 (0: empty) */
    uint64_t written, reported;   /* the clock at the last write / report; 0: never */
};

struct vtrace_dirty_pages {
    struct vtrace_page_slot *slot;
    size_t cap, n;
    uint64_t clock;
};

/* Host bytes one more page may take (two slots at half full, four while doubling). */
#define VTRACE_DIRTY_PAGE_BYTES (4 * sizeof(struct vtrace_page_slot))

/* A write to / a report of a page of space `space`; false when out of memory. */
bool vtrace_dirty_write(struct vtrace_dirty_pages *d, uint32_t space, uint64_t page);
bool vtrace_dirty_report(struct vtrace_dirty_pages *d, uint32_t space, uint64_t page);
/* Start a new harvest: its reports come after every write so far. */
void vtrace_dirty_tick(struct vtrace_dirty_pages *d);
/* Pages written, pages reported, pages whose last write no later report covers. */
void vtrace_dirty_count(const struct vtrace_dirty_pages *d, uint64_t *written, uint64_t *reported, uint64_t *lost);
void vtrace_dirty_free(struct vtrace_dirty_pages *d);

#endif
