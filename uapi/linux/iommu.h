/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vtdsim copy of the vSVA IOMMU user API, as proposed for Linux 5.9 by the
 * "vfio: expose virtual Shared Virtual Addressing to VMs" series (QEMU
 * RFC v10 02/25, linux-headers/linux/iommu.h).
 *
 * Every name, value, size and offset matches that header; the text is ours.
 * The include guard is the kernel's on purpose: with uapi/ first on the
 * include path, <linux/iommu.h> resolves here and the system header of the
 * same name (which in Linux 5.18+ no longer carries the bind/invalidate
 * definitions) is never read.
 *
 * The layouts are the x86-64 (LP64) ones; the static assertions at the end
 * of this file fail the build anywhere they would differ.
 * See docs/uapi.md for how vtdsim uses each structure.
 */
#ifndef _IOMMU_H
#define _IOMMU_H

#include <linux/types.h>
#include <stddef.h>

/* ---- Fault reporting --------------------------------------------------- */

/* Access rights of the faulting request (iommu_fault_*.perm). */
#define IOMMU_FAULT_PERM_READ   (1 << 0)
#define IOMMU_FAULT_PERM_WRITE  (1 << 1)
#define IOMMU_FAULT_PERM_EXEC   (1 << 2)
#define IOMMU_FAULT_PERM_PRIV   (1 << 3) /* supervisor-mode request */

/* What kind of record struct iommu_fault carries (iommu_fault.type). */
enum iommu_fault_type {
	IOMMU_FAULT_DMA_UNRECOV = 1, /* .event: the request was aborted */
	IOMMU_FAULT_PAGE_REQ,        /* .prm: a PRI page request to answer */
};

/* Generic cause of an unrecoverable fault (iommu_fault_unrecoverable.reason). */
enum iommu_fault_reason {
	IOMMU_FAULT_REASON_UNKNOWN = 0,
	IOMMU_FAULT_REASON_PASID_FETCH,     /* reading the PASID table aborted */
	IOMMU_FAULT_REASON_BAD_PASID_ENTRY, /* PASID entry not present or malformed */
	IOMMU_FAULT_REASON_PASID_INVALID,   /* PASID too large or PASIDs disabled */
	IOMMU_FAULT_REASON_WALK_EABT,       /* paging-entry read/update aborted */
	IOMMU_FAULT_REASON_PTE_FETCH,       /* paging entry not present */
	IOMMU_FAULT_REASON_PERMISSION,      /* R/W/X/U check failed */
	IOMMU_FAULT_REASON_ACCESS,          /* accessed-flag check failed */
	IOMMU_FAULT_REASON_OOR_ADDRESS,     /* stage output beyond address width */
};

/*
 * An aborted DMA request. `flags` says which of pasid, addr and fetch_addr
 * hold data; `fetch_addr` is the address of the structure whose read failed.
 */
struct iommu_fault_unrecoverable {
	__u32 reason; /* enum iommu_fault_reason */
#define IOMMU_FAULT_UNRECOV_PASID_VALID      (1 << 0)
#define IOMMU_FAULT_UNRECOV_ADDR_VALID       (1 << 1)
#define IOMMU_FAULT_UNRECOV_FETCH_ADDR_VALID (1 << 2)
	__u32 flags;
	__u32 pasid;
	__u32 perm;   /* IOMMU_FAULT_PERM_* */
	__u64 addr;
	__u64 fetch_addr;
};

/*
 * A PCIe page request. LAST_PAGE closes a page request group (grpid);
 * RESPONSE_NEEDS_PASID means the page response must repeat the PASID.
 */
struct iommu_fault_page_request {
#define IOMMU_FAULT_PAGE_REQUEST_PASID_VALID  (1 << 0)
#define IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE    (1 << 1)
#define IOMMU_FAULT_PAGE_REQUEST_PRIV_DATA    (1 << 2)
#define IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID (1 << 3)
	__u32 flags;
	__u32 pasid;
	__u32 grpid;
	__u32 perm;   /* IOMMU_FAULT_PERM_* */
	__u64 addr;
	__u64 private_data[2];
};

/*
 * One fault record, 64 bytes whatever its type: the union is padded to
 * 56 bytes so that new record kinds fit without changing the size.
 */
struct iommu_fault {
	__u32 type;    /* enum iommu_fault_type */
	__u32 padding; /* zero */
	union {
		struct iommu_fault_unrecoverable event; /* IOMMU_FAULT_DMA_UNRECOV */
		struct iommu_fault_page_request prm;    /* IOMMU_FAULT_PAGE_REQ */
		__u8 padding2[56];
	};
};

/* ---- Page responses ---------------------------------------------------- */

/* Outcome sent back for a page request group (PCIe PRG response codes). */
enum iommu_page_response_code {
	IOMMU_PAGE_RESP_SUCCESS = 0, /* mapped: the device may retry */
	IOMMU_PAGE_RESP_INVALID,     /* not handled: do not retry */
	IOMMU_PAGE_RESP_FAILURE,     /* error: stop issuing page requests */
};

/* Answer to one page request group; `argsz` is the caller's sizeof. */
struct iommu_page_response {
	__u32 argsz;
#define IOMMU_PAGE_RESP_VERSION_1 1
	__u32 version;
#define IOMMU_PAGE_RESP_PASID_VALID (1 << 0)
	__u32 flags;
	__u32 pasid;
	__u32 grpid;
	__u32 code;   /* enum iommu_page_response_code */
};

/* ---- First-stage cache invalidation ------------------------------------ */

/* Scope of an invalidation, from widest to narrowest. */
enum iommu_inv_granularity {
	IOMMU_INV_GRANU_DOMAIN, /* everything tagged with the domain */
	IOMMU_INV_GRANU_PASID,  /* everything tagged with one PASID / arch ID */
	IOMMU_INV_GRANU_ADDR,   /* a range of pages */
	IOMMU_INV_GRANU_NR,     /* count, not a granularity */
};

/*
 * Page-range invalidation: nb_granules pages of granule_size bytes from addr.
 * PASID / ARCHID say which tag fields are meaningful (neither: all tags);
 * LEAF allows the paging-structure caches to be kept.
 */
struct iommu_inv_addr_info {
#define IOMMU_INV_ADDR_FLAGS_PASID  (1 << 0)
#define IOMMU_INV_ADDR_FLAGS_ARCHID (1 << 1)
#define IOMMU_INV_ADDR_FLAGS_LEAF   (1 << 2)
	__u32 flags;
	__u32 archid;
	__u64 pasid;
	__u64 addr;
	__u64 granule_size;
	__u64 nb_granules;
};

/* Tag-wide invalidation; at least one of the two flags must be set. */
struct iommu_inv_pasid_info {
#define IOMMU_INV_PASID_FLAGS_PASID  (1 << 0)
#define IOMMU_INV_PASID_FLAGS_ARCHID (1 << 1)
	__u32 flags;
	__u32 archid;
	__u64 pasid;
};

/*
 * A guest's request to flush caches after changing its first-stage tables.
 * `cache` is a set of IOMMU_CACHE_INV_TYPE_* bits, `granularity` an enum
 * iommu_inv_granularity; DOMAIN uses no part of `granu`. Not every
 * cache/granularity pair is allowed: docs/uapi.md has the table.
 */
struct iommu_cache_invalidate_info {
	__u32 argsz;
#define IOMMU_CACHE_INVALIDATE_INFO_VERSION_1 1
	__u32 version;
#define IOMMU_CACHE_INV_TYPE_IOTLB     (1 << 0) /* IOTLB and paging-structure caches */
#define IOMMU_CACHE_INV_TYPE_DEV_IOTLB (1 << 1) /* ATS device TLBs */
#define IOMMU_CACHE_INV_TYPE_PASID     (1 << 2) /* PASID-entry cache */
#define IOMMU_CACHE_INV_TYPE_NR        (3)
	__u8 cache;
	__u8 granularity;
	__u8 padding[6];
	union {
		struct iommu_inv_pasid_info pasid_info; /* IOMMU_INV_GRANU_PASID */
		struct iommu_inv_addr_info addr_info;   /* IOMMU_INV_GRANU_ADDR */
	} granu;
};

/* ---- Binding a guest page table to a PASID ----------------------------- */

/*
 * VT-d part of a bind: the scalable-mode PASID-entry bits the guest chose
 * (flags), plus PAT and EMT for the effective memory type.
 */
struct iommu_gpasid_bind_data_vtd {
#define IOMMU_SVA_VTD_GPASID_SRE  (1 << 0) /* supervisor requests allowed */
#define IOMMU_SVA_VTD_GPASID_EAFE (1 << 1) /* extended-accessed flag */
#define IOMMU_SVA_VTD_GPASID_PCD  (1 << 2) /* page-level cache disable */
#define IOMMU_SVA_VTD_GPASID_PWT  (1 << 3) /* page-level write-through */
#define IOMMU_SVA_VTD_GPASID_EMTE (1 << 4) /* extended memory type enable */
#define IOMMU_SVA_VTD_GPASID_CD   (1 << 5) /* cache disable, PASID level */
#define IOMMU_SVA_VTD_GPASID_LAST (1 << 6) /* first undefined bit */
	__u64 flags;
	__u32 pat;
	__u32 emt;
};

/* The flag bits that take part in the memory-type computation. */
#define IOMMU_SVA_VTD_GPASID_MTS_MASK (IOMMU_SVA_VTD_GPASID_CD | \
				       IOMMU_SVA_VTD_GPASID_EMTE | \
				       IOMMU_SVA_VTD_GPASID_PCD | \
				       IOMMU_SVA_VTD_GPASID_PWT)

/* Which vendor layout the `vendor` unions below hold. */
enum iommu_pasid_data_format {
	IOMMU_PASID_FORMAT_INTEL_VTD = 1,
	IOMMU_PASID_FORMAT_LAST,
};

/*
 * Install the guest page table rooted at gpgd (a guest-physical address,
 * addr_width bits of input) as the first stage of host PASID hpasid.
 * With IOMMU_SVA_GPASID_VAL the guest's own number for it is gpasid, for
 * VMs whose PASID space differs from the host's.
 */
struct iommu_gpasid_bind_data {
	__u32 argsz;
#define IOMMU_GPASID_BIND_VERSION_1 1
	__u32 version;
	__u32 format;     /* enum iommu_pasid_data_format */
	__u32 addr_width;
#define IOMMU_SVA_GPASID_VAL (1 << 0) /* gpasid is meaningful */
	__u64 flags;
	__u64 gpgd;
	__u64 hpasid;
	__u64 gpasid;
	__u8 padding[8];
	union {
		struct iommu_gpasid_bind_data_vtd vtd;
	} vendor;
};

/* ---- Nesting capability report ----------------------------------------- */

/*
 * VT-d part of the nesting report: the raw CAP_REG and ECAP_REG values.
 * `flags` is zero; four bytes of implicit padding precede cap_reg.
 */
struct iommu_nesting_info_vtd {
	__u32 flags;
	__u64 cap_reg;
	__u64 ecap_reg;
};

/*
 * What a nesting-capable IOMMU offers to user space: the PASID-entry format,
 * the first-stage output width, the PASID width (0: no PASIDs) and the
 * features below, which the user must honour:
 *   SYSWIDE_PASID - PASIDs are allocated by the host (PASID_REQUEST);
 *   BIND_PGTBL    - first-stage tables are installed with a bind request;
 *   CACHE_INVLD   - first-stage changes must be followed by explicit
 *                   cache invalidation requests.
 */
struct iommu_nesting_info {
	__u32 argsz;
	__u32 flags;      /* zero */
	__u32 format;     /* enum iommu_pasid_data_format */
#define IOMMU_NESTING_FEAT_SYSWIDE_PASID (1 << 0)
#define IOMMU_NESTING_FEAT_BIND_PGTBL    (1 << 1)
#define IOMMU_NESTING_FEAT_CACHE_INVLD   (1 << 2)
	__u32 features;
	__u16 addr_width;
	__u16 pasid_bits;
	__u8 padding[12];
	union {
		struct iommu_nesting_info_vtd vtd; /* IOMMU_PASID_FORMAT_INTEL_VTD */
	} vendor;
};

/* ---- Layout checks (x86-64) ------------------------------------------- */

#ifdef __cplusplus
#define VTDSIM_IOMMU_H_CHECK(cond, msg) static_assert(cond, msg)
#else
#define VTDSIM_IOMMU_H_CHECK(cond, msg) _Static_assert(cond, msg)
#endif
#define VTDSIM_IOMMU_H_SIZE(type, n) \
	VTDSIM_IOMMU_H_CHECK(sizeof(type) == (n), "uapi/linux/iommu.h: size of " #type)
#define VTDSIM_IOMMU_H_OFF(type, field, n) \
	VTDSIM_IOMMU_H_CHECK(offsetof(type, field) == (n), \
			     "uapi/linux/iommu.h: offset of " #field " in " #type)

VTDSIM_IOMMU_H_SIZE(struct iommu_fault_unrecoverable, 32);
VTDSIM_IOMMU_H_OFF(struct iommu_fault_unrecoverable, reason, 0);
VTDSIM_IOMMU_H_OFF(struct iommu_fault_unrecoverable, flags, 4);
VTDSIM_IOMMU_H_OFF(struct iommu_fault_unrecoverable, pasid, 8);
VTDSIM_IOMMU_H_OFF(struct iommu_fault_unrecoverable, perm, 12);
VTDSIM_IOMMU_H_OFF(struct iommu_fault_unrecoverable, addr, 16);
VTDSIM_IOMMU_H_OFF(struct iommu_fault_unrecoverable, fetch_addr, 24);

VTDSIM_IOMMU_H_SIZE(struct iommu_fault_page_request, 40);
VTDSIM_IOMMU_H_OFF(struct iommu_fault_page_request, flags, 0);
VTDSIM_IOMMU_H_OFF(struct iommu_fault_page_request, pasid, 4);
VTDSIM_IOMMU_H_OFF(struct iommu_fault_page_request, grpid, 8);
VTDSIM_IOMMU_H_OFF(struct iommu_fault_page_request, perm, 12);
VTDSIM_IOMMU_H_OFF(struct iommu_fault_page_request, addr, 16);
VTDSIM_IOMMU_H_OFF(struct iommu_fault_page_request, private_data, 24);

VTDSIM_IOMMU_H_SIZE(struct iommu_fault, 64);
VTDSIM_IOMMU_H_OFF(struct iommu_fault, type, 0);
VTDSIM_IOMMU_H_OFF(struct iommu_fault, padding, 4);
VTDSIM_IOMMU_H_OFF(struct iommu_fault, event, 8);
VTDSIM_IOMMU_H_OFF(struct iommu_fault, prm, 8);
VTDSIM_IOMMU_H_OFF(struct iommu_fault, padding2, 8);

VTDSIM_IOMMU_H_SIZE(struct iommu_page_response, 24);
VTDSIM_IOMMU_H_OFF(struct iommu_page_response, argsz, 0);
VTDSIM_IOMMU_H_OFF(struct iommu_page_response, version, 4);
VTDSIM_IOMMU_H_OFF(struct iommu_page_response, flags, 8);
VTDSIM_IOMMU_H_OFF(struct iommu_page_response, pasid, 12);
VTDSIM_IOMMU_H_OFF(struct iommu_page_response, grpid, 16);
VTDSIM_IOMMU_H_OFF(struct iommu_page_response, code, 20);

VTDSIM_IOMMU_H_SIZE(struct iommu_inv_addr_info, 40);
VTDSIM_IOMMU_H_OFF(struct iommu_inv_addr_info, flags, 0);
VTDSIM_IOMMU_H_OFF(struct iommu_inv_addr_info, archid, 4);
VTDSIM_IOMMU_H_OFF(struct iommu_inv_addr_info, pasid, 8);
VTDSIM_IOMMU_H_OFF(struct iommu_inv_addr_info, addr, 16);
VTDSIM_IOMMU_H_OFF(struct iommu_inv_addr_info, granule_size, 24);
VTDSIM_IOMMU_H_OFF(struct iommu_inv_addr_info, nb_granules, 32);

VTDSIM_IOMMU_H_SIZE(struct iommu_inv_pasid_info, 16);
VTDSIM_IOMMU_H_OFF(struct iommu_inv_pasid_info, flags, 0);
VTDSIM_IOMMU_H_OFF(struct iommu_inv_pasid_info, archid, 4);
VTDSIM_IOMMU_H_OFF(struct iommu_inv_pasid_info, pasid, 8);

VTDSIM_IOMMU_H_SIZE(struct iommu_cache_invalidate_info, 56);
VTDSIM_IOMMU_H_OFF(struct iommu_cache_invalidate_info, argsz, 0);
VTDSIM_IOMMU_H_OFF(struct iommu_cache_invalidate_info, version, 4);
VTDSIM_IOMMU_H_OFF(struct iommu_cache_invalidate_info, cache, 8);
VTDSIM_IOMMU_H_OFF(struct iommu_cache_invalidate_info, granularity, 9);
VTDSIM_IOMMU_H_OFF(struct iommu_cache_invalidate_info, padding, 10);
VTDSIM_IOMMU_H_OFF(struct iommu_cache_invalidate_info, granu, 16);
VTDSIM_IOMMU_H_OFF(struct iommu_cache_invalidate_info, granu.pasid_info, 16);
VTDSIM_IOMMU_H_OFF(struct iommu_cache_invalidate_info, granu.addr_info, 16);

VTDSIM_IOMMU_H_SIZE(struct iommu_gpasid_bind_data_vtd, 16);
VTDSIM_IOMMU_H_OFF(struct iommu_gpasid_bind_data_vtd, flags, 0);
VTDSIM_IOMMU_H_OFF(struct iommu_gpasid_bind_data_vtd, pat, 8);
VTDSIM_IOMMU_H_OFF(struct iommu_gpasid_bind_data_vtd, emt, 12);

VTDSIM_IOMMU_H_SIZE(struct iommu_gpasid_bind_data, 72);
VTDSIM_IOMMU_H_OFF(struct iommu_gpasid_bind_data, argsz, 0);
VTDSIM_IOMMU_H_OFF(struct iommu_gpasid_bind_data, version, 4);
VTDSIM_IOMMU_H_OFF(struct iommu_gpasid_bind_data, format, 8);
VTDSIM_IOMMU_H_OFF(struct iommu_gpasid_bind_data, addr_width, 12);
VTDSIM_IOMMU_H_OFF(struct iommu_gpasid_bind_data, flags, 16);
VTDSIM_IOMMU_H_OFF(struct iommu_gpasid_bind_data, gpgd, 24);
VTDSIM_IOMMU_H_OFF(struct iommu_gpasid_bind_data, hpasid, 32);
VTDSIM_IOMMU_H_OFF(struct iommu_gpasid_bind_data, gpasid, 40);
VTDSIM_IOMMU_H_OFF(struct iommu_gpasid_bind_data, padding, 48);
VTDSIM_IOMMU_H_OFF(struct iommu_gpasid_bind_data, vendor, 56);
VTDSIM_IOMMU_H_OFF(struct iommu_gpasid_bind_data, vendor.vtd, 56);

VTDSIM_IOMMU_H_SIZE(struct iommu_nesting_info_vtd, 24);
VTDSIM_IOMMU_H_OFF(struct iommu_nesting_info_vtd, flags, 0);
VTDSIM_IOMMU_H_OFF(struct iommu_nesting_info_vtd, cap_reg, 8);
VTDSIM_IOMMU_H_OFF(struct iommu_nesting_info_vtd, ecap_reg, 16);

VTDSIM_IOMMU_H_SIZE(struct iommu_nesting_info, 56);
VTDSIM_IOMMU_H_OFF(struct iommu_nesting_info, argsz, 0);
VTDSIM_IOMMU_H_OFF(struct iommu_nesting_info, flags, 4);
VTDSIM_IOMMU_H_OFF(struct iommu_nesting_info, format, 8);
VTDSIM_IOMMU_H_OFF(struct iommu_nesting_info, features, 12);
VTDSIM_IOMMU_H_OFF(struct iommu_nesting_info, addr_width, 16);
VTDSIM_IOMMU_H_OFF(struct iommu_nesting_info, pasid_bits, 18);
VTDSIM_IOMMU_H_OFF(struct iommu_nesting_info, padding, 20);
VTDSIM_IOMMU_H_OFF(struct iommu_nesting_info, vendor, 32);
VTDSIM_IOMMU_H_OFF(struct iommu_nesting_info, vendor.vtd, 32);

#undef VTDSIM_IOMMU_H_OFF
#undef VTDSIM_IOMMU_H_SIZE
#undef VTDSIM_IOMMU_H_CHECK

#endif /* _IOMMU_H */
