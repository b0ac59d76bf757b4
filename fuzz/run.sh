#!/bin/sh
# fuzz/run.sh: build the fuzz targets with clang in build-fuzz/ and run each for a fixed time.
#
#   VTDSIM_FUZZ_SECONDS   seconds per target (default 60)
#   VTDSIM_FUZZ_TARGETS   targets to run (default: all seven, see below)
#   VTDSIM_FUZZ_BUILD     build directory (default: build-fuzz)
#
# Each target starts from a copy of its seeds in <build>/fuzz/run/<target>/: the checked-in
# fuzz/corpus/<target>/ and what the fuzz_seeds target wrote into <build>/fuzz/corpus/<target>/
# (for fuzz_yaml, the files of scenarios/), so the run never writes into the source tree. A crash, a
# sanitizer report, a violated property or a hang (-timeout) fails the script; the input is
# saved as <build>/fuzz/artifacts/<target>-crash-* (or -timeout-*, -leak-*, -oom-*).
# Turn it into a regression test in tests/test_fuzz_regressions.c (docs/robustness.md).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
secs=${VTDSIM_FUZZ_SECONDS:-60}
targets=${VTDSIM_FUZZ_TARGETS:-"fuzz_walker fuzz_qi fuzz_yaml fuzz_ioctl fuzz_trace fuzz_cli fuzz_image"}
build=${VTDSIM_FUZZ_BUILD:-$root/build-fuzz}

command -v clang >/dev/null 2>&1 || { echo "fuzz/run.sh: clang not found: apt-get install clang" >&2; exit 1; }

CC=clang cmake -S "$root" -B "$build" -DVTDSIM_FUZZ=ON -DVTDSIM_TESTS=OFF -DVTDSIM_BENCH=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target fuzz -j "$(nproc 2>/dev/null || echo 2)"

status=0
mkdir -p "$build/fuzz/artifacts"
for t in $targets; do
    corpus=$build/fuzz/run/$t
    mkdir -p "$corpus"
    cp "$here/corpus/$t/"* "$build/fuzz/corpus/$t/"* "$corpus/" 2>/dev/null || true
    dict=
    [ -f "$here/$t.dict" ] && dict=-dict="$here/$t.dict"
    # fuzz_cli runs the tool's commands, whose usage messages would drown the log.
    quiet=
    [ "$t" = fuzz_cli ] && quiet=-close_fd_mask=2
    echo "== $t: ${secs}s"
    if "$build/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $dict $quiet \
        -artifact_prefix="$build/fuzz/artifacts/$t-" "$corpus" >"$build/fuzz/$t.log" 2>&1; then
        grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec)| DONE ' "$build/fuzz/$t.log" || true
    else
        echo "fuzz/run.sh: $t FAILED (log: $build/fuzz/$t.log)" >&2
        grep -E 'ERROR|property violated|SUMMARY|Test unit written' "$build/fuzz/$t.log" >&2 || tail -n 40 "$build/fuzz/$t.log" >&2
        status=1
    fi
done
exit $status
