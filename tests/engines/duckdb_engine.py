"""DuckDB (PyPI `duckdb`, from the test virtual environment), in memory, with its
temporary files in a new temporary directory. Tables are loaded with read_csv and the
column types given explicitly (no type detection)."""
import os

from . import server, sources

NAME = "duckdb"
TYPES = {"text": "VARCHAR", "int": "BIGINT", "number": "DECIMAL(38,18)", "money": "DECIMAL(20,2)",
         "date": "DATE", "bool": "BOOLEAN"}


def quote(name):
    return '"' + name.replace('"', '""') + '"'


def _literal(text):
    return "'" + text.replace("'", "''") + "'"


class Engine:
    name = NAME
    quote = staticmethod(quote)

    def __init__(self):
        self.dir = None
        self.con = None

    def __enter__(self):
        try:
            import duckdb
        except ImportError:
            raise server.EngineMissing("the Python package duckdb is missing: run this under the "
                                     "test virtual environment (.ci/install-deps creates it)") from None
        self.dir = server.make_workdir("duckdb")
        try:
            self.con = duckdb.connect(":memory:", config={"temp_directory": self.dir, "threads": 2})
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        try:
            if self.con is not None:
                self.con.close()
        finally:
            if self.dir is not None:
                server.remove_workdir(self.dir)
        return False

    def load(self, source, table=None):
        """Creates TABLE (default: the source's name) with the declared columns and reads
        the source's rows into it; returns the number of rows."""
        table = table or source.name
        rows = sources.read_rows(source)
        path = os.path.join(self.dir, table + ".csv")
        sources.write_csv(path, source, rows)
        cols = ", ".join("%s %s" % (quote(c.name), TYPES[c.type]) for c in source.columns)
        types = ", ".join("%s: %s" % (_literal(c.name), _literal(TYPES[c.type])) for c in source.columns)
        try:
            self.con.execute("CREATE TABLE %s (%s)" % (quote(table), cols))
            self.con.execute("INSERT INTO %s SELECT * FROM read_csv(%s, header = true, "
                             "auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
                             "nullstr = '', columns = {%s})"
                             % (quote(table), _literal(path), types))
        except Exception as e:
            raise server.EngineError("loading %s into DuckDB: %s" % (table, e)) from None
        os.remove(path)
        return len(rows)

    def query(self, sql):
        """Rows of SQL as tuples of Python values (Decimal for DECIMAL)."""
        try:
            return [tuple(r) for r in self.con.execute(sql).fetchall()]
        except Exception as e:
            raise server.EngineError("DuckDB query: %s" % e) from None
