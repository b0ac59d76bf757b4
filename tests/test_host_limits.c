/*
 * test_host_limits.c: the host-side helpers issue 13 added below the runner: strict source-id
 * parsing (walker/bdf.h), opening only regular files (walker/hostfile.h), the host-memory limit
 * of simulated memory (walker/mem.h) and the host cost of caches (sim/cache.h, sim/iommu.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/cache.h"
#include "sim/iommu.h"
#include "walker/hostfile.h"
#include "walker/mem.h"
#include "walker/bdf.h"

Test(sid, exactly_bb_dd_f_in_hex)
{
    uint16_t sid = 0;
    cr_assert(vtd_sid_parse("00:03.0", 7, &sid));
    cr_assert_eq(sid, 0x18);
    cr_assert(vtd_sid_parse("Ff:1F.7", 7, &sid));
    cr_assert_eq(sid, 0xffff);
    /* Only the first n characters count: a cell of a CSV line. */
    cr_assert(vtd_sid_parse("01:02.3,rest", 7, &sid));
    cr_assert_eq(sid, 0x0113);
    const char *bad[] = {"-1:02.0", " 1:02.0", "+1:02.0", "0x:02.0", "00:-2.0", "00: 2.0", "00:02.+", "00:20.0",
                         "00:02.8", "00.02:0", "00:02:0", "0g:02.0", "00:0g.0", "00:02.g"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(vtd_sid_parse(bad[i], 7, &sid), "'%s' accepted", bad[i]);
    cr_assert_not(vtd_sid_parse("00:02.0", 6, &sid));
    cr_assert_not(vtd_sid_parse("000:02.0", 8, &sid));
}

Test(hostfile, only_regular_files_are_opened, .timeout = 20)
{
    char dir[] = "/tmp/vtdsim-hostfile-XXXXXX", path[64], why[128];
    uint64_t size = 0;
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/f", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("hello", f);
    fclose(f);
    f = vtd_fopen_regular(path, &size, why, sizeof why);
    cr_assert_not_null(f, "%s", why);
    cr_assert_eq(size, 5u);
    char buf[8] = {0};
    cr_assert_eq(fread(buf, 1, sizeof buf, f), 5u, "reads block as usual");
    fclose(f);
    cr_assert_not_null(f = vtd_fopen_regular(path, NULL, why, sizeof why));
    fclose(f);
    unlink(path);
    cr_assert_eq(mkfifo(path, 0600), 0);
    cr_assert_null(vtd_fopen_regular(path, &size, why, sizeof why));
    cr_assert_eq(errno, EINVAL);
    cr_assert_str_eq(why, "not a regular file (a FIFO)");
    unlink(path);
    cr_assert_null(vtd_fopen_regular(dir, &size, why, sizeof why));
    cr_assert_str_eq(why, "not a regular file (a directory)");
    cr_assert_null(vtd_fopen_regular("/dev/null", &size, why, sizeof why));
    cr_assert_str_eq(why, "not a regular file (a character device)");
    cr_assert_null(vtd_fopen_regular(path, &size, why, sizeof why));
    cr_assert_eq(errno, ENOENT);
    cr_assert_str_eq(why, "cannot open: No such file or directory");
    rmdir(dir);
}

/* Sparse frames each need their own 64 KiB index node: the host limit counts them, the frame
 * limit could not. */
Test(mem_host_limit, counts_frames_and_index_nodes)
{
    struct vtd_mem *m = vtd_mem_new(48);
    cr_assert_not_null(m);
    cr_assert_eq(vtd_mem_last_refusal(m), VTD_MEM_REFUSED_NONE);
    size_t limit = vtd_mem_footprint(m) + (1u << 20);
    vtd_mem_set_host_limit(m, limit);
    unsigned written = 0;
    uint64_t v = 1;
    for (uint64_t pa = 0; pa < (UINT64_C(1) << 40); pa += UINT64_C(1) << 25, written++)
        if (vtd_mem_write(m, pa, &v, 8))
            break;
    cr_assert_lt(written, 20u, "1 MiB holds about 15 sparse frames, not %u", written);
    cr_assert_gt(written, 10u);
    cr_assert_leq(vtd_mem_footprint(m), limit);
    cr_assert_eq(vtd_mem_last_refusal(m), VTD_MEM_REFUSED_HOST);
    cr_assert_eq(vtd_mem_enomem_count(m), 1u);
    /* A block write is refused whole, before any frame is taken. */
    size_t frames = vtd_mem_frames(m);
    cr_assert_eq(vtd_mem_fill(m, UINT64_C(1) << 44, 1, 2u << 20), VTD_MEM_ENOMEM);
    cr_assert_eq(vtd_mem_frames(m), frames);
    /* The frame limit is told apart. */
    vtd_mem_set_host_limit(m, 0);
    vtd_mem_set_frame_limit(m, frames);
    cr_assert_eq(vtd_mem_write(m, UINT64_C(1) << 45, &v, 8), VTD_MEM_ENOMEM);
    cr_assert_eq(vtd_mem_last_refusal(m), VTD_MEM_REFUSED_FRAMES);
    vtd_mem_set_frame_limit(m, 0);
    cr_assert_eq(vtd_mem_write(m, UINT64_C(1) << 45, &v, 8), VTD_MEM_OK, "unlimited again");
    vtd_mem_free(m);
    vtd_mem_set_host_limit(NULL, 1);
    cr_assert_eq(vtd_mem_last_refusal(NULL), VTD_MEM_REFUSED_NONE);
}

/* Caches are allocated whole; their cost is the slots and tags, about 100 bytes an entry. */
Test(cache_host_bytes, per_geometry)
{
    struct vtd_cache_geometry g = {.sets = 1u << 12, .ways = 16};
    uint64_t b = vtd_cache_host_bytes(&g, 48);
    cr_assert_geq(b, (uint64_t)(1u << 16) * (sizeof(struct vtd_cache_entry) + 48));
    cr_assert_leq(b, (uint64_t)(1u << 16) * (sizeof(struct vtd_cache_entry) + 48 + 16 + 16) + 4096);
    cr_assert_eq(vtd_cache_host_bytes(NULL, 48), UINT64_MAX);
    g = (struct vtd_cache_geometry){.sets = 1u << 13, .ways = 1u << 12};
    cr_assert_eq(vtd_cache_host_bytes(&g, 48), UINT64_MAX, "more than 2^24 entries");
    g = (struct vtd_cache_geometry){0};
    cr_assert_lt(vtd_cache_host_bytes(&g, 48), 4096u, "a disabled cache is its header");
    cr_assert_eq(vtd_cache_host_bytes(&g, SIZE_MAX), UINT64_MAX);

    struct vtd_iommu_config cfg;
    vtd_iommu_config_default(&cfg);
    cfg.cache[VTD_C_IOTLB] = (struct vtd_cache_geometry){.sets = 1u << 16, .ways = 256};
    uint64_t iotlb = vtd_iommu_cache_host_bytes(&cfg, VTD_C_IOTLB);
    cr_assert_gt(iotlb, UINT64_C(1) << 30, "2^24 IOTLB entries take more than 1 GiB: %llu", (unsigned long long)iotlb);
    cr_assert_eq(vtd_iommu_cache_host_bytes(&cfg, VTD_C_NCACHES), UINT64_MAX);
    struct vtd_device_config dc = {.sid = 0x18, .ats = true, .devtlb = {.sets = 1, .ways = 64}};
    cr_assert_gt(vtd_device_host_bytes(&dc), 64u * sizeof(struct vtd_cache_entry));
    dc.devtlb = (struct vtd_cache_geometry){.sets = 1u << 13, .ways = 1u << 12};
    cr_assert_eq(vtd_device_host_bytes(&dc), UINT64_MAX);
    dc.ats = false;
    cr_assert_lt(vtd_device_host_bytes(&dc), 4096u, "no device TLB without ATS");
}
