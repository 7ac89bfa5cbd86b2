"""Where the test virtual environment lives and how a script moves into it.

.ci/install-deps creates the venv with Debian's python3 and fills it with the pinned
packages of tests/engines/requirements.txt (DuckDB, sqlglot, PySpark). Its place is
$KPIC_TEST_VENV, else $KPIC_TEST_CACHE/venv, else $XDG_CACHE_HOME/kpic-test/venv, else
~/.cache/kpic-test/venv (the cache folder of the SARIF schema too).
"""
import os
import sys

REQUIREMENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "requirements.txt")


def location():
    if os.environ.get("KPIC_TEST_VENV"):
        return os.environ["KPIC_TEST_VENV"]
    cache = os.environ.get("KPIC_TEST_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "kpic-test")
    return os.path.join(cache, "venv")


def python():
    return os.path.join(location(), "bin", "python")


def problem():
    """None when the venv exists and holds the pinned packages, else what is wrong."""
    stamp = os.path.join(location(), "kpic-requirements.txt")
    if not os.path.exists(python()):
        return "no test virtual environment at %s (run .ci/install-deps)" % location()
    try:
        with open(stamp, encoding="utf-8") as a, open(REQUIREMENTS, encoding="utf-8") as b:
            if a.read() == b.read():
                return None
    except OSError:
        pass
    return ("the test virtual environment at %s does not hold the versions pinned in "
            "tests/engines/requirements.txt (run .ci/install-deps)" % location())


def inside():
    return os.path.realpath(sys.prefix) == os.path.realpath(location())


def reexec_inside():
    """Replaces this process by the same script under the venv's interpreter, when the
    venv is usable and this is not it already; returns otherwise."""
    if inside() or problem() is not None or os.environ.get("KPIC_TEST_IN_VENV"):
        return
    os.environ["KPIC_TEST_IN_VENV"] = "1"
    sys.stdout.flush()
    os.execv(python(), [python()] + sys.argv)
