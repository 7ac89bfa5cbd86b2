#!/usr/bin/env python3
"""End-to-end test of `kpic score` and `kpic explain` on the example spec (issue 5).

Scores kpi-specs/user-ops.kpi for 2025-05 in every format and checks:
  * json: parses; the keys of docs/json.md at every level; spec_sha256 is the SHA-256
    of the spec file; every source's sha256 and rows match the file; every roster row
    is either a statement or unscored (never dropped); the outcomes kpi-specs/README.md
    promises (s05 gate fails -> bonus 0; s19 prorated 20/31 with content_reach dropped
    under `missing skip`; s24 prorated 19/31; s28 project_delay_days dropped; s29 and
    s30 unscored with their reasons); score = sum of weighted; weights of kept kpis
    sum to 1; bonus has 2 decimals in the JSON text;
  * csv: the exact header, the same column count on every row, a row per statement
    kpi and per unscored roster row; --bom adds exactly a UTF-8 BOM;
  * table and md: non-empty, every staff id present;
  * html: parses with html.parser, balanced tags, no script, no external URL in any
    src/href (nothing from the network), inline SVG present;
  * the same input gives byte-identical output (twice, each format);
  * -o FILE writes the file; a failing run (bad data) with -o pointing at an existing
    file leaves it untouched and leaves no temporary file behind;
  * a range 2025-04..2025-05 gives statements for both periods;
  * explain: the chain for s19 (formula, rows, previous() period, rescaled weights,
    bonus filled in), an unknown staff id is exit 2 with a suggestion;
  * --adjustments: the file's SHA-256 among the sources, the adjusted bonuses and
    totals, the reason in every format, a bad file writes nothing.

usage: test_score.py KPIC   (run from the repository root; ctest does that)
"""
import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal
from html.parser import HTMLParser

KPIC = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build/kpic"
SPEC = "kpi-specs/user-ops.kpi"
PERIOD = "2025-05"
HEADER = ("period,staff_id,name,role,kpi,value,target,comparator,achievement,points,weight,weighted,score,bonus,"
          "status,employed,missing,gates,notes,skipped")

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(*args, ok=True):
    p = subprocess.run([KPIC, *args], capture_output=True)
    if ok and p.returncode != 0:
        print(p.stderr.decode("utf-8", "replace"))
        raise SystemExit(f"kpic {' '.join(args)} exited {p.returncode}")
    return p


def score(fmt, *extra):
    return run("score", SPEC, "--period", PERIOD, "--format", fmt, *extra).stdout


def roster():
    with open("kpi-specs/data/staff.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# ---------------------------------------------------------------------------- json

def test_json():
    text = score("json").decode("utf-8")
    data = json.loads(text, parse_float=Decimal)
    check(set(data) >= {"spec", "spec_sha256", "periods", "sources", "statements", "unscored"},
          f"json top-level keys {sorted(data)}")
    check(data["spec"] == SPEC, "json spec is the path as given")
    with open(SPEC, "rb") as f:
        check(data["spec_sha256"] == hashlib.sha256(f.read()).hexdigest(), "spec_sha256 is the file's SHA-256")
    check(data["periods"] == [PERIOD], "periods")
    names = set()
    for src in data["sources"]:
        check(set(src) == {"name", "path", "sha256", "rows", "skipped"}, f"source keys {sorted(src)}")
        names.add(src["name"])
        with open(src["path"], "rb") as f:
            raw = f.read()
        check(src["sha256"] == hashlib.sha256(raw).hexdigest(), f"sha256 of {src['path']}")
        # channels.csv is a GBK export; its sha256 is still of the bytes on disk
        encoding = "gbk" if src["name"] == "channels" else "utf-8"
        lines = [l for l in raw.decode(encoding).split("\n")[1:] if l.strip()]
        if src["name"] in ("staff", "channels", "projects"):  # no quoted line breaks there
            check(src["rows"] == len(lines), f"rows of {src['name']}: {src['rows']} vs {len(lines)}")
        check(src["skipped"] == 0, f"skipped of {src['name']}")
    check("staff" in names and "orders" in names, "sources include the roster and orders")

    kpi_keys = {"indicator", "value", "target", "comparator", "achievement", "points", "weight",
                "weighted", "missing", "dropped", "missing_reason"}
    by_id = {}
    for st in data["statements"]:
        check(set(st) == {"period", "staff_id", "name", "role", "kpis", "score", "gates", "bonus",
                          "gates_passed", "employed", "employed_days", "period_days", "notes"},
              f"statement keys {sorted(st)}")
        check(st["gates_passed"] == all(g["passed"] for g in st["gates"]), "gates_passed is every gate passed")
        check(Decimal(st["employed"]) == (Decimal(st["employed_days"]) / st["period_days"]).quantize(Decimal("0.000001")),
              f"{st['staff_id']}: employed is employed_days / period_days")
        by_id[st["staff_id"]] = st
        kept = Decimal(0)
        total = Decimal(0)
        for k in st["kpis"]:
            check(set(k) == kpi_keys, f"kpi keys {sorted(k)}")
            check(k["comparator"] in (">=", "<=", None), "comparator")
            check(isinstance(k["missing"], bool), "missing is a bool")
            check((k["missing_reason"] is not None) == k["missing"], "a missing kpi says why, only it")
            kept += Decimal(k["weight"])
            total += Decimal(k["weighted"])
            if k["achievement"] is not None:
                check(abs(Decimal(k["achievement"]).as_tuple().exponent) <= 4, "achievement has <= 4 places")
        check(abs(kept - 1) < Decimal("0.00001"), f"{st['staff_id']}: weights sum to 1 ({kept})")
        if st["score"] is not None:
            check(abs(total - Decimal(st["score"])) <= Decimal("0.01") * len(st["kpis"]),
                  f"{st['staff_id']}: score {st['score']} = sum of weighted {total}")
        for g in st["gates"]:
            check(set(g) == {"condition", "passed", "values", "result"}, "gate keys")
            check(g["passed"] == (g["result"] is True), "a gate passes when its condition is true")
    for u in data["unscored"]:
        check({"staff_id", "role", "reason"} <= set(u), f"unscored keys {sorted(u)}")
    # bonus written with exactly two decimals, as money is paid
    for m in re.finditer(r'"bonus": ([^,}\s]+)', text):
        check(m.group(1) == "null" or re.fullmatch(r"-?\d+\.\d\d", m.group(1)), f"bonus text {m.group(1)}")

    # every roster row: a statement or unscored, never dropped
    ids = [r["id"] for r in roster()]
    unscored = {u["staff_id"]: u for u in data["unscored"]}
    for i in ids:
        check((i in by_id) != (i in unscored), f"{i} is exactly one of scored / unscored")
    check([s["staff_id"] for s in data["statements"]] == [i for i in ids if i in by_id], "roster order")

    # the outcomes kpi-specs/README.md lists for 2025-05
    s05 = by_id["s05"]
    check(any(not g["passed"] for g in s05["gates"]) and Decimal(s05["bonus"]) == 0, "s05: gate fails, bonus 0")
    check(any(n.startswith("gate failed: ") for n in s05["notes"]), "s05: the notes say which gate failed")
    s19 = by_id["s19"]
    reach = [k for k in s19["kpis"] if k["indicator"] == "content_reach"][0]
    check(reach["missing"] and reach["weight"] == 0 and reach["achievement"] is None,
          "s19: content_reach missing and dropped")
    base = Decimal("5000.00")
    for sid, days in (("s19", 20), ("s24", 19)):
        st = by_id[sid]
        # bonus = base * (1 + adjust(score)) * days/31, with adjust from lib/scales.kpi
        sc = Decimal(st["score"])
        adj = (Decimal("-0.5") if sc < 60 else Decimal("-0.2") if sc < 80 else Decimal(0) if sc < 100
               else Decimal("0.1") if sc < 120 else Decimal("0.2"))
        want = (base * (1 + adj) * days / 31).quantize(Decimal("0.01"))
        check(Decimal(st["bonus"]) == want, f"{sid}: bonus {st['bonus']} is prorated {days}/31 ({want})")
        check(f"employed {days}/31" in st["notes"], f"{sid}: the notes say the bonus is prorated")
    s28 = by_id["s28"]
    delay = [k for k in s28["kpis"] if k["indicator"] == "project_delay_days"][0]
    check(delay["missing"] and delay["value"] is None, "s28: project_delay_days missing")
    check(unscored.get("s29", {}).get("reason") == "not employed in period", "s29 not employed")
    check(unscored.get("s30", {}).get("reason") == "role not declared" and unscored["s30"]["role"] is None,
          "s30 role not declared")
    s01 = by_id["s01"]
    nu = [k for k in s01["kpis"] if k["indicator"] == "new_users"][0]
    check(nu["value"] == 36, "s01 new_users 36 (README spot check)")
    return data


# ---------------------------------------------------------------------------- csv

def test_csv(data):
    raw = score("csv")
    text = raw.decode("utf-8")
    lines = text.split("\n")
    check(lines[0] == HEADER, "csv header")
    check(text.endswith("\n"), "csv ends with a line break")
    rows = list(csv.reader(io.StringIO(text)))
    for i, row in enumerate(rows):
        check(len(row) == 20, f"csv row {i + 1} has {len(row)} columns")
    # why a bonus is 0 or prorated, on the payroll clerk's rows
    by_staff = {}
    for r in csv.DictReader(io.StringIO(text)):
        by_staff.setdefault(r["staff_id"], []).append(r)
    check(all("gate failed: " in r["notes"] and r["bonus"] == "0.00" for r in by_staff["s05"]), "csv s05: gate failed")
    check(all("employed 20/31" in r["notes"] and r["employed"] == "0.645161" for r in by_staff["s19"]),
          "csv s19: prorated 20/31")
    check(any(r["kpi"] == "content_reach" and r["missing"].endswith("dropped") for r in by_staff["s19"]),
          "csv s19: content_reach missing and dropped")
    for sid, reason in (("s29", "not employed in period"), ("s30", "role not declared")):
        r = by_staff[sid]
        check(len(r) == 1 and r[0]["status"] == "unscored" and r[0]["kpi"] == "" and r[0]["notes"].startswith(reason),
              f"csv {sid}: one unscored row with an empty kpi and the reason")
    check({r["status"] for rs in by_staff.values() for r in rs} == {"scored", "unscored"}, "csv status values")
    kpi_rows = sum(len(s["kpis"]) for s in data["statements"])
    check(len(rows) - 1 == kpi_rows + len(data["unscored"]), "a csv row per statement kpi and per unscored row")
    ids = {r[1] for r in rows[1:]}
    check(all(r["id"] in ids for r in roster()), "every staff id in the csv")
    bom = score("csv", "--bom")
    check(bom == b"\xef\xbb\xbf" + raw, "--bom adds exactly a UTF-8 BOM")

    # --summary: a row per statement and per unscored row; its bonuses add up to the
    # JSON's, once each, and its cells are the full CSV's
    summary = list(csv.DictReader(io.StringIO(score("csv", "--summary").decode("utf-8"))))
    check(len(summary) == len(data["statements"]) + len(data["unscored"]), "summary: a row per person")
    check(sum(Decimal(r["bonus"]) for r in summary if r["bonus"]) ==
          sum(Decimal(s["bonus"]) for s in data["statements"] if s["bonus"] is not None),
          "summary: the Sum of bonus is the payroll total")
    full = {(r["period"], r["staff_id"]): r for r in csv.DictReader(io.StringIO(text))}
    for r in summary:
        f = full[(r["period"], r["staff_id"])]
        check(all(r[k] == f[k] for k in ("name", "role", "status", "score", "bonus", "employed", "gates", "notes", "skipped")),
              f"summary row of {r['staff_id']} has the full CSV's cells")


# ---------------------------------------------------------------------------- table, md

def test_text_formats():
    for fmt in ("table", "md"):
        text = score(fmt).decode("utf-8")
        check(len(text) > 1000, f"{fmt} is not empty")
        for r in roster():
            check(r["id"] in text, f"{fmt} mentions {r['id']}")
        check("role not declared" in text and "not employed in period" in text, f"{fmt} lists unscored reasons")
    table = run("score", SPEC, "--period", PERIOD).stdout.decode("utf-8")
    check("summary 2025-05: 28 scored, 2 unscored" in table, "table summary line")


# ---------------------------------------------------------------------------- html

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.tags = [], [], {}

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "action") and value and re.match(r"^(https?:)?//", value.strip()):
                self.errors.append(f"external URL in <{tag} {name}={value}>")
        if tag == "script":
            self.errors.append("a <script> element")
        if tag == "link":
            self.errors.append("a <link> element")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for name, value in attrs:
            if name in ("src", "href", "xlink:href") and value and re.match(r"^(https?:)?//", value.strip()):
                self.errors.append(f"external URL in <{tag} {name}={value}>")

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> does not close <{self.stack[-1] if self.stack else '-'}>")
            return
        self.stack.pop()


def test_html():
    text = score("html").decode("utf-8")
    p = Checker()
    p.feed(text)
    p.close()
    check(not p.errors, f"html: {p.errors[:3]}")
    check(not p.stack, f"html: unclosed {p.stack}")
    check(p.tags.get("svg", 0) >= 6, "html has inline SVG charts")
    check(p.tags.get("style", 0) == 1, "html has its CSS inline")
    check("@import" not in text and "url(" not in text, "html CSS loads nothing")
    for r in roster():
        check(r["id"] in text, f"html mentions {r['id']}")


# ---------------------------------------------------------------------------- determinism, -o

def test_deterministic():
    for fmt in ("table", "json", "csv", "md", "html"):
        check(score(fmt) == score(fmt), f"{fmt}: same input, same bytes")


def test_output_file():
    tmp = tempfile.mkdtemp(prefix="kpic-score-")
    try:
        out = os.path.join(tmp, "statements.json")
        p = run("score", SPEC, "--period", PERIOD, "--format", "json", "-o", out)
        check(p.stdout == b"", "-o: nothing on stdout")
        with open(out, "rb") as f:
            first = f.read()
        check(first == score("json"), "-o writes the same bytes as stdout")
        # a failing run: one bad cell in a copy of orders.csv
        bad = os.path.join(tmp, "orders.csv")
        with open("kpi-specs/data/orders.csv", encoding="utf-8") as f:
            lines = f.read().split("\n")
        cells = lines[5].split(",")
        amount = lines[0].split(",").index("amount")
        cells[amount] = "12.3x"
        lines[5] = ",".join(cells)
        with open(bad, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        p = run("score", SPEC, "--period", PERIOD, "--format", "json", "--data", f"orders={bad}", "-o", out, ok=False)
        check(p.returncode == 1, f"bad data exits 1, not {p.returncode}")
        check(b"orders.csv:6:" in p.stderr, "the error names the file and line")
        with open(out, "rb") as f:
            check(f.read() == first, "-o: a failed run leaves the old file untouched")
        check(sorted(os.listdir(tmp)) == ["orders.csv", "statements.json"], f"no temporary files left: {os.listdir(tmp)}")
        # an unwritable destination is an I/O error (2)
        p = run("score", SPEC, "--period", PERIOD, "-o", os.path.join(tmp, "no", "such", "dir.txt"), ok=False)
        check(p.returncode == 2, f"unwritable -o exits 2, not {p.returncode}")
    finally:
        shutil.rmtree(tmp)


def test_range():
    data = json.loads(run("score", SPEC, "--period", "2025-04..2025-05", "--format", "json").stdout)
    check(data["periods"] == ["2025-04", "2025-05"], "range periods")
    periods = [s["period"] for s in data["statements"]]
    check(periods == sorted(periods) and set(periods) == {"2025-04", "2025-05"}, "statements grouped by period")
    april = {u["staff_id"] for u in data["unscored"] if u.get("period") == "2025-04"}
    check("s19" in april, "s19 (joined 2025-05-12) is unscored in April")


def test_usage():
    p = run("score", SPEC, "--period", PERIOD, "--format", "pdf", ok=False)
    check(p.returncode == 2, "unknown format exits 2")
    p = run("score", SPEC, "--period", PERIOD, "--bom", ok=False)
    check(p.returncode == 2, "--bom without csv exits 2")
    p = run("score", SPEC, "--period", PERIOD, "--format", "json", "--summary", ok=False)
    check(p.returncode == 2 and b"--summary goes with --format csv" in p.stderr, "--summary without csv exits 2")
    p = run("score", SPEC, ok=False)
    check(p.returncode == 2, "score without --period exits 2")


def test_explain():
    text = run("explain", SPEC, "--period", PERIOD, "--staff", "s19").stdout.decode("utf-8")
    for want in ("s19 马超", "employed 20/31 days", "formula", "count(reads) = 44", "rows)",
                 "previous(content_reach) = 0", "(the value in 2025-04)", "missing skip",
                 "staff.base_bonus * (1 + adjust(score)) * employed", "× 20/31", "bonus paid     3,225.81"):
        check(want in text, f"explain s19 shows {want!r}")
    text = run("explain", SPEC, "--period", PERIOD, "--staff", "s05").stdout.decode("utf-8")
    check("refund_rate <= 10%: failed" in text and "bonus paid     0.00" in text, "explain s05: failed gate")
    p = run("explain", SPEC, "--period", PERIOD, "--staff", "s1", ok=False)
    check(p.returncode == 2 and b"did you mean 's01'?" in p.stderr, "explain: unknown staff, exit 2, suggestion")
    text = run("explain", SPEC, "--period", PERIOD, "--staff", "s30").stdout.decode("utf-8")
    check("not scored: the roster gives no role" in text, "explain s30: not scored, and why")


def test_adjustments():
    """--adjustments on the example: the file's digest is sha256sum's; the totals add the
    adjusted bonuses; every format carries the reason; a bad file with -o leaves the
    output file as it was."""
    tmp = tempfile.mkdtemp()
    try:
        adj = os.path.join(tmp, "adj.csv")
        with open(adj, "w", encoding="utf-8") as f:
            f.write("staff_id,period,kind,kpi,amount,reason,approved_by\n"
                    "s05,2025-05,bonus_set,,1234.56,refund spike was a system fault,HR\n"
                    "s08,2025-05,bonus_add,,-0.01,rounding agreed,finance\n")
        base = json.loads(run("score", SPEC, "--period", PERIOD, "--format", "json").stdout)
        data = json.loads(run("score", SPEC, "--period", PERIOD, "--format", "json", "--adjustments", adj).stdout)
        with open(adj, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        src = [x for x in data["sources"] if x["name"] == "adjustments"]
        check(len(src) == 1 and src[0]["sha256"] == digest and src[0]["rows"] == 2, "adjustments: source and sha256")
        by_id = {st["staff_id"]: st for st in data["statements"]}
        old = {st["staff_id"]: st for st in base["statements"]}
        check(Decimal(str(by_id["s05"]["bonus"])) == Decimal("1234.56"), "adjustments: s05 bonus_set")
        check(by_id["s05"]["bonus_computed"] == old["s05"]["bonus"], "adjustments: s05 computed bonus kept")
        check(Decimal(str(by_id["s08"]["bonus"])) == Decimal(str(old["s08"]["bonus"])) - Decimal("0.01"),
              "adjustments: s08 bonus_add")
        check("adjustments" not in old["s05"] and "bonus_computed" not in old["s05"], "no adjustment fields without a file")
        moved = sum(Decimal(str(by_id[k]["bonus"] or 0)) - Decimal(str(old[k]["bonus"] or 0)) for k in by_id)
        check(moved == Decimal("1234.55"), f"adjustments: total moves by 1234.55, not {moved}")
        for fmt in ("table", "csv", "md", "html"):
            out = run("score", SPEC, "--period", PERIOD, "--format", fmt, "--adjustments", adj).stdout.decode()
            check("refund spike was a system fault" in out and "approved by HR" in out, f"adjustments: reason in {fmt}")
        bad = os.path.join(tmp, "bad.csv")
        with open(bad, "w", encoding="utf-8") as f:
            f.write("staff_id,period,kind,kpi,amount,reason,approved_by\ns05,2025-05,bonus_set,,1,,HR\n")
        target = os.path.join(tmp, "out.json")
        with open(target, "w") as f:
            f.write("previous")
        p = run("score", SPEC, "--period", PERIOD, "--adjustments", bad, "-o", target, ok=False)
        check(p.returncode == 1 and b"bad.csv:2:6: error: adjustment without reason" in p.stderr,
              "adjustments: a row without reason is a located error, exit 1")
        with open(target) as f:
            check(f.read() == "previous", "adjustments: a bad file leaves -o untouched")
    finally:
        shutil.rmtree(tmp)


def main():
    if not os.path.exists(SPEC):
        raise SystemExit("run from the repository root")
    data = test_json()
    test_csv(data)
    test_text_formats()
    test_html()
    test_deterministic()
    test_output_file()
    test_range()
    test_usage()
    test_explain()
    test_adjustments()
    print(f"{len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
