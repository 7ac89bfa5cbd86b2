#!/usr/bin/env python3
"""End-to-end tests of `kpic check`: exit statuses, and the JSON and SARIF formats.

SARIF output is validated against the official SARIF 2.1.0 JSON schema, taken from the
npm package @microsoft/jest-sarif (which ships it as lib/schemas/sarif-2.1.0-rtm.5.json),
installed by .ci/install-deps; see docs/decisions.md.
usage: test_check_cli.py KPIC   (run from the repository root)
"""
import json, os, subprocess, sys

try:
    import jsonschema
except ImportError:      # the Debian package installs for the system interpreter
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

KPIC = os.path.abspath(sys.argv[1])
failures = []


def run(*args, cwd=None):
    return subprocess.run([KPIC, *args], capture_output=True, cwd=cwd, timeout=60)


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def sarif_schema():
    # .ci/install-deps puts it there (both README commands run it); the test never
    # fetches, and a missing schema is a failure, not a skip
    cache = os.environ.get("KPIC_TEST_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kpic-test")
    path = os.path.join(cache, "sarif-2.1.0-rtm.5.json")
    if not os.path.exists(path):
        print(f"FAIL: the SARIF schema is not at {path}: run .ci/install-deps")
        sys.exit(1)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# exit statuses
check(run("check", "kpi-specs/user-ops.kpi").returncode == 0, "example spec is clean")
check(run("check", "tests/cases/parse_unknown_words.kpi").returncode == 1, "errors give 1")
check(run("check", "no/such/spec.kpi").returncode == 2, "missing main file gives 2")
check(run("check").returncode == 2, "missing argument gives 2")
check(run("check", "a.kpi", "--format", "xml").returncode == 2, "bad format gives 2")
check(run("frobnicate").returncode == 2, "unknown command gives 2")
# every subcommand: one spec only, no unknown option (usage errors, exit 2)
for command in ("check", "fmt", "eval", "score", "explain"):
    p = run(command, "a.kpi", "b.kpi")
    check(p.returncode == 2 and
          p.stderr.startswith(f"kpic: {command} takes one spec, got a second: 'b.kpi'\n".encode()),
          f"{command}: a second spec is a usage error")
    p = run(command, "--nope", "a.kpi")
    check(p.returncode == 2 and
          p.stderr.startswith(f"kpic: unknown option '--nope' for {command}\n".encode()),
          f"{command}: an unknown option is a usage error")

# JSON: an array of located diagnostics on stdout, nothing on stderr
p = run("check", "parse_unknown_words.kpi", "--format", "json", cwd="tests/cases")
check(p.returncode == 1, "json run exits 1")
check(p.stderr == b"", "json run prints nothing on stderr")
diags = json.loads(p.stdout)
check(isinstance(diags, list) and len(diags) == 8, f"json has 8 diagnostics, got {len(diags)}")
first = diags[0]
for key in ("file", "line", "column", "end_line", "end_column", "severity", "message", "hints"):
    check(key in first, f"json diagnostic has '{key}'")
check(first["file"] == "parse_unknown_words.kpi" and first["line"] == 1 and first["column"] == 8
      and first["end_column"] == 17, f"first diagnostic located at 1:8-17: {first}")
check(first["hints"] == ["the grains are day, week, month, quarter and year"], "hint kept")
check(json.loads(run("check", "kpi-specs/user-ops.kpi", "--format", "json").stdout) == [],
      "a clean spec gives []")

# SARIF 2.1.0, valid against the schema
p = run("check", "parse_unknown_words.kpi", "--format", "sarif", cwd="tests/cases")
log = json.loads(p.stdout)
try:
    jsonschema.validate(log, sarif_schema())
except jsonschema.ValidationError as e:
    check(False, f"SARIF validates against its schema: {e.message}")
results = log["runs"][0]["results"]
check(len(results) == 8, "one SARIF result per diagnostic")
region = results[0]["locations"][0]["physicalLocation"]["region"]
check(region == {"startLine": 1, "startColumn": 8, "endLine": 1, "endColumn": 17},
      f"SARIF region {region}")
rules = [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]]
check(all(r["ruleId"] in rules for r in results), "every ruleId is declared")
clean = json.loads(run("check", "kpi-specs/user-ops.kpi", "--format", "sarif").stdout)
jsonschema.validate(clean, sarif_schema())
# notes become relatedLocations
with_notes = json.loads(run("check", "parse_duplicate_clause.kpi", "--format", "sarif",
                            cwd="tests/cases").stdout)
jsonschema.validate(with_notes, sarif_schema())
related = with_notes["runs"][0]["results"][0].get("relatedLocations", [])
check(len(related) == 1 and related[0]["message"]["text"] == "the first 'where' clause",
      f"note as related location: {related}")

print(f"{6 + 10 + 6 + 10 - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
