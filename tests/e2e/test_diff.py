#!/usr/bin/env python3
"""End-to-end tests of `kpic diff` on the example library (kpi-specs/user-ops.kpi).

  * the spec against itself: no differences in the definitions nor in 2025-05 ("changes
    no statement in 2025-05, nor any indicator value"); --exit-code gives 0, and the JSON
    says "differs": false;
  * the spec against a copy with extra spaces inside every formula's parentheses and
    comments added: still no differences, so reformatting never shows up in review;
  * one weight moved between two kpis of a role: exactly those two definition lines,
    every staff line of that role's staff (and only of that role), an impact summary
    whose role rows and total add up, staff sorted by the size of their bonus change;
    --exit-code gives 1;
  * a roster that lost one person and gained another: exactly those two staff lines;
  * REV:PATH on a scratch git repository: the spec and the import it changed are read
    from the commit (both changes show), from the root and from a sub-folder (`./`), the
    data (not in git) from the working tree; a moved spec whose data is not where the
    old revision says gets a hint naming --data-dir, and works with it; an unknown
    revision, a path not in the revision and a folder outside git are usage errors;
  * `-` reads OLD from stdin, its imports and data relative to the current folder;
  * every JSON output validates against docs/schemas/diff.schema.json, and its totals
    are the sums of its rows; the Markdown has its table and collapsible sections;
  * usage errors (one spec, data options without --period, an unknown option or format,
    `-` twice) exit 2.
The golden cases tests/cases/diff_*.kpi fix the exact text on small specs.

usage: test_diff.py KPIC   (run from the repository root)
"""
import json, os, re, shutil, subprocess, sys, tempfile
from decimal import Decimal

import jsonschema

from expect import check, finish, kpic_runner

SPEC = "kpi-specs/user-ops.kpi"
KPIC = os.path.abspath(sys.argv[1])
SCHEMA_PATH = os.path.abspath("docs/schemas/diff.schema.json")
diff = kpic_runner("diff")

with open(SCHEMA_PATH, encoding="utf-8") as f:
    SCHEMA = json.load(f)
jsonschema.Draft202012Validator.check_schema(SCHEMA)


def lines(p):
    return p.stdout.decode("utf-8").splitlines()


def section(out, title):
    """The lines of the section whose header starts with TITLE, up to the next blank."""
    for i, l in enumerate(out):
        if l.startswith(title):
            end = out.index("", i) if "" in out[i:] else len(out)
            return out[i + 1:end]
    return None


def as_json(p, what):
    """The JSON on stdout of P, validated against the schema, with its sums checked."""
    try:
        doc = json.loads(p.stdout.decode("utf-8"), parse_float=Decimal)
    except ValueError as e:
        check(False, "%s: stdout is no JSON (%s): %r" % (what, e, p.stdout[:200]))
        return None
    # the schema checks numbers as numbers: decimals are numbers to it
    try:
        jsonschema.validate(json.loads(p.stdout.decode("utf-8")), SCHEMA, cls=jsonschema.Draft202012Validator)
    except jsonschema.ValidationError as e:
        check(False, "%s: the JSON does not follow docs/schemas/diff.schema.json: %s" % (what, e.message))
    for pd in doc["periods"]:
        t = pd["total_bonus"]
        check(sum((r["bonus_before"] for r in pd["roles"]), Decimal(0)) == t["before"] and
              sum((r["bonus_after"] for r in pd["roles"]), Decimal(0)) == t["after"] and
              t["after"] - t["before"] == t["change"], "%s: the roles do not add up to the total: %s" % (what, t))
        changes = [abs(s["bonus_change"]) for s in pd["staff"]]
        check(changes == sorted(changes, reverse=True), "%s: staff not sorted by the size of the change" % what)
        check(pd["changes_statements"] == bool(pd["staff"]), "%s: changes_statements disagrees with staff" % what)
    return doc


def git(repo, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com", GIT_CONFIG_NOSYSTEM="1", HOME=repo)
    p = subprocess.run(["git", *args], cwd=repo, capture_output=True, env=env)
    check(p.returncode == 0, "git %s failed: %r" % (" ".join(args), p.stderr[:300]))
    return p


def run_in(cwd, *args, stdin=None):
    return subprocess.run([KPIC, "diff", *args], cwd=cwd, capture_output=True, input=stdin, timeout=120)


def test_same_and_reformatted():
    same = diff(SPEC, SPEC, "--period", "2025-05", "--quiet", "--exit-code")
    check(same.returncode == 0, "diff of the spec with itself failed or differs: %r" % same.stderr[:300])
    out = lines(same)
    check("  changes no statement in 2025-05, nor any indicator value" in out and
          section(out, "definitions:") == ["  no differences"],
          "the spec differs from itself:\n" + same.stdout.decode()[:800])
    j = as_json(diff(SPEC, SPEC, "--period", "2025-05", "--quiet", "--format", "json"), "self, JSON")
    check(j is not None and j["differs"] is False and j["periods"][0]["staff"] == [], "the JSON of a self diff differs")

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
        p = diff(SPEC, main_copy, "--exit-code")
        check(p.returncode == 0 and section(lines(p), "definitions:") == ["  no differences"],
              "reformatting shows as a difference:\n" + p.stdout.decode()[:800])
        return text


def test_moved_weight_and_roster(text):
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "spec")
        shutil.copytree("kpi-specs", copy)
        main_copy = os.path.join(copy, "user-ops.kpi")
        moved = text.replace("weight 35%  target >= staff.quota", "weight 30%  target >= staff.quota", 1)
        moved = moved.replace("weight 25%  target <= 35", "weight 30%  target <= 35", 1)
        check(moved != text, "the example's promotion weights were not found")
        with open(main_copy, "w", encoding="utf-8") as f:
            f.write(moved)
        args = (SPEC, main_copy, "--period", "2025-05", "--data-dir", "kpi-specs", "--quiet")
        p = diff(*args)
        out = lines(p)
        check(p.returncode == 0, "diff with a moved weight failed: %r" % p.stderr[:300])
        check(section(out, "definitions:") == ["  role promotion: kpi new_users: weight 35% → 30%",
                                               "  role promotion: kpi acquisition_cost: weight 25% → 30%"],
              "definition lines: %s" % section(out, "definitions:"))
        staff = section(out, "staff in 2025-05") or []
        check(len(staff) > 1 and all(re.match(r"  s\d+ \S+ +promotion ", l) for l in staff[1:]),
              "staff lines are not all promotion statements: %s" % staff[:5])
        check(out[2] == "impact in 2025-05:" and out[3].startswith("  total bonus "),
              "the impact summary does not come first: %s" % out[:4])
        check(diff(*args, "--exit-code").returncode == 1, "--exit-code does not give 1 when statements differ")
        j = as_json(diff(*args, "--format", "json"), "moved weight, JSON")
        if j:
            pd = j["periods"][0]
            check(pd["changes_statements"] and {s["after"]["role"] for s in pd["staff"]} == {"promotion"},
                  "JSON staff of the moved weight: %s" % pd["staff"][:2])
            check(pd["people"]["gain"] + pd["people"]["lose"] <= len(pd["staff"]), "more gains and losses than people")
        md = diff(*args, "--format", "md").stdout.decode("utf-8")
        check(md.startswith("### kpic diff: ") and "| role | staff | bonus before | bonus after | change |" in md
              and md.count("<details>") == md.count("</details>") >= 2 and "```diff" in md,
              "the Markdown lacks its summary table or collapsible sections:\n" + md[:600])

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
        staff = section(lines(p), "staff in 2025-05") or []
        check(p.returncode == 0, "diff with another roster failed: %r" % p.stderr[:300])
        check(len(staff) == 3, "other statements moved with the roster: %s" % staff)
        check(any(re.match(r"  s02 \S+ +promotion → unscored \(not on the roster\) ", l) for l in staff),
              "s02, gone from the roster, is not reported: %s" % staff)
        check(any(re.match(r"  s99 新人 +unscored \(not on the roster\) → promotion ", l) for l in staff),
              "s99, new on the roster, is not reported: %s" % staff)


def test_revisions():
    with tempfile.TemporaryDirectory() as tmp:
        repo = os.path.join(tmp, "repo")
        shutil.copytree("kpi-specs", os.path.join(repo, "kpi-specs"))
        # data is usually not in git: the revision's spec reads the working tree's
        with open(os.path.join(repo, ".gitignore"), "w") as f:
            f.write("kpi-specs/data/\n")
        git(repo, "init", "-q")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "specs")
        main = os.path.join(repo, SPEC)
        lib = os.path.join(repo, "kpi-specs", "lib", "indicators.kpi")
        with open(main, encoding="utf-8") as f:
            text = f.read()
        with open(main, "w", encoding="utf-8") as f:
            f.write(text.replace("weight 35%  target >= staff.quota", "weight 30%  target >= staff.quota", 1)
                        .replace("weight 25%  target <= 35", "weight 30%  target <= 35", 1))
        with open(lib, encoding="utf-8") as f:
            lib_text = f.read()
        changed_lib = lib_text.replace('count per staff = count(users)\n', 'count per staff = count(users where channel != "")\n', 1)
        check(changed_lib != lib_text, "the import's new_users formula was not found")
        with open(lib, "w", encoding="utf-8") as f:
            f.write(changed_lib)
        want = ["  indicator new_users: formula count(users) → count(users where channel != \"\")",
                "  role promotion: kpi new_users: weight 35% → 30%",
                "  role promotion: kpi acquisition_cost: weight 25% → 30%"]

        p = run_in(repo, "HEAD:" + SPEC, SPEC, "--period", "2025-05", "--quiet")
        check(p.returncode == 0, "REV:PATH from the root failed: %r" % p.stderr[:400])
        check(section(lines(p), "definitions:") == want,
              "REV:PATH did not read the spec and its import from the commit: %s" % section(lines(p), "definitions:"))
        check(section(lines(p), "staff in 2025-05") is not None, "REV:PATH: no statement moved")
        as_json(run_in(repo, "HEAD:" + SPEC, SPEC, "--period", "2025-05", "--quiet", "--format", "json"),
                "REV:PATH, JSON")

        sub = os.path.join(repo, "kpi-specs")
        for old in ["HEAD:./user-ops.kpi", "HEAD:" + SPEC, "HEAD:../kpi-specs/./lib/../user-ops.kpi"]:
            q = run_in(sub, old, "user-ops.kpi")
            check(q.returncode == 0 and section(lines(q), "definitions:") == want,
                  "REV:PATH %s from a sub-folder: exit %d %r %s" % (old, q.returncode, q.stderr[:300], lines(q)[:6]))

        # OLD from stdin: imports and data relative to the current folder
        old_text = git(repo, "show", "HEAD:" + SPEC).stdout
        q = run_in(sub, "-", "user-ops.kpi", "--period", "2025-05", "--quiet", stdin=old_text)
        check(q.returncode == 0, "OLD from stdin failed: %r" % q.stderr[:300])
        check(section(lines(q), "definitions:") == want[1:],
              "OLD from stdin (its import from the working tree): %s" % section(lines(q), "definitions:"))
        q = run_in(repo, "-", SPEC, stdin=old_text)
        check(q.returncode == 1 and b"lib/indicators.kpi" in q.stderr,
              "stdin's imports are not resolved against the current folder: exit %d %r" % (q.returncode, q.stderr[:300]))

        # the spec moved away from its data: the hint names --data-dir, which fixes it
        shutil.move(sub, os.path.join(repo, "specs"))
        q = run_in(repo, "HEAD:" + SPEC, "specs/user-ops.kpi", "--period", "2025-05", "--quiet")
        err = q.stderr.decode("utf-8")
        check(q.returncode == 2 and q.stdout == b"" and "OLD (HEAD:kpi-specs/user-ops.kpi)" in err and
              "--data-dir" in err, "no --data-dir hint for OLD's missing data: exit %d %s" % (q.returncode, err[:600]))
        q = run_in(repo, "HEAD:" + SPEC, "specs/user-ops.kpi", "--period", "2025-05", "--quiet", "--data-dir", "specs")
        check(q.returncode == 0 and section(lines(q), "definitions:") == want,
              "--data-dir does not fix the moved spec: exit %d %r" % (q.returncode, q.stderr[:300]))

        for args, what, needle in [(["nosuchrev:" + SPEC, "specs/user-ops.kpi"], "an unknown revision", "no revision"),
                                   (["HEAD:nope/x.kpi", "specs/user-ops.kpi"], "a path not in the revision",
                                    "no file 'nope/x.kpi' in revision HEAD"),
                                   (["HEAD:../outside.kpi", "specs/user-ops.kpi"], "a path above the repository",
                                    "outside")]:
            q = run_in(repo, *args)
            check(q.returncode == 2 and q.stdout == b"" and needle in q.stderr.decode("utf-8"),
                  "%s: exit %d %r" % (what, q.returncode, q.stderr[:300]))
        outside = os.path.join(tmp, "plain")
        os.mkdir(outside)
        q = run_in(outside, "HEAD:x.kpi", os.path.join(repo, "specs", "user-ops.kpi"),
                   )
        check(q.returncode == 2 and b"not in a git repository" in q.stderr,
              "REV:PATH outside a repository: exit %d %r" % (q.returncode, q.stderr[:300]))


def test_usage():
    for args, what in [([SPEC], "one spec"), ([SPEC, SPEC, "--data-dir", "x"], "data options without --period"),
                       ([SPEC, SPEC, "--colour"], "an unknown option"), ([SPEC, SPEC, SPEC], "three specs"),
                       ([SPEC, SPEC, "--format", "html"], "an unknown format"), (["-", "-"], "stdin twice"),
                       ([SPEC, SPEC, "--period", "2025-05", "--skip-bad-rows", "--rejects", "/tmp/r.csv"],
                        "--rejects (both specs would write it)")]:
        u = diff(*args)
        check(u.returncode == 2 and u.stdout == b"", "%s is not a usage error (exit %d)" % (what, u.returncode))


def main():
    text = test_same_and_reformatted()
    test_moved_weight_and_roster(text)
    test_revisions()
    test_usage()
    return finish("diff: all fine")


sys.exit(main())
