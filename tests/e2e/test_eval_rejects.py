#!/usr/bin/env python3
"""End-to-end test of `kpic eval --skip-bad-rows --rejects FILE` (docs/cli.md, issue 4 §2).

Golden files capture only stdout and stderr, so the rejects file is checked here, on
the data of the golden cases eval_bad_data / eval_bad_data_skip
(tests/cases/eval_bad_data/orders.csv). Expected by hand from that file:

  line 3  a2,s1,12.x5,2025-05-02          field 3 (amount): bad money "12.x5"
  line 4  a3,s2,5.00,2025-05-32           field 4 (paid_at): no such day
  line 6  a5,s1                           ragged: 2 fields, the header has 4
  line 7  a6,s2,"1,000.00",2025-05-04     field 3 (amount): bad money "1,000.00"
  line 9  a8,s2,1.00,2025-05-06,extra     ragged: 5 fields, the header has 4

The rejects file is CSV with the header source,file,line,field,reason,record; `record`
is the row exactly as it stands in the data file (quotes and all). Also checked:
--rejects without --skip-bad-rows is a usage error; a run that fails writes no rejects
file and leaves an existing one untouched; an unwritable rejects path is an I/O error
with nothing on stdout; a run with no bad row writes the header alone.

usage: test_eval_rejects.py KPIC   (run from the repository root; ctest does that)
"""
import csv, io, json, os, shutil, subprocess, sys, tempfile

KPIC = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.abspath("build/kpic")
CASES = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "cases"))
SPEC = "eval_bad_data_skip.kpi"          # run inside tests/cases, like the golden runner
DATA = "eval_bad_data/orders.csv"
failures = []


def run(*args, cwd=CASES):
    return subprocess.run([KPIC, *args], capture_output=True, cwd=cwd, timeout=60)


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def read_rejects(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


with open(os.path.join(CASES, DATA), encoding="utf-8", newline="") as f:
    raw_lines = f.read().split("\n")   # raw_lines[n - 1] is file line n

EXPECTED = [  # (line, field, words the reason must contain)
    (3, 3, ["12.x5", "amount"]),
    (4, 4, ["2025-05-32", "paid_at"]),
    (6, 3, ["2 fields"]),
    (7, 3, ["1,000.00", "amount"]),
    (9, 5, ["5 fields"]),
]

tmp = tempfile.mkdtemp(prefix="kpic-rejects-")
try:
    # 1. the rejects file of a good run
    rejects = os.path.join(tmp, "rejects.csv")
    p = run("eval", SPEC, "--period", "2025-05", "--skip-bad-rows", "--rejects", rejects,
            "--format", "json")
    check(p.returncode == 0, f"skip run exits 0 (got {p.returncode}: {p.stderr!r})")
    out = json.loads(p.stdout)
    err = p.stderr.decode("utf-8")
    check("warning: 5 bad rows of source 'orders' skipped (--skip-bad-rows)" in err
          and f"hint: {rejects} has them with the reasons" in err,
          f"the skipped rows are a warning naming the rejects file (got {err!r})")
    orders = [s for s in out["sources"] if s["name"] == "orders"]
    check(len(orders) == 1 and orders[0]["rows"] == 3 and orders[0]["skipped"] == 5,
          f"sources: orders rows 3, skipped 5 (got {orders})")
    rows = read_rejects(rejects) if os.path.exists(rejects) else []
    check(os.path.exists(rejects), "rejects file written")
    check(rows[:1] == [["source", "file", "line", "field", "reason", "record"]],
          f"rejects header (got {rows[:1]})")
    body = rows[1:]
    check(len(body) == len(EXPECTED), f"{len(EXPECTED)} rejected rows (got {len(body)})")
    for got, (line, field, words) in zip(body, EXPECTED):
        check(len(got) == 6, f"line {line}: 6 fields (got {got})")
        if len(got) != 6:
            continue
        source, file, gline, gfield, reason, record = got
        check(source == "orders", f"line {line}: source orders (got {source!r})")
        check(file == DATA, f"line {line}: file {DATA} (got {file!r})")
        check(gline == str(line), f"line {line}: line number (got {gline!r})")
        check(gfield == str(field), f"line {line}: field {field} (got {gfield!r})")
        for w in words:
            check(w in reason, f"line {line}: reason mentions {w!r} (got {reason!r})")
        check(record == raw_lines[line - 1],
              f"line {line}: record verbatim {raw_lines[line - 1]!r} (got {record!r})")

    # the same figures as without --rejects (the golden case eval_bad_data_skip)
    with open(os.path.join(CASES, "eval_bad_data_skip.out"), encoding="utf-8") as f:
        check(p.stdout.decode("utf-8") == f.read(), "stdout equals eval_bad_data_skip.out")

    # 2. --rejects needs --skip-bad-rows: a usage error, no file
    r2 = os.path.join(tmp, "r2.csv")
    p = run("eval", SPEC, "--period", "2025-05", "--rejects", r2, "--format", "json")
    check(p.returncode == 2, f"--rejects alone exits 2 (got {p.returncode})")
    check(p.stdout == b"", "--rejects alone: nothing on stdout")
    check(not os.path.exists(r2), "--rejects alone: no rejects file")

    # 3. a run that fails after skipping rows writes no rejects file, and an existing
    #    one is left as it was (files are written whole or not at all)
    two = os.path.join(tmp, "two")
    os.makedirs(two)
    shutil.copy(os.path.join(CASES, DATA), os.path.join(two, "orders.csv"))
    shutil.copy(os.path.join(CASES, "eval_bad_data", "staff.csv"), os.path.join(two, "staff.csv"))
    with open(os.path.join(two, "other.csv"), "w", encoding="utf-8") as f:
        f.write("id,x\n1,2\n")
    with open(os.path.join(two, "spec.kpi"), "w", encoding="utf-8") as f:
        f.write('period month\n'
                'source orders "orders.csv" {\n  id text\n  staff_id text staff\n'
                '  amount money\n  paid_at date time\n}\n'
                'source other "other.csv" {\n  id text\n  y int\n}\n'
                'staff "staff.csv" {\n  id text\n  name text\n  role text\n}\n'
                'indicator n count = count(orders)\n'
                'indicator m number = sum(other.y)\n')
    r3 = os.path.join(tmp, "r3.csv")
    p = run("eval", "spec.kpi", "--period", "2025-05", "--skip-bad-rows", "--rejects", r3,
            "--format", "json", cwd=two)
    check(p.returncode == 1, f"missing column exits 1 (got {p.returncode})")
    check(p.stdout == b"", "failed run: nothing on stdout")
    check(b"'y'" in p.stderr, f"failed run names the missing column (got {p.stderr!r})")
    check(not os.path.exists(r3), "failed run: no rejects file")
    with open(r3, "w", encoding="utf-8") as f:
        f.write("old content\n")
    p = run("eval", "spec.kpi", "--period", "2025-05", "--skip-bad-rows", "--rejects", r3,
            "--format", "json", cwd=two)
    with open(r3, encoding="utf-8") as f:
        check(f.read() == "old content\n", "failed run leaves an existing rejects file alone")

    # 4. an unwritable rejects path: I/O error (exit 2), nothing on stdout
    p = run("eval", SPEC, "--period", "2025-05", "--skip-bad-rows", "--rejects",
            os.path.join(tmp, "no", "such", "dir", "r.csv"), "--format", "json")
    check(p.returncode == 2, f"unwritable rejects path exits 2 (got {p.returncode})")
    check(p.stdout == b"", "unwritable rejects path: nothing on stdout")

    # 5. no bad row: the header alone
    r5 = os.path.join(tmp, "r5.csv")
    p = run("eval", "eval_count_sum.kpi", "--period", "2025-05", "--skip-bad-rows",
            "--rejects", r5, "--format", "json")
    check(p.returncode == 0, f"clean run exits 0 (got {p.returncode})")
    check(os.path.exists(r5) and read_rejects(r5) ==
          [["source", "file", "line", "field", "reason", "record"]],
          "clean run: rejects file holds the header alone")

    # 6. a run that fails after reading (an overflow) leaves the old rejects file: it is
    #    written only with the output
    r6 = os.path.join(tmp, "r6.csv")
    with open(r6, "w") as f:
        f.write("last month\n")
    p = run("eval", "eval_overflow.kpi", "--period", "2025-05", "--skip-bad-rows",
            "--rejects", r6, "--format", "json")
    check(p.returncode == 1 and p.stdout == b"", f"overflow run exits 1 with no output (got {p.returncode})")
    with open(r6) as f:
        check(f.read() == "last month\n", "a failed run left the old rejects file as it was")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print(f"{'FAILED' if failures else 'ok'}: {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
