#!/usr/bin/env python3
"""End-to-end tests of `kpic test` (docs/cli.md, docs/language.md section 13).

  * the example library's tests all pass, and its JSON and JUnit reports are well formed;
  * every JUnit report (the golden ones and live runs) has the layout of the Jenkins/Ant
    JUnit schema, checked with xml.etree (no package ships the XSD: docs/decisions.md);
  * `data SOURCE from "FILE"` reads a file beside the spec, and refuses one outside the
    project root;
  * exit statuses: 0 all pass, 1 a failure or an error in a test's data or a spec,
    2 usage or an unreadable spec; --filter selects by substring;
  * tests are independent: what one test gives is not seen by the next.

usage: test_spectest.py KPIC   (run from the repository root)
"""
import glob, json, os, sys, tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from expect import check, finish, kpic_runner  # noqa: E402

run = kpic_runner("test")


def junit_layout(text, what):
    """The Jenkins/Ant JUnit layout: testsuites > testsuite > testcase, the required
    attributes, counts that add up, at most one failure or error per testcase."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        check(False, f"{what}: not XML: {e}")
        return None
    check(root.tag == "testsuites", f"{what}: root is <{root.tag}>")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for suite in root:
        check(suite.tag == "testsuite", f"{what}: <{suite.tag}> inside <testsuites>")
        for attr in ("name", "tests", "failures", "errors", "time"):
            check(attr in suite.attrib, f"{what}: testsuite without {attr}")
        cases = list(suite)
        failures = errors = 0
        for case in cases:
            check(case.tag == "testcase", f"{what}: <{case.tag}> inside <testsuite>")
            for attr in ("name", "classname", "time"):
                check(attr in case.attrib, f"{what}: testcase without {attr}")
            kids = [k.tag for k in case]
            check(set(kids) <= {"failure", "error"} and len(kids) <= 1,
                  f"{what}: testcase {case.get('name')} holds {kids}")
            for k in case:
                check("message" in k.attrib and "type" in k.attrib, f"{what}: <{k.tag}> without message/type")
            failures += kids.count("failure")
            errors += kids.count("error")
        check(int(suite.get("tests", -1)) == len(cases), f"{what}: tests= of {suite.get('name')}")
        check(int(suite.get("failures", -1)) == failures, f"{what}: failures= of {suite.get('name')}")
        check(int(suite.get("errors", -1)) == errors, f"{what}: errors= of {suite.get('name')}")
        totals["tests"] += len(cases)
        totals["failures"] += failures
        totals["errors"] += errors
    for k, v in totals.items():
        check(int(root.get(k, -1)) == v, f"{what}: {k}= of testsuites is {root.get(k)}, not {v}")
    return root


# the example library: every test passes, in every format
p = run("kpi-specs/user-ops.kpi")
check(p.returncode == 0, f"kpic test of the example exits {p.returncode}: {p.stdout[-2000:]!r}")
out = p.stdout.decode("utf-8")
check(out.count("PASS") >= 4 and "FAIL" not in out and "ERROR" not in out, f"example tests: {out}")
p = run("kpi-specs/user-ops.kpi", "--format", "json")
doc = json.loads(p.stdout)
check(doc["failed"] == 0 and doc["errors"] == 0 and doc["passed"] >= 4, f"example JSON counts: {doc}")
p = run("kpi-specs/user-ops.kpi", "--format", "junit")
root = junit_layout(p.stdout.decode("utf-8"), "example junit")
check(root is not None and int(root.get("tests")) >= 4, "example junit lists its tests")

# every golden JUnit report
goldens = sorted(glob.glob("tests/cases/*_junit.out"))
check(len(goldens) >= 2, f"golden junit outputs: {goldens}")
for path in goldens:
    with open(path, encoding="utf-8") as f:
        junit_layout(f.read(), path)

with tempfile.TemporaryDirectory() as tmp:
    os.makedirs(os.path.join(tmp, ".git"))   # the project root (docs/security.md)
    spec = os.path.join(tmp, "shop.kpi")
    head = """period month
source orders "orders.csv" {
  order_id  text
  staff_id  text  staff
  amount    money
  paid_at   date  time
}
staff "staff.csv" {
  id    text
  role  text
}
indicator revenue money per staff = sum(orders.amount)
"""
    with open(os.path.join(tmp, "may.csv"), "w") as f:
        f.write("order_id,staff_id,amount,paid_at\no1,s01,10.00,2025-05-02\no2,s02,5.50,2025-05-09\n")
    with open(spec, "w") as f:
        f.write(head + """
test "from a file" {
  period 2025-05
  data orders from "may.csv"
  expect revenue = 15.50
}

test "inline, alone" {
  period 2025-05
  data orders {
    order_id,staff_id,amount,paid_at
    o9,s01,1.00,2025-05-02
  }
  expect revenue = 1.00
}

test "nothing given" {
  period 2025-05
  expect revenue = 0
}
""")
    p = run(spec)
    check(p.returncode == 0, f"file data and independent tests: exit {p.returncode}: {p.stdout!r} {p.stderr!r}")

    # the filter
    p = run(spec, "--filter", "alone")
    check(p.returncode == 0 and b"inline, alone" in p.stdout and b"from a file" not in p.stdout,
          f"--filter alone: {p.stdout!r}")
    p = run(spec, "--filter", "nothing matches this")
    check(p.returncode == 2 and b"no test name contains" in p.stderr, f"--filter with no match: {p.returncode}")

    # a data file outside the project root is refused
    outside = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False)
    outside.write("order_id,staff_id,amount,paid_at\n")
    outside.close()
    bad = os.path.join(tmp, "outside.kpi")
    with open(bad, "w") as f:
        f.write(head + f'\ntest "outside" {{\n  period 2025-05\n  data orders from "{outside.name}"\n  expect revenue = 0\n}}\n')
    p = run(bad)
    check(p.returncode == 1 and b"outside the project root" in p.stdout, f"outside data: {p.returncode} {p.stdout!r}")
    os.unlink(outside.name)

    # a spec with errors runs nothing, and is an error in every report
    broken = os.path.join(tmp, "broken.kpi")
    with open(broken, "w") as f:
        f.write(head + '\ntest "t" {\n  period 2025-05\n  expect revenu = 1\n}\n')
    p = run(broken, "--format", "junit")
    check(p.returncode == 1 and b"unknown indicator" in p.stderr, f"broken spec: {p.returncode}")
    root = junit_layout(p.stdout.decode("utf-8"), "broken spec junit")
    check(root is not None and root.get("errors") == "1", "broken spec counts as one error")

    # two specs in one run, one failing: exit 1, both suites reported
    p = run(spec, broken, "--format", "junit")
    root = junit_layout(p.stdout.decode("utf-8"), "two specs junit")
    check(p.returncode == 1 and root is not None and len(root) == 2, f"two specs: {p.returncode}")

    # usage and I/O
    check(run().returncode == 2, "no spec is a usage error")
    check(run(spec, "--format", "tap").returncode == 2, "an unknown format is a usage error")
    check(run(spec, "--bogus").returncode == 2, "an unknown option is a usage error")
    check(run(os.path.join(tmp, "missing.kpi")).returncode == 2, "an unreadable spec is status 2")

sys.exit(finish("kpic test: reports, data, filters and statuses as documented"))
