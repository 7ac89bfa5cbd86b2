#!/usr/bin/env python3
"""End-to-end test of data files that are not regular files (cli.md, data errors).

`--data NAME=/dev/stdin` and pipes are streamed: 1.5 GB of rows through a pipe is read
with memory bounded by one record (it once took as much memory as the pipe held), and
gives the figures and SHA-256 of the same bytes in a regular file read by threads. A
device that never ends a record (/dev/zero) stops at the 64 MiB record limit with a
located data error (exit 1), in about a second (it once grew to 5.9 GB). A source the
plan reads twice cannot be a pipe: a clear error (exit 2) instead of "the file is empty".

usage: test_data_pipes.py KPIC
"""
import hashlib, json, os, resource, shutil, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(__file__))
from expect import check, finish, sanitized

KPIC = os.path.abspath(sys.argv[1])
CASES = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "cases"))
SPEC = "eval_bad_data_skip.kpi"
EVAL = [KPIC, "eval", SPEC, "--period", "2025-05"]

rows = b"id,staff_id,amount,paid_at\na1,s1,10.00,2025-05-01\na2,s2,2.50,2025-05-02\n"
p = subprocess.run(EVAL + ["--data", "orders=/dev/stdin"],
                   input=rows, capture_output=True, cwd=CASES, timeout=60)
check(p.returncode == 0 and b"source orders: 2 rows read" in p.stdout,
      "a pipe on /dev/stdin is read: %r" % (p.stdout + p.stderr))

# Rows of about 230 bytes (a long id), so that 1.5 GB is a few million rows.
HEADER = b"id,staff_id,amount,paid_at\n"
BLOCK = b"".join(b"%s-%06d,s%d,%d.%02d,2025-05-%02d\n" % (b"o" * 200, i, i % 3 + 1, i % 50,
                                                          i % 100, i % 28 + 1)
                 for i in range(4000))
BLOCK_ROWS = 4000


def pipe_run(blocks, extra=()):
    """Runs eval with BLOCKS blocks written into its stdin by this process; returns the
    process result, the wall time and the data's SHA-256."""
    sha = hashlib.sha256(HEADER)
    start = time.monotonic()
    proc = subprocess.Popen(EVAL + ["--data", "orders=/dev/stdin", *extra], cwd=CASES,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(HEADER)
    for _ in range(blocks):
        proc.stdin.write(BLOCK)
        sha.update(BLOCK)
    proc.stdin.close()
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.wait(timeout=600)
    return proc.returncode, out, err, time.monotonic() - start, sha.hexdigest()


# 1.5 GB through a pipe: bounded memory (this is the largest child so far, so the
# children's peak is its own), the right count.
blocks = 1_500_000_000 // len(BLOCK) + 1
rc, out, err, took, _ = pipe_run(blocks)
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
expected = b"source orders: %s rows read, 0 skipped (/dev/stdin)" % (
    "{:,}".format(blocks * BLOCK_ROWS).encode())
check(rc == 0 and expected in out, "1.5 GB pipe: %r" % (out[-300:] + err[-300:]))
check(peak_mb < 150, "1.5 GB pipe peaked at %.0f MB" % peak_mb)
print("1.5 GB pipe: %.1f s, peak %.0f MB" % (took, peak_mb))

# The same bytes in a regular file, read by threads in chunks, give the same figures and
# the same SHA-256 (JSON output, path aside).
tmp = tempfile.mkdtemp(prefix="kpic-pipes-")
try:
    small = 150  # about 35 MB: several chunks
    path = os.path.join(tmp, "orders.csv")
    with open(path, "wb") as f:
        f.write(HEADER)
        for _ in range(small):
            f.write(BLOCK)
    rc, out, err, _, sha = pipe_run(small, ["--format", "json"])
    filed = subprocess.run(EVAL + ["--data", "orders=" + path, "--threads", "2",
                                   "--format", "json"],
                           capture_output=True, cwd=CASES, timeout=300)
    check(rc == 0 and filed.returncode == 0, "json runs: %r %r" % (err, filed.stderr))
    if rc == 0 and filed.returncode == 0:
        a, b = json.loads(out), json.loads(filed.stdout)
        for doc in (a, b):
            for src in doc["sources"]:
                src.pop("path")
        check(a == b, "a pipe and a regular file differ:\n%s\n%s" % (out[:600], filed.stdout[:600]))
        orders = [s for s in a["sources"] if s["name"] == "orders"][0]
        check(orders["sha256"] == sha and orders["rows"] == small * BLOCK_ROWS,
              "pipe digest %s rows %s, expected %s" % (orders["sha256"], orders["rows"], sha))

    # A source the plan reads twice (a set drawn from it filters it) cannot be a pipe.
    shutil.copy(os.path.join(CASES, "eval_bad_data", "staff.csv"), tmp)
    spec = os.path.join(tmp, "twice.kpi")
    with open(spec, "w") as f:
        f.write('period month\n\nsource orders "orders.csv" {\n  id text\n'
                '  staff_id text staff\n  amount money\n  paid_at date time\n}\n\n'
                'staff "staff.csv" {\n  id text\n  name text\n  role text\n}\n\n'
                'set big = orders.id where amount > 5\n\n'
                'indicator n count per staff = count(orders where id in big)\n')
    twice = [KPIC, "eval", spec, "--period", "2025-05"]
    p = subprocess.run(twice, capture_output=True, timeout=300)
    check(p.returncode == 0, "two passes over a regular file: %r" % p.stderr)
    p = subprocess.run(twice + ["--data", "orders=/dev/stdin"], input=rows,
                       capture_output=True, timeout=60)
    # (the first pass's warnings, such as a short export's, may come before it)
    check(p.returncode == 2 and
          b"/dev/stdin: error: a pipe or device can be read only once, and this source is read "
          b"in a second pass: save it to a regular file and pass that file" in p.stderr,
          "a pipe read twice: %r" % p.stderr)
finally:
    shutil.rmtree(tmp)

# about a second in a plain build; a sanitized one (ASan's shadow memory on the 64 MiB
# record) on a loaded machine took more than 20 s, so its limit is five times longer;
# a run that never stops is still caught by either limit
limit = 20 * (5 if sanitized(KPIC) else 1)
start = time.monotonic()
p = subprocess.run(EVAL + ["--data", "orders=/dev/zero"], capture_output=True, cwd=CASES,
                   timeout=limit + 40)
took = time.monotonic() - start
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
check(p.returncode == 1 and p.stderr.startswith(b"/dev/zero:1: error: a record longer than 64 MiB"),
      "/dev/zero stops at the record limit: %r" % p.stderr[:300])
check(took < limit, "/dev/zero took %.1f s, the limit is %d s" % (took, limit))
check(peak_mb < 1024, "/dev/zero peaked at %.0f MB" % peak_mb)

sys.exit(finish("pipes are streamed in bounded memory, equal to files, and a device "
                "without line ends stops at the record limit"))
