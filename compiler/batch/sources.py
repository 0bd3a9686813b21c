"""The input file: Parquet or CSV by its name, its schema, its rows in chunks; and
RunError, which every stage of a run raises when it cannot start or go on."""

from __future__ import annotations

import contextlib
import csv
import queue
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


class RunError(Exception):
    """A run that cannot start or go on, said in one line. USAGE: the options are
    wrong (exit 2); else a file cannot be read or written (exit 3)."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


def file_format(path: Path, option: str) -> str:
    """parquet or csv, by the file name's extension."""
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise RunError(
            f"{option} {path}: the name must end in .parquet or .csv (it says the format)",
            usage=True,
        )
    return found


@dataclass
class Source:
    """An input file, opened to be read in chunks. Every CSV column is read as text
    (leading zeros kept, no guessing), to be typed by the table's columns
    (`columns.coerce`)."""

    path: Path
    format: str
    schema: pa.Schema
    size: int  # Parquet: rows; CSV: bytes (the progress bar's unit)
    header: list[str]

    @classmethod
    def open(cls, path: Path) -> Source:
        kind = file_format(path, "--input")
        try:
            if kind == "parquet":
                meta = pq.ParquetFile(path)
                schema = meta.schema_arrow
                _checked(schema.names)
                return cls(path, kind, schema, meta.metadata.num_rows, schema.names)
            header = csv_header(path)
            schema = pa.schema([(name, pa.string()) for name in header])
            return cls(path, kind, schema, path.stat().st_size, header)
        except (OSError, ValueError, pa.ArrowException, csv.Error) as exc:
            raise unreadable(path, exc) from None

    def chunks(
        self, rows: int, *, dictionary: Iterable[str] = ()
    ) -> Iterator[tuple[pa.Table, int]]:
        """(table, progress) per chunk of about ROWS rows. Parquet columns named in
        DICTIONARY are read as dictionaries (their values decoded once per chunk,
        not per row)."""
        try:
            if self.format == "parquet":
                reader = pq.ParquetFile(self.path, read_dictionary=list(dictionary))
                done = 0
                for groups in _row_group_runs(reader.metadata, rows):
                    for batch in reader.iter_batches(
                        batch_size=rows, row_groups=groups
                    ):
                        done += batch.num_rows
                        yield pa.Table.from_batches([batch]), done
                return
            yield from self._csv_chunks(rows)
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise unreadable(self.path, exc) from None

    def _csv_chunks(self, rows: int) -> Iterator[tuple[pa.Table, int]]:
        """CSV blocks of bytes regrouped by ROWS rows: gathered in a list and joined
        once per chunk, so that the work per chunk does not grow with its blocks."""
        with pa.OSFile(str(self.path)) as stream:
            batches = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(
                    column_names=self.header, skip_rows=1, block_size=_CSV_BLOCK
                ),
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(self.header, pa.string()),
                    null_values=[""],
                    strings_can_be_null=True,
                ),
            )
            pending: list[pa.RecordBatch] = []
            count = 0
            for batch in batches:
                pending.append(batch)
                count += batch.num_rows
                if count < rows:
                    continue
                table = pa.Table.from_batches(pending, schema=self.schema)
                while table.num_rows >= rows:
                    yield table.slice(0, rows).combine_chunks(), stream.tell()
                    table = table.slice(rows)
                pending, count = table.to_batches(), table.num_rows
            if count:
                table = pa.Table.from_batches(pending, schema=self.schema)
                yield table.combine_chunks(), self.size


_CSV_BLOCK = 8 << 20  # bytes of CSV parsed at a time (pyarrow parses blocks in threads)


MAX_COLUMNS = 20_000  # each costs some 9 KiB per chunk: a wider file is refused


def _checked(names: list[str]) -> None:
    """ValueError unless there are at most MAX_COLUMNS names, each once."""
    if len(names) > MAX_COLUMNS:
        raise ValueError(
            f"it has {len(names):,} columns; compile-rules run reads at most "
            f"{MAX_COLUMNS:,} (select the columns the table needs and the ones to keep)"
        )
    twice = sorted(name for name, count in Counter(names).items() if count > 1)
    if twice:
        raise ValueError(f"column(s) {', '.join(map(repr, twice))} appear twice")


_T = TypeVar("_T")


def _row_group_runs(meta: Any, rows: int) -> Iterator[list[int]]:
    """The file's row groups in runs of about ROWS rows (one group or more each), read
    one run at a time: pyarrow's batch reader keeps what it read of a run until the
    run ends, so that reading the whole file in one run grows with the file."""
    run: list[int] = []
    held = 0
    for group in range(meta.num_row_groups):
        run.append(group)
        held += meta.row_group(group).num_rows
        if held >= rows:
            yield run
            run, held = [], 0
    if run:
        yield run


@contextlib.contextmanager
def read_ahead(items: Iterator[_T], depth: int = 2) -> Iterator[Iterator[_T]]:
    """ITEMS, produced in a background thread up to DEPTH ahead of the block that
    takes them (pyarrow reads and parses without the GIL), so that reading the next
    chunk overlaps deciding this one. An error of ITEMS is raised where it is taken."""
    ready: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(kind: str, item: Any) -> bool:
        while not stop.is_set():
            try:
                ready.put((kind, item), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer("item", item):
                    return
            offer("end", None)
        except BaseException as exc:
            offer("error", exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def consume() -> Iterator[_T]:
        while True:
            kind, item = ready.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        yield consume()
    finally:
        stop.set()
        thread.join()


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV file's first line, stripped like `eval --cases`."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        raise ValueError("the file is empty: the first line must name the columns")
    names = [name.strip() for name in header]
    _checked(names)
    return names


def unreadable(path: Path, exc: BaseException) -> RunError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return RunError(f"{path}: cannot read it: {reason}")
