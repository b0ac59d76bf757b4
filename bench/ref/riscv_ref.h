/*
 * riscv_ref.h: what the RISC-V IOMMU reference-model harnesses (riscv_nested_miss.c,
 * riscv_iotlb_hit.c) share: the test bench's globals, the read counter wrapped around its
 * read_memory(), the clock and median helpers, and the model's set-up (one IOMMU with a
 * 3-level device directory, one device translating Sv48 over Sv48x4 with A/D updates on, and
 * pages mapped through both stages with every permission and A/D already set). Not part of the
 * build: scripts/bench-riscv-ref.sh compiles each harness, which includes this once, against a
 * checkout of github.com/riscv-non-isa/riscv-iommu (iommu_ref_model/).
 */
#ifndef VTDSIM_BENCH_REF_RISCV_REF_H
#define VTDSIM_BENCH_REF_RISCV_REF_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iommu.h"
#include "tables_api.h"
#include "test_app.h"

/* The test bench's globals, normally defined by test_app.c. */
int8_t *memory;
uint64_t access_viol_addr = -1, data_corruption_addr = -1;
uint8_t pr_go_requested, pw_go_requested;
ats_msg_t exp_msg, rcvd_msg;
uint8_t exp_msg_received, message_received;
uint64_t next_free_page;
uint64_t next_free_gpage[65536];
int test_endian = LITTLE_ENDIAN;

#define RISCV_REF_DEV 0x012349
#define RISCV_REF_RUNS 7

/* Every memory read the model makes goes through the test bench's read_memory(); the link
 * wraps it (-Wl,--wrap=read_memory) so a harness can count the reads of a pass. */
static uint64_t riscv_ref_reads;
uint8_t __real_read_memory(uint64_t addr, uint8_t size, char *data, uint32_t rcid, uint32_t mcid,
                           uint32_t pma, int endian);
uint8_t __wrap_read_memory(uint64_t addr, uint8_t size, char *data, uint32_t rcid, uint32_t mcid,
                           uint32_t pma, int endian)
{
    riscv_ref_reads++;
#ifdef LEAN_MEMORY
    /* The test bench's read_memory() copies with a variable-length memcpy that GCC's generic
     * tuning turns into a slow string move; this build reads the same flat array directly, so
     * the time measured is the model's own walk (little-endian only, as these harnesses set). */
    if (size == 8) {
        __builtin_memcpy(data, &memory[addr], 8);
        return 0;
    }
#endif
    return __real_read_memory(addr, size, data, rcid, mcid, pma, endian);
}

static double riscv_ref_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int riscv_ref_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of RISCV_REF_RUNS samples (sorted in place); *fastest gets the smallest. */
static double riscv_ref_median(double *samples, double *fastest)
{
    qsort(samples, RISCV_REF_RUNS, sizeof(samples[0]), riscv_ref_cmp_double);
    *fastest = samples[0];
    return samples[RISCV_REF_RUNS / 2];
}

/* The IOMMU and device RISCV_REF_DEV: gscid 1, no ATS/PRI, GADE/SADE on (hardware A/D
 * updates), Sv48x4 over Sv48, no PDT. *dc gets the device context as the model stored it. */
static int riscv_ref_setup(iommu_t *iommu, device_context_t *dc)
{
    capabilities_t cap = {0};
    fctl_t fctl = {0};
    cap.version = 0x10;
    cap.Sv39 = cap.Sv48 = cap.Sv57 = cap.Sv39x4 = cap.Sv48x4 = cap.Sv57x4 = 1;
    cap.amo_hwad = cap.ats = cap.t2gpa = cap.hpm = 1;
    cap.pas = 50;
    cap.pd20 = cap.pd17 = cap.pd8 = 1;
    if (reset_system(1, 2) < 0)
        return -1;
    if (reset_iommu(iommu, 8, 40, 0xff, 3, Off, DDT_3LVL, 0xFFFFFF, 0, 0, 0, cap, fctl, 0x40000000,
                    0x40000000, 0x40000000, 0x200000, 0x40000000, 0x40000000, 0x40000000, 0x200000) < 0)
        return -1;
    if (enable_cq(iommu, 4) < 0 || enable_fq(iommu, 4) < 0 || enable_iommu(iommu, DDT_3LVL) < 0)
        return -1;
    uint64_t dc_addr = add_device(iommu, RISCV_REF_DEV, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, IOHGATP_Sv48x4,
                                  IOSATP_Sv48, PDTP_Bare, MSIPTP_Off, 0, 0, 0);
    read_memory_test(dc_addr, 64, (char *)dc);
    return 0;
}

/* Map the 4 KiB page at `va` to guest-physical `gpa` (first stage) and `gpa` to a fresh host
 * page (second stage), every permission and A/D set. */
static int riscv_ref_map(iommu_t *iommu, const device_context_t *dc, uint64_t va, uint64_t gpa)
{
    pte_t pte = {.raw = 0};
    pte.V = pte.R = pte.W = pte.X = pte.U = pte.A = pte.D = 1;
    pte.PBMT = PMA;
    pte.PPN = gpa / PAGESIZE;
    if (add_vs_stage_pte(iommu, dc->fsc.iosatp, va, pte, 0, dc->iohgatp, 0) == (uint64_t)-1)
        return -1;
    gpte_t gpte = {.raw = 0};
    gpte.V = gpte.R = gpte.W = gpte.X = gpte.U = gpte.A = gpte.D = 1;
    gpte.PBMT = PMA;
    gpte.PPN = get_free_ppn(1);
    return add_g_stage_pte(iommu, dc->iohgatp, gpa, gpte, 0) == (uint64_t)-1 ? -1 : 0;
}

/* A read request of 8 bytes at `iova`, untranslated, from RISCV_REF_DEV. */
static hb_to_iommu_req_t riscv_ref_read(uint64_t iova)
{
    hb_to_iommu_req_t req = {.device_id = RISCV_REF_DEV};
    req.tr.at = ADDR_TYPE_UNTRANSLATED;
    req.tr.length = 8;
    req.tr.read_writeAMO = READ;
    req.tr.iova = iova;
    return req;
}

#endif
