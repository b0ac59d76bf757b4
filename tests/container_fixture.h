/*
 * container_fixture.h: the IOMMU and VFIO container the uAPI suites start from: a plain device
 * and an ATS+PRI device (PASID width 20), both attached to one container with `policy` (or a
 * whole configuration).
 */
#ifndef VTDSIM_TESTS_CONTAINER_FIXTURE_H
#define VTDSIM_TESTS_CONTAINER_FIXTURE_H

#include <criterion/criterion.h>

#include "host/container.h"
#include "sim/iommu.h"

#define DEV_PLAIN 0x0010
#define DEV_ATS 0x0018
#define HOST_RAM UINT64_C(0x40000000)

static inline void container_fixture_cfg(struct vtd_iommu **io, struct vtd_container **c,
                                         const struct vtd_container_config *cc)
{
    struct vtd_iommu_config cfg;
    vtd_iommu_config_default(&cfg);
    *io = vtd_iommu_new(&cfg, NULL);
    cr_assert_not_null(*io);
    struct vtd_device_config d = { .sid = DEV_PLAIN, .pasid_bits = 20 };
    cr_assert_eq(vtd_iommu_add_device(*io, &d), 0);
    struct vtd_device_config a = { .sid = DEV_ATS, .ats = true, .pri = true, .pasid_bits = 20,
                                   .devtlb = { .sets = 8, .ways = 4 } };
    cr_assert_eq(vtd_iommu_add_device(*io, &a), 0);
    const char *why = NULL;
    *c = vtd_container_new(*io, cc, &why);
    cr_assert_not_null(*c, "%s", why ? why : "");
    cr_assert_eq(vtd_container_attach_device(*c, DEV_PLAIN), 0);
    cr_assert_eq(vtd_container_attach_device(*c, DEV_ATS), 0);
}

static inline void container_fixture(struct vtd_iommu **io, struct vtd_container **c, enum vtd_inv_policy policy)
{
    struct vtd_container_config cc;
    vtd_container_config_default(&cc);
    cc.policy = policy;
    container_fixture_cfg(io, c, &cc);
}

/* Another container on `io` (its own domain and table pool), with no device. */
static inline struct vtd_container *container_fixture_other(struct vtd_iommu *io, uint16_t did, uint64_t pool_base)
{
    struct vtd_container_config cc;
    vtd_container_config_default(&cc);
    cc.did = did;
    cc.pool_base = pool_base;
    struct vtd_container *c2 = vtd_container_new(io, &cc, NULL);
    cr_assert_not_null(c2);
    return c2;
}

#endif
