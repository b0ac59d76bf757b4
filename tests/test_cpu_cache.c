/*
 * test_cpu_cache.c: the CPU's write-back cache in front of simulated memory (walker/mem.h):
 * writes held in dirty lines, snooped reads and compare-exchange seeing them, memory itself
 * unchanged until clflush or wbinvd, lines equal to memory dropped, and the table of lines
 * through growth and removal.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "walker/cpu_lines.h"
#include "walker/mem.h"

static struct vtd_mem *mem;

static void setup(void)
{
    mem = vtd_mem_new(48);
    cr_assert_not_null(mem);
}

static void teardown(void) { vtd_mem_free(mem); }

TestSuite(cpu_cache, .init = setup, .fini = teardown);

static uint64_t cpu64(uint64_t pa)
{
    uint64_t v = 0xdead;
    cr_assert_eq(vtd_mem_read64(mem, pa, &v), 0);
    return v;
}

static uint64_t mem64(uint64_t pa)
{
    uint64_t v = 0xdead;
    cr_assert_eq(vtd_mem_read64_nosnoop(mem, pa, &v), 0);
    return v;
}

Test(cpu_cache, off_by_default_writes_reach_memory)
{
    cr_assert(!vtd_mem_cpu_cache_on(mem));
    cr_assert_eq(vtd_mem_write64(mem, 0x1000, 7), 0);
    cr_assert_eq(mem64(0x1000), 7);
    cr_assert_eq(vtd_mem_cpu_dirty(mem), 0);
}

Test(cpu_cache, write_stays_in_the_cache_until_clflush)
{
    cr_assert_eq(vtd_mem_write64(mem, 0x1008, 1), 0);
    cr_assert_eq(vtd_mem_set_cpu_cache(mem, true), 0);
    cr_assert_eq(vtd_mem_write64(mem, 0x1008, 2), 0);
    cr_assert_eq(cpu64(0x1008), 2, "software sees its own write");
    cr_assert_eq(mem64(0x1008), 1, "memory has the old value");
    uint64_t fast = 0;
    cr_assert_eq(vtd_mem_read64_fast(mem, 0x1008, &fast), 0);
    cr_assert_eq(fast, 2, "the inlined read takes the CPU's view while lines are dirty");
    uint64_t c, m;
    cr_assert(vtd_mem_cpu_pending(mem, 0x1008, &c, &m));
    cr_assert_eq(c, 2);
    cr_assert_eq(m, 1);
    cr_assert(!vtd_mem_cpu_pending(mem, 0x1000, &c, &m), "the other words of the line are as memory has them");
    size_t n = 9;
    cr_assert_eq(vtd_mem_clflush(mem, 0x1000, 1, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(mem64(0x1008), 2);
    cr_assert_eq(vtd_mem_cpu_dirty(mem), 0);
    cr_assert(!vtd_mem_cpu_pending(mem, 0x1008, &c, &m));
}

Test(cpu_cache, a_line_written_back_to_its_memory_value_is_clean)
{
    cr_assert_eq(vtd_mem_write64(mem, 0x2000, 5), 0);
    cr_assert_eq(vtd_mem_set_cpu_cache(mem, true), 0);
    cr_assert_eq(vtd_mem_write64(mem, 0x2000, 6), 0);
    cr_assert_eq(vtd_mem_cpu_dirty(mem), 1);
    cr_assert_eq(vtd_mem_write64(mem, 0x2000, 5), 0);
    cr_assert_eq(vtd_mem_cpu_dirty(mem), 0);
}

Test(cpu_cache, block_write_and_fill_span_lines)
{
    uint8_t buf[200], back[200];
    for (unsigned i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i + 1);
    cr_assert_eq(vtd_mem_set_cpu_cache(mem, true), 0);
    cr_assert_eq(vtd_mem_write(mem, 0x3030, buf, sizeof buf), 0);
    cr_assert_eq(vtd_mem_cpu_dirty(mem), 4, "0x3030-0x30f7 touches four lines");
    cr_assert_eq(vtd_mem_read(mem, 0x3030, back, sizeof back), 0);
    cr_assert_arr_eq(back, buf, sizeof buf);
    cr_assert_eq(vtd_mem_read_nosnoop(mem, 0x3030, back, sizeof back), 0);
    cr_assert_eq(back[0], 0);
    cr_assert_eq(vtd_mem_fill(mem, 0x3040, 0xab, 64), 0);
    cr_assert_eq(cpu64(0x3040), UINT64_C(0xabababababababab));
    cr_assert_eq(mem64(0x3040), 0);
    /* Zeroing memory that is zero leaves nothing dirty. */
    cr_assert_eq(vtd_mem_fill(mem, 0x80000, 0, 0x2000), 0);
    cr_assert_eq(vtd_mem_cpu_dirty(mem), 4);
    size_t n = 0;
    cr_assert_eq(vtd_mem_wbinvd(mem, &n), 0);
    cr_assert_eq(n, 4);
    cr_assert_eq(vtd_mem_read_nosnoop(mem, 0x3030, back, sizeof back), 0);
    cr_assert_eq(back[16], 0xab);
    cr_assert_eq(back[0], 1);
}

Test(cpu_cache, cmpxchg_updates_the_dirty_line)
{
    cr_assert_eq(vtd_mem_set_cpu_cache(mem, true), 0);
    cr_assert_eq(vtd_mem_write64(mem, 0x4000, 0x10), 0);
    uint64_t actual;
    cr_assert_eq(vtd_mem_cmpxchg64(mem, 0x4000, 0x10, 0x30, &actual), 0);
    cr_assert_eq(actual, 0x10);
    cr_assert_eq(cpu64(0x4000), 0x30);
    cr_assert_eq(vtd_mem_cmpxchg64(mem, 0x4000, 0x10, 0x50, &actual), 0);
    cr_assert_eq(actual, 0x30, "a failed compare stores nothing");
    cr_assert_eq(cpu64(0x4000), 0x30);
    cr_assert_eq(mem64(0x4000), 0);
}

Test(cpu_cache, turning_it_off_writes_everything_back)
{
    cr_assert_eq(vtd_mem_set_cpu_cache(mem, true), 0);
    cr_assert_eq(vtd_mem_write64(mem, 0x5000, 3), 0);
    cr_assert_eq(vtd_mem_set_cpu_cache(mem, false), 0);
    cr_assert_eq(mem64(0x5000), 3);
    cr_assert_eq(vtd_mem_write64(mem, 0x5000, 4), 0);
    cr_assert_eq(mem64(0x5000), 4);
}

Test(cpu_cache, wide_flush_visits_the_lines_held)
{
    cr_assert_eq(vtd_mem_set_cpu_cache(mem, true), 0);
    /* More lines than the table's first size, so it grows, spread over many pages. */
    for (uint64_t i = 0; i < 300; i++)
        cr_assert_eq(vtd_mem_write64(mem, 0x100000 + i * 0x1040, i + 1), 0);
    cr_assert_eq(vtd_mem_cpu_dirty(mem), 300);
    size_t n = 0;
    /* The first half of the range by a flush far wider than the table. */
    cr_assert_eq(vtd_mem_clflush(mem, 0, 0x100000 + 150 * 0x1040, &n), 0);
    cr_assert_eq(n, 150);
    for (uint64_t i = 0; i < 300; i++) {
        cr_assert_eq(cpu64(0x100000 + i * 0x1040), i + 1);
        cr_assert_eq(mem64(0x100000 + i * 0x1040), i < 150 ? i + 1 : 0, "line %llu", (unsigned long long)i);
    }
    cr_assert_eq(vtd_mem_wbinvd(mem, &n), 0);
    cr_assert_eq(n, 150);
}

Test(cpu_cache, errors_and_reset)
{
    size_t n;
    cr_assert_eq(vtd_mem_set_cpu_cache(NULL, true), VTD_MEM_EINVAL);
    cr_assert_eq(vtd_mem_clflush(NULL, 0, 64, &n), VTD_MEM_EINVAL);
    cr_assert_eq(vtd_mem_clflush(mem, UINT64_MAX - 8, 64, &n), VTD_MEM_EINVAL);
    cr_assert_eq(vtd_mem_wbinvd(NULL, &n), VTD_MEM_EINVAL);
    cr_assert(!vtd_mem_cpu_cache_on(NULL));
    cr_assert_eq(vtd_mem_set_cpu_cache(mem, true), 0);
    cr_assert_eq(vtd_mem_write64(mem, UINT64_C(1) << 48, 1), VTD_MEM_EFAULT, "beyond the width, as without the cache");
    cr_assert_eq(vtd_mem_write64(mem, 0x6000, 1), 0);
    vtd_mem_reset(mem);
    cr_assert(!vtd_mem_cpu_cache_on(mem));
    cr_assert_eq(vtd_mem_cpu_dirty(mem), 0);
    cr_assert_eq(mem64(0x6000), 0);
}

Test(cpu_cache, dirty_lines_count_against_the_host_limit)
{
    size_t before = vtd_mem_footprint(mem);
    cr_assert_eq(vtd_mem_set_cpu_cache(mem, true), 0);
    cr_assert_eq(vtd_mem_write64(mem, 0x1000, 1), 0);
    cr_assert_gt(vtd_mem_footprint(mem), before + 4096, "a frame and the table of lines");
    vtd_mem_set_host_limit(mem, vtd_mem_footprint(mem) + 16384); /* room for the table to double once */
    int rc = 0;
    for (uint64_t i = 0; i < 64 && !rc; i++)
        rc = vtd_mem_write64(mem, 0x1000 + 64 * (i % 64), i + 2);
    cr_assert_eq(rc, 0, "lines in a frame already held fit while the table has room");
    for (uint64_t i = 0; i < 4096 && !rc; i++)
        rc = vtd_mem_fill(mem, 0x2000 + 64 * i, 0xff, 64);
    cr_assert_eq(rc, VTD_MEM_ENOMEM, "the table may not grow past the limit");
    cr_assert_eq(vtd_mem_last_refusal(mem), VTD_MEM_REFUSED_HOST);
}

/* ---- the table of lines ---- */

Test(cpu_lines, remove_keeps_every_other_line_findable)
{
    struct cpu_lines c = {0};
    cr_assert_null(cpu_lines_find(&c, 0));
    cpu_lines_remove(&c, 0);
    for (uint64_t i = 0; i < 1000; i++) {
        uint8_t *d = cpu_lines_add(&c, i * 64 * 4096);
        cr_assert_not_null(d);
        d[0] = (uint8_t)i;
    }
    cr_assert_eq(c.n, 1000);
    cpu_lines_remove(&c, 12345 * 64); /* not held: nothing changes */
    cr_assert_eq(c.n, 1000);
    for (uint64_t i = 0; i < 1000; i += 3)
        cpu_lines_remove(&c, i * 64 * 4096);
    for (uint64_t i = 0; i < 1000; i++) {
        uint8_t *d = cpu_lines_find(&c, i * 64 * 4096);
        if (i % 3 == 0) {
            cr_assert_null(d, "line %llu was removed", (unsigned long long)i);
        } else {
            cr_assert_not_null(d, "line %llu", (unsigned long long)i);
            cr_assert_eq(d[0], (uint8_t)i);
        }
    }
    cpu_lines_clear(&c);
    cr_assert_eq(c.n, 0);
    cr_assert_null(cpu_lines_find(&c, 64 * 4096));
    cpu_lines_free(&c);
}
