#!/usr/bin/env python3
"""End-to-end tests of the column cache (docs/cli.md, "The column cache").

* Warm output is byte-identical to an uncached run, for eval (text and JSON, a range,
  bad rows skipped with --rejects, bad rows refused), score and explain, with 1 and 2
  threads, warm runs replaying a cache that either thread count wrote.
* A changed data file is never served from its cache: appended, truncated, edited in
  place with the same size and its mtime restored (the ctime moves), replaced by a
  rename. The figures are those of the new file.
* A damaged cache is never trusted: every byte of a small cache flipped in turn gives
  either the cold output (the damage found, a note on stderr) -- never other figures,
  never a crash.
* A cache that cannot be written (the file size limit of a full disk) leaves the run
  successful and no file behind; two runs at once both succeed with the same output.
* --verify-data refuses a cache whose recorded SHA-256 is not the file's; --no-cache
  writes nothing; the cache files are mode 0600 in a directory made 0700.

usage: test_column_cache.py KPIC
"""
import os, resource, shutil, signal, stat, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(__file__))
from expect import check, finish

KPIC = os.path.abspath(sys.argv[1])
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLE = os.path.join(REPO, "kpi-specs")

tmp = tempfile.mkdtemp(prefix="kpic-colcache-")


def run(args, cache, cwd=REPO, extra_env=None, preexec=None):
    env = dict(os.environ)
    env.pop("XDG_CACHE_HOME", None)
    env.update(extra_env or {})
    cache_args = ["--cache-dir", cache] if cache else ["--no-cache"]
    return subprocess.run([KPIC, *args, *cache_args], cwd=cwd, capture_output=True, timeout=300,
                          env=env, preexec_fn=preexec)


def cache_files(cache):
    return sorted(f for f in os.listdir(cache) if f.endswith(".kcol")) if os.path.isdir(cache) else []


def age(path):
    """Data files younger than two seconds are not cached: make these old."""
    old = time.time() - 3600
    os.utime(path, (old, old))


try:
    # ---- a copy of the example project, its data files old enough to be cached
    project = os.path.join(tmp, "project")
    shutil.copytree(EXAMPLE, project)
    spec = os.path.join(project, "user-ops.kpi")
    time.sleep(2.1)  # the copy's ctimes: cached files must be two seconds old

    commands = [
        ["eval", spec, "--period", "2025-05"],
        ["eval", spec, "--period", "2025-01..2025-06", "--format", "json"],
        ["score", spec, "--period", "2025-05"],
        ["explain", spec, "--period", "2025-05", "--staff", "s02"],
    ]
    for threads in ("1", "2"):
        for writer_threads in ("1", "2"):
            for c, args in enumerate(commands):
                cache = os.path.join(tmp, "cache-%s-%s-%d" % (threads, writer_threads, c))
                env = {"KPIC_CHUNK_BYTES": "2048"}
                cold = run(args + ["--threads", writer_threads], cache, extra_env=env)
                plain = run(args + ["--threads", threads], None, extra_env=env)
                warm = run(args + ["--threads", threads], cache, extra_env=env)
                label = "%s, written with %s threads, read with %s" % (" ".join(args[:1] + args[2:]), writer_threads, threads)
                check(cold.returncode == 0 and cache_files(cache),
                      "%s: the cold run writes a cache (%d %r)" % (label, cold.returncode, cold.stderr[-300:]))
                check((warm.returncode, warm.stdout, warm.stderr) == (plain.returncode, plain.stdout, plain.stderr),
                      "%s: warm output identical to an uncached run: %r" % (label, warm.stderr[-300:]))

    # ---- bad rows: skipped with --rejects, and refused, identically warm
    cases = os.path.join(REPO, "tests", "cases")
    bad_project = os.path.join(tmp, "bad")
    shutil.copytree(cases, bad_project, ignore=shutil.ignore_patterns("*.err", "*.out"))
    time.sleep(2.1)
    for args in (["eval", "eval_bad_data_skip.kpi", "--period", "2025-05", "--skip-bad-rows",
                  "--rejects", os.path.join(tmp, "rejects.csv")],
                 ["eval", "eval_bad_data_skip.kpi", "--period", "2025-05"]):
        cache = os.path.join(tmp, "cache-bad-%d" % len(args))
        outs = []
        for _ in range(2):
            p = run(args, cache, cwd=bad_project)
            rejects = open(os.path.join(tmp, "rejects.csv"), "rb").read() if "--rejects" in args else b""
            outs.append((p.returncode, p.stdout, p.stderr, rejects))
        plain = run(args, None, cwd=bad_project)
        rejects = open(os.path.join(tmp, "rejects.csv"), "rb").read() if "--rejects" in args else b""
        check(outs[0] == outs[1] == (plain.returncode, plain.stdout, plain.stderr, rejects),
              "bad rows (%s): cold, warm and uncached identical: %r" % (" ".join(args[3:]), outs[1][2][-300:]))
        if "--rejects" in args:
            check(cache_files(cache), "bad rows skipped: the cache is written")
            # the same cache, read without --skip-bad-rows: the first bad row stops the
            # run with the error an uncached run gives
            strict_args = ["eval", "eval_bad_data_skip.kpi", "--period", "2025-05"]
            warm = run(strict_args, cache, cwd=bad_project)
            plain = run(strict_args, None, cwd=bad_project)
            check((warm.returncode, warm.stdout, warm.stderr) == (plain.returncode, plain.stdout, plain.stderr) and
                  warm.returncode == 1, "a cache written with --skip-bad-rows, read without it: the same error: %r" % warm.stderr)
        else:
            check(outs[0][0] == 1 and not cache_files(cache), "a refused bad row: no cache written")

    # ---- a changed data file is never served from its cache
    data = os.path.join(tmp, "changing")
    os.makedirs(data)
    shutil.copy(os.path.join(cases, "eval_bad_data_skip.kpi"), data)
    os.makedirs(os.path.join(data, "eval_bad_data"))
    orders = os.path.join(data, "eval_bad_data", "orders.csv")
    shutil.copy(os.path.join(cases, "eval_bad_data", "staff.csv"), os.path.join(data, "eval_bad_data"))
    base_rows = b"id,staff_id,amount,paid_at\na1,s1,10.00,2025-05-01\na2,s2,20.00,2025-05-02\n"

    def write_orders(content):
        with open(orders, "wb") as f:
            f.write(content)

    def eval_changing(cache):
        return run(["eval", "eval_bad_data_skip.kpi", "--period", "2025-05", "--format", "json"], cache, cwd=data)

    def changes():
        def append():
            with open(orders, "ab") as f:
                f.write(b"a3,s1,5.00,2025-05-03\n")

        def truncate():
            os.truncate(orders, len(base_rows) - len(b"a2,s2,20.00,2025-05-02\n"))

        def same_size_restored_mtime():
            st = os.stat(orders)
            with open(orders, "r+b") as f:
                f.seek(base_rows.index(b"10.00"))
                f.write(b"90.00")
            os.utime(orders, ns=(st.st_atime_ns, st.st_mtime_ns))

        def replaced_by_rename():
            st = os.stat(orders)
            other = orders + ".new"
            with open(other, "wb") as f:
                f.write(base_rows.replace(b"20.00", b"70.00"))
            os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
            os.rename(other, orders)
        return [("appended", append), ("truncated", truncate),
                ("edited in place, same size, mtime restored", same_size_restored_mtime),
                ("replaced by rename, same size and mtime", replaced_by_rename)]

    for what, change in changes():
        cache = os.path.join(tmp, "cache-change-" + what.split()[0])
        write_orders(base_rows)
        time.sleep(2.1)
        first = eval_changing(cache)
        check(first.returncode == 0 and cache_files(cache), "%s: first run cached" % what)
        change()
        warm = eval_changing(cache)
        plain = eval_changing(None)
        check(warm.returncode == 0 and warm.stdout == plain.stdout and warm.stdout != first.stdout,
              "%s: the new file's figures, not the cache's: %r" % (what, warm.stdout[:200]))

    # ---- a damaged cache: every byte flipped in turn
    write_orders(base_rows)
    time.sleep(2.1)
    cache = os.path.join(tmp, "cache-damage")
    good = eval_changing(cache)
    files = cache_files(cache)
    check(good.returncode == 0 and len(files) == 1, "the cache to damage is written")
    if files:
        path = os.path.join(cache, files[0])
        original = open(path, "rb").read()
        crashed = wrong = 0
        for i in range(len(original)):
            damaged = bytearray(original)
            damaged[i] ^= 0x5A
            with open(path, "wb") as f:
                f.write(damaged)
            os.chmod(path, 0o600)
            p = eval_changing(cache)
            if p.returncode < 0 or p.returncode > 1:
                crashed += 1
            elif p.stdout != good.stdout:
                wrong += 1
        check(crashed == 0, "a damaged cache never crashes kpic (%d of %d bytes did)" % (crashed, len(original)))
        check(wrong == 0, "a damaged cache never gives other figures (%d of %d bytes did)" % (wrong, len(original)))
        # truncated: ignored with a note, rebuilt
        with open(path, "wb") as f:
            f.write(original[:len(original) // 2])
        p = eval_changing(cache)
        check(p.returncode == 0 and p.stdout == good.stdout and b"note: its column cache is ignored and rebuilt" in p.stderr,
              "a truncated cache: ignored with a note: %r" % p.stderr[-300:])
        check(open(path, "rb").read() == original, "a truncated cache is rebuilt")
        # written by another version
        foreign = bytearray(original)
        foreign[8] ^= 0x03
        open(path, "wb").write(foreign)
        p = eval_changing(cache)
        check(p.returncode == 0 and p.stdout == good.stdout and b"written by another version of kpic" in p.stderr,
              "another version's cache: ignored with a note: %r" % p.stderr[-300:])

        # --verify-data: a cache whose digest is not the file's is refused
        rec = bytearray(open(path, "rb").read())
        p = run(["eval", "eval_bad_data_skip.kpi", "--period", "2025-05", "--format", "json", "--verify-data"], cache, cwd=data)
        check(p.returncode == 0 and p.stdout == good.stdout and b"note" not in p.stderr,
              "--verify-data with a right cache: quiet: %r" % p.stderr[-300:])

        # privacy: the files are 0600, a directory kpic makes is 0700
        mode = stat.S_IMODE(os.stat(path).st_mode)
        check(mode == 0o600, "cache file mode %o, not 600" % mode)
        fresh = os.path.join(tmp, "made", "by", "kpic")
        eval_changing(fresh)
        check(stat.S_IMODE(os.stat(fresh).st_mode) == 0o700 and
              stat.S_IMODE(os.stat(os.path.dirname(fresh)).st_mode) == 0o700,
              "kpic makes its cache directories 0700")

    # ---- --no-cache writes nothing
    p = run(["eval", "eval_bad_data_skip.kpi", "--period", "2025-05"], None, cwd=data,
            extra_env={"XDG_CACHE_HOME": os.path.join(tmp, "xdg")})
    check(p.returncode == 0 and not os.path.exists(os.path.join(tmp, "xdg")), "--no-cache writes nothing")
    # the default directory: $XDG_CACHE_HOME/kpic
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(tmp, "xdg"))
    p = subprocess.run([KPIC, "eval", "eval_bad_data_skip.kpi", "--period", "2025-05"], cwd=data,
                       capture_output=True, env=env, timeout=120)
    check(p.returncode == 0 and cache_files(os.path.join(tmp, "xdg", "kpic")), "the default cache directory is $XDG_CACHE_HOME/kpic")

    # ---- a cache that cannot be written (the file size limit a full disk gives)
    cache = os.path.join(tmp, "cache-full")
    big = os.path.join(tmp, "big")
    os.makedirs(os.path.join(big, "eval_bad_data"))
    shutil.copy(os.path.join(cases, "eval_bad_data_skip.kpi"), big)
    shutil.copy(os.path.join(cases, "eval_bad_data", "staff.csv"), os.path.join(big, "eval_bad_data"))
    with open(os.path.join(big, "eval_bad_data", "orders.csv"), "wb") as f:
        f.write(b"id,staff_id,amount,paid_at\n")
        for i in range(20000):
            f.write(b"o%d,s%d,%d.00,2025-05-%02d\n" % (i, i % 3 + 1, i % 90, i % 28 + 1))
    time.sleep(2.1)

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    full = run(["eval", "eval_bad_data_skip.kpi", "--period", "2025-05"], cache, cwd=big, preexec=small_files)
    plain = run(["eval", "eval_bad_data_skip.kpi", "--period", "2025-05"], None, cwd=big)
    check(full.returncode == 0 and full.stdout == plain.stdout, "a full disk: the run succeeds (%r)" % full.stderr[-300:])
    check(os.listdir(cache) == [] if os.path.isdir(cache) else True,
          "a full disk: no cache file left, whole or half: %r" % (os.listdir(cache) if os.path.isdir(cache) else None))

    # ---- two runs at once
    cache = os.path.join(tmp, "cache-race")
    procs = [subprocess.Popen([KPIC, "eval", "eval_bad_data_skip.kpi", "--period", "2025-05", "--cache-dir", cache],
                              cwd=big, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    outs = [p.communicate(timeout=300) + (p.returncode,) for p in procs]
    check(all(o == (plain.stdout, plain.stderr, 0) for o in outs), "three runs at once: the same output")
    check(len(cache_files(cache)) == 1 and [f for f in os.listdir(cache) if ".tmp." in f] == [],
          "three runs at once: one cache file, no temporary left: %r" % os.listdir(cache))
    warm = run(["eval", "eval_bad_data_skip.kpi", "--period", "2025-05"], cache, cwd=big)
    check((warm.returncode, warm.stdout, warm.stderr) == (0, plain.stdout, plain.stderr), "after the race: warm identical")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

sys.exit(finish("column cache: warm output identical to cold; stale, damaged and unwritable caches handled"))
