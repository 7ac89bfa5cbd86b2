#!/usr/bin/env python3
"""--strict on every mistake the golden cases show: each golden case whose command warns
and exits 0 (a spec mistake the checker warns about, a data problem, a roster typo, a
stale export, …) is run again with --strict, which must refuse it — exit 1, nothing on
stdout, and for `score` with `-o FILE` no file created — and each case that exits 0
without a warning must run the same with --strict (its passing twin).

usage: test_strict_goldens.py KPIC   (run from the repository root)
"""
import glob, os, shutil, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from expect import check, finish  # noqa: E402

KPIC = os.path.abspath(sys.argv[1])
CASES = os.path.abspath("tests/cases")
# a column cache of its own: the e2e tests share one, and those that clear, corrupt or
# evict it while this one runs made a replay note appear in one of a pair of runs
# compared byte for byte (a flake seen beside the golden tests)
CACHE_HOME = tempfile.mkdtemp(prefix="kpic-strict-cache-")
os.environ["XDG_CACHE_HOME"] = CACHE_HOME
STRICT_COMMANDS = ("check", "eval", "score", "explain", "doc", "diff")


def case_args(spec):
    base = spec[:-len(".kpi")]
    args = ["check", "{spec}"]
    if os.path.exists(base + ".args"):
        with open(base + ".args", encoding="utf-8") as f:
            args = [line.rstrip("\n") for line in f if line.strip()]
    return [a.replace("{spec}", os.path.basename(spec)) for a in args]


refused = passed = 0
for spec in sorted(glob.glob(os.path.join(CASES, "*.kpi"))):
    args = case_args(spec)
    if args[0] not in STRICT_COMMANDS or "--skip-bad-rows" in args:
        continue                      # fmt takes no --strict; bad rows are refused by it
    with open(spec[:-len(".kpi")] + ".err", encoding="utf-8") as f:
        expected = f.read()
    if not expected.endswith("exit: 0\n"):
        continue
    name = os.path.basename(spec)
    plain = subprocess.run([KPIC, *args], cwd=CASES, capture_output=True, timeout=120)
    strict = subprocess.run([KPIC, *args, "--strict"], cwd=CASES, capture_output=True, timeout=120)
    # check's JSON carries its warnings on stdout, with the rest of its result
    if b"warning:" in plain.stderr or b'"severity": "warning"' in plain.stdout:
        refused += 1
        check(strict.returncode == 1, f"{name}: --strict exits {strict.returncode}, not 1")
        if args[0] != "check":        # check's JSON/SARIF report is its result, kept
            check(strict.stdout == b"", f"{name}: --strict wrote to stdout")
        check(b"--strict" in strict.stderr, f"{name}: --strict does not say why it refused")
        if args[0] == "score" and "-o" not in args and "--output" not in args:
            with tempfile.TemporaryDirectory() as d:
                out = os.path.join(d, "statements.out")
                r = subprocess.run([KPIC, *args, "--strict", "-o", out], cwd=CASES,
                                   capture_output=True, timeout=120)
                check(r.returncode == 1 and os.listdir(d) == [],
                      f"{name}: --strict -o left {os.listdir(d)} (exit {r.returncode})")
    else:
        passed += 1
        check(strict.returncode == 0 and strict.stdout == plain.stdout and strict.stderr == plain.stderr,
              f"{name}: a clean run changes under --strict (exit {strict.returncode})")

shutil.rmtree(CACHE_HOME, ignore_errors=True)
check(refused > 30, f"only {refused} warning cases were run with --strict")
check(passed > 30, f"only {passed} clean cases were run with --strict")
sys.exit(finish(f"strict: {refused} warning cases refused, {passed} clean cases unchanged"))
