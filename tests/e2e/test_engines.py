#!/usr/bin/env python3
"""The engine harness (tests/engines/) proven on real engines, against `kpic eval`.

For every engine -- sqlite3, PostgreSQL, MariaDB, DuckDB, Spark SQL -- the test starts a
private instance, loads two data sets with the column types the specs declare, runs
hand-written SQL in the engine's dialect and compares the figures with
`kpic eval --period 2025-05 --format json` of the same spec and data:

  * the example (kpi-specs/user-ops.kpi and kpi-specs/data/*.csv): every source's row
    count and non-null count per column (empty cells are NULL, the same cells kpic
    reads), every text column with more than plain words in it unchanged, order_count,
    revenue and buyer_count per staff member and in total,
    recharge_amount, registered_users (`over all time`), mystery_score (avg of a number);
  * the generated data of test_eval_sqlite.py (quoted commas and line breaks, Chinese,
    every bool spelling, datetimes with `T`, negative and short money cells, empty time
    cells): the same checks on orders, tickets and the roster.

Then one query of the shape `kpic sql` will produce -- a CTE of period bounds joined to
the rows, GROUPING SETS for per-staff values and the total, rows (period, indicator,
staff_id, value) -- runs on PostgreSQL, DuckDB and Spark and must give kpic's figures;
Trino cannot run here, so that query and a few more in Trino's dialect (date_add,
TRY_CAST, count_if, FILTER, a window function) are parsed by sqlglot, which must reject
a broken query, MySQL's backquotes and an unknown function.

An engine that cannot start fails the test with the reason. DuckDB, Spark and sqlglot
come from the test virtual environment of .ci/install-deps: the script re-executes itself
under that venv's interpreter. Without the venv, or an engine's program, the test fails
under CI=true; elsewhere it runs what it can and exits 77 (ctest: skipped) when nothing
failed. KPIC_TEST_ENGINES=postgres,duckdb limits a run to some engines.

Prints, per engine, the seconds taken to start, to load and to query.

usage: test_engines.py KPIC   (run from the repository root; ctest does that)
"""
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

ROOT = os.getcwd()
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from engines import venv  # noqa: E402

venv.reexec_inside()

from engines import server, sources  # noqa: E402
from engines import (duckdb_engine, mariadb_engine, postgres_engine, spark_engine,  # noqa: E402
                     sqlite_engine, trino_dialect)
import test_eval_sqlite as generated  # noqa: E402

KPIC = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build/kpic"
PERIOD, START, END = "2025-05", dt.date(2025, 5, 1), dt.date(2025, 6, 1)
ENGINES = [sqlite_engine, postgres_engine, mariadb_engine, duckdb_engine, spark_engine]
IN_VENV = (duckdb_engine, spark_engine)

GENERATED_INDICATORS = """
indicator order_count count per staff = count(orders)
indicator revenue money per staff = sum(orders.amount where not refunded)
indicator buyer_count count per staff = distinct(orders.customer_id)
indicator ticket_count count per staff = count(tickets)
indicator rating_avg number = avg(tickets.rating)
"""

PLAIN_TEXT = re.compile(r"[A-Za-z0-9_.:+ -]*")

failures = []
missing = []


def fail(what):
    failures.append(what)
    print("FAIL:", what, flush=True)


class Dataset:
    """A spec, its sources, kpic's figures for PERIOD and the prefix of its tables."""

    def __init__(self, label, spec, prefix):
        self.label, self.spec, self.prefix = label, spec, prefix
        self.sources = sources.read_spec_sources(spec)
        p = subprocess.run([KPIC, "eval", spec, "--period", PERIOD, "--format", "json", "--quiet"],
                           capture_output=True, timeout=300)
        if p.returncode != 0:
            raise RuntimeError("kpic eval %s exited %d: %s"
                               % (spec, p.returncode, p.stderr.decode("utf-8", "replace")[:2000]))
        doc = json.loads(p.stdout, parse_float=Decimal)
        self.indicators = {i["name"]: i["values"][0] for i in doc["indicators"]}
        self.kpic_rows = {s["name"]: s["rows"] for s in doc["sources"]}
        roster = next(s for s in self.sources if s.name == "staff")
        self.roster = [row[[c.name for c in roster.columns].index("id")]
                       for row in sources.read_rows(roster)]
        # non-null cells per column, counted from the CSV: what an engine must hold; and
        # the values of each text column with more than plain ASCII words in it (commas,
        # quotes, line breaks, backslashes, Chinese), which must come back unchanged
        self.non_null, self.texts = {}, {}
        for s in self.sources:
            rows = sources.read_rows(s)
            self.non_null[s.name] = (len(rows), [sum(r[i] is not None for r in rows)
                                                 for i in range(len(s.columns))])
            for i, c in enumerate(s.columns):
                values = [r[i] for r in rows if r[i] is not None]
                if c.type == "text" and any(not PLAIN_TEXT.fullmatch(v) for v in values):
                    self.texts[(s.name, c.name)] = sorted(values)

    def table(self, name):
        return self.prefix + name


class Dialect:
    """The few spellings that differ between the engines' SQL."""

    def __init__(self, engine):
        self.engine = engine
        self.q = engine.quote
        self.sqlite = engine.name == "sqlite"

    def date(self, day):
        return ("'%s'" if self.sqlite else "DATE '%s'") % day.isoformat()

    def in_period(self, column):
        return "%s >= %s AND %s < %s" % (self.q(column), self.date(START), self.q(column), self.date(END))

    def money_sum(self, column):
        # kpic's sum of nothing (or of nulls only) is 0; sqlite sums doubles, so there
        # whole cents are added, exactly, and divided in Python
        if self.sqlite:
            return "COALESCE(SUM(CAST(ROUND(%s * 100) AS INTEGER)), 0)" % self.q(column)
        return "COALESCE(SUM(%s), 0)" % self.q(column)

    def avg_of_int(self, column):
        # MariaDB gives AVG of an integer div_precision_increment (4) places; a DECIMAL
        # argument keeps its scale + 4
        if self.engine.name == "mariadb":
            return "AVG(CAST(%s AS DECIMAL(38, 18)))" % self.q(column)
        return "AVG(%s)" % self.q(column)

    def money(self, value):
        if value is None:
            return None
        return Decimal(value) / 100 if self.sqlite else Decimal(value)


def same_number(a, b, exact):
    if a is None or b is None:
        return a is None and b is None
    if exact:
        return Decimal(a) == Decimal(b)
    a, b = float(a), float(b)
    return abs(a - b) <= 1e-12 * max(abs(a), abs(b))


def compare_per_staff(label, data, name, groups, total=None, exact=True):
    """kpic's indicator NAME against GROUPS {staff_id: value} of an engine; a roster member
    without a group has 0 (count/sum of nothing); TOTAL defaults to the sum of all groups."""
    values = data.indicators[name]
    want_total = sum(groups.values(), 0) if total is None else total
    if not same_number(values["total"], want_total, exact):
        fail("%s %s total: kpic %s, engine %s" % (label, name, values["total"], want_total))
    for sid in data.roster:
        have = groups.get(sid, 0)
        if not same_number(values["staff"].get(sid), have, exact):
            fail("%s %s %s: kpic %s, engine %s" % (label, name, sid, values["staff"].get(sid), have))


def check_dataset(engine, data):
    d = Dialect(engine)
    label = "[%s %s]" % (engine.name, data.label)
    q, t = d.q, lambda name: d.q(data.table(name))
    # every row and every non-null cell arrived
    for s in data.sources:
        cols = ", ".join("COUNT(%s) AS %s" % (q(c.name), q("n%d" % i)) for i, c in enumerate(s.columns))
        got = engine.query("SELECT COUNT(*) AS n, %s FROM %s" % (cols, t(s.name)))[0]
        rows, non_null = data.non_null[s.name]
        if s.name in data.kpic_rows and data.kpic_rows[s.name] != rows:
            fail("%s %s: kpic read %d rows, the harness %d" % (label, s.name, data.kpic_rows[s.name], rows))
        if got[0] != rows:
            fail("%s %s: %s rows in the engine, %d in the file" % (label, s.name, got[0], rows))
        for c, want, have in zip(s.columns, non_null, got[1:]):
            if have != want:
                fail("%s %s.%s: %s non-null values in the engine, %d non-empty cells"
                     % (label, s.name, c.name, have, want))

    for (name, column), want in data.texts.items():
        have = sorted(row[0] for row in engine.query("SELECT %s AS v FROM %s WHERE %s IS NOT NULL"
                                                     % (q(column), t(name), q(column))))
        if have != want:
            diff = next(((w, h) for w, h in zip(want, have) if w != h), (len(want), len(have)))
            fail("%s %s.%s: text differs from the CSV, first %r, engine %r"
                 % (label, name, column, diff[0], diff[1]))

    def per_staff(select, where=""):
        sql = ("SELECT %s AS staff, %s AS v FROM %s WHERE %s%s GROUP BY %s"
               % (q("staff_id"), select, t("orders"), d.in_period("paid_at"), where, q("staff_id")))
        return {row[0]: row[1] for row in engine.query(sql)}

    compare_per_staff(label, data, "order_count", per_staff("COUNT(*)"))
    revenue = per_staff(d.money_sum("amount"), " AND NOT %s" % q("refunded"))
    compare_per_staff(label, data, "revenue", {k: d.money(v) for k, v in revenue.items()})
    buyers_total = engine.query("SELECT COUNT(DISTINCT %s) AS n FROM %s WHERE %s"
                                % (q("customer_id"), t("orders"), d.in_period("paid_at")))[0][0]
    compare_per_staff(label, data, "buyer_count", per_staff("COUNT(DISTINCT %s)" % q("customer_id")),
                      total=buyers_total)

    if data.prefix:                                   # the generated data set
        tickets = {row[0]: row[1] for row in engine.query(
            "SELECT %s AS staff, COUNT(*) AS v FROM %s WHERE %s GROUP BY %s"
            % (q("staff_id"), t("tickets"), d.in_period("opened_at"), q("staff_id")))}
        compare_per_staff(label, data, "ticket_count", tickets)
        avg = engine.query("SELECT %s AS v FROM %s WHERE %s"
                           % (d.avg_of_int("rating"), t("tickets"), d.in_period("opened_at")))[0][0]
        if not same_number(data.indicators["rating_avg"]["total"], avg, exact=False):
            fail("%s rating_avg: kpic %s, engine %s" % (label, data.indicators["rating_avg"]["total"], avg))
        return

    recharges = {row[0]: d.money(row[1]) for row in engine.query(
        "SELECT %s AS staff, %s AS v FROM %s WHERE %s GROUP BY %s"
        % (q("staff_id"), d.money_sum("amount"), t("recharges"), d.in_period("recharged_at"),
           q("staff_id")))}
    compare_per_staff(label, data, "recharge_amount", recharges)
    registered = engine.query("SELECT COUNT(*) AS n FROM %s WHERE %s < %s"
                              % (t("users"), q("signed_up_at"), d.date(END)))[0][0]
    if registered != data.indicators["registered_users"]["total"]:
        fail("%s registered_users: kpic %s, engine %s"
             % (label, data.indicators["registered_users"]["total"], registered))
    mystery = engine.query("SELECT AVG(%s) AS v FROM %s WHERE %s"
                           % (q("audit_score"), t("mystery_shopper"), d.in_period("visited_on")))[0][0]
    if not same_number(data.indicators["mystery_score"]["total"], mystery, exact=False):
        fail("%s mystery_score: kpic %s, engine %s" % (label, data.indicators["mystery_score"]["total"], mystery))


# The shape of what `kpic sql` will emit, in the SQL that PostgreSQL, DuckDB, Spark and
# Trino share: period bounds as a CTE joined to the rows, GROUPING SETS for the per-staff
# rows and the total, rows (period, indicator, staff_id, value).
SHAPE_SQL = """
WITH periods AS (
  SELECT '2025-05' AS period, DATE '2025-05-01' AS period_start, DATE '2025-06-01' AS period_end
),
rows_in_period AS (
  SELECT p.period, o.staff_id, o.amount, o.refunded
  FROM orders o
  JOIN periods p ON o.paid_at >= p.period_start AND o.paid_at < p.period_end
)
SELECT period, 'order_count' AS indicator, staff_id,
       CAST(COUNT(*) AS DECIMAL(38, 2)) AS value, GROUPING(staff_id) AS is_total
FROM rows_in_period
GROUP BY GROUPING SETS ((period, staff_id), (period))
UNION ALL
SELECT period, 'revenue' AS indicator, staff_id,
       CAST(COALESCE(SUM(CASE WHEN NOT refunded THEN amount END), 0) AS DECIMAL(38, 2)) AS value,
       GROUPING(staff_id) AS is_total
FROM rows_in_period
GROUP BY GROUPING SETS ((period, staff_id), (period))
"""

# More of Trino's own spellings a back end may need, parsed only.
TRINO_ONLY = [
    """SELECT staff_id, count_if(refunded) AS n_refunded,
              sum(amount) FILTER (WHERE NOT refunded) AS revenue
       FROM orders
       WHERE paid_at >= date_add('month', -2, DATE '2025-05-01') AND paid_at < DATE '2025-06-01'
       GROUP BY staff_id""",
    """SELECT customer_id, min(paid_at) AS first_paid,
              row_number() OVER (PARTITION BY staff_id ORDER BY min(paid_at)
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS n
       FROM orders GROUP BY customer_id, staff_id
       HAVING min(paid_at) >= DATE '2025-05-01'""",
    """SELECT TRY_CAST(amount AS DECIMAL(20, 2)) / NULLIF(count(*), 0) AS per_order
       FROM orders GROUP BY amount""",
]
NOT_TRINO = [
    "SELECT staff_id, FROM orders GROUP BY GROUPING SETS ((staff_id)",   # broken
    "SELECT `staff_id` FROM orders",                                     # MySQL quoting
    "SELECT date_ad('month', -2, DATE '2025-05-01')",                    # no such function
]


def check_shape(engine, data):
    label = "[%s shape query]" % engine.name
    per = {}
    for period, indicator, staff, value, is_total in engine.query(SHAPE_SQL):
        if period != PERIOD:
            fail("%s period %r" % (label, period))
        per.setdefault(indicator, {})["<total>" if is_total else staff] = value
    for name in ("order_count", "revenue"):
        groups = dict(per.get(name, {}))
        total = groups.pop("<total>", None)
        compare_per_staff(label, data, name, groups, total=total)


def check_trino():
    for sql in [SHAPE_SQL] + TRINO_ONLY:
        try:
            trino_dialect.parse(sql)
        except server.EngineError as e:
            fail("[trino] %s\n%s" % (e, sql.strip()[:300]))
    for sql in NOT_TRINO:
        try:
            trino_dialect.parse(sql)
            fail("[trino] accepted what is not Trino SQL: %s" % sql)
        except server.EngineError:
            pass


def run_engine(module, datasets):
    started = time.monotonic()
    with module.Engine() as engine:
        up = time.monotonic()
        for data in datasets:
            for s in data.sources:
                engine.load(s, data.table(s.name))
        loaded = time.monotonic()
        for data in datasets:
            check_dataset(engine, data)
        if module in (postgres_engine, duckdb_engine, spark_engine):
            check_shape(engine, datasets[0])
        done = time.monotonic()
    print("%-8s start %5.1f s  load %5.1f s  query %5.1f s  (total with stop %5.1f s)"
          % (module.NAME, up - started, loaded - up, done - loaded, time.monotonic() - started),
          flush=True)


def main():
    server.install_signal_handlers()
    wanted = os.environ.get("KPIC_TEST_ENGINES")
    wanted = set(wanted.split(",")) if wanted else None
    venv_problem = None if venv.inside() else venv.problem() or "the venv exists but was not used"

    gen_dir = tempfile.mkdtemp(prefix="kpic-engines-gen-")
    try:
        generated.generate(gen_dir)
        # text that a loader could take for NULL or for an escape: the word NULL, \N,
        # backslashes, quotes
        with open(os.path.join(gen_dir, "orders.csv"), "a", encoding="utf-8", newline="") as f:
            f.write('o999999,NULL,s01,12.34,2025-05-31 23:59:59,web,no,'
                    '"C:\\temp\\ ""q"" \\N NULL \\"\n')
        gen_spec = os.path.join(gen_dir, "generated.kpi")
        with open(gen_spec, "w", encoding="utf-8") as f:
            # the notes hold quoted commas, quotes, line breaks and Chinese
            head = generated.SPEC_HEAD.replace("GRAIN", "month")
            with_note = head.replace("  refunded    bool\n}", "  refunded    bool\n  note        text\n}", 1)
            if with_note == head:
                raise RuntimeError("test_eval_sqlite.SPEC_HEAD changed: cannot declare orders.note")
            f.write(with_note + GENERATED_INDICATORS)
        datasets = [Dataset("example", "kpi-specs/user-ops.kpi", ""),
                    Dataset("generated", gen_spec, "gen_")]

        for module in ENGINES:
            if wanted is not None and module.NAME not in wanted:
                continue
            if module in IN_VENV and venv_problem:
                missing.append("%s: %s" % (module.NAME, venv_problem))
                continue
            try:
                run_engine(module, datasets)
            except server.EngineMissing as e:
                missing.append("%s: %s" % (module.NAME, e))
            except server.EngineError as e:
                fail("[%s] %s" % (module.NAME, e))
        if wanted is None or "trino" in wanted:
            if venv_problem:
                missing.append("trino (sqlglot): %s" % venv_problem)
            else:
                started = time.monotonic()
                check_trino()
                print("%-8s parse %5.1f s" % ("trino", time.monotonic() - started), flush=True)
    finally:
        server.remove_workdir(gen_dir)

    for m in missing:
        print("MISSING:", m)
    if failures:
        print("%d failures" % len(failures))
        return 1
    if missing:
        if os.environ.get("CI"):
            print("FAIL: CI must run every engine; %d missing" % len(missing))
            return 1
        print("skipped: %d engines missing (run .ci/install-deps)" % len(missing))
        return 77
    print("every engine agrees with kpic eval")
    return 0


if __name__ == "__main__":
    sys.exit(main())
