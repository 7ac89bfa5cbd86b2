#!/usr/bin/env python3
"""End-to-end tests of `kpic fmt` on every .kpi file of the repository.

For each file under tests/cases, kpi-specs and bench (found now, so new files are
covered) that kpic fmt accepts:
  * fmt is idempotent: fmt(fmt(x)) == fmt(x), byte for byte;
  * every comment survives, in order (texts compared without trailing white space);
  * `kpic diff` finds no difference between a spec that checks and its formatted text;
  * `fmt --check` exits 0 on the formatted text, and on the original exits 0 exactly when
    the original is already formatted, else 1 with a unified diff on stderr that turns
    the original into the formatted text when applied;
  * the layout does not depend on white space: the file with its spaces changed
    (wider, tabs, or a line break between two tokens -- not before `test`, `data`,
    `expect`, `pool` or `grades`, which are keywords only where they start a line)
    formats to the same text.
The specs the project ships (kpi-specs, bench) must already be formatted.
Then `fmt --write` on a copy: rewrites in place, leaves a formatted file untouched, and
leaves a file with syntax errors as it was. The unit test tests/unit/test_fmt.c checks
that the formatted text parses to the same tree, on the same files.

usage: test_fmt_roundtrip.py KPIC   (run from the repository root)
"""
import glob, os, random, re, shutil, subprocess, sys, tempfile

from expect import check, failures

KPIC = os.path.abspath(sys.argv[1])


def fmt(*args):
    return subprocess.run([KPIC, "fmt", *args], capture_output=True, timeout=60)


def pieces(text):
    """Splits text into ('code'|'string'|'comment'|'space', chunk) pieces the way the
    kpic scanner does: strings run to the closing quote on their line, comments to the
    end of the line."""
    out, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] not in '"\n':
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(("string", text[i:j]))
        elif ch == "#":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(("comment", text[i:j]))
        elif ch in " \t\r\n":
            j = i
            while j < n and text[j] in " \t\r\n":
                j += 1
            out.append(("space", text[i:j]))
        else:
            j = i
            while j < n and text[j] not in ' \t\r\n"#':
                j += 1
            out.append(("code", text[i:j]))
        i = j
    return out


def comments(text):
    return [c.rstrip(" \t\r\f\v") for kind, c in pieces(text) if kind == "comment"]


def inline_data(text):
    """Character ranges of the lines of tests' inline data (`data NAME {` … a line that is
    only `}`): CSV taken as written, where white space is data, like inside a string."""
    ranges, pos, inside = [], 0, False
    for line in text.splitlines(True):
        if inside and re.match(r"\s*\}\s*(#.*)?$", line):
            inside = False
        elif inside:
            ranges.append((pos, pos + len(line)))
        elif re.match(r"\s*data\s+\S+\s*\{\s*(#.*)?$", line):
            inside = True
        pos += len(line)
    return ranges


# Words that are keywords only where they start a line (docs/language.md, section 2):
# a line break before one changes what the spec says, so respace never puts one there.
LINE_START_WORD = re.compile(r"(test|data|expect|pool|grades)\b")


def respace(text, rng):
    """The same tokens and comments with different white space: every run of spaces between
    two tokens of a line becomes 1-3 spaces or tabs, or a line break and an indent (not
    before a word that is a keyword only at the start of a line); line breaks and blank
    lines stay where they were, and nothing new ends up between a token and the comment
    that trails it (that would change what the comment belongs to).
    Lines of inline test data are kept as they are: their spaces are data."""
    ps = pieces(text)
    raw = inline_data(text)
    out = []
    pos = 0
    for k, (kind, chunk) in enumerate(ps):
        start, pos = pos, pos + len(chunk)
        if any(a <= start < b for a, b in raw):
            out.append(chunk)
            continue
        if kind != "space" or "\n" in chunk or k == 0 or k + 1 == len(ps):
            out.append(chunk)
            continue
        before, after = ps[k - 1][0], ps[k + 1][0]
        if after == "comment":
            out.append(chunk + rng.choice(["", " ", "\t"]))
        elif before in ("code", "string") and not LINE_START_WORD.match(ps[k + 1][1]) and rng.random() < 0.3:
            out.append("\n" + " " * rng.randint(0, 6))
        else:
            out.append("".join(rng.choice(" \t") for _ in range(rng.randint(1, 3))))
    return "".join(out)


HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def apply_diff(old, diff):
    """Applies a unified diff (as kpic prints it) to old; None when it does not apply."""
    lines = old.splitlines(keepends=True)
    out, pos = [], 0
    dl = diff.splitlines(keepends=True)
    i = 0
    while i < len(dl) and not dl[i].startswith("@@"):
        i += 1
    while i < len(dl) and dl[i].startswith("@@"):
        m = HUNK.match(dl[i])
        if not m:
            return None
        start, count = int(m.group(1)), int(m.group(2) or 1)
        first = start - 1 if count else start
        out += lines[pos:first]
        pos = first
        i += 1
        while i < len(dl) and dl[i][:1] in (" ", "-", "+", "\\"):
            mark, body = dl[i][0], dl[i][1:]
            if i + 1 < len(dl) and dl[i + 1].startswith("\\ No newline"):
                body = body[:-1]
            if mark == "\\":
                pass
            elif mark == "+":
                out.append(body)
            else:
                if pos >= len(lines) or lines[pos] != body:
                    return None
                if mark == " ":
                    out.append(body)
                pos += 1
            i += 1
    return "".join(out + lines[pos:])


def files():
    found = glob.glob("tests/cases/**/*.kpi", recursive=True) + shipped()
    return sorted(set(found))


def shipped():
    """The specs the project hands to users: they must already be in fmt's layout."""
    return sorted(glob.glob("kpi-specs/**/*.kpi", recursive=True) + glob.glob("bench/*.kpi"))


def main():
    tmp = tempfile.mkdtemp(prefix="kpic-fmt-")
    rng = random.Random(20250517)
    formatted = skipped = diffed = 0
    try:
        for path in files():
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                original = f.read()
            p = fmt(path)
            if p.returncode != 0:
                check(p.returncode == 1 and p.stdout == b"",
                      f"{path}: fmt refused it with status {p.returncode} and output")
                skipped += 1
                continue
            formatted += 1
            once = p.stdout.decode("utf-8", "surrogateescape")
            out = os.path.join(tmp, "once.kpi")
            with open(out, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(once)
            p2 = fmt(out)
            check(p2.returncode == 0 and p2.stdout.decode("utf-8", "surrogateescape") == once,
                  f"{path}: fmt is not idempotent")
            check(comments(original) == comments(once), f"{path}: comments changed")
            # kpic diff ignores formatting: a spec and its formatted text do not differ
            # (imports would resolve elsewhere from the temporary copy: skipped)
            if not re.search(r"^\s*import\b", original, re.M):
                d = subprocess.run([KPIC, "diff", "--exit-code", path, out], capture_output=True,
                                   timeout=60)
                clean = subprocess.run([KPIC, "check", path], capture_output=True,
                                       timeout=60).returncode == 0
                if clean:
                    diffed += 1
                    # --exit-code: 0 only when nothing differs
                    check(d.returncode == 0 and d.stdout,
                          f"{path}: kpic diff sees a difference after kpic fmt: {d.stdout[:300]!r}")
                else:
                    # a spec with errors cannot be compared: diff says so, as check does
                    check(d.returncode == 1 and d.stdout == b"",
                          f"{path}: kpic diff of a spec with errors exits {d.returncode}")
            c = fmt("--check", out)
            check(c.returncode == 0 and c.stderr == b"", f"{path}: --check fails on formatted text")

            c = fmt("--check", path)
            if original == once:
                check(c.returncode == 0 and c.stderr == b"", f"{path}: --check fails on a formatted file")
            else:
                err = c.stderr.decode("utf-8", "surrogateescape")
                check(c.returncode == 1, f"{path}: --check exits {c.returncode} on an unformatted file")
                diff = err[:err.rfind("kpic: ")]
                check(diff.startswith(f"--- {path}\toriginal\n+++ {path}\tformatted\n@@ "),
                      f"{path}: --check does not print a unified diff")
                # a unified diff is made of LF lines: a file with lone CR line ends (old Mac)
                # is one line to it, so only the LF files are re-patched
                with open(path, "rb") as raw:
                    lone_cr = re.search(rb"\r(?!\n)", raw.read())
                if not lone_cr:
                    check(apply_diff(original, diff) == once, f"{path}: the diff does not apply")

            for round in range(3):
                variant = respace(original, rng)
                vpath = os.path.join(tmp, "variant.kpi")
                with open(vpath, "w", encoding="utf-8", errors="surrogateescape") as f:
                    f.write(variant)
                v = fmt(vpath)
                same = v.returncode == 0 and v.stdout.decode("utf-8", "surrogateescape") == once
                if not check(same, f"{path}: white space changes the layout (variant {round})"):
                    shutil.copy(vpath, os.path.join(tmp, "..", "kpic-fmt-failed-variant.kpi"))
                    break

        check(formatted > 0, "no file was formatted")
        for path in shipped():
            c = fmt("--check", path)
            check(c.returncode == 0, f"{path}: a shipped spec is not formatted (kpic fmt --write {path})")
        check(diffed > 20, f"too few specs went through kpic diff ({diffed})")
        print(f"fmt: {formatted} files formatted and checked, {skipped} refused (syntax errors); "
              f"{diffed} diffed against their formatted text")

        # --write: in place, only when something changes, never on a file that does not parse
        messy = os.path.join(tmp, "messy.kpi")
        with open(messy, "w") as f:
            f.write("period   month\nset s=o.id   # s\n")
        w = fmt("--write", messy)
        with open(messy) as f:
            check(w.returncode == 0 and w.stdout == b"" and
                  f.read() == "period month\n\nset s = o.id  # s\n", "--write did not format in place")
        before = os.stat(messy).st_mtime_ns
        os.utime(messy, ns=(before - 10**9, before - 10**9))
        w = fmt("--write", messy)
        check(w.returncode == 0 and os.stat(messy).st_mtime_ns == before - 10**9,
              "--write rewrote a formatted file")
        broken = os.path.join(tmp, "broken.kpi")
        with open(broken, "w") as f:
            f.write("indicator x count = (\n")
        w = fmt("--write", broken)
        with open(broken) as f:
            check(w.returncode == 1 and f.read() == "indicator x count = (\n",
                  "--write changed a file with syntax errors")
        u = fmt("--check", os.path.join(tmp, "missing.kpi"))
        check(u.returncode == 2, "--check on a missing file is not a usage/I/O error")
    finally:
        shutil.rmtree(tmp)

    if failures:
        print(f"{len(failures)} failures")
        sys.exit(1)


main()
