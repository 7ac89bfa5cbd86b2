#!/usr/bin/env python3
"""A source's key (language.md §3, Keys): repeated keys found in file order, whatever
the threads and the chunking, and skipped exactly under --skip-bad-rows.

1. The rejects file of the golden case eval_key_skip (tests/cases/eval_key/orders_dup.csv),
   expected by hand: lines 5, 7 and 8 repeat A1 (first on line 2), A2 (line 3), A1.
2. A generated file of 6,000 orders with quoted notes (commas, quotes, line breaks), in
   which some rows are written again further down, some with another amount, and some
   first rows come after their repeats would in a chunk read earlier. Run with 1, 2 and
   3 threads on chunks of 97 to 4096 bytes (KPIC_CHUNK_BYTES), so a later row is often
   seen before an earlier one:
   * by default, every run fails with the same error, at the first repeated row of the
     file, naming the line of its first row (both computed here);
   * under --skip-bad-rows, every run gives the figures of the file with the repeated
     rows removed by hand (the first row of each key kept), and the same rejects file,
     whose lines are the repeated rows' lines, in order. The spec tests membership in a
     set of the same source, so the source is read at two levels and the second read
     must skip the same rows.
usage: test_eval_keys.py KPIC
"""
import csv, io, json, os, random, subprocess, sys, tempfile

KPIC = os.path.abspath(sys.argv[1])
CASES = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "cases"))
tmp = tempfile.mkdtemp(prefix="kpic-keys-")
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


# ---- 1. the golden case's rejects
rejects = os.path.join(tmp, "golden-rejects.csv")
r = subprocess.run([KPIC, "eval", "eval_key_skip.kpi", "--period", "2025-05", "--data",
                    "orders=eval_key/orders_dup.csv", "--skip-bad-rows", "--rejects", rejects],
                   capture_output=True, cwd=CASES, timeout=60)
check(r.returncode == 0, f"eval_key_skip runs: {r.stderr.decode()[:300]}")
with open(rejects, newline="") as f:
    rows = list(csv.reader(f))
want = [["source", "file", "line", "field", "reason", "record"],
        ["orders", "eval_key/orders_dup.csv", "5", "2", 'duplicate key order_id "A1": first seen on line 2',
         "s1,A1,10.00,2025-05-01"],
        ["orders", "eval_key/orders_dup.csv", "7", "2", 'duplicate key order_id "A2": first seen on line 3',
         "s2,A2,20.00,2025-05-02"],
        ["orders", "eval_key/orders_dup.csv", "8", "2", 'duplicate key order_id "A1": first seen on line 2',
         "s1,A1,99.00,2025-05-03"]]
check(rows == want, f"the rejects of eval_key_skip: {rows}")

# ---- 2. a file split into many chunks
rng = random.Random(11)
notes = ['plain', '"a, b"', '"line one\nline two"', '"say ""hi"""', '""', '']
records = []            # (order_id, text of the record)
for i in range(6000):
    rec = (f"o{i},c{rng.randint(1, 500)},s{rng.randint(1, 9)},{rng.randint(1, 99999) / 100:.2f},"
           f"2025-{rng.randint(1, 6):02d}-{rng.randint(1, 28):02d},{rng.choice(notes)}")
    records.append((f"o{i}", rec))
# repeats: exact copies and copies with another amount, some far down the file, some
# right after their first row; o5999's first row stays last, after nothing repeats it
for n in range(40):
    src = rng.randrange(5900)
    oid, rec = records[src]
    if n % 2:
        fields = rec.split(",", 4)
        fields[3] = "1.23"
        rec = ",".join(fields)
    at = rng.randrange(src + 1, len(records) + 1)
    records.insert(at, (oid, rec))


def write(path, recs):
    with open(path, "w", newline="") as f:
        f.write("order_id,customer_id,staff_id,amount,paid_at,note\n")
        for _, rec in recs:
            f.write(rec + "\n")


dup_path = os.path.join(tmp, "orders.csv")
write(dup_path, records)
# line of each record (notes may span two lines)
line, first_line, repeats, kept = 2, {}, [], []
for oid, rec in records:
    if oid in first_line:
        repeats.append((line, oid, first_line[oid], rec))
    else:
        first_line[oid] = line
        kept.append((oid, rec))
    line += rec.count("\n") + 1
clean_path = os.path.join(tmp, "clean.csv")
write(clean_path, kept)
with open(os.path.join(tmp, "staff.csv"), "w") as f:
    f.write("id,name,role\n" + "".join(f"s{i},n{i},sales\n" for i in range(1, 10)))
spec = os.path.join(tmp, "spec.kpi")
with open(spec, "w") as f:
    f.write('''period month
source orders "orders.csv" {
  order_id    text
  customer_id text
  staff_id    text  staff
  amount      money
  paid_at     date  time
  note        text
  key (order_id)
}
staff "staff.csv" {
  id   text
  name text
  role text
}
set big_buyers = orders.customer_id where amount >= 900
indicator n       count per staff = count(orders)
indicator gmv     money per staff = sum(orders.amount)
indicator buyers  count per staff = distinct(orders.customer_id)
indicator big     count per staff = count(orders where customer_id in big_buyers)
''')


def run(threads, chunk, data, *extra):
    env = dict(os.environ)
    if chunk:
        env["KPIC_CHUNK_BYTES"] = str(chunk)
    args = [KPIC, "eval", spec, "--period", "2025-01..2025-06", "--format", "json",
            "--threads", str(threads), "--data", f"orders={data}", *extra]
    return subprocess.run(args, capture_output=True, env=env, timeout=120)


def figures(stdout):
    return json.loads(stdout)["indicators"]


first_repeat = repeats[0]
want_error = (f"{dup_path}:{first_repeat[0]}:1: error: duplicate key order_id \"{first_repeat[1]}\": "
              f"first seen on line {first_repeat[2]}")
clean = run(1, None, clean_path)
check(clean.returncode == 0, f"the file without repeats runs: {clean.stderr.decode()[:300]}")
settings = [(1, None), (2, 97), (2, 1000), (3, 256), (3, 4096)]
for threads, chunk in settings:
    what = f"{threads} threads, chunk {chunk}"
    fail = run(threads, chunk, dup_path)
    check(fail.returncode == 1 and fail.stdout == b"", f"{what}: a repeated key fails the run")
    err = fail.stderr.decode()
    check(err.startswith(want_error), f"{what}: the first repeat in file order: {err[:300]}")
    check(f"{len(repeats)} rows repeat an earlier key" in err, f"{what}: every repeat counted: {err[:400]}")
    rej = os.path.join(tmp, f"rejects-{threads}-{chunk}.csv")
    skip = run(threads, chunk, dup_path, "--skip-bad-rows", "--rejects", rej)
    check(skip.returncode == 0, f"{what}: --skip-bad-rows runs: {skip.stderr.decode()[:300]}")
    if skip.returncode == 0 and clean.returncode == 0:
        check(figures(skip.stdout) == figures(clean.stdout),
              f"{what}: the figures of the file without its repeated rows")
        sources = {s["name"]: s for s in json.loads(skip.stdout)["sources"]}
        check(sources["orders"]["skipped"] == len(repeats), f"{what}: {len(repeats)} rows skipped: {sources['orders']}")
    with open(rej, newline="") as f:
        rows = list(csv.reader(f))[1:]
    check([int(r[2]) for r in rows] == [r[0] for r in repeats], f"{what}: the rejects are the repeated rows' lines")
    check([r[4] for r in rows] == [f'duplicate key order_id "{oid}": first seen on line {fl}'
                                   for _, oid, fl, _ in repeats], f"{what}: the rejects' reasons")
    check([r[5] for r in rows] == [rec for *_, rec in repeats], f"{what}: the rejects' records")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
