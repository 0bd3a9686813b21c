"""The Spark engine: `decide_chunk` over the Arrow batches of a Spark DataFrame
(`mapInArrow`), so that a Spark cluster computes exactly what one machine does.

Spark reads the input (its partitions are the file's splits, in the file's order);
each task decides its batches, typed back to the input's own Arrow types, and writes
them with the local engine's writer to one Parquet part of a staged folder on a file
system every executor sees; Spark brings back only what each batch read and its
problems, from which the driver numbers the rows, orders the parts and writes the
errors file. The plan carries the generated code, so executors need compile-rules
installed but not the tables.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from compiler.batch.engines import Summary, missing_extra, parquet_folder
from compiler.batch.plan import Job
from compiler.batch.sinks import writing_errors, writing_table
from compiler.batch.sources import RunError, Source, unreadable
from compiler.batch.staging import staged_folder

# What a task says of each batch it decided (one row per batch).
_INFO = "partition INT, attempt INT, batch INT, rows LONG, problems STRING"


def run_spark(
    plan: Job,
    source: Source,
    output: Path,
    errors: Path,
    *,
    master: str | None = None,
    partitions: int | None = None,
    chunk_rows: int,
) -> Summary:
    """Run PLAN over SOURCE with Spark (local mode on every core unless MASTER says
    a cluster): OUTPUT becomes a folder of Parquet parts, in the input's order."""
    if importlib.util.find_spec("pyspark") is None:
        raise missing_extra("spark", "PySpark")
    parquet_folder(output, "spark")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas")
        return _run(plan, source, output, errors, master, partitions, chunk_rows)


def _run(
    plan: Job,
    source: Source,
    output: Path,
    errors: Path,
    master: str | None,
    partitions: int | None,
    chunk_rows: int,
) -> Summary:
    from pyspark.sql import SparkSession

    schema = plan.output_schema(source.schema)
    coded = plan.coded_schema(schema)
    with _session(SparkSession, master) as spark:
        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(chunk_rows))
        if partitions:
            size = source.path.stat().st_size
            spark.conf.set(
                "spark.sql.files.maxPartitionBytes", str(max(size // partitions, 1))
            )
            spark.conf.set("spark.sql.files.openCostInBytes", "0")
        frame = _read(spark, source)
        with staged_folder(output) as staged:
            task = _Task(plan, coded or schema, source, str(staged), coded is None)
            try:
                found = frame.mapInArrow(task, _INFO).collect()
            except Exception as exc:  # noqa: BLE001 - Spark wraps every failure
                raise _failed(source, exc) from None
            batches = sorted((r.partition, r.batch, r) for r in found)
            _name_parts(staged, {(r.partition, r.attempt) for _, _, r in batches})
    total = rejected = 0
    with writing_errors(errors) as report:
        for _, _, info in batches:
            rejected += report.write(total, map(tuple, json.loads(info.problems)))
            total += info.rows
    return Summary(total, total - rejected, rejected, output, errors)


@contextlib.contextmanager
def _session(builder: Any, master: str | None) -> Iterator[Any]:
    """The Spark session in force in this process (tests share one), else a new one
    on MASTER (default: local mode, a worker thread per core), stopped at the end."""
    existing = builder.getActiveSession()
    if existing is not None:
        yield existing
        return
    local = master is None or master.startswith("local")
    if local:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    log = Path(__file__).with_name("spark-log4j2.properties")
    configured = (
        builder.builder.master(master or "local[*]")
        .appName("compile-rules run")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={log}")
        .config("spark.sql.caseSensitive", "true")  # Age and age are two columns
        .config("spark.sql.session.timeZone", "UTC")
    )
    if local:  # the workers run this Python, with compile-rules
        configured = configured.config("spark.pyspark.python", sys.executable)
    try:
        spark = configured.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - no Java, a cluster out of reach
        raise RunError(
            f"--engine spark could not start Spark on {master or 'local[*]'}: "
            f"{_first_line(exc)} (Spark needs Java 17 or later)",
            usage=True,
        ) from None
    try:
        yield spark
    finally:
        spark.stop()


def _read(spark: Any, source: Source) -> Any:
    """The input as Spark reads it: Parquet as typed; CSV with every column text
    (the header's names, trimmed), fields as RFC 4180 quotes them."""
    path = str(source.path)
    if source.format == "parquet":
        return spark.read.parquet(path)
    from pyspark.sql.types import StringType, StructField, StructType

    columns = StructType([StructField(n, StringType()) for n in source.header])
    return spark.read.csv(
        path,
        schema=columns,
        header=True,
        enforceSchema=True,
        quote='"',
        escape='"',
        mode="FAILFAST",
        encoding="UTF-8",
    )


class _Task:
    """What each Spark task runs on its partition's Arrow batches (picklable)."""

    def __init__(
        self, plan: Job, schema: pa.Schema, source: Source, staged: str, stored: bool
    ):
        self.plan, self.schema, self.staged, self.stored = plan, schema, staged, stored
        self.types, self.kind = source.schema, source.format

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        context = TaskContext.get()
        assert context is not None  # in a Spark task
        partition, attempt = context.partitionId(), context.attemptNumber()
        part = Path(self.staged) / f"part-{partition}-{attempt}.parquet"
        infos = []
        with writing_table(
            str(part), "parquet", self.schema, output=part, stored=self.stored
        ) as writer:
            for number, batch in enumerate(batches):
                raw = self._typed(pa.Table.from_batches([batch]))
                table, problems = self.plan.decide(raw, self.schema)
                writer.write(table)
                infos.append((number, raw.num_rows, json.dumps(problems)))
        yield pa.RecordBatch.from_pydict(
            {
                "partition": [partition] * len(infos),
                "attempt": [attempt] * len(infos),
                "batch": [i[0] for i in infos],
                "rows": [i[1] for i in infos],
                "problems": [i[2] for i in infos],
            },
            schema=pa.schema(
                [
                    ("partition", pa.int32()),
                    ("attempt", pa.int32()),
                    ("batch", pa.int32()),
                    ("rows", pa.int64()),
                    ("problems", pa.string()),
                ]
            ),
        )

    def _typed(self, raw: pa.Table) -> pa.Table:
        """RAW in the input's own Arrow types (Spark's are wider: microseconds,
        large strings), as the pandas engine reads them; a CSV field Spark reads
        as empty text is missing, as pyarrow reads it."""
        columns = []
        for field, column in zip(self.types, raw.columns, strict=True):
            if self.kind == "csv":
                column = pc.if_else(pc.equal(column, ""), None, column)
            columns.append(column.cast(field.type))
        return pa.Table.from_arrays(columns, schema=self.types)


def _name_parts(staged: Path, done: set[tuple[int, int]]) -> None:
    """The parts of the tasks that succeeded as part.00000.parquet, ... in the
    order of their partitions; anything else (failed attempts) removed."""
    parts = sorted(done)
    for number, (partition, attempt) in enumerate(parts):
        os.rename(
            staged / f"part-{partition}-{attempt}.parquet",
            staged / f"part.{number:05d}.parquet",
        )
    for stray in staged.iterdir():
        if not stray.name.startswith("part.") or stray.is_dir():
            with contextlib.suppress(OSError):
                shutil.rmtree(stray) if stray.is_dir() else stray.unlink()


def _failed(source: Source, exc: BaseException) -> RunError:
    """A failed Spark job in one line: an unreadable input, or what a task raised."""
    text = str(exc)
    for line in text.splitlines():
        if "RunError:" in line:
            return RunError(line.split("RunError:", 1)[1].strip())
    return unreadable(source.path, RuntimeError(_first_line(exc)))


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
