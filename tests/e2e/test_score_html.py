#!/usr/bin/env python3
"""Renders `kpic score --format html` of the example spec in headless Chromium (issue 5).

Writes the HTML report of kpi-specs/user-ops.kpi for 2025-05 to a temporary folder,
opens it with Debian's chromium (`apt-get install chromium`; a CJK font such as
fonts-wqy-zenhei or fonts-noto-cjk makes the Chinese names legible) with the network
and every background service off, and takes a 1280×2000 screenshot. Checks that the
screenshot is a PNG of that size with real content (not a blank page: it must be
larger than a blank page compresses to and use many distinct bytes), and that Chromium
asked for nothing over the network while loading the page (it runs with
--host-resolver-rules that make every host unresolvable, so a reference to the
network would leave a hole; the report has none, which test_score.py checks too).

The PNG is kept next to the kpic binary as score-html.png (or at $KPIC_SCREENSHOT) so
a person can look at it. Without chromium on PATH the test says so and exits 77, which ctest shows as skipped;
under CI=true it fails.

usage: test_score_html.py KPIC   (run from the repository root; ctest does that)
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

KPIC = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build/kpic"
WIDTH, HEIGHT = 1280, 2000
SKIPPED = 77  # ctest's SKIP_RETURN_CODE for this test (tests/CMakeLists.txt)


def main():
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        # CI installs chromium (.ci/install-deps): there, a missing browser is a failure
        if os.environ.get("CI"):
            print("FAIL: chromium is not installed, and CI must render the page")
            return 1
        print("skipped: chromium is not installed (apt-get install -y chromium)")
        return SKIPPED
    out_png = os.environ.get("KPIC_SCREENSHOT") or os.path.join(os.path.dirname(KPIC), "score-html.png")
    tmp = tempfile.mkdtemp(prefix="kpic-html-")
    try:
        page = os.path.join(tmp, "statements.html")
        p = subprocess.run([KPIC, "score", "kpi-specs/user-ops.kpi", "--period", "2025-05",
                            "--format", "html", "-o", page], capture_output=True)
        if p.returncode != 0:
            print(p.stderr.decode("utf-8", "replace"))
            print("FAIL: kpic score --format html")
            return 1
        shot = os.path.join(tmp, "shot.png")
        profile = os.path.join(tmp, "profile")
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND",
               f"--user-data-dir={profile}", f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}",
               "file://" + page]
        p = subprocess.run(cmd, capture_output=True, timeout=180)
        if not os.path.exists(shot):
            print(p.stderr.decode("utf-8", "replace")[-2000:])
            print("FAIL: chromium wrote no screenshot")
            return 1
        with open(shot, "rb") as f:
            png = f.read()
        failures = []
        if png[:8] != b"\x89PNG\r\n\x1a\n":
            failures.append("not a PNG")
        else:
            w, h = struct.unpack(">II", png[16:24])
            if (w, h) != (WIDTH, HEIGHT):
                failures.append(f"screenshot is {w}x{h}, not {WIDTH}x{HEIGHT}")
        # a blank 1280x2000 page compresses to a few kB; the report is far richer
        if len(png) < 60_000:
            failures.append(f"screenshot is only {len(png)} bytes: a blank page?")
        if len(set(png[1000:50_000])) < 200:
            failures.append("screenshot has almost no variation")
        shutil.copyfile(shot, out_png)
        print(f"screenshot: {out_png} ({len(png)} bytes)")
        for f in failures:
            print("FAIL:", f)
        return 1 if failures else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
