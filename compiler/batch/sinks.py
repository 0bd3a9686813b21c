"""Where a run writes: the output file and the errors file, each staged beside its
path and put in place whole when the run ends, or not at all (`output.replacing`)."""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from compiler.batch.sources import RunError
from compiler.emitting.output import replacing

ERROR_COLUMNS = ("row", "column", "value", "message")


class ErrorsFile:
    """The errors file, written as the run goes (one line per problem)."""

    def __init__(self, handle: Any) -> None:
        self.writer = csv.writer(handle)
        self.writer.writerow(ERROR_COLUMNS)

    def write(self, offset: int, problems: Iterable[tuple[int, str, str, str]]) -> int:
        """Write PROBLEMS of a chunk starting at row OFFSET; the rows they reject."""
        rows = set()
        for p, column, value, message in problems:
            rows.add(p)
            self.writer.writerow((offset + p + 1, column, value, message))
        return len(rows)


@contextlib.contextmanager
def writing_errors(path: Path) -> Iterator[ErrorsFile]:
    """The errors file to write in the block, at PATH when the block ends."""
    with (
        replacing(path) as staged,
        staged.open("w", newline="", encoding="utf-8") as handle,
    ):
        yield ErrorsFile(handle)


@contextlib.contextmanager
def writing_table(
    staged: Path, kind: str, schema: pa.Schema, *, output: Path
) -> Iterator[Any]:
    """A Parquet or CSV (KIND) writer of rows in SCHEMA to STAGED, which stands in
    for OUTPUT until the run ends (see `engines.run_local`)."""
    try:
        writer = (
            pq.ParquetWriter(str(staged), schema)
            if kind == "parquet"
            else pacsv.CSVWriter(str(staged), schema)
        )
    except (OSError, pa.ArrowException) as exc:
        raise RunError(f"{output}: cannot write it: {exc}") from None
    with contextlib.closing(writer):
        yield writer
