/*
 * fuzz_qi_input.h: how fuzz_qi interprets its input, shared by the fuzz target (fuzz/fuzz_qi.c)
 * and the regression test (tests/test_fuzz_regressions.c).
 *
 * Every input starts from the same IOMMU (vtd_iommu_new with the default configuration but small
 * caches, fq_config) whose caches a few DMAs have filled: a first-stage PASID 1 and a
 * second-stage PASID 2 on 00:03.0, a nested PASID 5 and a pass-through RID_PASID on the ATS
 * device 00:04.0.
 *
 * Input layout:
 *   [0]     flags: 0 direct phase, 1 queue phase, 2 IQA.DW (256-bit queue), 5:3 IQA.QS,
 *           6 one DMA of the list after each accepted descriptor, in turn, 7 clear FSTS.IQE after a queue error (up
 *           to FQ_MAX_RESUMES times: hardware fetches the same descriptor again)
 *   [1..2]  IQT (bits 18:4 kept)
 *   [3..]   descriptor bytes D
 * Direct phase: D read as records "control byte, then nqw qwords": nqw = 4 if bit 7 else 2,
 *   or (with bit 6) nqw = bits 2:0 (0..7: the width check must reject all but 2 and 4); each
 *   record goes to vtd_qi_submit from a heap buffer of exactly nqw qwords.
 * Queue phase: D copied to the invalidation queue at FQ_QUEUE_BASE (at most the queue size),
 *   IQA written, GCMD.TE|QIE set, IQT written; the queue runs from IQH 0 to IQT.
 */
#ifndef VTDSIM_FUZZ_QI_INPUT_H
#define VTDSIM_FUZZ_QI_INPUT_H

#include <stddef.h>
#include <stdint.h>

#define FQ_HDR_LEN 3u
#define FQ_QUEUE_BASE UINT64_C(0x2000000)
#define FQ_MAX_RESUMES 4u

/* Run one input; 0, or -1 with the violated property in `why`. */
int fuzz_qi_one(const uint8_t *data, size_t size, char *why, size_t why_len);

#endif
