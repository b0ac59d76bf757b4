#!/usr/bin/env bash
# The README's second command: the whole test suite.
#  1. a -Werror build with AddressSanitizer + UndefinedBehaviorSanitizer, every ctest test;
#  2. a coverage build, every test again, lcov's line/branch summary for walker/ and sim/, and
#     the coverage gate (scripts/coverage-gate.sh: 95% lines, 85% branches, or the run fails).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVTDSIM_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"

cmake -S . -B build-cov -DCMAKE_BUILD_TYPE=Debug -DVTDSIM_COVERAGE=ON -DVTDSIM_BENCH=OFF >/dev/null
cmake --build build-cov -j "$jobs"
find build-cov -name '*.gcda' -delete
ctest --test-dir build-cov -j "$jobs" --output-on-failure | tail -n 3
# lcov 1.16 on Debian 12 prints "Subroutine ... redefined" perl warnings: noise, filtered.
cmake --build build-cov --target coverage 2>&1 | grep -v '^Subroutine .* redefined'
