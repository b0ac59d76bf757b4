#!/usr/bin/env python3
"""Capture a Linux guest's IOMMU trace events under QEMU's intel-iommu (a manual step).

Boots Debian's kernel under QEMU (TCG) as tests/e2e/qemu_e2e.py does (two virtio devices with
iommu_platform=on behind QEMU's VT-d model, a busybox initramfs), with the iommu and
intel_iommu trace events enabled from boot (trace_event= on the kernel command line), makes
disk and network DMA, waits for the lazy flush queue to drain, and copies
/sys/kernel/tracing/trace out through a second serial port. The header written in front of the
trace says where it came from (kernel, command line, QEMU, which events the kernel has).

With --check VTDSIM it then imports the capture (`vtdsim trace import linux`) and replays it
with the audit: the kernel's own trace must give no finding, and the same trace without the
first flush that follows an unmap exactly one, "never invalidated", at that unmap's IOVA.

Usage: capture_linux_trace.py OUT [--strict 1|0] [--mode scalable|legacy] [--ats] [--no-caching-mode]
                              [--check VTDSIM] [--work DIR]
Exit status: 0 captured (and checked), 1 a failed step or check, 77 the tools are missing.
"""
import argparse
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu_e2e  # noqa: E402  (its tool discovery and initramfs helpers)

DONE = "CAPTURE-DONE"

INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
for m in %(modules)s; do insmod /lib/modules/$m.ko || echo "capture: insmod $m failed"; done
T=/sys/kernel/tracing
echo "capture: events: $(ls $T/events/iommu | tr '\\n' ' ') / $(ls $T/events/intel_iommu 2>/dev/null | tr '\\n' ' ')"
dd if=/dev/vda of=/dev/null bs=64k count=16 2>/dev/null && echo "capture: disk read"
dd if=/dev/urandom of=/dev/vda bs=4k count=8 seek=100 conv=fsync 2>/dev/null && echo "capture: disk write"
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ping -c 2 -W 1 10.0.2.2 >/dev/null 2>&1
echo "capture: network done"
# Let the lazy mode's flush queue (a 10 ms timer) drain, so the trace ends quiet.
sleep 2
echo 0 > $T/tracing_on
{ echo "# kernel: $(uname -r) ($(uname -v))"; echo "# cmdline: $(cat /proc/cmdline)";
  echo "# events: $(ls $T/events/iommu | tr '\\n' ' ')/ $(ls $T/events/intel_iommu 2>/dev/null | tr '\\n' ' ')";
  cat $T/trace; echo "# %(done)s"; } > /dev/ttyS1
echo %(done)s
poweroff -f
"""


def build_initramfs(tools, work):
    entries = [(d, 0o40755, None) for d in ("bin", "proc", "sys", "dev", "lib", "lib/modules")]
    with open(tools["busybox"], "rb") as f:
        entries.append(("bin/busybox", 0o100755, f.read()))
    present = []
    for m in qemu_e2e.MODULES:
        path = qemu_e2e.module_file(tools["modules"], m)
        if path:
            with open(path, "rb") as f:
                entries.append(("lib/modules/%s.ko" % m, 0o100644, f.read()))
            present.append(m)
    init = INIT % {"modules": " ".join(present), "done": DONE}
    entries.append(("init", 0o100755, init.encode()))
    path = os.path.join(work, "initrd.gz")
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(qemu_e2e.cpio_newc(entries))
    return path


def audit(vtdsim, text, work, name):
    """Import a trace's text and replay it with the audit: (exit status, output)."""
    src, out = os.path.join(work, name + ".txt"), os.path.join(work, name + ".bin")
    with open(src, "w") as f:
        f.write(text)
    imp = subprocess.run([vtdsim, "trace", "import", "linux", src, "-o", out], capture_output=True, text=True)
    if imp.returncode:
        raise RuntimeError("import failed: " + imp.stderr.strip())
    print("capture: " + imp.stdout.strip().replace("\n", "\ncapture: "), flush=True)
    rep = subprocess.run([vtdsim, "trace", "replay", out, "--audit"], capture_output=True, text=True)
    return rep.returncode, rep.stdout


def check(vtdsim, text, work):
    """The kernel's trace is clean; without one flush after an unmap, that one is found."""
    rc, out = audit(vtdsim, text, work, "kernel")
    if rc or "audit: 0 findings" not in out:
        print("capture: FAIL: findings on the kernel's own trace:\n" + out)
        return 1
    lines = text.splitlines(True)
    cut = next((i for i in range(1, len(lines)) if " unmap: " in lines[i - 1]
                and "qi_submit: iotlb_inv" in lines[i]), None)
    if cut is None:
        print("capture: FAIL: no flush right after an unmap in the capture")
        return 1
    iova = int(re.search(r"iova=0x([0-9a-f]+)", lines[cut - 1]).group(1), 16)
    rc, out = audit(vtdsim, "".join(lines[:cut] + lines[cut + 1:]), work, "cut")
    want = "never invalidated: DID %d 0x%x-" % (int(lines[cut].split(": ")[-1].split()[0], 16) >> 16 & 0xFFFF, iova)
    if rc != 1 or "audit: 1 finding " not in out or want not in out:
        print("capture: FAIL: without line %d (%s) expected one finding '%s...':\n%s"
              % (cut + 1, lines[cut].strip(), want, out))
        return 1
    print("capture: the kernel's trace is clean; without its flush at line %d the audit reports %s"
          % (cut + 1, next(l.strip() for l in out.splitlines() if "never invalidated:" in l)), flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--strict", choices=("0", "1"), default="1")
    ap.add_argument("--mode", choices=("scalable", "legacy"), default="scalable")
    ap.add_argument("--ats", action="store_true", help="the network device with ATS (device-iotlb=on)")
    ap.add_argument("--no-caching-mode", action="store_true",
                    help="CAP.CM off: Linux then flushes nothing after a map, and map events carry no domain")
    ap.add_argument("--check", metavar="VTDSIM", help="import and audit the capture with this vtdsim")
    ap.add_argument("--work")
    ap.add_argument("--timeout", type=int, default=600)
    args = ap.parse_args()
    tools, why = qemu_e2e.find_tools()
    if not tools:
        print("capture: skipped: " + why)
        return 77
    work = args.work or tempfile.mkdtemp(prefix="vtdsim-capture-")
    os.makedirs(work, exist_ok=True)
    disk = os.path.join(work, "disk.img")
    with open(disk, "wb") as f:
        f.write(os.urandom(8 << 20))
    initrd = build_initramfs(tools, work)
    console = os.path.join(work, "console.log")
    raw = os.path.join(work, "trace.txt")
    iommu = "intel-iommu,aw-bits=48" + (",x-scalable-mode=on" if args.mode == "scalable" else "")
    iommu += ",device-iotlb=on" if args.ats else ""
    # Caching mode makes Linux invalidate after every map (6.1 iommu.c __mapping_notify_one), and
    # that descriptor's DID is what ties a map event, which names no domain, to its domain.
    iommu += "" if args.no_caching_mode else ",caching-mode=on"
    cmdline = ("console=ttyS0 panic=-1 loglevel=7 no_timer_check iommu.strict=%s %s "
               "trace_event=iommu:*,intel_iommu:* trace_buf_size=4M"
               % (args.strict, "intel_iommu=on,sm_on" if args.mode == "scalable" else "intel_iommu=on,sm_off"))
    argv = [tools["qemu"], "-machine", "q35", "-accel", "tcg", "-m", "256M", "-smp", "1",
            "-display", "none", "-serial", "file:" + console, "-serial", "file:" + raw, "-no-reboot",
            "-device", iommu, "-kernel", tools["kernel"], "-initrd", initrd, "-append", cmdline,
            "-drive", "file=%s,if=none,id=d0,format=raw" % disk,
            "-device", "virtio-blk-pci,drive=d0,iommu_platform=on,disable-legacy=on",
            "-netdev", "user,id=n0",
            "-device", "virtio-net-pci,netdev=n0,iommu_platform=on,disable-legacy=on"
            + (",ats=on" if args.ats else "")]
    print("capture: " + " ".join(argv), flush=True)
    start = time.time()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "qemu.err"), "w"))
    try:
        proc.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        print("capture: FAIL: no power-off after %d s; see %s" % (args.timeout, work))
        return 1
    text = open(raw, errors="replace").read() if os.path.exists(raw) else ""
    if DONE not in text:
        print("capture: FAIL: the trace was not copied out; see %s" % console)
        return 1
    qver = subprocess.run([tools["qemu"], "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    with open(args.out, "w") as f:
        f.write("# captured by tests/e2e/capture_linux_trace.py under %s (TCG, intel-iommu %s%s)\n"
                % (qver, args.mode, ", ATS on virtio-net" if args.ats else ""))
        f.write(text.replace("\r", ""))
    print("capture: %s written after %.0f s" % (args.out, time.time() - start))
    rc = 0
    if args.check:
        try:
            rc = check(args.check, open(args.out).read(), work)
        except (RuntimeError, OSError) as e:
            print("capture: FAIL: %s" % e)
            rc = 1
    if not args.work and not rc:
        shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
