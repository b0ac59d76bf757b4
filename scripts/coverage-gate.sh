#!/usr/bin/env bash
# coverage-gate.sh: fail when walker/ or sim/ falls below the required line or branch coverage
# (issue 8). Called by the `coverage` CMake target with the per-folder lcov tracefiles:
#
#   scripts/coverage-gate.sh walker=build-cov/coverage.walker.info sim=build-cov/coverage.sim.info
#
# Thresholds (percent) come from the environment, with the project's defaults:
#   VTDSIM_COV_MIN_LINES (95), VTDSIM_COV_MIN_BRANCHES (85).
set -euo pipefail

min_lines=${VTDSIM_COV_MIN_LINES:-95}
min_branches=${VTDSIM_COV_MIN_BRANCHES:-85}

# "lines......: 96.6% (1415 of 1465 lines)" -> 96.6
percent() {
    sed -n "s/^ *$1\.*: *\([0-9.]*\)%.*/\1/p" <<<"$2" | head -n 1
}

# 1 when $1 < $2 (decimal percentages).
below() {
    awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'
}

status=0
for arg in "$@"; do
    folder=${arg%%=*}
    info=${arg#*=}
    if [ ! -s "$info" ]; then
        echo "coverage gate: $folder/: no coverage data ($info missing or empty)" >&2
        status=1
        continue
    fi
    # lcov 1.16 on Debian 12 prints "Subroutine ... redefined" perl warnings: noise.
    summary=$(lcov --rc lcov_branch_coverage=1 --summary "$info" 2>&1 | grep -v '^Subroutine .* redefined' || true)
    lines=$(percent lines "$summary")
    branches=$(percent branches "$summary")
    if [ -z "$lines" ] || [ -z "$branches" ]; then
        echo "coverage gate: $folder/: cannot read lcov's summary of $info" >&2
        status=1
        continue
    fi
    verdict=ok
    if below "$lines" "$min_lines"; then
        echo "coverage gate: $folder/ lines $lines% < required $min_lines%" >&2
        verdict=FAIL
        status=1
    fi
    if below "$branches" "$min_branches"; then
        echo "coverage gate: $folder/ branches $branches% < required $min_branches%" >&2
        verdict=FAIL
        status=1
    fi
    printf 'coverage gate: %-8s lines %5s%% (>= %s%%), branches %5s%% (>= %s%%): %s\n' \
        "$folder/" "$lines" "$min_lines" "$branches" "$min_branches" "$verdict"
done
exit $status
