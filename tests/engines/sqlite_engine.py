"""SQLite through the sqlite3 command-line tool (Debian's sqlite3 package), on a database
file in a new temporary directory.

SQLite has no DATE, BOOLEAN or exact DECIMAL: columns get the declared type names below
and so their affinities (money and number are NUMERIC: a value with a fraction is stored
as a binary double), dates are ISO text and bools 1/0. `.import` reads an empty field
as '', so every column is set to NULLIF(column, '') after the import: in kpic an empty
cell is null whatever the type.
"""
import json
import os
import shutil
from decimal import Decimal

from . import server, sources

NAME = "sqlite"
TYPES = {"text": "TEXT", "int": "INTEGER", "number": "NUMERIC", "money": "DECIMAL(20,2)",
         "date": "DATE", "bool": "BOOLEAN"}


def quote(name):
    return '"' + name.replace('"', '""') + '"'


class Engine:
    name = NAME
    quote = staticmethod(quote)

    def __init__(self):
        self.dir = None

    def __enter__(self):
        if not shutil.which("sqlite3"):
            raise server.EngineMissing("sqlite3 not found (Debian package sqlite3; "
                                     ".ci/install-deps installs it)")
        self.dir = server.make_workdir("sqlite")
        self.db = os.path.join(self.dir, "kpic.sqlite")
        return self

    def __exit__(self, *exc):
        if self.dir is not None:
            server.remove_workdir(self.dir)
        return False

    def _run(self, script, what):
        return server.run(["sqlite3", "-bail", self.db], input_text=script, what=what)

    def load(self, source, table=None):
        """Creates TABLE (default: the source's name) with the declared columns and imports
        the source's rows into it; returns the number of rows."""
        table = table or source.name
        rows = [[(1 if v else 0) if isinstance(v, bool) else v for v in row]
                for row in sources.read_rows(source)]
        path = os.path.join(self.dir, table + ".csv")
        sources.write_csv(path, source, rows)
        cols = ", ".join("%s %s" % (quote(c.name), TYPES[c.type]) for c in source.columns)
        nulls = ", ".join("%s = NULLIF(%s, '')" % (quote(c.name), quote(c.name)) for c in source.columns)
        self._run("CREATE TABLE %s (%s);\n.import --csv --skip 1 '%s' %s\nUPDATE %s SET %s;\n"
                  % (quote(table), cols, path, quote(table), quote(table), nulls),
                  "loading %s into sqlite3" % table)
        os.remove(path)
        return len(rows)

    def query(self, sql):
        """Rows of SQL (one statement) as tuples: int, Decimal (from REAL), str or None.
        Result columns need distinct names (the JSON output is one object per row)."""
        out = self._run(".mode json\n" + sql.strip().rstrip(";") + ";\n", "sqlite3 query")
        if not out.strip():
            return []
        return [tuple(r.values()) for r in json.loads(out, parse_float=Decimal)]
