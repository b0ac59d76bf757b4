#!/usr/bin/env python3
"""DMA from outside an unmodified program: run vmm_pause under the preload library with
VTDSIM_SOCKET, and at each of its pauses make the simulated device read and write through the
socket, checking every answer line.

Usage: dma_client.py LIBRARY PROGRAM MACHINE clean|stale|notsocket|bench [N]
  clean: the device's write lands in the program's memory; after the guest's unmap and the VMM's
         invalidation the read faults; the report has no finding; the socket file is gone after
  stale: the bug twin: the read after the unmap is served stale and the report names it
  notsocket: a regular file at the socket's path is refused (and left alone): the program fails
  bench: N round trips of a refused line and of a read line with their answers, timed
         (microseconds per line; not a test: docs/performance.md)
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

lib, prog, machine, want = sys.argv[1:5]
WRITE = "dma nic0 pasid=5 write 0x400000 value=0x1122334455667788\n"
READ = "dma nic0 pasid=5 read 0x400000\n"


def fail(why):
    print("dma_client.py: " + why)
    sys.exit(1)


class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(30)
        self.s.connect(path)
        self.f = self.s.makefile("rb")

    def ask(self, line):
        self.s.sendall(line.encode())
        answer = self.f.readline().decode()
        if not answer.endswith("\n"):
            fail("no answer line to %r" % line)
        print("%s-> %s" % (line, answer), end="")
        return answer.rstrip("\n")

    def close(self):
        self.f.close()
        self.s.close()


def pause(proc, name):
    line = proc.stdout.readline().decode()
    print("program: " + line, end="")
    if not line.startswith("paused " + name + " "):
        fail("expected the program's pause %r, got %r" % (name, line))
    return line.split("data=")[1].strip()


def main():
    tmp = tempfile.mkdtemp()
    sock = os.path.join(tmp, "dma.sock")
    report = os.path.join(tmp, "report")
    env = dict(os.environ, VTDSIM_MACHINE=machine, VTDSIM_REPORT=report, VTDSIM_SOCKET=sock, LD_PRELOAD=lib)
    env["ASAN_OPTIONS"] = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"), "verify_asan_link_order=0"]))
    if want == "notsocket":
        with open(sock, "w") as f:
            f.write("not a socket\n")
    err = open(os.path.join(tmp, "err"), "w+")
    proc = subprocess.Popen([prog], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=env)
    if want == "notsocket":
        rc = proc.wait(60)
        err.seek(0)
        text = err.read()
        print(text, end="")
        if rc == 0:
            fail("the program ran with a regular file at the socket's path")
        if "exists and is not a socket; not replacing it" not in text:
            fail("no word of the refused path")
        if open(sock).read() != "not a socket\n":
            fail("the regular file was changed")
        print("dma_client.py: notsocket as expected")
        return
    pause(proc, "mapped")  # the machine exists and its socket listens from the program's first open
    c = Client(sock)
    if want == "bench":
        c.ask(WRITE)
        n = int(sys.argv[5])
        # A line the library refuses (no DMA: the socket, the thread and the lock alone), then a
        # read (the DMA carries the program's mapped memory in and out).
        for what, line in (("refused line", "dma nosuch read 0x0\n"), ("dma read line", READ)):
            t0 = time.perf_counter()
            for _ in range(n):
                c.s.sendall(line.encode())
                c.f.readline()
            us = (time.perf_counter() - t0) * 1e6 / n
            print("socket round trip of one %s: %.1f us (%d lines)" % (what, us, n))
    else:
        first = c.ask(WRITE)
        if not first.startswith("ok out=0x"):
            fail("the device's write: " + first)
        if not c.ask("dma nosuch read 0x0\n").startswith("error: no such device"):
            fail("a line naming no device was not refused")
        back = c.ask(READ)
        if not (back.startswith("ok ") and "value=0x1122334455667788" in back and "stale" not in back):
            fail("the device's read-back: " + back)
    proc.stdin.write(b"\n")
    proc.stdin.flush()
    data = pause(proc, "unmapped")
    if want != "bench" and data != "0x1122334455667788":
        fail("the device's write did not reach the program's memory: data=" + data)
    # A second client, at the same time as the first: each gets its own answers.
    c2 = Client(sock)
    after = c2.ask(READ)
    c2.close()
    c.close()
    proc.stdin.write(b"\n")
    proc.stdin.close()
    rc = proc.wait(60)
    err.seek(0)
    print(err.read(), end="")
    text = open(report).read() if os.path.exists(report) else ""
    print(text, end="")
    if rc != 0:
        fail("exit status %d" % rc)
    if os.path.exists(sock):
        fail("the socket file is still there after the program ended")
    if want in ("clean", "bench"):
        if not after.startswith("fault "):
            fail("the unmapped page was still reachable: " + after)
        if "0 findings\n" not in text:
            fail("the report is not clean")
    elif want == "stale":
        if not (after.startswith("ok ") and after.endswith(" stale")):
            fail("the bug twin's read was not answered stale: " + after)
        if "stale: device nic0 pasid 5 read 0x400000 served" not in text or "missing invalidation: " not in text:
            fail("the report does not name the stale read")
    else:
        fail("unknown expectation " + want)
    print("dma_client.py: %s as expected" % want)


main()
