"""Trino cannot run here (it needs a coordinator JVM service and a catalog), so its SQL
is checked by parsing: sqlglot (PyPI, from the test virtual environment) in the trino
dialect, with errors raised, not skipped.

Parsing proves syntax, not meaning: sqlglot also accepts spellings Trino lacks when it
knows them from other dialects (`IFNULL`, `LIMIT 1, 2`). A call of a function sqlglot
does not know at all is rejected here, so a misspelt function fails; golden SQL files
cover the rest."""
from . import server

NAME = "trino"


def parse(sql):
    """The sqlglot expression of SQL in the trino dialect; EngineError when it does not parse."""
    try:
        import sqlglot
        from sqlglot import exp
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
    unknown = sorted({f.name for f in statements[0].find_all(exp.Anonymous)})
    if unknown:
        raise server.EngineError("unknown function %s" % ", ".join(unknown))
    return statements[0]
