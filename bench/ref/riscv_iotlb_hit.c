/*
 * riscv_iotlb_hit.c: times the RISC-V IOMMU reference model (github.com/riscv-non-isa/riscv-iommu,
 * iommu_ref_model/) answering one repeated page from its IOATC, so that bench_iotlb's "iotlb
 * hit" row is compared with a figure measured on the same machine in the same run. Not part of
 * the build: scripts/bench-riscv-ref.sh compiles it against a checkout of that repository, as
 * it does riscv_nested_miss.c, whose set-up this one follows (Sv48 over Sv48x4, A/D set, a
 * device context the model keeps cached).
 *
 * The IOVA never changes, so after the first translation every request is an IOATC hit: the
 * device-context lookup and the IOATC lookup, no page-table read. The harness counts the
 * memory reads of a timed pass (through -Wl,--wrap=read_memory) and says so if any happened.
 */
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

static uint64_t reads;
uint8_t __real_read_memory(uint64_t addr, uint8_t size, char *data, uint32_t rcid, uint32_t mcid,
                           uint32_t pma, int endian);
uint8_t __wrap_read_memory(uint64_t addr, uint8_t size, char *data, uint32_t rcid, uint32_t mcid,
                           uint32_t pma, int endian)
{
    reads++;
    return __real_read_memory(addr, size, data, rcid, mcid, pma, endian);
}

#define DEV 0x012349
#define IOVA (UINT64_C(1) << 30)
#define GPA UINT64_C(0x1800000)
#define RUNS 7

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One device, one page mapped through both stages with every permission and A/D set. */
static int setup(iommu_t *iommu)
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
    uint64_t dc_addr = add_device(iommu, DEV, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, IOHGATP_Sv48x4,
                                  IOSATP_Sv48, PDTP_Bare, MSIPTP_Off, 0, 0, 0);
    device_context_t dc;
    read_memory_test(dc_addr, 64, (char *)&dc);
    pte_t pte = {.raw = 0};
    pte.V = pte.R = pte.W = pte.X = pte.U = pte.A = pte.D = 1;
    pte.PBMT = PMA;
    pte.PPN = GPA / PAGESIZE;
    if (add_vs_stage_pte(iommu, dc.fsc.iosatp, IOVA, pte, 0, dc.iohgatp, 0) == (uint64_t)-1)
        return -1;
    gpte_t gpte = {.raw = 0};
    gpte.V = gpte.R = gpte.W = gpte.X = gpte.U = gpte.A = gpte.D = 1;
    gpte.PBMT = PMA;
    gpte.PPN = get_free_ppn(1);
    return add_g_stage_pte(iommu, dc.iohgatp, GPA, gpte, 0) == (uint64_t)-1 ? -1 : 0;
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 2000000;
    static iommu_t iommu;
    if (setup(&iommu)) {
        fprintf(stderr, "riscv_iotlb_hit: set-up failed\n");
        return 1;
    }
    hb_to_iommu_req_t req = {.device_id = DEV};
    req.tr.at = ADDR_TYPE_UNTRANSLATED;
    req.tr.length = 8;
    req.tr.read_writeAMO = READ;
    req.tr.iova = IOVA | 0x40;
    iommu_to_hb_rsp_t rsp;
    iommu_translate_iova(&iommu, &req, &rsp); /* fills the IOATC */
    if (rsp.status != SUCCESS) {
        fprintf(stderr, "riscv_iotlb_hit: translation failed (status %d)\n", rsp.status);
        return 1;
    }
    uint64_t sink = 0;
    double samples[RUNS];
    reads = 0;
    for (int run = 0; run < RUNS; run++) {
        double t0 = now_ns();
        for (long i = 0; i < iters; i++) {
            iommu_translate_iova(&iommu, &req, &rsp);
            sink += rsp.trsp.PPN;
        }
        samples[run] = (now_ns() - t0) / (double)iters;
    }
    if (reads) {
        fprintf(stderr, "riscv_iotlb_hit: %" PRIu64 " memory reads in the timed runs: not all hits\n", reads);
        return 1;
    }
    qsort(samples, RUNS, sizeof(samples[0]), cmp_double);
    double med = samples[RUNS / 2];
    printf("riscv-iommu ref model, IOATC hit (one page repeated): %.1f ns median (min %.1f), %.2f M/s, "
           "0 memory reads (checksum %" PRIu64 ")\n",
           med, samples[0], 1e3 / med, sink);
    return 0;
}
