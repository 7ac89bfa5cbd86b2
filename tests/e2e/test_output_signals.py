#!/usr/bin/env python3
"""End-to-end test: a run killed by SIGINT, SIGTERM, SIGHUP or SIGPIPE while it writes
its output leaves no temporary file and the old output as it was (docs/cli.md "Output
targets"). Before the fix, `FILE.tmp-XXXXXX` files of tens of megabytes stayed behind.

The output is a large rejects file (`eval --skip-bad-rows --rejects`) from a data file
of bad rows that the test generates. Two ways to hit the write:
  * the test watches the directory and sends the signal the moment the temporary file
    appears, so the signal lands during the write on every such run (and the test fails
    unless enough runs were caught that way);
  * the signal is also sent after a spread of fixed delays across the whole run, to
    cover the moments before and after the write.
Every run must leave no temporary file, and the rejects file either untouched or whole:
a signal after the final rename finds the output committed.

usage: test_output_signals.py KPIC
"""
import os, signal, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from expect import check, finish

KPIC = os.path.abspath(sys.argv[1])
ROWS = 200000
OLD = b"old rejects\n"

SPEC = """period month
source orders "orders.csv" {
  id        text
  staff_id  text  staff
  amount    money
  paid_at   date  time
}
staff "staff.csv" {
  id    text
  name  text
  role  text
}
indicator n count per staff = count(orders)
"""


def temp_files(d):
    return [n for n in os.listdir(d) if ".kpic-tmp-" in n or ".tmp-" in n]


def start(d):
    with open(os.path.join(d, "rejects.csv"), "wb") as f:
        f.write(OLD)
    return subprocess.Popen([KPIC, "eval", "s.kpi", "--period", "2025-05", "--skip-bad-rows",
                             "--rejects", "rejects.csv", "--threads", "1", "--quiet"],
                            cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def verdict(d, proc, sig, what):
    code = proc.wait(120)
    check(not temp_files(d), "%s: a temporary file left: %s" % (what, temp_files(d)))
    content = open(os.path.join(d, "rejects.csv"), "rb").read()
    if code == -sig:
        # killed before the rename: the old file; killed after it (the output was already
        # committed whole, the process had not exited yet): the whole new file. Never a
        # part of either.
        check(content == OLD or (content.startswith(b"source,file,line") and content.endswith(b"\n")
                                 and content.count(b"\n") == ROWS + 1),
              "%s: killed, and the rejects file is neither the old one nor the whole new one" % what)
    else:
        check(code == 0 and content.startswith(b"source,file,line"),
              "%s: not killed (%d), so the run must have completed" % (what, code))
    return code == -sig


def main():
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "s.kpi"), "w") as f:
            f.write(SPEC)
        with open(os.path.join(d, "staff.csv"), "w") as f:
            f.write("id,name,role\ns1,A,x\n")
        with open(os.path.join(d, "orders.csv"), "w") as f:
            f.write("id,staff_id,amount,paid_at\n")
            f.write("a,s1,1.x0,2025-05-01\n" * ROWS)

        # caught in the act: signal as soon as the temporary file exists
        caught = 0
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
            for attempt in range(2):
                proc = start(d)
                seen = False
                while proc.poll() is None:
                    if temp_files(d):
                        proc.send_signal(sig)
                        seen = True
                        break
                    time.sleep(0.0005)
                if verdict(d, proc, sig, "%s during the write (attempt %d)" % (sig.name, attempt)) and seen:
                    caught += 1
        check(caught >= 4, "only %d of 8 runs were signalled during the write: make the output larger" % caught)

        # a spread of delays over the whole run
        t0 = time.monotonic()
        proc = start(d)
        proc.wait(120)
        total = time.monotonic() - t0
        for sig in (signal.SIGTERM, signal.SIGINT):
            for k in range(1, 7):
                proc = start(d)
                time.sleep(total * k / 6)
                if proc.poll() is None:
                    proc.send_signal(sig)
                verdict(d, proc, sig, "%s after %.2f s" % (sig.name, total * k / 6))
    return finish("output signals: no temporary file left")


if __name__ == "__main__":
    sys.exit(main())
