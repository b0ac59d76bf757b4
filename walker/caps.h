/*
 * caps.h: the capability (CAP_REG) and extended capability (ECAP_REG) registers.
 *
 * The walker consults them for every check whose outcome depends on a feature (large pages,
 * 5-level first stage, nesting, supervisor requests, ...). The host address width (HAW) is a
 * platform property reported by ACPI rather than a register; it lives here too.
 * Bit positions: VT-d specification sections 11.4.2 (CAP) and 11.4.3 (ECAP).
 */
#ifndef VTDSIM_WALKER_CAPS_H
#define VTDSIM_WALKER_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "walker/bits.h"

/* CAP_REG */
#define VTD_CAP_ND VTD_GENMASK(2, 0)       /* number of domains: 2^(4 + 2*ND) */
#define VTD_CAP_CM VTD_BIT(7)              /* caching mode */
#define VTD_CAP_SAGAW VTD_GENMASK(12, 8)   /* supported second-stage widths */
#define VTD_CAP_MGAW VTD_GENMASK(21, 16)   /* max guest address width - 1 */
#define VTD_CAP_ZLR VTD_BIT(22)
#define VTD_CAP_FRO VTD_GENMASK(33, 24)    /* fault-recording offset / 16 */
#define VTD_CAP_SSLPS_2M VTD_BIT(34)       /* second-stage 2 MiB pages */
#define VTD_CAP_SSLPS_1G VTD_BIT(35)       /* second-stage 1 GiB pages */
#define VTD_CAP_PSI VTD_BIT(39)            /* page-selective invalidation */
#define VTD_CAP_NFR VTD_GENMASK(47, 40)    /* number of fault-recording registers - 1 */
#define VTD_CAP_MAMV VTD_GENMASK(53, 48)   /* max address mask value */
#define VTD_CAP_DWD VTD_BIT(54)
#define VTD_CAP_DRD VTD_BIT(55)
#define VTD_CAP_FS1GP VTD_BIT(56)          /* first-stage 1 GiB pages */
#define VTD_CAP_PI VTD_BIT(59)
#define VTD_CAP_FS5LP VTD_BIT(60)          /* first-stage 5-level paging */

/* SAGAW bits (value of the SAGAW field): bit 1 = 39-bit/3-level, 2 = 48/4, 3 = 57/5. */
#define VTD_SAGAW_39 (1u << 1)
#define VTD_SAGAW_48 (1u << 2)
#define VTD_SAGAW_57 (1u << 3)

/* ECAP_REG */
#define VTD_ECAP_C VTD_BIT(0)              /* page-walk coherency (legacy mode) */
#define VTD_ECAP_QI VTD_BIT(1)             /* queued invalidation */
#define VTD_ECAP_DT VTD_BIT(2)             /* device TLBs (ATS) */
#define VTD_ECAP_IR VTD_BIT(3)
#define VTD_ECAP_EIM VTD_BIT(4)
#define VTD_ECAP_PT VTD_BIT(6)             /* pass-through */
#define VTD_ECAP_SC VTD_BIT(7)             /* snoop control */
#define VTD_ECAP_IRO VTD_GENMASK(17, 8)    /* IOTLB register offset / 16 */
#define VTD_ECAP_MHMV VTD_GENMASK(23, 20)
#define VTD_ECAP_MTS VTD_BIT(25)           /* memory-type support */
#define VTD_ECAP_NEST VTD_BIT(26)          /* nested translation */
#define VTD_ECAP_PRS VTD_BIT(29)           /* page requests */
#define VTD_ECAP_ERS VTD_BIT(30)           /* execute requests (removed in revision 3.2+) */
#define VTD_ECAP_SRS VTD_BIT(31)           /* supervisor requests */
#define VTD_ECAP_NWFS VTD_BIT(33)
#define VTD_ECAP_EAFS VTD_BIT(34)          /* extended accessed flag */
#define VTD_ECAP_PSS VTD_GENMASK(39, 35)   /* PASID size - 1 */
#define VTD_ECAP_PASID VTD_BIT(40)
#define VTD_ECAP_DIT VTD_BIT(41)
#define VTD_ECAP_PDS VTD_BIT(42)
#define VTD_ECAP_SMTS VTD_BIT(43)          /* scalable mode */
#define VTD_ECAP_VCS VTD_BIT(44)
#define VTD_ECAP_SSADS VTD_BIT(45)         /* second-stage accessed/dirty */
#define VTD_ECAP_SSTS VTD_BIT(46)          /* second-stage translation */
#define VTD_ECAP_FSTS VTD_BIT(47)          /* first-stage translation */
#define VTD_ECAP_SMPWC VTD_BIT(48)         /* scalable-mode page-walk coherency */
#define VTD_ECAP_RPS VTD_BIT(49)

/* The modelled hardware: the two registers plus the platform's host address width. */
struct vtd_caps {
    uint64_t cap;
    uint64_t ecap;
    unsigned haw; /* host address width in bits (physical addresses the IOMMU may access) */
};

/*
 * The documented default: a modern scalable-mode part with nesting. 57-bit MGAW, 48-bit HAW,
 * second-stage 3/4/5 levels with 2 MiB and 1 GiB pages, first stage 4/5 levels with 1 GiB
 * pages, 20-bit PASIDs, SRS, EAFS, PRS, PT, DT, SSADS, 8 fault-recording registers, MAMV 18.
 */
void vtd_caps_default(struct vtd_caps *caps);

static inline bool vtd_cap_has(const struct vtd_caps *c, uint64_t bit) { return (c->cap & bit) != 0; }
static inline bool vtd_ecap_has(const struct vtd_caps *c, uint64_t bit) { return (c->ecap & bit) != 0; }
static inline unsigned vtd_caps_mgaw(const struct vtd_caps *c) { return (unsigned)vtd_field(c->cap, VTD_CAP_MGAW) + 1; }
static inline unsigned vtd_caps_sagaw(const struct vtd_caps *c) { return (unsigned)vtd_field(c->cap, VTD_CAP_SAGAW); }
static inline unsigned vtd_caps_mamv(const struct vtd_caps *c) { return (unsigned)vtd_field(c->cap, VTD_CAP_MAMV); }
static inline unsigned vtd_caps_nfr(const struct vtd_caps *c) { return (unsigned)vtd_field(c->cap, VTD_CAP_NFR) + 1; }
static inline unsigned vtd_caps_pasid_bits(const struct vtd_caps *c)
{
    return vtd_ecap_has(c, VTD_ECAP_PASID) ? (unsigned)vtd_field(c->ecap, VTD_ECAP_PSS) + 1 : 0;
}
/* Domain-ID width in bits: 4 + 2*ND (ND = 6 means 16 bits). */
static inline unsigned vtd_caps_did_bits(const struct vtd_caps *c) { return 4 + 2 * (unsigned)vtd_field(c->cap, VTD_CAP_ND); }

/* Set or clear one feature bit (a helper for configuration code and tests). */
static inline void vtd_caps_set(uint64_t *reg, uint64_t bit, bool on) { *reg = on ? (*reg | bit) : (*reg & ~bit); }
/* Replace a multi-bit field. */
static inline void vtd_caps_set_field(uint64_t *reg, uint64_t mask, uint64_t val) { *reg = (*reg & ~mask) | vtd_field_prep(val, mask); }

/* Second-stage levels for an address width in bits (39, 48, 57), 0 if none. */
unsigned vtd_ss_levels_for_width(unsigned width);
/* Whether SAGAW allows a second-stage table of `levels` levels (3, 4, 5). */
bool vtd_caps_sagaw_allows(const struct vtd_caps *c, unsigned levels);
/* Whether a caps combination is self-consistent; on failure *why names the problem. */
bool vtd_caps_valid(const struct vtd_caps *c, const char **why);

#endif
