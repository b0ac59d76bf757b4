/*
 * memory.c: the program's DMA memory inside the simulated machine. MAP_DMA and IOAS_MAP name
 * memory by the program's pointer; the simulated IOMMU reads host-physical addresses in its
 * own memory. Each mapped range of the program gets simulated addresses of its own (2 MiB
 * aligned, so that the domain can use large pages), and the bytes are carried across at the
 * only moments the model looks at them: into simulated memory before a DMA (the guest's page
 * tables and buffers as the program left them) and back after it (the data a device wrote, the
 * A/D bits the IOMMU set).
 */
#include <errno.h>
#include <string.h>

#include "preload/internal.h"
#include "walker/alloc.h"

#define PL_PAGE 4096u
#define PL_REGION_ALIGN (UINT64_C(2) << 20)

static const struct pl_region *region_of(const struct vtd_preload *p, uint64_t va, uint64_t len)
{
    for (size_t i = 0; i < p->nreg; i++)
        if (va >= p->reg[i].va && va - p->reg[i].va <= p->reg[i].len && len <= p->reg[i].len - (va - p->reg[i].va))
            return &p->reg[i];
    return NULL;
}

int pl_mem_hpa(struct vtd_preload *p, uint64_t va, uint64_t len, uint64_t *hpa)
{
    const struct pl_region *r = region_of(p, va, len);
    if (r) {
        *hpa = r->hpa + (va - r->va);
        return 0;
    }
    /* A new range: page-aligned ends, placed at the next free simulated address with the same
     * offset inside 2 MiB as the pointer (so equal alignments give equal page sizes). */
    if (!len || (va & (PL_PAGE - 1)) || (len & (PL_PAGE - 1)) || va + len < va)
        return -EINVAL; /* what MAP_DMA / IOAS_MAP answer for such ranges anyway */
    uint64_t base = (p->next_hpa + PL_REGION_ALIGN - 1) & ~(PL_REGION_ALIGN - 1);
    base += va & (PL_REGION_ALIGN - 1);
    if (base + len > (UINT64_C(1) << vtd_iommu_caps(p->io)->haw))
        return -ENOMEM;
    struct pl_region *q = vtd_realloc(p->reg, (p->nreg + 1) * sizeof *q);
    if (!q)
        return -ENOMEM;
    p->reg = q;
    p->reg[p->nreg++] = (struct pl_region){ va, base, len };
    p->next_hpa = base + len;
    *hpa = base;
    return 0;
}

static bool page_zero(const uint8_t *b)
{
    static const uint8_t zero[PL_PAGE];
    return !memcmp(b, zero, PL_PAGE);
}

/* The program's bytes into simulated memory, page by page where they differ (a page never
 * written on either side stays unallocated). */
void pl_mem_sync_in(struct vtd_preload *p)
{
    struct vtd_mem *m = vtd_iommu_mem(p->io);
    for (size_t i = 0; i < p->nreg; i++)
        for (uint64_t off = 0; off < p->reg[i].len; off += PL_PAGE) {
            const uint8_t *src = (const uint8_t *)(uintptr_t)(p->reg[i].va + off);
            const uint8_t *sim = vtd_mem_frame_for_read(m, p->reg[i].hpa + off);
            if (sim ? memcmp(sim, src, PL_PAGE) != 0 : !page_zero(src))
                (void)vtd_mem_write(m, p->reg[i].hpa + off, src, PL_PAGE);
        }
}

/* Simulated memory back into the program where the IOMMU or a device changed it. */
void pl_mem_sync_out(struct vtd_preload *p)
{
    struct vtd_mem *m = vtd_iommu_mem(p->io);
    for (size_t i = 0; i < p->nreg; i++)
        for (uint64_t off = 0; off < p->reg[i].len; off += PL_PAGE) {
            uint8_t *dst = (uint8_t *)(uintptr_t)(p->reg[i].va + off);
            const uint8_t *sim = vtd_mem_frame_for_read(m, p->reg[i].hpa + off);
            if (sim && memcmp(sim, dst, PL_PAGE))
                memcpy(dst, sim, PL_PAGE);
        }
}
