#!/usr/bin/env python3
"""End-to-end test of data files that are not regular files (cli.md, data errors).

`--data NAME=/dev/stdin` and pipes keep working; a device that never ends a record
(/dev/zero) stops at the 64 MiB record limit with a located data error (exit 1), in
about a second and without taking more than a few hundred MB (it once grew to 5.9 GB).

usage: test_data_pipes.py KPIC
"""
import os, resource, subprocess, sys, time

sys.path.insert(0, os.path.dirname(__file__))
from expect import check, finish

KPIC = os.path.abspath(sys.argv[1])
CASES = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "cases"))
SPEC = "eval_bad_data_skip.kpi"

rows = b"id,staff_id,amount,paid_at\na1,s1,10.00,2025-05-01\na2,s2,2.50,2025-05-02\n"
p = subprocess.run([KPIC, "eval", SPEC, "--period", "2025-05", "--data", "orders=/dev/stdin"],
                   input=rows, capture_output=True, cwd=CASES, timeout=60)
check(p.returncode == 0 and b"source orders: 2 rows read" in p.stdout,
      "a pipe on /dev/stdin is read: %r" % (p.stdout + p.stderr))

start = time.monotonic()
p = subprocess.run([KPIC, "eval", SPEC, "--period", "2025-05", "--data", "orders=/dev/zero"],
                   capture_output=True, cwd=CASES, timeout=60)
took = time.monotonic() - start
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
check(p.returncode == 1 and p.stderr.startswith(b"/dev/zero:1: error: a record longer than 64 MiB"),
      "/dev/zero stops at the record limit: %r" % p.stderr[:300])
check(took < 20, "/dev/zero took %.1f s" % took)
check(peak_mb < 1024, "/dev/zero peaked at %.0f MB" % peak_mb)

sys.exit(finish("pipes are read, and a device without line ends stops at the record limit"))
