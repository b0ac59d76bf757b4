#!/usr/bin/env bash
# docs/cli.md's table of commands against the tool: every command `vtdsim --help` lists has a
# row, and every row is a command. Usage: docs_cli_commands.sh VTDSIM DOCS/CLI.MD
set -euo pipefail
tool=$1 doc=$2
help=$("$tool" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' | sort)
# The first table of the file whose header is "| command | what it does |".
table=$(awk '/^\| command \| what it does \|/ { on = 1; next } on && /^\|/ { print; next } on { exit }' "$doc" |
    sed -n 's/^| `\([a-z-]*\)` |.*/\1/p' | sort)
[ -n "$help" ] || { echo "no commands in '$tool --help'"; exit 1; }
if [ "$help" != "$table" ]; then
    echo "docs/cli.md's command table differs from 'vtdsim --help':"
    diff <(printf '%s\n' "$help") <(printf '%s\n' "$table") | sed -n 's/^</  missing from the table: /p; s/^>/  not a command: /p'
    exit 1
fi
echo "docs/cli.md lists every command: $(printf '%s ' $help)"
