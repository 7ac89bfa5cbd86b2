#!/usr/bin/env python3
"""End-to-end test of `--strict` (docs/cli.md "--strict"): every command that checks a
spec turns its warnings into a refusal. The warnings are printed exactly as without
--strict, then one line `kpic: --strict: N warning(s) count as errors; nothing was
written`; the exit status is 1, stdout gets nothing and no output file is created or
changed. Runs on golden cases that warn (tests/cases), each compared with the same
run without --strict; the passing twin of each is the clean example spec, whose output
is the same with and without --strict. `check --strict` keeps its JSON/SARIF report
on stdout (the report is the result) and exits 1.

usage: test_strict.py KPIC
"""
import os, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from expect import check, finish

KPIC = os.path.abspath(sys.argv[1])
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CASES = os.path.join(ROOT, "tests", "cases")
CLEAN = os.path.join(ROOT, "kpi-specs", "user-ops.kpi")


def run(*args, cwd=CASES):
    return subprocess.run([KPIC, *args], capture_output=True, cwd=cwd, timeout=120)


def refusal(n):
    return ("kpic: --strict: %d warning%s count%s as errors; nothing was written\n"
            % (n, "" if n == 1 else "s", "s" if n == 1 else "")).encode()


def strict_refuses(args, warnings, what):
    plain = run(*args)
    check(plain.returncode == 0 and plain.stdout and b"warning" in plain.stderr,
          "%s without --strict: exit 0 with warnings and output (%d)" % (what, plain.returncode))
    strict = run(*args, "--strict")
    check(strict.returncode == 1, "%s --strict: exit 1 (got %d)" % (what, strict.returncode))
    check(strict.stdout == b"", "%s --strict: nothing on stdout" % what)
    check(strict.stderr == plain.stderr + refusal(warnings),
          "%s --strict: the same warnings, then the refusal (%r)" % (what, strict.stderr[-200:]))


def strict_passes(args, what):
    plain = run(*args)
    strict = run(*args, "--strict")
    check(plain.returncode == 0 and strict.returncode == 0 and strict.stdout == plain.stdout
          and strict.stderr == plain.stderr, "%s --strict on a clean spec: the same run, exit 0 (%d %r)"
          % (what, strict.returncode, strict.stderr[-200:]))


def main():
    strict_refuses(["score", "score_rules.kpi", "--period", "2025-05"], 3, "score")
    strict_refuses(["score", "score_rules.kpi", "--period", "2025-05", "--format", "json"], 3, "score json")
    strict_refuses(["eval", "eval_scale_range.kpi", "--period", "2025-05", "--format", "json"], 2, "eval (scale)")
    strict_refuses(["eval", "eval_count_sum.kpi", "--period", "2025-05"], 1, "eval (data warning)")
    strict_refuses(["doc", "check_role_kpi_count.kpi"], 2, "doc")
    strict_refuses(["diff", "check_role_kpi_count.kpi", "check_ok_full.kpi"], 2, "diff (OLD warns)")
    strict_refuses(["diff", "check_ok_full.kpi", "check_role_kpi_count.kpi"], 2, "diff (NEW warns)")

    # -o: no file created, an existing one untouched, no temporary file
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out.csv")
        r = run("score", "score_rules.kpi", "--period", "2025-05", "--format", "csv", "-o", out, "--strict")
        check(r.returncode == 1 and not os.listdir(d), "score -o --strict: no file (%s)" % os.listdir(d))
        with open(out, "w") as f:
            f.write("last month\n")
        r = run("score", "score_rules.kpi", "--period", "2025-05", "--format", "csv", "-o", out, "--strict")
        check(r.returncode == 1 and open(out).read() == "last month\n" and os.listdir(d) == ["out.csv"],
              "score -o --strict: the existing file untouched")
        doc = os.path.join(d, "doc.md")
        r = run("doc", "check_role_kpi_count.kpi", "-o", doc, "--strict")
        check(r.returncode == 1 and not os.path.exists(doc), "doc -o --strict: no file")

    # check: text says so on stderr; JSON and SARIF keep their report on stdout
    r = run("check", "check_role_kpi_count.kpi", "--strict")
    check(r.returncode == 1 and r.stderr.endswith(b"2 warnings\nkpic: --strict: 2 warnings count as errors\n"),
          "check --strict: exit 1 and the line (%r)" % r.stderr[-120:])
    for fmt in ("json", "sarif"):
        plain = run("check", "check_role_kpi_count.kpi", "--format", fmt)
        r = run("check", "check_role_kpi_count.kpi", "--format", fmt, "--strict")
        check(r.returncode == 1 and r.stdout == plain.stdout and b"--strict: 2 warnings" in r.stderr,
              "check --format %s --strict: the report, exit 1" % fmt)

    # --strict refuses bad rows, so it does not go with --skip-bad-rows
    r = run("score", "score_rules.kpi", "--period", "2025-05", "--skip-bad-rows", "--strict")
    check(r.returncode == 2 and b"--strict refuses bad rows" in r.stderr and r.stdout == b"",
          "--strict --skip-bad-rows: usage error")

    # errors stay errors (exit 1 from the spec, not from --strict)
    r = run("check", "check_cycle.kpi", "--strict")
    check(r.returncode == 1 and b"--strict" not in r.stderr, "check --strict on errors: exit 1, no --strict line")

    # passing twins: the clean example, every command
    strict_passes(["check", CLEAN], "check")
    strict_passes(["check", CLEAN, "--format", "json"], "check json")
    strict_passes(["score", CLEAN, "--period", "2025-05"], "score")
    strict_passes(["score", CLEAN, "--period", "2025-01..2025-06", "--format", "csv"], "score range")
    strict_passes(["eval", CLEAN, "--period", "2025-05"], "eval")
    strict_passes(["explain", CLEAN, "--period", "2025-05", "--staff", "s01"], "explain")
    strict_passes(["doc", CLEAN], "doc")
    strict_passes(["diff", CLEAN, CLEAN, "--period", "2025-05"], "diff")
    strict_passes(["check", "check_ok_full.kpi"], "check (golden twin)")
    return finish("strict: warnings refuse the run")


if __name__ == "__main__":
    sys.exit(main())
