#!/usr/bin/env python3
"""`--engine postgresql://…` (eval, score, explain) on a private PostgreSQL server.

The server comes from tests/engines/postgres_engine.py: initdb in a temporary folder, a
Unix socket there and no TCP port, stopped at the end even on failure. It holds the
example's data (kpi-specs/user-ops.kpi) and the generated data of a spec that uses every
aggregate form (test_sql_engines.py's, tables prefixed gen_, reached with --table).

  * statements: `kpic score --engine` equals the native `kpic score` in every format for
    one month, a quarter and twelve months, the sources apart (the server stands for the
    data files); `kpic eval --engine` equals native eval in table, CSV and JSON on both
    data sets; explain of three people equals explain from --values. Every format is
    byte-identical, ratios included (the postgres dialect divides exactly);
  * `sources` names `postgresql`, the connection without a password, the server's
    version and the SHA-256 of the query, which is `kpic sql --dialect postgres`'s;
  * a server error (a column of the wrong type, a missing column, a missing table) is
    exit 1 at the source's declaration in the spec, with the server's message and the
    --table hint; nothing is written to -o;
  * a wrong password (in the URI, in ?password=, in PGPASSWORD) and a server that is not
    there are exit 2 with libpq's message and the password nowhere in the output;
  * usage: --engine with --values, --table without --engine, --data of a source, a URI
    of another engine (its password not echoed) are exit 2.

PostgreSQL missing: the test fails under CI=true, else exits 77 (skipped).

usage: test_pg_engine.py KPIC   (run from the repository root; ctest does that)
"""
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.getcwd()
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from engines import postgres_engine, server, sources  # noqa: E402
import test_eval_sqlite as generated  # noqa: E402
from expect import check, finish  # noqa: E402
from test_values import without_sources  # noqa: E402

KPIC = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build/kpic"
SPEC = "kpi-specs/user-ops.kpi"
PERIODS = ["2025-05", "2025-04..2025-06", "2025-01..2025-12"]
PASSWORD = "Right-pw-7f3a"
WRONG = ["Wr0ng-uri-91c2", "Wr0ng-param-4d0e", "Wr0ng-env-5b7d"]
NUMBER = re.compile(r"(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)")


def kpic(*args, env=None, timeout=600):
    return subprocess.run([KPIC, *args], capture_output=True, timeout=timeout, env=env)


def text(p):
    return p.stdout.decode("utf-8", "replace")


def same_statements(fmt, native, engine, what):
    """NATIVE and ENGINE outputs the same, sources apart, byte for byte in every format:
    PostgreSQL divides exactly in the generated SQL (NUMERIC, rounded to kpic's 18
    places) and returns every value as DECIMAL(38,18)."""
    a, b = without_sources(fmt, native), without_sources(fmt, engine)
    if a == b:
        return True
    x, y = NUMBER.split(a), NUMBER.split(b)
    for i, (p, q) in enumerate(zip(x, y)):
        if p != q:
            return check(False, "%s: differs from native: %r / %r" % (what, p[:80], q[:80]))
    return check(False, "%s: differs from native (shape)" % what)


def main():
    server.install_signal_handlers()
    tmp = tempfile.mkdtemp(prefix="kpic-pg-engine-")
    try:
        with postgres_engine.Engine() as pg:
            run_all(pg, tmp)
    except server.EngineMissing as e:
        print("MISSING:", e)
        if os.environ.get("CI"):
            print("FAIL: CI must run PostgreSQL")
            return 1
        return 77
    finally:
        server.remove_workdir(tmp)
    return finish("--engine postgresql: statements equal the native ones; errors located, no password shown")


def run_all(pg, tmp):
    for s in sources.read_spec_sources(SPEC):
        pg.load(s)
    generated.generate(tmp)
    forms = os.path.join(tmp, "forms.kpi")
    with open(forms, "w", encoding="utf-8") as f:
        f.write(generated.spec_text("month"))
    forms_sources = sources.read_spec_sources(forms)
    for s in forms_sources:
        pg.load(s, "gen_" + s.name)
    # a role with a password, a table with a column missing and one with a wrong type
    pg._psql("CREATE ROLE pwuser LOGIN PASSWORD '%s';\n"
             "GRANT SELECT ON ALL TABLES IN SCHEMA public TO pwuser;\n"
             "CREATE TABLE orders_no_amount AS SELECT * FROM orders;\n"
             "ALTER TABLE orders_no_amount DROP COLUMN amount;\n"
             "CREATE TABLE orders_text_flag AS SELECT * FROM orders;\n"
             "ALTER TABLE orders_text_flag ALTER COLUMN refunded TYPE text;\n" % PASSWORD, "setup")
    with open(os.path.join(pg.dir, "data", "pg_hba.conf"), "r+", encoding="utf-8") as f:
        rest = f.read()
        f.seek(0)
        f.write("local all pwuser scram-sha-256\n" + rest)
    pg._psql("SELECT pg_reload_conf();", "reload")
    uri = "postgresql://kpic@/postgres?host=" + pg.dir

    statements(uri, tmp)
    evaluations(uri, forms, forms_sources)
    server_errors(uri, tmp)
    connection_errors(pg.dir)
    usage(uri)


def statements(uri, tmp):
    for period in PERIODS:
        for fmt in ["table", "json", "csv", "md", "html"]:
            native = kpic("score", SPEC, "--period", period, "--format", fmt, "--quiet")
            engine = kpic("score", SPEC, "--period", period, "--format", fmt, "--engine", uri)
            what = "score %s --format %s" % (period, fmt)
            if not check(native.returncode == 0 and engine.returncode == 0,
                         "%s: exit %d: %s" % (what, engine.returncode, engine.stderr.decode()[-600:])):
                continue
            same_statements(fmt, text(native), text(engine), what)
            if fmt == "json":
                src = json.loads(engine.stdout)["sources"]
                check([s["name"] for s in src] == ["staff", "postgresql"], "%s: sources %s" % (what, src))
                check(src[-1]["path"] == uri and src[-1]["server"].startswith("PostgreSQL "),
                      "%s: the server's source: %s" % (what, src[-1]))
    # explain: the same lines as from the server's values written to a file
    values = os.path.join(tmp, "values.csv")
    p = kpic("eval", SPEC, "--period", "2025-04..2025-05", "--format", "values", "--engine", uri)
    check(p.returncode == 0, "eval --format values --engine: %s" % p.stderr.decode()[-400:])
    with open(values, "wb") as f:
        f.write(p.stdout)
    for staff in ["s01", "s07", "s21"]:
        a = kpic("explain", SPEC, "--period", "2025-05", "--staff", staff, "--values", values)
        b = kpic("explain", SPEC, "--period", "2025-05", "--staff", staff, "--engine", uri)
        check(b.returncode == 0 and a.stdout == b.stdout,
              "explain --staff %s --engine differs from --values: %s" % (staff, b.stderr.decode()[-400:]))
    # -o is written whole
    out = os.path.join(tmp, "statements.csv")
    p = kpic("score", SPEC, "--period", "2025-05", "--format", "csv", "--engine", uri, "-o", out)
    check(p.returncode == 0 and os.path.getsize(out) > 1000, "score -o with --engine: %s" % p.stderr.decode())


def evaluations(uri, forms, forms_sources):
    tables = [a for s in forms_sources for a in ("--table", "%s=gen_%s" % (s.name, s.name))]
    for spec, extra in [(SPEC, []), (forms, tables)]:
        for period in PERIODS:
            for fmt in ["table", "csv", "json"]:
                native = kpic("eval", spec, "--period", period, "--format", fmt, "--quiet")
                engine = kpic("eval", spec, "--period", period, "--format", fmt, "--engine", uri, *extra)
                what = "eval %s %s --format %s" % (os.path.basename(spec), period, fmt)
                if not check(native.returncode == 0 and engine.returncode == 0,
                             "%s: exit %d: %s" % (what, engine.returncode, engine.stderr.decode()[-800:])):
                    continue
                same_statements(fmt, text(native), text(engine), what)
                if fmt == "json":
                    query = kpic("sql", spec, "--period", period, "--dialect", "postgres", *extra).stdout
                    src = json.loads(engine.stdout)["sources"][-1]
                    check(src["sha256"] == hashlib.sha256(query).hexdigest(),
                          "%s: sources' sha256 is not that of kpic sql's query" % what)


def server_errors(uri, tmp):
    out = os.path.join(tmp, "kept.txt")
    with open(out, "w") as f:
        f.write("as it was\n")
    cases = [
        ("orders=orders_text_flag", "argument of NOT must be type boolean", None),
        ("orders=orders_no_amount", "column t.amount does not exist", "--table orders=SCHEMA.TABLE"),
        ("orders=sales.orders", 'relation "sales.orders" does not exist', "--table orders=SCHEMA.TABLE"),
    ]
    for table, message, hint in cases:
        p = kpic("score", SPEC, "--period", "2025-05", "--engine", uri, "--table", table, "-o", out)
        err = p.stderr.decode()
        check(p.returncode == 1, "--table %s: exit %d, not 1" % (table, p.returncode))
        # at the declaration `source orders` of the spec, line 30
        check(err.startswith("kpi-specs/user-ops.kpi:30:8: error: PostgreSQL: " + message),
              "--table %s: not located at source orders: %s" % (table, err[:600]))
        check(hint is None or hint in err, "--table %s: no --table hint: %s" % (table, err[:800]))
        with open(out) as f:
            check(f.read() == "as it was\n", "--table %s: -o was written on failure" % table)
    p = kpic("eval", SPEC, "--period", "2025-05", "--engine", uri, "--table", "staff=no_roster")
    check(p.returncode == 1 and p.stderr.decode().startswith("kpi-specs/user-ops.kpi:132:1: error: PostgreSQL:")
          and "--table staff=SCHEMA.TABLE" in p.stderr.decode(),
          "missing roster table: %s" % p.stderr.decode()[:600])


def connection_errors(folder):
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    bad = [
        ("postgresql://pwuser:%s@/postgres?host=%s" % (WRONG[0], folder), env),
        ("postgresql://pwuser@/postgres?host=%s&password=%s" % (folder, WRONG[1]), env),
        ("postgresql://pwuser@/postgres?host=%s" % folder, dict(env, PGPASSWORD=WRONG[2])),
    ]
    for uri, e in bad:
        for command in (["score", SPEC, "--period", "2025-05"], ["eval", SPEC, "--period", "2025-05", "--format", "json"]):
            p = kpic(*command, "--engine", uri, env=e)
            shown = p.stdout + p.stderr
            check(p.returncode == 2, "bad password: exit %d, not 2" % p.returncode)
            check(b"password authentication failed" in p.stderr, "bad password: %s" % p.stderr.decode()[:400])
            check(not p.stdout, "bad password: something written to stdout")
            check(not any(w.encode() in shown for w in WRONG), "a password is shown: %s" % shown.decode()[:600])
    # a password found in kpic's own replacement text ("ssw" in "[password]") is still
    # replaced once, not forever
    try:
        p = kpic("score", SPEC, "--period", "2025-05", "--engine", "postgresql://pwuser@/postgres?host=%s" % folder,
                 env=dict(env, PGPASSWORD="ssw"), timeout=60)
        check(p.returncode == 2 and b"[password]" in p.stderr, "a short password: %s" % p.stderr.decode()[:300])
    except subprocess.TimeoutExpired:
        check(False, "a short password: kpic did not finish")
    good = kpic("eval", SPEC, "--period", "2025-05", "--indicator", "revenue", "--format", "json",
                "--engine", "postgresql://pwuser:%s@/postgres?host=%s" % (PASSWORD, folder), env=env)
    check(good.returncode == 0 and PASSWORD.encode() not in good.stdout + good.stderr,
          "the right password: exit %d %s" % (good.returncode, good.stderr.decode()[:400]))
    nowhere = os.path.join(folder, "nowhere")
    p = kpic("score", SPEC, "--period", "2025-05", "--engine",
             "postgresql://kpic:%s@/postgres?host=%s" % (WRONG[0], nowhere), env=env)
    check(p.returncode == 2 and b"cannot connect to PostgreSQL" in p.stderr and WRONG[0].encode() not in p.stderr,
          "no server: exit %d %s" % (p.returncode, p.stderr.decode()[:400]))


def usage(uri):
    cases = [
        (["--engine", uri, "--values", "x.csv"], "--engine computes the values that --values gives"),
        (["--table", "orders=sales.orders"], "--table goes with --engine"),
        (["--engine", uri, "--data", "orders=kpi-specs/data/orders.csv"], "drop --data orders="),
        (["--engine", "mysql://kpic:%s@localhost/kpi" % WRONG[0]], "--engine takes a PostgreSQL connection URI"),
        (["--engine", uri, "--table", "nosuch=t"], "--table names no source of the spec: 'nosuch'"),
        (["--engine", "postgresql://u:%s@/db" % WRONG[0], "--engine", uri], "--engine given twice; give it once"),
    ]
    for args, message in cases:
        p = kpic("score", SPEC, "--period", "2025-05", *args)
        check(p.returncode == 2 and message.encode() in p.stderr and WRONG[0].encode() not in p.stderr,
              "score %s: exit %d %s" % (" ".join(args), p.returncode, p.stderr.decode()[:300]))


if __name__ == "__main__":
    sys.exit(main())
