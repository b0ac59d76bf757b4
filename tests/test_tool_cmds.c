/*
 * test_tool_cmds.c: the probe behind `vtdsim inv-table` (host/invtable.h): literal cells of
 * both CACHE_INVLD policies, as docs/uapi.md states them.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <errno.h>

#include <linux/iommu.h>

#include "host/invtable.h"

static struct inv_table spec, l510;

static void build(void)
{
    cr_assert_eq(inv_table_build(VTD_INV_SPEC, &spec), 0);
    cr_assert_eq(inv_table_build(VTD_INV_LINUX_5_10, &l510), 0);
}

TestSuite(inv_table, .init = build);

#define CELL(t, row, col) (&(t).cell[IOMMU_INV_GRANU_##row][col])

Test(inv_table, spec_addr_iotlb_removes_leaf_and_nonleaf)
{
    const struct inv_cell *c = CELL(spec, ADDR, IC_IOTLB);
    cr_assert_eq(c->err, 0);
    cr_assert_eq(c->removed[IK_LEAF], IR_YES);
    cr_assert_eq(c->removed[IK_NONLEAF], IR_YES);
    /* The next page and the other PASID keep their IOTLB entries. */
    cr_assert_eq(c->lost[IV_PASID], 0u);
    cr_assert_eq(c->lost[IV_RANGE], 0u);
}

Test(inv_table, spec_domain_devtlb_einval)
{
    cr_assert_eq(CELL(spec, DOMAIN, IC_DEV_IOTLB)->err, -EINVAL);
    cr_assert_eq(CELL(spec, DOMAIN, IC_DEV_IOTLB)->removed[IK_LEAF], IR_NA);
    cr_assert_eq(CELL(l510, DOMAIN, IC_DEV_IOTLB)->err, -EINVAL);
}

Test(inv_table, addr_pasid_cache_einval_both)
{
    cr_assert_eq(CELL(spec, ADDR, IC_PASID)->err, -EINVAL);
    cr_assert_eq(CELL(l510, ADDR, IC_PASID)->err, -EINVAL);
}

Test(inv_table, linux510_domain_pasid_cache_is_a_noop)
{
    const struct inv_cell *c = CELL(l510, DOMAIN, IC_PASID);
    cr_assert_eq(c->err, 0);
    for (unsigned k = 0; k < IK_N; k++)
        cr_assert_eq(c->removed[k], IR_NO, "%s", inv_kind_name((enum inv_kind)k));
    for (unsigned v = 0; v < IV_N; v++)
        cr_assert_eq(c->lost[v], 0u);
}

Test(inv_table, spec_domain_iotlb_flushes_the_whole_domain)
{
    const struct inv_cell *c = CELL(spec, DOMAIN, IC_IOTLB);
    cr_assert_eq(c->removed[IK_LEAF], IR_YES);
    cr_assert(c->lost[IV_PASID] & (1u << VTD_C_IOTLB));
}

Test(inv_table, devtlb_entry_removed_by_dev_iotlb_requests)
{
    cr_assert_eq(CELL(spec, PASID, IC_DEV_IOTLB)->removed[IK_DEVTLB], IR_YES);
    cr_assert_eq(CELL(spec, ADDR, IC_DEV_IOTLB)->removed[IK_DEVTLB], IR_YES);
    /* linux-5.10 flushes nothing for DEV_IOTLB at PASID granularity... */
    cr_assert_eq(CELL(l510, PASID, IC_DEV_IOTLB)->removed[IK_DEVTLB], IR_NO);
    /* ...but adds a device-TLB flush to an IOTLB request on an ATS device. */
    cr_assert_eq(CELL(l510, ADDR, IC_IOTLB)->removed[IK_DEVTLB], IR_YES);
}

Test(inv_table, pasid_entry_change_needs_the_pasid_cache)
{
    /* A PASID-cache flush alone leaves the IOTLB stale, an IOTLB flush alone the PASID cache. */
    cr_assert_eq(CELL(spec, PASID, IC_PASID)->removed[IK_PASID_ENTRY], IR_NO);
    cr_assert(CELL(spec, PASID, IC_PASID)->left[IK_PASID_ENTRY] & (1u << VTD_C_IOTLB));
    cr_assert(CELL(spec, PASID, IC_IOTLB)->left[IK_PASID_ENTRY] & (1u << VTD_C_PASID));
}
