/*
 * inspect_image_gen.c: writes the memory images tests/tool_inspect.sh runs `vtdsim inspect`
 * on, built with the walker's builders: 00:03.0 with PASID 0 pass-through (its RID_PASID),
 * 1 first stage (16 contiguous pages, a 2 MiB page, a read-only page), 2 second stage, 3 nested;
 * 00:04.0 with a second-stage RID_PASID; and an invalidation queue with three pending
 * descriptors. With "broken", two faults are planted: a reserved bit in PASID 1's 2 MiB leaf
 * and PASID 2's table reused under another DID by PASID 5.
 * usage: inspect_image_gen clean|broken OUT   (writes OUT.raw, OUT.elf; prints the registers)
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "image.h"
#include "sim/qi_desc.h"
#include "world.h"

#define RWU (VTD_PERM_R | VTD_PERM_W | VTD_PERM_U)

static int build(struct world *w, bool broken, uint64_t *iqa)
{
    struct vtd_ctx c, c4;
    struct vtd_pt fs1, ss2, fs3, ss3, ss4;
    struct vtd_pasid_cfg cfg2, cfg4;
    int rc = world_device(w, vtd_sid(0, 3, 0), &c);
    rc = rc ? rc : world_pasid(w, &c, 0, VTD_PGTT_PT, 0, 0, NULL, NULL, NULL);
    rc = rc ? rc : world_pasid(w, &c, 1, VTD_PGTT_FS, 4, 0, &fs1, NULL, NULL);
    rc = rc ? rc : vtd_pt_map(&fs1, 0x100000, 0x900000, 0x10000, 12, RWU, 0);
    rc = rc ? rc : vtd_pt_map(&fs1, 0x110000, 0x700000, 0x1000, 12, VTD_PERM_R | VTD_PERM_U, 0);
    rc = rc ? rc : vtd_pt_map(&fs1, 0x40000000, 0x80000000, 0x200000, 21, RWU, 0);
    rc = rc ? rc : world_pasid(w, &c, 2, VTD_PGTT_SS, 4, 0, NULL, &ss2, &cfg2);
    rc = rc ? rc : vtd_pt_map(&ss2, 0x0, 0x20000000, 0x8000, 12, VTD_PERM_R | VTD_PERM_W, 0);
    rc = rc ? rc : world_pasid(w, &c, 3, VTD_PGTT_NESTED, 4, 4, &fs3, &ss3, NULL);
    rc = rc ? rc : vtd_pt_map(&fs3, 0x7000, 0x3000, 0x1000, 12, RWU, 0);
    rc = rc ? rc : world_device(w, vtd_sid(0, 4, 0), &c4);
    rc = rc ? rc : world_pasid(w, &c4, 0, VTD_PGTT_SS, 3, 0, NULL, &ss4, &cfg4);
    cfg4.did = 9; /* its own domain (world_pasid numbers DIDs by PASID) */
    rc = rc ? rc : vtd_build_pasid_entry(&w->b, &c4, 0, &cfg4);
    rc = rc ? rc : vtd_pt_map(&ss4, 0x1000, 0x30001000, 0x1000, 12, VTD_PERM_R, 0);
    /* A 4 KiB queue of 128-bit descriptors; three pending at entries 2, 3, 4. */
    uint64_t q;
    rc = rc ? rc : vtd_builder_alloc_page(&w->b, &q);
    struct vtd_desc d[3] = {vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PAGE, 2, 1, 0x100000, 4, false), vtd_desc_pc(VTD_QI_PC_G_PASID, 3, 2),
                            vtd_desc_wait(VTD_BIT(5), 1, q + 0x800)};
    for (unsigned i = 0; i < 3 && !rc; i++)
        rc = vtd_mem_write(w->mem, q + (2 + i) * 16, d[i].qw, 16);
    *iqa = q;
    if (rc || !broken)
        return rc;
    uint64_t pde, v;
    rc = vtd_pt_entry_addr(&fs1, 0x40000000, 2, &pde);
    rc = rc ? rc : vtd_mem_read64(w->mem, pde, &v);
    rc = rc ? rc : vtd_mem_write64(w->mem, pde, v | VTD_BIT(13));
    cfg2.did = 42;
    return rc ? rc : vtd_build_pasid_entry(&w->b, &c, 5, &cfg2);
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "clean") && strcmp(argv[1], "broken"))) {
        fprintf(stderr, "usage: inspect_image_gen clean|broken OUT\n");
        return 2;
    }
    struct world w;
    uint64_t iqa;
    char path[4096];
    int rc = world_init(&w, NULL);
    rc = rc ? rc : build(&w, !strcmp(argv[1], "broken"), &iqa);
    uint64_t used = w.b.pool_next - WORLD_POOL_BASE;
    /* Nested PASID 3's first-stage tables live in guest RAM, outside the pool. */
    struct image_segment seg[2] = {{WORLD_POOL_BASE, used},
                                   {WORLD_GUEST_RAM_HPA + WORLD_GUEST_PT_GPA, 16 * VTD_PAGE_SIZE}};
    snprintf(path, sizeof path, "%s.raw", argv[2]);
    rc = rc ? rc : image_write_raw(w.mem, WORLD_POOL_BASE, used, path);
    snprintf(path, sizeof path, "%s.elf", argv[2]);
    rc = rc ? rc : image_write_elf(w.mem, seg, 2, path);
    if (!rc)
        printf("RTADDR=0x%" PRIx64 " BASE=0x%" PRIx64 " IQA=0x%" PRIx64 " IQH=0x20 IQT=0x50\n", w.rtaddr,
               (uint64_t)WORLD_POOL_BASE, iqa);
    world_fini(&w);
    if (rc)
        fprintf(stderr, "inspect_image_gen: %s\n", strerror(-rc));
    return rc ? 1 : 0;
}
