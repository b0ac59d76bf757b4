#!/bin/sh
# Runs docs/tutorial.md's scenario as the page shows it, then with the fix the page describes.
# Usage: docs_tutorial.sh VTDSIM TUTORIAL.md (in a scratch folder)
tool=$1 doc=$2
awk '/^```yaml$/ { on = 1; next } /^```$/ { on = 0 } on' "$doc" >tutorial.yaml
"$tool" run tutorial.yaml
echo "exit $?"
sed 's/npages: 1}/npages: 2}/' tutorial.yaml >tutorial-fixed.yaml
"$tool" run -v tutorial-fixed.yaml
