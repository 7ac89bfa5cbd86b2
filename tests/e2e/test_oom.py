#!/usr/bin/env python3
"""End-to-end test: running out of memory is exit 2 with `kpic: out of memory …`,
leaving no output file (before the fix: SIGABRT, exit 134).

Memory is made to run out on a spec of 70 MB (a comment), whose reading needs a
128 MiB buffer: under an address-space limit of 100 MB (RLIMIT_AS, set in the child).
An AddressSanitizer build reserves terabytes of address space for its shadow memory and
cannot start under such a limit; there the same failure is produced by ASan's own
allocator (allocator_may_return_null with a 64 MiB cap on one allocation), so the check
runs in both builds and is never skipped.

usage: test_oom.py KPIC
"""
import os, resource, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from expect import check, finish

KPIC = os.path.abspath(sys.argv[1])
LIMIT = 100 * 1000 * 1000


def asan_build():
    with open(KPIC, "rb") as f:
        return b"__asan_init" in f.read()


def run_starved(args, cwd):
    env = dict(os.environ)
    preexec = None
    if asan_build():
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS", ""),
                                                     "allocator_may_return_null=1", "max_allocation_size_mb=64"]))
    else:
        def preexec():
            resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))
    return subprocess.run([KPIC, *args], cwd=cwd, env=env, preexec_fn=preexec, capture_output=True, timeout=120)


def leftovers(d):
    return sorted(n for n in os.listdir(d) if n not in ("huge.kpi",))


def main():
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "huge.kpi"), "w") as f:
            f.write("period month\n#" + "x" * 70_000_000 + "\n")
        for args in (["doc", "huge.kpi", "-o", "doc.md"], ["check", "huge.kpi"], ["fmt", "--write", "huge.kpi"],
                     ["score", "huge.kpi", "--period", "2025-05", "-o", "out.csv"]):
            r = run_starved(args, d)
            check(r.returncode == 2, "%s out of memory: exit 2 (got %d)" % (args[0], r.returncode))
            # (ASan's allocator warns on its own line first)
            last = r.stderr.splitlines()[-1] if r.stderr else b""
            check(last.startswith(b"kpic: out of memory"), "%s out of memory: the message (%r)" % (args[0], r.stderr[:200]))
            check(r.stdout == b"", "%s out of memory: nothing on stdout" % args[0])
            check(leftovers(d) == [], "%s out of memory: no file left (%s)" % (args[0], leftovers(d)))
        check(os.path.getsize(os.path.join(d, "huge.kpi")) == len("period month\n#") + 70_000_001,
              "fmt --write out of memory: the spec untouched")
        # the passing twin: the same runs on a spec that fits
        spec = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "kpi-specs", "user-ops.kpi")
        r = run_starved(["doc", os.path.abspath(spec), "-o", "doc.md"], d)
        check(r.returncode == 0 and os.path.exists(os.path.join(d, "doc.md")), "a spec that fits: documented (%r)" % r.stderr)
    return finish("oom: exit 2 with the message, nothing left")


if __name__ == "__main__":
    sys.exit(main())
