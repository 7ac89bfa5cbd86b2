#!/usr/bin/env python3
"""`kpic sql` proven on real engines: the GENERATED statement runs on sqlite, PostgreSQL,
DuckDB, MariaDB and Spark SQL (PySpark local[2], one SparkSession for the whole test;
Trino: parsed by sqlglot) and every figure equals
`kpic eval --format values` of the same spec and data -- counts and money exactly (to the
cent, money that kpic has to more places, and every ratio, within 1e-12 relative) -- for
one period, a quarter and a 12-month range, on the example spec and on a spec that uses
every aggregate form (test_eval_sqlite's spec with generated data), and on the `edges`
spec below (where SQL's nulls and zeros differ from kpic's, the calendar's first months
included; a shift out of the calendar is refused by both), and on tests/cases/sql_dialects
(what each dialect must get right besides nulls: text byte for byte, every column type,
values past the engines' narrow types where the engine holds them); and the engine's rows
written as a values file give `kpic score --values` statements byte-identical to the
native ones (the sources apart).

Engines come from tests/engines/ (docs/testing.md): each is started by this test and
stopped at the end, even on failure. A missing engine fails the test under CI=true;
elsewhere it exits 77 (skipped) when nothing failed. KPIC_TEST_ENGINES=sqlite,postgres
limits a run. KPIC_TEST_SKIP_ENGINES=spark leaves engines out, printed as SKIPPED. ctest
runs this script twice (tests/CMakeLists.txt): every engine but Spark, and Spark alone
(e2e/test_sql_engines_spark, started first so that it runs beside the rest of the
suite); the sanitizer build has no Spark run (Spark tests the engine's arithmetic, not
kpic's memory, and costs minutes).
Prints the time each engine took.

usage: test_sql_engines.py KPIC   (run from the repository root; ctest does that)
"""
import csv
import datetime as dt
import io
import json
import os
import random
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
# Every engine is required. MariaDB's 12 months of the example take about two minutes
# (the statement joins each CTE once); Spark's statements are planned anew each time, a
# few hundred operators (spark_engine.py says how the session is set up for that).
ENGINES = [("sqlite", sqlite_engine), ("postgres", postgres_engine), ("duckdb", duckdb_engine),
           ("mysql", mariadb_engine), ("spark", spark_engine)]
IN_VENV = (duckdb_engine, spark_engine)
PERIODS = ["2025-05", "2025-04..2025-06", "2025-01..2025-12"]
SCORED = ["2025-05", "2025-04..2025-06"]
FORMATS = ["table", "csv", "json", "md", "html"]
# Engines that divide exact decimals (kpic's 18 places, rounded half away from zero):
# every format is byte-identical. The others divide in DOUBLE (DuckDB's DECIMAL division
# gives a DOUBLE; sqlite has no decimal), so CSV and JSON, which print ratios with every
# digit of a double, may differ in the last one; the formats people read are identical.
EXACT_DIVISION = ("postgres", "mysql")
ROUNDED_FORMATS = ["table", "md", "html"]

HOSTILE = r"""
indicator 奇怪的_"名字" count per staff
  = count(orders where channel in ("it's", "a\\b", "--; DROP TABLE orders; --", "中文", "web"))
"""

# The edges of null and zero (docs/language.md §8.1), where SQL's own rules differ from
# kpic's unless the statement says otherwise: months before the data and an empty month
# inside it (2025-04) reached directly and by previous()/last_year(); sums over values
# that are all null (customer c7, staff s3); avg/min/max over none; `having` on a group
# whose sum is all null; division by zero; if/else and min/max of nulls; coalesce;
# staff ids empty or not on the roster; a roster cell that is empty or zero.
EDGES_PERIODS = ["2025-04", "2025-01..2025-03", "2025-01..2025-08"]
EDGES_SPEC = """\
period month

source sales "edges_sales.csv" {
  sale_id     text
  customer_id text
  staff_id    text  staff
  amount      money
  qty         int
  paid_at     date  time
  due_at      date
  kind        text
  flagged     bool
}

source kinds "edges_kinds.csv" {
  kind    text
  weight  number
}

staff "edges_staff.csv" {
  id     text
  role   text
  quota  money
}

set regulars  = sales.customer_id over all time having count() >= 2
set nil_spend = sales.customer_id having sum(amount) = 0
set heavy     = sales.customer_id having avg(qty) > 2 over last 2 months
set weighted  = kinds.kind where weight > 1

indicator n count per staff = count(sales)
indicator n_prev count per staff = previous(n)
indicator n_prev2 count per staff = previous(previous(count(sales)))
indicator n_ly count per staff = last_year(n)
indicator n_all count per staff = count(sales over all time)
indicator n_3m_prev count per staff = previous(count(sales over last 3 months))
indicator n_ytd_ly count per staff = last_year(count(sales over year to date))
indicator amt money per staff = sum(sales.amount)
indicator amt_prev money per staff = previous(amt)
indicator amt_flagged money per staff = sum(sales.amount where flagged)
indicator qty_sum number per staff = sum(sales.qty)
indicator qty_avg number per staff = avg(sales.qty)
indicator amt_min money per staff = min(sales.amount)
indicator amt_max_prev money per staff = previous(max(sales.amount))
indicator due_max_ly days per staff = days(last_year(max(sales.due_at)), period.end)
indicator buyers count per staff = distinct(sales.customer_id)
indicator buyers_prev count per staff = previous(buyers)
indicator buyers_having count per staff = distinct(sales.customer_id having sum(amount) = 0)
indicator buyers_having_ly count per staff = last_year(distinct(sales.customer_id having count() >= 2 over last 3 months))
indicator n_regulars count per staff = count(regulars)
indicator n_regulars_prev count per staff = previous(count(regulars))
indicator n_nil_spend count per staff = count(nil_spend)
indicator n_heavy count = count(heavy)
indicator n_weighted count = count(weighted)
indicator n_in_weighted count per staff = count(sales where kind in weighted)
indicator n_regular_sales_prev count per staff = previous(count(sales where customer_id in regulars))
indicator n_not_regular count per staff = count(sales where not (customer_id in regulars))
indicator growth percent per staff = amt / previous(amt) - 1
indicator per_unit money per staff = sum(sales.amount) / sum(sales.qty)
indicator zero_div ratio = count(sales where qty = 0) / count(sales where qty > 1000)
indicator if_null number per staff = if qty_avg > 2 then 1 else 0
indicator if_null_prev number per staff = if previous(qty_avg) > 2 then previous(qty_avg) else -1
indicator coal money per staff = coalesce(amt_min, 0)
indicator coal_prev money per staff = coalesce(previous(amt_min), coalesce(staff.quota / 4, 7))
indicator coal_rows count per staff = count(sales where coalesce(kind, "none") = "none")
indicator r2 number per staff = round(qty_avg, 2)
indicator mm number per staff = max(qty_avg, previous(qty_avg))
indicator quota_share ratio per staff = amt / staff.quota
indicator in_prev count per staff = count(sales where paid_at in previous period over all time)
indicator due_before count per staff = count(sales where due_at before period over all time)
"""


EDGES_UNSHIFTED = ["n", "n_all", "amt", "amt_flagged", "qty_avg", "amt_min", "buyers", "buyers_having",
                   "n_regulars", "n_nil_spend", "n_heavy", "n_in_weighted", "n_not_regular", "per_unit",
                   "zero_div", "if_null", "coal", "coal_rows", "r2", "quota_share", "in_prev", "due_before"]


# tests/cases/sql_dialects.kpi: its indicators, and those whose values only some engines
# hold (the others refuse them with an error of their own: docs/decisions.md)
DIALECTS_INDICATORS = re.findall(r"^indicator (\w+)", open(os.path.join(ROOT, "tests", "cases", "sql_dialects.kpi"),
                                                             encoding="utf-8").read(), re.M)
WIDE_INDICATORS = ["qty_sum", "avg_q", "big_sum", "prod", "prod_q"]


def check_calendar_edge(spec):
    """kpic eval refuses a shift out of the calendar; kpic sql must refuse it too, never
    put a count of nothing (0) in its place."""
    for command in ("eval", "sql"):
        args = [KPIC, command, spec, "--period", "0001-01..0001-02", "--indicator", "n_prev", "--indicator", "n_ly",
                "--quiet"]
        if command == "sql":
            args[-1:] = ["--dialect", "duckdb"]
        p = subprocess.run(args, capture_output=True, timeout=300)
        if p.returncode != 1 or b"before year 1" not in p.stderr:
            fail("[calendar edge] kpic %s exited %d: %s" % (command, p.returncode, p.stderr.decode()[-600:]))


def write_edges(folder):
    rng = random.Random(20250407)
    rows = []
    for i in range(400):
        while True:          # February to July 2025, April empty
            day = dt.date(2025, 2, 1) + dt.timedelta(days=rng.randrange(180))
            if day.month != 4:
                break
        staff = rng.choice(["s1", "s2", "s3", "s4", "", "s99"])
        amount = "" if rng.random() < 0.15 else "%d.%02d" % (rng.randrange(300), rng.randrange(100))
        customer = "" if rng.random() < 0.05 else "c%d" % rng.randrange(1, 13)
        if customer == "c7" or staff == "s3":
            amount = ""      # every amount null: sum 0, avg null, having sum(amount) = 0
        qty = "" if rng.random() < 0.1 else str(rng.choice([0, 1, 2, 3, 5]))
        if staff == "s4" and day.month == 6:
            qty = ""         # avg of none for s4 in June
        due = "" if rng.random() < 0.2 else (day + dt.timedelta(days=rng.randrange(-20, 40))).isoformat()
        kind = "" if rng.random() < 0.1 else rng.choice(["a", "b", "c"])
        flagged = "" if rng.random() < 0.1 else rng.choice(["true", "false"])
        paid = "" if rng.random() < 0.02 else day.isoformat()
        rows.append(["x%d" % i, customer, staff, amount, qty, paid, due, kind, flagged])
    for i, (day, staff, amount, customer) in enumerate([   # the calendar's first months
            ("0001-01-01", "s1", "5.00", "c1"), ("0001-01-31", "s1", "", "c1"), ("0001-01-15", "s2", "2.50", "c2"),
            ("0001-02-01", "s1", "1.00", "c1"), ("0001-03-28", "", "", "c7"), ("0001-03-31", "s4", "0.00", "")]):
        rows.append(["y%d" % i, customer, staff, amount, str(i % 3), day, "0001-02-10", "a", "true"])
    with open(os.path.join(folder, "edges_sales.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["sale_id", "customer_id", "staff_id", "amount", "qty", "paid_at", "due_at", "kind", "flagged"])
        w.writerows(rows)
    with open(os.path.join(folder, "edges_kinds.csv"), "w", encoding="utf-8") as f:
        f.write("kind,weight\na,2\nb,1\nc,\nd,3\n")
    with open(os.path.join(folder, "edges_staff.csv"), "w", encoding="utf-8") as f:
        f.write("id,role,quota\ns1,r,1000\ns2,r,\ns3,r,500\ns4,r,0\ns5,r,200\n")
    path = os.path.join(folder, "edges.kpi")
    with open(path, "w", encoding="utf-8") as f:
        f.write(EDGES_SPEC)
    return path

failures, missing = [], []


def fail(what):
    failures.append(what)
    print("FAIL:", what, flush=True)


def kpic(*args):
    p = subprocess.run([KPIC, *args], capture_output=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError("kpic %s exited %d: %s" % (" ".join(args), p.returncode,
                                                      p.stderr.decode("utf-8", "replace")[-2000:]))
    return p.stdout.decode("utf-8")


class Dataset:
    def __init__(self, label, spec, scored, prefix="", periods=PERIODS, indicators=(), dialects=None):
        self.label, self.spec, self.scored, self.prefix = label, spec, scored, prefix
        self.dialects = dialects    # None: every engine
        self.periods = periods
        self.only = [a for name in indicators for a in ("--indicator", name)]
        self.sources = sources.read_spec_sources(spec)
        self.units = {}
        doc = json.loads(kpic("eval", spec, "--period", periods[0], "--format", "json", "--quiet", *self.only))
        for ind in doc["indicators"]:
            self.units[ind["name"]] = ind["unit"]
        self.native_cache = {}
        self.single = {}
        self.expected = {}
        for period in periods:
            rows = csv.DictReader(io.StringIO(kpic("eval", spec, "--period", period, "--format", "values", "--quiet",
                                                   *self.only)))
            self.expected[period] = {(r["period"], r["indicator"], r["staff_id"]): r["value"] for r in rows}


def expected_of(data, label):
    """kpic eval's values of one period (a period the roles reach), cached."""
    if label not in data.single:
        rows = csv.DictReader(io.StringIO(kpic("eval", data.spec, "--period", label, "--format", "values", "--quiet",
                                               *data.only)))
        data.single[label] = {(r["period"], r["indicator"], r["staff_id"]): r["value"] for r in rows}
    return data.single[label]


def native_statements(data, period, fmt):
    key = (period, fmt)
    if key not in data.native_cache:
        data.native_cache[key] = without_sources(fmt, kpic("score", data.spec, "--period", period, "--format", fmt,
                                                           "--quiet"))
    return data.native_cache[key]


def without_sources(fmt, text):
    """TEXT without what names the files read (the only part allowed to differ)."""
    if fmt == "json":
        doc = json.loads(text)
        doc.pop("sources", None)
        return json.dumps(doc, ensure_ascii=False, sort_keys=True)
    if fmt == "table":
        return "\n".join(l for l in text.splitlines() if not l.startswith("source "))
    if fmt == "md":
        return "\n".join(l for l in text.splitlines() if not re.match(r"\| [a-z_\\]+ \| \S+ \| \d+ \| \d+ \| `", l))
    if fmt == "html":
        return re.sub(r"<h2 id=\"sources\">.*", "", text, flags=re.S)
    return text


def as_decimal(v):
    if v is None or v == "":
        return None
    return Decimal(str(v))


def same(unit, want, got):
    """kpic's exact text WANT against the engine's value GOT."""
    a, b = as_decimal(want), as_decimal(got)
    if a is None or b is None:
        return a is None and b is None
    exact = unit in ("count", "money") and -a.as_tuple().exponent <= 2
    if exact:
        # a money quotient (avg) in DOUBLE: the right cent, within 1e-12 relative (DuckDB
        # casts the DOUBLE 5e7 to DECIMAL(38,18) as 50000000.000000002382…)
        return a == b or (unit == "money" and b.quantize(Decimal("0.01")) == a
                          and abs(b - a) < max(Decimal("1e-9"), abs(a) * Decimal("1e-12")))
    if a == 0:
        return abs(b) <= Decimal("1e-12")
    return abs(b - a) <= abs(a) * Decimal("1e-12")


def run_dataset(dialect, engine, data, tmp):
    for period in data.periods:
        tables = [a for s in data.sources for a in ("--table", "%s=%s%s" % (s.name, data.prefix, s.name))] if data.prefix else []
        try:
            sql = kpic("sql", data.spec, "--period", period, "--dialect", dialect, *tables, *data.only)
        except RuntimeError as e:
            fail("[%s %s %s] %s" % (dialect, data.label, period, str(e)[:1500]))
            continue
        try:
            rows = engine.query(sql)
        except server.EngineError as e:
            fail("[%s %s %s] the generated SQL fails: %s" % (dialect, data.label, period, str(e)[:1500]))
            continue
        got = {}
        for p, ind, staff, value in rows:
            key = (p, ind, staff or "")
            if key in got:
                fail("[%s %s %s] two rows for %s" % (dialect, data.label, period, key))
            got[key] = value
        # the periods beyond the requested ones are those the roles' previous() and
        # last_year() reach (kpic eval of each gives their figures)
        want = dict(data.expected[period])
        for label in sorted({k[0] for k in got} - {k[0] for k in want}):
            want.update(expected_of(data, label))
        if set(got) != set(want):
            fail("[%s %s %s] rows differ: missing %s, extra %s" % (dialect, data.label, period,
                 sorted(set(want) - set(got))[:5], sorted(set(got) - set(want))[:5]))
        bad = [(k, want[k], got[k]) for k in sorted(want) if k in got and not same(data.units[k[1]], want[k], got[k])]
        for k, w, g in bad[:8]:
            fail("[%s %s %s] %s: kpic %s, engine %s" % (dialect, data.label, period, "/".join(k), w, g))
        if len(bad) > 8:
            fail("[%s %s %s] … and %d more values differ" % (dialect, data.label, period, len(bad) - 8))
        if period not in SCORED or not data.scored:
            continue
        # the rows of `kpic sql --period P` alone hold what scoring P reads, the periods
        # previous() in the roles reach included: no second query
        values = os.path.join(tmp, "%s-%s-%s.csv" % (dialect, data.label, period))
        with open(values, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["period", "indicator", "staff_id", "value"])
            for (p, ind, staff), value in sorted(got.items()):
                w.writerow([p, ind, staff, "" if value is None else value])
        # the statements byte for byte in every format, the sources apart: the value
        # of a ratio is kpic's 18-place decimal where the engine divides exactly
        for fmt in FORMATS if dialect in EXACT_DIVISION else ROUNDED_FORMATS:
            native = native_statements(data, period, fmt)
            given = subprocess.run([KPIC, "score", data.spec, "--period", period, "--values", values,
                                    "--format", fmt], capture_output=True, timeout=300)
            if given.returncode != 0:
                fail("[%s %s %s] score --values: %s" % (dialect, data.label, period, given.stderr.decode()[-800:]))
            elif without_sources(fmt, given.stdout.decode()) != native:
                fail("[%s %s %s] score --format %s --values from the engine's rows differs from the native "
                     "statements" % (dialect, data.label, period, fmt))


def run_engine(dialect, module, datasets, tmp):
    started = time.monotonic()
    with module.Engine() as engine:
        up = time.monotonic()
        tables = set()
        datasets = [d for d in datasets if d.dialects is None or dialect in d.dialects]
        for data in datasets:
            for s in data.sources:
                if data.prefix + s.name not in tables:
                    engine.load(s, data.prefix + s.name)
                    tables.add(data.prefix + s.name)
        loaded = time.monotonic()
        for data in datasets:
            run_dataset(dialect, engine, data, tmp)
        done = time.monotonic()
    print("%-8s start %5.1f s  load %5.1f s  queries %5.1f s" % (dialect, up - started, loaded - up, done - loaded),
          flush=True)


def check_trino(datasets):
    for data in datasets:
        for period in data.periods:
            sql = kpic("sql", data.spec, "--period", period, "--dialect", "trino", *data.only)
            try:
                trino_dialect.parse(sql)
            except server.EngineError as e:
                fail("[trino %s %s] %s" % (data.label, period, str(e)[:800]))


def main():
    server.install_signal_handlers()
    wanted = os.environ.get("KPIC_TEST_ENGINES")
    wanted = set(wanted.split(",")) if wanted else None
    skipped = set(filter(None, os.environ.get("KPIC_TEST_SKIP_ENGINES", "").split(",")))
    left_out = []
    venv_problem = None if venv.inside() else venv.problem() or "the venv exists but was not used"
    tmp = tempfile.mkdtemp(prefix="kpic-sql-engines-")
    try:
        datasets = [Dataset("example", "kpi-specs/user-ops.kpi", True)]
        # every aggregate form of docs/language.md §4–5, with test_eval_sqlite's data
        # and spec, and a name and text literals no SQL may take as its own
        generated.generate(tmp)
        forms = os.path.join(tmp, "forms.kpi")
        with open(forms, "w", encoding="utf-8") as f:
            f.write(generated.spec_text("month") + HOSTILE)
        datasets.append(Dataset("forms", forms, False, "gen_"))
        edges = write_edges(tmp)
        datasets.append(Dataset("edges", edges, False, "edge_", EDGES_PERIODS))
        # the first months of the calendar: windows clamped to its first day, `in previous
        # period` where there is none (shifts there are refused: check_calendar_edge)
        datasets.append(Dataset("edges-year-1", edges, False, "edge_", ["0001-01..0001-03"], EDGES_UNSHIFTED))
        check_calendar_edge(edges)
        # a person with a roster row per role (a transfer mid-month, docs/language.md §9):
        # one staff member of the figures, one row per indicator, as kpic eval has it
        datasets.append(Dataset("transfer", "tests/cases/score_transfer.kpi", True, "tr_", ["2025-05"]))
        # ids that differ only in case are different ids (MariaDB's CAST(x AS CHAR) took
        # the connection's case-insensitive collation and merged s01 and S01)
        datasets.append(Dataset("case", "tests/cases/sql_case_ids.kpi", True, "case_", ["2025-05"]))
        # what each dialect must get right besides nulls (docs/decisions.md, "What each
        # dialect computes"): text byte for byte (MariaDB's utf8mb4_bin took "c1 " for c1),
        # distinct() over each type, 18 places, round(), dates, bools, static and empty
        # sources; then values past the engines' narrow types, on the engines that hold
        # them: a sum of ints past 2^63 (Spark added BIGINTs in BIGINT), a sum past 10^20
        # (MariaDB clamped the DECIMAL(38,18) to 99999999999999999999.99…), and products
        # of two 18-place numbers (Spark keeps 6 places of them, DuckDB overflows)
        datasets.append(Dataset("dialects", "tests/cases/sql_dialects.kpi", False, "dl_", ["2025-05"],
                                [n for n in DIALECTS_INDICATORS if n not in WIDE_INDICATORS]))
        datasets.append(Dataset("dialects-wide", "tests/cases/sql_dialects.kpi", False, "dl_", ["2025-05"],
                                WIDE_INDICATORS, dialects=("postgres", "mysql")))
        datasets.append(Dataset("dialects-wide-ints", "tests/cases/sql_dialects.kpi", False, "dl_", ["2025-05"],
                                ["qty_sum", "avg_q"], dialects=("duckdb", "spark")))
        # int staff ids in the sources and the roster, matched by their digits, and a scale
        # called in a where
        datasets.append(Dataset("int-staff", "tests/cases/eval_int_staff.kpi", False, "is_", ["2025-05"]))
        # more joins than one MySQL/MariaDB SELECT may hold (61 tables): the values are
        # split into SELECTs within the limit (docs/decisions.md); the dialects with a limit
        datasets.append(Dataset("join-limit", "tests/cases/sql_join_limit_ok.kpi", False, "jl_", ["2025-05"],
                                dialects=("mysql", "sqlite")))
        for dialect, module in ENGINES:
            if wanted is not None and dialect not in wanted and module.NAME not in wanted:
                continue
            if dialect in skipped or module.NAME in skipped:
                print("SKIPPED: %s (KPIC_TEST_SKIP_ENGINES)" % dialect, flush=True)
                left_out.append(dialect)
                continue
            if module in IN_VENV and venv_problem:
                missing.append("%s: %s" % (dialect, venv_problem))
                continue
            try:
                run_engine(dialect, module, datasets, tmp)
            except server.EngineMissing as e:
                missing.append("%s: %s" % (dialect, e))
            except server.EngineError as e:
                fail("[%s] %s" % (dialect, e))
        if wanted is None or "trino" in wanted:
            if venv_problem:
                missing.append("trino (sqlglot): %s" % venv_problem)
            else:
                check_trino(datasets)
    finally:
        server.remove_workdir(tmp)
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
    print("kpic sql: every engine agrees with kpic eval%s" %
          (" (left out by KPIC_TEST_SKIP_ENGINES: %s)" % ", ".join(left_out) if left_out else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
