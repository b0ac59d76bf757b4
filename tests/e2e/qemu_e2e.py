#!/usr/bin/env python3
"""End to end against QEMU and Linux: does vtdsim translate a real guest's tables as QEMU does?

Boots Debian's kernel under QEMU (TCG) with QEMU's VT-d model in front of two DMA-capable
virtio devices (iommu_platform=on, so Linux maps every buffer through the IOMMU), makes disk
and network DMA in a busybox initramfs, stops the VM over QMP, dumps guest memory as an ELF
core, and checks that `vtdsim inspect ... translate --batch` gives, for every (device, IOVA)
QEMU translated (its vtd_dmar_translate trace events) that is still mapped with the same leaf
entry, QEMU's output address, page size and permissions.

With --intremap QEMU's model also remaps interrupts (intremap=on) and traces it (vtd_ir_*): for
every interrupt index QEMU remapped whose IRTE the dump still holds as QEMU read it, a scenario
over the same dump (`irt` at the IRTA QEMU latched, one `interrupt` step per MSI address and
data) must give QEMU's vector, destination, trigger, delivery and destination modes.

Usage: qemu_e2e.py VTDSIM [--mode scalable|legacy] [--intremap] [--work DIR] [--keep]
Exit status: 0 all compared pairs agree, 1 a disagreement or a failed step, 77 the tools are
missing (qemu-system-x86_64, a static busybox, a kernel image with its modules; Debian's
qemu-system-x86, busybox-static, linux-image-amd64), 1 then too with VTDSIM_REQUIRE_E2E set.
"""
import argparse
import glob
import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
# Module load order: each after the modules it needs (modinfo -F depends).
MODULES = ["virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci",
           "virtio_blk", "failover", "net_failover", "virtio_net"]
READY = "E2E-READY"

INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in %(modules)s; do insmod /lib/modules/$m.ko || echo "e2e: insmod $m failed"; done
# The DMAR line gives CAP and ECAP (vtdsim inspect --dmesg).
dmesg | grep -E 'DMAR: dmar[0-9]+: reg_base_addr' | sed 's/^/e2e-dmesg: /'
echo "e2e: block devices: $(ls /sys/block)"
dd if=/dev/vda of=/dev/null bs=64k count=64 2>/dev/null && echo "e2e: disk read"
dd if=/dev/urandom of=/dev/vda bs=4k count=16 seek=100 conv=fsync 2>/dev/null && echo "e2e: disk write"
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ping -c 2 -W 1 10.0.2.2 >/dev/null 2>&1
echo "e2e: network done"
# DMA in flight while the host stops the VM: the buffers mapped at that moment are the pairs
# that can be compared (the DMA API unmaps every buffer after use).
(while true; do dd if=/dev/vda of=/dev/null bs=1M count=8 iflag=direct 2>/dev/null; done) &
(while true; do ping -c 1 -s 1400 -W 1 10.0.2.2 >/dev/null 2>&1; done) &
sleep 1
echo %(ready)s
while true; do sleep 10; done
"""


def say(msg):
    print("qemu_e2e: " + msg, flush=True)


def find_tools():
    """The kernel, its modules, busybox and QEMU, or None with the reason."""
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        return None, "qemu-system-x86_64 not found (Debian: qemu-system-x86)"
    busybox = "/bin/busybox"
    if not is_static(busybox):
        return None, "no static busybox at /bin/busybox (Debian: busybox-static)"
    kernels = sorted(glob.glob("/boot/vmlinuz-*"))
    for k in reversed(kernels):
        ver = os.path.basename(k)[len("vmlinuz-"):]
        mods = "/lib/modules/" + ver
        if os.path.isdir(mods):
            return {"qemu": qemu, "busybox": busybox, "kernel": k, "modules": mods, "version": ver}, None
    return None, "no /boot/vmlinuz-* with its /lib/modules (Debian: linux-image-amd64)"


def is_static(path):
    """No PT_INTERP program header: a static ELF executable (when file(1) is absent)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return head[:4] == b"\x7fELF" and b"/lib64/ld-linux" not in head and b"/lib/ld-linux" not in head


def cpio_newc(entries):
    """A newc cpio archive of (name, mode, data) entries (directories have data None)."""
    out = bytearray()
    ino = 1

    def add(name, mode, data):
        nonlocal ino
        data = data or b""
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join("%08X" % v for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0))
        out.extend(hdr.encode() + nb)
        out.extend(b"\0" * ((4 - len(out) % 4) % 4))
        out.extend(data)
        out.extend(b"\0" * ((4 - len(out) % 4) % 4))
        ino += 1

    for name, mode, data in entries:
        add(name, mode, data)
    add("TRAILER!!!", 0, None)
    return bytes(out)


def module_file(modroot, name):
    hits = glob.glob(os.path.join(modroot, "kernel", "**", name + ".ko"), recursive=True)
    return hits[0] if hits else None


def build_initramfs(tools, work):
    entries = [(d, 0o40755, None) for d in ("bin", "proc", "sys", "dev", "lib", "lib/modules")]
    with open(tools["busybox"], "rb") as f:
        entries.append(("bin/busybox", 0o100755, f.read()))
    present = []
    for m in MODULES:
        path = module_file(tools["modules"], m)
        if not path:
            continue  # built into this kernel
        with open(path, "rb") as f:
            entries.append(("lib/modules/%s.ko" % m, 0o100644, f.read()))
        present.append(m)
    init = INIT % {"modules": " ".join(present), "ready": READY}
    entries.append(("init", 0o100755, init.encode()))
    path = os.path.join(work, "initrd.gz")
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(cpio_newc(entries))
    return path


class Qmp:
    def __init__(self, path, deadline):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        while True:
            try:
                self.sock.connect(path)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        self.buf = b""
        self.read()  # greeting
        self.cmd("qmp_capabilities")

    def read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("QMP connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, **args):
        self.sock.sendall(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
        while True:
            msg = self.read()
            if "return" in msg:
                return msg["return"]
            if "error" in msg:
                raise RuntimeError("QMP %s: %s" % (name, msg["error"]))


def run_guest(tools, work, mode, timeout, intremap=False):
    disk = os.path.join(work, "disk.img")
    with open(disk, "wb") as f:
        f.write(os.urandom(8 << 20))
    initrd = build_initramfs(tools, work)
    qmp_path = os.path.join(work, "qmp.sock")
    console = os.path.join(work, "console.log")
    trace = os.path.join(work, "qemu-trace.log")
    iommu = "intel-iommu,aw-bits=48" + (",x-scalable-mode=on" if mode == "scalable" else "")
    iommu += ",intremap=on" if intremap else ""
    # no_timer_check: under a loaded TCG host the IO-APIC timer test can miss its window, and with
    # interrupt remapping on, Linux panics instead of falling back.
    cmdline = "console=ttyS0 panic=-1 loglevel=7 no_timer_check iommu.strict=1 " + (
        "intel_iommu=on,sm_on" if mode == "scalable" else "intel_iommu=on,sm_off")
    argv = [tools["qemu"], "-machine", "q35", "-accel", "tcg", "-m", "256M", "-smp", "1",
            "-display", "none", "-serial", "file:" + console, "-no-reboot",
            "-qmp", "unix:%s,server=on,wait=off" % qmp_path,
            "-device", iommu, "-kernel", tools["kernel"], "-initrd", initrd, "-append", cmdline,
            "-drive", "file=%s,if=none,id=d0,format=raw" % disk,
            "-device", "virtio-blk-pci,drive=d0,iommu_platform=on,disable-legacy=on",
            "-netdev", "user,id=n0",
            "-device", "virtio-net-pci,netdev=n0,iommu_platform=on,disable-legacy=on",
            "-trace", "vtd_dmar_translate", "-trace", "vtd_iotlb_page_update",
            "-trace", "vtd_iotlb_page_hit", "-trace", "vtd_reg_dmar_root", "-D", trace]
    if intremap:
        argv[-2:-2] = ["-trace", "vtd_ir_*", "-trace", "vtd_reg_ir_root"]
    say("booting %s under QEMU (TCG, %s mode)" % (tools["kernel"], mode))
    start = time.time()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "qemu.err"), "w"))
    try:
        qmp = Qmp(qmp_path, start + 30)
        while True:
            text = open(console, errors="replace").read() if os.path.exists(console) else ""
            if READY in text:
                break
            if proc.poll() is not None:
                raise RuntimeError("QEMU exited (%d) before the guest was ready; see %s" % (proc.returncode, console))
            if time.time() - start > timeout:
                raise RuntimeError("the guest was not ready after %d s; see %s" % (timeout, console))
            time.sleep(0.5)
        say("guest ready after %.1f s; stopping it and dumping its memory" % (time.time() - start))
        qmp.cmd("stop")
        image = os.path.join(work, "guest.elf")
        qmp.cmd("dump-guest-memory", paging=False, protocol="file:" + image)
        qmp.cmd("quit")
    finally:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return image, console, trace


TRANSLATE = re.compile(r"vtd_dmar_translate dev ([0-9a-f]{2}):([0-9a-f]{2})\.([0-9a-f]{2}) "
                       r"iova 0x([0-9a-f]+) -> gpa 0x([0-9a-f]+) mask 0x([0-9a-f]+)")
SLPTE = re.compile(r"vtd_iotlb_page_(?:update|hit) .*sid 0x([0-9a-f]+) iova 0x([0-9a-f]+) slpte 0x([0-9a-f]+)")
ROOT = re.compile(r"vtd_reg_dmar_root addr 0x([0-9a-f]+) scalable (\d)")


def parse_trace(path):
    """The last translation QEMU made per (sid, IOVA page), with the leaf entry it used."""
    last, slpte, rtaddr = {}, {}, None
    with open(path, errors="replace") as f:
        for line in f:
            m = SLPTE.search(line)
            if m:
                sid, iova, pte = (int(x, 16) for x in m.groups())
                slpte[(sid, iova & ~0xfff)] = pte
                continue
            m = TRANSLATE.search(line)
            if m:
                bus, dev, fn, iova, gpa, mask = (int(x, 16) for x in m.groups())
                sid = bus << 8 | dev << 3 | fn
                # The leaf entry QEMU used: from the fill or hit just before, keyed by 4 KiB page.
                pte = slpte.get((sid, iova & ~0xfff))
                last[(sid, iova)] = (gpa, mask + 1, pte)
                continue
            m = ROOT.search(line)
            if m:
                rtaddr = int(m.group(1), 16) | (int(m.group(2)) << 10)
    return last, rtaddr


IR_ROOT = re.compile(r"vtd_reg_ir_root addr 0x([0-9a-f]+) size 0x([0-9a-f]+)")
IR_REQ = re.compile(r"vtd_ir_remap_msi_req addr 0x([0-9a-f]+) data 0x([0-9a-f]+)")
IR_IRTE = re.compile(r"vtd_ir_irte_get index (\d+) low 0x([0-9a-f]+) high 0x([0-9a-f]+)")
IR_REMAP = re.compile(r"vtd_ir_remap index (\d+) trigger (\d+) vector (\d+) deliver (\d+) dest 0x([0-9a-f]+) mode (\d+)")


def parse_ir_trace(path):
    """QEMU's last remapping per interrupt index: the MSI address and data, the IRTE it read
    and what it delivered; and the interrupt-remapping table it latched (address, entries)."""
    last, root, req, irte = {}, None, None, None
    with open(path, errors="replace") as f:
        for line in f:
            m = IR_ROOT.search(line)
            if m:
                root = (int(m.group(1), 16), int(m.group(2), 16))
                continue
            m = IR_REQ.search(line)
            if m:
                req, irte = (int(m.group(1), 16), int(m.group(2), 16)), None
                continue
            m = IR_IRTE.search(line)
            if m:
                # QEMU passes the entry's qwords to this event high first: its "low" is bits
                # 127:64 (SID, SQ, SVT), its "high" bits 63:0 (P, vector, destination).
                irte = (int(m.group(1)), int(m.group(3), 16), int(m.group(2), 16))
                continue
            m = IR_REMAP.search(line)
            if m and req and irte and irte[0] == int(m.group(1)):
                index, tri, vec, dlm, dest, dm = (int(m.group(i), 16 if i == 5 else 10) for i in range(1, 7))
                last[index] = {"addr": req[0], "data": req[1], "lo": irte[1], "hi": irte[2],
                               "trigger": tri, "vector": vec, "delivery": dlm, "dest": dest, "dest_mode": dm}
                req = irte = None
    return last, root


def ir_scenario(image, root, events, core):
    """A scenario over the dump: the table QEMU latched, one interrupt per index whose IRTE the
    dump still holds as QEMU read it, each expecting QEMU's answer. Returns (text, compared, changed)."""
    devices, steps, compared, changed = {}, [], 0, 0
    for index in sorted(events):
        ev = events[index]
        at = root[0] + 16 * index
        if core.read64(at) != ev["lo"] or core.read64(at + 8) != ev["hi"]:
            changed += 1  # rewritten since QEMU's remapping (affinity change, teardown)
            continue
        # The requester the IRTE validates (SVT 01b: its SID; 10b: the first bus of its range).
        sid, svt = ev["hi"] & 0xffff, (ev["hi"] >> 18) & 3
        sid = sid if svt == 1 else (sid & 0xff00) if svt == 2 else 0
        name = devices.setdefault(sid, "d%d" % len(devices))
        steps.append("  - interrupt: {device: %s, addr: 0x%x, data: 0x%x, expect: {vector: %d, destination: 0x%x, "
                     "trigger: %d, delivery: %d, dest_mode: %d, remapped: true}}"
                     % (name, ev["addr"], ev["data"], ev["vector"], ev["dest"], ev["trigger"], ev["delivery"],
                        ev["dest_mode"]))
        compared += 1
    text = ["name: e2e-intremap", "description: QEMU's interrupt remappings against vtdsim's over the same dump",
            "iommu: {caps: {ir: true}}", "memory: {image: %s, format: elf}" % image, "devices:"]
    text += ['  - {name: %s, bdf: "%s"}' % (n, bdf(s)) for s, n in devices.items()]
    text += ["steps:", "  - irt: {addr: 0x%x, entries: %d}" % root] + steps
    return "\n".join(text) + "\n", compared, changed


def compare_interrupts(vtdsim, image, trace, work):
    """0 when vtdsim remaps every comparable interrupt as QEMU did, 1 otherwise."""
    events, root = parse_ir_trace(trace)
    if root is None or not events:
        say("FAIL: QEMU remapped no interrupt (no vtd_reg_ir_root / vtd_ir_remap events)")
        return 1
    text, compared, changed = ir_scenario(image, root, events, ElfCore(image))
    path = os.path.join(work, "intremap.yaml")
    with open(path, "w") as f:
        f.write(text)
    say("QEMU remapped %d interrupt indices (IRT 0x%x, %d entries); %d still as QEMU read them, %d rewritten since"
        % (len(events), root[0], root[1], compared, changed))
    if not compared:
        say("FAIL: no IRTE was left as QEMU read it, nothing was compared")
        return 1
    res = subprocess.run([vtdsim, "run", path], capture_output=True, text=True)
    say(res.stdout.strip().splitlines()[-1] if res.stdout.strip() else "vtdsim run said nothing")
    if res.returncode:
        say("FAIL: vtdsim disagrees with QEMU:\n" + res.stdout + res.stderr)
        return 1
    # The comparison can fail: one expectation moved by one vector must be reported.
    with open(path, "w") as f:
        f.write(re.sub(r"vector: (\d+)", lambda m: "vector: %d" % ((int(m.group(1)) + 1) % 256), text, count=1))
    if subprocess.run([vtdsim, "run", path], capture_output=True, text=True).returncode == 0:
        say("FAIL: self-check: a wrong vector was not reported")
        return 1
    say("self-check: a wrong QEMU vector is reported")
    return 0


def bdf(sid):
    return "%02x:%02x.%x" % (sid >> 8, (sid >> 3) & 0x1f, sid & 7)


class ElfCore:
    """Guest-physical reads from an ELF core's PT_LOAD segments (what dump-guest-memory writes)."""

    def __init__(self, path):
        self.f = open(path, "rb")
        eh = self.f.read(64)
        if eh[:4] != b"\x7fELF" or eh[4] != 2:
            raise RuntimeError("%s is not an ELF64 core" % path)
        phoff = int.from_bytes(eh[32:40], "little")
        phentsize = int.from_bytes(eh[54:56], "little")
        phnum = int.from_bytes(eh[56:58], "little")
        self.loads = []
        for i in range(phnum):
            self.f.seek(phoff + i * phentsize)
            ph = self.f.read(56)
            if int.from_bytes(ph[0:4], "little") == 1:  # PT_LOAD
                off, paddr, filesz = (int.from_bytes(ph[a:a + 8], "little") for a in (8, 24, 32))
                self.loads.append((paddr, filesz, off))

    def read64(self, pa):
        for paddr, size, off in self.loads:
            if paddr <= pa and pa + 8 <= paddr + size:
                self.f.seek(off + pa - paddr)
                return int.from_bytes(self.f.read(8), "little")
        return None


def compare(vtdsim, image, console, last, rtaddr, work):
    batch = os.path.join(work, "requests.txt")
    keys = sorted(last)
    with open(batch, "w") as f:
        for sid, iova in keys:
            f.write("%s - 0x%x r\n" % (bdf(sid), iova))
    argv = [vtdsim, "inspect", "--format", "elf", "--rtaddr", "0x%x" % rtaddr, "--dmesg", console,
            image, "translate", "--batch", batch, "--json"]
    say(" ".join(argv))
    res = subprocess.run(argv, capture_output=True, text=True)
    if res.returncode not in (0, 1):
        raise RuntimeError("vtdsim inspect failed (%d): %s" % (res.returncode, res.stderr.strip()))
    answers = [json.loads(l) for l in res.stdout.splitlines() if l.strip()]
    if len(answers) != len(keys):
        raise RuntimeError("vtdsim answered %d of %d requests" % (len(answers), len(keys)))
    core = ElfCore(image)
    compared = unmapped = remapped = 0
    bad, seen = [], []
    for (sid, iova), ans in zip(keys, answers):
        gpa, size, pte = last[(sid, iova)]
        if ans.get("fault"):
            unmapped += 1  # unmapped since QEMU's translation (the DMA API unmaps after use)
            continue
        leaf_addr = ans.get("leaf_entry")
        leaf = core.read64(int(leaf_addr, 0)) if leaf_addr else None
        if leaf is not None and pte is not None and leaf != pte:
            remapped += 1  # the IOVA was mapped again since, to another page or with other rights
            continue
        compared += 1
        seen.append((sid, iova))
        out = int(str(ans["out"]), 0)
        psize = int(str(ans["page_size"]), 0)
        want_out = gpa + (iova & (size - 1))
        perm = ans.get("perm", "")
        problems = []
        if out != want_out:
            problems.append("output 0x%x, QEMU 0x%x" % (out, want_out))
        if psize != size:
            problems.append("page size 0x%x, QEMU 0x%x" % (psize, size))
        if pte is not None:
            for bit, letter in ((0, "r"), (1, "w")):
                if bool(pte >> bit & 1) != (letter in perm.lower()):
                    problems.append("permission %s: vtdsim %r, QEMU's leaf 0x%x" % (letter, perm, pte))
        if problems:
            bad.append("%s iova 0x%x: %s" % (bdf(sid), iova, "; ".join(problems)))
    return compared, unmapped, remapped, bad, seen


def check_catches_a_wrong_answer(vtdsim, image, console, last, rtaddr, work, key):
    """The comparison can fail: QEMU's answer for one compared pair, moved by a page, must be
    the one disagreement found."""
    gpa, size, pte = last[key]
    _, _, _, bad, _ = compare(vtdsim, image, console, {key: (gpa + 0x1000, size, pte)}, rtaddr, work)
    if len(bad) == 1 and "output" in bad[0]:
        say("self-check: a wrong QEMU answer is reported (%s)" % bad[0])
        return 0
    say("FAIL: self-check expected one output disagreement, got %r" % bad)
    return 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vtdsim")
    ap.add_argument("--mode", choices=("scalable", "legacy"), default="scalable")
    ap.add_argument("--work")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--intremap", action="store_true")
    ap.add_argument("--timeout", type=int, default=240)
    args = ap.parse_args()
    tools, why = find_tools()
    if not tools:
        # CI installs the tools: there a missing one is a failure, not a skip.
        required = os.environ.get("VTDSIM_REQUIRE_E2E")
        say(("FAIL: " if required else "skipped: ") + why)
        return 1 if required else SKIP
    work = args.work or tempfile.mkdtemp(prefix="vtdsim-e2e-")
    os.makedirs(work, exist_ok=True)
    try:
        image, console, trace = run_guest(tools, work, args.mode, args.timeout, args.intremap)
        last, rtaddr = parse_trace(trace)
        if rtaddr is None:
            raise RuntimeError("QEMU's trace has no root-table latch (vtd_reg_dmar_root)")
        if not last:
            raise RuntimeError("QEMU translated nothing (no vtd_dmar_translate events)")
        say("QEMU translated %d distinct (device, IOVA) pairs; root table 0x%x" % (len(last), rtaddr))
        compared, unmapped, remapped, bad, seen = compare(args.vtdsim, image, console, last, rtaddr, work)
        say("compared %d pairs still mapped (%d unmapped since, %d mapped again since): %d disagree"
            % (compared, unmapped, remapped, len(bad)))
        for b in bad[:20]:
            say("  " + b)
        if compared == 0:
            say("FAIL: no pair was still mapped, nothing was compared")
            return 1
        if bad:
            return 1
        rc = check_catches_a_wrong_answer(args.vtdsim, image, console, last, rtaddr, work, seen[0])
        if rc or not args.intremap:
            return rc
        return compare_interrupts(args.vtdsim, image, trace, work)
    except (RuntimeError, OSError) as e:
        say("FAIL: %s (files in %s)" % (e, work))
        args.keep = True
        return 1
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(main())
