#!/usr/bin/env python3
"""The layout of src/ is the pipeline (src/README.md): a file of a stage includes, even
through other headers, only headers of its own stage and of the stages above it, and no
header of one module includes a header that includes it back. A new back end or command
that adds an arrow back up fails here. Every source file opens with "/* NAME — …".

usage: test_layout.py KPIC   (run from the repository root; KPIC is not used)
"""
import os, re, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from expect import check, finish  # noqa: E402

ORDER = ["base", "front", "ir", "engine", "report"]
INCLUDE = re.compile(r'#include "(?:kpic/)?([a-z_0-9]+\.h)"')

# where each header belongs: beside its sources, or as the public header of a module
stage_of = {}
for stage in ORDER:
    for name in os.listdir(os.path.join("src", stage)):
        if name.endswith(".c"):
            stage_of[name[:-2] + ".h"] = stage
        elif name.endswith(".h"):
            stage_of[name] = stage
# public headers without a .c of their own name
for header, stage in {"ast.h": "front", "diag.h": "front", "check.h": "front", "ir.h": "ir"}.items():
    stage_of.setdefault(header, stage)


def locate(header):
    for candidate in [os.path.join("include", "kpic", header)] + [os.path.join("src", s, header) for s in ORDER]:
        if os.path.exists(candidate):
            return candidate
    return None      # a generated header (parser.h) or a system one


def direct(path):
    with open(path, encoding="utf-8") as f:
        return INCLUDE.findall(f.read())


def reach(path):
    seen, todo = set(), [path]
    while todo:
        for h in direct(todo.pop()):
            if h not in seen:
                seen.add(h)
                where = locate(h)
                if where:
                    todo.append(where)
    return seen


files = 0
for stage in ORDER:
    for name in sorted(os.listdir(os.path.join("src", stage))):
        if not name.endswith((".c", ".h")):
            continue
        files += 1
        for header in sorted(reach(os.path.join("src", stage, name))):
            owner = stage_of.get(header)
            if owner is None:
                continue
            check(ORDER.index(owner) <= ORDER.index(stage),
                  f"src/{stage}/{name} includes {header} of the later stage {owner}")

# no two headers include each other (directly or through others)
headers = {h: locate(h) for h in stage_of if locate(h)}
for h, path in headers.items():
    for other in reach(path):
        if other != h and other in headers and h in reach(headers[other]):
            check(False, f"{h} and {other} include each other")

# one comment style in file headers: "/* NAME — what it owns", so a reader (and grep)
# finds every module's summary the same way
import glob  # noqa: E402
sources = sorted(glob.glob("src/*/*.[ch]") + glob.glob("include/kpic/*.h"))
for path in sources:
    with open(path, encoding="utf-8") as f:
        first = f.readline()
    name = os.path.basename(path)
    check(first.startswith(f"/* {name} — "), f"{path}: the first line is not '/* {name} — …': {first.strip()}")

check(files > 30, f"only {files} files under the stage folders")
sys.exit(finish(f"layout: {files} files, every include points up the pipeline"))
