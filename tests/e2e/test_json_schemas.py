#!/usr/bin/env python3
"""The JSON outputs against their published schemas (docs/json.md, docs/schemas/).

  * `kpic check --format json` of every golden spec, of every spec the project ships,
    validates against docs/schemas/check.schema.json;
  * every golden expected output of a `--format json` run (tests/cases/*.out) validates
    against the schema of its command: the golden tests hold the binary to those bytes,
    so the binary's output is held to the schema;
  * `kpic eval` and `kpic score --format json` of the example, for a month and a range.
A schema that no output exercises would prove nothing, so the test also counts.

usage: test_json_schemas.py KPIC   (run from the repository root)
"""
import glob, json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from expect import check, finish, kpic_runner  # noqa: E402

import jsonschema

loaded = {}
for path in glob.glob("docs/schemas/*.schema.json"):
    with open(path, encoding="utf-8") as f:
        loaded[os.path.basename(path)] = json.load(f)


def inline(node):
    """NODE with every reference into another schema file ("eval.schema.json#/$defs/x")
    replaced by what it names, so any jsonschema version validates it."""
    if isinstance(node, list):
        return [inline(v) for v in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref", "")
    if ref and not ref.startswith("#"):
        name, _, pointer = ref.partition("#")
        target = loaded[name]
        for part in pointer.strip("/").split("/"):
            target = target[part]
        return inline(target)
    return {k: inline(v) for k, v in node.items()}


SCHEMAS = {}
for name, schema in loaded.items():
    jsonschema.Draft202012Validator.check_schema(schema)
    SCHEMAS[name.split(".")[0]] = jsonschema.Draft202012Validator(inline(schema))

counts = {}


def validate(command, text, what):
    validator = SCHEMAS.get(command)
    if not check(validator is not None, f"{what}: no schema for '{command}'"):
        return
    try:
        doc = json.loads(text)
    except ValueError as e:
        check(False, f"{what}: not JSON: {e}")
        return
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    for e in errors[:3]:
        check(False, f"{what}: {'/'.join(map(str, e.path))}: {e.message[:200]}")
    counts[command] = counts.get(command, 0) + 1


check_run = kpic_runner("check")
specs = sorted(glob.glob("tests/cases/*.kpi") + glob.glob("kpi-specs/**/*.kpi", recursive=True)
               + glob.glob("bench/*.kpi"))
for spec in specs:
    p = check_run(spec, "--format", "json")
    if check(p.returncode in (0, 1), f"{spec}: check --format json exits {p.returncode}"):
        validate("check", p.stdout.decode("utf-8"), f"check {spec}")

for args_path in sorted(glob.glob("tests/cases/*.args")):
    with open(args_path, encoding="utf-8") as f:
        args = [line.rstrip("\n") for line in f if line.strip()]
    out_path = args_path[:-len(".args")] + ".out"
    if "--format" not in args or not os.path.exists(out_path):
        continue
    if args[args.index("--format") + 1] != "json":
        continue
    with open(out_path, encoding="utf-8") as f:
        text = f.read()
    if args[0] in SCHEMAS:
        validate(args[0], text, out_path)

for extra in ((), ("--roster",)):
    p = check_run("kpi-specs/user-ops.kpi", "--ceiling", "--format", "json", *extra)
    if check(p.returncode == 0, f"check --ceiling {extra} of the example exits {p.returncode}"):
        validate("check", p.stdout.decode("utf-8"), f"check --ceiling {extra} example")
        check("ceiling" in json.loads(p.stdout), "check --ceiling gives the object form")

for command in ("eval", "score"):
    run = kpic_runner(command)
    for period in ("2025-05", "2025-01..2025-06"):
        p = run("kpi-specs/user-ops.kpi", "--period", period, "--format", "json")
        if check(p.returncode == 0, f"{command} of the example for {period} exits {p.returncode}"):
            validate(command, p.stdout.decode("utf-8"), f"{command} example {period}")

check(counts.get("check", 0) > 100, f"too few check outputs validated: {counts}")
check(counts.get("eval", 0) > 5, f"too few eval outputs validated: {counts}")
check(counts.get("score", 0) > 3, f"too few score outputs validated: {counts}")
check(counts.get("test", 0) >= 2, f"too few test outputs validated: {counts}")
sys.exit(finish(f"json schemas: {counts} outputs valid"))
