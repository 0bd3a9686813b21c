"""The input file: Parquet or CSV by its name, its schema, its rows in chunks; and
RunError, which every stage of a run raises when it cannot start or go on."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
                return cls(path, kind, schema, meta.metadata.num_rows, schema.names)
            header = csv_header(path)
            schema = pa.schema([(name, pa.string()) for name in header])
            return cls(path, kind, schema, path.stat().st_size, header)
        except (OSError, ValueError, pa.ArrowException, csv.Error) as exc:
            raise unreadable(path, exc) from None

    def chunks(self, rows: int) -> Iterator[tuple[pa.Table, int]]:
        """(table, progress) per chunk of about ROWS rows."""
        try:
            if self.format == "parquet":
                reader = pq.ParquetFile(self.path)
                done = 0
                for batch in reader.iter_batches(batch_size=rows):
                    done += batch.num_rows
                    yield pa.Table.from_batches([batch]), done
                return
            with pa.OSFile(str(self.path)) as stream:
                batches = pacsv.open_csv(
                    stream,
                    read_options=pacsv.ReadOptions(
                        column_names=self.header, skip_rows=1
                    ),
                    parse_options=pacsv.ParseOptions(newlines_in_values=True),
                    convert_options=pacsv.ConvertOptions(
                        column_types=dict.fromkeys(self.header, pa.string()),
                        null_values=[""],
                        strings_can_be_null=True,
                    ),
                )
                pending = pa.Table.from_batches([], schema=self.schema)
                for batch in batches:  # blocks of bytes, regrouped by ROWS rows
                    pending = pa.concat_tables(
                        [pending, pa.Table.from_batches([batch])]
                    )
                    while pending.num_rows >= rows:
                        yield pending.slice(0, rows), stream.tell()
                        pending = pending.slice(rows)
                if pending.num_rows:
                    yield pending, self.size
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise unreadable(self.path, exc) from None


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV file's first line, stripped like `eval --cases`."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        raise ValueError("the file is empty: the first line must name the columns")
    names = [name.strip() for name in header]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"column(s) {', '.join(map(repr, twice))} appear twice")
    return names


def unreadable(path: Path, exc: BaseException) -> RunError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return RunError(f"{path}: cannot read it: {reason}")
