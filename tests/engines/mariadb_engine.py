"""A private MariaDB server (Debian's mariadb-server package) for one test.

mariadb-install-db into a new temporary directory, then mariadbd as a child of the test
with `--socket` in that directory and `--skip-networking` (no TCP port). As root the
server runs as the `mysql` user. Text columns use utf8mb4_bin, MariaDB's usual binary
collation, which compares 'c1' and 'c1 ' as equal (PAD SPACE): the statement must read
them as binary strings to compare them byte for byte as kpic does. Tables are loaded
with LOAD DATA LOCAL INFILE (the client reads the file) and a load that raises any
warning fails: MariaDB turns bad or truncated cells of LOAD DATA into warnings, which
would otherwise change figures silently. The system's own MariaDB service is never
used.
"""
import datetime as dt
import os
import signal
import subprocess
import xml.etree.ElementTree as ET
from decimal import Decimal

from . import server, sources

NAME = "mariadb"
TYPES = {"text": "TEXT", "int": "BIGINT", "number": "DECIMAL(38,18)", "money": "DECIMAL(20,2)",
         "date": "DATE", "bool": "BOOLEAN"}
_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_INT_TYPES = ("TINY", "SHORT", "LONG", "LONGLONG", "INT24", "YEAR")


def quote(name):
    return "`" + name.replace("`", "``") + "`"


def _field(value):
    """One field of a LOAD DATA file with ESCAPED BY '\\\\': NULL is \\N, others quoted."""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "1" if value else "0"
    text = sources.plain(value)
    text = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\r", "\\r"))
    return '"' + text + '"'


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
        server.require(("mariadb-install-db", "mariadb-server"), ("mariadbd", "mariadb-server"),
                       ("mariadb", "mariadb-client"))
        owner = server.service_user("mysql")
        self.dir = server.make_workdir("mariadb", owner)
        data = os.path.join(self.dir, "data")
        self.socket = os.path.join(self.dir, "sock")
        server.run(server.as_user(["mariadb-install-db", "--no-defaults", "--datadir=" + data,
                                   "--auth-root-authentication-method=normal",
                                   "--skip-test-db", "--skip-name-resolve"], owner),
                   what="mariadb-install-db", timeout=180)
        self.server = server.ServerProcess(
            server.as_user(["mariadbd", "--no-defaults", "--datadir=" + data,
                            "--socket=" + self.socket, "--skip-networking",
                            # its own temporary tables: in a shared /tmp, the temporary
                            # tables of big queries were lost now and then ("Error on
                            # delete of '/tmp/#sql-temptable-…'", errno 2)
                            "--tmpdir=" + self.dir,
                            "--pid-file=" + os.path.join(self.dir, "mariadbd.pid"),
                            "--local-infile=1", "--skip-log-bin", "--skip-name-resolve",
                            "--innodb-buffer-pool-size=64M", "--innodb-flush-log-at-trx-commit=0",
                            "--character-set-server=utf8mb4", "--collation-server=utf8mb4_bin"],
                           owner),
            os.path.join(self.dir, "server.log"), self.dir)
        # --auth-root-authentication-method=normal: root without a password, whoever runs
        self.user = "root"

        def ready():
            return subprocess.run(["mariadb", "--no-defaults", "-S", self.socket, "-u", self.user,
                                   "-e", "SELECT 1"], capture_output=True).returncode == 0
        self.server.wait_ready(ready, "MariaDB")
        self._client(["-e", "CREATE DATABASE kpic"], "creating the database")

    def __exit__(self, *exc):
        try:
            if self.server is not None:
                self.server.stop(signal.SIGTERM)      # normal shutdown
        finally:
            if self.dir is not None:
                server.remove_workdir(self.dir)
        return False

    def _client(self, args, what, input_text=None):
        return server.run(["mariadb", "--no-defaults", "-S", self.socket, "-u", self.user,
                           "--local-infile=1", "--default-character-set=utf8mb4"] + args,
                          input_text=input_text, what=what)

    def load(self, source, table=None):
        """Creates TABLE (default: the source's name) with the declared columns and loads
        the source's rows into it; returns the number of rows."""
        table = table or source.name
        rows = sources.read_rows(source)
        path = os.path.join(self.dir, table + ".load")
        with open(path, "w", encoding="utf-8", newline="") as f:
            for row in rows:
                f.write(",".join(_field(v) for v in row) + "\n")
        cols = ", ".join("%s %s" % (quote(c.name), TYPES[c.type]) for c in source.columns)
        script = ("CREATE TABLE %s (%s);\n"
                  "LOAD DATA LOCAL INFILE '%s' INTO TABLE %s CHARACTER SET utf8mb4 "
                  "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '\\\\' "
                  "LINES TERMINATED BY '\\n' (%s);\n"
                  "SHOW WARNINGS;\n"
                  % (quote(table), cols, path.replace("\\", "\\\\").replace("'", "\\'"), quote(table),
                     ", ".join(quote(c.name) for c in source.columns)))
        out = self._client(["--batch", "--database=kpic"], "loading %s into MariaDB" % table, script)
        os.remove(path)
        if out.strip():
            raise server.EngineError("MariaDB warned while loading %s:\n%s" % (table, out.strip()[:3000]))
        return len(rows)

    def query(self, sql):
        """Rows of SQL (one statement) as tuples of Python values."""
        body = sql.strip().rstrip(";")
        types = self._types(body)
        out = self._client(["--xml", "--database=kpic"], "MariaDB query", body + ";\n")
        rows = []
        for row in ET.fromstring(out).iter("row"):
            fields = row.findall("field")
            rows.append(tuple(_value(t, f) for t, f in zip(types, fields)))
        return rows

    def _types(self, body):
        """The MySQL protocol type of each result column, from the client's metadata."""
        out = self._client(["--column-type-info", "--table", "--database=kpic"], "MariaDB query",
                           "SELECT * FROM (%s) AS kpic_result LIMIT 0;\n" % body)
        return [line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Type:")]


def _value(kind, field):
    if field.get(_NIL) == "true":
        return None
    text = field.text or ""
    if kind in ("NEWDECIMAL", "DECIMAL", "DOUBLE", "FLOAT"):
        return Decimal(text)
    if kind in _INT_TYPES:
        return int(text)
    if kind in ("DATE", "NEWDATE"):
        return dt.date.fromisoformat(text)
    return text
