#!/bin/sh
# fuzz/campaign.sh [RUNS] [SECONDS]: the long fuzzing campaign of docs/robustness.md, one target
# after the other (never two fuzzers at once), each until RUNS executions (default 10,000,000)
# or SECONDS seconds (default: no time limit), whichever comes first, under `nice -n 10`.
#
#   VTDSIM_FUZZ_TARGETS   targets (default: all seven, as fuzz/run.sh)
#   VTDSIM_FUZZ_BUILD     build directory (default: build-fuzz)
#
# Each target starts from its seeds plus whatever an earlier campaign left in
# <build>/fuzz/campaign/<target>/ (so campaigns add up). A finding stops the campaign with the
# input saved as <build>/fuzz/artifacts/<target>-crash-* (see "How to run" in
# docs/robustness.md). The last line per target, also appended to <build>/fuzz/campaign/summary:
#   target executions exec/s cov ft corpus-files seconds
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
runs=${1:-10000000}
secs=${2:-0}
targets=${VTDSIM_FUZZ_TARGETS:-"fuzz_walker fuzz_qi fuzz_yaml fuzz_ioctl fuzz_trace fuzz_cli fuzz_image"}
build=${VTDSIM_FUZZ_BUILD:-$root/build-fuzz}

CC=clang cmake -S "$root" -B "$build" -DVTDSIM_FUZZ=ON -DVTDSIM_TESTS=OFF -DVTDSIM_BENCH=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
nice -n 10 cmake --build "$build" --target fuzz -j 2

mkdir -p "$build/fuzz/artifacts" "$build/fuzz/campaign"
for t in $targets; do
    corpus=$build/fuzz/campaign/$t
    mkdir -p "$corpus"
    cp "$here/corpus/$t/"* "$build/fuzz/corpus/$t/"* "$corpus/" 2>/dev/null || true
    dict=
    [ -f "$here/$t.dict" ] && dict=-dict="$here/$t.dict"
    quiet=
    [ "$t" = fuzz_cli ] && quiet=-close_fd_mask=2
    log=$build/fuzz/campaign/$t.log
    start=$(date +%s)
    limit=; [ "$secs" != 0 ] && limit=" or ${secs}s"
    echo "== $t: $runs runs$limit ($(date -u +%H:%M:%S) UTC)"
    if ! nice -n 10 "$build/fuzz/$t" -runs="$runs" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 $dict $quiet -artifact_prefix="$build/fuzz/artifacts/$t-" "$corpus" >"$log" 2>&1; then
        echo "fuzz/campaign.sh: $t FAILED (log: $log)" >&2
        grep -E 'ERROR|property violated|SUMMARY|Test unit written' "$log" >&2 || tail -n 40 "$log" >&2
        exit 1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    covft=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\).*/\1 \2/p')
    line="$t $execs $rate $covft $(ls "$corpus" | wc -l) $(($(date +%s) - start))"
    echo "$line" | tee -a "$build/fuzz/campaign/summary"
done
