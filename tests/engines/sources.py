"""Source declarations of a spec and the values of their CSV cells, as `kpic eval` reads them.

The declarations are read from the spec text (and the files it imports) with a small
pattern, not repeated by hand: `source NAME "PATH" { COLUMN TYPE [time] [staff] ... }`
and the roster `staff "PATH" { ... }`, which is the source named `staff`; a source's
`encoding`, a column's `header` and bool words are honoured, `key (…)` lines change no
value, and a declared `format` is refused (not re-implemented here).

The cells follow docs/language.md section 3 (the table of column types): an empty cell,
quoted or not, is null whatever the type; `date` keeps the date of a datetime; `bool`
takes true/false, 1/0, yes/no in any case; `money` has at most 2 places unless the extra
ones are zeros. A cell kpic would reject raises CellError with file, line and column, so
an engine never receives a value kpic would not have computed with.
"""
import csv
import datetime as dt
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal

KPIC_TYPES = ("text", "int", "number", "money", "date", "bool")


@dataclass
class Column:
    name: str
    type: str                   # one of KPIC_TYPES
    time: bool = False          # the `time` flag: places each row in a period
    staff: bool = False         # the `staff` flag: credits each row to a staff member
    header: str = None          # `header "…"`: its name in the CSV header (default: name)
    true_word: str = None       # `true "…" false "…"`: a bool column's declared words
    false_word: str = None

    def header_name(self):
        return self.header if self.header is not None else self.name


@dataclass
class Source:
    name: str                   # the source's name; `staff` for the roster
    path: str                   # the CSV file, resolved against the declaring spec's folder
    columns: list = field(default_factory=list)
    encoding: str = None        # `encoding "…"`; None: UTF-8

    def column(self, name):
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError("source %s has no column %s" % (self.name, name))


class CellError(ValueError):
    pass


_BLOCK = re.compile(r'^[ \t]*(?:source[ \t]+(\w+)[ \t]+|(staff)[ \t]+)"([^"\n]*)"[ \t]*\{',
                    re.MULTILINE)
_IMPORT = re.compile(r'^[ \t]*import[ \t]+"([^"\n]*)"', re.MULTILINE)
_COLUMN = re.compile(r'^(\w+)[ \t]+(\w+)((?:[ \t]+(?:time|staff))*)'
                     r'((?:[ \t]+(?:header|format|true|false)[ \t]+"[^"\n]*")*)[ \t]*$')
_CLAUSE = re.compile(r'(header|format|true|false)[ \t]+"([^"\n]*)"')
_ENCODING = re.compile(r'^encoding[ \t]+"([^"\n]*)"$')
_KEY = re.compile(r'^key[ \t]*\([^()]*\)$')


def _strip_comment(line):
    # a '#' outside a string starts a comment (a format string may hold one)
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted:
            return line[:i].strip()
    return line.strip()


def read_spec_sources(spec_path, _seen=None):
    """The sources (roster included) declared in SPEC_PATH and the files it imports, in
    declaration order. Raises ValueError on a declaration this reader does not understand,
    so a change of the language cannot silently drop a column."""
    seen = _seen if _seen is not None else set()
    spec_path = os.path.abspath(spec_path)
    if spec_path in seen:
        return []
    seen.add(spec_path)
    folder = os.path.dirname(spec_path)
    with open(spec_path, encoding="utf-8") as f:
        text = f.read()
    found = []
    for m in _IMPORT.finditer(text):
        found.append((m.start(), read_spec_sources(os.path.join(folder, m.group(1)), seen)))
    for m in _BLOCK.finditer(text):
        name = m.group(1) or m.group(2)
        end = text.find("}", m.end())
        if end < 0:
            raise ValueError("%s: source %s has no closing brace" % (spec_path, name))
        source = Source(name, os.path.normpath(os.path.join(folder, m.group(3))))
        for line in text[m.end():end].split("\n"):
            line = _strip_comment(line)
            if not line:
                continue
            em = _ENCODING.match(line)
            if em:
                source.encoding = em.group(1)
                continue
            if _KEY.match(line):
                continue                  # a key changes which rows are bad, not values
            cm = _COLUMN.match(line)
            if not cm or cm.group(2) not in KPIC_TYPES:
                raise ValueError("%s: source %s: cannot read the column declaration %r"
                                 % (spec_path, name, line))
            flags = cm.group(3).split()
            clauses = dict(_CLAUSE.findall(cm.group(4)))
            if "format" in clauses:
                # declared cell formats (cellfmt.c) are not re-implemented here
                raise ValueError("%s: source %s: column %s has a format, which this reader "
                                 "does not read" % (spec_path, name, cm.group(1)))
            source.columns.append(Column(cm.group(1), cm.group(2), "time" in flags, "staff" in flags,
                                         clauses.get("header"), clauses.get("true"),
                                         clauses.get("false")))
        found.append((m.start(), [source]))
    return [s for _, group in sorted(found, key=lambda p: p[0]) for s in group]


_INT = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[ T]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)?")
_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")


def parse_cell(kind, text, words=None):
    """The value of one non-empty CSV cell of type KIND; raises CellError with the reason.
    WORDS: a bool column's declared (true, false) words, which replace the default ones."""
    if kind == "text":
        if "\0" in text:
            raise CellError("a NUL byte in a text cell")
        return text
    if kind == "int":
        if not _INT.fullmatch(text):
            raise CellError("%r is not an int" % text)
        value = int(text)
        if not -2**63 <= value < 2**63:
            raise CellError("%r is out of the 64-bit range" % text)
        return value
    if kind in ("number", "money"):
        if not _DECIMAL.fullmatch(text):
            raise CellError("%r is not a %s" % (text, kind))
        value = Decimal(text)
        places = len(text.split(".", 1)[1]) if "." in text else 0
        if kind == "number" and places > 18:
            raise CellError("%r has more than 18 places" % text)
        if kind == "money":
            if value != value.quantize(Decimal("0.01")):
                raise CellError("%r has more than 2 places" % text)
            value = value.quantize(Decimal("0.01"))
        return value
    if kind == "date":
        m = _DATE.fullmatch(text)
        if not m:
            raise CellError("%r is not a date" % text)
        try:
            day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if m.group(4) is not None:
                dt.time(int(m.group(4)), int(m.group(5)), int(m.group(6) or 0))
        except ValueError as e:
            raise CellError("%r is not a date: %s" % (text, e)) from None
        return day
    if kind == "bool" and words and words[0] is not None:
        if text == words[0]:
            return True
        if text == words[1]:
            return False
        raise CellError("%r is neither %r nor %r" % (text, words[0], words[1]))
    if kind == "bool":
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise CellError("%r is not a bool" % text)
    raise CellError("unknown type %r" % kind)


_read_cache = {}


def read_rows(source):
    """The rows of SOURCE's CSV file (see _read_rows), read once per file and declaration."""
    key = (source.path, source.encoding, tuple((c.name, c.type, c.header_name(), c.true_word)
                                               for c in source.columns),
           os.stat(source.path).st_mtime_ns)
    if key not in _read_cache:
        _read_cache[key] = _read_rows(source)
    return [list(r) for r in _read_cache[key]]


def _read_rows(source):
    """The rows of SOURCE's CSV file as lists of values in declaration order (None for an
    empty cell). Raises CellError (file:line: column: reason) on a cell kpic rejects."""
    encoding = {None: "utf-8-sig", "UTF-16": "utf-16"}.get(source.encoding, (source.encoding or "").lower())
    with open(source.path, encoding=encoding, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise CellError("%s: no header row" % source.path)
        where = {}
        for i, name in enumerate(header):
            if name in where and name:
                raise CellError("%s: two columns named %r" % (source.path, name))
            where[name] = i
        missing = [c.header_name() for c in source.columns if c.header_name() not in where]
        if missing:
            raise CellError("%s: no column %s in the header" % (source.path, ", ".join(missing)))
        picks = [(where[c.header_name()], c) for c in source.columns]
        rows = []
        for record in reader:
            if not record:
                continue                              # a blank line
            if len(record) != len(header):
                raise CellError("%s:%d: %d fields, the header has %d"
                                % (source.path, reader.line_num, len(record), len(header)))
            row = []
            for i, column in picks:
                cell = record[i]
                if cell == "":
                    row.append(None)
                    continue
                try:
                    row.append(parse_cell(column.type, cell, (column.true_word, column.false_word)))
                except CellError as e:
                    raise CellError("%s:%d: column %s: %s"
                                    % (source.path, reader.line_num, column.name, e)) from None
            rows.append(row)
    return rows


def plain(value):
    """VALUE as the plain text every engine's CSV reader takes: ISO dates, decimals
    without exponent, true/false."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_csv(path, source, rows, null=""):
    """Writes ROWS as an RFC 4180 file with a header, NULL as the unquoted text NULL and
    every other value quoted, so an engine that tells quoted from unquoted fields reads
    an empty unquoted field as NULL and nothing else as NULL."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(_quoted(c.name) for c in source.columns) + "\n")
        for row in rows:
            f.write(",".join(null if v is None else _quoted(plain(v)) for v in row) + "\n")


def _quoted(text):
    return '"' + text.replace('"', '""') + '"'
