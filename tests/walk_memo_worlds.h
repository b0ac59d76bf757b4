/*
 * walk_memo_worlds.h: the two worlds the walker-memo tests compare (test_walk_memo.c,
 * test_walk_memo_wide.c): built alike, one walking lean (so its memos serve), one forced onto
 * the checked path, which never consults a memo, by an abort range nothing uses. Also the
 * address look-ups those tests edit entries through, and the bit flip of their random drivers.
 * Each including test defines its suite (with walk_memo_worlds_fini as .fini) and builds the
 * worlds itself.
 */
#ifndef VTDSIM_TESTS_WALK_MEMO_WORLDS_H
#define VTDSIM_TESTS_WALK_MEMO_WORLDS_H

#include <criterion/criterion.h>
#include <string.h>

#include "walker/fs_entry.h"
#include "walker/ss_entry.h"
#include "world.h"
#include "xorshift.h"

#define UNUSED_PA UINT64_C(0x7f0000000000) /* far above every table and page of the worlds */

enum { LEAN, CHECKED, NWORLDS };

static struct world worlds[NWORLDS];
static struct vtd_pasid_cfg world_cfg[NWORLDS];
static struct vtd_ctx world_ctx[NWORLDS];
static uint64_t rng_state;

static inline void walk_memo_worlds_fini(void)
{
    for (unsigned i = 0; i < NWORLDS; i++)
        world_fini(&worlds[i]);
}

static inline uint64_t rng(void) { return xorshift64(&rng_state); }

/* The checked world forced onto the checked path: an abort range nothing uses. */
static inline void force_checked(void)
{
    cr_assert_eq(vtd_mem_set_abort(worlds[CHECKED].mem, UNUSED_PA, 0x1000, VTD_MEM_ABORT_READ), 0);
}

/* The host address of the second-stage entry at `level` on the way to `gpa` in world k. */
static inline uint64_t ss_entry_at(unsigned k, uint64_t gpa, unsigned level)
{
    uint64_t table = world_cfg[k].ssptptr;
    for (unsigned l = world_cfg[k].ss_levels;; l--) {
        uint64_t addr = table + 8 * (uint64_t)vtd_pt_index(gpa, l), e;
        if (l == level)
            return addr;
        /* Followed by its address alone: the tests flip permission and reserved bits. */
        cr_assert_eq(vtd_mem_read64(worlds[k].mem, addr, &e), 0);
        table = e & VTD_SS_ADDR;
    }
}

/* The host address of guest-physical `gpa` in world k (the second stage maps 4 KiB pages). */
static inline uint64_t guest_to_host(unsigned k, uint64_t gpa)
{
    uint64_t e;
    cr_assert_eq(vtd_mem_read64(worlds[k].mem, ss_entry_at(k, gpa, 1), &e), 0);
    return (e & VTD_SS_ADDR) | (gpa & 0xfff);
}

/* The guest-physical address of the first-stage entry at `level` on the way to `va` in world k. */
static inline uint64_t fs_entry_gpa(unsigned k, uint64_t va, unsigned level)
{
    uint64_t table = world_cfg[k].fsptptr;
    for (unsigned l = world_cfg[k].fs_levels;; l--) {
        uint64_t gpa = table + 8 * (uint64_t)vtd_pt_index(va, l), e;
        if (l == level)
            return gpa;
        cr_assert_eq(vtd_mem_read64(worlds[k].mem, guest_to_host(k, gpa), &e), 0);
        table = e & VTD_FS_ADDR;
    }
}

/* Flip `bit` of the entry at host address addr[k] in each world k. */
static inline void flip_at(const uint64_t addr[NWORLDS], uint64_t bit)
{
    for (unsigned k = 0; k < NWORLDS; k++) {
        uint64_t e;
        cr_assert_eq(vtd_mem_read64(worlds[k].mem, addr[k], &e), 0);
        cr_assert_eq(vtd_mem_write64(worlds[k].mem, addr[k], e ^ bit), 0);
    }
}

/* After the same request in both worlds (page i): the same reads, paging reads, A/D writes and
 * reads by kind. */
static inline void expect_same_counters(unsigned i)
{
    const struct vtd_walk_counters *a = &worlds[LEAN].env.cnt, *b = &worlds[CHECKED].env.cnt;
    cr_assert_eq(a->reads, b->reads, "page %u: %u reads lean, %u checked", i, a->reads, b->reads);
    cr_assert_eq(a->paging_reads, b->paging_reads);
    cr_assert_eq(a->ad_writes, b->ad_writes, "page %u: %u A/D writes lean, %u checked", i, a->ad_writes,
                 b->ad_writes);
    cr_assert(!memcmp(a->by_kind, b->by_kind, sizeof a->by_kind), "page %u: reads by kind differ", i);
}

#endif
