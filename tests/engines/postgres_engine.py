"""A private PostgreSQL server (Debian's postgresql package) for one test.

initdb in a new temporary directory, then the postmaster as a child of the test with
`-k DIR -c listen_addresses=''`: a Unix socket in that directory and no TCP port. As
root the server runs as the `postgres` user (PostgreSQL refuses root). The client is
psql; tables are loaded with `\\copy ... (FORMAT csv)`, so the server needs no access
to the data files. The system's own PostgreSQL service is never used.
"""
import csv
import datetime as dt
import glob
import io
import os
import signal
import subprocess
from decimal import Decimal

from . import server, sources

NAME = "postgres"
TYPES = {"text": "TEXT", "int": "BIGINT", "number": "NUMERIC", "money": "NUMERIC(20,2)",
         "date": "DATE", "bool": "BOOLEAN"}
_NULL = "<kpic-null>"
_DESC, _ROWS = "<kpic-describe>", "<kpic-rows>"


def _bin_dir():
    """The newest PostgreSQL version's program folder (/usr/lib/postgresql/N/bin)."""
    found = glob.glob("/usr/lib/postgresql/*/bin/postgres")
    if not found:
        raise server.EngineMissing("PostgreSQL is not installed (Debian package postgresql; "
                                 ".ci/install-deps installs it)")
    found.sort(key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return os.path.dirname(found[-1])


def quote(name):
    return '"' + name.replace('"', '""') + '"'


class Engine:
    name = NAME
    quote = staticmethod(quote)

    def __init__(self):
        self.dir = None
        self.server = None

    def __enter__(self):
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self):
        bindir = _bin_dir()
        self.psql = os.path.join(bindir, "psql")
        owner = server.service_user("postgres")
        self.dir = server.make_workdir("postgres", owner)
        data = os.path.join(self.dir, "data")
        server.run(server.as_user([os.path.join(bindir, "initdb"), "-D", data, "-U", "kpic",
                                   "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"],
                                  owner), what="initdb", timeout=120)
        self.server = server.ServerProcess(
            server.as_user([os.path.join(bindir, "postgres"), "-D", data, "-k", self.dir,
                            "-c", "listen_addresses=", "-c", "fsync=off",
                            "-c", "full_page_writes=off", "-c", "synchronous_commit=off"], owner),
            os.path.join(self.dir, "server.log"), self.dir)
        pg_isready = os.path.join(bindir, "pg_isready")

        def ready():
            return subprocess.run([pg_isready, "-q", "-h", self.dir, "-U", "kpic", "-d", "postgres"],
                                  capture_output=True).returncode == 0
        self.server.wait_ready(ready, "PostgreSQL")

    def __exit__(self, *exc):
        try:
            if self.server is not None:
                self.server.stop(signal.SIGINT)       # fast shutdown: ends open sessions
        finally:
            if self.dir is not None:
                server.remove_workdir(self.dir)
        return False

    def _psql(self, script, what):
        return server.run([self.psql, "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1",
                           "-h", self.dir, "-U", "kpic", "-d", "postgres", "-f", "-"],
                          input_text=script, what=what)

    def load(self, source, table=None):
        """Creates TABLE (default: the source's name) with the declared columns and copies
        the source's rows into it; returns the number of rows."""
        table = table or source.name
        rows = sources.read_rows(source)
        path = os.path.join(self.dir, table + ".csv")
        sources.write_csv(path, source, rows)
        cols = ", ".join("%s %s" % (quote(c.name), TYPES[c.type]) for c in source.columns)
        self._psql("CREATE TABLE %s (%s);\n\\copy %s FROM '%s' WITH (FORMAT csv, HEADER true)\n"
                   % (quote(table), cols, quote(table), path.replace("'", "''")),
                   "loading %s into PostgreSQL" % table)
        os.remove(path)
        return len(rows)

    def query(self, sql):
        """Rows of SQL (one statement) as tuples of Python values."""
        body = sql.strip().rstrip(";")
        out = self._psql("\\pset null '%s'\n\\echo %s\n%s\n\\gdesc\n\\echo %s\n\\g\n"
                         % (_NULL, _DESC, body, _ROWS), "PostgreSQL query")
        head, _, rows_text = out.partition(_ROWS + "\n")
        desc = list(csv.reader(io.StringIO(head.partition(_DESC + "\n")[2])))[1:]
        records = list(csv.reader(io.StringIO(rows_text)))[1:]
        types = [t for _, t in desc]
        return [tuple(_value(t, v) for t, v in zip(types, r)) for r in records]


def _value(pg_type, text):
    if text == _NULL:
        return None
    if pg_type.startswith("numeric") or pg_type in ("double precision", "real"):
        return Decimal(text)
    if pg_type in ("bigint", "integer", "smallint"):
        return int(text)
    if pg_type == "boolean":
        return text == "t"
    if pg_type == "date":
        return dt.date.fromisoformat(text)
    return text
