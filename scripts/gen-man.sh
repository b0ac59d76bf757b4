#!/usr/bin/env bash
# Writes the vtdsim(1) man page from the tool's own help texts (`vtdsim --help` and each
# `vtdsim COMMAND --help`), so the page and the tool cannot drift: the build runs this after
# linking the tool. Usage: gen-man.sh VTDSIM OUT
set -euo pipefail
tool=$1 out=$2
version=$("$tool" --version | awk '{print $2}')
# The command names, from the usage text's "commands:" list.
commands=$("$tool" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')

# Roff-safe text: backslashes escaped, and lines that start with . or ' kept literal.
roff() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
{
  echo ".TH VTDSIM 1 \"\" \"vtdsim $version\" \"User Commands\""
  echo ".SH NAME"
  echo "vtdsim \\- a functional model of the Intel VT\\-d IOMMU: replay DMA, tables and invalidations, find stale translations"
  echo ".SH SYNOPSIS"
  echo ".B vtdsim"
  echo ".I COMMAND"
  echo "[options]"
  echo ".SH DESCRIPTION"
  echo "vtdsim walks the scalable\\-mode translation structures in simulated memory, models the"
  echo "IOMMU's caches and queued invalidation, and reports every translation that a cache served"
  echo "stale, with the invalidation that would have removed it. The commands:"
  echo ".PP"
  echo ".nf"
  "$tool" --help | awk '/^commands:/ { on = 1; next } on && /^$/ { exit } on' | roff
  echo ".fi"
  echo ".SH COMMANDS"
  for c in $commands; do
    [ "$c" = version ] && continue
    echo ".SS vtdsim $c"
    echo ".nf"
    "$tool" "$c" --help | roff
    echo ".fi"
  done
  echo ".SS vtdsim version, vtdsim \\-\\-version"
  echo "Prints the version (and, when built from a git checkout, its description)."
  echo ".SH FILES"
  echo "Scenario files are YAML (schema and keys: docs/scenario\\-format.md); DMA traces are"
  echo "binary or CSV (docs/cli.md)."
  echo ".SH SEE ALSO"
  echo "The documentation in the source tree: README.md, docs/cli.md, docs/scenario\\-format.md,"
  echo "docs/uapi.md, docs/architecture.md."
} >"$tmp"
mv "$tmp" "$out"
trap - EXIT
