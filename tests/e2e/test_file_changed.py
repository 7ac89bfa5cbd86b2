#!/usr/bin/env python3
"""End-to-end test of a data file that changes while kpic reads it (cli.md, data errors).

A regular file is mapped and parsed in place (csv_reader.h). A file truncated under
the mapping would kill the process with SIGBUS; kpic must instead stop with a located
error "the file changed while it was being read", exit 1, and print nothing on stdout.
A truncation to a size inside a page leaves zeros readable with no signal at all, and
an edit in place changes bytes already counted: both must be caught too (by the size,
mtime and ctime checked at the end of every pass and chunk).

How the race is made deterministic enough: the file is large (about 60 MB, a second or
more of reading with tiny chunks), and the file is changed as soon as kpic has it
mapped (seen in /proc/PID/maps), long before its pass can end. A run in which kpic
finished first (exit 0 with the original figures) is not a failure of kpic but of the
race, and is retried with a larger file; a run killed by a signal, an exit other than
0 or 1, a partial output or an exit 0 after the file changed under it are failures.

usage: test_file_changed.py KPIC
"""
import os, shutil, signal, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(__file__))
from expect import check, finish

KPIC = os.path.abspath(sys.argv[1])
CASES = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "cases"))
SPEC = "eval_bad_data_skip.kpi"

HEADER = b"id,staff_id,amount,paid_at\n"
BLOCK = b"".join(b"o%07d,s%d,%d.%02d,2025-05-%02d\n" % (i, i % 3 + 1, i % 50, i % 100, i % 28 + 1)
                 for i in range(10000))


def write_file(path, blocks):
    with open(path, "wb") as f:
        f.write(HEADER)
        for _ in range(blocks):
            f.write(BLOCK)


def mapped(pid, path):
    try:
        with open("/proc/%d/maps" % pid) as f:
            return path in f.read()
    except OSError:
        return False


def run_changing(path, change, threads, chunk):
    """Runs eval over PATH and calls CHANGE(path) as soon as kpic has mapped it; returns
    (exit status, stdout, stderr, whether the file was changed while mapped)."""
    env = dict(os.environ, KPIC_CHUNK_BYTES=str(chunk))
    proc = subprocess.Popen([KPIC, "eval", SPEC, "--period", "2025-05", "--threads", str(threads),
                             "--data", "orders=" + path], cwd=CASES, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    changed = False
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if mapped(proc.pid, path):
            change(path)
            changed = True
            break
        time.sleep(0.0002)
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out, err, changed


def truncate_to(size):
    return lambda path: os.truncate(path, size)


def edit_in_place(path):
    """Same size, other bytes: the first data row's amount 0.00 becomes 9.99."""
    with open(path, "r+b") as f:
        f.seek(len(HEADER) + len(b"o0000000,s1,"))
        f.write(b"9.99")


CASES_OF_CHANGE = [
    # (what, change): a page-aligned truncation faults on the next page; one inside
    # a page leaves zeros before the fault; an edit in place never faults
    ("truncated to 64 KiB", truncate_to(65536)),
    ("truncated inside a page", truncate_to(len(HEADER) + 5 * len(BLOCK) // 7)),
    ("truncated to its header", truncate_to(len(HEADER))),
    ("edited in place", edit_in_place),
]

tmp = tempfile.mkdtemp(prefix="kpic-changed-")
try:
    path = os.path.join(tmp, "orders.csv")
    for what, change in CASES_OF_CHANGE:
        for threads, chunk in ((1, 1 << 20), (2, 65536)):
            label = "%s, %d thread%s" % (what, threads, "" if threads == 1 else "s")
            blocks = 150
            for attempt in range(4):
                write_file(path, blocks)
                rc, out, err, changed = run_changing(path, change, threads, chunk)
                if rc == 0:
                    blocks *= 2  # kpic may have won the race: a larger file
                    continue
                break
            check(rc >= 0, "%s: killed by signal %s" % (label, -rc if rc < 0 else ""))
            check(changed, "%s: kpic never had the file mapped" % label)
            check(rc == 1, "%s: exit %d, not 1: %r" % (label, rc, err[-600:]))
            check(out == b"", "%s: output printed: %r" % (label, out[:300]))
            check(b"the file changed while it was being read" in err,
                  "%s: not the message of a changed file: %r" % (label, err[-600:]))
            check(err.count(b"error:") >= 1 and (path.encode() + b":") in err,
                  "%s: the error names the file: %r" % (label, err[-600:]))

    # The twin: the same file, left alone, reads clean with the figures of its rows.
    write_file(path, 150)
    for threads in (1, 2):
        p = subprocess.run([KPIC, "eval", SPEC, "--period", "2025-05", "--threads", str(threads),
                            "--data", "orders=" + path], cwd=CASES, capture_output=True,
                           env=dict(os.environ, KPIC_CHUNK_BYTES="65536"), timeout=300)
        check(p.returncode == 0 and b"1,500,000 rows read, 0 skipped" in p.stdout,
              "an unchanged file, %d threads: %r" % (threads, (p.stdout + p.stderr)[-400:]))
finally:
    shutil.rmtree(tmp, ignore_errors=True)

sys.exit(finish("a file changed while it is read stops with a located error, exit 1, no output"))
