#!/bin/sh
# Sharded runs and sweeps (docs/performance.md, "Sharded runs"): `vtdsim run --shard I/N` and
# `vtdsim trace sweep --shard I/N` each take a deterministic slice, and `vtdsim merge` joins the
# shards' JSON, JUnit and CSV outputs into exactly what one unsharded run writes (times apart:
# they are measured). Then what merge refuses: a missing shard, a shard given twice, a file
# that is not a shard's output, a bad --shard.
# usage: shard_merge.sh VTDSIM SCENARIO_DIR
set -u
vtdsim=$1 src=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
fails=0

fail() { printf 'FAIL: %s\n' "$*" >&2; fails=$((fails + 1)); }

# expect STATUS CMD...: run CMD (stdout and stderr to out.txt / err.txt), check its exit status.
expect() {
    want=$1
    shift
    "$@" >out.txt 2>err.txt
    got=$?
    [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want ($(head -c 300 err.txt))"
}

says() { grep -qF -- "$2" "$1" || fail "$1 lacks '$2': $(head -c 300 "$1")"; }

# The measured times taken out: "seconds": X in JSON, time="X" in JUnit, the last CSV column.
untimed() { sed -e 's/"seconds": [0-9.]*/"seconds": T/g' -e 's/time="[0-9.]*"/time="T"/g' "$1"; }
same() { untimed "$1" >a.norm; untimed "$2" >b.norm; cmp -s a.norm b.norm || fail "$1 differs from $2: $(diff a.norm b.norm | head -c 600)"; }

# A suite with passing files, one failing expectation, one file that does not load, and one
# whose steps raise warnings (a JUnit testcase over several lines).
mkdir suite
for f in pgtt-pt pgtt-fs-4level qi-context-cache qi-unaligned-addr-warns fault-fpd legacy-pt bug-unaligned-am-fixed; do
    cp "$src/$f.yaml" suite/
done
sed 's/expect: {out: 0x12345678}/expect: {out: 0x12345000}/' "$src/pgtt-pt.yaml" >suite/pgtt-pt-bad.yaml
printf 'name: x\nsteps: [\n' >suite/broken.yaml
expect 2 "$vtdsim" run --json whole.json --junit whole.xml suite
says out.txt "7 passed, 2 failed"

# Shards of 1, 2, 3 and 12 (more shards than files: some are empty), merged in a shuffled order.
for n in 1 2 3 12; do
    parts_json="" parts_xml=""
    i=$n
    while [ "$i" -ge 1 ]; do
        "$vtdsim" run --shard "$i/$n" --json "s$i-$n.json" --junit "s$i-$n.xml" suite >/dev/null 2>&1
        parts_json="$parts_json s$i-$n.json" parts_xml="$parts_xml s$i-$n.xml"
        i=$((i - 1))
    done
    # shellcheck disable=SC2086
    expect 1 "$vtdsim" merge --json "m$n.json" $parts_json
    says out.txt "7 passed, 2 failed"
    same whole.json "m$n.json"
    # shellcheck disable=SC2086
    expect 1 "$vtdsim" merge --junit "m$n.xml" $parts_xml
    same whole.xml "m$n.xml"
done
says s2-3.json '"shard": "2/3"'
says s2-3.json '{"index": 1, "file": "suite/bug-unaligned-am-fixed.yaml"'
says s2-3.xml '<testcase index="1" '

# A slice is deterministic: shard 2 of 3 takes files 1, 4, 7 of the nine in name order (from 0).
expect 0 "$vtdsim" run -v --shard 2/3 suite
says out.txt "PASS suite/bug-unaligned-am-fixed.yaml"
says out.txt "PASS suite/pgtt-fs-4level.yaml"
says out.txt "PASS suite/qi-context-cache.yaml"
says out.txt "3 passed, 0 failed"
expect 2 "$vtdsim" run --shard 1/3 suite
says out.txt "2 passed, 1 failed"

# What merge refuses.
expect 2 "$vtdsim" merge --json x.json s1-3.json s3-3.json
says err.txt "item 1 of the 9 of the whole run is in no input: a shard is missing"
[ -e x.json ] && fail "a failed merge wrote its output"
expect 2 "$vtdsim" merge --json x.json s1-3.json s2-3.json s3-3.json s2-3.json
says err.txt "s2-3.json:7:1: item 1 again (it is at s2-3.json:7)"
expect 0 "$vtdsim" run --shard 1/2 --json other.json suite/pgtt-pt.yaml
expect 2 "$vtdsim" merge --json x.json s1-3.json other.json
says err.txt "other.json:3:1: a shard of a run of 1 items, where s1-3.json is one of 9"
expect 2 "$vtdsim" merge --json x.json whole.json
says err.txt "whole.json:2:1: expected \"shard\": \"I/N\""
expect 2 "$vtdsim" merge --junit x.xml s1-3.json
says err.txt "s1-3.json:1:1: expected <?xml"
head -n 5 s1-3.json >cut.json
expect 2 "$vtdsim" merge --json x.json cut.json
says err.txt "cut.json:5:"
expect 2 "$vtdsim" merge --json s1-3.json s1-3.json s2-3.json s3-3.json
expect 2 "$vtdsim" merge --xml x s1-3.json
says err.txt "the first argument is --json, --junit or --csv"
expect 2 "$vtdsim" merge --json x.json
for bad in 0/3 4/3 3 1/0 a/b 1/3x -1/3 1/100001; do
    expect 2 "$vtdsim" run --shard "$bad" suite
    says err.txt "--shard takes I/N"
done
expect 2 "$vtdsim" run --shard

# Sweeps: a small trace over a 4 x 2 x 2 x 2 grid (32 points, some skipped: 4-way needs 4 | entries).
expect 0 "$vtdsim" trace gen uniform --pages 256 --count 3000 --seed 7 -o t.bin
grid="--iotlb-sizes 2,16,64,256 --ways 1,4 --repls lru,fifo --psc-sizes 0,16"
# shellcheck disable=SC2086
expect 0 "$vtdsim" trace sweep t.bin --csv whole.csv $grid
for n in 1 3 40; do
    parts=""
    i=1
    while [ "$i" -le "$n" ]; do
        # shellcheck disable=SC2086
        "$vtdsim" trace sweep t.bin --csv "p$i-$n.csv" --shard "$i/$n" $grid 2>/dev/null || fail "sweep shard $i/$n"
        parts="p$i-$n.csv $parts"
        i=$((i + 1))
    done
    # shellcheck disable=SC2086
    expect 0 "$vtdsim" merge --csv "m$n.csv" $parts
    cut -d, -f1-14 whole.csv >a.csv
    cut -d, -f1-14 "m$n.csv" >b.csv
    cmp -s a.csv b.csv || fail "merged sweep of $n shards differs: $(diff a.csv b.csv | head -c 600)"
done
says p1-3.csv "point,points,iotlb_entries,"
expect 2 "$vtdsim" merge --csv x.csv p1-3.csv p2-3.csv
says err.txt "is in no input"
expect 2 "$vtdsim" merge --csv x.csv whole.csv
says err.txt "whole.csv:1:1: expected the header of a vtdsim trace sweep --shard table"
expect 2 "$vtdsim" trace sweep t.bin --csv x.csv --shard 2/1
[ "$fails" -eq 0 ] && echo "shard_merge: all checks passed"
exit "$fails"
