#!/usr/bin/env python3
"""End-to-end test of loading many imports (language.md §10.3, import-depth).

Imports are followed with an explicit stack and a table of files already seen, so:
  * a chain deeper than 64 files stops at a located error, quickly, and does not
    overflow even a small C stack (256 KiB, where a recursive loader crashed at 3,000);
  * 20,000 files imported from one file load in seconds (each is resolved once, not
    once per ancestor);
  * a lattice where every file imports the next two (2^60 paths) loads each file once;
  * a cycle is still reported with its whole path.

usage: test_import_chain.py KPIC
"""
import os, resource, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(__file__))
from expect import check, finish

KPIC = os.path.abspath(sys.argv[1])
STAFF = 'period month\nstaff "staff.csv" {\n  id text\n  role text\n}\n'


def small_stack():
    resource.setrlimit(resource.RLIMIT_STACK, (256 * 1024, 256 * 1024))


def run(*args, cwd, stack=False):
    start = time.monotonic()
    p = subprocess.run([KPIC, *args], capture_output=True, cwd=cwd, timeout=120,
                       preexec_fn=small_stack if stack else None)
    return p, time.monotonic() - start


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


with tempfile.TemporaryDirectory() as tmp:
    # a chain f0 -> f1 -> ... -> f2999
    chain = os.path.join(tmp, "chain")
    os.makedirs(chain)
    n = 3000
    for i in range(n):
        body = STAFF if i == 0 else ""
        if i + 1 < n:
            body = 'import "f%d.kpi"\n' % (i + 1) + body
        write(os.path.join(chain, "f%d.kpi" % i), body + "indicator i%d count = %d\n" % (i, i))
    p, took = run("check", "f0.kpi", cwd=chain, stack=True)
    err = p.stderr.decode()
    check(p.returncode == 1, "a chain of 3000: exit %d, %s" % (p.returncode, err[-500:]))
    check(err.startswith("f63.kpi:1:8: error: cannot import 'f64.kpi': imports are nested more than 64 files deep"),
          "the depth error is located at the 65th import: %s" % err[:300])
    check(err.count("error:") == 1, "one depth error: %s" % err[-300:])
    check(took < 10, "a chain of 3000 took %.1f s" % took)

    # 20,000 files imported from one
    wide = os.path.join(tmp, "wide")
    os.makedirs(wide)
    n = 20000
    write(os.path.join(wide, "main.kpi"), "".join('import "w%d.kpi"\n' % i for i in range(n)) + STAFF)
    for i in range(n):
        write(os.path.join(wide, "w%d.kpi" % i), "indicator w%d count = %d\n" % (i, i))
    p, took = run("check", "main.kpi", cwd=wide)
    check(p.returncode == 0, "20,000 imports: exit %d, %s" % (p.returncode, p.stderr.decode()[-300:]))
    check(took < 30, "20,000 imports took %.1f s" % took)

    # a lattice: each file imports the next two; every file loads once
    lattice = os.path.join(tmp, "lattice")
    os.makedirs(lattice)
    n = 60
    for i in range(n):
        body = "".join('import "l%d.kpi"\n' % k for k in (i + 1, i + 2) if k < n)
        write(os.path.join(lattice, "l%d.kpi" % i),
              body + (STAFF if i == 0 else "") + "indicator l%d count = %d\n" % (i, i))
    p, took = run("check", "l0.kpi", cwd=lattice)
    check(p.returncode == 0 and took < 10, "a lattice of 60: exit %d in %.1f s, %s"
          % (p.returncode, took, p.stderr.decode()[-300:]))

    # a cycle three files long, reported with its whole path
    cyc = os.path.join(tmp, "cycle")
    os.makedirs(cyc)
    write(os.path.join(cyc, "a.kpi"), 'import "b.kpi"\n' + STAFF)
    write(os.path.join(cyc, "b.kpi"), 'import "c.kpi"\n')
    write(os.path.join(cyc, "c.kpi"), 'import "a.kpi"\n')
    p, _ = run("check", "a.kpi", cwd=cyc)
    check("c.kpi:1:8: error: import cycle: a.kpi -> b.kpi -> c.kpi -> a.kpi" in p.stderr.decode(),
          "the cycle's whole path: %s" % p.stderr.decode())

sys.exit(finish("import chains: depth limit, 20,000 files, a lattice and a cycle"))
