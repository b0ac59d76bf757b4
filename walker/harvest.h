/*
 * harvest.h: what a host IOMMU driver does to collect dirty pages from second-stage tables with
 * SSADE on: read the D bit of every leaf in a range, and clear it (Linux 6.7+
 * intel_iommu_read_and_clear_dirty; the flush that must follow is the caller's). Software, not
 * the IOMMU: it reads and writes the tables as the CPU would, with an atomic clear. Beside the
 * builders, so that both the host layer (host/container_dirty.c) and trace replay use it.
 */
#ifndef VTDSIM_WALKER_HARVEST_H
#define VTDSIM_WALKER_HARVEST_H

#include <stdbool.h>
#include <stdint.h>

#include "walker/mem.h"

/* A dirty leaf met: [iova, iova + size) of the range asked for (a leaf's page, cut to it). */
typedef void (*vtd_harvest_fn)(void *arg, uint64_t iova, uint64_t size);

struct vtd_harvest_stats {
    uint64_t leaves;        /* present leaves read */
    uint64_t dirty;         /* of them, with D set */
    uint64_t first, last;   /* the lowest and highest address of a dirty leaf (valid when dirty) */
};

/*
 * Read the D bits of the second-stage leaves (`levels` 3-5, top table `root`) over
 * [iova, iova + size); for each one set, call fn (may be NULL) and, when `clear`, clear D with a
 * compare-exchange (a device may set it meanwhile). Not-present entries are skipped. 0, or
 * -EFAULT when a table cannot be read (memory aborts, beyond the host address width).
 */
int vtd_ss_harvest(struct vtd_mem *m, uint64_t root, unsigned levels, uint64_t iova, uint64_t size, bool clear,
                   vtd_harvest_fn fn, void *arg, struct vtd_harvest_stats *st);

#endif
