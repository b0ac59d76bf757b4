/*
 * riscv_iotlb_hit.c: times the RISC-V IOMMU reference model (github.com/riscv-non-isa/riscv-iommu,
 * iommu_ref_model/) answering one repeated page from its IOATC, so that bench_iotlb's "iotlb
 * hit" row is compared with a figure measured on the same machine in the same run. Not part of
 * the build: scripts/bench-riscv-ref.sh compiles it against a checkout of that repository, as
 * it does riscv_nested_miss.c, with the same set-up (riscv_ref.h: Sv48 over Sv48x4, A/D set, a
 * device context the model keeps cached).
 *
 * The IOVA never changes, so after the first translation every request is an IOATC hit: the
 * device-context lookup and the IOATC lookup, no page-table read. The harness counts the
 * memory reads of a timed pass (through -Wl,--wrap=read_memory) and says so if any happened.
 */
#include "riscv_ref.h"

#define IOVA (UINT64_C(1) << 30)
#define GPA UINT64_C(0x1800000)

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 2000000;
    static iommu_t iommu;
    device_context_t dc;
    if (riscv_ref_setup(&iommu, &dc) || riscv_ref_map(&iommu, &dc, IOVA, GPA)) {
        fprintf(stderr, "riscv_iotlb_hit: set-up failed\n");
        return 1;
    }
    hb_to_iommu_req_t req = riscv_ref_read(IOVA | 0x40);
    iommu_to_hb_rsp_t rsp;
    iommu_translate_iova(&iommu, &req, &rsp); /* fills the IOATC */
    if (rsp.status != SUCCESS) {
        fprintf(stderr, "riscv_iotlb_hit: translation failed (status %d)\n", rsp.status);
        return 1;
    }
    uint64_t sink = 0;
    double samples[RISCV_REF_RUNS], fastest;
    riscv_ref_reads = 0;
    for (int run = 0; run < RISCV_REF_RUNS; run++) {
        double t0 = riscv_ref_now_ns();
        for (long i = 0; i < iters; i++) {
            iommu_translate_iova(&iommu, &req, &rsp);
            sink += rsp.trsp.PPN;
        }
        samples[run] = (riscv_ref_now_ns() - t0) / (double)iters;
    }
    if (riscv_ref_reads) {
        fprintf(stderr, "riscv_iotlb_hit: %" PRIu64 " memory reads in the timed runs: not all hits\n",
                riscv_ref_reads);
        return 1;
    }
    double med = riscv_ref_median(samples, &fastest);
    printf("riscv-iommu ref model, IOATC hit (one page repeated): %.1f ns median (min %.1f), %.2f M/s, "
           "0 memory reads (checksum %" PRIu64 ")\n",
           med, fastest, 1e3 / med, sink);
    return 0;
}
