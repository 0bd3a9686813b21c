"""Where a run writes: the output file and the errors file, each staged beside its
path and put in place whole when the run ends, or not at all (`staging`). The output
is encoded in a thread of its own while the next chunk is decided."""

from __future__ import annotations

import contextlib
import csv
import queue
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from compiler.batch.sources import RunError
from compiler.batch.staging import staged_file

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
        staged_file(path) as staged,
        open(staged, "w", newline="", encoding="utf-8") as handle,
    ):
        yield ErrorsFile(handle)


class TableWriter:
    """A Parquet or CSV file of rows in one schema, encoded in a background thread
    (pyarrow releases the GIL), in the order the tables are given. The Parquet
    writer is made on the first table, which says the columns not worth a
    dictionary: those whose values are mostly distinct (ids), which Parquet would
    try to encode as a dictionary before it gives up."""

    def __init__(
        self, staged: str, kind: str, schema: pa.Schema, output: Path, *, stored: bool
    ):
        self.staged, self.kind, self.schema, self.output = staged, kind, schema, output
        self.stored = stored
        self.writer: Any = None
        self.failed: BaseException | None = None
        self.pending: queue.Queue[pa.Table | None] = queue.Queue(maxsize=2)
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def write(self, table: pa.Table) -> None:
        while self.failed is None:
            try:
                self.pending.put(table, timeout=0.1)
                return
            except queue.Full:
                continue
        raise self._error()

    def close(self) -> None:
        """Wait for every table to be written, then close the file."""
        if self.failed is None:
            self.pending.put(None)
        self.thread.join()
        if self.failed is None:
            try:
                if self.writer is None:
                    self.writer = self._open(None)
                self.writer.close()
            except (OSError, pa.ArrowException) as exc:
                self.failed = exc
        if self.failed is not None:
            self.abandon()
            raise self._error()

    def abandon(self) -> None:
        """Stop writing (the run failed): the thread ends after its current table."""
        self.failed = self.failed or _Abandoned()
        with contextlib.suppress(queue.Full):
            self.pending.put_nowait(None)
        self.thread.join()
        if self.writer is not None:
            with contextlib.suppress(OSError, pa.ArrowException):
                self.writer.close()

    def _drain(self) -> None:
        try:
            while (table := self.pending.get()) is not None and self.failed is None:
                if self.writer is None:
                    self.writer = self._open(table)
                self.writer.write_table(table)
        except BaseException as exc:  # said in the main thread (`write`, `close`)
            self.failed = exc
            with contextlib.suppress(queue.Empty):
                while True:
                    self.pending.get_nowait()

    def _open(self, first: pa.Table | None) -> Any:
        if self.kind != "parquet":
            return pacsv.CSVWriter(self.staged, self.schema)
        plain = [] if first is None else _mostly_distinct(first)
        return pq.ParquetWriter(
            self.staged,
            self.schema,
            use_dictionary=[n for n in self.schema.names if n not in plain],
            store_schema=self.stored,
            write_batch_size=64 << 10,  # rows encoded at a time (default 1,024)
            data_page_size=4 << 20,  # bytes per page (default 1 MiB)
        )

    def _error(self) -> BaseException:
        exc = self.failed
        if isinstance(exc, (OSError, pa.ArrowException)):
            return RunError(f"{self.output}: cannot write it: {exc}")
        assert exc is not None
        return exc


class _Abandoned(Exception):
    pass


def _mostly_distinct(table: pa.Table) -> set[str]:
    """The columns of TABLE (of 1,000 rows or more) whose values are more than half
    distinct."""
    if table.num_rows < 1000:
        return set()
    found = set()
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        if (
            pa.types.is_boolean(kind)
            or pa.types.is_nested(kind)
            or pa.types.is_dictionary(kind)
        ):
            continue
        if pc.count_distinct(column).as_py() * 2 > table.num_rows:
            found.add(name)
    return found


@contextlib.contextmanager
def writing_table(
    staged: str, kind: str, schema: pa.Schema, *, output: Path, stored: bool = True
) -> Iterator[TableWriter]:
    """A Parquet or CSV (KIND) writer of rows in SCHEMA to STAGED, which stands in
    for OUTPUT until the run ends (see `engines.run_local`); every table is written
    when the block ends. STORED: Parquet keeps pyarrow's copy of the schema (see
    `chunks.coded_schema` for when it must not)."""
    writer = TableWriter(staged, kind, schema, output, stored=stored)
    try:
        yield writer
    except BaseException:
        writer.abandon()
        raise
    writer.close()
