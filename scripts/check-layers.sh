#!/usr/bin/env bash
# The include graph against docs/architecture.md's table of layers: every #include "L/..." in a
# layer's sources must name that layer or one its row allows ("may use"), and <linux/...> uAPI
# headers need `uapi/` in the row. Prints each violation as file:line and exits 1 if any.
# Usage: check-layers.sh [TREE] (default: this checkout).
set -euo pipefail
top=$(cd "${1:-$(dirname "$0")/..}" && pwd)
doc=$top/docs/architecture.md
[ -f "$doc" ] || { echo "check-layers: no $doc" >&2; exit 1; }
# Rows of the table: | `layer/` | may use | ... | (uapi/ is headers only and is not checked).
rows=$(grep -E '^\| `[a-z]+/` \|' "$doc" | grep -v '^| `uapi/`' || true)
[ -n "$rows" ] || { echo "check-layers: no table of layers in $doc" >&2; exit 1; }
layers=$(printf '%s\n' "$rows" | sed -E 's/^\| `([a-z]+)\/`.*/\1/' | tr '\n' ' ')
bad=0
while IFS= read -r row; do
  layer=$(printf '%s' "$row" | sed -E 's/^\| `([a-z]+)\/`.*/\1/')
  allowed=$(printf '%s' "$row" | awk -F'|' '{print $3}' | { grep -oE '`[a-z]+/`' || true; } | tr -d '`/' | tr '\n' ' ')
  if [ ! -d "$top/$layer" ]; then
    echo "check-layers: $layer/ is in the table but not in the tree"
    bad=1
    continue
  fi
  # One awk over the layer's files: quoted includes of a layer folder, and <linux/...>.
  out=$(awk -v layer="$layer" -v allowed="$layer $allowed" -v layers="$layers" -v top="$top/" '
    BEGIN { n = split(allowed, a, " "); for (i = 1; i <= n; i++) ok[a[i]] = 1
            n = split(layers, l, " "); for (i = 1; i <= n; i++) known[l[i]] = 1 }
    /^[ \t]*#[ \t]*include/ {
      used = ""
      if (match($0, /"[a-z]+\//)) { used = substr($0, RSTART + 1, RLENGTH - 2); if (!(used in known)) next }
      else if ($0 ~ /<linux\//) used = "uapi"
      if (used != "" && !(used in ok)) {
        f = FILENAME; sub(top, "", f)
        printf "%s:%d: %s/ may not include %s/ (docs/architecture.md): %s\n", f, FNR, layer, used, $0
      }
    }' "$top/$layer"/*.[ch])
  if [ -n "$out" ]; then
    printf '%s\n' "$out"
    bad=1
  fi
done <<< "$rows"
[ "$bad" = 0 ] && echo "check-layers: the include graph of $(wc -w <<< "$layers") layers follows docs/architecture.md"
exit "$bad"
