#!/usr/bin/env bash
# Hit-rate studies for docs/performance.md: generate the traces, sweep them over cache
# geometries with `vtdsim trace sweep`, write the CSVs to docs/data/ and plot them with gnuplot
# into docs/img/. A documentation step, not part of the tests: gnuplot is not a build
# dependency (Debian: apt-get install gnuplot-nox).
#
#   scripts/plots.sh            Release build in build-rel/, then everything (a few minutes)
#   VTDSIM=path/to/vtdsim scripts/plots.sh   use an existing binary
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v gnuplot >/dev/null; then
  echo "plots.sh: gnuplot not found: apt-get install gnuplot-nox" >&2
  exit 2
fi
if [ -z "${VTDSIM:-}" ]; then
  cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release -DVTDSIM_TESTS=OFF -DVTDSIM_BENCH=OFF >/dev/null
  cmake --build build-rel -j 2 --target vtdsim >/dev/null
  VTDSIM=build-rel/vtdsim
fi

data=docs/data img=docs/img
mkdir -p "$data" "$img"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---- traces (fixed seeds: the same traces every time) ----
gen() { "$VTDSIM" trace gen "$@"; }
gen nic --count 100000 --inval strict -o "$work/nic-strict.bin"
gen nic --count 100000 --inval deferred -o "$work/nic-deferred.bin"
gen nic --count 100000 --inval deferred --reuse-before-flush -o "$work/nic-deferred-early-reuse.bin"
gen storage --count 2000 -o "$work/storage.bin"
gen storage --count 2000 --small-pages -o "$work/storage-4k.bin"
gen uniform --pages 16384 --count 300000 -o "$work/uniform.bin"
gen zipf --pages 16384 --count 300000 -o "$work/zipf.bin"
gen sva --count 300000 -o "$work/sva.bin"
gen uniform --pages 65536 --count 200000 -o "$work/uniform-64k.bin"

sizes=32,64,128,256,512,1024,2048,4096
traces="nic-strict nic-deferred storage storage-4k uniform zipf sva"

# 1. IOTLB size, every trace (8-way LRU, 64-entry paging-structure caches).
for t in $traces; do
  "$VTDSIM" trace sweep "$work/$t.bin" --csv "$data/size-$t.csv" --iotlb-sizes $sizes --ways 8 --repls lru \
    --psc-sizes 64 2>/dev/null
done
# 2. The whole default grid for the Zipf trace: size x associativity x replacement x PSC size.
"$VTDSIM" trace sweep "$work/zipf.bin" --csv "$data/grid-zipf.csv" 2>/dev/null
# 3. Paging-structure-cache size against reads per translation, for each translation type, on a
#    trace whose IOTLB misses often (64 Ki pages uniformly, 512-entry IOTLB).
for m in ss fs nested; do
  "$VTDSIM" trace sweep "$work/uniform-64k.bin" --mode $m --nested-ss-page 4k --csv "$data/psc-$m.csv" \
    --iotlb-sizes 512 --ways 8 --repls lru --psc-sizes 0,4,16,64,256,1024 2>/dev/null
done
"$VTDSIM" trace sweep "$work/uniform-64k.bin" --mode nested --nested-ss-page 4k --csv "$data/psc-nested-noiotlb.csv" \
  --iotlb-sizes 0 --ways 1 --repls lru --psc-sizes 0,4,16,64,256,1024 2>/dev/null
# 4. Strict versus deferred invalidation, with the oracle (stale translations counted).
{
  echo "trace,packets,dma,map,unmap,invalidate,descriptors,translations,iotlb_hit_rate,reads_per_translation,stale"
  for t in nic-strict nic-deferred nic-deferred-early-reuse; do
    "$VTDSIM" trace replay "$work/$t.bin" --oracle --json | awk -v t="$t" '
      /"events"/ { gsub(/[{},:"]/, " "); dma = $3; map = $5; unmap = $7; inv = $9 }
      /"translations"/ { gsub(/[,:"]/, " "); tr = $2; stale = $6; desc = $8 }
      /"reads_per_translation"/ { gsub(/[,:"]/, " "); rpt = $2 }
      /"iotlb"/ { sub(/.*"hit_rate": /, ""); sub(/}.*/, ""); hr = $0 }
      END { printf "%s,100000,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", t, dma, map, unmap, inv, desc, tr, hr, rpt, stale }'
  done
} > "$data/nic-invalidation.csv"

# ---- plots ----
gnuplot <<EOF
set terminal pngcairo size 900,560 font "sans,11"
set datafile separator ","
set key autotitle columnhead
set grid
set logscale x 2
set xlabel "IOTLB entries"
set ylabel "IOTLB hit rate"
set yrange [0:1.02]
set key bottom right

set output "$img/hitrate-vs-iotlb-size.png"
set title "IOTLB hit rate by size (8-way, LRU)"
plot for [t in "$traces"] "$data/size-".t.".csv" using 1:8 with linespoints title t

set output "$img/associativity-zipf.png"
set title "Zipf (s = 1, 16 Ki pages): associativity (LRU, 64-entry PSCs)"
plot for [w in "1 4 8 full"] "$data/grid-zipf.csv" \
  using 1:((strcol(2) eq w && strcol(3) eq "lru" && \$4 == 64) ? \$8 : 1/0) with linespoints \
  title (w eq "1" ? "direct-mapped" : w eq "full" ? "fully associative" : w."-way")

set output "$img/replacement-zipf.png"
set title "Zipf (s = 1, 16 Ki pages): replacement (8-way, 64-entry PSCs)"
plot for [r in "lru fifo random"] "$data/grid-zipf.csv" \
  using 1:((strcol(2) eq "8" && strcol(3) eq r && \$4 == 64) ? \$8 : 1/0) with linespoints title r

set title "Paging-structure reads per translation by PSC size (uniform over 64 Ki pages)"
set output "$img/psc-reads.png"
set xlabel "entries in each paging-structure cache (0 plotted at 1)"
set ylabel "paging-structure reads per translation"
set yrange [0:*]
set key top right
plot "$data/psc-ss.csv" using (\$4 > 0 ? \$4 : 1):12 with linespoints title "second stage (512-entry IOTLB)", \
     "$data/psc-fs.csv" using (\$4 > 0 ? \$4 : 1):12 with linespoints title "first stage (512-entry IOTLB)", \
     "$data/psc-nested.csv" using (\$4 > 0 ? \$4 : 1):12 with linespoints title "nested 4x4 (512-entry IOTLB)", \
     "$data/psc-nested-noiotlb.csv" using (\$4 > 0 ? \$4 : 1):12 with linespoints title "nested 4x4, no IOTLB"
EOF
echo "plots.sh: CSVs in $data/, plots in $img/"
