#!/usr/bin/env python3
"""End-to-end tests of `kpic doc` on the example library (kpi-specs/user-ops.kpi).

  * Markdown and HTML: exit 0, nothing on stderr, the same bytes on every run;
  * every role, indicator, set, scale and source declared in the spec's files (found
    here with a regular expression, not with kpic) has exactly one anchor, in both
    formats, and every internal link lands on an anchor;
  * the HTML is well formed (every element closed in order) and self-contained (no
    external resource);
  * `-o FILE` writes the same bytes as stdout; a file that cannot be written is exit 2
    and leaves nothing; a spec with errors is exit 1 with nothing on stdout; an unknown
    format is a usage error.
The golden cases tests/cases/doc_reference*.kpi fix the exact text on a small spec.

usage: test_doc.py KPIC   (run from the repository root)
"""
import glob, html.parser, os, re, sys, tempfile

from expect import check, finish, kpic_runner

SPEC = "kpi-specs/user-ops.kpi"
doc = kpic_runner("doc")


def declared():
    """kind-name anchors of every declaration in the example's files."""
    kinds = {"role": "role", "indicator": "indicator", "set": "set", "scale": "scale", "source": "source"}
    names = set()
    for path in [SPEC] + glob.glob("kpi-specs/lib/*.kpi"):
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = re.match(r"(role|indicator|set|scale|source)\s+([^\s{=\"]+)", line)
                if m:
                    names.add("%s-%s" % (kinds[m.group(1)], m.group(2)))
    names.add("roster-staff")
    # tests have no name an anchor can hold: they are numbered in declaration order
    with open(SPEC, encoding="utf-8") as f:
        tests = sum(1 for line in f if re.match(r'test\s+"', line))
    names.update("test-%d" % (i + 1) for i in range(tests))
    return names


class Page(html.parser.HTMLParser):
    VOID = {"meta", "br", "link", "img", "hr", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.problems, self.ids, self.links, self.external = [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        if a.get("src") or (tag == "link" and a.get("href")):
            self.external.append(a.get("src") or a.get("href"))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append("</%s> closes <%s>" % (tag, self.stack[-1] if self.stack else "nothing"))
        else:
            self.stack.pop()


def main():
    want = declared()
    check(len(want) > 70, "the example's declarations were not found (%d)" % len(want))

    md = doc(SPEC)
    check(md.returncode == 0 and md.stderr == b"", "doc (Markdown) failed: %r" % md.stderr[:300])
    check(doc(SPEC).stdout == md.stdout, "doc (Markdown) differs between two runs")
    text = md.stdout.decode("utf-8")
    anchors = re.findall(r'<a id="([^"]+)"></a>', text)
    entries = [a for a in anchors if "-" in a]
    check(sorted(entries) == sorted(want),
          "Markdown anchors differ from the declarations: missing %s, extra %s"
          % (sorted(want - set(entries))[:5], sorted(set(entries) - want)[:5]))
    check(len(entries) == len(set(entries)), "a Markdown anchor appears twice")
    targets = re.findall(r"\]\(#([^)]+)\)", text)
    check(len(targets) > 200, "too few links in the Markdown (%d)" % len(targets))
    dead = sorted(set(t for t in targets if t not in anchors))
    check(not dead, "Markdown links to no anchor: %s" % dead[:5])

    page = doc(SPEC, "--format", "html")
    check(page.returncode == 0 and page.stderr == b"", "doc (HTML) failed: %r" % page.stderr[:300])
    p = Page()
    p.feed(page.stdout.decode("utf-8"))
    check(not p.problems and not p.stack, "HTML not well formed: %s %s" % (p.problems[:3], p.stack[:3]))
    check(not p.external, "HTML loads external resources: %s" % p.external[:3])
    check(sorted(i for i in p.ids if "-" in i) == sorted(want), "HTML ids differ from the declarations")
    check(len(p.ids) == len(set(p.ids)), "an HTML id appears twice")
    dead = sorted(set(h[1:] for h in p.links if h.startswith("#") and h[1:] not in p.ids))
    check(not dead, "HTML links to no anchor: %s" % dead[:5])

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "doc.html")
        w = doc(SPEC, "--format", "html", "-o", out)
        check(w.returncode == 0 and w.stdout == b"", "doc -o FILE failed")
        with open(out, "rb") as f:
            check(f.read() == page.stdout, "doc -o FILE wrote other bytes than stdout")
        bad = os.path.join(tmp, "missing-dir", "doc.md")
        w = doc(SPEC, "-o", bad)
        check(w.returncode == 2 and not os.path.exists(bad), "doc -o into a missing folder is not exit 2")
        broken = os.path.join(tmp, "broken.kpi")
        with open(broken, "w") as f:
            f.write("period month\nindicator x count = nosuch\n")
        w = doc(broken)
        check(w.returncode == 1 and w.stdout == b"" and b"error" in w.stderr,
              "doc on a spec with errors is not exit 1 with nothing on stdout")
    u = doc(SPEC, "--format", "pdf")
    check(u.returncode == 2 and b"md or html" in u.stderr, "an unknown doc format is not a usage error")

    return finish("doc: %d entries, %d Markdown links, %d HTML links: all fine"
                  % (len(want), len(targets), len(p.links)))


sys.exit(main())
