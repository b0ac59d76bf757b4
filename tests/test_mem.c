/*
 * test_mem.c: simulated physical memory: sparse frames, the host-address-width limit, abort
 * ranges, the frame limit, compare-exchange, block accesses and the footprint.
 *
 * Failed accesses must leave memory exactly as it was, so most error tests write a known
 * pattern first and read it back afterwards.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "walker/alloc.h"
#include "walker/mem.h"
#include "xorshift.h"

#define PAGE UINT64_C(0x1000)
#define PATTERN UINT64_C(0x0123456789abcdef)

static struct vtd_mem *mem;

static void setup(void)
{
    mem = vtd_mem_new(48);
    cr_assert_not_null(mem);
}

static void teardown(void)
{
    vtd_mem_free(mem);
    mem = NULL;
}

/* Every suite but mem_new starts from an empty 48-bit memory in `mem`. */
TestSuite(mem, .init = setup, .fini = teardown);
TestSuite(mem_haw, .init = setup, .fini = teardown);
TestSuite(mem_abort, .init = setup, .fini = teardown);
TestSuite(mem_limit, .init = setup, .fini = teardown);
TestSuite(mem_footprint, .init = setup, .fini = teardown);

static uint64_t rd(uint64_t pa)
{
    uint64_t v = ~UINT64_C(0);
    cr_assert_eq(vtd_mem_read64(mem, pa, &v), VTD_MEM_OK, "read64 at %#llx", (unsigned long long)pa);
    return v;
}

static void wr(uint64_t pa, uint64_t v)
{
    cr_assert_eq(vtd_mem_write64(mem, pa, v), VTD_MEM_OK, "write64 at %#llx", (unsigned long long)pa);
}

static uint8_t rd8(uint64_t pa)
{
    uint8_t b = 0xee;
    cr_assert_eq(vtd_mem_read(mem, pa, &b, 1), VTD_MEM_OK, "read at %#llx", (unsigned long long)pa);
    return b;
}

/* ---- construction ---- */

Test(mem_new, rejects_bad_widths)
{
    const unsigned bad[] = {0, 1, 11, 53, 57, 64, 65, UINT_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_null(vtd_mem_new(bad[i]), "haw %u", bad[i]);
}

Test(mem_new, accepts_every_width_from_12_to_52)
{
    for (unsigned haw = 12; haw <= 52; haw++) {
        struct vtd_mem *m = vtd_mem_new(haw);
        cr_assert_not_null(m, "haw %u", haw);
        cr_assert_eq(vtd_mem_haw(m), haw);
        cr_assert_eq(vtd_mem_frames(m), 0);
        vtd_mem_free(m);
    }
}

Test(mem_new, null_memory_is_harmless)
{
    uint64_t v = 0;
    uint8_t b[4] = {0};
    vtd_mem_free(NULL);
    vtd_mem_set_frame_limit(NULL, 3);
    cr_assert_eq(vtd_mem_haw(NULL), 0);
    cr_assert_eq(vtd_mem_frames(NULL), 0);
    cr_assert_eq(vtd_mem_footprint(NULL), 0);
    cr_assert_eq(vtd_mem_read64(NULL, 0, &v), VTD_MEM_EINVAL);
    cr_assert_eq(vtd_mem_write64(NULL, 0, 1), VTD_MEM_EINVAL);
    cr_assert_eq(vtd_mem_cmpxchg64(NULL, 0, 0, 1, &v), VTD_MEM_EINVAL);
    cr_assert_eq(vtd_mem_read(NULL, 0, b, sizeof b), VTD_MEM_EINVAL);
    cr_assert_eq(vtd_mem_write(NULL, 0, b, sizeof b), VTD_MEM_EINVAL);
    cr_assert_eq(vtd_mem_fill(NULL, 0, 1, sizeof b), VTD_MEM_EINVAL);
    cr_assert_eq(vtd_mem_set_abort(NULL, 0, PAGE, VTD_MEM_ABORT_READ), VTD_MEM_EINVAL);
}

Test(mem, null_result_pointers_are_rejected)
{
    cr_assert_eq(vtd_mem_read64(mem, 0, NULL), VTD_MEM_EINVAL);
    cr_assert_eq(vtd_mem_cmpxchg64(mem, 0, 0, 1, NULL), VTD_MEM_EINVAL);
    cr_assert_eq(vtd_mem_read(mem, 0, NULL, 8), VTD_MEM_EINVAL);
    cr_assert_eq(vtd_mem_write(mem, 0, NULL, 8), VTD_MEM_EINVAL);
    cr_assert_eq(vtd_mem_frames(mem), 0, "a rejected cmpxchg must not allocate");
    cr_assert_eq(rd(0), 0);
}

/* ---- sparse frames ---- */

Test(mem, untouched_memory_reads_zero_without_allocating)
{
    size_t before = vtd_mem_footprint(mem);
    const uint64_t addrs[] = {0, 8, PAGE - 8, PAGE, UINT64_C(0x123456789000), (UINT64_C(1) << 48) - 8};
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++)
        cr_assert_eq(rd(addrs[i]), 0, "at %#llx", (unsigned long long)addrs[i]);
    uint8_t buf[3 * PAGE];
    memset(buf, 0xaa, sizeof buf);
    cr_assert_eq(vtd_mem_read(mem, PAGE - 5, buf, sizeof buf), VTD_MEM_OK);
    for (size_t i = 0; i < sizeof buf; i++)
        cr_assert_eq(buf[i], 0, "byte %zu", i);
    cr_assert_eq(vtd_mem_frames(mem), 0);
    cr_assert_eq(vtd_mem_footprint(mem), before, "reads must not grow the index");
}

Test(mem, first_write_allocates_exactly_one_frame)
{
    wr(0x5008, 1);
    cr_assert_eq(vtd_mem_frames(mem), 1);
    wr(0x5ff8, 2);
    cr_assert_eq(vtd_mem_frames(mem), 1, "same frame");
    wr(0x6000, 3);
    cr_assert_eq(vtd_mem_frames(mem), 2);
    cr_assert_eq(rd(0x5000), 0, "rest of the frame stays zero");
    cr_assert_eq(rd(0x5008), 1);
    cr_assert_eq(rd(0x5ff8), 2);
    cr_assert_eq(rd(0x6000), 3);
}

Test(mem, write64_is_little_endian_in_memory)
{
    wr(0x2000, PATTERN);
    uint8_t b[8];
    cr_assert_eq(vtd_mem_read(mem, 0x2000, b, sizeof b), VTD_MEM_OK);
    const uint8_t want[8] = {0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01};
    cr_assert_arr_eq(b, want, sizeof want);
}

Test(mem, many_frames_far_apart_keep_their_values)
{
    /* Distinct cache slots and distinct radix nodes, including the same low frame bits. */
    for (uint64_t i = 0; i < 300; i++)
        wr((i * UINT64_C(0x9e3779b97f4a7c15) >> 16) & ~UINT64_C(7), i + 1);
    cr_assert_geq(vtd_mem_frames(mem), 299);
    for (uint64_t i = 0; i < 300; i++)
        cr_assert_eq(rd((i * UINT64_C(0x9e3779b97f4a7c15) >> 16) & ~UINT64_C(7)), i + 1, "i %llu",
                     (unsigned long long)i);
}

Test(mem, frames_sharing_a_cache_slot_do_not_alias)
{
    /* Frame numbers 64 apart collide in a 64-slot direct-mapped cache. */
    for (uint64_t i = 0; i < 8; i++)
        wr(i * 64 * PAGE, 100 + i);
    for (int round = 0; round < 3; round++)
        for (uint64_t i = 0; i < 8; i++)
            cr_assert_eq(rd(i * 64 * PAGE), 100 + i);
}

Test(mem, frames_differing_only_in_high_bits_do_not_alias)
{
    /* Frame numbers equal in their low 20, 26 and 32 bits: every index level and cache tag bit counts. */
    const uint64_t addrs[] = {0x5000, (UINT64_C(1) << 32) + 0x5000, (UINT64_C(1) << 38) + 0x5000,
                              (UINT64_C(1) << 44) + 0x5000, (UINT64_C(1) << 47) + 0x5000};
    const size_t n = sizeof addrs / sizeof addrs[0];
    for (size_t i = 0; i < n; i++)
        wr(addrs[i], 200 + i);
    cr_assert_eq(vtd_mem_frames(mem), n);
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(rd(addrs[i]), 200 + i, "at %#llx", (unsigned long long)addrs[i]);
    cr_assert_eq(rd((UINT64_C(1) << 40) + 0x5000), 0, "a never-written alias reads zero");
}

/* ---- block accesses ---- */

static void pattern_fill(uint8_t *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(i * 7 + seed);
}

Test(mem, block_round_trip_across_a_frame_boundary)
{
    uint8_t in[100], out[100];
    pattern_fill(in, sizeof in, 3);
    uint64_t pa = 3 * PAGE - 37; /* odd address, 37 bytes before the boundary */
    cr_assert_eq(vtd_mem_write(mem, pa, in, sizeof in), VTD_MEM_OK);
    cr_assert_eq(vtd_mem_frames(mem), 2);
    cr_assert_eq(vtd_mem_read(mem, pa, out, sizeof out), VTD_MEM_OK);
    cr_assert_arr_eq(out, in, sizeof in);
    cr_assert_eq(rd8(pa - 1), 0, "byte before the block");
    cr_assert_eq(rd8(pa + sizeof in), 0, "byte after the block");
}

Test(mem, block_round_trip_over_several_frames)
{
    static uint8_t in[3 * PAGE + 123], out[sizeof in];
    pattern_fill(in, sizeof in, 11);
    uint64_t pa = 0x7ffd;
    cr_assert_eq(vtd_mem_write(mem, pa, in, sizeof in), VTD_MEM_OK);
    cr_assert_eq(vtd_mem_frames(mem), 5); /* 0x7000 .. 0xb000 */
    cr_assert_eq(vtd_mem_read(mem, pa, out, sizeof out), VTD_MEM_OK);
    cr_assert_arr_eq(out, in, sizeof in);
    /* Reading at another alignment sees the same bytes. */
    cr_assert_eq(vtd_mem_read(mem, pa + 4001, out, 200), VTD_MEM_OK);
    cr_assert_arr_eq(out, in + 4001, 200);
}

Test(mem, block_read_mixes_written_and_unwritten_frames)
{
    wr(0x1ff8, PATTERN);
    uint8_t out[16];
    memset(out, 0xaa, sizeof out);
    cr_assert_eq(vtd_mem_read(mem, 0x1ff8, out, sizeof out), VTD_MEM_OK);
    cr_assert_eq(out[0], 0xef);
    cr_assert_eq(out[7], 0x01);
    for (size_t i = 8; i < 16; i++)
        cr_assert_eq(out[i], 0, "unwritten frame byte %zu", i);
    cr_assert_eq(vtd_mem_frames(mem), 1);
}

Test(mem, block_write_is_visible_to_read64)
{
    const uint8_t bytes[3] = {0x11, 0x22, 0x33};
    wr(0x3000, PATTERN);
    cr_assert_eq(vtd_mem_write(mem, 0x3003, bytes, sizeof bytes), VTD_MEM_OK);
    cr_assert_eq(rd(0x3000), UINT64_C(0x0123332211abcdef));
}

Test(mem, zero_length_blocks_succeed_anywhere)
{
    uint8_t b = 0x55;
    const uint64_t addrs[] = {0, PAGE - 1, UINT64_C(1) << 48, UINT64_MAX};
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        cr_assert_eq(vtd_mem_read(mem, addrs[i], &b, 0), VTD_MEM_OK);
        cr_assert_eq(vtd_mem_write(mem, addrs[i], &b, 0), VTD_MEM_OK);
        cr_assert_eq(vtd_mem_fill(mem, addrs[i], 0xff, 0), VTD_MEM_OK);
    }
    cr_assert_eq(b, 0x55);
    cr_assert_eq(vtd_mem_frames(mem), 0);
}

/* ---- fill ---- */

Test(mem, fill_sets_exactly_the_range)
{
    uint64_t pa = PAGE - 2;
    size_t len = 2 * PAGE + 5;
    cr_assert_eq(vtd_mem_fill(mem, pa, 0x5a, len), VTD_MEM_OK);
    cr_assert_eq(vtd_mem_frames(mem), 4); /* 0xffe .. 0x3002 */
    cr_assert_eq(rd8(pa - 1), 0);
    cr_assert_eq(rd8(pa), 0x5a);
    cr_assert_eq(rd8(2 * PAGE), 0x5a);
    cr_assert_eq(rd8(pa + len - 1), 0x5a);
    cr_assert_eq(rd8(pa + len), 0);
    cr_assert_eq(rd(PAGE), UINT64_C(0x5a5a5a5a5a5a5a5a));
}

Test(mem, zero_fill_clears_written_data)
{
    wr(0x4000, PATTERN);
    wr(0x4008, PATTERN);
    cr_assert_eq(vtd_mem_fill(mem, 0x4004, 0, 8), VTD_MEM_OK);
    cr_assert_eq(rd(0x4000), PATTERN & UINT64_C(0xffffffff));
    cr_assert_eq(rd(0x4008), PATTERN & ~UINT64_C(0xffffffff));
}

Test(mem, zero_fill_of_untouched_memory_does_not_allocate)
{
    cr_assert_eq(vtd_mem_fill(mem, 0x100000, 0, 64 * PAGE), VTD_MEM_OK);
    cr_assert_eq(vtd_mem_frames(mem), 0);
    cr_assert_eq(rd(0x100000 + 5 * PAGE), 0);
}

/* ---- 64-bit alignment ---- */

Test(mem, misaligned_64bit_accesses_are_rejected)
{
    wr(0x1000, PATTERN);
    for (uint64_t off = 1; off < 8; off++) {
        uint64_t v = 42, actual = 42;
        cr_assert_eq(vtd_mem_read64(mem, 0x1000 + off, &v), VTD_MEM_EINVAL, "read off %llu", (unsigned long long)off);
        cr_assert_eq(v, 42, "result untouched");
        cr_assert_eq(vtd_mem_write64(mem, 0x1000 + off, 0), VTD_MEM_EINVAL);
        cr_assert_eq(vtd_mem_cmpxchg64(mem, 0x1000 + off, 0, 1, &actual), VTD_MEM_EINVAL);
        cr_assert_eq(actual, 42);
        cr_assert_eq(vtd_mem_write64(mem, 0x2000 + off, 1), VTD_MEM_EINVAL);
    }
    cr_assert_eq(rd(0x1000), PATTERN);
    cr_assert_eq(rd(0x1008), 0);
    cr_assert_eq(vtd_mem_frames(mem), 1, "no frame for the rejected writes at 0x2000");
}

/* ---- host address width ---- */

Test(mem_haw, last_word_and_byte_below_the_width_work)
{
    struct vtd_mem *m = vtd_mem_new(32);
    uint64_t end = UINT64_C(1) << 32, v = 0;
    cr_assert_eq(vtd_mem_write64(m, end - 8, PATTERN), VTD_MEM_OK);
    cr_assert_eq(vtd_mem_read64(m, end - 8, &v), VTD_MEM_OK);
    cr_assert_eq(v, PATTERN);
    uint8_t b = 0x77;
    cr_assert_eq(vtd_mem_write(m, end - 1, &b, 1), VTD_MEM_OK);
    b = 0;
    cr_assert_eq(vtd_mem_read(m, end - 1, &b, 1), VTD_MEM_OK);
    cr_assert_eq(b, 0x77);
    vtd_mem_free(m);
}

Test(mem_haw, accesses_at_or_above_the_width_fault)
{
    struct vtd_mem *m = vtd_mem_new(32);
    uint64_t end = UINT64_C(1) << 32, v = 5;
    uint8_t b = 1;
    const uint64_t addrs[] = {end, end + PAGE, UINT64_C(1) << 48, UINT64_MAX & ~UINT64_C(7)};
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        cr_assert_eq(vtd_mem_read64(m, addrs[i], &v), VTD_MEM_EFAULT);
        cr_assert_eq(vtd_mem_write64(m, addrs[i], 1), VTD_MEM_EFAULT);
        cr_assert_eq(vtd_mem_cmpxchg64(m, addrs[i], 0, 1, &v), VTD_MEM_EFAULT);
        cr_assert_eq(vtd_mem_read(m, addrs[i], &b, 1), VTD_MEM_EFAULT);
        cr_assert_eq(vtd_mem_write(m, addrs[i], &b, 1), VTD_MEM_EFAULT);
        cr_assert_eq(vtd_mem_fill(m, addrs[i], 1, 1), VTD_MEM_EFAULT);
    }
    cr_assert_eq(v, 5);
    cr_assert_eq(vtd_mem_frames(m), 0);
    vtd_mem_free(m);
}

Test(mem_haw, block_crossing_the_width_faults_and_writes_nothing)
{
    struct vtd_mem *m = vtd_mem_new(32);
    uint64_t end = UINT64_C(1) << 32, v = 0;
    cr_assert_eq(vtd_mem_write64(m, end - 8, PATTERN), VTD_MEM_OK);
    uint8_t in[16];
    memset(in, 0xcc, sizeof in);
    cr_assert_eq(vtd_mem_write(m, end - 4, in, sizeof in), VTD_MEM_EFAULT);
    cr_assert_eq(vtd_mem_fill(m, end - 4, 0xcc, 5), VTD_MEM_EFAULT);
    cr_assert_eq(vtd_mem_read64(m, end - 8, &v), VTD_MEM_OK);
    cr_assert_eq(v, PATTERN, "the in-range part must not have been written");
    uint8_t out[16];
    memset(out, 0x11, sizeof out);
    cr_assert_eq(vtd_mem_read(m, end - 4, out, sizeof out), VTD_MEM_EFAULT);
    cr_assert_eq(out[0], 0x11, "buffer untouched");
    /* A block ending exactly at the width is fine. */
    cr_assert_eq(vtd_mem_read(m, end - 4, out, 4), VTD_MEM_OK);
    cr_assert_eq(vtd_mem_frames(m), 1);
    vtd_mem_free(m);
}

Test(mem_haw, blocks_wrapping_past_2_to_the_64_fault)
{
    uint8_t buf[16] = {0};
    cr_assert_eq(vtd_mem_read(mem, UINT64_MAX - 3, buf, sizeof buf), VTD_MEM_EFAULT);
    cr_assert_eq(vtd_mem_write(mem, UINT64_MAX - 3, buf, sizeof buf), VTD_MEM_EFAULT);
    cr_assert_eq(vtd_mem_fill(mem, 8, 1, SIZE_MAX), VTD_MEM_EFAULT);
    cr_assert_eq(vtd_mem_fill(mem, UINT64_MAX, 1, 2), VTD_MEM_EFAULT);
    cr_assert_eq(vtd_mem_frames(mem), 0);
}

Test(mem_haw, smallest_width_is_one_frame)
{
    struct vtd_mem *m = vtd_mem_new(12);
    uint64_t v = 0;
    cr_assert_eq(vtd_mem_write64(m, 0xff8, 9), VTD_MEM_OK);
    cr_assert_eq(vtd_mem_read64(m, 0xff8, &v), VTD_MEM_OK);
    cr_assert_eq(v, 9);
    cr_assert_eq(vtd_mem_write64(m, 0x1000, 9), VTD_MEM_EFAULT);
    cr_assert_eq(vtd_mem_fill(m, 0, 0xab, PAGE + 1), VTD_MEM_EFAULT);
    cr_assert_eq(vtd_mem_fill(m, 0, 0xab, PAGE), VTD_MEM_OK);
    cr_assert_eq(vtd_mem_read64(m, 0xff8, &v), VTD_MEM_OK);
    cr_assert_eq(v, UINT64_C(0xabababababababab));
    vtd_mem_free(m);
}

Test(mem_haw, largest_width_reaches_its_top_word)
{
    struct vtd_mem *m = vtd_mem_new(52);
    uint64_t top = (UINT64_C(1) << 52) - 8, v = 0;
    cr_assert_eq(vtd_mem_write64(m, top, PATTERN), VTD_MEM_OK);
    cr_assert_eq(vtd_mem_write64(m, 0, 1), VTD_MEM_OK);
    cr_assert_eq(vtd_mem_read64(m, top, &v), VTD_MEM_OK);
    cr_assert_eq(v, PATTERN);
    cr_assert_eq(vtd_mem_read64(m, 0, &v), VTD_MEM_OK);
    cr_assert_eq(v, 1);
    cr_assert_eq(vtd_mem_write64(m, top + 8, 1), VTD_MEM_EFAULT);
    cr_assert_eq(vtd_mem_frames(m), 2);
    vtd_mem_free(m);
}

/* ---- abort ranges ---- */

Test(mem_abort, read_abort_blocks_reads_only)
{
    wr(0x1008, PATTERN);
    cr_assert_eq(vtd_mem_set_abort(mem, 0x1008, 8, VTD_MEM_ABORT_READ), VTD_MEM_OK);
    uint64_t v = 3;
    cr_assert_eq(vtd_mem_read64(mem, 0x1008, &v), VTD_MEM_EFAULT);
    cr_assert_eq(v, 3);
    uint8_t b = 0;
    cr_assert_eq(vtd_mem_read(mem, 0x100f, &b, 1), VTD_MEM_EFAULT, "last byte of the range");
    cr_assert_eq(rd(0x1000), 0, "word before the range");
    cr_assert_eq(rd(0x1010), 0, "word after the range");
    cr_assert_eq(vtd_mem_write64(mem, 0x1008, 7), VTD_MEM_OK, "writes pass a read abort");
    cr_assert_eq(vtd_mem_set_abort(mem, 0x1008, 8, 0), VTD_MEM_OK);
    cr_assert_eq(rd(0x1008), 7);
}

Test(mem_abort, write_abort_blocks_writes_only)
{
    wr(0x2000, PATTERN);
    cr_assert_eq(vtd_mem_set_abort(mem, 0x2000, 8, VTD_MEM_ABORT_WRITE), VTD_MEM_OK);
    cr_assert_eq(vtd_mem_write64(mem, 0x2000, 1), VTD_MEM_EFAULT);
    cr_assert_eq(vtd_mem_fill(mem, 0x2004, 0, 1), VTD_MEM_EFAULT);
    cr_assert_eq(rd(0x2000), PATTERN, "reads pass a write abort");
    wr(0x2008, 2);
    cr_assert_eq(rd(0x2008), 2);
}

Test(mem_abort, block_write_touching_one_aborted_byte_writes_nothing)
{
    cr_assert_eq(vtd_mem_set_abort(mem, 3 * PAGE + 100, 1, VTD_MEM_ABORT_WRITE), VTD_MEM_OK);
    uint8_t in[2 * PAGE];
    memset(in, 0x99, sizeof in);
    /* Starts a frame earlier, so a write-as-you-go implementation would have changed it. */
    cr_assert_eq(vtd_mem_write(mem, 2 * PAGE + 50, in, PAGE + 51), VTD_MEM_EFAULT);
    cr_assert_eq(vtd_mem_frames(mem), 0);
    cr_assert_eq(rd8(2 * PAGE + 50), 0);
    /* Stopping just short of it works. */
    cr_assert_eq(vtd_mem_write(mem, 2 * PAGE + 50, in, PAGE + 50), VTD_MEM_OK);
    cr_assert_eq(rd8(3 * PAGE + 99), 0x99);
    cr_assert_eq(rd8(3 * PAGE + 100), 0);
}

Test(mem_abort, block_read_overlapping_a_read_abort_fails_untouched)
{
    wr(0x5000, PATTERN);
    cr_assert_eq(vtd_mem_set_abort(mem, 0x5ff0, 0x20, VTD_MEM_ABORT_READ), VTD_MEM_OK);
    uint8_t out[PAGE];
    memset(out, 0x33, sizeof out);
    cr_assert_eq(vtd_mem_read(mem, 0x5000, out, PAGE), VTD_MEM_EFAULT);
    cr_assert_eq(out[0], 0x33);
    cr_assert_eq(vtd_mem_read(mem, 0x6010, out, 8), VTD_MEM_OK, "just past the range");
}

Test(mem_abort, both_flags_block_reads_and_writes)
{
    wr(0x3000, PATTERN);
    cr_assert_eq(vtd_mem_set_abort(mem, 0x3000, PAGE, VTD_MEM_ABORT_READ | VTD_MEM_ABORT_WRITE), VTD_MEM_OK);
    uint64_t v;
    cr_assert_eq(vtd_mem_read64(mem, 0x3ff8, &v), VTD_MEM_EFAULT);
    cr_assert_eq(vtd_mem_write64(mem, 0x3000, 1), VTD_MEM_EFAULT);
    cr_assert_eq(vtd_mem_set_abort(mem, 0x3000, PAGE, 0), VTD_MEM_OK);
    cr_assert_eq(rd(0x3000), PATTERN);
}

Test(mem_abort, cmpxchg_counts_as_read_and_write)
{
    const unsigned kinds[] = {VTD_MEM_ABORT_READ, VTD_MEM_ABORT_WRITE, VTD_MEM_ABORT_READ | VTD_MEM_ABORT_WRITE};
    wr(0x4000, PATTERN);
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(vtd_mem_set_abort(mem, 0x4000, 8, kinds[i]), VTD_MEM_OK);
        uint64_t actual = 17;
        cr_assert_eq(vtd_mem_cmpxchg64(mem, 0x4000, PATTERN, 1, &actual), VTD_MEM_EFAULT, "flags %u", kinds[i]);
        cr_assert_eq(actual, 17);
        cr_assert_eq(vtd_mem_set_abort(mem, 0x4000, 8, 0), VTD_MEM_OK);
        cr_assert_eq(rd(0x4000), PATTERN);
    }
    uint64_t actual = 0;
    cr_assert_eq(vtd_mem_cmpxchg64(mem, 0x4000, PATTERN, 1, &actual), VTD_MEM_OK);
    cr_assert_eq(rd(0x4000), 1);
}

Test(mem_abort, clearing_part_of_a_range_splits_it)
{
    cr_assert_eq(vtd_mem_set_abort(mem, 0x10000, 0x3000, VTD_MEM_ABORT_READ), VTD_MEM_OK);
    cr_assert_eq(vtd_mem_set_abort(mem, 0x11000, 0x800, 0), VTD_MEM_OK);
    uint64_t v;
    cr_assert_eq(vtd_mem_read64(mem, 0x10ff8, &v), VTD_MEM_EFAULT);
    cr_assert_eq(rd(0x11000), 0);
    cr_assert_eq(rd(0x117f8), 0);
    cr_assert_eq(vtd_mem_read64(mem, 0x11800, &v), VTD_MEM_EFAULT);
    cr_assert_eq(vtd_mem_read64(mem, 0x12ff8, &v), VTD_MEM_EFAULT);
    cr_assert_eq(rd(0x13000), 0);
}

Test(mem_abort, later_range_overrides_earlier_where_they_overlap)
{
    cr_assert_eq(vtd_mem_set_abort(mem, 0x1000, PAGE, VTD_MEM_ABORT_READ), VTD_MEM_OK);
    cr_assert_eq(vtd_mem_set_abort(mem, 0x1800, 0x100, VTD_MEM_ABORT_WRITE), VTD_MEM_OK);
    uint64_t v;
    cr_assert_eq(vtd_mem_read64(mem, 0x1000, &v), VTD_MEM_EFAULT);
    wr(0x1000, 1);
    cr_assert_eq(rd(0x1800), 0, "the write-only range replaced the read abort here");
    cr_assert_eq(vtd_mem_write64(mem, 0x1800, 1), VTD_MEM_EFAULT);
    cr_assert_eq(vtd_mem_read64(mem, 0x1900, &v), VTD_MEM_EFAULT, "the old range resumes after it");
    /* Clearing the whole old span removes both. */
    cr_assert_eq(vtd_mem_set_abort(mem, 0x1000, PAGE, 0), VTD_MEM_OK);
    wr(0x1800, 2);
    cr_assert_eq(rd(0x1900), 0);
}

Test(mem_abort, many_ranges_coexist)
{
    for (uint64_t i = 0; i < 200; i++)
        cr_assert_eq(vtd_mem_set_abort(mem, i * PAGE, 8, VTD_MEM_ABORT_WRITE), VTD_MEM_OK);
    for (uint64_t i = 0; i < 200; i += 2)
        cr_assert_eq(vtd_mem_set_abort(mem, i * PAGE, 8, 0), VTD_MEM_OK);
    for (uint64_t i = 0; i < 200; i++) {
        int want = i % 2 ? VTD_MEM_EFAULT : VTD_MEM_OK;
        cr_assert_eq(vtd_mem_write64(mem, i * PAGE, i), want, "frame %llu", (unsigned long long)i);
        cr_assert_eq(vtd_mem_write64(mem, i * PAGE + 8, i), VTD_MEM_OK);
    }
}

Test(mem_abort, bad_arguments_and_empty_ranges)
{
    cr_assert_eq(vtd_mem_set_abort(mem, 0, PAGE, 4), VTD_MEM_EINVAL);
    cr_assert_eq(vtd_mem_set_abort(mem, UINT64_MAX - 7, 16, VTD_MEM_ABORT_READ), VTD_MEM_EINVAL);
    cr_assert_eq(vtd_mem_set_abort(mem, 0, 0, VTD_MEM_ABORT_READ), VTD_MEM_OK);
    cr_assert_eq(rd(0), 0, "an empty range aborts nothing");
    wr(0, 1);
}

Test(mem_abort, ranges_cost_nothing_once_cleared)
{
    size_t before = vtd_mem_footprint(mem);
    cr_assert_eq(vtd_mem_set_abort(mem, 0, PAGE, VTD_MEM_ABORT_READ), VTD_MEM_OK);
    cr_assert_gt(vtd_mem_footprint(mem), before);
    cr_assert_eq(vtd_mem_set_abort(mem, 0, PAGE, 0), VTD_MEM_OK);
    cr_assert_eq(vtd_mem_footprint(mem), before);
}

/* ---- frame limit ---- */

Test(mem_limit, exactly_n_frames_then_enomem)
{
    vtd_mem_set_frame_limit(mem, 3);
    for (uint64_t i = 0; i < 3; i++)
        wr(i * 0x100000, i + 1);
    cr_assert_eq(vtd_mem_write64(mem, 3 * 0x100000, 4), VTD_MEM_ENOMEM);
    cr_assert_eq(vtd_mem_frames(mem), 3);
    cr_assert_eq(rd(3 * 0x100000), 0, "nothing written");
    /* Existing frames stay writable. */
    wr(0x100008, 5);
    cr_assert_eq(rd(0x100008), 5);
    for (uint64_t i = 0; i < 3; i++)
        cr_assert_eq(rd(i * 0x100000), i + 1);
}

Test(mem_limit, block_write_needing_too_many_frames_writes_nothing)
{
    vtd_mem_set_frame_limit(mem, 2);
    wr(0x1000, PATTERN);
    uint8_t in[2 * PAGE];
    memset(in, 0x44, sizeof in);
    cr_assert_eq(vtd_mem_write(mem, 0x1000, in, sizeof in), VTD_MEM_OK, "two frames fit");
    cr_assert_eq(vtd_mem_frames(mem), 2);
    /* Touches frames 0x1000, 0x2000 (present) and 0x3000: one too many. */
    cr_assert_eq(vtd_mem_write(mem, 0x1ff0, in, PAGE + 0x20), VTD_MEM_ENOMEM);
    cr_assert_eq(rd(0x1ff0), UINT64_C(0x4444444444444444), "the present frames keep the earlier block");
    cr_assert_eq(vtd_mem_frames(mem), 2);
    cr_assert_eq(rd(0x3000), 0);
    cr_assert_eq(vtd_mem_fill(mem, 0x2ff0, 0x77, 0x20), VTD_MEM_ENOMEM);
    cr_assert_eq(rd(0x2ff0), UINT64_C(0x4444444444444444), "fill wrote nothing");
}

Test(mem_limit, block_write_does_not_write_the_present_part_on_enomem)
{
    vtd_mem_set_frame_limit(mem, 1);
    wr(0x1ff8, PATTERN);
    uint8_t in[16];
    memset(in, 0x55, sizeof in);
    cr_assert_eq(vtd_mem_write(mem, 0x1ff8, in, sizeof in), VTD_MEM_ENOMEM);
    cr_assert_eq(rd(0x1ff8), PATTERN);
}

Test(mem_limit, zero_fill_and_failed_compares_need_no_frame)
{
    vtd_mem_set_frame_limit(mem, 1);
    wr(0, 1);
    cr_assert_eq(vtd_mem_fill(mem, 0x10000, 0, 4 * PAGE), VTD_MEM_OK);
    uint64_t actual = 9;
    cr_assert_eq(vtd_mem_cmpxchg64(mem, 0x20000, 5, 6, &actual), VTD_MEM_OK);
    cr_assert_eq(actual, 0);
    cr_assert_eq(vtd_mem_cmpxchg64(mem, 0x20000, 0, 0, &actual), VTD_MEM_OK);
    actual = 9;
    cr_assert_eq(vtd_mem_cmpxchg64(mem, 0x20000, 0, 6, &actual), VTD_MEM_ENOMEM);
    cr_assert_eq(actual, 9, "no result on error");
    cr_assert_eq(rd(0x20000), 0);
    cr_assert_eq(vtd_mem_frames(mem), 1);
}

Test(mem_limit, zero_means_unlimited_and_lowering_keeps_frames)
{
    vtd_mem_set_frame_limit(mem, 1);
    wr(0, 1);
    cr_assert_eq(vtd_mem_write64(mem, PAGE, 2), VTD_MEM_ENOMEM);
    vtd_mem_set_frame_limit(mem, 0);
    for (uint64_t i = 1; i < 50; i++)
        wr(i * PAGE, i);
    cr_assert_eq(vtd_mem_frames(mem), 50);
    vtd_mem_set_frame_limit(mem, 10);
    cr_assert_eq(vtd_mem_write64(mem, 60 * PAGE, 2), VTD_MEM_ENOMEM);
    wr(49 * PAGE, 7);
    cr_assert_eq(rd(49 * PAGE), 7);
    cr_assert_eq(rd(0), 1);
}

/* ---- compare-exchange ---- */

Test(mem, cmpxchg_success_stores_desired)
{
    wr(0x8000, 0x10);
    uint64_t actual = 0;
    cr_assert_eq(vtd_mem_cmpxchg64(mem, 0x8000, 0x10, 0x30, &actual), VTD_MEM_OK);
    cr_assert_eq(actual, 0x10);
    cr_assert_eq(rd(0x8000), 0x30);
}

Test(mem, cmpxchg_mismatch_reports_actual_and_changes_nothing)
{
    wr(0x8000, PATTERN);
    uint64_t actual = 0;
    cr_assert_eq(vtd_mem_cmpxchg64(mem, 0x8000, PATTERN ^ 1, 0x30, &actual), VTD_MEM_OK);
    cr_assert_eq(actual, PATTERN);
    cr_assert_eq(rd(0x8000), PATTERN);
}

Test(mem, cmpxchg_on_untouched_memory_compares_against_zero)
{
    uint64_t actual = 1;
    cr_assert_eq(vtd_mem_cmpxchg64(mem, 0x9000, 1, 2, &actual), VTD_MEM_OK);
    cr_assert_eq(actual, 0);
    cr_assert_eq(vtd_mem_frames(mem), 0, "a failed compare allocates nothing");
    cr_assert_eq(vtd_mem_cmpxchg64(mem, 0x9000, 0, 2, &actual), VTD_MEM_OK);
    cr_assert_eq(actual, 0);
    cr_assert_eq(rd(0x9000), 2);
    cr_assert_eq(vtd_mem_frames(mem), 1);
}

/* ---- footprint ---- */

/*
 * Bounds. The index spends one 64 KiB leaf per 32 MiB of address space touched and one 64 KiB
 * mid node per 256 GiB, so:
 *  - frames that cluster (here 1000 frames 64 KiB apart, a 64 MiB span where 15 of every 16
 *    frames are never touched) must cost under 1.5 x their 4 KiB each over the empty memory;
 *    the index is then ~192 KiB, about 5% of the frames;
 *  - frames scattered over the whole space pay at most a leaf and a mid node each (the radix
 *    worst case): under a frame + 2 x 64 KiB per frame, still proportional to frames touched and
 *    unrelated to the 2^48-byte span.
 */
/* A frame is 4 KiB plus a 24-byte tail (its frame number, list link and write tag, walker/mem.c). */
#define FRAME_BYTES ((size_t)4096 + 24)
#define WORST_INDEX_PER_FRAME ((size_t)2 * 65536)

static size_t footprint_after_clustered_frames(size_t n)
{
    struct vtd_mem *m = vtd_mem_new(48);
    for (uint64_t i = 0; i < n; i++)
        cr_assert_eq(vtd_mem_write64(m, UINT64_C(0x40000000) + i * 16 * PAGE, i), VTD_MEM_OK);
    cr_assert_eq(vtd_mem_frames(m), n);
    size_t fp = vtd_mem_footprint(m);
    vtd_mem_free(m);
    return fp;
}

Test(mem_footprint, empty_memory_is_small)
{
    /* struct plus a root of 2^10 pointers at 48 bits */
    cr_assert_lt(vtd_mem_footprint(mem), (size_t)64 * 1024);
    cr_assert_gt(vtd_mem_footprint(mem), 0);
}

Test(mem_footprint, clustered_frames_cost_little_more_than_the_frames)
{
    size_t empty = vtd_mem_footprint(mem);
    size_t fp = footprint_after_clustered_frames(1000);
    cr_assert_geq(fp - empty, 1000 * FRAME_BYTES);
    cr_assert_lt(fp - empty, 1000 * FRAME_BYTES * 3 / 2, "footprint %zu", fp);
}

Test(mem_footprint, grows_linearly_with_frames)
{
    size_t empty = vtd_mem_footprint(mem);
    double one = (double)(footprint_after_clustered_frames(1000) - empty);
    double two = (double)(footprint_after_clustered_frames(2000) - empty);
    cr_assert(two / one > 1.9 && two / one < 2.1, "ratio %.3f", two / one);
}

Test(mem_footprint, scattered_frames_are_bounded_per_frame)
{
    size_t empty = vtd_mem_footprint(mem);
    uint64_t stride = ((UINT64_C(1) << 48) / 1000) & ~(PAGE - 1);
    for (uint64_t i = 0; i < 1000; i++)
        wr(i * stride, i);
    cr_assert_eq(vtd_mem_frames(mem), 1000);
    size_t fp = vtd_mem_footprint(mem);
    cr_assert_geq(fp - empty, 1000 * FRAME_BYTES);
    cr_assert_leq(fp - empty, 1000 * (FRAME_BYTES + WORST_INDEX_PER_FRAME), "footprint %zu", fp);
}

Test(mem_footprint, rewriting_frames_costs_nothing)
{
    wr(0, 1);
    size_t fp = vtd_mem_footprint(mem);
    for (uint64_t pa = 0; pa < PAGE; pa += 8)
        wr(pa, pa);
    cr_assert_eq(vtd_mem_footprint(mem), fp);
}

/* ---- a seeded random comparison against a flat shadow copy ---- */

#define WINDOW (8 * PAGE)
#define WINDOW_BASE (UINT64_C(1) << 32) - 3 * PAGE /* straddles a leaf boundary of the index */

static uint64_t rng_state = 0x9e3779b97f4a7c15;

static uint64_t rng(void) { return xorshift64(&rng_state); }

Test(mem, random_operations_match_a_flat_shadow)
{
    static uint8_t shadow[WINDOW], buf[WINDOW];
    for (int op = 0; op < 20000; op++) {
        uint64_t off = rng() % WINDOW;
        size_t len = (size_t)(rng() % (WINDOW - off + 1));
        if (rng() % 4)
            len %= 64; /* mostly short blocks */
        switch (rng() % 5) {
        case 0:
            pattern_fill(buf, len, (unsigned)op);
            cr_assert_eq(vtd_mem_write(mem, WINDOW_BASE + off, buf, len), VTD_MEM_OK);
            memcpy(shadow + off, buf, len);
            break;
        case 1: {
            uint8_t byte = (uint8_t)(rng() % 3 ? 0 : rng());
            cr_assert_eq(vtd_mem_fill(mem, WINDOW_BASE + off, byte, len), VTD_MEM_OK);
            memset(shadow + off, byte, len);
            break;
        }
        case 2:
            off &= ~UINT64_C(7);
            if (off + 8 <= WINDOW) {
                uint64_t v = rng();
                wr(WINDOW_BASE + off, v);
                for (int i = 0; i < 8; i++)
                    shadow[off + i] = (uint8_t)(v >> (8 * i));
            }
            break;
        case 3:
            off &= ~UINT64_C(7);
            if (off + 8 <= WINDOW) {
                uint64_t want = 0;
                for (int i = 0; i < 8; i++)
                    want |= (uint64_t)shadow[off + i] << (8 * i);
                cr_assert_eq(rd(WINDOW_BASE + off), want, "op %d off %#llx", op, (unsigned long long)off);
            }
            break;
        default:
            cr_assert_eq(vtd_mem_read(mem, WINDOW_BASE + off, buf, len), VTD_MEM_OK);
            cr_assert(memcmp(buf, shadow + off, len) == 0, "op %d off %#llx len %zu", op, (unsigned long long)off, len);
        }
    }
    cr_assert_eq(vtd_mem_read(mem, WINDOW_BASE, buf, WINDOW), VTD_MEM_OK);
    cr_assert_arr_eq(buf, shadow, WINDOW);
    cr_assert_leq(vtd_mem_frames(mem), WINDOW / PAGE);
}

/* ---- reset (reuse of one instance, e.g. by a fuzz harness) ---- */

TestSuite(mem_reset, .init = setup, .fini = teardown);

static void count_writes(void *arg, uint64_t pa, size_t len, const void *data, uint8_t fill)
{
    (void)pa, (void)len, (void)data, (void)fill;
    ++*(int *)arg;
}

Test(mem_reset, forgets_frames_aborts_limit_and_observer)
{
    int writes = 0;
    vtd_mem_set_observer(mem, count_writes, &writes);
    wr(0x1000, PATTERN);
    wr(UINT64_C(0x7f0000000000), PATTERN); /* another mid and leaf node */
    cr_assert_eq(vtd_mem_set_abort(mem, 0x5000, PAGE, VTD_MEM_ABORT_READ), VTD_MEM_OK);
    vtd_mem_set_frame_limit(mem, 2);
    cr_assert_eq(vtd_mem_write64(mem, 0x9000, 1), VTD_MEM_ENOMEM);
    cr_assert_eq(vtd_mem_enomem_count(mem), 1);
    cr_assert_eq(writes, 2);

    vtd_mem_reset(mem);
    cr_assert_eq(vtd_mem_frames(mem), 0);
    cr_assert_eq(vtd_mem_enomem_count(mem), 0);
    cr_assert_eq(vtd_mem_haw(mem), 48);
    cr_assert_eq(rd(0x1000), 0, "a frame written before the reset reads as never written");
    cr_assert_eq(rd(UINT64_C(0x7f0000000000)), 0);
    cr_assert_eq(rd(0x5000), 0, "the abort range is gone");
    wr(0x9000, 1);
    wr(0xa000, 2);
    wr(0xb000, 3); /* the frame limit is gone */
    cr_assert_eq(vtd_mem_frames(mem), 3);
    cr_assert_eq(writes, 2, "the observer is gone");
}

Test(mem_reset, reused_frames_come_back_zeroed)
{
    for (uint64_t pa = 0; pa < 8 * PAGE; pa += 8)
        wr(pa, PATTERN);
    vtd_mem_reset(mem);
    /* The frames come back from the spares at other addresses: every byte must be zero. */
    for (uint64_t f = 0; f < 8; f++)
        wr(UINT64_C(0x40000000) + f * PAGE, 0);
    cr_assert_eq(vtd_mem_frames(mem), 8);
    for (uint64_t pa = UINT64_C(0x40000000); pa < UINT64_C(0x40000000) + 8 * PAGE; pa++)
        cr_assert_eq(rd8(pa), 0, "byte at %#llx", (unsigned long long)pa);
    cr_assert_eq(rd(0), 0);
}

Test(mem_reset, keeps_host_memory_for_reuse)
{
    for (uint64_t f = 0; f < 16; f++)
        wr(f * PAGE, PATTERN);
    size_t full = vtd_mem_footprint(mem);
    vtd_mem_reset(mem);
    cr_assert_eq(vtd_mem_footprint(mem), full, "frames and nodes stay allocated as spares");
    for (uint64_t f = 0; f < 16; f++)
        wr(f * PAGE, PATTERN);
    cr_assert_eq(vtd_mem_footprint(mem), full, "refilling takes the spares, allocating nothing");
    vtd_mem_reset(NULL); /* harmless */
}

/* The write tag (walker/mem.h): every software write stamps the frames it touches with the
 * current tag; compare-exchange (the IOMMU's A/D updates) and untouched frames keep theirs. */
Test(mem, write_tags_follow_software_writes)
{
    uint64_t old;
    cr_assert_eq(vtd_mem_write_tag_of(mem, 0x1000), 0, "no frame yet");
    vtd_mem_set_write_tag(mem, 3);
    wr(0x1008, 1);
    cr_assert_eq(vtd_mem_write_tag_of(mem, 0x1ff8), 3);
    vtd_mem_set_write_tag(mem, 5);
    uint8_t buf[16] = {1};
    cr_assert_eq(vtd_mem_write(mem, 0x2ff8, buf, sizeof buf), 0); /* across two frames */
    cr_assert_eq(vtd_mem_write_tag_of(mem, 0x2000), 5);
    cr_assert_eq(vtd_mem_write_tag_of(mem, 0x3000), 5);
    cr_assert_eq(vtd_mem_write_tag_of(mem, 0x1000), 3, "a frame not written keeps its tag");
    vtd_mem_set_write_tag(mem, 7);
    cr_assert_eq(vtd_mem_cmpxchg64(mem, 0x1008, 1, 0x21, &old), 0);
    cr_assert_eq(vtd_mem_write_tag_of(mem, 0x1000), 3, "an A/D update is not a software change");
    cr_assert_eq(vtd_mem_fill(mem, 0x1000, 0, 0x3000), 0);
    cr_assert_eq(vtd_mem_write_tag_of(mem, 0x1000), 7);
    cr_assert_eq(vtd_mem_write_tag_of(mem, 0x3000), 7);
    cr_assert_eq(vtd_mem_write_tag_of(mem, UINT64_MAX & ~0xfffull), 0, "beyond the address width");
    vtd_mem_reset(mem);
    cr_assert_eq(vtd_mem_write_tag_of(mem, 0x1000), 0);
}

/* walker/alloc.h's growable arrays: doubling from 8, failure leaves the array as it was. */
Test(alloc, grow_array_doubles_and_fails_cleanly)
{
    uint32_t *a = NULL;
    unsigned cap = 0;
    cr_assert(vtd_grow_array((void **)&a, &cap, 0, sizeof *a));
    cr_assert_eq(cap, 8);
    for (unsigned i = 0; i < 8; i++)
        a[i] = i;
    cr_assert(vtd_grow_array((void **)&a, &cap, 7, sizeof *a), "room left: nothing to do");
    cr_assert_eq(cap, 8);
    vtd_alloc_fail_nth(1);
    cr_assert(!vtd_grow_array((void **)&a, &cap, 8, sizeof *a), "the allocation fails");
    vtd_alloc_fail_nth(0);
    cr_assert_eq(cap, 8);
    cr_assert_eq(a[7], 7, "the old array is intact");
    cr_assert(vtd_grow_array((void **)&a, &cap, 8, sizeof *a));
    cr_assert_eq(cap, 16);
    cr_assert_eq(a[7], 7);
    unsigned huge = 1u << 31;
    cr_assert(!vtd_grow_array((void **)&a, &huge, huge, sizeof *a), "doubling 2^31 overflows");
    vtd_free(a);
}
