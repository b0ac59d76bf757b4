#!/usr/bin/env bash
# Run one proof program under the preload library and check what the report says.
# Usage: run.sh LIBRARY PROGRAM MACHINE clean|stale|dirtylost|fatal|badmachine|plain
#   clean: exit 0, the report has no finding
#   stale: exit 0, the report names the stale read and the missing invalidation
#   dirtylost: exit 0, the report names the device write whose D bit a dirty harvest lost
#   fatal: with VTDSIM_FATAL=1 the first finding stops the program with status 86
#   badmachine: the machine file is refused with file:line:column, the device files do not open
#   plain: a program that opens no simulated file: exit 0, no machine made, no report
#   steps-clean, steps-stale, steps-late, steps-bad: with VTDSIM_DMA=STEPS (a fifth argument)
#     and stdin closed: no finding; the stale read and the missed expectation named; the step
#     that never ran named; the steps file refused with file:line:column
set -uo pipefail
lib=$1 prog=$2 machine=$3 want=$4
case $want in steps-*) export VTDSIM_DMA=$5 ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export VTDSIM_MACHINE=$machine VTDSIM_REPORT=$tmp/report VTDSIM_CONTROL=$tmp/control
# The library and the program are both built with the sanitizers' runtime; preloading puts the
# library first, which ASan would otherwise refuse.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
[ "$want" = fatal ] && export VTDSIM_FATAL=1
LD_PRELOAD=$lib "$prog" </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
cat "$tmp/out" "$tmp/err"
[ -f "$tmp/report" ] && cat "$tmp/report"
fail() { echo "run.sh: $*"; exit 1; }
case $want in
clean)
  [ "$rc" = 0 ] || fail "exit status $rc"
  grep -q '^# vtdsim preload report: .*, 0 findings$' "$tmp/report" || fail "the report is not clean"
  ;;
stale)
  [ "$rc" = 0 ] || fail "exit status $rc"
  grep -q '^stale: device nic0 pasid 5 read 0x400000 served 0x[0-9a-f]* from the iotlb .*missing invalidation: .*PASID 5' \
    "$tmp/report" || fail "the report does not name the stale read"
  grep -q 'vtdsim-preload: stale: device nic0' "$tmp/err" || fail "stderr does not name the stale read"
  ;;
dirtylost)
  [ "$rc" = 0 ] || fail "exit status $rc"
  grep -q '^# vtdsim preload report: .*, 1 finding$' "$tmp/report" || fail "the report does not have one finding"
  grep -q '^dirty-lost: device nic0 pasid 5: write of 0x400000 served by the IOTLB .* left D of the second-stage leaf .*: P_IOTLB PSI DID 1 PASID 5 ADDR 0x400000' \
    "$tmp/report" || fail "the report does not name the lost write and its invalidation"
  grep -q 'vtdsim-preload: dirty-lost: device nic0' "$tmp/err" || fail "stderr does not name the lost write"
  ;;
fatal)
  [ "$rc" = 86 ] || fail "exit status $rc, not 86"
  grep -q 'stopping at the first finding' "$tmp/err" || fail "no word of the stop"
  grep -q '^stale: ' "$tmp/report" || fail "the report lacks the finding"
  ;;
badmachine)
  [ "$rc" != 0 ] || fail "the program ran on a bad machine"
  grep -q "vtdsim-preload: $machine:[0-9]*:[0-9]*: " "$tmp/err" || fail "no file:line:column for the machine"
  [ ! -e "$tmp/report" ] || fail "a report for a machine that never ran"
  ;;
plain)
  [ "$rc" = 0 ] || fail "exit status $rc"
  [ ! -e "$tmp/report" ] || fail "a report from a program that touched no simulated file"
  ;;
steps-clean)
  [ "$rc" = 0 ] || fail "exit status $rc"
  grep -q '^# vtdsim preload report: .*, 0 findings$' "$tmp/report" || fail "the report is not clean"
  grep -q '^paused unmapped data=0x1122334455667788$' "$tmp/out" || fail "the step's write did not reach the program"
  grep -q "dma step $VTDSIM_DMA:[0-9]*:[0-9]* (call [0-9]*): fault " "$tmp/err" || fail "no faulting read step"
  ;;
steps-stale)
  [ "$rc" = 0 ] || fail "exit status $rc"
  grep -q '^stale: device nic0 pasid 5 read 0x400000 served .*missing invalidation: .*PASID 5' "$tmp/report" ||
    fail "the report does not name the stale read"
  grep -q "^expectation: dma step $VTDSIM_DMA:[0-9]*:[0-9]* (call [0-9]*) expected fault, got stale$" "$tmp/report" ||
    fail "the report does not name the missed expectation"
  ;;
steps-late)
  [ "$rc" = 0 ] || fail "exit status $rc"
  grep -q "^expectation: dma step $VTDSIM_DMA:3:5 never ran: its point did not come in [0-9]* calls$" "$tmp/report" ||
    fail "the report does not name the step that never ran"
  ;;
steps-bad)
  [ "$rc" != 0 ] || fail "the program ran with a bad steps file"
  grep -q "vtdsim-preload: $VTDSIM_DMA:6:11: size: expected 1, 2, 4 or 8" "$tmp/err" || fail "no file:line:column for the steps"
  [ ! -e "$tmp/report" ] || fail "a report for a machine that never ran"
  ;;
*) fail "unknown expectation $want" ;;
esac
echo "run.sh: $want as expected"
