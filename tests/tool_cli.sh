#!/bin/sh
# The tool under misuse (issue 13, docs/cli.md "Exit status and output rules"), one class per case:
#   exit_status   every command: 0 done, 1 a check failed, 2 usage / input / output error
#   files_kept    no command destroys a file: an output that is the input, a failed generator
#   output_errors a full stdout or an unwritable report is status 2 with the reason
#   streaming     run prints a file's result as soon as it is done, not at the end
#   escaping      hostile file names and scalars: nothing raw on the terminal, reports valid
# usage: tool_cli.sh VTDSIM SCENARIO_DIR CASE
set -u
vtdsim=$1 src=$2 case=$3
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

# says FILE TEXT: FILE contains TEXT.
says() { grep -qF -- "$2" "$1" || fail "$1 lacks '$2': $(head -c 300 "$1")"; }

cp "$src/pgtt-pt.yaml" good.yaml
sed 's/expect: {out: 0x12345678}/expect: {out: 0x12345000}/' good.yaml >bad.yaml
printf 'name: x\nsteps: [\n' >broken.yaml

case $case in
exit_status)
    expect 0 "$vtdsim" run good.yaml
    expect 1 "$vtdsim" run good.yaml bad.yaml
    expect 2 "$vtdsim" run good.yaml broken.yaml
    expect 2 "$vtdsim" run bad.yaml missing.yaml
    expect 2 "$vtdsim" run --bogus good.yaml
    expect 2 "$vtdsim" run
    expect 0 "$vtdsim" translate "$src/bug-missing-pasid-cache-inv.yaml" --after 8 --device dev0 --pasid 3 --addr 0x5000
    expect 2 "$vtdsim" translate broken.yaml --after 0 --device dev0 --addr 0
    expect 2 "$vtdsim" translate good.yaml --after 0 --device dev0
    expect 0 "$vtdsim" inv-table
    expect 2 "$vtdsim" inv-table --policy nonsense
    expect 0 "$vtdsim" trace gen nic --count 100 -o t.bin
    expect 2 "$vtdsim" trace gen nic --count 100
    expect 2 "$vtdsim" trace gen storage --req-min 3 -o s.bin
    expect 0 "$vtdsim" trace replay t.bin
    printf 'kind,sid,pasid,addr,size,access,page,out\ndma,zz,-,0,4,r,-,-\n' >bad.csv
    expect 2 "$vtdsim" trace replay bad.csv
    expect 2 "$vtdsim" trace replay
    expect 0 "$vtdsim" trace convert t.bin t.csv
    expect 2 "$vtdsim" trace convert missing.bin x.csv
    expect 0 "$vtdsim" trace sweep t.bin --csv sweep.csv --iotlb-sizes 64 --ways 4 --repls lru --psc-sizes 16
    expect 2 "$vtdsim" trace sweep bad.csv --csv sweep2.csv
    expect 2 "$vtdsim" trace bogus
    expect 0 "$vtdsim" demo
    expect 2 "$vtdsim" demo --bogus
    expect 0 "$vtdsim" schema -o schema.json
    expect 0 "$vtdsim" schema --strict
    expect 2 "$vtdsim" schema --bogus
    expect 2 "$vtdsim" schema -o
    expect 0 "$vtdsim" --help
    expect 2 "$vtdsim" bogus
    expect 2 "$vtdsim"
    ;;
files_kept)
    "$vtdsim" trace gen nic --count 100 -o t.bin >/dev/null 2>&1 || fail "trace gen"
    cp t.bin t.keep
    expect 2 "$vtdsim" trace convert t.bin t.bin
    says err.txt "is the input file"
    cmp -s t.bin t.keep || fail "trace convert X X changed or removed X"
    ln -s t.bin link.bin
    expect 2 "$vtdsim" trace convert t.bin link.bin
    cmp -s t.bin t.keep || fail "trace convert X LINK-TO-X changed or removed X"
    expect 2 "$vtdsim" trace sweep t.bin --csv t.bin
    cmp -s t.bin t.keep || fail "trace sweep --csv INPUT changed or removed the input"
    echo "a file that was here before" >old.bin
    expect 2 "$vtdsim" trace gen storage --req-min 3 -o old.bin
    says old.bin "a file that was here before"
    cp good.yaml good.keep
    expect 2 "$vtdsim" run --json good.yaml good.yaml
    expect 2 "$vtdsim" run --junit good.yaml good.yaml
    cmp -s good.yaml good.keep || fail "run --json/--junit over its scenario changed the scenario"
    left=$(ls -A | grep -c 'vtdsim-.*\.tmp')
    [ "$left" -eq 0 ] || fail "$left temporary files left behind"
    ;;
output_errors)
    expect 2 sh -c "exec '$vtdsim' run good.yaml >/dev/full"
    says err.txt "No space left on device"
    expect 2 sh -c "exec '$vtdsim' run -j 2 good.yaml bad.yaml >/dev/full"
    says err.txt "No space left on device"
    expect 2 sh -c "exec '$vtdsim' demo >/dev/full"
    expect 2 sh -c "exec '$vtdsim' inv-table >/dev/full"
    expect 2 sh -c "exec '$vtdsim' schema >/dev/full"
    says err.txt "No space left on device"
    expect 2 "$vtdsim" schema -o no/such/dir/s.json
    says err.txt "No such file or directory"
    "$vtdsim" trace gen nic --count 100 -o t.bin >/dev/null 2>&1
    expect 2 sh -c "exec '$vtdsim' trace replay t.bin >/dev/full"
    says err.txt "No space left on device"
    expect 2 "$vtdsim" run --json no/such/dir/r.json good.yaml
    says err.txt "no/such/dir/r.json"
    says err.txt "No such file or directory"
    expect 2 "$vtdsim" run --junit /dev/full good.yaml
    says err.txt "/dev/full: No space left on device"
    [ -c /dev/full ] || fail "/dev/full is gone"
    ;;
streaming)
    # The first file's line must be out long before the slow second one ends: read the output
    # as it comes and time each line. The slow file is the 100,000-request trace made ten times
    # longer, so that its run stays well above the quick file's start-up however fast the
    # model gets (the trace itself takes a quarter of a second under ASan).
    sed -e 's/count: 1562$/count: 15620/' -e 's/requests: 100000,/requests: 999712,/' \
        "$src/repeat-trace-100k.yaml" >repeat-trace-1m.yaml
    grep -q 'count: 15620$' repeat-trace-1m.yaml && grep -q 'requests: 999712,' repeat-trace-1m.yaml ||
        fail "repeat-trace-100k.yaml changed: the slow file was not made"
    "$vtdsim" run -v -j 2 good.yaml repeat-trace-1m.yaml | while IFS= read -r line; do
        echo "$(date +%s.%N) $line"
    done >timed.txt
    first=$(grep ' PASS good.yaml' timed.txt | cut -d' ' -f1)
    last=$(tail -n 1 timed.txt | cut -d' ' -f1)
    slow=$(grep 'PASS .*repeat-trace-1m' timed.txt | sed 's/.*, \([0-9.]*\) s)$/\1/')
    [ -n "$first" ] && [ -n "$slow" ] || fail "missing PASS lines: $(cat timed.txt)"
    # awk: the first line came at least half the slow file's run time before the last one.
    awk -v f="$first" -v l="$last" -v s="$slow" 'BEGIN { exit !(l - f >= s / 2) }' ||
        fail "the first result came at $first, the last at $last, the slow file ran $slow s: not streamed"
    ;;
escaping)
    name=$(printf 'x\033[31m\377\001.yaml')
    printf 'name: x\ndevices:\n  - {name: "d\\e[2J", bdf: "\\e]0;title\\a"}\nsteps: []\n' >"$name"
    expect 2 "$vtdsim" run --json r.json --junit r.xml "$name" bad.yaml
    for f in out.txt err.txt r.json r.xml; do
        # no ESC, BEL or other C0 control but tab and newline; no byte that is not UTF-8
        LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$f" && fail "$f holds a raw control character"
        LC_ALL=C grep -q "$(printf '[\377]')" "$f" && fail "$f holds a raw 0xff byte"
    done
    says out.txt 'x\x1b[31m\xff\x01.yaml'
    says r.json 'x\u001b[31m\\xff\u0001.yaml'
    # --stats: device names come from the scenario
    sed 's/\([{ ]\)\(name\|device\): nic\([,}]\)/\1\2: "n\\e[2J"\3/' "$src/ats-translation-request.yaml" >stats.yaml
    expect 0 "$vtdsim" run --stats stats.yaml
    says out.txt 'devtlb n\x1b[2J'
    LC_ALL=C grep -q "$(printf '\033')" out.txt && fail "--stats printed a raw ESC"
    # trace replay --json: the file name is a JSON string too
    "$vtdsim" trace gen nic --count 50 -o "t\"$name.bin" >/dev/null 2>&1 || fail "trace gen to a hostile name"
    expect 0 "$vtdsim" trace replay --json "t\"$name.bin"
    cp out.txt replay.json
    says replay.json '"trace": "t\"x\u001b[31m\\xff\u0001.yaml.bin"'
    if command -v python3 >/dev/null; then
        python3 -c 'import json,sys; json.load(open("replay.json", encoding="utf-8"))' || fail "replay.json is not valid JSON"
        python3 -c 'import json,sys; json.load(open("r.json", encoding="utf-8"))' || fail "r.json is not valid JSON"
        python3 -c 'import xml.dom.minidom as m; m.parse("r.xml")' || fail "r.xml is not valid XML"
    fi
    ;;
*)
    fail "unknown case $case"
    ;;
esac
[ "$fails" -eq 0 ] && echo "$case: all checks passed"
exit $((fails != 0))
