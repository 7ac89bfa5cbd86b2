#!/usr/bin/env python3
"""End-to-end test of strict option parsing (docs/cli.md "Options"): a single-valued
option given twice, a source named twice by --data, a number that is not plain digits,
and arguments after --version or --help are usage errors (exit 2, nothing on stdout),
with a message naming both values. Before the fix the last (or, for --data, the first)
value won silently and `--threads " 4"`, `+4` and `08` were accepted. Each refusal has
its passing twin: the option given once.

usage: test_options.py KPIC
"""
import os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from expect import check, finish

KPIC = os.path.abspath(sys.argv[1])
SPEC = "kpi-specs/user-ops.kpi"
import subprocess


def run(*args):
    return subprocess.run([KPIC, *args], capture_output=True, timeout=120)


def refused(args, message):
    r = run(*args)
    check(r.returncode == 2 and r.stdout == b"" and message.encode() in r.stderr,
          "%s: exit 2 with %r (got %d %r)" % (" ".join(args), message, r.returncode, r.stderr[:200]))


def accepted(args):
    r = run(*args)
    check(r.returncode == 0, "%s: exit 0 (got %d %r)" % (" ".join(args), r.returncode, r.stderr[:200]))


def main():
    p = ["--period", "2025-05"]
    twice = "given twice"
    refused(["eval", SPEC, *p, "--period", "2025-06"], "kpic: --period given twice ('2025-05' and '2025-06'); give it once")
    refused(["score", SPEC, *p, "--period", "2025-05"], "--period " + twice)
    refused(["explain", SPEC, *p, "--staff", "s01", "--period", "2025-06"], "--period " + twice)
    refused(["diff", SPEC, SPEC, *p, "--period", "2025-06"], "--period " + twice)
    refused(["eval", SPEC, *p, "--format", "json", "--format", "csv"], "--format " + twice)
    refused(["score", SPEC, *p, "--format", "json", "--format", "csv"], "--format " + twice)
    refused(["check", SPEC, "--format", "json", "--format", "text"], "--format " + twice)
    refused(["doc", SPEC, "--format", "md", "--format", "html"], "--format " + twice)
    refused(["score", SPEC, *p, "-o", "/nonexistent/a", "-o", "/nonexistent/b"], "-o " + twice)
    refused(["score", SPEC, *p, "-o", "/nonexistent/a", "--output", "/nonexistent/b"], "--output " + twice)
    refused(["doc", SPEC, "-o", "/nonexistent/a", "-o", "/nonexistent/b"], "-o " + twice)
    refused(["explain", SPEC, *p, "--staff", "s01", "--staff", "s02"], "--staff given twice ('s01' and 's02')")
    refused(["explain", SPEC, *p, "--staff", "s01", "--kpi", "a", "--kpi", "b"], "--kpi " + twice)
    refused(["eval", SPEC, *p, "--threads", "2", "--threads", "4"], "--threads " + twice)
    refused(["eval", SPEC, *p, "--data-dir", "a", "--data-dir", "b"], "--data-dir " + twice)
    refused(["eval", SPEC, *p, "--skip-bad-rows", "--rejects", "/nonexistent/a", "--rejects", "/nonexistent/b"],
            "--rejects " + twice)
    # the second --data for a source, even a missing file, was ignored
    refused(["eval", SPEC, *p, "--data", "orders=kpi-specs/data/orders.csv", "--data", "orders=/nonexistent.csv"],
            "kpic: --data names source 'orders' twice ('kpi-specs/data/orders.csv' and '/nonexistent.csv'); give it once")
    for bad in (" 4", "+4", "08", "4 ", "0", "1025", "4x", "", "-1", "0x4", "99999999999999999999"):
        refused(["eval", SPEC, *p, "--threads", bad], "--threads takes a number from 1 to 1024, in digits, not '%s'" % bad)
    for info in ("--version", "--help", "-h", "help"):
        refused([info, "extra"], "kpic: %s takes no arguments" % info)
    refused(["eval", SPEC, "--period", "2025-05...2025-06"],
            "kpic: --period '2025-05...2025-06': a range is written with two dots, not 3: write 2025-05..2025-06")

    # passing twins
    accepted(["eval", SPEC, *p, "--threads", "4"])
    accepted(["eval", SPEC, *p, "--threads", "1024"])
    accepted(["eval", SPEC, "--period", "2025-05..2025-06"])
    accepted(["eval", SPEC, *p, "--indicator", "new_users", "--indicator", "refund_rate"])
    accepted(["eval", SPEC, *p, "--data", "orders=kpi-specs/data/orders.csv", "--data", "staff=kpi-specs/data/staff.csv"])
    accepted(["eval", SPEC, *p, "--quiet", "--quiet"])  # a flag says the same thing twice
    accepted(["--version"])
    accepted(["--help"])
    # an indicator asked for twice is printed once, where it was first asked for
    twice = subprocess.run([KPIC, "eval", SPEC, *p, "--format", "csv", "--indicator", "new_users",
                            "--indicator", "refund_rate", "--indicator", "new_users"],
                           capture_output=True, timeout=120)
    once = subprocess.run([KPIC, "eval", SPEC, *p, "--format", "csv", "--indicator", "new_users",
                           "--indicator", "refund_rate"], capture_output=True, timeout=120)
    check(twice.returncode == 0 and twice.stdout == once.stdout,
          "--indicator X twice: printed once (%d)" % twice.returncode)
    # KPIC_CHUNK_BYTES, the testing aid, is parsed as strictly (it was read with atol:
    # "64k" meant 64 bytes, "abc" the default)
    for bad in ("64k", "abc", "0", "-5", " 4", "1073741825"):
        r = subprocess.run([KPIC, "eval", SPEC, *p], capture_output=True, timeout=120,
                           env=dict(os.environ, KPIC_CHUNK_BYTES=bad))
        check(r.returncode == 2 and r.stdout == b"" and
              b"KPIC_CHUNK_BYTES takes a number of bytes from 1 to 1073741824, in digits, not '%s'" % bad.encode() in r.stderr,
              "KPIC_CHUNK_BYTES=%r: exit 2 (got %d %r)" % (bad, r.returncode, r.stderr[:200]))
    for good in ("4096", "1073741824", ""):
        r = subprocess.run([KPIC, "eval", SPEC, *p, "--threads", "2"], capture_output=True, timeout=120,
                           env=dict(os.environ, KPIC_CHUNK_BYTES=good))
        check(r.returncode == 0, "KPIC_CHUNK_BYTES=%r: exit 0 (got %d %r)" % (good, r.returncode, r.stderr[:200]))
    return finish("options: strict parsing")


if __name__ == "__main__":
    sys.exit(main())
