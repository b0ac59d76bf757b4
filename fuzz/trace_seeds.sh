#!/bin/sh
# fuzz/trace_seeds.sh VTDSIM OUTDIR: fuzz_trace's seeds, from `vtdsim trace gen` (every workload
# kind, both formats, small counts). Each seed is fuzz_trace's control byte (fuzz_trace_input.h)
# followed by the trace file. The checked-in fuzz/corpus/fuzz_trace/ was made with this script.
set -eu
vtdsim=$1
out=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
# name, control byte (octal: bit 0 CSV, bits 1-2 mode, bit 3 oracle), gen arguments
while read -r name ctl args; do
    case $ctl in *1|*3|*5|*7) ext=csv ;; *) ext=bin ;; esac
    # shellcheck disable=SC2086
    "$vtdsim" trace gen $args -o "$tmp/$name.$ext" >/dev/null
    printf "\\$ctl" >"$out/$name.$ext"
    cat "$tmp/$name.$ext" >>"$out/$name.$ext"
done <<'LIST'
nic_strict 000 nic --count 16 --ring 8
nic_deferred 001 nic --count 24 --ring 8 --inval deferred --fq-size 4
nic_reuse_oracle 010 nic --count 24 --ring 8 --inval deferred --fq-size 4 --reuse-before-flush
storage_ss 002 storage --count 6 --buffer 4m --req-min 4k --req-max 64k
storage_small_csv 003 storage --count 4 --buffer 1m --req-min 4k --req-max 16k --small-pages
uniform_fs 004 uniform --count 16 --pages 16 --dma-size 256
zipf_nested_csv 007 zipf --count 16 --pages 16 --zipf-s 1.2
sva_nested 006 sva --count 12 --pasid 5 --dma-size 64
sva_small_csv 011 sva --count 8 --small-pages
LIST
