"""`compile-rules run --engine spark` in Spark's local mode gives exactly the pandas
engine's results, row for row and error for error: CSV and Parquet, bad rows, NaN,
pandas' index columns, multi-hit lists, per-row dates, several partitions. One Spark
session serves the whole module (the command uses the session in force)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from .test_batch import (
    CLAIMS,
    Tables,
    assert_index_columns_kept,
    assert_same_run,
    engine_inputs,
    indexed_inputs,
    problems,
)

pytest.importorskip("pyspark", reason="the spark extra (pyspark) is not installed")
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip(
            "no Java runtime: Spark needs Java 17 or later (.ci/run installs "
            "Debian's openjdk-17-jre-headless where apt-get can)"
        )
    from pyspark.sql import SparkSession

    from compiler.batch.spark import _session

    with _session(SparkSession, "local[2]") as session:
        yield session


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    return Tables(tmp_path_factory.mktemp("spark"))


def spark_run(tables: Tables, table: str, source: Path, *options: str) -> Path:
    """TABLE over SOURCE with both engines (the pandas engine in chunks of 700,
    Spark in 3 partitions of batches of 400): the Spark output, checked equal."""
    local = tables.root / f"{source.stem}-{table}-local.parquet"
    spread = tables.root / f"{source.stem}-{table}-spark.parquet"
    expected = tables.run(
        table, source, local, "--chunk-size", "700", *options, code=None
    )
    result = tables.run(
        table,
        source,
        spread,
        "--engine",
        "spark",
        "--partitions",
        "3",
        "--chunk-size",
        "400",
        *options,
        code=expected.exit_code,
    )
    assert result.exit_code == expected.exit_code
    assert_same_run(local, spread)
    return spread


def test_spark_engine_equals_the_pandas_engine(tables: Tables, spark: Any) -> None:
    inputs = engine_inputs(tables)
    spread = spark_run(tables, "claim", inputs["csv"])
    assert len(list(spread.glob("part.*.parquet"))) >= 2  # split, and in order
    errors = problems(spread.with_name(f"{spread.stem}.errors.csv"))
    assert errors[:2] == [("6", "age", "abc"), ("8", "age", "999")]
    spark_run(tables, "claim", inputs["parquet"])
    spark_run(tables, "flags", inputs["parquet"])  # lists of outputs
    spark_run(tables, "coverage", inputs["csv"], "--as-of-column", "service")
    spark_run(tables, "claim", tables.file("claims.csv", CLAIMS))  # quotes, blanks


def test_spark_engine_reads_nan_and_pandas_index_columns(
    tables: Tables, spark: Any
) -> None:
    for name, source in indexed_inputs(tables).items():
        spread = spark_run(tables, "claim", source)
        assert_index_columns_kept(name, pq.read_table(spread))


def test_spark_engine_writes_only_parquet_folders(tables: Tables, spark: Any) -> None:
    source = tables.file("s.csv", "age\n1\n")
    result = tables.run(
        "claim", source, tables.root / "s.out.csv", "--engine", "spark", code=2
    )
    assert "--engine spark writes a folder of Parquet parts" in result.output


def test_impact_on_spark_equals_the_pandas_engine(spark: Any, tmp_path: Path) -> None:
    from .test_impact import same_impact_on

    same_impact_on(["--engine", "spark", "--partitions", "2"], tmp_path)
