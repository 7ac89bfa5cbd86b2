"""Real SQL engines for the test suite (docs/testing.md, "The engine harness").

One module per engine. Each has an `Engine` class used as a context manager: entering
starts a private instance (a server in a temporary directory on a Unix socket, or an
embedded engine), leaving stops it and removes the directory, also on exceptions and on
SIGTERM/SIGINT (server.install_signal_handlers). Every engine offers the same calls:

    engine.load(source, table=None)   create a table from a kpic source declaration
                                      and load the source's CSV, empty cells as NULL
    engine.query(sql)                 run one SQL text, return the rows as Python values
                                      (int, Decimal, str, bool, datetime.date, None)
    engine.quote(name)                an identifier quoted for the dialect

sources.py reads the declarations from a spec and the cells from the CSV files exactly
as `kpic eval` accepts them (docs/language.md, section 3 "source"), so every engine
loads the same values. DuckDB, Spark and sqlglot come from the test virtual environment
that .ci/install-deps creates (venv.py).
"""
