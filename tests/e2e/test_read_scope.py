#!/usr/bin/env python3
"""End-to-end test of where a spec may read (docs/security.md).

A spec's imports and source paths stay inside its project root (the main spec's git
top-level, found by a `.git` entry, or its folder outside git) unless the command line
allows more (--data, --data-dir, --allow-read DIR); a file that is not a spec is never
quoted. Every "secret" here is a file this test writes outside a temporary project, so
nothing depends on the machine's own files: each check asserts the secret's text never
appears in any output (text, JSON, SARIF), and that the refusal is a located error.

usage: test_read_scope.py KPIC
"""
import json, os, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(__file__))
from expect import check, finish

KPIC = os.path.abspath(sys.argv[1])
SECRET = "SECRET_TOKEN_5b1e"
DATA_SPEC = """period month

source orders "%s" {
  id        text
  staff_id  text  staff
  amount    money
  paid_at   date  time
}

staff "staff.csv" {
  id    text
  name  text
  role  text
}

indicator n count per staff = count(orders)
"""


def run(*args, cwd):
    return subprocess.run([KPIC, *args], capture_output=True, cwd=cwd, timeout=60)


def out(p):
    return (p.stdout + p.stderr).decode("utf-8", "replace")


def write(path, text, mode="w"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(text)


with tempfile.TemporaryDirectory() as tmp:
    tmp = os.path.realpath(tmp)
    outside = os.path.join(tmp, "outside")
    proj = os.path.join(tmp, "proj")
    sub = os.path.join(proj, "specs")
    os.makedirs(os.path.join(proj, ".git"))
    write(os.path.join(outside, "secret.txt"), "indicator x count = %s\n" % SECRET)
    write(os.path.join(outside, "lib.kpi"), "indicator shared count = 1\n")
    write(os.path.join(outside, "environ"), "A=1\0TOKEN=%s\0" % SECRET)
    write(os.path.join(outside, "orders.csv"), "%s,id\n1,2\n" % SECRET)
    write(os.path.join(proj, "shared.kpi"), "indicator shared count = 1\n")
    write(os.path.join(proj, "binary.kpi"), b"indicator \xff\0 %s\n" % SECRET.encode(), "wb")
    write(os.path.join(sub, "staff.csv"), "id,name,role\ns1,Ann,agent\n")
    write(os.path.join(sub, "orders.csv"), "id,staff_id,amount,paid_at\na1,s1,1.00,2025-05-01\n")
    os.symlink(os.path.join(outside, "lib.kpi"), os.path.join(proj, "link.kpi"))

    def spec(name, text):
        if "staff " not in text:
            text += 'staff "staff.csv" {\n  id text\n  role text\n}\n'
        write(os.path.join(sub, name), text)
        return name

    # Imports that leave the project are refused, in every output format, unquoted.
    for target in ["../../outside/secret.txt", os.path.join(outside, "secret.txt"),
                   "../../outside/environ", "../link.kpi"]:
        name = spec("imports.kpi", 'period month\nimport "%s"\n' % target)
        for fmt in ["text", "json", "sarif"]:
            p = run("check", name, "--format", fmt, cwd=sub)
            check(p.returncode == 1, "import %s (%s): exit %d" % (target, fmt, p.returncode))
            check(SECRET not in out(p), "import %s (%s) leaks the file: %s" % (target, fmt, out(p)))
            check("outside the project root" in out(p), "import %s (%s): %s" % (target, fmt, out(p)))
        p = run("check", name, cwd=sub)
        check(out(p).startswith("imports.kpi:2:8: error: cannot import"),
              "the refusal is located at the import: %s" % out(p))

    # Inside the git top-level, above the spec's own folder: allowed.
    name = spec("up.kpi", 'period month\nimport "../shared.kpi"\n')
    p = run("check", name, cwd=sub)
    check(p.returncode == 0, "import inside the git root: %s" % out(p))
    # Outside git, the root is the spec's own folder.
    os.rmdir(os.path.join(proj, ".git"))
    p = run("check", name, cwd=sub)
    check(p.returncode == 1 and "outside the project root %s" % sub in out(p),
          "without .git the root is the spec's folder: %s" % out(p))
    write(os.path.join(proj, ".git"), "gitdir: /elsewhere\n")   # a worktree's .git file
    p = run("check", name, cwd=sub)
    check(p.returncode == 0, "a .git file marks the root too: %s" % out(p))

    # --allow-read DIR lets a spec read there.
    name = spec("allowed.kpi", 'period month\nimport "../../outside/lib.kpi"\n')
    p = run("check", name, "--allow-read", outside, cwd=sub)
    check(p.returncode == 0, "--allow-read: %s" % out(p))
    p = run("doc", name, cwd=sub)
    check(p.returncode == 1 and "outside the project root" in out(p), "doc without --allow-read: %s" % out(p))
    p = run("doc", name, "--allow-read", outside, cwd=sub)
    check(p.returncode == 0 and b"shared" in p.stdout, "doc --allow-read: %s" % out(p))
    p = run("check", name, "--allow-read", os.path.join(tmp, "elsewhere"), cwd=sub)
    check(p.returncode == 1, "--allow-read of another folder allows nothing here: %s" % out(p))

    # A file that is not text is not a spec, and none of its bytes are shown, even
    # when reading it is allowed.
    name = spec("binary.kpi", 'period month\nimport "../binary.kpi"\nimport "../../outside/environ"\n')
    for fmt in ["text", "json", "sarif"]:
        p = run("check", name, "--allow-read", outside, "--format", fmt, cwd=sub)
        check(p.returncode == 1 and SECRET not in out(p) and out(p).count("not a kpic spec") == 2,
              "binary imports (%s): %s" % (fmt, out(p)))

    # Source paths: a file outside the root is not opened, so its header is not listed.
    name = spec("data.kpi", DATA_SPEC % os.path.join(outside, "orders.csv"))
    p = run("eval", name, "--period", "2025-05", cwd=sub)
    check(p.returncode == 1 and SECRET not in out(p) and "outside the project root" in out(p)
          and out(p).startswith("data.kpi:3:15: error:"), "source outside: %s" % out(p))
    name = spec("data_rel.kpi", DATA_SPEC % "../../outside/orders.csv")
    p = run("eval", name, "--period", "2025-05", cwd=sub)
    check(p.returncode == 1 and SECRET not in out(p), "relative source outside: %s" % out(p))
    # ... unless the user names the file or allows its folder: then it is read.
    p = run("eval", name, "--period", "2025-05", "--allow-read", outside, cwd=sub)
    check(p.returncode == 1 and SECRET in out(p) and "not in the header" in out(p),
          "--allow-read for a source: %s" % out(p))
    p = run("eval", name, "--period", "2025-05", "--data", "orders=" + os.path.join(sub, "orders.csv"), cwd=sub)
    check(p.returncode == 0, "--data names the file: %s" % out(p))
    name = spec("data_dir.kpi", DATA_SPEC % "orders.csv")
    p = run("eval", name, "--period", "2025-05", "--data-dir", outside, "--data", "staff=staff.csv", cwd=sub)
    check(p.returncode == 1 and "not in the header" in out(p), "--data-dir allows its folder: %s" % out(p))
    p = run("eval", name, "--period", "2025-05", cwd=sub)
    check(p.returncode == 0, "a source inside the project: %s" % out(p))

sys.exit(finish("read scope: imports, binary files and source paths stay inside the project"))
