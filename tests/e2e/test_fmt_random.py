#!/usr/bin/env python3
"""Property test of `kpic fmt` on random specs with comments in random places.

Generates specs from the grammar of docs/language.md (every declaration, item and expression
form), splits them at every space and sprinkles in trailing comments, own-line comments,
line breaks and blank lines, then checks on each one that parses:
  * fmt is idempotent;
  * every comment survives, in order;
  * the output has no trailing white space, no two blank lines in a row, and ends with
    exactly one newline;
  * `fmt --check` accepts the output.
The seed is fixed so a failure is reproducible: the failing spec is printed.
(tests/unit/test_fmt.c compares the trees of input and output for the repository's files.)

usage: test_fmt_random.py KPIC [COUNT]   (run from the repository root)
"""
import os, random, subprocess, sys, tempfile

KPIC = os.path.abspath(sys.argv[1])
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 150
rng = random.Random(1)

NAMES = ["a", "bb", "复购率", "orders", "x_1", "客户"]


def name():
    return rng.choice(NAMES)


def lit():
    return rng.choice(["1", "2.5", "1_000", "25%", "2025-05-01", '"s"', '"中文"', "true", "false"])


def window():
    return rng.choice(["period", "all time", "last 3 months", "last 1 day", "year to date"])


def clauses(depth):
    cl = []
    if rng.random() < .4: cl.append("where " + expr(depth))
    if rng.random() < .3: cl.append("having " + expr(depth))
    if rng.random() < .3: cl.append("over " + window())
    rng.shuffle(cl)
    return cl


def expr(d=0):
    if d > 4:
        return rng.choice([lit(), name(), name() + "." + name()])
    k = rng.randrange(14)
    if k == 0: return f"{expr(d+1)} {rng.choice(['+', '-', '*', '/'])} {expr(d+1)}"
    if k == 1: return f"({expr(d+1)})"
    if k == 2: return f"{expr(d+1)} {rng.choice(['=', '!=', '<', '<=', '>', '>='])} {expr(d+1)}"
    if k == 3: return f"{expr(d+1)} {rng.choice(['and', 'or'])} {expr(d+1)}"
    if k == 4: return f"not {expr(d+1)}"
    if k == 5: return f"-{expr(d+1)}"
    if k == 6: return f"if {expr(d+1)} then {expr(d+1)} else {expr(d+1)}"
    if k == 7: return f"{expr(d+1)} in ({', '.join(expr(d+1) for _ in range(rng.randint(1, 3)))})"
    if k == 8: return f"{expr(d+1)} in {name()}"
    if k == 9: return f"{expr(d+1)} {rng.choice(['in period', 'in previous period', 'before period'])}"
    if k == 10:
        args = ", ".join(expr(d+1) for _ in range(rng.randint(0, 2)))
        cl = " ".join(clauses(d + 1))
        sep = " " if args and cl else ""
        return f"{rng.choice(['count', 'sum', 'previous', 'f'])}({args}{sep}{cl})"
    if k == 11: return name() + "." + rng.choice(["start", "role", "time", "staff", "x"])
    if k == 12: return "target"
    return rng.choice([lit(), name()])


def bound():
    return rng.choice(["", "-"]) + rng.choice(["0", "60%", "1_000", "inf", "1.5"])


def decl():
    k = rng.randrange(9)
    if k == 0: return f'import "{name()}.kpi"'
    if k == 1: return "period " + rng.choice(["day", "week", "month", "quarter", "year"])
    if k == 2: return 'currency "CNY"'
    if k in (3, 4):
        cols = " ".join(f"{name()} {rng.choice(['text', 'int', 'money', 'date'])}"
                        f"{rng.choice(['', ' time', ' staff', ' time staff', ' staff time'])}"
                        for _ in range(rng.randint(0, 4)))
        return f'source {name()} "p.csv" {{ {cols} }}' if k == 3 else f'staff "s.csv" {{ {cols} }}'
    if k == 5:
        label = rng.choice(["", ' "标签"', ' "label"'])
        unit = rng.choice(["count", "money", "percent", "points"])
        per = rng.choice(["", " per staff"])
        note = rng.choice(["", ' note "说明"'])
        return f"indicator {name()}{label} {unit}{per} = {expr()}{note}"
    if k == 6:
        return f"set {name()} = {name()}.{name()} {' '.join(clauses(1))}"
    if k == 7:
        rows = " ".join(f"{rng.choice('[(')}{bound()}, {bound()}{rng.choice('])')} -> {bound()}"
                        + (f" .. {bound()}" if rng.random() < .4 else "")
                        for _ in range(rng.randint(0, 4)))
        return f"scale {name()} {{ {rows} }}"
    items = []
    for _ in range(rng.randint(0, 6)):
        j = rng.randrange(6)
        if j <= 1:
            s = f"kpi {name()} weight {expr(4)}"
            if rng.random() < .7: s += f" target {rng.choice(['>=', '<='])} {expr(3)}"
            if rng.random() < .4:
                s += " points " + rng.choice(["value * 2", "achievement",
                                              "if value > target then 100 else 0",
                                              "min(achievement * 100, 120)"])
            items.append(s)
        elif j == 2: items.append(f"points {name()}")
        elif j == 3: items.append(f"gate {expr()}")
        elif j == 4: items.append(f"bonus {expr()}")
        else: items.append(f"missing {rng.choice(['skip', 'zero'])}")
    label = rng.choice(["", ' "岗位"'])
    return f"role {name()}{label} {{ {' '.join(items)} }}"


def spec():
    out, n = [], 0
    for _ in range(rng.randint(1, 7)):
        for word in decl().split(" "):
            r = rng.random()
            if r < 0.12:
                n += 1
                out.append(f"  # c{n}\n")
            elif r < 0.22:
                n += 1
                out.append(f"\n{' ' * rng.randint(0, 4)}# c{n}\n")
            elif r < 0.3:
                out.append("\n" * rng.randint(1, 3) + " " * rng.randint(0, 3))
            out.append(word + " ")
        out.append(rng.choice(["\n", "\n\n", "  # t\n", "\n\n\n# own\n\n"]))
    return "".join(out)


def comments(text):
    """Comment texts in order: `#` to the end of the line, outside strings."""
    found, i, n = [], 0, len(text)
    while i < n:
        if text[i] == '"':
            i += 1
            while i < n and text[i] not in '"\n':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif text[i] == "#":
            j = text.find("\n", i)
            j = n if j < 0 else j
            found.append(text[i:j].rstrip(" \t\r"))
            i = j
        else:
            i += 1
    return found


def main():
    failures, checked = 0, 0
    with tempfile.TemporaryDirectory(prefix="kpic-fmt-random-") as tmp:
        path = os.path.join(tmp, "r.kpi")
        for case in range(COUNT):
            text = spec()
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            p = subprocess.run([KPIC, "fmt", path], capture_output=True, timeout=60)
            if p.returncode == 1 and p.stdout == b"":
                continue          # the generator wrote something that does not parse
            checked += 1
            once = p.stdout.decode("utf-8")
            problems = []
            if p.returncode != 0: problems.append(f"exit {p.returncode}")
            if comments(once) != comments(text): problems.append("comments changed")
            if once and (not once.endswith("\n") or once.endswith("\n\n")):
                problems.append("does not end with exactly one newline")
            if "\n\n\n" in once or once.startswith("\n"): problems.append("extra blank lines")
            if any(line != line.rstrip() for line in once.split("\n")):
                problems.append("trailing white space")
            with open(path, "w", encoding="utf-8") as f:
                f.write(once)
            q = subprocess.run([KPIC, "fmt", "--check", path], capture_output=True, timeout=60)
            if q.returncode != 0: problems.append("not idempotent (--check fails on the output)")
            if problems:
                failures += 1
                print(f"FAIL case {case}: {', '.join(problems)}\n--- input:\n{text}--- output:\n{once}")
                if failures >= 3:
                    break
    print(f"fmt random: {checked} generated specs checked, {failures} failures")
    if failures or checked < COUNT // 2:
        sys.exit(1)


main()
