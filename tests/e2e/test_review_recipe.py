#!/usr/bin/env python3
"""The CI recipe for users' repositories (examples/github-actions/kpi-review.yml,
docs/review.md), validated:

  * the workflow is YAML that parses, with the triggers, permissions and steps the
    documentation describes;
  * the shell of every step that runs kpic is run as written, with GitHub's
    expressions filled in, on a scratch git repository with two commits (a base and a
    change to the example spec): check writes SARIF, fmt --check passes, test writes a
    JUnit report that passes, and the diff against the base in Markdown names the change;
  * on a change that breaks a test and the layout, the same steps fail and the verdict
    step fails the job, while the diff is still written.

usage: test_review_recipe.py KPIC   (run from the repository root)
"""
import json, os, re, shutil, subprocess, sys, tempfile
import xml.etree.ElementTree as ET

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from expect import check, finish  # noqa: E402

KPIC = os.path.abspath(sys.argv[1])
WORKFLOW = "examples/github-actions/kpi-review.yml"

with open(WORKFLOW, encoding="utf-8") as f:
    wf = yaml.safe_load(f)

# `on:` is YAML 1.1's boolean true to PyYAML
triggers = wf.get("on", wf.get(True))
check(isinstance(triggers, dict) and "pull_request" in triggers, "the workflow runs on pull requests")
perms = wf.get("permissions", {})
for p in ("pull-requests", "security-events"):
    check(perms.get(p) == "write", f"permission {p}: write")
steps = wf["jobs"]["review"]["steps"]
names = [s.get("name", s.get("uses", "")) for s in steps]
for s in steps:
    check(("run" in s) != ("uses" in s), f"step {s.get('name')} has exactly one of run and uses")
runs = {s["name"]: s for s in steps if "run" in s}
uses = [s["uses"] for s in steps if "uses" in s]
check(any(u.startswith("github/codeql-action/upload-sarif@") for u in uses), "SARIF is uploaded")
check(any(u.startswith("actions/checkout@") for u in uses), "the repository is checked out")
for name in ("kpic check", "kpic fmt --check", "kpic test", "kpic diff against the base branch",
             "Comment the diff on the pull request", "Verdict"):
    check(name in runs, f"a step '{name}'")
check("--format sarif" in runs["kpic check"]["run"], "check writes SARIF")
check("--format junit" in runs["kpic test"]["run"], "test writes JUnit")
check("--format md" in runs["kpic diff against the base branch"]["run"], "diff writes Markdown")
checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
check(checkout.get("with", {}).get("fetch-depth") == 0, "the checkout has the base branch's history")

ENV = dict(wf.get("env", {}))


def expand(text, outcomes):
    """GitHub's ${{ … }} expressions, as the runner would fill them in here."""
    def one(m):
        expr = m.group(1).strip()
        if expr == "github.base_ref":
            return "main"
        if expr == "github.token":
            return "not-a-token"
        if expr == "github.event.pull_request.number":
            return "1"
        s = re.fullmatch(r"steps\.(\w+)\.outcome", expr)
        if s:
            return outcomes.get(s.group(1), "success")
        raise ValueError(f"unexpected expression {expr}")
    return re.sub(r"\$\{\{(.*?)\}\}", one, text)


def run_step(name, repo, bindir, outcomes):
    step = runs[name]
    env = dict(os.environ)
    env.update({k: str(v) for k, v in ENV.items()})
    env.update({k: expand(str(v), outcomes) for k, v in step.get("env", {}).items()})
    env["PATH"] = bindir + os.pathsep + env["PATH"]
    env["GITHUB_PATH"] = os.path.join(repo, "..", "github_path")
    script = expand(step["run"], outcomes)
    p = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=repo, env=env,
                       capture_output=True, timeout=600)
    if "id" in step:
        outcomes[step["id"]] = "success" if p.returncode == 0 else "failure"
    return p


def git(repo, *args):
    subprocess.run(["git", "-c", "user.name=kpic", "-c", "user.email=kpic@invalid", *args],
                   cwd=repo, check=True, capture_output=True)


with tempfile.TemporaryDirectory() as tmp:
    bindir = os.path.join(tmp, "bin")
    os.makedirs(bindir)
    os.symlink(KPIC, os.path.join(bindir, "kpic"))
    repo = os.path.join(tmp, "repo")
    os.makedirs(repo)
    shutil.copytree("kpi-specs", os.path.join(repo, "kpi-specs"),
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    spec = os.path.join(repo, "kpi-specs", "user-ops.kpi")
    with open(spec, encoding="utf-8") as f:
        base_text = f.read()

    # the base branch as the runner sees it: origin/main
    git(repo, "remote", "add", "origin", repo)
    git(repo, "fetch", "-q", "origin")

    # the change: a kpi's target moves (the definitions differ, the tests still pass)
    changed = base_text.replace("kpi avg_rating      weight 25%  target >= 4.3",
                                "kpi avg_rating      weight 25%  target >= 4.5")
    check(changed != base_text, "the example has the line the change edits")
    git(repo, "checkout", "-q", "-b", "change")
    with open(spec, "w", encoding="utf-8") as f:
        f.write(changed)
    git(repo, "commit", "-q", "-am", "a higher rating target")

    outcomes = {}
    p = run_step("kpic check", repo, bindir, outcomes)
    check(p.returncode == 0, f"check step: {p.returncode} {p.stderr[-500:]!r}")
    sarifs = os.listdir(os.path.join(repo, "kpic-sarif")) if os.path.isdir(os.path.join(repo, "kpic-sarif")) else []
    check(len(sarifs) == 1, f"one SARIF file per spec: {sarifs}")
    for s in sarifs:
        with open(os.path.join(repo, "kpic-sarif", s), encoding="utf-8") as f:
            doc = json.load(f)
        check(doc.get("version") == "2.1.0" and doc.get("runs"), f"{s} is SARIF 2.1.0")
    p = run_step("kpic fmt --check", repo, bindir, outcomes)
    check(p.returncode == 0, f"fmt step on formatted specs: {p.returncode} {p.stderr[-500:]!r}")
    p = run_step("kpic test", repo, bindir, outcomes)
    check(p.returncode == 0, f"test step: {p.returncode} {p.stderr[-500:]!r}")
    root = ET.parse(os.path.join(repo, "kpic-tests.xml")).getroot()
    check(root.tag == "testsuites" and int(root.get("tests")) >= 4 and root.get("failures") == "0",
          "the JUnit report lists the example's tests, all passing")
    p = run_step("kpic diff against the base branch", repo, bindir, outcomes)
    check(p.returncode == 0, f"diff step: {p.returncode} {p.stderr[-500:]!r}")
    with open(os.path.join(repo, "kpic-diff.md"), encoding="utf-8") as f:
        md = f.read()
    check("avg_rating" in md and "4.5" in md, f"the diff comment names the change: {md[:800]}")
    p = run_step("Verdict", repo, bindir, outcomes)
    check(p.returncode == 0, f"verdict on a clean change: {p.returncode} {p.stdout!r}")

    # the same with PERIOD: the impact on bonuses is in the comment
    ENV["PERIOD"] = "2025-05"
    p = run_step("kpic diff against the base branch", repo, bindir, outcomes)
    with open(os.path.join(repo, "kpic-diff.md"), encoding="utf-8") as f:
        md = f.read()
    check(p.returncode == 0 and "2025-05" in md, f"diff with PERIOD shows the impact: {md[:400]}")
    ENV["PERIOD"] = ""

    # a change that breaks a test and the layout: those steps fail, and so does the job
    broken = changed.replace("expect bonus[s21] = 2903.23", "expect bonus[s21] = 2903.24")
    broken = broken.replace("role promotion \"推广岗位\" {", "role   promotion \"推广岗位\" {")
    check(broken != changed, "the example has the test and role the broken change edits")
    with open(spec, "w", encoding="utf-8") as f:
        f.write(broken)
    git(repo, "commit", "-q", "-am", "broken")
    outcomes = {}
    check(run_step("kpic check", repo, bindir, outcomes).returncode == 0, "check still passes")
    check(run_step("kpic fmt --check", repo, bindir, outcomes).returncode != 0, "fmt step fails on a bad layout")
    check(run_step("kpic test", repo, bindir, outcomes).returncode != 0, "test step fails on a failing test")
    root = ET.parse(os.path.join(repo, "kpic-tests.xml")).getroot()
    check(root.get("failures") == "1", "the JUnit report has the failure")
    check(run_step("kpic diff against the base branch", repo, bindir, outcomes).returncode == 0,
          "the diff is written when tests fail")
    p = run_step("Verdict", repo, bindir, outcomes)
    check(p.returncode == 1 and b"fmt test" in p.stdout, f"verdict fails the job: {p.stdout!r}")

sys.exit(finish("review recipe: the workflow parses and its kpic steps work on a two-commit repository"))
