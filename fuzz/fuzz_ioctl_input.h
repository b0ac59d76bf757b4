/*
 * fuzz_ioctl_input.h: how fuzz_ioctl interprets its input, shared by the fuzz target
 * (fuzz/fuzz_ioctl.c), the seed generator and the regression test
 * (tests/test_fuzz_regressions.c).
 *
 * Every input starts from the same world: an IOMMU with the default configuration, a plain
 * device FI_SID (00:02.0) and an ATS+PRI device FI_ATS_SID (00:03.0) attached to one container
 * (vtd_container_new with the defaults but a pool of FI_POOL_SIZE), guest RAM [0, FI_GUEST_RAM_SIZE) mapped by MAP_DMA to
 * FI_HOST_RAM, and a 4-level guest first-stage table at FI_GUEST_PT_GPA (root FI_GUEST_ROOT)
 * that maps FI_VA.. (4 pages) to FI_GUEST_DATA_GPA. A bind of FI_GUEST_ROOT to a PASID that
 * PASID_REQUEST allocated makes DMA with that PASID go through.
 *
 * Input: a sequence of records, each
 *   op      1 byte: bits 3:0 pick from the table below; with bit 7 set, 4 more bytes
 *           (little-endian) are the request number, any value, and bits 3:0 are ignored
 *   length  2 bytes, little-endian, modulo FI_MAX_PAYLOAD + 1: the payload length P
 *   payload P bytes (fewer if the input ends)
 * At most FI_MAX_RECORDS records run.
 * ops: 0 GET_INFO, 1 MAP_DMA, 2 UNMAP_DMA, 3 PASID_REQUEST, 4 NESTING_OP, 5 GET_API_VERSION,
 *      6 CHECK_EXTENSION, 7 SET_IOMMU, 8 IOMMU_ENABLE, 9 DIRTY_PAGES (all through
 *      vtd_container_ioctl, the payload as the argument; an empty payload passes NULL),
 *      10 a DMA: payload [0] bit 0 device (plain/ATS), bit 1 with PASID, bit 2 write,
 *         bit 3 privileged, bits 5:4 kind (untranslated, translation request, translated),
 *         [1..4] PASID, [5..12] address;
 *      11 read the fault queue (payload [0]: at most that many records);
 *      12 page response (the payload as struct iommu_page_response);
 *      13 hwpt_alloc_vtd_s1 (payload [0..3] PASID, then struct iommu_hwpt_vtd_s1);
 *      14 hwpt_invalidate (payload [0..3] PASID, [4..7] entry_len, [8..11] entry_num, then the
 *         array); 15 CACHE_INVLD through vtd_container_cache_invalidate.
 *
 * The argument buffer is exactly max(P, the request's minimum size) bytes (the kernel always
 * copies that minimum: see each handler), zero-padded, so that reading past what the caller
 * provided is an ASan report. A leading argsz larger than the buffer is lowered to the buffer
 * size: a caller that lies about its buffer is beyond what the kernel (or the model) can see.
 */
#ifndef VTDSIM_FUZZ_IOCTL_INPUT_H
#define VTDSIM_FUZZ_IOCTL_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "walker/builder.h"

#define FI_SID 0x0010u     /* 00:02.0 */
#define FI_ATS_SID 0x0018u /* 00:03.0 */
#define FI_HOST_RAM UINT64_C(0x40000000)
#define FI_GUEST_RAM_SIZE UINT64_C(0x1000000)
#define FI_GUEST_PT_GPA UINT64_C(0x100000)
#define FI_GUEST_DATA_GPA UINT64_C(0x800000)
#define FI_VA UINT64_C(0x400000)
/* The container's host structures: 64 pages, the world's tables and a few dozen more. A map of
 * 4 KiB pages checks and writes page by page until the pool runs out, so the 512 pages this
 * used to be let one record cost up to half a million page-table walks. */
#define FI_POOL_SIZE UINT64_C(0x40000)
#define FI_MAX_PAYLOAD 4096u
#define FI_MAX_RECORDS 64u /* records run per input (keeps each input fast) */

enum fi_op {
    FI_GET_INFO, FI_MAP_DMA, FI_UNMAP_DMA, FI_PASID_REQUEST, FI_NESTING_OP, FI_GET_API_VERSION,
    FI_CHECK_EXTENSION, FI_SET_IOMMU, FI_IOMMU_ENABLE, FI_DIRTY_PAGES, FI_DMA, FI_READ_FAULTS,
    FI_PAGE_RESPONSE, FI_HWPT_ALLOC, FI_HWPT_INVALIDATE, FI_CACHE_INVALIDATE,
};
#define FI_RAW_REQUEST 0x80u

/* The guest first-stage root of the fixed world (what a bind's gpgd should name). */
uint64_t fuzz_ioctl_guest_root(void);

/* The fixed world one input runs in: an IOMMU (kept between inputs), a container with the
 * guest's RAM mapped and a PASID, and the guest's first-stage table. */
struct vtd_iommu;
struct vtd_container;
struct fi_state {
    struct vtd_iommu *io;
    struct vtd_container *c;
    struct vtd_pt fs;
};
/* Build the world (0, or -1 with the reason in `why`); fi_free ends the input's part of it.
 * Regression tests use them to check a finding directly through the container. */
int fi_setup(struct fi_state *s, char *why, size_t why_len);
void fi_free(struct fi_state *s);

/* Run one input; 0, or -1 with the violated property in `why`. */
int fuzz_ioctl_one(const uint8_t *data, size_t size, char *why, size_t why_len);

#endif
