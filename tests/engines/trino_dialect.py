"""Trino cannot run here (it needs a coordinator JVM service and a catalog), so its SQL
is checked by parsing: sqlglot (PyPI, from the test virtual environment) in the trino
dialect, with errors raised, not skipped."""
from . import server

NAME = "trino"


def parse(sql):
    """The sqlglot expression of SQL in the trino dialect; EngineError when it does not parse."""
    try:
        import sqlglot
        from sqlglot.errors import ParseError
    except ImportError:
        raise server.EngineMissing("the Python package sqlglot is missing: run this under the "
                                 "test virtual environment (.ci/install-deps creates it)") from None
    try:
        parsed = sqlglot.parse(sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    except ParseError as e:
        raise server.EngineError("not Trino SQL: %s" % e) from None
    statements = [p for p in parsed if p is not None]
    if len(statements) != 1:
        raise server.EngineError("expected one statement, found %d" % len(statements))
    return statements[0]
