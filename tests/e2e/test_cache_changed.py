#!/usr/bin/env python3
"""End-to-end test of a column cache that changes while a run replays it (docs/cli.md,
"The column cache"; docs/decisions.md).

The cache file is mapped: truncated under the mapping by hand, it would kill the
process with SIGBUS, and rewritten in place it could hand out bytes that were never
checked. kpic copies each group out of the mapping under the SIGBUS guard and checks
the copy before any of its rows is handed out; a group that faults or fails its checks
makes the evaluator drop what the replay gave and read the CSV instead, with a note,
rebuilding the cache. So the run must succeed, exit 0, with exactly the figures of an
uncached run, and say so in a note; a later run replays the rebuilt cache quietly.

The race is made as in test_file_changed.py: the cache is changed as soon as kpic has
it mapped (seen in /proc/PID/maps); a run that finished its replay first (exit 0, no
note) is retried with a larger file.

usage: test_cache_changed.py KPIC
"""
import os, shutil, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(__file__))
from expect import check, finish

KPIC = os.path.abspath(sys.argv[1])
CASES = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "cases"))
SPEC = "eval_bad_data_skip.kpi"

HEADER = b"id,staff_id,amount,paid_at\n"
BLOCK = b"".join(b"o%07d,s%d,%d.%02d,2025-05-%02d\n" % (i, i % 3 + 1, i % 50, i % 100, i % 28 + 1)
                 for i in range(10000))
NOTE = b"note: its column cache is ignored and rebuilt"


def write_file(path, blocks):
    with open(path, "wb") as f:
        f.write(HEADER)
        for _ in range(blocks):
            f.write(BLOCK)
    time.sleep(2.1)  # files changed in the last two seconds (ctime) are not cached


def args(data, threads, cache):
    cache_args = ["--cache-dir", cache] if cache else ["--no-cache"]
    return [KPIC, "eval", SPEC, "--period", "2025-05", "--threads", str(threads), "--format", "json",
            "--data", "orders=" + data, *cache_args]


def cache_file(cache):
    if not os.path.isdir(cache):
        return None
    files = [f for f in os.listdir(cache) if f.endswith(".kcol")]
    return os.path.join(cache, files[0]) if len(files) == 1 else None


def mapped(pid, path):
    try:
        with open("/proc/%d/maps" % pid) as f:
            return path in f.read()
    except OSError:
        return False


def run_changing(data, threads, cache, change):
    """Runs a warm eval and calls CHANGE(cache file) as soon as kpic has it mapped."""
    path = cache_file(cache)
    env = dict(os.environ, KPIC_CHUNK_BYTES="65536")
    proc = subprocess.Popen(args(data, threads, cache), cwd=CASES, env=env,
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


def overwrite_middle(path):
    """Same size, other bytes: the second half of the cache turned to 0x5A."""
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.seek(size // 2)
        f.write(b"\x5a" * (size - size // 2 - 4096))


CHANGES = [
    ("truncated to one page", truncate_to(4096)),
    ("truncated to half", lambda path: os.truncate(path, os.path.getsize(path) // 2)),
    ("rewritten in place", overwrite_middle),
]

tmp = tempfile.mkdtemp(prefix="kpic-cache-changed-")
try:
    data = os.path.join(tmp, "orders.csv")
    for what, change in CHANGES:
        for threads in (1, 2):
            label = "cache %s while replayed, %d thread%s" % (what, threads, "" if threads == 1 else "s")
            blocks = 100
            for attempt in range(4):
                write_file(data, blocks)
                env = dict(os.environ, KPIC_CHUNK_BYTES="65536")
                plain = subprocess.run(args(data, threads, None), cwd=CASES, env=env, capture_output=True, timeout=300)
                cache = os.path.join(tmp, "cache-%d" % attempt)
                shutil.rmtree(cache, ignore_errors=True)
                first = subprocess.run(args(data, threads, cache), cwd=CASES, env=env, capture_output=True, timeout=300)
                if not check(first.returncode == 0 and cache_file(cache), "%s: the cache is written: %r" % (label, first.stderr[-300:])):
                    break
                rc, out, err, changed = run_changing(data, threads, cache, change)
                if rc == 0 and NOTE not in err:
                    blocks *= 2  # the replay may have won the race: a larger file
                    continue
                break
            check(rc >= 0, "%s: killed by signal %s" % (label, -rc if rc < 0 else ""))
            check(changed, "%s: kpic never had the cache mapped" % label)
            check(rc == 0, "%s: exit %d, not 0: %r" % (label, rc, err[-600:]))
            check(out == plain.stdout and plain.returncode == 0,
                  "%s: figures other than an uncached run's: %r" % (label, out[:300]))
            check(NOTE in err and b"error" not in err,
                  "%s: not the note of a cache read instead: %r" % (label, err[-600:]))
            # the file was read and the cache rebuilt: the next run replays it quietly
            warm = subprocess.run(args(data, threads, cache), cwd=CASES, env=env, capture_output=True, timeout=300)
            check((warm.returncode, warm.stdout, warm.stderr) == (0, plain.stdout, plain.stderr),
                  "%s: the next run replays the rebuilt cache: %r" % (label, warm.stderr[-300:]))
finally:
    shutil.rmtree(tmp, ignore_errors=True)

sys.exit(finish("a cache truncated or rewritten under a replay: the file is read instead, with a note"))
