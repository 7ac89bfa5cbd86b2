#!/usr/bin/env python3
"""End-to-end test of `--values FILE` (score, explain, diff) on the example spec.

For kpi-specs/user-ops.kpi and the range 2025-04..2025-07 (2025-04 is there for the
previous() of 2025-05):
  * `kpic eval --format values` writes the file; `kpic score --values` gives statements
    byte-identical to the native ones in every format, except the sources (the values
    file, with its SHA-256, stands for the data files); explain of every scored staff
    member of 2025-05 gives the same lines but the formulas' traces; diff of the spec
    with a changed target gives the same report;
  * the values as a warehouse returns them (the columns in another order, per-staff
    rows first, numbers with trailing zeros, ratios as DOUBLE text with an exponent)
    give the same statements, within the double's precision for the ratios;
  * kpic eval's own CSV and JSON are read as values files (their numbers rounded as
    docs/json.md says: money to the cent, ratios as doubles), and give every statement;
  * a file lacking 2025-04 fails a run of 2025-05 (previous() reads it) and writes
    nothing; a file holding a value twice, or an unknown staff id, fails at its line.

usage: test_values.py KPIC   (run from the repository root; ctest does that)
"""
import csv
import hashlib
import io
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from expect import check, finish, kpic_runner  # noqa: E402

SPEC = "kpi-specs/user-ops.kpi"
eval_ = kpic_runner("eval")
score = kpic_runner("score")
explain = kpic_runner("explain")
diff = kpic_runner("diff")


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


def main():
    tmp = tempfile.mkdtemp(prefix="kpic-values-")
    values = os.path.join(tmp, "values.csv")
    r = eval_(SPEC, "--period", "2025-04..2025-07", "--format", "values")
    check(r.returncode == 0, "eval --format values: %s" % r.stderr.decode()[-400:])
    with open(values, "wb") as f:
        f.write(r.stdout)
    sha = hashlib.sha256(r.stdout).hexdigest()

    for fmt in ["table", "json", "csv", "md", "html"]:
        native = score(SPEC, "--period", "2025-05..2025-07", "--format", fmt)
        given = score(SPEC, "--period", "2025-05..2025-07", "--format", fmt, "--values", values)
        check(native.returncode == 0 and given.returncode == 0,
              "score %s: %s" % (fmt, given.stderr.decode()[-400:]))
        a = without_sources(fmt, native.stdout.decode())
        b = without_sources(fmt, given.stdout.decode())
        check(a == b, "score --format %s --values differs from the native statements" % fmt)
        if fmt == "json":
            sources = json.loads(given.stdout)["sources"]
            names = [s["name"] for s in sources]
            check(names == ["staff", "values"], "sources with --values: %s" % names)
            check(sources[-1]["sha256"] == sha, "the values file's SHA-256 among the sources")
        if fmt == "csv":
            check(a == b and native.stdout == given.stdout, "score csv byte-identical")

    # explain: the same but where the native run traces a formula's aggregates
    summary = json.loads(score(SPEC, "--period", "2025-05", "--format", "json").stdout)
    staff = [s["staff_id"] for s in summary["statements"]]
    check(len(staff) > 20, "the example scores its roster")
    for sid in staff:
        n = explain(SPEC, "--period", "2025-05", "--staff", sid).stdout.decode().splitlines()
        g = explain(SPEC, "--period", "2025-05", "--staff", sid, "--values", values).stdout.decode().splitlines()
        kept = [l for l in n if not l.startswith("    ")]
        check(kept == [l for l in g if not l.startswith("    ")], "explain %s --values: the lines of the statement" % sid)
        check(any("from --values" in l for l in g), "explain %s says where its values came from" % sid)

    # diff with a changed target: the same report from the values
    with open(SPEC, encoding="utf-8") as f:
        spec_text = f.read()
    new_spec = os.path.join(os.path.dirname(SPEC), ".test-values-new.kpi")
    try:
        with open(new_spec, "w", encoding="utf-8") as f:
            f.write(spec_text.replace("target >= 90%", "target >= 80%", 1))
        n = diff(SPEC, new_spec, "--period", "2025-05")
        g = diff(SPEC, new_spec, "--period", "2025-05", "--values", values)
        check(n.returncode == 0 and n.stdout == g.stdout and b"bonus" in n.stdout,
              "diff --values gives the native report: %s" % g.stderr.decode()[-300:])
    finally:
        os.unlink(new_spec)

    # the values as an engine writes them: other column order, DOUBLE text, zeros
    with open(values, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    units = {}
    j = json.loads(eval_(SPEC, "--period", "2025-05", "--format", "json").stdout)
    for ind in j["indicators"]:
        units[ind["name"]] = ind["unit"]
    engine = os.path.join(tmp, "engine.csv")
    with open(engine, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(["value", "staff_id", "indicator", "period"])
        for row in sorted(rows, key=lambda r: (r["staff_id"] == "", r["indicator"])):
            v = row["value"]
            if v and units[row["indicator"]] in ("ratio", "percent") and "." in v:
                v = repr(float(v)).replace("e", "E") if float(v) < 1e-4 else "%.17E" % float(v)
            elif v and units[row["indicator"]] == "money":
                v = v if "." in v and len(v.split(".")[1]) > 2 else "%s%s" % (v, "" if "." in v else ".00")
            w.writerow([v, row["staff_id"], row["indicator"], row["period"]])
    native = score(SPEC, "--period", "2025-05", "--format", "csv")
    given = score(SPEC, "--period", "2025-05", "--format", "csv", "--values", engine)
    check(given.returncode == 0, "score from engine-style values: %s" % given.stderr.decode()[-400:])
    check(native.stdout == given.stdout, "engine-style values (ratios as DOUBLE) give the native statements")

    # kpic eval's own CSV and JSON read as values (rounded numbers, so no byte check)
    for fmt in ["csv", "json"]:
        path = os.path.join(tmp, "eval." + fmt)
        with open(path, "wb") as f:
            f.write(eval_(SPEC, "--period", "2025-04..2025-05", "--format", fmt).stdout)
        r = score(SPEC, "--period", "2025-05", "--format", "json", "--values", path)
        check(r.returncode == 0, "eval --format %s read as values: %s" % (fmt, r.stderr.decode()[-300:]))
        if r.returncode == 0:
            check(len(json.loads(r.stdout)["statements"]) == len(staff), "every statement from eval's %s" % fmt)

    # a file lacking the previous period that 2025-05 reads through previous()
    lacking = os.path.join(tmp, "lacking.csv")
    with open(lacking, "w", encoding="utf-8") as f:
        f.write("period,indicator,staff_id,value\n")
        f.writelines("%s,%s,%s,%s\n" % (r["period"], r["indicator"], r["staff_id"], r["value"])
                     for r in rows if r["period"] == "2025-05")
    out = os.path.join(tmp, "out.csv")
    r = score(SPEC, "--period", "2025-05", "--values", lacking, "-o", out)
    check(r.returncode == 1 and not os.path.exists(out), "a values file lacking 2025-04 fails, nothing written")
    check(b"in 2025-04" in r.stderr, "the error names the period lacking: %s" % r.stderr.decode()[-300:])

    twice = os.path.join(tmp, "twice.csv")
    with open(values, encoding="utf-8") as f:
        lines = f.read().splitlines()
    with open(twice, "w", encoding="utf-8") as f:
        f.write("\n".join(lines + [lines[5]]) + "\n")
    r = score(SPEC, "--period", "2025-05", "--values", twice)
    check(r.returncode == 1 and ("twice.csv:%d:" % (len(lines) + 1)).encode() in r.stderr,
          "a value given twice is an error at its line: %s" % r.stderr.decode()[-300:])
    return finish("values: score, explain and diff from values match the native run")


if __name__ == "__main__":
    sys.exit(main())
