#!/usr/bin/env bash
# Builds the Debian package (CPack), installs it with dpkg, and runs the installed tool on the
# installed scenarios: the promise that the .deb alone is a working vtdsim. Removes the package
# afterwards. Needs root (CI runs it on its throwaway machine). Usage: check-deb.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-deb}
if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DVTDSIM_TESTS=OFF -DVTDSIM_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/vtdsim_*_amd64.deb | head -n 1)
echo "check-deb: $(basename "$deb"): $(dpkg-deb -f "$deb" Depends)"
$SUDO dpkg -i "$deb" >/dev/null
trap '$SUDO dpkg -r vtdsim >/dev/null' EXIT
/usr/bin/vtdsim --version
test -f /usr/share/man/man1/vtdsim.1
test -f /usr/share/bash-completion/completions/vtdsim
# The scenario schema, and the installed scenarios valid against it (docs/editors.md).
test -f /usr/share/vtdsim/schema/scenario.schema.json
rc=0
out=$(/usr/bin/python3 tests/schema/validate.py /usr/share/vtdsim/schema/scenario.schema.json \
  /usr/share/vtdsim/scenarios/*.yaml) || rc=$?
echo "$out" | tail -n 1
[ "$rc" = 0 ] || [ "$rc" = 77 ]
PKG_CONFIG_PATH=/usr/lib/pkgconfig pkg-config --exists vtdsim
# Every installed header compiles on its own with the package's flags: none includes a header
# that is not installed (the *_internal.h ones).
cflags=$(PKG_CONFIG_PATH=/usr/lib/pkgconfig pkg-config --cflags vtdsim)
headers=0
for h in $(dpkg -L vtdsim | grep '^/usr/include/vtdsim/.*\.h$'); do
  # shellcheck disable=SC2086 # the flags are words
  echo "#include \"$h\"" | cc -std=c11 -Wall -Wextra -Werror -fsyntax-only $cflags -x c - ||
    { echo "check-deb: $h does not compile on its own"; exit 1; }
  headers=$((headers + 1))
done
echo "check-deb: $headers installed headers compile on their own"
# The preload library (docs/preload.md): installed, and a plain program runs under it unchanged.
preload=$(dpkg -L vtdsim | grep '/libvtdsim-preload\.so$')
LD_PRELOAD=$preload /usr/bin/vtdsim --version >/dev/null
/usr/bin/vtdsim run /usr/share/vtdsim/scenarios | tail -n 1
