/*
 * riscv_nested_miss.c: times uncached two-stage walks (Sv48 over Sv48x4) in the RISC-V IOMMU
 * reference model (github.com/riscv-non-isa/riscv-iommu, iommu_ref_model/), so that
 * bench_walk's "nested 4x4" row can be compared with a figure measured on the same machine
 * instead of a quoted one. Not part of the build: scripts/bench-riscv-ref.sh compiles it
 * against a checkout of that repository (libiommu, libtables and the test bench's memory and
 * table helpers, which this file only calls; the set-up is riscv_ref.h's).
 *
 * The set-up mirrors bench_walk: 256 IOVAs spread 2 MiB + 4 KiB apart from 1 GiB, 4 KiB pages,
 * read requests, A bits already set by a warm-up pass. The model's IOATC holds 2 entries and
 * its device-context cache 2, so cycling over 256 pages makes every request an IOTLB miss with
 * the device context cached: 4 VS levels each translated through 4 G-stage levels, plus the
 * G-stage walk of iosatp and of the final GPA (24 PTE reads), the same walk vtdsim counts. The
 * reads of one pass are counted (riscv_ref.h's wrap of read_memory) to prove each is a miss.
 */
#include "riscv_ref.h"

#define ADDRS 256

static int setup(iommu_t *iommu, uint64_t *va)
{
    device_context_t dc;
    if (riscv_ref_setup(iommu, &dc))
        return -1;
    for (unsigned i = 0; i < ADDRS; i++) {
        va[i] = (UINT64_C(1) << 30) + (uint64_t)i * 0x201000;
        if (riscv_ref_map(iommu, &dc, va[i], 0x1800000 + (uint64_t)i * 0x1000))
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 200000;
    static iommu_t iommu;
    uint64_t va[ADDRS];
    if (setup(&iommu, va)) {
        fprintf(stderr, "riscv_nested_miss: set-up failed\n");
        return 1;
    }
    hb_to_iommu_req_t req = riscv_ref_read(0);
    iommu_to_hb_rsp_t rsp;
    uint64_t sink = 0;
    for (unsigned i = 0; i < ADDRS; i++) { /* warm-up: sets the A bits, checks the answers */
        req.tr.iova = va[i];
        iommu_translate_iova(&iommu, &req, &rsp);
        if (rsp.status != SUCCESS) {
            fprintf(stderr, "riscv_nested_miss: translation %u failed (status %d)\n", i, rsp.status);
            return 1;
        }
    }
    riscv_ref_reads = 0;
    for (unsigned i = 0; i < ADDRS; i++) {
        req.tr.iova = va[i];
        iommu_translate_iova(&iommu, &req, &rsp);
    }
    double reads_per = (double)riscv_ref_reads / ADDRS;
    double samples[RISCV_REF_RUNS], fastest;
    for (int run = 0; run < RISCV_REF_RUNS; run++) {
        double t0 = riscv_ref_now_ns();
        for (long i = 0; i < iters; i++) {
            req.tr.iova = va[i & (ADDRS - 1)];
            iommu_translate_iova(&iommu, &req, &rsp);
            sink += rsp.trsp.PPN;
        }
        samples[run] = (riscv_ref_now_ns() - t0) / (double)iters;
    }
    double med = riscv_ref_median(samples, &fastest);
    printf("riscv-iommu ref model, nested Sv48 over Sv48x4, IOTLB miss: %.1f ns median (min %.1f), "
           "%.2f M/s, %.1f memory reads per translation (checksum %" PRIu64 ")\n",
           med, fastest, 1e3 / med, reads_per, sink);
    return 0;
}
