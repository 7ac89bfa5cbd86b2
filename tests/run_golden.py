#!/usr/bin/env python3
"""Golden-file runner: runs kpic on tests/cases/NAME.kpi and compares with the files beside it.

  NAME.kpi   the input spec
  NAME.args  optional: the kpic command line, one argument per line, with {spec} for the
             spec path (default: check {spec})
  NAME.err   expected stderr, then a last line `exit: N` with the expected exit status
  NAME.out   optional: expected stdout (when absent, stdout must be empty)

The command runs inside tests/cases with the spec named relatively, so paths in the
expected text are stable. KPIC_UPDATE_GOLDEN=1 rewrites the expected files instead.

Every case runs twice, with a column cache of its own (XDG_CACHE_HOME in a fresh
temporary directory): cold, when kpic reads the data files and writes their cache, then
warm, when it replays the cache. Both runs must give the expected output exactly.
"""
import difflib, os, shutil, subprocess, sys, tempfile

kpic, spec = os.path.abspath(sys.argv[1]), sys.argv[2]
case_dir, spec_file = os.path.split(os.path.abspath(spec))
name = spec_file[:-len(".kpi")]
base = os.path.join(case_dir, name)

args = ["check", "{spec}"]
if os.path.exists(base + ".args"):
    with open(base + ".args", encoding="utf-8") as f:
        args = [line.rstrip("\n") for line in f if line.strip()]
argv = [kpic] + [a.replace("{spec}", spec_file) for a in args]
cache_home = tempfile.mkdtemp(prefix="kpic-golden-cache-")
env = dict(os.environ, XDG_CACHE_HOME=cache_home)
runs = []
try:
    for _ in range(1 if os.environ.get("KPIC_UPDATE_GOLDEN") else 2):
        proc = subprocess.run(argv, cwd=case_dir, capture_output=True, timeout=60, env=env)
        runs.append((proc.stderr.decode("utf-8", "replace") + f"exit: {proc.returncode}\n",
                     proc.stdout.decode("utf-8", "replace")))
finally:
    shutil.rmtree(cache_home, ignore_errors=True)
got_err, got_out = runs[0]

if os.environ.get("KPIC_UPDATE_GOLDEN"):
    with open(base + ".err", "w", encoding="utf-8") as f:
        f.write(got_err)
    if got_out or os.path.exists(base + ".out"):
        with open(base + ".out", "w", encoding="utf-8") as f:
            f.write(got_out)
    sys.exit(0)

def expect(path, got, label):
    want = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            want = f.read()
    elif label == "stderr":
        print(f"missing {path}; run with KPIC_UPDATE_GOLDEN=1 to create it")
        return False
    if want == got:
        return True
    print(f"{label} of {' '.join(argv[1:])} differs from {os.path.basename(path)}:")
    sys.stdout.writelines(difflib.unified_diff(
        want.splitlines(True), got.splitlines(True), "expected", "actual"))
    return False

ok = True
for run, (got_err, got_out) in zip(("cold", "warm"), runs):
    if not ok:
        break
    ok = expect(base + ".err", got_err, run + " stderr")
    ok = expect(base + ".out", got_out, run + " stdout") and ok
sys.exit(0 if ok else 1)
