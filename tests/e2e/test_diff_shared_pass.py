#!/usr/bin/env python3
"""End-to-end test of `kpic diff --period` reading a file once for both specs (issue 14).

When both specs declare a source alike (the same file, columns, types, formats, no key),
one pass feeds both sides; otherwise each side reads the file on its own. Observable:
a pipe (`--data orders=/dev/stdin`) can be read only once, so a shared source read from
stdin gives the same diff as the regular file (before, the second side found the pipe
drained: "no header row: the file is empty", exit 1), while a source declared
differently is still read twice (and so fails from a pipe, saying why), and two specs that
declare their sources in another order still share the one they declare alike. With a
regular file,
the shared pass gives the same output on one thread and on two (small chunks), with the
column cache cold and warm and without it, with a bad row skipped as with the row gone,
and a source declared differently (columns in another order, one more column) gives the
same figures as the shared pass.

usage: test_diff_shared_pass.py KPIC
"""
import json, os, shutil, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(__file__))
from expect import check, finish

KPIC = os.path.abspath(sys.argv[1])

HEAD = 'period month\ncurrency "CNY"\n\n'
SOURCE = ('source orders "orders.csv" {\n  order_id text\n  customer text\n'
          '  staff_id text staff\n  amount money\n  paid_at date time\n}\n\n')
# the same file declared with two columns in another order: cell i is another column
SWAPPED = ('source orders "orders.csv" {\n  order_id text\n  staff_id text staff\n'
           '  customer text\n  amount money\n  paid_at date time\n}\n\n')
# the same file with one more column declared
WIDER = ('source orders "orders.csv" {\n  order_id text\n  customer text\n'
         '  staff_id text staff\n  amount money\n  paid_at date time\n  channel text\n}\n\n')
STAFF = 'staff "staff.csv" {\n  id text\n  name text\n  role text\n}\n\n'
OLD_INDICATORS = ('indicator n "orders" count per staff = count(orders)\n\n'
                  'indicator revenue "revenue" money per staff = sum(orders.amount)\n\n'
                  'indicator buyers "buyers" count per staff = distinct(orders.customer)\n')
NEW_INDICATORS = ('indicator n "orders" count per staff = count(orders where amount > 100)\n\n'
                  'indicator revenue "revenue" money per staff = sum(orders.amount where amount > 100)\n\n'
                  'indicator buyers "buyers" count per staff = distinct(orders.customer)\n\n'
                  'indicator repeat "repeat buyers" count per staff\n'
                  '  = distinct(orders.customer having count() >= 2)\n')

tmp = tempfile.mkdtemp(prefix="kpic-diff-shared-")


def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def orders_csv(bad_row=False):
    lines = ["order_id,customer,staff_id,amount,paid_at,channel"]
    for i in range(6000):
        lines.append("O%06d,C%04d,s%d,%d.%02d,2025-%02d-%02d,%s" % (
            i, (i * 7) % 1500, i % 4 + 1, (i * 37) % 400, i % 100, 4 + i % 3, i % 28 + 1,
            "web" if i % 3 else "shop"))
        if bad_row and i == 3000:
            lines.append("O999999,C0001,s1,not money,2025-05-03,web")
    return "\n".join(lines) + "\n"


OLD = write("old.kpi", HEAD + SOURCE + STAFF + OLD_INDICATORS)
NEW = write("new.kpi", HEAD + SOURCE + STAFF + NEW_INDICATORS)
NEW_SWAPPED = write("new-swapped.kpi", HEAD + SWAPPED + STAFF + NEW_INDICATORS)
NEW_WIDER = write("new-wider.kpi", HEAD + WIDER + STAFF + NEW_INDICATORS)
write("staff.csv", "id,name,role\ns1,Ann,\ns2,Bo,\ns3,Cy,\ns4,Di,\n")
DATA = write("orders.csv", orders_csv())
BAD = write("orders-bad.csv", orders_csv(bad_row=True))
# the column cache is not written for a file changed in the last two seconds
time.sleep(2.1)


def diff(new, *args, stdin=None, env=None, fmt="json"):
    full = dict(os.environ, **(env or {}))
    return subprocess.run([KPIC, "diff", OLD, new, "--period", "2025-05", "--format", fmt,
                           *args], input=stdin, capture_output=True, env=full, cwd=tmp,
                          timeout=300)


def periods(p):
    """The compared results of a JSON diff (the definitions differ between the pairs)."""
    return json.loads(p.stdout)["periods"] if p.returncode == 0 else None


try:
    ref = diff(NEW, "--no-cache", "--threads", "1")
    check(ref.returncode == 0 and periods(ref), "the reference diff: %r" % ref.stderr)
    check(ref.returncode == 0 and periods(ref)[0]["indicator_values"],
          "the reference compares figures: %r" % ref.stdout[:300])

    # one pass, two threads in small chunks: the same figures
    p = diff(NEW, "--no-cache", "--threads", "2", env={"KPIC_CHUNK_BYTES": "4096"})
    check(p.returncode == 0 and p.stdout == ref.stdout, "two threads: %r" % p.stderr)

    # a pipe is read once, for both sides
    with open(DATA, "rb") as f:
        rows = f.read()
    for fmt in ("json", "text"):
        p = diff(NEW, "--no-cache", "--data", "orders=/dev/stdin", stdin=rows, fmt=fmt)
        filed = diff(NEW, "--no-cache", fmt=fmt)
        check(p.returncode == 0 and p.stdout == filed.stdout,
              "a shared source from a pipe (%s): %r" % (fmt, p.stderr))

    # a source declared otherwise is read by each side: the same figures from a file …
    for new in (NEW_SWAPPED, NEW_WIDER):
        for threads in ("1", "2"):
            p = diff(new, "--no-cache", "--threads", threads, env={"KPIC_CHUNK_BYTES": "4096"})
            check(p.returncode == 0 and periods(p) == periods(ref),
                  "%s on %s threads: %r" % (os.path.basename(new), threads, p.stderr))
        # … and not twice from a pipe, which the first read drains: the second side is
        # told why, not that the file is empty
        p = diff(new, "--no-cache", "--data", "orders=/dev/stdin", stdin=rows)
        check(p.returncode == 2 and b"a pipe or device can be read only once, and the two specs cannot "
              b"share one read of source 'orders'" in p.stderr and b"no header row" not in p.stderr,
              "%s from a pipe is read twice: %r" % (os.path.basename(new), p.stderr))

    # two sources declared in another order: each side reads in its own order, and the
    # source both declare alike is still read once (a pipe), the other once per side
    refunds = ('source refunds "refunds.csv" {\n  order_id text\n  staff_id text staff\n'
               '  refunded money\n  day date time\n}\n\n')
    write("refunds.csv", "order_id,staff_id,refunded,day\nO000001,s2,5.00,2025-05-02\n"
          "O000005,s2,1.50,2025-05-06\n")
    two_old = write("two-old.kpi", HEAD + SOURCE + refunds + STAFF + OLD_INDICATORS +
                    '\nindicator back "refunded" money per staff = sum(refunds.refunded)\n')
    two_new = write("two-new.kpi", HEAD + refunds + SOURCE + STAFF + NEW_INDICATORS +
                    '\nindicator back "refunded" money per staff = sum(refunds.refunded)\n')
    args = ["diff", two_old, two_new, "--period", "2025-05", "--format", "json", "--no-cache"]
    filed = subprocess.run([KPIC, *args], capture_output=True, cwd=tmp, timeout=300)
    piped = subprocess.run([KPIC, *args, "--data", "orders=/dev/stdin"], input=rows,
                           capture_output=True, cwd=tmp, timeout=300)
    check(filed.returncode == 0 and piped.returncode == 0 and piped.stdout == filed.stdout,
          "sources in another order, the shared one from a pipe: %r" % piped.stderr)

    # the column cache: written by the one pass, replayed by both sides
    cache = os.path.join(tmp, "cache")
    for run in ("cold", "warm"):
        p = diff(NEW, "--cache-dir", cache, "--threads", "2", env={"KPIC_CHUNK_BYTES": "4096"})
        check(p.returncode == 0 and p.stdout == ref.stdout, "%s cache: %r" % (run, p.stderr))
    files = [f for f in os.listdir(cache) if not f.startswith(".")] if os.path.isdir(cache) else []
    check(len(files) == 1, "one cache file for both sides: %r" % files)

    # a damaged cache: both sides read the file once more, the note is shown once
    if len(files) == 1:
        path = os.path.join(cache, files[0])
        with open(path, "r+b") as f:
            f.seek(os.path.getsize(path) // 2)
            byte = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([byte[0] ^ 0xFF]))
        p = diff(NEW, "--cache-dir", cache)
        check(p.returncode == 0 and p.stdout == ref.stdout, "a damaged cache: %r" % p.stderr)
        check(p.stderr.count(b"column cache is ignored and rebuilt") == 1,
              "the damaged cache's note, once: %r" % p.stderr)

    # a bad row skipped by the one pass: counted for both sides, the figures without it
    for threads in ("1", "2"):
        p = diff(NEW, "--no-cache", "--skip-bad-rows", "--data", "orders=" + BAD,
                 "--threads", threads, env={"KPIC_CHUNK_BYTES": "4096"})
        check(p.returncode == 0 and periods(p) == periods(ref), "a skipped bad row: %r" % p.stderr)
        check(p.stderr.count(b"1 bad row of source 'orders' skipped") == 1,
              "the skipped row is reported once: %r" % p.stderr)
    p = diff(NEW, "--no-cache", "--data", "orders=" + BAD)
    check(p.returncode == 1 and b"orders-bad.csv:3003:4: error" in p.stderr,
          "a bad row stops the shared pass: %r" % p.stderr[:400])
finally:
    shutil.rmtree(tmp)

sys.exit(finish("diff --period reads a source both specs declare alike once, and any other "
                "source once per side, with the same figures"))
