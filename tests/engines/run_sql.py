#!/usr/bin/env python3
"""Runs SQL by hand on one engine of the harness, with a spec's sources loaded.

usage: tests/engines/run_sql.py ENGINE SPEC [FILE.sql]   (SQL from stdin without FILE)
       tests/engines/run_sql.py ENGINE SPEC --wait         (keep the server up; Ctrl-C ends)
       tests/engines/run_sql.py trino - [FILE.sql]         (parse only, with sqlglot)

ENGINE is sqlite, postgres, mariadb, duckdb, spark or trino. The engine starts in a
temporary directory, every source of SPEC is loaded into a table named after it, the
SQL (one statement) runs and its rows are printed one per line as Python values, then
the engine stops and the directory is removed. With --wait, the command to connect to
PostgreSQL or MariaDB is printed and the server stays up until Ctrl-C. DuckDB, Spark and
Trino need the test virtual environment (.ci/install-deps); the script moves into it.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from engines import venv  # noqa: E402

venv.reexec_inside()

from engines import server, sources  # noqa: E402
from engines import (duckdb_engine, mariadb_engine, postgres_engine, spark_engine,  # noqa: E402
                     sqlite_engine, trino_dialect)

MODULES = {m.NAME: m for m in (sqlite_engine, postgres_engine, mariadb_engine, duckdb_engine,
                               spark_engine)}


def main(argv):
    if len(argv) < 3 or argv[1] not in list(MODULES) + ["trino"]:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    name, spec, rest = argv[1], argv[2], argv[3:]
    wait = "--wait" in rest
    files = [a for a in rest if a != "--wait"]
    sql = None
    if not wait:
        if files:
            with open(files[0], encoding="utf-8") as f:
                sql = f.read()
        else:
            sql = sys.stdin.read()
    server.install_signal_handlers()
    try:
        if name == "trino":
            print(trino_dialect.parse(sql).sql(dialect="trino", pretty=True))
            return 0
        started = time.monotonic()
        with MODULES[name].Engine() as engine:
            for source in sources.read_spec_sources(spec):
                rows = engine.load(source)
                print("loaded %s: %d rows" % (source.name, rows), file=sys.stderr)
            print("ready after %.1f s" % (time.monotonic() - started), file=sys.stderr)
            if wait:
                if name == "postgres":
                    print("psql -h %s -U kpic -d postgres" % engine.dir)
                elif name == "mariadb":
                    print("mariadb -S %s -u root kpic" % engine.socket)
                else:
                    print("%s runs inside this process: pass the SQL instead of --wait" % name)
                    return 2
                sys.stdout.flush()
                while True:
                    time.sleep(3600)
            for row in engine.query(sql):
                print(row)
        return 0
    except server.EngineError as e:
        print("%s: %s" % (name, e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv))
