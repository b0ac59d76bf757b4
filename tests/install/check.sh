#!/usr/bin/env bash
# Install the build into a temporary prefix, then build and run a consumer with pkg-config:
# the promise that `cmake --install` gives a usable library, headers and vtdsim.pc.
set -euo pipefail
build=$1 src=$(cd "$(dirname "$0")" && pwd)
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
# The scenario schema for editors (docs/editors.md), as the build generated it.
cmp "$build/vtdsim-scenario.schema.json" "$prefix/share/vtdsim/schema/scenario.schema.json"
pc=$(dirname "$(find "$prefix" -name vtdsim.pc | head -n 1)")
flags=$(PKG_CONFIG_PATH=$pc pkg-config --cflags --libs vtdsim)
libdir=$(PKG_CONFIG_PATH=$pc pkg-config --variable=libdir vtdsim)
# shellcheck disable=SC2086
cc -std=c11 -Wall -Werror "$src/consumer.c" $flags -Wl,-rpath,"$libdir" -o "$prefix/consumer"
"$prefix/consumer"
# The preload library (docs/preload.md) is installed beside the library.
test -f "$libdir/libvtdsim-preload.so"
