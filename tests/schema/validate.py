"""Validate scenario files against the generated JSON Schema with Debian's python3-jsonschema.

usage: validate.py SCHEMA FILE... [--invalid FILE...]

Files before --invalid must validate; a Markdown file (*.md) stands for each of its ```yaml
blocks that is a whole scenario (it has `name:` and `steps:`). Files after --invalid must not,
and each names the reason on its first line ("# schema error: TEXT"): TEXT must appear in one
of the validator's messages, so a file refused for another reason fails the test. Exits 77
(ctest's skip) when jsonschema or yaml cannot be imported, unless VTDSIM_REQUIRE_SCHEMA_VALIDATOR
is set (CI sets it), then 1.
"""
import os
import re
import sys

try:
    import jsonschema
    import yaml
except ImportError as e:
    print(f"schema validation skipped: {e} (apt-get install python3-jsonschema python3-yaml)")
    sys.exit(1 if os.environ.get("VTDSIM_REQUIRE_SCHEMA_VALIDATOR") else 77)
import json


def documents(path):
    """(name, text) of each scenario a file holds."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if not path.endswith(".md"):
        return [(path, text)]
    blocks = re.findall(r"^```yaml\n(.*?)^```$", text, flags=re.M | re.S)
    return [(f"{path} (yaml block {i + 1})", b) for i, b in enumerate(blocks)
            if re.search(r"^name:", b, re.M) and re.search(r"^steps:", b, re.M)]


def messages(errors):
    """Every message of the errors and of the alternatives anyOf/oneOf tried under them."""
    for e in errors:
        yield f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
        yield from messages(e.context)


def main(argv):
    if len(argv) < 3:
        print(__doc__.split("\n\n")[1])
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            schema = json.load(f)
    except (OSError, ValueError) as e:
        print(f"{argv[1]}: cannot read the schema: {e}")
        return 2
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    valid, invalid, failed, expect_valid = 0, 0, 0, True
    for arg in argv[2:]:
        if arg == "--invalid":
            expect_valid = False
            continue
        for name, text in documents(arg):
            try:
                instance = yaml.safe_load(text)
            except yaml.YAMLError as e:
                failed += 1
                print(f"FAIL {name}: not YAML: {e}")
                continue
            errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
            if expect_valid:
                if errors:
                    failed += 1
                    best = jsonschema.exceptions.best_match(errors)
                    print(f"FAIL {name}: {'/'.join(str(p) for p in best.absolute_path)}: {best.message}")
                else:
                    valid += 1
                continue
            want = re.match(r"# schema error: (.*)", text)
            got = list(messages(errors))
            if not want:
                failed += 1
                print(f"FAIL {name}: no '# schema error: TEXT' first line")
            elif not any(want.group(1) in m for m in got):
                failed += 1
                print(f"FAIL {name}: expected an error with '{want.group(1)}', got: {got[:3] or 'none'}")
            else:
                invalid += 1
                print(f"ok {name}: refused ({want.group(1)})")
    print(f"schema: {valid} valid, {invalid} refused as expected, {failed} failed")
    return 1 if failed or valid + invalid == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
