#!/usr/bin/env python3
"""Differential test of `kpic eval` against the sqlite3 command-line tool (issue 4 §7).

Seeded random CSV data (orders, tickets, a static channels table and a roster with
staff who have no rows) is written to a temporary folder with a spec that uses every
aggregate form of docs/language.md §4–5. `kpic eval --format json` is run for several periods
and grains; every figure is computed again, independently, by the sqlite3 CLI
(Debian's sqlite3 package: `.import` and plain SQL; not Python's sqlite3 module, so
the second engine shares no code with the first). Python only combines the
aggregates sqlite returns (+ - * /, previous(), ...) with exact fractions, and does
the period arithmetic of docs/language.md §4–5 with datetime.date.

Compared: counts and money exactly (money as decimals; a money value that is a
quotient is rounded half away from zero to 2 places, as kpic prints it), ratios,
percents and fractional numbers within 1e-9 relative, nulls equal; the total and
every roster member of every per-staff indicator.

Semantics taken from docs/language.md §4–5 where SQL alone would differ:
  * a window ends at period.end (exclusive); rows with an empty time cell are in no
    window at all (not even `all time`); a static source is in every window;
  * count/sum/distinct of nothing is 0 (SQL's SUM of no rows would be NULL), avg,
    min and max of nothing are null; division by zero is null;
  * `if C then A else B` with C null takes B (SQL CASE); `x in SET` with x null is
    null; `and`/`or`/`not` are SQL's three-valued logic;
  * count(SET) in a per-staff indicator is the set's definition grouped by staff;
    `x in SET` always tests the company-wide set.

usage: test_eval_sqlite.py KPIC   (run from the repository root; ctest does that)
Prints one line per mismatch and ends with `N passed, M failed`; exits 1 on any.
Set KPIC_DIFF_KEEP=DIR to keep the generated data, spec, JSON and SQL in DIR.
"""
import calendar
import csv
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal, ROUND_HALF_UP
from fractions import Fraction

KPIC = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build/kpic"
SEED = 20250517
D = dt.date
ONE_DAY = dt.timedelta(days=1)

# --------------------------------------------------------------------------- data

STAFF_WITH_ORDERS = ["s01", "s02", "s03", "s04", "s05", "s06", "s07"]
STAFF_WITH_TICKETS = ["s01", "s02", "s03", "s04", "s05", "s06", "s08"]
ROSTER = [  # s09 and s10 have no rows anywhere; s07 no tickets; s08 no orders
    ("s01", "张伟", "sales", "5000.00"), ("s02", "Li Na", "sales", "4800.50"),
    ("s03", "王芳", "sales", "5200"), ("s04", "Zhao Lei", "sales", "4000.00"),
    ("s05", "陈静", "service", "3900.00"), ("s06", "Sun Yu", "service", "4100.00"),
    ("s07", "周杰", "sales", "4500.00"), ("s08", "Wu Min", "service", "3800.00"),
    ("s09", "郑爽", "sales", "5000.00"), ("s10", "Feng Bo", "service", "3600.00"),
]
CHANNELS = ["web", "app", "store", "phone", "wechat"]
FIRST, LAST = D(2024, 1, 1), D(2025, 12, 31)
NOTES = ["", "gift", "coupon SPRING, 10% off", 'said "after 6pm"', "会员日",
         "two lines\nof note", "n/a"]


def bool_text(rng, value):
    if value is None:
        return ""
    return rng.choice([("true", "1", "yes"), ("false", "0", "no")][0 if value else 1])


def time_text(rng, day, edge=None):
    """A time cell for `day` in one of the forms of docs/language.md §3."""
    if edge == "first":
        return day.isoformat() + " 00:00:00"
    if edge == "last":
        return day.isoformat() + " 23:59:59"
    r = rng.random()
    if r < 0.3:
        return day.isoformat()
    if r < 0.9:
        return "%s %02d:%02d:%02d" % (day, rng.randrange(24), rng.randrange(60), rng.randrange(60))
    return "%sT%02d:%02d" % (day, rng.randrange(24), rng.randrange(60))


def money_text(rng):
    r = rng.random()
    if r < 0.01:
        return ""
    if r < 0.03:
        return "-%d.%02d" % (rng.randrange(1, 50), rng.randrange(100))
    cents = rng.randrange(100, 150000) if rng.random() < 0.97 else rng.randrange(150000, 900000)
    if r < 0.06:
        return str(cents // 100)                         # "120"
    if r < 0.08:
        return "%d.%d" % (cents // 100, cents % 10)      # "120.5"
    return "%d.%02d" % (cents // 100, cents % 100)


def boundary_days():
    """First and last day of every month, the leap day, the year change."""
    days = [D(2024, 2, 29), D(2024, 12, 31), D(2025, 1, 1)]
    for y in (2024, 2025):
        for m in range(1, 13):
            days += [D(y, m, 1), D(y, m, calendar.monthrange(y, m)[1])]
    return days


def random_day(rng):
    return FIRST + dt.timedelta(days=rng.randrange((LAST - FIRST).days + 1))


def generate(folder):
    rng = random.Random(SEED)
    # Customers: a few heavy buyers, some regulars, many occasional ones; each has a
    # usual staff member, so per-staff groups of `having` are not trivial.
    customers = ["c%04d" % i for i in range(1, 3001)]
    home = {c: rng.choice(STAFF_WITH_ORDERS) for c in customers}

    def customer():
        r = rng.random()
        if r < 0.01:
            return ""
        if r < 0.20:
            return rng.choice(customers[:30])
        if r < 0.50:
            return rng.choice(customers[30:330])
        return rng.choice(customers[330:])

    def staff(ids):
        r = rng.random()
        if r < 0.03:
            return ""                           # not credited to anyone: total only
        if r < 0.04:
            return "s99"                        # not on the roster: total only
        return rng.choice(ids)

    with open(os.path.join(folder, "orders.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["order_id", "customer_id", "staff_id", "amount", "paid_at", "channel",
                    "refunded", "note"])
        rows = []
        for _ in range(9000):
            day = random_day(rng)
            rows.append((day, time_text(rng, day) if rng.random() > 0.01 else ""))
        for day in boundary_days():
            for edge in ("first", "last", None, None):
                rows.append((day, time_text(rng, day, edge)))
        rng.shuffle(rows)
        for i, (day, paid_at) in enumerate(rows):
            refunded = None if rng.random() < 0.02 else rng.random() < 0.08
            channel = "" if rng.random() < 0.02 else rng.choice(CHANNELS)
            cust = customer()
            who = home[cust] if cust and rng.random() < 0.7 else staff(STAFF_WITH_ORDERS)
            w.writerow(["o%06d" % (i + 1), cust, who, money_text(rng),
                        paid_at, channel, bool_text(rng, refunded), rng.choice(NOTES)])

    with open(os.path.join(folder, "tickets.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["ticket_id", "customer_id", "staff_id", "opened_at", "closed_at", "rating",
                    "is_complaint"])
        days = [random_day(rng) for _ in range(3500)] + boundary_days()
        for i, day in enumerate(days):
            opened = time_text(rng, day) if rng.random() > 0.01 else ""
            closed = "" if rng.random() < 0.15 else (day + dt.timedelta(days=rng.randrange(6))).isoformat()
            rating = "" if rng.random() < 0.25 else str(rng.randrange(1, 6))
            complaint = None if rng.random() < 0.02 else rng.random() < 0.15
            w.writerow(["t%05d" % (i + 1), customer(), staff(STAFF_WITH_TICKETS), opened, closed,
                        rating, bool_text(rng, complaint)])

    with open(os.path.join(folder, "channels.csv"), "w", encoding="utf-8", newline="") as f:
        f.write("channel,is_paid\nweb,no\napp,yes\nstore,false\nphone,0\nwechat,true\nfax,1\n")

    with open(os.path.join(folder, "staff.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "name", "role", "base_bonus"])
        w.writerows(ROSTER)

# --------------------------------------------------------------------------- spec

SPEC_HEAD = """\
# Generated by tests/e2e/test_eval_sqlite.py: every aggregate form of docs/language.md §4–5.
period GRAIN

source orders "orders.csv" {
  order_id    text
  customer_id text
  staff_id    text  staff
  amount      money
  paid_at     date  time
  channel     text
  refunded    bool
}

source tickets "tickets.csv" {
  ticket_id    text
  customer_id  text
  staff_id     text  staff
  opened_at    date  time
  closed_at    date
  rating       int
  is_complaint bool
}

source channels "channels.csv" {
  channel  text
  is_paid  bool
}

staff "staff.csv" {
  id          text
  name        text
  role        text
  base_bonus  money
}

set buyers        = orders.customer_id
set loyal         = orders.customer_id over all time having count() >= 3
set new_customers = orders.customer_id over all time having min(paid_at) in period
set prev_buyers   = orders.customer_id where paid_at in previous period over all time
set paid_channels = channels.channel where is_paid
set complainers   = tickets.customer_id where is_complaint over last 3 months
set big_spenders  = orders.customer_id where not refunded having sum(amount) >= 1000 over year to date
"""

# ---- the same sets and aggregates in SQL. Tables (built by LOAD_SQL below):
#   orders(customer_id, staff_id, cents INTEGER, d TEXT date, channel, refunded 0/1/NULL)
#   tickets(customer_id, staff_id, d TEXT date, closed TEXT, rating INTEGER, is_complaint)
#   channels(channel, is_paid)          static: no time column
TIME = {"orders": "d", "tickets": "d", "channels": None}
STAFF_COL = {"orders": "staff_id", "tickets": "staff_id", "channels": None}


def q(day):
    return "'%s'" % day.isoformat()


def in_period(col, P):
    return "(%s >= %s AND %s < %s)" % (col, q(P.start), col, q(P.end))


# A set or distinct(): src, col, optional where(P), having(P), over.
SETS = {
    "buyers": dict(src="orders", col="customer_id"),
    "loyal": dict(src="orders", col="customer_id", over="all", having=lambda P: "COUNT(*) >= 3"),
    "new_customers": dict(src="orders", col="customer_id", over="all",
                          having=lambda P: in_period("MIN(d)", P)),
    "prev_buyers": dict(src="orders", col="customer_id", over="all",
                        where=lambda P: in_period("d", prev(P))),
    "paid_channels": dict(src="channels", col="channel", where=lambda P: "is_paid"),
    "complainers": dict(src="tickets", col="customer_id", over=("months", 3),
                        where=lambda P: "is_complaint"),
    "big_spenders": dict(src="orders", col="customer_id", over="ytd",
                         where=lambda P: "NOT refunded",
                         having=lambda P: "COALESCE(SUM(cents), 0) >= 100000"),
}


def member(col, name, P):
    """`col in NAME`: always the company-wide set."""
    return "%s IN (%s)" % (col, set_select(SETS[name], P))


# Aggregates: kind count|sum|avg|min|max|distinct, src, x (SQL row expression),
# money (x is in cents), date (x is a date), where(P), having(P), over.
AGGS = {
    "n_orders": dict(kind="count", src="orders"),
    "n_paid": dict(kind="count", src="orders", where=lambda P: "NOT refunded"),
    "n_refunded": dict(kind="count", src="orders", where=lambda P: "refunded"),
    "n_ref_or_web": dict(kind="count", src="orders", where=lambda P: "refunded OR channel = 'web'"),
    "n_big_web_app": dict(kind="count", src="orders",
                          where=lambda P: "cents >= 50000 AND channel IN ('web', 'app')"),
    "n_not_loyal": dict(kind="count", src="orders",
                        where=lambda P: "NOT (%s)" % member("customer_id", "loyal", P)),
    "n_paid_channel": dict(kind="count", src="orders",
                           where=lambda P: member("channel", "paid_channels", P)),
    "n_complainer_orders": dict(kind="count", src="orders",
                                where=lambda P: member("customer_id", "complainers", P)),
    "n_all": dict(kind="count", src="orders", over="all"),
    "n_2w": dict(kind="count", src="orders", over=("weeks", 2)),
    "n_1m": dict(kind="count", src="orders", over=("months", 1)),
    "n_prev_where": dict(kind="count", src="orders", over="all",
                         where=lambda P: in_period("d", prev(P))),
    "n_before": dict(kind="count", src="orders", over="all",
                     where=lambda P: "d < %s" % q(P.start)),
    "n_fax": dict(kind="count", src="orders", where=lambda P: "channel = 'fax'"),
    "n_telex": dict(kind="count", src="orders", where=lambda P: "channel = 'telex'"),
    "n_tickets": dict(kind="count", src="tickets"),
    "n_complaints_3m": dict(kind="count", src="tickets", over=("months", 3),
                            where=lambda P: "is_complaint"),
    "n_channels": dict(kind="count", src="channels"),
    "revenue": dict(kind="sum", src="orders", x="cents", money=True, where=lambda P: "NOT refunded"),
    "amount_3m": dict(kind="sum", src="orders", x="cents", money=True, over=("months", 3)),
    "revenue_ytd": dict(kind="sum", src="orders", x="cents", money=True, over="ytd",
                        where=lambda P: "NOT refunded"),
    "web_amount": dict(kind="sum", src="orders", money=True,
                       x="CASE WHEN channel = 'web' THEN cents ELSE 0 END"),
    "rating_sum": dict(kind="sum", src="tickets", x="rating", where=lambda P: "NOT is_complaint"),
    "avg_amount": dict(kind="avg", src="orders", x="cents", money=True),
    "avg_paid_30d": dict(kind="avg", src="orders", x="cents", money=True, over=("days", 30),
                         where=lambda P: "NOT refunded"),
    "min_web": dict(kind="min", src="orders", x="cents", money=True, where=lambda P: "channel = 'web'"),
    "max_refund": dict(kind="max", src="orders", x="cents", money=True, where=lambda P: "refunded"),
    "max_paid_at": dict(kind="max", src="orders", x="d", date=True),
    "min_paid_at_all": dict(kind="min", src="orders", x="d", date=True, over="all"),
    "avg_rating": dict(kind="avg", src="tickets", x="rating"),
    "avg_rating_nc": dict(kind="avg", src="tickets", x="rating", where=lambda P: "NOT is_complaint"),
    "min_rating": dict(kind="min", src="tickets", x="rating"),
    "max_rating_c_ytd": dict(kind="max", src="tickets", x="rating", over="ytd",
                             where=lambda P: "is_complaint"),
    "days_to_close": dict(kind="avg", src="tickets", x="CAST(julianday(closed) - julianday(d) AS INTEGER)"),
    "buyers_n": dict(kind="distinct", src="orders", col="customer_id"),
    "buyers_web_app": dict(kind="distinct", src="orders", col="customer_id",
                           where=lambda P: "channel IN ('web', 'app')"),
    "repeat_buyers": dict(kind="distinct", src="orders", col="customer_id",
                          having=lambda P: "COUNT(*) >= 2"),
    "big_buyers_3m": dict(kind="distinct", src="orders", col="customer_id", over=("months", 3),
                          having=lambda P: "COALESCE(SUM(cents), 0) >= 80000"),
    "mixed_buyers": dict(kind="distinct", src="orders", col="customer_id", over="all",
                         having=lambda P: "MIN(CASE WHEN NOT refunded THEN cents END) < 10000"
                                          " AND MAX(CASE WHEN channel = 'web' THEN cents END) >= 30000"),
    "web_app_spenders_ytd": dict(kind="distinct", src="orders", col="customer_id", over="ytd",
                                 having=lambda P: "COALESCE(SUM(CASE WHEN channel IN ('web', 'app')"
                                                  " THEN cents END), 0) >= 50000 AND COUNT(*) >= 2"),
    "refunders_ytd": dict(kind="distinct", src="orders", col="customer_id", over="ytd",
                          having=lambda P: "SUM(CASE WHEN refunded THEN 1 ELSE 0 END) >= 1"),
    "active_30d": dict(kind="distinct", src="orders", col="customer_id", over=("days", 30)),
    "returning": dict(kind="distinct", src="orders", col="customer_id", over="all",
                      having=lambda P: "SUM(CASE WHEN %s THEN 1 ELSE 0 END) >= 1 AND MIN(d) < %s"
                                       % (in_period("d", P), q(P.start))),
    "recovered": dict(kind="distinct", src="orders", col="customer_id", over="all",
                      having=lambda P: "%s AND julianday(%s) - julianday(MAX(CASE WHEN d < %s THEN d END)) > 60"
                                       % (in_period("MAX(d)", P), q(P.start), q(P.start))),
    "churn_warn_3m": dict(kind="distinct", src="orders", col="customer_id", over=("months", 3),
                          having=lambda P: "julianday(%s) - julianday(MAX(d)) > 30" % q(P.end)),
    "complaining_buyers": dict(kind="distinct", src="tickets", col="customer_id",
                               where=lambda P: member("customer_id", "buyers", P)),
    "consecutive": dict(kind="distinct", src="orders", col="customer_id",
                        where=lambda P: member("customer_id", "prev_buyers", P)),
}
for _name, _set in SETS.items():            # count(SET): the set's definition, per staff
    AGGS["set_" + _name] = dict(_set, kind="distinct")


def set_select(a, P):
    """The company-wide set as a SELECT of its distinct non-null values."""
    conds = filters(a, P) + ["%s IS NOT NULL" % a["col"]]
    sql = "SELECT %s FROM %s WHERE %s GROUP BY %s" % (a["col"], a["src"], " AND ".join(conds), a["col"])
    if "having" in a:
        sql += " HAVING " + a["having"](P)
    return sql


def filters(a, P):
    conds = []
    tcol = TIME[a["src"]]
    if tcol:
        start, end = window(P, a.get("over", "period"))
        conds.append("%s IS NOT NULL AND %s < %s" % (tcol, tcol, q(end)))
        if start is not None:
            conds.append("%s >= %s" % (tcol, q(start)))
    if "where" in a:
        conds.append("(%s)" % a["where"](P))
    return conds or ["1"]


def agg_sql(qid, a, P):
    """One statement: rows (qid, staff, v1, v2) per staff and ('*') for the total."""
    src, scol = a["src"], STAFF_COL[a["src"]]
    conds = " AND ".join(filters(a, P))
    kind = a["kind"]
    if kind == "distinct":
        col = a["col"]
        having = " HAVING " + a["having"](P) if "having" in a else ""
        total = ("SELECT '%s', '*', COUNT(*), NULL FROM (SELECT %s FROM %s WHERE %s AND %s IS NOT NULL"
                 " GROUP BY %s%s)" % (qid, col, src, conds, col, col, having))
        per = ("SELECT '%s', %s, COUNT(*), NULL FROM (SELECT %s, %s FROM %s WHERE %s AND %s IS NOT NULL"
               " AND %s IS NOT NULL GROUP BY %s, %s%s) GROUP BY %s"
               % (qid, scol, scol, col, src, conds, col, scol, scol, col, having, scol)) if scol else None
    else:
        x = a.get("x")
        v = {"count": "COUNT(*), NULL", "sum": "COALESCE(SUM(%s), 0), NULL" % x,
             "avg": "SUM(%s), COUNT(%s)" % (x, x), "min": "MIN(%s), NULL" % x,
             "max": "MAX(%s), NULL" % x}[kind]
        total = "SELECT '%s', '*', %s FROM %s WHERE %s" % (qid, v, src, conds)
        per = ("SELECT '%s', %s, %s FROM %s WHERE %s AND %s IS NOT NULL GROUP BY %s"
               % (qid, scol, v, src, conds, scol, scol)) if scol else None
    return (total + (" UNION ALL " + per if per else "")) + ";"


BOOL = ("CASE lower({0}) WHEN 'true' THEN 1 WHEN '1' THEN 1 WHEN 'yes' THEN 1 WHEN 'false' THEN 0"
        " WHEN '0' THEN 0 WHEN 'no' THEN 0 END")
LOAD_SQL = """\
.bail on
.mode csv
.import orders.csv raw_orders
.import tickets.csv raw_tickets
.import channels.csv raw_channels
CREATE TABLE orders AS SELECT
  NULLIF(customer_id, '') AS customer_id, NULLIF(staff_id, '') AS staff_id,
  CASE WHEN amount = '' THEN NULL ELSE CAST(ROUND(CAST(amount AS REAL) * 100) AS INTEGER) END AS cents,
  CASE WHEN paid_at = '' THEN NULL ELSE substr(paid_at, 1, 10) END AS d,
  NULLIF(channel, '') AS channel, %s AS refunded FROM raw_orders;
CREATE TABLE tickets AS SELECT
  NULLIF(customer_id, '') AS customer_id, NULLIF(staff_id, '') AS staff_id,
  CASE WHEN opened_at = '' THEN NULL ELSE substr(opened_at, 1, 10) END AS d,
  NULLIF(closed_at, '') AS closed,
  CASE WHEN rating = '' THEN NULL ELSE CAST(rating AS INTEGER) END AS rating,
  %s AS is_complaint FROM raw_tickets;
CREATE TABLE channels AS SELECT NULLIF(channel, '') AS channel, %s AS is_paid FROM raw_channels;
""" % (BOOL.format("refunded"), BOOL.format("is_complaint"), BOOL.format("is_paid"))

# --------------------------------------------------------------------------- periods


class Period:
    def __init__(self, grain, start):
        self.grain, self.start = grain, start
        if grain == "day":
            self.end = start + ONE_DAY
        elif grain == "week":
            self.end = start + 7 * ONE_DAY
        else:
            months = {"month": 1, "quarter": 3, "year": 12}[grain]
            self.end = shift_months(start, months)

    def __eq__(self, other):
        return (self.grain, self.start) == (other.grain, other.start)

    def __hash__(self):
        return hash((self.grain, self.start))

    def label(self):
        s = self.start
        if self.grain == "day":
            return s.isoformat()
        if self.grain == "week":
            y, w, _ = s.isocalendar()
            return "%04d-W%02d" % (y, w)
        if self.grain == "month":
            return "%04d-%02d" % (s.year, s.month)
        if self.grain == "quarter":
            return "%04d-Q%d" % (s.year, (s.month - 1) // 3 + 1)
        return "%04d" % s.year


def shift_months(day, k):
    m = day.month - 1 + k
    y, m = day.year + m // 12, m % 12 + 1
    return D(y, m, min(day.day, calendar.monthrange(y, m)[1]))


def period_of(grain, day):
    if grain == "day":
        return Period(grain, day)
    if grain == "week":
        return Period(grain, day - day.weekday() * ONE_DAY)
    if grain == "month":
        return Period(grain, D(day.year, day.month, 1))
    if grain == "quarter":
        return Period(grain, D(day.year, (day.month - 1) // 3 * 3 + 1, 1))
    return Period(grain, D(day.year, 1, 1))


def parse_period(grain, text):
    if grain == "week":
        y, w = text.split("-W")
        return Period(grain, D.fromisocalendar(int(y), int(w), 1))
    if grain == "quarter":
        y, n = text.split("-Q")
        return Period(grain, D(int(y), 3 * int(n) - 2, 1))
    parts = [int(p) for p in text.split("-")] + [1, 1]
    return period_of(grain, D(parts[0], parts[1], parts[2]))


def parse_periods(grain, arg):
    first, _, last = arg.partition("..")
    p, stop = parse_period(grain, first), parse_period(grain, last or first)
    out = [p]
    while out[-1] != stop:
        out.append(period_of(grain, out[-1].end))
    return out


def prev(P):
    return period_of(P.grain, P.start - ONE_DAY)


def last_year(P):
    s = P.start
    if P.grain == "week":
        y, w, _ = s.isocalendar()
        if w == 53 and D(y - 1, 12, 28).isocalendar()[1] != 53:
            w = 52
        return Period("week", D.fromisocalendar(y - 1, w, 1))
    if s.month == 2 and s.day == 29:
        return Period(P.grain, D(s.year - 1, 2, 28))
    return Period(P.grain, s.replace(year=s.year - 1))


def window(P, over):
    """[start, end) of a window (start None: no start), docs/language.md §4–5."""
    end = P.end
    if over == "period":
        return P.start, end
    if over == "all":
        return None, end
    if over == "ytd":
        return D(P.start.year, 1, 1), end
    unit, n = over
    if unit == "days":
        return end - n * ONE_DAY, end
    if unit == "weeks":
        return end - 7 * n * ONE_DAY, end
    return shift_months(end, -n), end

# --------------------------------------------------------------------------- expected values
# Values: None (null), int / Fraction (numbers, money in currency units), date.


class Expected:
    def __init__(self, sqlite_run):
        self.results = {}          # (agg, period) -> {staff or '*': (v1, v2)}
        self.missing = set()
        self.sqlite_run = sqlite_run
        self.indicators = {}

    def agg(self, name, P, s):
        key = (name, P)
        if key not in self.results:
            self.missing.add(key)
            return None
        a = AGGS[name]
        row = self.results[key].get("*" if s is None else s)
        if row is None:            # this staff member has no rows in the group
            return 0 if a["kind"] in ("count", "sum", "distinct") else None
        v1, v2 = row
        if v1 is None:
            return None
        if a.get("date"):
            return D.fromisoformat(v1)
        scale = 100 if a.get("money") else 1
        if a["kind"] == "avg":
            return Fraction(int(v1), int(v2) * scale)
        return Fraction(int(v1), scale)

    def ind(self, name, P, s):
        per_staff, fn = self.indicators[name][2], self.indicators[name][4]
        return fn(self, P, s if per_staff else None)

    def fill(self):
        """Runs every missing aggregate query in one sqlite3 process."""
        keys = sorted(self.missing, key=lambda k: (k[0], k[1].start))
        self.missing = set()
        ids = {"q%d" % i: k for i, k in enumerate(keys)}
        sql = "\n".join(agg_sql(qid, AGGS[k[0]], k[1]) for qid, k in ids.items())
        for qid, staff_id, v1, v2 in self.sqlite_run(sql):
            self.results.setdefault(ids[qid], {})[staff_id] = (v1, v2)
        for k in keys:
            self.results.setdefault(k, {})


def nul(*xs):
    return any(x is None for x in xs)


def sub(a, b):
    return None if nul(a, b) else a - b


def div(a, b):
    return None if nul(a, b) or b == 0 else Fraction(a) / Fraction(b)


def cmp(a, op, b):
    if nul(a, b):
        return None
    return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b, "=": a == b}[op]


def min_(a, b):
    return None if nul(a, b) else min(a, b)


def abs_(a):
    return None if a is None else abs(a)


def neg(a):
    return None if a is None else -a


def if_(c, a, b):
    return a if c else b            # null condition: the else branch, as SQL CASE


def days(a, b):
    return None if nul(a, b) else (b - a).days


def round_half_away(x, places):
    """A Fraction rounded half away from zero to `places` decimals, as a Decimal."""
    n = abs(Fraction(x)) * 10 ** places
    r = int(n) + (1 if n - int(n) >= Fraction(1, 2) else 0)
    return Decimal(r if x >= 0 else -r).scaleb(-places)


# (name, unit, per staff, kpic expression, expected value as a function of (E, P, s))
INDICATORS = [
    # ---- count, with where (null rules: not / or / in on null cells), windows
    ("n_orders", "count", True, "count(orders)", lambda E, P, s: E.agg("n_orders", P, s)),
    ("n_paid", "count", True, "count(orders where not refunded)", lambda E, P, s: E.agg("n_paid", P, s)),
    ("n_ref_or_web", "count", True, 'count(orders where refunded or channel = "web")',
     lambda E, P, s: E.agg("n_ref_or_web", P, s)),
    ("n_big_web_app", "count", True, 'count(orders where amount >= 500 and channel in ("web", "app"))',
     lambda E, P, s: E.agg("n_big_web_app", P, s)),
    ("n_not_loyal", "count", True, "count(orders where not (customer_id in loyal))",
     lambda E, P, s: E.agg("n_not_loyal", P, s)),
    ("n_paid_channel", "count", True, "count(orders where channel in paid_channels)",
     lambda E, P, s: E.agg("n_paid_channel", P, s)),
    ("n_complainer_orders", "count", True, "count(orders where customer_id in complainers)",
     lambda E, P, s: E.agg("n_complainer_orders", P, s)),
    ("n_all", "count", True, "count(orders over all time)", lambda E, P, s: E.agg("n_all", P, s)),
    ("n_2w", "count", True, "count(orders over last 2 weeks)", lambda E, P, s: E.agg("n_2w", P, s)),
    ("n_1m", "count", True, "count(orders over last 1 month)", lambda E, P, s: E.agg("n_1m", P, s)),
    ("n_prev_where", "count", True, "count(orders where paid_at in previous period over all time)",
     lambda E, P, s: E.agg("n_prev_where", P, s)),
    ("n_before", "count", False, "count(orders over all time where paid_at before period)",
     lambda E, P, s: E.agg("n_before", P, s)),
    ("n_tickets", "count", True, "count(tickets)", lambda E, P, s: E.agg("n_tickets", P, s)),
    ("n_complaints_3m", "count", True, "count(tickets where is_complaint over last 3 months)",
     lambda E, P, s: E.agg("n_complaints_3m", P, s)),
    ("n_channels", "count", False, "count(channels)", lambda E, P, s: E.agg("n_channels", P, s)),
    # ---- sum / avg / min / max of money, int and dates, with where and windows
    ("revenue", "money", True, "sum(orders.amount where not refunded)",
     lambda E, P, s: E.agg("revenue", P, s)),
    ("company_revenue", "money", False, "sum(orders.amount where not refunded)",
     lambda E, P, s: E.agg("revenue", P, None)),
    ("amount_3m", "money", True, "sum(orders.amount over last 3 months)",
     lambda E, P, s: E.agg("amount_3m", P, s)),
    ("revenue_ytd", "money", True, "sum(orders.amount where not refunded over year to date)",
     lambda E, P, s: E.agg("revenue_ytd", P, s)),
    ("web_amount", "money", True, 'sum(if orders.channel = "web" then orders.amount else 0)',
     lambda E, P, s: E.agg("web_amount", P, s)),
    ("rating_sum", "number", True, "sum(tickets.rating where not is_complaint)",
     lambda E, P, s: E.agg("rating_sum", P, s)),
    ("avg_amount", "money", True, "avg(orders.amount)", lambda E, P, s: E.agg("avg_amount", P, s)),
    ("avg_paid_30d", "money", True, "avg(orders.amount where not refunded over last 30 days)",
     lambda E, P, s: E.agg("avg_paid_30d", P, s)),
    ("min_web", "money", True, 'min(orders.amount where channel = "web")',
     lambda E, P, s: E.agg("min_web", P, s)),
    ("max_refund", "money", True, "max(orders.amount where refunded)",
     lambda E, P, s: E.agg("max_refund", P, s)),
    ("avg_rating", "number", True, "avg(tickets.rating)", lambda E, P, s: E.agg("avg_rating", P, s)),
    ("avg_rating_nc", "number", True, "round(avg(tickets.rating where not is_complaint), 2)",
     lambda E, P, s: (lambda v: None if v is None else Fraction(round_half_away(v, 2)))(
         E.agg("avg_rating_nc", P, s))),
    ("min_rating", "number", True, "min(tickets.rating)", lambda E, P, s: E.agg("min_rating", P, s)),
    ("max_rating_c_ytd", "number", True, "max(tickets.rating where is_complaint over year to date)",
     lambda E, P, s: E.agg("max_rating_c_ytd", P, s)),
    ("days_to_close", "days", True, "avg(days(tickets.opened_at, tickets.closed_at))",
     lambda E, P, s: E.agg("days_to_close", P, s)),
    ("last_order_gap", "days", True, "days(max(orders.paid_at), period.end)",
     lambda E, P, s: days(E.agg("max_paid_at", P, s), P.end)),
    ("first_order_gap", "days", True, "days(period.start, min(orders.paid_at over all time))",
     lambda E, P, s: days(P.start, E.agg("min_paid_at_all", P, s))),
    # ---- distinct, with where, having (count/sum/min/max with their own where), windows
    ("buyers_n", "count", True, "distinct(orders.customer_id)", lambda E, P, s: E.agg("buyers_n", P, s)),
    ("buyers_web_app", "count", True, 'distinct(orders.customer_id where channel in ("web", "app"))',
     lambda E, P, s: E.agg("buyers_web_app", P, s)),
    ("repeat_buyers", "count", True, "distinct(orders.customer_id having count() >= 2)",
     lambda E, P, s: E.agg("repeat_buyers", P, s)),
    ("big_buyers_3m", "count", True,
     "distinct(orders.customer_id having sum(amount) >= 800 over last 3 months)",
     lambda E, P, s: E.agg("big_buyers_3m", P, s)),
    ("mixed_buyers", "count", True,
     "distinct(orders.customer_id over all time\n"
     '             having min(amount where not refunded) < 100 and max(amount where channel = "web") >= 300)',
     lambda E, P, s: E.agg("mixed_buyers", P, s)),
    ("web_app_spenders_ytd", "count", True,
     "distinct(orders.customer_id over year to date\n"
     '             having sum(amount where channel in ("web", "app")) >= 500 and count() >= 2)',
     lambda E, P, s: E.agg("web_app_spenders_ytd", P, s)),
    ("refunders_ytd", "count", True,
     "distinct(orders.customer_id over year to date having count(where refunded) >= 1)",
     lambda E, P, s: E.agg("refunders_ytd", P, s)),
    ("active_30d", "count", True, "distinct(orders.customer_id over last 30 days)",
     lambda E, P, s: E.agg("active_30d", P, s)),
    ("returning", "count", True,
     "distinct(orders.customer_id over all time\n"
     "             having count(where paid_at in period) >= 1 and min(paid_at) before period)",
     lambda E, P, s: E.agg("returning", P, s)),
    ("recovered", "count", True,
     "distinct(orders.customer_id over all time\n"
     "             having max(paid_at) in period\n"
     "                and days(max(paid_at where paid_at before period), period.start) > 60)",
     lambda E, P, s: E.agg("recovered", P, s)),
    ("churn_warn_3m", "count", True,
     "distinct(orders.customer_id over last 3 months having days(max(paid_at), period.end) > 30)",
     lambda E, P, s: E.agg("churn_warn_3m", P, s)),
    ("complaining_buyers", "count", True, "distinct(tickets.customer_id where customer_id in buyers)",
     lambda E, P, s: E.agg("complaining_buyers", P, s)),
    ("consecutive", "count", True, "distinct(orders.customer_id where customer_id in prev_buyers)",
     lambda E, P, s: E.agg("consecutive", P, s)),
    # ---- count(SET): per staff it is the set's definition grouped by staff
    ("new_customer_n", "count", True, "count(new_customers)", lambda E, P, s: E.agg("set_new_customers", P, s)),
    ("new_customer_total", "count", False, "count(new_customers)",
     lambda E, P, s: E.agg("set_new_customers", P, None)),
    ("prev_buyers_n", "count", True, "count(prev_buyers)", lambda E, P, s: E.agg("set_prev_buyers", P, s)),
    ("loyal_n", "count", True, "count(loyal)", lambda E, P, s: E.agg("set_loyal", P, s)),
    ("big_spender_n", "count", True, "count(big_spenders)", lambda E, P, s: E.agg("set_big_spenders", P, s)),
    ("complainers_n", "count", True, "count(complainers)", lambda E, P, s: E.agg("set_complainers", P, s)),
    ("paid_channel_n", "count", False, "count(paid_channels)",
     lambda E, P, s: E.agg("set_paid_channels", P, None)),
    # ---- ratios; division by zero is null
    ("refund_rate", "percent", True, "count(orders where refunded) / n_orders",
     lambda E, P, s: div(E.agg("n_refunded", P, s), E.ind("n_orders", P, s))),
    ("repurchase_rate", "percent", True, "repeat_buyers / buyers_n",
     lambda E, P, s: div(E.ind("repeat_buyers", P, s), E.ind("buyers_n", P, s))),
    ("revenue_share", "percent", True, "revenue / company_revenue",
     lambda E, P, s: div(E.ind("revenue", P, s), E.ind("company_revenue", P, s))),
    ("avg_order_value", "money", True, "revenue / n_paid",
     lambda E, P, s: div(E.ind("revenue", P, s), E.ind("n_paid", P, s))),
    ("zero_div", "ratio", True, 'count(orders where channel = "fax") / count(orders where channel = "telex")',
     lambda E, P, s: div(E.agg("n_fax", P, s), E.agg("n_telex", P, s))),
    ("churn_rate", "percent", False,
     "(count(prev_buyers) - distinct(orders.customer_id where customer_id in prev_buyers))\n"
     "    / count(prev_buyers)",
     lambda E, P, s: div(sub(E.agg("set_prev_buyers", P, None), E.agg("consecutive", P, None)),
                         E.agg("set_prev_buyers", P, None))),
    ("amount_3m_ratio", "ratio", True, "amount_3m / previous(amount_3m)",
     lambda E, P, s: div(E.ind("amount_3m", P, s), E.ind("amount_3m", prev(P), s))),
    # ---- previous() and last_year(), nested and inside expressions
    ("revenue_prev", "money", True, "previous(revenue)", lambda E, P, s: E.ind("revenue", prev(P), s)),
    ("revenue_growth", "percent", True, "revenue / previous(revenue) - 1",
     lambda E, P, s: sub(div(E.ind("revenue", P, s), E.ind("revenue", prev(P), s)), 1)),
    ("orders_prev2", "count", True, "previous(previous(n_orders))",
     lambda E, P, s: E.ind("n_orders", prev(prev(P)), s)),
    ("orders_ly", "count", True, "last_year(n_orders)", lambda E, P, s: E.ind("n_orders", last_year(P), s)),
    ("yoy", "percent", False, "company_revenue / last_year(company_revenue) - 1",
     lambda E, P, s: sub(div(E.ind("company_revenue", P, s), E.ind("company_revenue", last_year(P), s)), 1)),
    ("revenue_vs_ly", "money", True, "revenue - last_year(revenue)",
     lambda E, P, s: sub(E.ind("revenue", P, s), E.ind("revenue", last_year(P), s))),
    ("ly_prev_active", "count", True, "last_year(previous(distinct(orders.customer_id over last 30 days)))",
     lambda E, P, s: E.agg("active_30d", prev(last_year(P)), s)),
    ("prev_new_customers", "count", False, "previous(count(new_customers))",
     lambda E, P, s: E.agg("set_new_customers", prev(P), None)),
    ("prev_returning", "count", True, "previous(returning)",
     lambda E, P, s: E.ind("returning", prev(P), s)),
    # ---- period.start / period.end, days(), if / then / else, min / max / abs, unary minus
    ("period_days", "days", False, "days(period.start, period.end)", lambda E, P, s: (P.end - P.start).days),
    ("tier", "number", True, "if n_orders >= 20 then 2 else if n_orders > 0 then 1 else 0",
     lambda E, P, s: if_(cmp(E.ind("n_orders", P, s), ">=", 20), 2,
                         if_(cmp(E.ind("n_orders", P, s), ">", 0), 1, 0))),
    ("safe_aov", "money", True, "if n_paid > 0 then revenue / n_paid else 0",
     lambda E, P, s: if_(cmp(E.ind("n_paid", P, s), ">", 0),
                         div(E.ind("revenue", P, s), E.ind("n_paid", P, s)), 0)),
    ("rated_well", "number", True, "if avg_rating >= 3 then 1 else 0",
     lambda E, P, s: if_(cmp(E.ind("avg_rating", P, s), ">=", 3), 1, 0)),
    ("capped_orders", "count", True, "min(n_orders, 10)",
     lambda E, P, s: min_(E.ind("n_orders", P, s), 10)),
    ("abs_change", "money", True, "abs(revenue - previous(revenue))",
     lambda E, P, s: abs_(sub(E.ind("revenue", P, s), E.ind("revenue", prev(P), s)))),
    ("neg_revenue", "money", True, "-revenue", lambda E, P, s: neg(E.ind("revenue", P, s))),
]


def spec_text(grain):
    out = [SPEC_HEAD.replace("GRAIN", grain)]
    for name, unit, per_staff, expr, _ in INDICATORS:
        out.append("indicator %s %s%s\n  = %s\n" % (name, unit, " per staff" if per_staff else "", expr))
    return "\n".join(out)

# --------------------------------------------------------------------------- comparison


def close(expected, got):
    e, g = float(expected), float(got)
    return abs(e - g) <= 1e-9 * max(abs(e), abs(g)) or e == g


def compare(unit, expected, got):
    """None when equal, else a reason."""
    if expected is None or got is None:
        return None if expected is None and got is None else "null mismatch"
    if isinstance(got, bool) or not isinstance(got, (int, Decimal)):
        return "not a number"
    expected = Fraction(expected)
    if unit == "money":
        want = round_half_away(expected, 2)
        return None if Decimal(got) == want else "money differs (expected %s)" % want
    if unit in ("percent", "ratio"):
        return None if close(expected, got) else "ratio differs"
    if expected.denominator == 1:              # counts, sums of int, min/max, whole days
        return None if Decimal(got) == expected.numerator else "differs"
    if unit == "count":
        return "expected value is not whole"
    return None if close(expected, got) else "differs"


def show(v):
    if v is None:
        return "null"
    if isinstance(v, Fraction):
        return str(v.numerator) if v.denominator == 1 else "%s (=%.17g)" % (v, float(v))
    return str(v)

# --------------------------------------------------------------------------- main


def main():
    if not shutil.which("sqlite3"):
        print("FAIL: the sqlite3 command-line tool is not installed (Debian package sqlite3)")
        print("0 passed, 1 failed")
        return 1
    keep = os.environ.get("KPIC_DIFF_KEEP")
    tmp = tempfile.mkdtemp(prefix="kpic-diff-")
    folder = keep or tmp
    os.makedirs(folder, exist_ok=True)
    try:
        return run(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


RUNS = [  # (grain, --period): the contract's cases first, then period boundaries of other grains
    ("month", "2025-05"),
    ("month", "2025-01..2025-03"),          # previous() across the year change
    ("month", "2024-02..2024-03"),          # leap February; last_year of it
    ("week", "2025-W01"),                   # starts 2024-12-30: year to date from 2024-01-01
    ("week", "2025-W13..2025-W14"),         # last 1 month from 2025-03-31 clamps to 02-28
    ("week", "2026-W53"),                   # no data; last_year() is 2025-W52
    ("day", "2024-02-29..2024-03-01"),      # leap day: last_year() is 2023-02-28; previous()
    ("day", "2024-03-30"),                  # last 1 month from 2024-03-31 clamps to 02-29
    ("quarter", "2025-Q1"),
    ("year", "2025"),
]

# The whole spec has cycles between sources (orders tests the set `complainers` of
# tickets, tickets the set `buyers` of orders; orders tests its own `loyal`), so the
# planner reads some files twice. These indicators alone let it give each source one
# level -- channels, then orders, then tickets -- and read each once (src/ir/plan.c
# schedule_by_source): the same figures must come out of that schedule.
ONE_LEVEL_PER_SOURCE = ["n_paid_channel", "complaining_buyers", "n_orders", "revenue",
                        "buyers_n", "n_tickets"]
SUBSET_RUNS = [("month", "2025-05"), ("week", "2025-W13..2025-W14")]


def run(folder):
    generate(folder)
    db = os.path.join(folder, "diff.sqlite")
    if os.path.exists(db):
        os.remove(db)
    p = subprocess.run(["sqlite3", db], input=LOAD_SQL, text=True, capture_output=True,
                       cwd=folder, timeout=120)
    if p.returncode != 0:
        print("FAIL: sqlite3 could not load the data:", p.stderr.strip())
        print("0 passed, 1 failed")
        return 1

    def sqlite_run(sql):
        script = ".bail on\n.mode csv\n.nullvalue NULL\n" + sql + "\n"
        with open(os.path.join(folder, "last-query.sql"), "w", encoding="utf-8") as f:
            f.write(script)
        r = subprocess.run(["sqlite3", "-readonly", db], input=script, text=True,
                           capture_output=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError("sqlite3 failed: " + r.stderr.strip())
        return [[None if c == "NULL" else c for c in row] for row in csv.reader(r.stdout.splitlines())]

    passed = failed = 0
    known = {i[0] for i in INDICATORS}
    missing = [n for n in ONE_LEVEL_PER_SOURCE if n not in known]
    if missing:
        raise RuntimeError("ONE_LEVEL_PER_SOURCE names unknown indicators: %s" % missing)
    runs = [(g, a, None) for g, a in RUNS] + [(g, a, ONE_LEVEL_PER_SOURCE) for g, a in SUBSET_RUNS]
    for grain, arg, subset in runs:
        spec = os.path.join(folder, "diff-%s.kpi" % grain)
        with open(spec, "w", encoding="utf-8") as f:
            f.write(spec_text(grain))
        cmd = [KPIC, "eval", spec, "--period", arg, "--format", "json", "--quiet"]
        for name in subset or []:
            cmd += ["--indicator", name]
        p = subprocess.run(cmd, capture_output=True, timeout=120)
        label = "[%s %s%s]" % (grain, arg, " subset" if subset else "")
        if p.returncode != 0:
            failed += 1
            print("FAIL %s: kpic eval exited %d: %s" % (label, p.returncode,
                                                        p.stderr.decode("utf-8", "replace").strip()[:2000]))
            continue
        out_path = os.path.join(folder, "eval-%s-%s.json" % (grain, arg))
        with open(out_path, "wb") as f:
            f.write(p.stdout)
        try:
            doc = json.loads(p.stdout, parse_float=Decimal)
        except ValueError as e:
            failed += 1
            print("FAIL %s: output is not JSON: %s" % (label, e))
            continue

        periods = parse_periods(grain, arg)
        labels = [P.label() for P in periods]
        if doc.get("periods") != labels:
            failed += 1
            print("FAIL %s: periods %s, expected %s" % (label, doc.get("periods"), labels))
        else:
            passed += 1

        E = Expected(sqlite_run)
        E.indicators = {i[0]: i for i in INDICATORS}
        wanted = [i for i in INDICATORS if subset is None or i[0] in subset]
        got = {ind.get("name"): ind for ind in doc.get("indicators", [])}
        roster = [r[0] for r in ROSTER]

        def expected_all():
            table = {}
            for name, unit, per_staff, _, fn in wanted:
                for P in periods:
                    table[(name, P, None)] = fn(E, P, None)
                    if per_staff:
                        for sid in roster:
                            table[(name, P, sid)] = fn(E, P, sid)
            return table

        for _ in range(10):          # each round adds the aggregates newly found to be needed
            table = expected_all()
            if not E.missing:
                break
            E.fill()
        else:
            raise RuntimeError("expected values did not settle")

        if subset is not None and sorted(got) != sorted(subset):
            failed += 1
            print("FAIL %s: indicators %s, expected %s" % (label, sorted(got), sorted(subset)))
        for name, unit, per_staff, _, _ in wanted:
            ind = got.get(name)
            if ind is None:
                failed += 1
                print("FAIL %s %s: missing from the output" % (label, name))
                continue
            if ind.get("unit") != unit:
                failed += 1
                print("FAIL %s %s: unit %r, expected %r" % (label, name, ind.get("unit"), unit))
            values = {v.get("period"): v for v in ind.get("values", [])}
            for P in periods:
                v = values.get(P.label())
                if v is None:
                    failed += 1
                    print("FAIL %s %s %s: no values for the period" % (label, name, P.label()))
                    continue
                cells = [("total", table[(name, P, None)], v.get("total"))]
                staff = v.get("staff")
                if per_staff:
                    if not isinstance(staff, dict):
                        failed += 1
                        print("FAIL %s %s %s: no per-staff values" % (label, name, P.label()))
                        staff = {}
                    extra = sorted(set(staff) - set(roster))
                    if extra:
                        failed += 1
                        print("FAIL %s %s %s: staff not on the roster: %s"
                              % (label, name, P.label(), ", ".join(extra)))
                    for sid in roster:
                        cells.append((sid, table[(name, P, sid)], staff.get(sid, "<absent>")))
                elif staff is not None:
                    failed += 1
                    print("FAIL %s %s %s: a team-wide indicator has per-staff values"
                          % (label, name, P.label()))
                for who, want, have in cells:
                    why = "absent" if have == "<absent>" else compare(unit, want, have)
                    if why is None:
                        passed += 1
                    else:
                        failed += 1
                        print("FAIL %s %s %s %s: kpic %s, sqlite %s (%s)"
                              % (label, name, P.label(), who, "null" if have is None else have,
                                 show(want), why))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
