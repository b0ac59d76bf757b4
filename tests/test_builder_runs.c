/*
 * test_builder_runs.c: a map of one page size checks and fills its leaf tables a run at a time
 * (walker/builder.c: one block read per run in the check pass, one block write per run in the
 * install pass). The tables it builds must be byte for byte those a page-by-page map builds,
 * and a refusal must come from the same slot, in address order, as slot by slot.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "walker/builder.h"
#include "walker/walk.h"

#define POOL_BASE UINT64_C(0x1000)
#define POOL_PAGES 4096u
#define KB4 UINT64_C(0x1000)
#define MB2 UINT64_C(0x200000)
#define GB1 UINT64_C(0x40000000)
#define RW (VTD_PERM_R | VTD_PERM_W)
#define OUT UINT64_C(0x100000000)

struct space {
    struct vtd_caps caps;
    struct vtd_mem *mem;
    struct vtd_builder b;
    struct vtd_pt pt;
};

static void space_init(struct space *s, enum vtd_pt_format fmt)
{
    vtd_caps_default(&s->caps);
    s->mem = vtd_mem_new(s->caps.haw);
    cr_assert_not_null(s->mem);
    cr_assert_eq(vtd_builder_init(&s->b, s->mem, &s->caps, POOL_BASE, (uint64_t)POOL_PAGES * KB4), 0);
    cr_assert_eq(vtd_pt_init(&s->pt, &s->b, fmt, 4, NULL, 0, 0), 0);
}

/* Every table page the two builders allocated holds the same bytes. */
static void assert_same_tables(struct space *a, struct space *b)
{
    cr_assert_eq(a->b.pool_next, b->b.pool_next, "the same tables, in the same order");
    static uint8_t pa[4096], pb[4096];
    for (uint64_t p = POOL_BASE; p < a->b.pool_next; p += KB4) {
        cr_assert_eq(vtd_mem_read(a->mem, p, pa, sizeof pa), 0);
        cr_assert_eq(vtd_mem_read(b->mem, p, pb, sizeof pb), 0);
        cr_assert(!memcmp(pa, pb, sizeof pa), "table page %#llx differs", (unsigned long long)p);
    }
}

static void runs_match_page_by_page(enum vtd_pt_format fmt, unsigned shift, uint64_t va, uint64_t pages,
                                    unsigned flags)
{
    struct space one, each;
    space_init(&one, fmt);
    space_init(&each, fmt);
    uint64_t page = UINT64_C(1) << shift;
    cr_assert_eq(vtd_pt_map(&one.pt, va, OUT, pages * page, shift, RW, flags), 0);
    for (uint64_t i = 0; i < pages; i++)
        cr_assert_eq(vtd_pt_map(&each.pt, va + i * page, OUT + i * page, page, shift, RW, flags), 0);
    assert_same_tables(&one, &each);
    for (uint64_t i = 0; i < pages; i += 97) {
        uint64_t pa = 0;
        unsigned got = 0;
        cr_assert_eq(vtd_pt_lookup(&one.pt, va + i * page + 8, &pa, &got, NULL), 0);
        cr_assert_eq(pa, OUT + i * page + 8);
        cr_assert_eq(got, shift);
    }
    vtd_mem_free(one.mem);
    vtd_mem_free(each.mem);
}

/* Starting mid-table and crossing leaf tables and a directory boundary. */
Test(builder_runs, one_call_builds_what_page_by_page_builds)
{
    runs_match_page_by_page(VTD_PT_SS, 12, MB2 - 3 * KB4, 2 * 512 + 7, VTD_MAP_AD);
    runs_match_page_by_page(VTD_PT_FS, 12, GB1 - 5 * KB4, 600, 0);
    runs_match_page_by_page(VTD_PT_FS, 12, 0, 512, VTD_MAP_AD);
    runs_match_page_by_page(VTD_PT_SS, 21, GB1 - 2 * MB2, 515, 0);
}

/* A mapped slot in the middle of a run refuses the whole range before anything is written. */
Test(builder_runs, mapped_slot_mid_run_refuses_everything)
{
    struct space s;
    space_init(&s, VTD_PT_SS);
    cr_assert_eq(vtd_pt_map(&s.pt, 300 * KB4, OUT, KB4, 12, RW, 0), 0);
    uint64_t before = s.b.pool_next;
    cr_assert_eq(vtd_pt_map(&s.pt, 0, OUT, 2 * MB2, 12, RW, 0), -EEXIST);
    cr_assert_eq(vtd_pt_lookup(&s.pt, 0, NULL, NULL, NULL), -ENOENT, "slot 0 was not written");
    cr_assert_eq(s.b.pool_next, before, "no table was made for the second 2 MiB");
    /* Around it, both sides map. */
    cr_assert_eq(vtd_pt_map(&s.pt, 0, OUT, 300 * KB4, 12, RW, 0), 0);
    cr_assert_eq(vtd_pt_map(&s.pt, 301 * KB4, OUT, 2 * MB2 - 301 * KB4, 12, RW, 0), 0);
    cr_assert_eq(vtd_pt_map(&s.pt, 299 * KB4, OUT, 3 * KB4, 12, RW, 0), -EEXIST);
    vtd_mem_free(s.mem);
}

/* Large pages over tables an unmap kept (empty): the run reads past them, each is checked. */
Test(builder_runs, large_pages_over_kept_empty_tables)
{
    struct space s;
    space_init(&s, VTD_PT_SS);
    cr_assert_eq(vtd_pt_map(&s.pt, 5 * MB2, OUT, KB4, 12, RW, 0), 0);
    cr_assert_eq(vtd_pt_unmap(&s.pt, 5 * MB2, KB4), 0);
    cr_assert_eq(vtd_pt_map(&s.pt, 9 * MB2 + KB4, OUT, KB4, 12, RW, 0), 0);
    cr_assert_eq(vtd_pt_map(&s.pt, 0, OUT, 16 * MB2, 21, RW, 0), -EEXIST, "slot 9 still maps a page below");
    cr_assert_eq(vtd_pt_map(&s.pt, 0, OUT, 9 * MB2, 21, RW, 0), 0, "slot 5's table is empty");
    unsigned shift = 0;
    uint64_t pa = 0;
    cr_assert_eq(vtd_pt_lookup(&s.pt, 5 * MB2 + 8, &pa, &shift, NULL), 0);
    cr_assert_eq(shift, 21u);
    cr_assert_eq(pa, OUT + 5 * MB2 + 8);
    vtd_mem_free(s.mem);
}

/* The leaf bound falls inside a run: refused before a single write. */
Test(builder_runs, leaf_bound_inside_a_run)
{
    struct space s;
    space_init(&s, VTD_PT_SS);
    uint64_t root_before[512], root_after[512];
    cr_assert_eq(vtd_mem_read(s.mem, s.pt.root, root_before, sizeof root_before), 0);
    cr_assert_eq(vtd_pt_map(&s.pt, 100 * KB4, OUT, (VTD_PT_MAX_LEAVES + 1) * KB4, 12, RW, 0), -E2BIG);
    cr_assert_eq(vtd_mem_read(s.mem, s.pt.root, root_after, sizeof root_after), 0);
    cr_assert(!memcmp(root_before, root_after, sizeof root_after));
    vtd_mem_free(s.mem);
}

/* Memory that aborts inside a run, on the check's block read or the install's block write. */
Test(builder_runs, abort_inside_a_run_is_erange)
{
    struct space s;
    space_init(&s, VTD_PT_SS);
    cr_assert_eq(vtd_pt_map(&s.pt, 0, OUT, KB4, 12, RW, 0), 0);
    uint64_t slot0 = 0;
    cr_assert_eq(vtd_pt_entry_addr(&s.pt, 0, 1, &slot0), 0);
    cr_assert_eq(vtd_mem_set_abort(s.mem, slot0 + 10 * 8, 8, VTD_MEM_ABORT_READ), 0);
    cr_assert_eq(vtd_pt_map(&s.pt, KB4, OUT, 20 * KB4, 12, RW, 0), -ERANGE);
    cr_assert_eq(vtd_mem_set_abort(s.mem, slot0 + 10 * 8, 8, 0), 0);
    cr_assert_eq(vtd_mem_set_abort(s.mem, slot0 + 10 * 8, 8, VTD_MEM_ABORT_WRITE), 0);
    cr_assert_eq(vtd_pt_map(&s.pt, KB4, OUT, 20 * KB4, 12, RW, 0), -ERANGE);
    cr_assert_eq(vtd_mem_set_abort(s.mem, slot0 + 10 * 8, 8, 0), 0);
    cr_assert_eq(vtd_pt_map(&s.pt, 32 * KB4, OUT, 20 * KB4, 12, RW, 0), 0, "the table is usable again");
    vtd_mem_free(s.mem);
}
