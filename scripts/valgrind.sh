#!/usr/bin/env bash
# scripts/valgrind.sh: valgrind memcheck over the scenario suite (issue 8).
#
# Builds vtdsim without sanitizers (valgrind and ASan do not mix) in build-valgrind/, then runs
# `vtdsim run` on every file of scenarios/ (or on the files/directories given as arguments)
# under memcheck: any invalid access, use of uninitialised memory or leak (definite, indirect
# or possible) fails the script. .ci/run calls it on the whole suite.
#
#   scripts/valgrind.sh                        # the whole suite
#   scripts/valgrind.sh scenarios/fault-*.yaml  # some files
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "scripts/valgrind.sh: valgrind not found: apt-get install valgrind" >&2; exit 1; }

build=${VTDSIM_VALGRIND_BUILD:-build-valgrind}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVTDSIM_TESTS=OFF -DVTDSIM_BENCH=OFF >/dev/null
cmake --build "$build" --target vtdsim -j "$(nproc)" >/dev/null

if [ $# -eq 0 ]; then set -- scenarios; fi
log=$build/valgrind.log
start=$(date +%s)
if valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=all \
        --errors-for-leak-kinds=definite,indirect,possible --track-origins=yes --log-file="$log" \
        "$build/vtdsim" run "$@" >"$build/valgrind.out"; then
    echo "valgrind: clean ($(($(date +%s) - start)) s; $(grep -c . "$build/valgrind.out") lines of output)"
else
    rc=$?
    if [ "$rc" = 99 ] || [ -s "$log" ]; then
        echo "valgrind: memcheck errors (log: $log)" >&2
        head -n 60 "$log" >&2
    else
        echo "valgrind: vtdsim run failed with status $rc (output: $build/valgrind.out)" >&2
        tail -n 20 "$build/valgrind.out" >&2
    fi
    exit 1
fi
