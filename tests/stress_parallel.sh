#!/bin/sh
# Parallel runs share nothing (issue 13, docs/robustness.md): COPIES copies of every container
# scenario (scenarios/uapi-*.yaml) replayed with -j 8. Before the container layer's shared state
# moved into the IOMMU instance, this crashed (SIGSEGV) most of the time; under ThreadSanitizer
# (-DVTDSIM_SANITIZE=thread) any data race fails the run.
# usage: stress_parallel.sh VTDSIM SCENARIO_DIR [COPIES]
set -eu
vtdsim=$1 src=$2 copies=${3:-15}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
n=0
for f in "$src"/uapi-*.yaml; do
    base=$(basename "$f" .yaml)
    i=0
    while [ "$i" -lt "$copies" ]; do
        cp "$f" "$dir/$base-$i.yaml"
        i=$((i + 1)) n=$((n + 1))
    done
done
[ "$n" -ge 200 ] || { echo "only $n scenario copies: not a stress test" >&2; exit 1; }
status=0
out=$("$vtdsim" run -j 8 "$dir" 2>&1) || status=$?
if [ "$status" -ne 0 ]; then
    printf '%s\n' "$out" | tail -n 20
    echo "vtdsim run -j 8 over $n files: exit status $status" >&2
    exit 1
fi
last=$(printf '%s\n' "$out" | tail -n 1)
[ "$last" = "$n passed, 0 failed" ] || { printf '%s\n' "$out" | tail -n 20; echo "expected '$n passed, 0 failed'" >&2; exit 1; }
echo "$last (-j 8)"
