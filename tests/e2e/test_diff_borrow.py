#!/usr/bin/env python3
"""End-to-end test of `kpic diff --period` computing an aggregate once for both specs.

In a pass both specs share (a source declared alike), an aggregate of the new spec whose
twin the old spec computes over the same periods and roster (written alike, computing
nothing but its value) is taken from the old side instead of computed again
(docs/decisions.md). What must hold: every figure is the one the new spec gets on its
own. The reference is the same diff with the new spec declaring one more column, which
makes each side read the file alone (no shared pass, nothing taken). Cases: one
indicator changed (its aggregate is the new side's own, the rest taken); a `having`
changed (the new side counts the old side's keys with its own having, the unchanged
distinct beside it taken); a having over another slot (the key run is the new side's
own); arithmetic (never taken); a changed roster (nothing taken: staff groups differ);
the same spec on both sides (everything taken) — each on one thread and on two in small
chunks, without the column cache and warm. Rows of staff ids not in the roster are
counted for the new side's warning as on its own, also when it computes nothing itself.

usage: test_diff_borrow.py KPIC
"""
import json, os, shutil, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(__file__))
from expect import check, finish

KPIC = os.path.abspath(sys.argv[1])

HEAD = 'period month\ncurrency "CNY"\n\n'
SOURCE = ('source orders "orders.csv" {\n  order_id text\n  customer text\n'
          '  staff_id text staff\n  amount money\n  paid_at date time\n  channel text\n}\n\n')
# one more column declared: not declared alike, so each side reads the file alone
WIDER = SOURCE.replace('  channel text\n}', '  channel text\n  note text\n}')
STAFF = 'staff "staff.csv" {\n  id text\n  name text\n  role text\n}\n\n'
STAFF_OTHER = STAFF.replace('"staff.csv"', '"staff-other.csv"')

INDICATORS = {
    "n": 'count per staff = count(orders)',
    "revenue": 'money per staff = sum(orders.amount)',
    "big": 'count per staff = count(orders where amount >= 200)',
    "web": 'money per staff = sum(orders.amount where channel = "web")',
    "buyers": 'count per staff = distinct(orders.customer)',
    "repeat": 'count per staff = distinct(orders.customer having count() >= 2)',
    "doubled": 'money per staff = sum(orders.amount * 2)',
    "recent": 'money per staff = sum(orders.amount over last 3 months)',
    "growth": 'money per staff = revenue - previous(revenue)',
    "team": 'money = sum(orders.amount where channel = "shop")',
}

tmp = tempfile.mkdtemp(prefix="kpic-diff-borrow-")


def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def spec(name, source=SOURCE, staff=STAFF, **changed):
    body = "".join('indicator %s "%s" %s\n\n' % (k, k, changed.get(k, v))
                   for k, v in INDICATORS.items())
    return write(name, HEAD + source + staff + body)


lines = ["order_id,customer,staff_id,amount,paid_at,channel,note"]
for i in range(5000):
    staff = "s9" if i % 97 == 0 else ("" if i % 89 == 0 else "s%d" % (i % 4 + 1))
    lines.append("O%06d,C%04d,%s,%d.%02d,2025-%02d-%02d,%s,x" % (
        i, (i * 7) % 1300, staff, (i * 37) % 400, i % 100, 3 + i % 4, i % 28 + 1,
        "web" if i % 3 else "shop"))
write("orders.csv", "\n".join(lines) + "\n")
write("staff.csv", "id,name,role\ns1,Ann,\ns2,Bo,\ns3,Cy,\ns4,Di,\n")
write("staff-other.csv", "id,name,role\ns2,Bo,\ns1,Ann,\ns3,Cy,\n")
OLD = spec("old.kpi")
CASES = {
    "one indicator changed": dict(big='count per staff = count(orders where amount >= 300)'),
    "a having changed": dict(repeat='count per staff = distinct(orders.customer having count() >= 3)'),
    "a having over another slot": dict(
        repeat='count per staff = distinct(orders.customer having sum(amount) >= 300)'),
    "a having changed, no plain distinct": dict(
        repeat='count per staff = distinct(orders.customer having count() >= 3)',
        buyers='count per staff = count(orders where amount >= 100)'),
    "arithmetic changed": dict(doubled='money per staff = sum(orders.amount * 3)'),
    "the same spec": dict(),
}
# the column cache is not written for a file changed in the last two seconds
time.sleep(2.1)


def diff(new, *args):
    return subprocess.run([KPIC, "diff", OLD, new, "--period", "2025-05", "--format", "json", *args],
                          capture_output=True, cwd=tmp, timeout=300,
                          env=dict(os.environ, KPIC_CHUNK_BYTES="4096"))


def figures(p):
    return json.loads(p.stdout)["periods"] if p.returncode == 0 else None


def warnings(p, new):
    """The diagnostics, with the new spec's name made one."""
    return p.stderr.replace(os.path.basename(new).encode(), b"NEW.kpi")


try:
    cache = os.path.join(tmp, "cache")
    roster = dict(staff=STAFF_OTHER)
    cases = [(name, changed, {}) for name, changed in CASES.items()]
    cases.append(("another roster", {}, roster))
    for name, changed, where in cases:
        slug = name.replace(" ", "-")
        new = spec(slug + ".kpi", **where, **changed)
        alone = spec(slug + "-alone.kpi", source=WIDER, **where, **changed)
        ref = diff(alone, "--no-cache", "--threads", "1")
        check(ref.returncode == 0 and figures(ref), "%s, alone: %r" % (name, ref.stderr))
        if ref.returncode != 0:
            continue
        check(b"rows are credited to staff ids not in the roster" in ref.stderr,
              "%s: the unknown staff ids are counted: %r" % (name, ref.stderr))
        for args in (["--no-cache", "--threads", "1"], ["--no-cache", "--threads", "2"],
                     ["--cache-dir", cache, "--threads", "2"], ["--cache-dir", cache, "--threads", "1"]):
            p = diff(new, *args)
            check(p.returncode == 0 and figures(p) == figures(ref),
                  "%s, %s: the figures of each spec alone: %r" % (name, " ".join(args), p.stderr))
            check(warnings(p, new) == warnings(ref, alone),
                  "%s, %s: the warnings of each spec alone:\n%s\n---\n%s" % (
                      name, " ".join(args), p.stderr.decode(), ref.stderr.decode()))
        if name == "one indicator changed":
            # the figure that changed is the new spec's own, not the old one's
            p = figures(diff(new, "--no-cache"))
            changed = [v for v in p[0]["indicator_values"] if v["indicator"] == "big"]
            check(changed and any(v["before"] != v["after"] for v in changed),
                  "big differs between the specs: %r" % changed[:2])
finally:
    shutil.rmtree(tmp)

sys.exit(finish("diff --period takes an aggregate the old spec computes for the new one only "
                "where it is the same figure: every figure and warning as each spec alone"))
