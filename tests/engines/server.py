"""What the engine modules share: a private temporary directory, a server process that
dies with the test, bounded waits, and signal handling that lets cleanup run.

A server is started as a direct child of the test (never through a daemonizing wrapper
such as `pg_ctl start`), under `setpriv --pdeathsig`, so even a test killed with
SIGKILL takes its servers down. SIGTERM and SIGINT are turned into exceptions
(install_signal_handlers) so every `with` block stops its engine and removes its
directory. As root, servers run as the service user their Debian package created
(`postgres`, `mysql`): PostgreSQL refuses to run as root.
"""
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time


class EngineError(RuntimeError):
    """An engine could not start, load or answer; the message says why."""


class EngineMissing(EngineError):
    """A program or package an engine needs is not installed (.ci/install-deps installs it)."""


class Stopped(BaseException):
    """Raised in the main thread by SIGTERM so `with` blocks unwind and clean up."""


def install_signal_handlers():
    """SIGTERM raises Stopped and SIGINT KeyboardInterrupt, both in the main thread, so
    context managers stop their engines. Call once, early, from the test's main."""
    def stop(signum, frame):
        raise Stopped("signal %d" % signum)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def service_user(name):
    """(uid, gid) to run a server as: NAME when the test runs as root, else the caller."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise EngineError("running as root, but there is no user %r to run the server as "
                          "(it is created by the Debian package)" % name) from None
    return entry.pw_uid, entry.pw_gid


def make_workdir(prefix, owner=None):
    """A new directory under the system temp folder, owned by OWNER (uid, gid) if given.
    Not under $HOME: the service user must be able to reach it."""
    path = tempfile.mkdtemp(prefix="kpic-%s-" % prefix, dir="/tmp" if os.path.isdir("/tmp") else None)
    if owner is not None and os.geteuid() == 0:
        os.chown(path, *owner)
    return path


def remove_workdir(path):
    shutil.rmtree(path, ignore_errors=True)


def as_user(argv, owner):
    """ARGV run as OWNER (uid, gid), receiving SIGKILL if the test process dies. The
    parent-death signal is set after the change of user, which would clear it."""
    tail = ["setpriv", "--pdeathsig", "KILL", "--"] + argv
    if os.geteuid() == 0 and owner is not None and owner[0] != 0:
        return ["setpriv", "--reuid=%d" % owner[0], "--regid=%d" % owner[1],
                "--clear-groups", "--"] + tail
    return tail


class ServerProcess:
    """A server child process whose output goes to LOG_PATH."""

    def __init__(self, argv, log_path, cwd):
        self.log_path = log_path
        self.log = open(log_path, "ab")
        # own process group: a Ctrl-C at the terminal reaches the test, which then stops
        # the server in order, instead of reaching the server first
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=cwd, start_new_session=True)

    def log_tail(self, lines=15):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:]).rstrip()
        except OSError:
            return ""

    def wait_ready(self, probe, what, timeout=90):
        """Calls PROBE until it returns true; raises EngineError with the log's tail when
        the process exits or TIMEOUT seconds pass."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise EngineError("%s exited with status %d while starting:\n%s"
                                  % (what, self.proc.returncode, self.log_tail()))
            if probe():
                return
            if time.monotonic() > deadline:
                raise EngineError("%s was not ready after %d s:\n%s" % (what, timeout, self.log_tail()))
            time.sleep(0.2)

    def stop(self, sig, timeout=30):
        """Sends SIG, waits up to TIMEOUT seconds, then kills."""
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(sig)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)   # the server and its helpers
                    self.proc.wait(10)
        finally:
            self.log.close()


def run(argv, input_text=None, timeout=300, what=None):
    """Runs a client or setup command; returns its stdout; raises EngineError with its
    stderr on failure. The command gets a process group of its own, killed whole when the
    test is interrupted or the command times out: initdb and mariadb-install-db start
    helpers that would otherwise go on writing into a directory being removed."""
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
    except FileNotFoundError:
        raise EngineMissing("%s is not installed" % argv[0]) from None
    try:
        out, err = proc.communicate(input_text, timeout=timeout)
    except BaseException as e:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        if isinstance(e, subprocess.TimeoutExpired):
            raise EngineError("%s did not finish in %d s" % (what or argv[0], timeout)) from None
        raise
    if proc.returncode != 0:
        raise EngineError("%s failed (exit %d): %s"
                          % (what or argv[0], proc.returncode, (err or out).strip()[-3000:]))
    return out


def require(*programs):
    """Raises EngineError naming the first of PROGRAMS (with its Debian package) not found."""
    for program, package in programs:
        if not (shutil.which(program) or os.path.exists(program)):
            raise EngineMissing("%s not found (Debian package %s; .ci/install-deps installs it)"
                              % (program, package))
