#!/usr/bin/env python3
"""End-to-end test of what `-o FILE`, `fmt --write` and `--rejects FILE` do to each kind
of target (docs/cli.md "Output targets").

Every target is made by the test in a temporary directory: character devices with mknod
(null is c 1 3, full is c 1 7; the test runs as root, as CI does), FIFOs, symbolic and
hard links, read-only files; the machine's own /dev is never written. Before the fix the
atomic writer renamed a temporary file over every one of them: a device or FIFO became a
regular file, a symlink lost its link, a hard link was cut, a read-only file was
replaced, and a 255-byte name made the temporary name too long.

usage: test_outputs.py KPIC   (run from the repository root; ctest does that)
"""
import os, shutil, stat, subprocess, sys, tempfile, threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from expect import check, finish

KPIC = os.path.abspath(sys.argv[1])
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SPEC = os.path.join(ROOT, "kpi-specs", "user-ops.kpi")
CASES = os.path.join(ROOT, "tests", "cases")
SKIP_SPEC = os.path.join(CASES, "eval_bad_data_skip.kpi")


def run(*args, cwd=None, **kw):
    return subprocess.run([KPIC, *args], capture_output=True, cwd=cwd, timeout=120, **kw)


def doc_bytes():
    r = run("doc", SPEC)
    assert r.returncode == 0, r.stderr
    return r.stdout


def temp_leftovers(d):
    return [n for n in os.listdir(d) if ".kpic-tmp-" in n or ".tmp-" in n]


def unformatted(d, name="spec.kpi"):
    """A copy of a golden spec with its layout spoilt, and the formatted text."""
    text = open(SKIP_SPEC, encoding="utf-8").read().replace("indicator n count", "indicator   n  count")
    text = text.replace('"eval_bad_data/', '"' + os.path.join(CASES, "eval_bad_data") + "/")
    path = os.path.join(d, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    formatted = run("fmt", path).stdout
    assert formatted and formatted != text.encode(), "the spoilt spec must need formatting"
    return path, formatted


def main():
    expected = doc_bytes()
    with tempfile.TemporaryDirectory() as d:
        def p(name):
            return os.path.join(d, name)

        # a character device is written, not replaced
        os.mknod(p("null"), stat.S_IFCHR | 0o666, os.makedev(1, 3))
        r = run("doc", SPEC, "-o", p("null"))
        st = os.lstat(p("null"))
        check(r.returncode == 0 and stat.S_ISCHR(st.st_mode), "-o a null device: exit 0 and still a device (%d)" % r.returncode)

        # a full device: the write fails, exit 2 with the reason, still a device
        os.mknod(p("full"), stat.S_IFCHR | 0o666, os.makedev(1, 7))
        r = run("doc", SPEC, "-o", p("full"))
        check(r.returncode == 2 and b"No space left on device" in r.stderr,
              "-o a full device: exit 2 with the reason (%d %r)" % (r.returncode, r.stderr[-200:]))
        check(stat.S_ISCHR(os.lstat(p("full")).st_mode), "-o a full device: still a device")
        r = run("score", SPEC, "--period", "2025-05", "-o", p("full"))
        check(r.returncode == 2 and b"No space left" in r.stderr, "score -o a full device: exit 2")

        # a FIFO is streamed to its reader
        os.mkfifo(p("fifo"))
        got = {}

        def reader():
            with open(p("fifo"), "rb") as f:
                got["bytes"] = f.read()
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        r = run("doc", SPEC, "-o", p("fifo"))
        t.join(30)
        check(r.returncode == 0 and got.get("bytes") == expected, "-o a FIFO: the reader gets the document")
        check(stat.S_ISFIFO(os.lstat(p("fifo")).st_mode), "-o a FIFO: still a FIFO")

        # '-' and the process's own descriptors are written where they point
        r = run("doc", SPEC, "-o", "-")
        check(r.returncode == 0 and r.stdout == expected, "-o -: the document on stdout")
        r = run("doc", SPEC, "-o", "/dev/stdout")
        check(r.returncode == 0 and r.stdout == expected, "-o /dev/stdout: the document on stdout")
        with open(p("log"), "wb") as log:
            log.write(b"before\n")
        with open(p("log"), "ab") as log:
            r = subprocess.run([KPIC, "doc", SPEC, "-o", "/dev/stdout"], stdout=log, stderr=subprocess.PIPE, timeout=60)
        check(r.returncode == 0 and open(p("log"), "rb").read() == b"before\n" + expected,
              "-o /dev/stdout appended to a log: the log kept and appended to")
        check(stat.S_ISREG(os.lstat(p("log")).st_mode) and os.stat(p("log")).st_nlink == 1, "the log is the same file")

        # a symlink is followed: the link stays and its target gets the new text
        with open(p("real.md"), "w") as f:
            f.write("old\n")
        os.symlink("real.md", p("link.md"))
        r = run("doc", SPEC, "-o", p("link.md"))
        check(r.returncode == 0 and os.path.islink(p("link.md")), "-o a symlink: the link stays")
        check(open(p("real.md"), "rb").read() == expected, "-o a symlink: its target has the new text")
        # a chain of links, relative, through a subdirectory
        os.mkdir(p("sub"))
        with open(p("sub/deep.md"), "w") as f:
            f.write("old\n")
        os.symlink("sub/deep.md", p("hop1"))
        os.symlink("hop1", p("hop2"))
        r = run("doc", SPEC, "-o", p("hop2"))
        check(r.returncode == 0 and open(p("sub/deep.md"), "rb").read() == expected
              and os.path.islink(p("hop1")) and os.path.islink(p("hop2")), "-o a chain of links: the end written")
        # a dangling link creates its target, as the shell's > does
        os.symlink("created.md", p("dangling"))
        r = run("doc", SPEC, "-o", p("dangling"))
        check(r.returncode == 0 and os.path.islink(p("dangling")) and open(p("created.md"), "rb").read() == expected,
              "-o a dangling link: the target created, the link kept")
        # a loop of links is refused
        os.symlink("loop2", p("loop1"))
        os.symlink("loop1", p("loop2"))
        r = run("doc", SPEC, "-o", p("loop1"))
        check(r.returncode == 2 and os.path.islink(p("loop1")), "-o a loop of links: exit 2, links kept")

        # a hard link is refused, and says why; neither name changes
        with open(p("hard.md"), "w") as f:
            f.write("old\n")
        os.link(p("hard.md"), p("hard2.md"))
        r = run("doc", SPEC, "-o", p("hard.md"))
        check(r.returncode == 2 and b"hard links" in r.stderr, "-o a hard link: exit 2, saying hard links")
        check(open(p("hard.md")).read() == "old\n" and os.stat(p("hard.md")).st_nlink == 2, "-o a hard link: untouched")

        # a read-only file is refused (root could rename over it: the mode is honoured anyway)
        with open(p("ro.md"), "w") as f:
            f.write("old\n")
        os.chmod(p("ro.md"), 0o444)
        r = run("doc", SPEC, "-o", p("ro.md"))
        check(r.returncode == 2 and b"read-only" in r.stderr and open(p("ro.md")).read() == "old\n",
              "-o a read-only file: exit 2, untouched (%d)" % r.returncode)

        # a directory, a socket: refused, exit 2
        os.mkdir(p("dir"))
        r = run("doc", SPEC, "-o", p("dir"))
        check(r.returncode == 2 and b"directory" in r.stderr and os.path.isdir(p("dir")), "-o a directory: exit 2")
        import socket
        s = socket.socket(socket.AF_UNIX)
        s.bind(p("sock"))
        r = run("doc", SPEC, "-o", p("sock"))
        check(r.returncode == 2 and b"socket" in r.stderr and stat.S_ISSOCK(os.lstat(p("sock")).st_mode),
              "-o a socket: exit 2")
        s.close()

        # a regular file keeps its mode and owner
        with open(p("owned.md"), "w") as f:
            f.write("old\n")
        os.chmod(p("owned.md"), 0o640)
        os.chown(p("owned.md"), 4321, 4322)
        r = run("doc", SPEC, "-o", p("owned.md"))
        st = os.stat(p("owned.md"))
        check(r.returncode == 0 and open(p("owned.md"), "rb").read() == expected, "-o a regular file: replaced")
        check(stat.S_IMODE(st.st_mode) == 0o640 and (st.st_uid, st.st_gid) == (4321, 4322),
              "-o a regular file keeps mode and owner (%o %d %d)" % (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid))

        # a name of 255 bytes (the limit), ASCII and UTF-8: the temporary name still fits
        for name in ("a" * 255, "文" * 85):
            r = run("doc", SPEC, "-o", p(name))
            check(r.returncode == 0 and open(p(name), "rb").read() == expected,
                  "-o a %d-byte name: written (%r)" % (len(name.encode()), r.stderr[-200:]))

        # fmt --write: through a symlink, keeping mode and owner; refusing read-only and hard links
        spec, formatted = unformatted(d)
        os.symlink("spec.kpi", p("spec-link.kpi"))
        os.chmod(spec, 0o600)
        os.chown(spec, 4321, 4322)
        r = run("fmt", "--write", p("spec-link.kpi"))
        st = os.stat(spec)
        check(r.returncode == 0 and os.path.islink(p("spec-link.kpi")) and open(spec, "rb").read() == formatted,
              "fmt --write a symlink: the target formatted, the link kept (%r)" % r.stderr)
        check(stat.S_IMODE(st.st_mode) == 0o600 and (st.st_uid, st.st_gid) == (4321, 4322),
              "fmt --write keeps mode and owner")
        spec, formatted = unformatted(d, "ro.kpi")
        before = open(spec, "rb").read()
        os.chmod(spec, 0o444)
        r = run("fmt", "--write", spec)
        check(r.returncode == 2 and b"read-only" in r.stderr and open(spec, "rb").read() == before,
              "fmt --write a read-only spec: exit 2, untouched")
        spec, formatted = unformatted(d, "linked.kpi")
        before = open(spec, "rb").read()
        os.link(spec, p("linked2.kpi"))
        r = run("fmt", "--write", spec)
        check(r.returncode == 2 and b"hard links" in r.stderr and open(spec, "rb").read() == before
              and os.stat(spec).st_nlink == 2, "fmt --write a hard-linked spec: exit 2, untouched")

        # --rejects to a device and to stderr
        r = run("eval", SKIP_SPEC, "--period", "2025-05", "--skip-bad-rows", "--rejects", p("null"), cwd=CASES)
        check(r.returncode == 0 and stat.S_ISCHR(os.lstat(p("null")).st_mode), "--rejects a null device: still a device")
        r = run("eval", SKIP_SPEC, "--period", "2025-05", "--skip-bad-rows", "--rejects", "/dev/stderr", cwd=CASES)
        # the warnings first, then the rejects, written once the run is known to succeed
        check(r.returncode == 0 and b" warnings\nsource,file,line,field,reason,record\n" in r.stderr,
              "--rejects /dev/stderr: the rejects on stderr after the warnings (%r)" % r.stderr[:80])
        r = run("eval", SKIP_SPEC, "--period", "2025-05", "--skip-bad-rows", "--rejects", p("full"), cwd=CASES)
        check(r.returncode == 2 and r.stdout == b"", "--rejects a full device: exit 2, nothing on stdout")

        check(not temp_leftovers(d), "no temporary file left: %s" % temp_leftovers(d))
    check_stdout_failures()
    check_full_disk()
    return finish("outputs: every kind of target handled")


def check_stdout_failures():
    """Every command checks its writes to stdout and stderr and the final flush: a full
    device is exit 2 with the reason (before the fix, exit 0 with nothing written)."""
    cycle = os.path.join(CASES, "check_cycle.kpi")
    commands = [
        ["check", SPEC, "--format", "json"], ["check", SPEC, "--format", "sarif"],
        ["fmt", SPEC], ["doc", SPEC], ["doc", SPEC, "-o", "-"], ["--version"], ["--help"],
        ["eval", SPEC, "--period", "2025-05"], ["score", SPEC, "--period", "2025-05"],
        ["explain", SPEC, "--period", "2025-05", "--staff", "s01"], ["diff", SPEC, SPEC],
        ["diff", SPEC, SPEC, "--period", "2025-05"],
    ]
    with tempfile.TemporaryDirectory() as d:
        full = os.path.join(d, "full")
        os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))
        for args in commands:
            with open(full, "wb") as out:
                r = subprocess.run([KPIC, *args], stdout=out, stderr=subprocess.PIPE, timeout=120)
            check(r.returncode == 2 and b"No space left on device" in r.stderr,
                  "%s > full device: exit 2 with the reason (%d %r)" % (" ".join(args[:1]), r.returncode, r.stderr[-120:]))
        # stdout closed altogether
        r = subprocess.run([KPIC, "eval", SPEC, "--period", "2025-05"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=120, pass_fds=(), close_fds=True,
                           preexec_fn=lambda: os.close(1))
        check(r.returncode == 2 and b"cannot write standard output" in r.stderr, "eval >&-: exit 2 (%d)" % r.returncode)
        # stderr on a full device: the diagnostics were lost, so the run failed
        with open(full, "wb") as err:
            r = subprocess.run([KPIC, "check", cycle], stdout=subprocess.PIPE, stderr=err, timeout=60)
        check(r.returncode == 2, "check with errors, 2> full device: exit 2 (%d)" % r.returncode)
        with open(full, "wb") as err:
            r = subprocess.run([KPIC, "eval", SPEC, "--period", "2025-0"], stdout=subprocess.PIPE, stderr=err, timeout=60)
        check(r.returncode == 2, "a usage error, 2> full device: exit 2")
        # the passing twin: a device that takes everything
        null = os.path.join(d, "null")
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        for args in commands:
            with open(null, "wb") as out:
                r = subprocess.run([KPIC, *args], stdout=out, stderr=subprocess.PIPE, timeout=120)
            check(r.returncode == 0, "%s > null device: exit 0 (%d %r)" % (args[0], r.returncode, r.stderr[-120:]))


def check_full_disk():
    """A full file system, in a private mount namespace (a 16 KiB tmpfs): -o and a
    redirected stdout both fail with exit 2, and -o leaves no file behind."""
    with tempfile.TemporaryDirectory() as d:
        script = (
            'mount -t tmpfs -o size=16k kpic-test "$1" || exit 99\n'
            '"$2" doc "$3" -o "$1/doc.md"; echo "o=$?"\n'
            '"$2" doc "$3" > "$1/stdout.md"; echo "stdout=$?"\n'
            'rm -f "$1/stdout.md"; ls -A "$1"\n')
        r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", d, KPIC, SPEC],
                           capture_output=True, timeout=120)
        lines = r.stdout.decode().split()
        check(r.returncode == 0 and lines[:2] == ["o=2", "stdout=2"],
              "full disk: -o and > both exit 2 (%r %r)" % (r.stdout, r.stderr))
        check(lines[2:] == [], "full disk: nothing left behind by -o (%r)" % lines[2:])
        check(r.stderr.count(b"No space left on device") == 2, "full disk: the reason said (%r)" % r.stderr)


if __name__ == "__main__":
    sys.exit(main())
