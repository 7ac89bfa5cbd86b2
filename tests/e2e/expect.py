"""What the end-to-end scripts share: failures are collected, not raised, so one run
reports every broken expectation; `finish` prints the verdict and gives the exit status."""
import os, subprocess, sys

failures = []


def check(cond, what):
    """Records WHAT as a failure unless COND holds; returns COND."""
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    return cond


def kpic_runner(command):
    """A function that runs `KPIC COMMAND ARGS...` (KPIC is argv[1]) and returns the
    completed process, output captured."""
    kpic = os.path.abspath(sys.argv[1])

    def run(*args, timeout=120):
        return subprocess.run([kpic, command, *args], capture_output=True, timeout=timeout)
    return run


def sanitized(binary):
    """Whether BINARY was built with AddressSanitizer or UndefinedBehaviorSanitizer (their
    runtimes' symbols are in it): such a build runs several times slower, so a time
    limit meant for a plain build is scaled for it."""
    with open(binary, "rb") as f:
        body = f.read()
    return b"__asan_init" in body or b"__ubsan_handle_" in body


def finish(summary):
    """Exit status 1 with the count when something failed, else 0 after SUMMARY."""
    if failures:
        print("%d failures" % len(failures))
        return 1
    print(summary)
    return 0
