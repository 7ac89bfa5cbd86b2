#!/usr/bin/env python3
"""Sources in other encodings read in chunks on several threads give the one-thread
result, and the same figures as the UTF-8 file they were converted from.

Generates orders with Chinese text, quoted commas and line breaks (so chunk boundaries
and line numbers matter), writes them as UTF-8, GBK and UTF-16 (with a byte-order mark),
and runs `kpic eval` on each with 1 thread and with 2 and 3 threads on chunks of a few
hundred bytes (KPIC_CHUNK_BYTES). The outputs, sha256 lines aside, must be identical,
and so must the first bad row of a GBK file: the same line, whatever the threads.
usage: test_eval_exports_threads.py KPIC
"""
import os, random, subprocess, sys, tempfile

KPIC = os.path.abspath(sys.argv[1])
rng = random.Random(11)
tmp = tempfile.mkdtemp(prefix="kpic-exports-")
notes = ["满减", '"优惠, 叠加"', '"两行\n备注"', '"说 ""好"""', '""', ""]
rows = []
for i in range(3000):
    rows.append(f"o{i},s{rng.randint(1, 6)},\"¥{rng.randint(1, 999999) / 100:,.2f}\","
                f"2025/{rng.randint(1, 6):02d}/{rng.randint(1, 28):02d},"
                f"{rng.choice(['是', '否'])},{rng.choice(notes)}\r\n")
text = "单号,员工,金额（元）,日期,退款,备注\r\n" + "".join(rows)
# GBK has no ¥ (U+00A5): exports in it write ￥ (U+FFE5), so every file here does
text = text.replace("¥", "￥")
files = {"utf8": ("UTF-8", text.encode("utf-8")), "gbk": ("GBK", text.encode("gbk")),
         "utf16": ("UTF-16", b"\xff\xfe" + text.encode("utf-16-le"))}
with open(os.path.join(tmp, "staff.csv"), "w") as f:
    f.write("id,name,role\n" + "".join(f"s{i},n{i},sales\n" for i in range(1, 6)))


def spec_for(name, encoding, data_name):
    path = os.path.join(tmp, f"{name}.kpi")
    with open(path, "w", encoding="utf-8") as f:
        f.write(f'''period month
source orders "{data_name}" {{
  encoding "{encoding}"
  order_id  text          header "单号"
  staff_id  text   staff  header "员工"
  amount    money         header "金额（元）" format "￥#,##0.00"
  paid_at   date   time   header "日期" format "YYYY/MM/DD"
  refunded  bool          header "退款" true "是" false "否"
  note      text          header "备注"
}}
staff "staff.csv" {{
  id   text
  name text
  role text
}}
indicator revenue money per staff = sum(orders.amount where not refunded)
indicator orders_n count per staff = count(orders)
indicator noted count per staff = count(orders where orders.note = "两行\\n备注")
''')
    return path


def run(spec, threads, chunk=None):
    env = dict(os.environ)
    if chunk:
        env["KPIC_CHUNK_BYTES"] = str(chunk)
    p = subprocess.run([KPIC, "eval", spec, "--period", "2025-01..2025-06", "--format", "json",
                        "--threads", str(threads)], capture_output=True, env=env)
    out = b"".join(l for l in p.stdout.splitlines(True) if b"sha256" not in l)
    return p.returncode, out, p.stderr


failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)


reference = None
for name, (encoding, data) in files.items():
    with open(os.path.join(tmp, f"{name}.csv"), "wb") as f:
        f.write(data)
    spec = spec_for(name, encoding, f"{name}.csv")
    code, one, err = run(spec, 1)
    check(code == 0, f"{name}: exit {code}: {err.decode('utf-8', 'replace')}")
    if reference is None:
        reference = one
    check(one == reference, f"{name}: one thread gives the UTF-8 figures")
    for threads in (2, 3):
        code, many, _ = run(spec, threads, chunk=300)
        check(code == 0 and many == one, f"{name}: {threads} threads on 300-byte chunks")

# a bad cell deep in a GBK file: the same first error whatever the threads
bad = text.replace("o2500,", "o2500,", 1)
lines = bad.split("\r\n")
target = next(i for i, l in enumerate(lines) if l.startswith("o2500,"))
lines[target] = lines[target].replace("￥", "", 1)
with open(os.path.join(tmp, "bad.csv"), "wb") as f:
    f.write("\r\n".join(lines).encode("gbk"))
spec = spec_for("bad", "GBK", "bad.csv")
_, _, first = run(spec, 1)
check(b'does not match the format' in first, f"bad cell reported: {first!r}")
physical = "\r\n".join(lines[:target]).count("\n") + 1 + 1  # lines before, 1-based
check(f"bad.csv:{physical}:".encode() in first, f"bad cell on line {physical}: {first!r}")
for threads in (2, 3):
    _, _, err = run(spec, threads, chunk=300)
    check(err == first, f"bad row with {threads} threads: {err!r} vs {first!r}")

if failures:
    sys.exit(1)
print("ok")
