/*
 * fuzz_walker_input.h: how fuzz_walker interprets its input, shared by the fuzz target
 * (fuzz/fuzz_walker.c) and the regression test (tests/test_fuzz_regressions.c).
 *
 * Input layout (every field little-endian; a short input reads as if padded with zeros):
 *
 *   header, FW_HDR_LEN bytes
 *     [0]      HAW = 32 + b % 21
 *     [1]      CAP toggles (XOR with the default): 0 SSLPS_2M, 1 SSLPS_1G, 2 FS1GP, 3 FS5LP,
 *              4/5/6 SAGAW 39/48/57, 7 MGAW 48 instead of 57
 *     [2]      ECAP toggles: 0 ERS, 1 SRS, 2 EAFS, 3 NEST, 4 PT, 5 SSADS, 6 DT, 7 PRS
 *     [3]      ECAP toggles: 0 MTS, 1 FSTS, 2 SSTS, 3 PASID; bits 5:4 CAP.ND = 6 - v;
 *              bits 7:6 abort flags (VTD_MEM_ABORT_*) for one structure page
 *     [4]      which page the abort flags mark (mod the page count)
 *     [5]      page-table pages: 1 + b % FW_MAX_PT
 *     [6]      RTADDR: bits 1:0 XOR the TTM (01b scalable), bit 2 sets reserved bit 0
 *     [7]      request: 0 pasid_valid, 1 priv, 4:2 access (VTD_ACC_R/W/X), 5 VTD_ACC_NOCHECK,
 *              7:6 kind (mod 3)
 *     [8..9]   source-id
 *     [10..12] PASID (24 bits: values past 20 bits are kept, the walker must reject them)
 *     [13..20] address
 *     [21..23] spare
 *   entries, FW_ENT_LEN bytes, written where the request will look when the chain points at
 *   the fixed pages: root entry (16) at ROOT + bus*16, context entry (32) at CTX + (devfn&127)*32,
 *   PASID-directory entry (8) at PDIR + (pasid>>6)*8, PASID entry (64) at PASIDT + (pasid&63)*64
 *   (pasid: the request's, or the context entry's RID_PASID for a request without PASID)
 *   records, FW_REC_LEN bytes each: page selector (1 byte, mod the page count: root, context,
 *   PASID table, PASID directory, page-table pages 0..n-1), slot (2 bytes, mod 512), value (8)
 *
 * Fixed pages: root table FW_ROOT, context table FW_CTX, PASID table FW_PASIDT, page-table
 * pages FW_PT(i), PASID directory FW_PDIR (128 KiB: the largest PDTS). Pointers such as
 * 0x4003 (page-table page 0, present and writable) reach them.
 */
#ifndef VTDSIM_FUZZ_WALKER_INPUT_H
#define VTDSIM_FUZZ_WALKER_INPUT_H

#include <stddef.h>
#include <stdint.h>

#define FW_HDR_LEN 24u
#define FW_ENT_LEN 120u
#define FW_REC_LEN 11u
#define FW_MAX_PT 16u

#define FW_ROOT UINT64_C(0x1000)
#define FW_CTX UINT64_C(0x2000)
#define FW_PASIDT UINT64_C(0x3000)
#define FW_PT(i) (UINT64_C(0x4000) + UINT64_C(0x1000) * (uint64_t)(i))
#define FW_PDIR UINT64_C(0x20000)

/*
 * The architectural bound on structure reads of one translation: root, context, PASID
 * directory and PASID entries (4), a 5-level first stage whose every table address goes
 * through a 5-level second stage (5 * (5 + 1)), and the second-stage walk of the output (5).
 */
#define FW_MAX_READS (4u + 5u * (5u + 1u) + 5u)

/*
 * Run one input: build the memory, translate in dry-run mode, translate for real, and check
 * the properties (see fuzz_walker_input.c). Returns 0, or -1 with the violated property in
 * `why` (a crash or an ASan/UBSan report is the other way an input fails).
 */
int fuzz_walker_one(const uint8_t *data, size_t size, char *why, size_t why_len);

#endif
