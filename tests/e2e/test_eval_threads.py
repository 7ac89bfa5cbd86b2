#!/usr/bin/env python3
"""Parallel evaluation gives exactly the one-thread result, whatever the chunking.

Generates a CSV whose quoted fields hold commas, doubled quotes and newlines (CRLF
and LF), then runs `kpic eval` with 1 thread and with 2 and 3 threads on chunks of a
few hundred bytes (KPIC_CHUNK_BYTES), so that chunk boundaries fall everywhere,
including right before and inside quoted fields. The JSON outputs must be identical,
and so must the warnings (a count of out-of-scale row values is summed over threads).
The same is checked for a bad row: every thread count reports the same first error.
usage: test_eval_threads.py KPIC
"""
import os, random, subprocess, sys, tempfile

KPIC = os.path.abspath(sys.argv[1])
rng = random.Random(7)
tmp = tempfile.mkdtemp(prefix="kpic-threads-")
notes = ['plain', '"a, b"', '"line one\nline two"', '"say ""hi"""', '"crlf\r\ninside"', '""', '']
with open(os.path.join(tmp, "orders.csv"), "w", newline="") as f:
    f.write("order_id,customer_id,staff_id,amount,paid_at,note\r\n")
    for i in range(6000):
        day = rng.randint(1, 28)
        month = rng.randint(1, 6)
        f.write(f"o{i},c{rng.randint(1, 700)},s{rng.randint(1, 9)},{rng.randint(1, 99999) / 100:.2f},"
                f"2025-{month:02d}-{day:02d},{rng.choice(notes)}" + ("\r\n" if i % 3 else "\n"))
with open(os.path.join(tmp, "staff.csv"), "w") as f:
    f.write("id,name,role\n" + "".join(f"s{i},n{i},sales\n" for i in range(1, 9)))
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
}
staff "staff.csv" {
  id   text
  name text
  role text
}
indicator n        count per staff = count(orders)
indicator gmv      money per staff = sum(orders.amount)
indicator buyers   count per staff = distinct(orders.customer_id)
indicator repeat   count per staff = distinct(orders.customer_id having count() >= 3)
indicator big      money per staff = max(orders.amount where note = "line one\\nline two")
indicator quoted   count = count(orders where note in ("a, b", "say \\"hi\\""))
indicator ytd      money per staff = sum(orders.amount over year to date)
scale band {
  [0, 300)    -> 1
  [300, 700)  -> 2
}
# amounts run to 999.99: rows above 700 fall outside every interval, and the warning's
# count of them must not depend on how the rows were shared between threads
indicator banded   number per staff = sum(band(orders.amount))
''')

def run(threads, chunk=None, data=None):
    env = dict(os.environ)
    if chunk:
        env["KPIC_CHUNK_BYTES"] = str(chunk)
    args = [KPIC, "eval", spec, "--period", "2025-01..2025-06", "--format", "json",
            "--threads", str(threads)]
    if data:
        args += ["--data", f"orders={data}"]
    return subprocess.run(args, capture_output=True, env=env, timeout=120)

passed = failed = 0
def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)

one = run(1)
check(one.returncode == 0 and one.stdout, f"one thread runs: {one.stderr.decode()[:300]}")
check(b"row values lay outside every interval of scale 'band'" in one.stderr,
      f"the out-of-scale rows are reported: {one.stderr.decode()[:300]}")
for threads in (2, 3):
    for chunk in (97, 256, 1000, 4096):
        many = run(threads, chunk)
        check(many.returncode == 0, f"{threads} threads, chunk {chunk}: exit {many.returncode}")
        check(many.stdout == one.stdout, f"{threads} threads, chunk {chunk}: same JSON as one thread")
        check(many.stderr == one.stderr, f"{threads} threads, chunk {chunk}: same warnings as one thread")

# a bad row far into the file: the same first error whatever the threads
bad = os.path.join(tmp, "bad.csv")
with open(os.path.join(tmp, "orders.csv"), newline="") as f:
    text = f.read()
lines = text.split("\r\n")
lines[4000] = lines[4000].replace(".", "x", 1) if "." in lines[4000] else lines[4000] + ",extra"
with open(bad, "w", newline="") as f:
    f.write("\r\n".join(lines))
first = run(1, data=bad)
check(first.returncode == 1 and first.stdout == b"", "a bad row fails with one thread")
for threads in (2, 3):
    again = run(threads, 300, data=bad)
    check(again.returncode == 1 and again.stderr == first.stderr,
          f"{threads} threads report the same first error: {again.stderr.decode()[:200]}")

# text after a closing quote ("o7"x) makes one bad row, from the quote to the end of
# its line, and reading goes on at the next line: the same rows and rejects whatever
# the threads and wherever the chunks are cut
stray = os.path.join(tmp, "stray.csv")
lines = text.split("\r\n")
changed = 0
for k in range(1, len(lines) - 1, 97):
    if '"' in lines[k] or not lines[k].startswith("o"):
        continue
    cells = lines[k].split(",", 1)
    lines[k] = f'"{cells[0]}"x,' + cells[1] if k % 2 else f'"{cells[0]}"  "a",' + cells[1]
    changed += 1
with open(stray, "w", newline="") as f:
    f.write("\r\n".join(lines))

def run_skip(threads, chunk=None):
    rejects = os.path.join(tmp, f"rejects-{threads}-{chunk}.csv")
    env = dict(os.environ)
    if chunk:
        env["KPIC_CHUNK_BYTES"] = str(chunk)
    p = subprocess.run([KPIC, "eval", spec, "--period", "2025-01..2025-06", "--format", "json",
                        "--threads", str(threads), "--data", f"orders={stray}",
                        "--skip-bad-rows", "--rejects", rejects],
                       capture_output=True, env=env, timeout=120)
    # the warning names this run's rejects file; everything else must be identical
    p.stderr = p.stderr.replace(rejects.encode(), b"REJECTS")
    with open(rejects, "rb") as f:
        return p, f.read()

base, base_rejects = run_skip(1)
skipped = changed
check(base.returncode == 0 and base_rejects.count(b"after its closing quote") == skipped,
      f"each stray quote is one bad row ({skipped}): {base.stderr.decode()[:300]} {base_rejects[:300]}")
check(f'"rows": {6000 - skipped},'.encode() in base.stdout and f'"skipped": {skipped}'.encode() in base.stdout,
      f"the other rows are read: {base.stdout[-400:]}")
for threads in (2, 3):
    for chunk in (97, 1000):
        many, rejects = run_skip(threads, chunk)
        check(many.stdout == base.stdout and many.stderr == base.stderr and rejects == base_rejects,
              f"{threads} threads, chunk {chunk}: the same rows and rejects after stray quotes")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
