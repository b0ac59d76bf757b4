/*
 * invtable.h: the probe behind `vtdsim inv-table`: for every CACHE_INVLD (granularity x cache)
 * cell, whether the host's iommu layer accepts it and which stale entries it removes, measured
 * on fresh simulated worlds (an IOMMU, a container, two bound PASIDs) without hardware.
 */
#ifndef VTDSIM_HOST_INVTABLE_H
#define VTDSIM_HOST_INVTABLE_H

#include "host/container.h"

/* Rows: IOMMU_INV_GRANU_DOMAIN, _PASID, _ADDR. Columns, as in the seed header's table: */
enum inv_col { IC_DEV_IOTLB, IC_IOTLB, IC_PASID, IC_N };
#define INV_ROWS 3
/* The changes made without invalidating. */
enum inv_kind { IK_LEAF, IK_NONLEAF, IK_PASID_ENTRY, IK_DEVTLB, IK_N };
/* Entries that must survive: another PASID's, and another page of the changed PASID, each
 * through the plain device and through the ATS device. */
enum inv_victim { IV_PASID, IV_RANGE, IV_ATS_PASID, IV_ATS_RANGE, IV_N };

enum inv_removed { IR_NA, IR_YES, IR_NO };

struct inv_cell {
    int err;                      /* the iommu layer's answer: 0 or -errno */
    int probe_err;                /* building or warming the probe world failed (-errno) */
    enum inv_removed removed[IK_N];
    unsigned left[IK_N];          /* with IR_NO: caches still serving it (bit per enum vtd_cache_id, VTD_C_DEVTLB) */
    unsigned lost[IV_N];          /* caches whose entry of the victim was removed (over-invalidation) */
};

struct inv_table {
    enum vtd_inv_policy policy;
    struct inv_cell cell[INV_ROWS][IC_N];
};

/* Run every probe. 0, or -errno when a probe world could not be built (also in the cells). */
int inv_table_build(enum vtd_inv_policy policy, struct inv_table *t);

const char *inv_col_name(enum inv_col c);
const char *inv_row_name(unsigned row);
const char *inv_kind_name(enum inv_kind k);
const char *inv_victim_name(enum inv_victim v);
/* Short name of a cache bit in `left` / `lost` (enum vtd_cache_id, VTD_C_DEVTLB). */
const char *inv_cache_name(int id);

#endif
