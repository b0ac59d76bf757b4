#!/usr/bin/env bash
# The bash completion (completion/vtdsim.bash) against the built tool: commands, trace's
# subcommands and kinds, options, enumerated values and scenario files. Usage: check.sh VTDSIM
set -euo pipefail
tool=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../completion/vtdsim.bash
source "$src/completion/vtdsim.bash"
fail=0
expect() { # expect "WANTED WORDS" WORD...: completing the words gives exactly WANTED
    local want=$1
    shift
    COMP_WORDS=("$tool" "$@")
    COMP_CWORD=$#
    _vtdsim
    local got="${COMPREPLY[*]}"
    if [ "$got" != "$want" ]; then
        echo "FAIL: vtdsim $* -> [$got], expected [$want]"
        fail=1
    fi
}
expect "run translate inv-table trace inspect merge schema demo version --help --version" ""
expect "translate trace" tr
expect "gen replay sweep convert import --help" trace ""
expect "linux" trace import ""
expect "nic storage uniform zipf sva" trace gen ""
expect "r w x" translate x.yaml --access ""
expect "auto ss fs nested" trace replay t.bin --mode ""
expect "spec linux-5.10" inv-table --policy ""
expect "raw elf" inspect --format ""
expect "translate devices mappings check queue" inspect --rtaddr 0x1000 img.raw ""
expect "mappings" inspect --format elf --rtaddr 0x1000 img.elf ma
# Every option of every command's help completes.
for cmd in run translate inv-table trace inspect merge schema demo; do
    for opt in $("$tool" "$cmd" --help | grep -oE '(^|[[:space:]\[])--[a-z][a-z0-9-]*' | tr -d ' [' | sort -u); do
        COMP_WORDS=("$tool" "$cmd" "$opt")
        COMP_CWORD=2
        _vtdsim
        printf '%s\n' "${COMPREPLY[@]}" | grep -qx -- "$opt" || { echo "FAIL: $cmd $opt does not complete"; fail=1; }
    done
done
cd "$src"
expect "scenarios/uapi-get-info.yaml" run scenarios/uapi-get-i
[ "$fail" = 0 ] && echo "completion: all checks passed"
exit "$fail"
