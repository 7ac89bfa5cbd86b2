#!/usr/bin/env python3
"""End-to-end tests of how a row finds its staff member when the ids come as numbers
(eval_read.c staff_group: a worker remembers the ids it has looked up, by number).

* A column cache keeps a text column of ids of one prefix and width (s01, C00272234)
  as numbers, group by group; the number alone does not name the id. A staff column
  whose ids change prefix (s01 then t01), width (s01 then s1) or stop being ids of one
  prefix (alice) from one group to the next is credited exactly as the data says:
  per-staff figures checked against a count made here, warm (1 and 2 threads) and
  uncached, with the same warning about ids the roster lacks.
* An int staff column: ids that share a slot of the memory (1, 1025, 2049 and the
  unknown 3073) in alternation, and negative ids, credited to their own members.

usage: test_staff_ids.py KPIC
"""
import json, os, shutil, subprocess, sys, tempfile, time
from collections import Counter, defaultdict

sys.path.insert(0, os.path.dirname(__file__))
from expect import check, finish

KPIC = os.path.abspath(sys.argv[1])
tmp = tempfile.mkdtemp(prefix="kpic-staff-ids-")


def run(args, cwd, cache=None):
    env = dict(os.environ)
    env.pop("XDG_CACHE_HOME", None)
    env["KPIC_CHUNK_BYTES"] = "2048"  # many small chunks: many cache groups
    cache_args = ["--cache-dir", cache] if cache else ["--no-cache"]
    return subprocess.run([KPIC, *args, *cache_args], cwd=cwd, capture_output=True, timeout=120, env=env)


def figures(stdout):
    out = json.loads(stdout)
    return {ind["name"]: (ind["values"][0]["total"], ind["values"][0]["staff"]) for ind in out["indicators"]}


SPEC = """period month
source orders "orders.csv" {
  order_id     text
  customer_id  text
  staff_id     %s  staff
  amount       money
  paid_at      date  time
}
staff "staff.csv" {
  id    %s
  name  text
  role  text
}
indicator n count per staff = count(orders)
indicator amount money per staff = sum(orders.amount)
indicator buyers count per staff = distinct(orders.customer_id)
"""


def project(name, id_type, roster, rows):
    """A project directory: ROWS are (staff id, customer, cents) in May 2025."""
    d = os.path.join(tmp, name)
    os.makedirs(d)
    with open(os.path.join(d, "spec.kpi"), "w") as f:
        f.write(SPEC % (id_type, id_type))
    with open(os.path.join(d, "staff.csv"), "w") as f:
        f.write("id,name,role\n" + "".join("%s,member %s,ops\n" % (i, i) for i in roster))
    with open(os.path.join(d, "orders.csv"), "w") as f:
        f.write("order_id,customer_id,staff_id,amount,paid_at\n")
        for k, (staff, customer, cents) in enumerate(rows):
            f.write("O%07d,%s,%s,%d.%02d,2025-05-%02d\n" % (k, customer, staff, cents // 100, cents % 100, k % 28 + 1))
    old = time.time() - 3600  # files younger than two seconds are not cached
    for f in ("orders.csv", "staff.csv"):
        os.utime(os.path.join(d, f), (old, old))
    return d


def expected(roster, rows):
    n, amount, buyers = Counter(), Counter(), defaultdict(set)
    for staff, customer, cents in rows:
        n[staff] += 1
        amount[staff] += cents
        buyers[staff].add(customer)
    return n, amount, buyers


def money(cents):
    return "%d.%02d" % (cents // 100, cents % 100)


def check_figures(label, out, roster, rows, key=str):
    n, amount, buyers = expected(roster, rows)
    try:
        got = figures(out)
    except ValueError:
        check(False, "%s: JSON figures on stdout: %r" % (label, out[:300]))
        return
    check(got["n"][0] == len(rows), "%s: every row counts in the total (%r)" % (label, got["n"][0]))
    for staff in roster:
        k = key(staff)
        check(got["n"][1].get(k) == n[staff] and got["buyers"][1].get(k) == len(buyers[staff]) and
              got["amount"][1].get(k) in (money(amount[staff]), amount[staff] / 100),
              "%s: staff %s: count %r (expected %d), buyers %r (expected %d), amount %r (expected %s)" %
              (label, staff, got["n"][1].get(k), n[staff], got["buyers"][1].get(k), len(buyers[staff]),
               got["amount"][1].get(k), money(amount[staff])))


try:
    # ---- text ids whose prefix and width change between cache groups
    roster = ["s%02d" % i for i in range(1, 6)] + ["t%02d" % i for i in range(1, 6)] + \
             ["s%d" % i for i in range(1, 4)] + ["alice", "bob"]
    blocks = [
        ["s01", "s02", "s03", "s04", "s05", "s09"],  # s09: not on the roster
        ["t01", "t02", "t03", "t04", "t05"],  # another prefix, the same width
        ["s1", "s2", "s3"],  # the same prefix, another width
        ["alice", "s02", "bob", "t01"],  # not ids of one prefix: a dictionary
        ["s05", "s04", "s03"],
        ["t05", "t77"],  # t77: not on the roster
    ]
    rows = []
    for b, block in enumerate(blocks):
        for k in range(180):
            rows.append((block[k % len(block)], "C%05d" % ((k * 7 + b) % 97), 100 + k))
    d = project("text", "text", roster, rows)
    time.sleep(2.1)  # the files' ctimes: cached files must be two seconds old
    cold = run(["eval", "spec.kpi", "--period", "2025-05", "--format", "json"], d)
    check(cold.returncode == 0, "text ids: the uncached run succeeds: %r" % cold.stderr[-300:])
    check_figures("text ids, uncached", cold.stdout, roster, rows)
    check(b"not in the roster" in cold.stderr, "text ids: the unknown ids are reported: %r" % cold.stderr)
    cache = os.path.join(tmp, "cache-text")
    first = run(["eval", "spec.kpi", "--period", "2025-05", "--format", "json", "--threads", "2"], d, cache)
    check(first.returncode == 0 and os.path.isdir(cache) and os.listdir(cache),
          "text ids: the first cached run writes the cache: %r" % first.stderr[-300:])
    for threads in ("1", "2"):
        warm = run(["eval", "spec.kpi", "--period", "2025-05", "--format", "json", "--threads", threads], d, cache)
        label = "text ids, warm, %s threads" % threads
        check(b"cache" not in warm.stderr, "%s: the cache is used: %r" % (label, warm.stderr))
        check((warm.returncode, warm.stdout, warm.stderr) == (0, cold.stdout, cold.stderr),
              "%s: output and warnings identical to the uncached run: %r" % (label, warm.stderr[-300:]))
        check_figures(label, warm.stdout, roster, rows)

    # ---- int ids sharing a slot of the memory, and negative ids
    iroster = [1, 1025, 2049, -5, 7]
    pattern = [1, 1025, 3073, 2049, 1, -5, 2049, 1025, 7, -5]  # 3073: not on the roster
    irows = [(pattern[k % len(pattern)], "C%05d" % (k % 13), 50 + k) for k in range(400)]
    d = project("int", "int", iroster, irows)
    time.sleep(2.1)
    for threads in ("1", "2"):
        for cache in (None, os.path.join(tmp, "cache-int")):
            for _ in range(2 if cache else 1):  # cold, then warm
                p = run(["eval", "spec.kpi", "--period", "2025-05", "--format", "json", "--threads", threads], d, cache)
                label = "int ids, %s threads, %s" % (threads, "cached" if cache else "uncached")
                check(p.returncode == 0, "%s: succeeds: %r" % (label, p.stderr[-300:]))
                check(b"'3073'" in p.stderr and b"40 rows" in p.stderr,
                      "%s: the 40 rows of the unknown id are reported: %r" % (label, p.stderr))
                check_figures(label, p.stdout, iroster, irows)
finally:
    shutil.rmtree(tmp, ignore_errors=True)

sys.exit(finish("staff ids looked up by number: credited as the data says, warm and cold, text and int"))
