"""Spark SQL (PyPI `pyspark`, from the test virtual environment) in local mode,
`local[2]`, with the machine's Java. One SparkSession per Engine: a test enters the
Engine once and runs everything in it (a session takes tens of seconds to start).

Each source becomes a temporary view over its CSV file, read with the declared schema
(never inferred) and mode FAILFAST, so a cell Spark cannot read fails the load instead of
becoming null. Spark 4 runs in ANSI mode by default (spark.sql.ansi.enabled): division
by zero and overflowing casts are errors there, not nulls.
"""
import os
import shutil
import sys

from . import server, sources

NAME = "spark"
TYPES = {"text": "STRING", "int": "BIGINT", "number": "DECIMAL(38,18)", "money": "DECIMAL(20,2)",
         "date": "DATE", "bool": "BOOLEAN"}

LOG4J2 = """rootLogger.level = error
rootLogger.appenderRef.stderr.ref = stderr
appender.console.type = Console
appender.console.name = stderr
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


def quote(name):
    return "`" + name.replace("`", "``") + "`"


class Engine:
    name = NAME
    quote = staticmethod(quote)

    def __init__(self):
        self.dir = None
        self.spark = None

    def __enter__(self):
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise server.EngineMissing("the Python package pyspark is missing: run this under the "
                                     "test virtual environment (.ci/install-deps creates it)") from None
        if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
            raise server.EngineMissing("no Java for Spark: java is not on PATH and JAVA_HOME is unset "
                                     "(Debian package default-jre-headless; .ci/install-deps installs it)")
        self.dir = server.make_workdir("spark")
        # errors only: Spark's warnings about Hadoop libraries and local dirs would bury a
        # failing test's own output
        log_config = os.path.join(self.dir, "log4j2.properties")
        with open(log_config, "w", encoding="utf-8") as f:
            f.write(LOG4J2)
        os.environ["PYSPARK_PYTHON"] = sys.executable
        os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
        try:
            self.spark = (SparkSession.builder.master("local[2]").appName("kpic-test")
                          .config("spark.ui.enabled", "false")
                          .config("spark.driver.host", "127.0.0.1")
                          .config("spark.driver.bindAddress", "127.0.0.1")
                          .config("spark.ui.showConsoleProgress", "false")
                          # the statement is a few hundred operators over tables of a few
                          # thousand rows: the time is in planning and in each stage's fixed
                          # cost, not in the rows. One shuffle partition halves the tasks;
                          # adaptive execution re-plans at every one of ~100 stage
                          # boundaries (2.5 times as long); whole-stage code generation
                          # compiles Java for every stage, which tiny data never pays back
                          .config("spark.sql.shuffle.partitions", "1")
                          .config("spark.sql.adaptive.enabled", "false")
                          .config("spark.sql.codegen.wholeStage", "false")
                          .config("spark.default.parallelism", "2")
                          .config("spark.sql.session.timeZone", "UTC")
                          .config("spark.local.dir", self.dir)
                          .config("spark.sql.warehouse.dir", os.path.join(self.dir, "warehouse"))
                          # short queries on small tables: the JIT's first tier and the
                          # serial collector halve the session's start and query times
                          .config("spark.driver.extraJavaOptions",
                                  "-Dderby.system.home=%s -Dlog4j2.configurationFile=%s "
                                  "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC" % (self.dir, log_config))
                          .getOrCreate())
            self.spark.sparkContext.setLogLevel("ERROR")
        except BaseException as e:
            self.__exit__(None, None, None)
            if isinstance(e, Exception):
                raise server.EngineError("Spark did not start: %s" % e) from None
            raise
        return self

    def __exit__(self, *exc):
        try:
            if self.spark is not None:
                self.spark.stop()
        finally:
            if self.dir is not None:
                server.remove_workdir(self.dir)
        return False

    def load(self, source, table=None):
        """Registers TABLE (default: the source's name) as a temporary view of the source's
        rows with the declared schema, cached; returns the number of rows in the file. Spark
        reads the file when a query first needs it: a cell it cannot read fails that query."""
        table = table or source.name
        rows = sources.read_rows(source)
        path = os.path.join(self.dir, table + ".csv")   # read lazily: kept until __exit__
        sources.write_csv(path, source, rows)
        schema = ", ".join("%s %s" % (quote(c.name), TYPES[c.type]) for c in source.columns)
        try:
            df = self.spark.read.csv(path, schema=schema, header=True, multiLine=True, quote='"',
                                     escape='"', nullValue="", mode="FAILFAST", encoding="UTF-8",
                                     enforceSchema=False)
            df.createOrReplaceTempView(table)
            # read and parse the file once, by the first query that needs it
            self.spark.catalog.cacheTable(table)
        except Exception as e:
            raise server.EngineError("loading %s into Spark: %s" % (table, str(e)[:3000])) from None
        return len(rows)

    def query(self, sql):
        """Rows of SQL as tuples of Python values (Decimal for DECIMAL)."""
        try:
            return [tuple(r) for r in self.spark.sql(sql).collect()]
        except Exception as e:
            raise server.EngineError("Spark query: %s" % str(e)[:3000]) from None
