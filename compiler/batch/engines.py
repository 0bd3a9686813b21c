"""The engines: `decide_chunk` over every chunk of the input, in this process
(`run_local`) or on the partitions of a `dask.dataframe` (`run_dask`), so that a
cluster computes exactly what one machine does. Each returns a Summary of the run.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from compiler.batch.plan import Job
from compiler.batch.sinks import writing_errors, writing_table
from compiler.batch.sources import (
    RunError,
    Source,
    file_format,
    read_ahead,
    unreadable,
)
from compiler.batch.staging import staged_file, staged_folder

CHUNK_ROWS = 250_000  # rows per chunk: large enough to amortise evaluate_frame's setup


def reuse_memory() -> None:
    """Keep the memory a chunk frees for the next chunk, in this process. Every
    chunk allocates and frees the same large arrays; by default glibc hands them
    back to the kernel (mmap, trim) and Arrow's mimalloc purges them, so that each
    chunk page-faults them in again: a fifth of a run's CPU time on the benchmark.
    glibc then keeps up to the run's peak; Arrow allocates through it too."""
    with contextlib.suppress(OSError, AttributeError):
        mallopt = ctypes.CDLL(None).mallopt  # glibc only
        mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD: its largest, so no chunk's arrays
        mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD
        pa.set_memory_pool(pa.system_memory_pool())


@dataclass(frozen=True, slots=True)
class Summary:
    rows: int  # read
    evaluated: int
    rejected: int  # rows left out (each has one or more lines in the errors file)
    output: Path
    errors: Path


def run_local(
    plan: Job,
    source: Source,
    output: Path,
    errors: Path,
    *,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[int, int], None] | None = None,
) -> Summary:
    """Run PLAN over SOURCE chunk by chunk in this process: the next chunk is read
    and the last one written in threads of their own while this one is decided.
    OUTPUT and ERRORS appear whole when the run ends, or not at all (the files they
    replace stay as they were)."""
    kind = file_format(output, "--output")
    schema = plan.output_schema(source.schema)
    coded = plan.coded_schema(schema) if kind == "parquet" else None
    schema = coded or schema
    rows = evaluated = rejected = 0
    # Left in reverse order: the reader stops, the writer closes (a failing close
    # writes neither file), then the errors file and last OUTPUT are put in place.
    with (
        staged_file(output) as staged,
        writing_errors(errors) as report,
        writing_table(
            staged, kind, schema, output=output, stored=coded is None
        ) as writer,
        read_ahead(source.chunks(chunk_rows, dictionary=plan.dictionary)) as chunks,
    ):
        for chunk, done in chunks:
            table, problems = plan.decide(chunk, schema)
            writer.write(table)
            rejected += report.write(rows, problems)
            rows += chunk.num_rows
            evaluated += table.num_rows
            if progress is not None:
                progress(done, source.size)
    return Summary(rows, evaluated, rejected, output, errors)


def missing_extra(engine: str, package: str) -> RunError:
    return RunError(
        f"--engine {engine} needs {package}: pip install -e '.[{engine}]' "
        f"(the {engine} extra)",
        usage=True,
    )


def parquet_folder(output: Path, engine: str) -> None:
    """A usage error unless OUTPUT can be the folder of Parquet parts ENGINE writes."""
    if file_format(output, "--output") != "parquet":
        raise RunError(
            f"--output {output}: --engine {engine} writes a folder of Parquet parts; "
            "give it a name ending in .parquet",
            usage=True,
        )


_BATCH = "__compile_rules_batch__"  # the extra row a Dask partition reports in


def decide_partition(
    frame: pd.DataFrame, plan: Job, schema: pa.Schema, names: list[str]
) -> Any:
    """`decide_chunk` for a Dask partition: its output rows, then one row whose
    `_BATCH` column says, as JSON, how many rows it read and its problems. NAMES:
    the input's columns, in its order; one that Dask made the index (pandas'
    `__index_level_0__`, a named index) is a column again, as the pandas engine
    reads it."""
    index = not set(names) <= set(frame.columns)
    raw = pa.Table.from_pandas(frame, preserve_index=index).select(names)
    table, problems = plan.decide(raw, schema)
    info = json.dumps({"rows": raw.num_rows, "problems": problems})
    table = table.append_column(_BATCH, pa.nulls(table.num_rows, pa.string()))
    tail = pa.Table.from_pylist([{_BATCH: info}], schema=table.schema)
    return pa.concat_tables([table, tail]).to_pandas(types_mapper=pd.ArrowDtype)


def _decided_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """A decided partition's output rows (slices: no copy, unlike a boolean filter)."""
    return frame.iloc[:-1].drop(columns=[_BATCH])


def _batch_info(frame: pd.DataFrame) -> pd.Series:
    """A decided partition's last row: what it read and its problems."""
    return frame[_BATCH].iloc[-1:]


def run_dask(
    plan: Job,
    source: Source,
    output: Path,
    errors: Path,
    *,
    scheduler: str | None = None,
    partitions: int | None = None,
) -> Summary:
    """Run PLAN over SOURCE with Dask: `dask.dataframe` reads it, `map_partitions`
    applies `decide_partition`, and OUTPUT becomes a folder of Parquet parts. On a
    cluster (SCHEDULER) every worker must see the input and output paths."""
    try:
        import dask.dataframe as dd
        import distributed
        from dask import base
        from dask.delayed import delayed
    except ImportError:
        raise missing_extra("dask", "Dask") from None
    parquet_folder(output, "dask")
    with _client(scheduler, distributed):
        frame = _dask_frame(source, partitions, dd)
        schema = plan.output_schema(source.schema)
        meta = pa.Table.from_pylist(
            [], schema=schema.append(pa.field(_BATCH, pa.string()))
        ).to_pandas(types_mapper=pd.ArrowDtype)
        decided = frame.map_partitions(
            decide_partition, delayed(plan), schema, source.schema.names, meta=meta
        )
        rows = decided.map_partitions(_decided_rows, meta=meta.drop(columns=[_BATCH]))
        infos = decided.map_partitions(_batch_info, meta=meta[_BATCH])
        with staged_folder(output) as staged:
            write = rows.to_parquet(
                str(staged),
                schema=schema,
                write_index=False,
                write_metadata_file=False,
                name_function=lambda i: f"part.{i:05d}.parquet",
                compute=False,
            )
            try:
                _, found = _compute(base, write, infos)
            except (OSError, pa.ArrowException) as exc:
                raise unreadable(source.path, exc) from None
    total = evaluated = rejected = 0
    with writing_errors(errors) as report:
        for text in found.tolist():
            info = json.loads(text)
            rejected += report.write(total, map(tuple, info["problems"]))
            total += info["rows"]
    evaluated = total - rejected
    return Summary(total, evaluated, rejected, output, errors)


def _compute(base: Any, *collections: Any) -> Any:
    """dask.compute, which is not typed."""
    return base.compute(*collections)


@contextlib.contextmanager
def _client(scheduler: str | None, distributed: Any) -> Iterator[Any]:
    """A client of the cluster at SCHEDULER, else of a local cluster: one worker
    process per core, since deciding holds the GIL in parts."""
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout="20s")
        except (OSError, ValueError, TimeoutError) as exc:
            raise RunError(
                f"--scheduler {scheduler}: cannot connect: {exc}", usage=True
            ) from None
        with client:
            yield client
        return
    with (
        distributed.LocalCluster(
            n_workers=os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _dask_frame(source: Source, partitions: int | None, dd: Any) -> Any:
    """The input as a dask DataFrame whose partitions convert to the Arrow tables the
    local engine reads: Arrow dtypes from Parquet, text for every CSV column."""
    path = str(source.path)
    if source.format == "parquet":
        # pandas' index columns (`df.to_parquet()`) become Dask's index, which
        # `decide_partition` makes columns again; without such columns, Dask is
        # kept from reading an index out of pandas' metadata (a RangeIndex).
        pandas = source.schema.pandas_metadata or {}
        stored = any(isinstance(i, str) for i in pandas.get("index_columns", []))
        frame = dd.read_parquet(  # row groups gathered into partitions of ~16 MiB
            path,
            dtype_backend="pyarrow",
            split_row_groups="adaptive",
            blocksize="16MiB",
            index=None if stored else False,
        )
    else:
        frame = dd.read_csv(
            path,
            header=0,
            names=source.header,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8-sig",
            blocksize=max(source.size // partitions, 1) if partitions else "64MB",
        )
    if partitions and frame.npartitions != partitions:
        frame = frame.repartition(npartitions=partitions)
    return frame
