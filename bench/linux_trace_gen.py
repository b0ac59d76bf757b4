#!/usr/bin/env python3
"""A long Linux IOMMU trace in /sys/kernel/tracing/trace's text format, for timing
`vtdsim trace import linux` and the audited replay (docs/performance.md, "The audit").

Two DMA-API domains (DIDs 4 and 5) on two CPUs map a 4 KiB page, unmap it and flush it
page-selectively, as Linux 6.1 does in strict mode, over a ring of IOVAs per domain.
Usage: linux_trace_gen.py LINES OUT
"""
import sys


def main():
    lines, out = int(sys.argv[1]), sys.argv[2]
    ring = 256
    with open(out, "w") as f:
        f.write("# tracer: nop\n")
        n, t = 0, 0
        while n < lines:
            for did, cpu in ((4, 0), (5, 1)):
                k = (n // 6) % ring
                iova = 0xFFFFF000 - k * 0x1000
                pa = 0x3000000 + k * 0x1000
                ts = "%d.%06d" % (t // 1000000, t % 1000000)
                pre = "        kworker-37      [%03d] d..1. %12s: " % (cpu, ts)
                f.write(pre + "map: IOMMU: iova=0x%016x - 0x%016x paddr=0x%016x size=4096\n" % (iova, iova + 0x1000, pa))
                f.write(pre + "unmap: IOMMU: iova=0x%016x - 0x%016x size=4096 unmapped_size=4096\n" % (iova, iova + 0x1000))
                f.write(pre + "qi_submit: iotlb_inv dmar0: 0x%x 0x%x 0x0 0x0\n" % (did << 16 | 0xF2, iova))
                n += 3
                t += 7


if __name__ == "__main__":
    main()
