/*
 * steps_cpu.c: the steps of the CPU's write-back cache (walker/mem.h): turning it on or off,
 * clflush of a line or range, wbinvd. What they mean for the IOMMU's walks is in docs/walker.md
 * ("Coherency").
 */
#include "runner/run_internal.h"

int ex_do_cpu_cache(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    o->err_what = "cpu_cache";
    return vtd_mem_set_cpu_cache(vtd_iommu_mem(e->io), ARGV(st, A_ON) != 0);
}

/* One line (64 bytes) unless a size is given: CLFLUSH takes one line, a driver loops for more. */
int ex_do_clflush(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    o->err_what = "clflush";
    return vtd_mem_clflush(vtd_iommu_mem(e->io), ARGV(st, A_ADDR), ARG_OR(st, A_SIZE, VTD_CPU_LINE_SIZE), NULL);
}

int ex_do_wbinvd(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    (void)st;
    o->err_what = "wbinvd";
    return vtd_mem_wbinvd(vtd_iommu_mem(e->io), NULL);
}
