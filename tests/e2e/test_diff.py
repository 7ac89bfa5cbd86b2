#!/usr/bin/env python3
"""End-to-end tests of `kpic diff` on the example library (kpi-specs/user-ops.kpi).

  * the spec against itself: no differences in the definitions, nor in the results of
    2025-05 (every indicator and statement compared);
  * the spec against a copy with extra spaces inside every formula's parentheses and
    comments added: still no differences, so reformatting never shows up in review;
  * one weight moved between two kpis of a role: exactly those two definition lines,
    and every statement line of that role's staff (and only of that role) in the
    results;
  * a roster that lost one person and gained another: exactly those two statement
    lines ("… → not on the roster", "unscored (not on the roster) → …");
  * usage errors (one spec, data options without --period, an unknown option) exit 2.
The golden cases tests/cases/diff_*.kpi fix the exact text on small specs.

usage: test_diff.py KPIC   (run from the repository root)
"""
import os, re, shutil, sys, tempfile

from expect import check, finish, kpic_runner

SPEC = "kpi-specs/user-ops.kpi"
diff = kpic_runner("diff")


def lines(p):
    return p.stdout.decode("utf-8").splitlines()


def main():
    same = diff(SPEC, SPEC, "--period", "2025-05", "--quiet")
    check(same.returncode == 0, "diff of the spec with itself failed: %r" % same.stderr[:300])
    check(lines(same).count("  no differences") == 2, "the spec differs from itself:\n" + same.stdout.decode()[:500])

    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "spec")
        shutil.copytree("kpi-specs", copy)
        main_copy = os.path.join(copy, "user-ops.kpi")
        with open(main_copy, encoding="utf-8") as f:
            text = f.read()
        # spaces inside parentheses and a comment on every formula line; lines with a
        # string are left alone, their text is part of the definition
        respaced = "\n".join(l if '"' in l else re.sub(r"\(", "( ", l) + ("  # reformatted" if "(" in l and "#" not in l else "")
                             for l in text.split("\n"))
        check(respaced != text, "the reformatting changed nothing")
        with open(main_copy, "w", encoding="utf-8") as f:
            f.write(respaced)
        p = diff(SPEC, main_copy)
        check(p.returncode == 0 and lines(p)[1:] == ["  no differences"],
              "reformatting shows as a difference:\n" + p.stdout.decode()[:800])

        moved = text.replace("weight 35%  target >= staff.quota", "weight 30%  target >= staff.quota", 1)
        moved = moved.replace("weight 25%  target <= 35", "weight 30%  target <= 35", 1)
        check(moved != text, "the example's promotion weights were not found")
        with open(main_copy, "w", encoding="utf-8") as f:
            f.write(moved)
        p = diff(SPEC, main_copy, "--period", "2025-05", "--data-dir", "kpi-specs", "--quiet")
        out = lines(p)
        check(p.returncode == 0, "diff with a moved weight failed: %r" % p.stderr[:300])
        definitions = out[1:out.index("")]
        check(definitions == ["  role promotion: kpi new_users: weight 35% → 30%",
                              "  role promotion: kpi acquisition_cost: weight 25% → 30%"],
              "definition lines: %s" % definitions)
        results = out[out.index("") + 2:]
        check(results and all(re.match(r"  2025-05 staff \S+ .*\(promotion\): score ", l) for l in results),
              "result lines are not all promotion statements: %s" % results[:5])

        # rosters that differ: NEW's data drops s02 and hires s99 into promotion
        with open(main_copy, "w", encoding="utf-8") as f:
            f.write(text)
        staff_csv = os.path.join(copy, "data", "staff.csv")
        with open(staff_csv, encoding="utf-8") as f:
            rows = f.read().splitlines()
        rows = [r for r in rows if not r.startswith("s02,")] + ["s99,新人,promotion,4000.00,,,10"]
        with open(staff_csv, "w", encoding="utf-8") as f:
            f.write("\n".join(rows) + "\n")
        p = diff(SPEC, main_copy, "--period", "2025-05", "--quiet")
        out = lines(p)
        check(p.returncode == 0, "diff with another roster failed: %r" % p.stderr[:300])
        check(any(l.startswith("  2025-05 staff s02: statement") and l.endswith("→ not on the roster")
                  for l in out), "s02, gone from the roster, is not reported: %s" % out[-6:])
        check(any(l.startswith("  2025-05 staff s99 新人: statement unscored (not on the roster) → promotion, score ")
                  for l in out), "s99, new on the roster, is not reported: %s" % out[-6:])
        staff_lines = [l for l in out if l.startswith("  2025-05 staff ")]
        check(len(staff_lines) == 2, "other statements moved with the roster: %s" % staff_lines)

    for args, what in [([SPEC], "one spec"), ([SPEC, SPEC, "--data-dir", "x"], "data options without --period"),
                       ([SPEC, SPEC, "--colour"], "an unknown option"), ([SPEC, SPEC, SPEC], "three specs"),
                       ([SPEC, SPEC, "--period", "2025-05", "--skip-bad-rows", "--rejects", "/tmp/r.csv"],
                        "--rejects (both specs would write it)")]:
        u = diff(*args)
        check(u.returncode == 2 and u.stdout == b"", "%s is not a usage error (exit %d)" % (what, u.returncode))

    return finish("diff: all fine")


sys.exit(main())
