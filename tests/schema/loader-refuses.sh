#!/bin/sh
# The files the schema refuses (tests/schema/bad-*.yaml) are refused by the loader too: the
# schema is never stricter than the loader on them. Usage: loader-refuses.sh VTDSIM FILE...
tool=$1
shift
for f in "$@"; do
    if out=$("$tool" run "$f" 2>&1); then
        echo "FAIL: $f loads and runs"
        exit 1
    fi
    case $out in
    *"does not load"*) ;;
    *) echo "FAIL: $f: $out"; exit 1 ;;
    esac
done
echo "loader: every bad file refused ($# files)"
