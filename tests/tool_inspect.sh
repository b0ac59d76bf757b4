#!/bin/sh
# vtdsim inspect on memory images written by tests/inspect_image_gen.c (raw: the structure pool
# from BASE; ELF: the pool and the nested guest's page tables), one class per case:
#   translate  one request: answer, fault, --explain, identical on raw and ELF images
#   batch      --batch answers each line; a bad line names FILE:LINE:COLUMN, exit 2
#   json       --json output is valid JSON with the documented keys (python3 -m json.tool)
#   devices    every context entry and present PASID with PGTT and DID
#   mappings   ranges merged (16 pages in one line), nested through both stages
#   check      a clean image has no finding on ELF, the planted faults are found with their codes
#   queue      the pending descriptors, described; a tail beyond the queue is refused
#   dmesg      CAP/ECAP/HAW from a kernel log, --iommu picks a unit, a log without one is refused
#   errors     usage and input errors exit 2 with the reason; the image file is never written
# usage: tool_inspect.sh VTDSIM INSPECT_IMAGE_GEN CASE
set -u
vtdsim=$1 gen=$2 case=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
fails=0
fail() { printf 'FAIL: %s\n' "$*" >&2; fails=$((fails + 1)); }
# expect STATUS CMD...: run CMD (stdout to out.txt, stderr to err.txt), check its exit status.
expect() {
    want=$1
    shift
    "$@" >out.txt 2>err.txt
    got=$?
    [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want ($(head -c 400 err.txt))"
}
# says FILE TEXT: FILE contains TEXT.
says() { grep -qF -- "$2" "$1" || fail "$1 lacks '$2': $(head -c 600 "$1")"; }

eval "$("$gen" clean img)" || { echo "image generator failed"; exit 1; }
"$gen" broken bad >/dev/null || { echo "image generator failed"; exit 1; }
raw() { "$vtdsim" inspect --rtaddr "$RTADDR" --base "$BASE" img.raw "$@"; }
elf() { "$vtdsim" inspect --format elf --rtaddr "$RTADDR" img.elf "$@"; }

case $case in
translate)
    expect 0 raw translate --sid 00:03.0 --pasid 1 --addr 0x10f008 --write
    says out.txt "00:03.0 1 0x10f008 w -> out 0x90f008 page 4K perm rwu"
    cp out.txt raw.txt
    expect 0 elf translate --sid 00:03.0 --pasid 1 --addr 0x10f008 --write
    cmp -s out.txt raw.txt || fail "raw and ELF images answer differently"
    expect 0 elf translate --sid 00:03.0 --pasid 1 --addr 0x110000 --write
    says out.txt "-> fault 0x85 WRITE"
    expect 0 elf translate --sid 00:03.0 --pasid 3 --addr 0x7010
    says out.txt "-> out 0x40003010 page 4K"
    expect 0 raw translate --sid 00:03.0 --pasid 3 --addr 0x7010
    says out.txt "-> fault 0x70 FS_PAGING_ENTRY_ACCESS"
    expect 0 elf translate --sid 00:03.0 --addr 0x1234 --priv
    says out.txt "00:03.0 - 0x1234 r priv -> out 0x1234"
    expect 0 elf translate --sid 00:04.0 --addr 0x1000 --exec
    says out.txt "-> out 0x30001000 page 4K perm rxu"
    expect 0 elf translate --sid 00:03.0 --pasid 1 --addr 0x40000010 --explain
    says out.txt "out 0x80000010 page 2M"
    says out.txt "PGTT=first-stage DID=2"
    says out.txt "L2 @0x"
    expect 0 elf translate --sid 00:05.0 --addr 0
    says out.txt "fault 0x41 CTX_ENTRY_P"
    ;;
batch)
    printf '# sid pasid addr access\n00:03.0 1 0x100000 r\n00:03.0 1 0x110000 w\n\n00:04.0 - 0x1008 r\n00:03.0 2 7 w\n' >reqs.txt
    expect 0 elf translate --batch reqs.txt
    [ "$(wc -l <out.txt)" -eq 4 ] || fail "4 requests, $(wc -l <out.txt) answers"
    says out.txt "00:03.0 1 0x100000 r -> out 0x900000 page 4K perm rwu"
    says out.txt "00:03.0 1 0x110000 w -> fault 0x85 WRITE"
    says out.txt "00:04.0 - 0x1008 r -> out 0x30001008"
    says out.txt "00:03.0 2 0x7 w -> out 0x20000007 page 4K perm rwxu"
    printf '00:03.0 1 0x100000 r\n00:03.0 1 0x100000 r\n00:03.0 1 zz r\n' >badreq.txt
    expect 2 elf translate --batch badreq.txt
    says err.txt "badreq.txt:3:11: bad address"
    expect 2 elf translate --batch missing.txt
    says err.txt "missing.txt: cannot open"
    mkfifo fifo.txt
    expect 2 elf translate --batch fifo.txt
    says err.txt "not a regular file"
    expect 2 elf translate --batch reqs.txt --sid 00:03.0
    ;;
json)
    expect 0 elf translate --sid 00:03.0 --pasid 1 --addr 0x100000 --json
    python3 -m json.tool out.txt >/dev/null || fail "not JSON: $(cat out.txt)"
    says out.txt '"sid": "00:03.0", "pasid": 1, "addr": "0x100000"'
    says out.txt '"out": "0x900000", "page_size": 4096, "perm": "rwu", "leaf_entry": "0x'
    grep -qE '"leaf_entry": "0x[0-9a-f]+", "fault": null' out.txt || fail "no leaf_entry address: $(cat out.txt)"
    expect 0 elf translate --sid 00:03.0 --pasid 9 --addr 0 --json
    python3 -m json.tool out.txt >/dev/null || fail "not JSON: $(cat out.txt)"
    says out.txt '"fault": {"code": "0x59", "name": "PASID_ENTRY_P"}'
    printf '00:03.0 1 0x100000 r\n00:03.0 - 0 w\n00:09.0 - 0 r\n' >reqs.txt
    expect 0 elf translate --batch reqs.txt --json
    n=0
    while IFS= read -r line; do
        printf '%s\n' "$line" | python3 -c 'import json,sys; o=json.load(sys.stdin); assert set(o) >= {"sid","pasid","addr","out","page_size","perm","fault"}' ||
            fail "batch line not JSON with the keys: $line"
        n=$((n + 1))
    done <out.txt
    [ "$n" -eq 3 ] || fail "3 JSON lines expected, got $n"
    expect 2 elf translate --sid 00:03.0 --addr 0 --json --explain
    ;;
devices)
    expect 0 elf devices
    says out.txt "00:03.0  context entry 0x"
    says out.txt "without PASID (RID_PASID 0): pass-through, DID 1"
    says out.txt "PASID 1       entry 0x"
    says out.txt "first-stage, DID 2"
    says out.txt "nested, DID 4"
    says out.txt "00:04.0  context entry"
    says out.txt "second-stage, DID 9 (RID_PASID)"
    [ "$(grep -c 'PASID [0-9]* *entry' out.txt)" -eq 5 ] || fail "5 PASID entries expected: $(cat out.txt)"
    ;;
mappings)
    expect 0 elf mappings --sid 00:03.0 --pasid 1
    says out.txt "0x0000000000100000-0x000000000010ffff -> 0x0000000000900000-0x000000000090ffff  4K   rwu"
    says out.txt "0x0000000000110000-0x0000000000110fff -> 0x0000000000700000-0x0000000000700fff  4K   ru"
    says out.txt "0x0000000040000000-0x00000000401fffff -> 0x0000000080000000-0x00000000801fffff  2M   rwu"
    says out.txt "3 ranges from 18 leaves"
    expect 0 elf mappings --sid 00:03.0 --pasid 3
    says out.txt "0x0000000000007000-0x0000000000007fff -> 0x0000000040003000-0x0000000040003fff  4K   rwu"
    expect 0 elf mappings --sid 00:04.0
    says out.txt "00:04.0 PASID 0 (RID_PASID): second-stage, DID 9"
    says out.txt "1 ranges from 1 leaves"
    expect 2 elf mappings --sid 00:03.0 --pasid 7
    says err.txt "00:03.0 PASID 7: no address space: fault 0x59 PASID_ENTRY_P"
    expect 2 elf mappings --pasid 1
    ;;
check)
    expect 0 elf check
    says out.txt ": 0 findings"
    # Raw holds the pool only: the nested guest's tables are outside the image.
    expect 1 raw check
    says out.txt "PASID entry 0x"
    says out.txt "beyond-image: points at 0x40100000, outside the memory image; fault 0x70 FS_PAGING_ENTRY_ACCESS"
    expect 1 "$vtdsim" inspect --format elf --rtaddr "$RTADDR" bad.elf check
    says out.txt "FS L2 entry 0x"
    says out.txt "(00:03.0 PASID 1): reserved: reserved bits 0x2000 set"
    says out.txt "fault 0x72 FS_PAGING_ENTRY_RSVD"
    says out.txt "shared-table: the table at 0x"
    says out.txt "used under DID 3 and DID 42"
    says out.txt "2 findings (reserved 1, shared-table 1)"
    expect 0 "$vtdsim" inspect --format elf --rtaddr "$RTADDR" bad.elf mappings --sid 00:03.0 --pasid 1
    says out.txt "1 present entries skipped as malformed"
    expect 1 "$vtdsim" inspect --format elf --rtaddr 0x10000000 img.elf check
    says out.txt "RTADDR 0x10000000"
    says out.txt "fault 0x30"
    ;;
queue)
    expect 0 elf queue --iqa "$IQA" --iqh "$IQH" --iqt "$IQT"
    says out.txt "P_IOTLB PSI DID 2 PASID 1 ADDR 0x100000 AM 4"
    says out.txt "PASID-cache"
    says out.txt "wait"
    [ "$(grep -c '^  IQH' out.txt)" -eq 3 ] || fail "3 descriptors expected: $(cat out.txt)"
    expect 0 elf queue --iqa "$IQA" --iqh 0x50 --iqt 0x50
    says out.txt "empty"
    expect 2 elf queue --iqa "$IQA" --iqh 0 --iqt 0x1000
    says err.txt "beyond the 4096-byte queue"
    expect 2 elf queue --iqa "$IQA" --iqh 0
    ;;
dmesg)
    cat >dmesg.txt <<'LOG'
[    0.004000] ACPI: DMAR 0x000000007FFE1E2F 000050 (v01 BOCHS  BXPC     00000001 BXPC 00000001)
[    0.010000] DMAR: Host address width 48
[    0.010001] DMAR: dmar0: reg_base_addr fed90000 ver 1:0 cap 1c0000c40660462 ecap f00f5e
[    0.010002] DMAR: dmar1: reg_base_addr fed91000 ver 6:0 cap 71c000c70660462 ecap 1ff0faf0af7ee
LOG
    expect 0 "$vtdsim" inspect --dmesg dmesg.txt --format elf --rtaddr "$RTADDR" img.elf translate --sid 00:03.0 --pasid 1 --addr 0x100000
    says err.txt "using dmar0 (line 3: cap 0x1c0000c40660462 ecap 0xf00f5e, version 1.0); the log has more units, --iommu picks one"
    expect 0 "$vtdsim" inspect --dmesg dmesg.txt --iommu dmar1 --format elf --rtaddr "$RTADDR" img.elf translate --sid 00:03.0 --pasid 1 --addr 0x100000
    says err.txt "using dmar1 (line 4"
    says out.txt "-> out 0x900000"
    expect 2 "$vtdsim" inspect --dmesg dmesg.txt --iommu dmar7 --format elf --rtaddr "$RTADDR" img.elf devices
    says err.txt "no IOMMU named 'dmar7'"
    echo "nothing here" >empty.txt
    expect 2 "$vtdsim" inspect --dmesg empty.txt --format elf --rtaddr "$RTADDR" img.elf devices
    says err.txt "no 'DMAR: dmarN: reg_base_addr"
    expect 2 "$vtdsim" inspect --dmesg dmesg.txt --cap 0 --format elf --rtaddr "$RTADDR" img.elf devices
    says err.txt "not both"
    ;;
errors)
    cp img.raw img.keep
    expect 2 "$vtdsim" inspect img.raw devices
    says err.txt "--rtaddr VALUE is required"
    expect 2 "$vtdsim" inspect --rtaddr zz img.raw devices
    says err.txt "bad --rtaddr value 'zz'"
    expect 2 "$vtdsim" inspect --rtaddr "$RTADDR" --format qcow2 img.raw devices
    says err.txt "bad --format 'qcow2'"
    expect 2 "$vtdsim" inspect --rtaddr "$RTADDR" --haw 80 img.raw devices
    expect 2 "$vtdsim" inspect --rtaddr "$RTADDR" missing.raw devices
    says err.txt "missing.raw"
    expect 2 "$vtdsim" inspect --rtaddr "$RTADDR" --format elf img.raw devices
    expect 2 "$vtdsim" inspect --rtaddr "$RTADDR" --base 0x123 img.raw devices
    expect 2 raw
    says err.txt "no COMMAND given"
    expect 2 raw frobnicate
    says err.txt "unknown command 'frobnicate'"
    expect 2 raw translate --sid 0:3.0 --addr 0
    says err.txt "bad source-id '0:3.0'"
    expect 2 raw translate --sid 00:03.0 --pasid 0x100000 --addr 0
    says err.txt "bad PASID"
    expect 2 raw translate --sid 00:03.0
    expect 2 raw devices --bogus
    expect 0 "$vtdsim" inspect --help
    says out.txt "usage: vtdsim inspect"
    expect 2 "$vtdsim" inspect --rtaddr "$RTADDR" --base "$BASE" img.raw devices --iommu x
    cmp -s img.raw img.keep || fail "inspect changed the image file"
    ;;
*)
    echo "unknown case $case"
    exit 2
    ;;
esac
[ "$fails" = 0 ] && echo "tool_inspect $case: all checks passed"
exit "$fails"
