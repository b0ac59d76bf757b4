#!/usr/bin/env bash
# Measure the RISC-V IOMMU reference model's uncached two-stage walk on this machine, next to
# vtdsim's nested 4x4 walk, and its IOATC hit next to vtdsim's IOTLB hit, so that the "x times
# the RISC-V model" targets are checked against figures taken here and now rather than quoted
# ones (docs/performance.md).
#
#   scripts/bench-riscv-ref.sh PATH   # PATH: a checkout of github.com/riscv-non-isa/riscv-iommu
#
# The model is compiled four ways: -O2 (a portable optimised build), -O2 -march=native, -O2
# with the harness serving 8-byte reads itself instead of the test bench's read_memory() (the
# model's own cost), and with the flags its own Makefiles use (-O0 -g, gcov). The runs are
# interleaved for ROUNDS rounds and the fastest of each kept, because this 2-core virtual
# machine slows down by up to 1.6x for minutes at a time. Nothing from the checkout is copied
# into this tree.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
src=${1:?usage: $0 PATH-TO-riscv-iommu-checkout}
[ -d "$src/iommu_ref_model" ] && src="$src/iommu_ref_model"
[ -f "$src/libiommu/include/iommu.h" ] || { echo "$0: $src is not a riscv-iommu checkout" >&2; exit 2; }
iters=${ITERS:-200000}
rounds=${ROUNDS:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

build() { # $1 = output name, $2 = harness (bench/ref/NAME.c), rest = compiler flags
    local name=$1 harness=$2; shift 2
    (cd "$out" && gcc "$@" -w -I"$src/libiommu/include" -I"$src/libtables/include" -I"$src/test" \
        -o "$name" "$here/bench/ref/$harness.c" "$src/test/test_utils.c" "$src/test/tbapi.c" \
        "$src"/libiommu/src/*.c "$src"/libtables/src/*.c -Wl,--wrap=read_memory)
}
build ref-O2 riscv_nested_miss -O2
build ref-native riscv_nested_miss -O2 -march=native
build ref-lean riscv_nested_miss -O2 -DLEAN_MEMORY
build ref-makefile riscv_nested_miss -O0 -g -fprofile-arcs -ftest-coverage
build hit-O2 riscv_iotlb_hit -O2
build hit-native riscv_iotlb_hit -O2 -march=native

bw="$here/build-rel/bench/bench_walk"
bi="$here/build-rel/bench/bench_iotlb"
if [ ! -x "$bw" ] || [ ! -x "$bi" ]; then
    cmake -S "$here" -B "$here/build-rel" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$here/build-rel" -j --target bench_walk bench_iotlb >/dev/null
fi

# ns per translation: the harness prints "... miss: N ns median", bench_walk a table row.
ref_ns() { (cd "$out" && "./$1" "$2") | tee -a "$out/log" | sed -n 's/.*miss: \([0-9.]*\) ns median.*/\1/p'; }
vtd_ns() { "$bw" --only "walk: nested 4x4" | awk '/^walk: nested 4x4  /{print $4}'; }
hit_ns() { (cd "$out" && "./$1" "$2") | tee -a "$out/log" | sed -n 's/.*hit (one page repeated): \([0-9.]*\) ns median.*/\1/p'; }
vtd_hit_ns() { "$bi" --only "iotlb hit, oracle off" | awk '/^iotlb hit, oracle off  /{print $5}'; }
min() { sort -g | head -1; }

# Each run's figure goes to a file of its own, never named like a binary (a `>>` into a binary
# being run makes the exec fail with "Text file busy").
for r in $(seq "$rounds"); do
    ref_ns ref-O2 "$iters" >>"$out/o2"
    vtd_ns >>"$out/vtd"
    ref_ns ref-native "$iters" >>"$out/native"
    ref_ns ref-lean "$iters" >>"$out/lean"
    ref_ns ref-makefile "$((iters / 4))" >>"$out/makefile"
    hit_ns hit-O2 "$((iters * 10))" >>"$out/ioatc-o2"
    vtd_hit_ns >>"$out/vtd-hit"
    hit_ns hit-native "$((iters * 10))" >>"$out/ioatc-native"
done
grep -m1 "memory reads" "$out/log" | sed 's/.*miss: [^,]*, [^,]*, /RISC-V model per translation: /; s/ (checksum.*//'
v=$(min <"$out/vtd")
printf '%-44s %8s %8s %14s\n' "fastest of $rounds rounds" "ns" "M/s" "vtdsim ratio"
for k in o2:"RISC-V model, -O2" native:"RISC-V model, -O2 -march=native" lean:"RISC-V model, -O2, direct 8-byte reads" makefile:"RISC-V model, its Makefile (-O0, gcov)"; do
    n=$(min <"$out/${k%%:*}")
    awk -v name="${k#*:}" -v n="$n" -v v="$v" 'BEGIN { printf "%-44s %8.1f %8.2f %13.2fx\n", name, n, 1e3 / n, n / v }'
done
awk -v v="$v" 'BEGIN { printf "%-44s %8.1f %8.2f\n", "vtdsim walk: nested 4x4 (Release)", v, 1e3 / v }'
echo
h=$(min <"$out/vtd-hit")
printf '%-44s %8s %8s %14s\n' "IOTLB hit, fastest of $rounds rounds" "ns" "M/s" "vtdsim ratio"
for k in ioatc-o2:"RISC-V model IOATC hit, -O2" ioatc-native:"RISC-V model IOATC hit, -O2 -march=native"; do
    n=$(min <"$out/${k%%:*}")
    awk -v name="${k#*:}" -v n="$n" -v v="$h" 'BEGIN { printf "%-44s %8.1f %8.2f %13.2fx\n", name, n, 1e3 / n, n / v }'
done
awk -v v="$h" 'BEGIN { printf "%-44s %8.1f %8.2f\n", "vtdsim iotlb hit, oracle off (Release)", v, 1e3 / v }'
