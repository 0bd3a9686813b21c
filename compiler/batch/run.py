"""Batch runs: a table's generated `evaluate_frame` over a Parquet or CSV file.

Payers re-decide past claims when a policy changes, millions of rows at a time. The
file is read in chunks, so memory stays flat whatever its size; each chunk is typed
by the table's columns, evaluated by the generated `evaluate_frame` and written, with
its inputs, to one output file. Rows whose values the table cannot take go to an
errors file by row number, and the other rows of the chunk still run. `run_dask`
applies the same chunk function to the partitions of a `dask.dataframe`, so a cluster
computes exactly what one machine does.

Text (CSV cells, and string columns where the table expects another type) is read as
`eval` reads a value (`cells.parse_literal`); typed columns are taken as they are.
Rows are numbered from 1, the first data row: a CSV file's header is not a row.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import json
import logging
import os
import sys
import threading
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from compiler.diagnostics import CellError
from compiler.emitting.loader import load_table
from compiler.emitting.output import replacing
from compiler.model import DataType, Equals, HitPolicy, Project, UnaryTests
from compiler.reading import cells
from compiler.reading.cell_text import entry_text, value_text
from compiler.reading.sheets import suggest

CHUNK_ROWS = 250_000  # rows per chunk: large enough to amortise evaluate_frame's setup
ERROR_COLUMNS = ("row", "column", "value", "message")
FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}

_ARROW = {
    DataType.STRING: pa.string(),
    DataType.CODE: pa.string(),
    DataType.INTEGER: pa.int64(),
    DataType.NUMBER: pa.float64(),
    DataType.BOOLEAN: pa.bool_(),
    DataType.DATE: pa.date32(),
}

Problem = tuple[int, str, str]  # position in the chunk, column, message


class RunError(Exception):
    """A run that cannot start or go on, said in one line. USAGE: the options are
    wrong (exit 2); else a file cannot be read or written (exit 3)."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


# -- the plan: what every chunk needs, picklable so that Dask workers get it too --------


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: DataType


@dataclass(frozen=True, slots=True)
class Allowed:
    """The Values of one input of one version of a table that the run evaluates."""

    table: str
    version: int
    column: str
    type: DataType
    values: UnaryTests


@dataclass(frozen=True)
class Plan:
    table: str
    files: dict[str, str]  # the generated package: each process imports it from here
    inputs: tuple[Field, ...]  # what `evaluate` takes, `from` chains included
    outputs: tuple[Field, ...]
    shape: str  # "single", "multi" or "list", as the generated evaluate_frame says
    allowed: tuple[Allowed, ...]
    # the effective-dated tables of the chain: (table, ((from, to), ...) per version)
    versions: tuple[tuple[str, tuple[tuple[dt.date | None, dt.date | None], ...]], ...]
    as_of: dt.date | None = None  # one date for every row
    as_of_column: str | None = None  # or each row's own
    text: bool = False  # CSV output: lists as JSON text
    cells: bool = False  # CSV input: every value is text, read as `eval` reads it
    notes: tuple[str, ...] = ()  # warnings for the user, said before the run
    token: str = field(default="", compare=False)  # names the sources, for the cache


def make_plan(
    project: Project,
    files: dict[str, str],
    table: str,
    schema: pa.Schema,
    *,
    as_of: str | None = None,
    as_of_column: str | None = None,
    text: bool = False,
    cells: bool = False,
) -> Plan:
    """The plan to run TABLE over a file with SCHEMA. RunError (usage) when the
    options do not fit the table or the file."""
    chain = _chain(project, table)
    versions = tuple(
        (name, tuple((t.effective_from, t.effective_to) for t in d.versions))
        for name in chain
        if (d := project.decision(name)).versioned
    )
    names = list(schema.names)
    first = project.decision(table).first
    outputs = tuple(Field(c.name, c.type) for c in first.outputs)
    clash = [n for n in [*(f.name for f in outputs), "matched"] if n in names]
    if clash:
        raise RunError(
            f"the input already has column(s) {', '.join(map(repr, clash))}, which "
            f"{table} writes; rename or drop them",
            usage=True,
        )
    notes: list[str] = []
    when = _as_of_option(table, as_of, as_of_column, bool(versions))
    if versions and as_of is None and as_of_column is None:
        if "as_of" in names:
            as_of_column = "as_of"
        else:
            notes.append(
                f"{table} is effective-dated and no --as-of or --as-of-column was "
                f"given: every row is decided as of today, {dt.date.today()}"
            )
    if as_of_column is not None and as_of_column not in names:
        hint = suggest(as_of_column, names)
        raise RunError(
            f"--as-of-column {as_of_column!r}: the input has no such column"
            + (f"; {hint}" if hint else ""),
            usage=True,
        )
    day = when or dt.date.today()
    for name, spans in versions:
        if as_of_column is None and not any(_inside(day, span) for span in spans):
            raise RunError(
                f"no version of {name} is in force on {day}; pass another --as-of",
                usage=True,
            )
    inputs = tuple(Field(c.name, c.type) for c in project.chain_inputs(table))
    for column in inputs:
        if column.name not in names:
            hint = suggest(column.name, names)
            notes.append(
                f"the input has no column {column.name!r}: it is missing in every row"
                + (f" ({hint})" if hint else "")
            )
    allowed = tuple(
        Allowed(name, index, c.name, c.type, c.values)
        for name in chain
        for index, version in enumerate(project.decision(name).versions)
        for c in version.inputs
        if not c.source_table and c.values is not None and not c.values.is_any
    )
    sources = {
        k: v for k, v in files.items() if k.endswith(".py") and "/" not in k
    }  # the modules, not the tests
    token = hashlib.sha256(json.dumps([table, sources]).encode()).hexdigest()
    return Plan(
        table=table,
        files=sources,
        inputs=inputs,
        outputs=outputs,
        shape=_shape(project, table),
        allowed=allowed,
        versions=versions,
        as_of=when,
        as_of_column=as_of_column,
        text=text,
        cells=cells,
        notes=tuple(notes),
        token=token,
    )


def _as_of_option(
    table: str, as_of: str | None, as_of_column: str | None, versioned: bool
) -> dt.date | None:
    """--as-of as a date. Like `eval`, an unversioned table refuses both options:
    a date that changes nothing is more likely a mistaken table than intended."""
    if as_of is not None and as_of_column is not None:
        raise RunError("give --as-of or --as-of-column, not both", usage=True)
    if (as_of is not None or as_of_column is not None) and not versioned:
        option = "--as-of" if as_of is not None else "--as-of-column"
        raise RunError(
            f"{table!r} has no effective-dated versions; drop {option}", usage=True
        )
    if as_of is None:
        return None
    try:
        return cells.parse_date_text(as_of.strip())
    except CellError as exc:
        raise RunError(f"--as-of {as_of!r}: {_cell_message(exc)}", usage=True) from None


def _chain(project: Project, table: str) -> list[str]:
    """TABLE and every table it requires, transitively, each once."""
    found: dict[str, None] = {}

    def visit(name: str) -> None:
        if name not in found:
            found[name] = None
            for required in project.decision(name).requires:
                visit(required)

    visit(table)
    return list(found)


def _shape(project: Project, table: str) -> str:
    """The shape of the generated evaluate_frame's result (see its docstring)."""
    first = project.decision(table).first
    if first.returns_list:
        return "list"
    if first.aggregation is not None or first.hit_policy is HitPolicy.ANY:
        return "multi"
    return "single"


def _inside(day: dt.date, span: tuple[dt.date | None, dt.date | None]) -> bool:
    start, end = span
    return (start is None or start <= day) and (end is None or day <= end)


_MODULES: dict[str, types.ModuleType] = {}
_LOADING = threading.Lock()


def evaluator(plan: Plan) -> types.ModuleType:
    """The generated module of the plan's table, imported once per process from the
    plan's sources, so that workers run exactly the code of the client's tables."""
    with _LOADING:
        module = _MODULES.get(plan.token)
        if module is None:
            module = _MODULES[plan.token] = load_table(plan.files, plan.table)
    return module


# -- reading ------------------------------------------------------------------------


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
    (leading zeros kept, no guessing) and typed here by the table's columns."""

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


# -- typing the columns -------------------------------------------------------------

# Text that `cells.parse_literal` reads as Arrow's casts do: the common case, typed in
# C++. Anything else (spaces, `+5`, `1e3`, `TRUE`, quotes, bad values) is parsed by
# parse_literal itself, once per distinct text.
_STRIP = r"[\t-\r\x1c-\x1f\x85\p{Z}]"
_SPECIAL = "".join(
    chr(c) for c in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x201C, 0x201D, 0x201E)
) + "".join(chr(c) for c in (0x201F, 0x2033))
_PLAIN = {
    DataType.INTEGER: r"^-?[0-9]{1,18}$",
    DataType.NUMBER: r"^-?[0-9]{1,15}(\.[0-9]{1,15})?$",
    DataType.BOOLEAN: r"^(true|false)$",
    DataType.DATE: r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}$",
}
_NOT_PLAIN_TEXT = rf'^{_STRIP}|{_STRIP}$|^"|"$|^$|^(?i:null)$|[{_SPECIAL}]'


def coerce(
    column: Any, type_: DataType, *, cells: bool = False
) -> tuple[pa.Array, list[tuple[int, str]]]:
    """COLUMN (an Arrow array) as TYPE_'s Arrow type, and (position, message) for each
    value that is not one (those positions are null in the result). With CELLS, text
    is parsed even in string columns (spaces, quotes, `null`), as in a CSV cell."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_large_string(array.type) or pa.types.is_string_view(array.type):
        array = array.cast(pa.string())
    target = _ARROW[type_]
    kind = array.type
    if pa.types.is_null(kind):
        return pa.nulls(len(array), target), []
    if cells and pa.types.is_string(kind):
        return _parse_text(array, type_)
    if kind == target and type_ is not DataType.NUMBER:
        return array, []
    if type_ is DataType.NUMBER and (
        pa.types.is_floating(kind) or pa.types.is_integer(kind)
    ):
        numbers = array.cast(pa.float64())
        return pc.if_else(pc.is_nan(numbers), None, numbers), []  # NaN: missing
    if type_ is DataType.INTEGER and pa.types.is_integer(kind):
        with contextlib.suppress(pa.ArrowInvalid):  # uint64 beyond int64: as text
            return array.cast(pa.int64()), []
    if type_ is DataType.DATE and pa.types.is_timestamp(kind):
        days = array.cast(pa.date32())
        midnight = pc.equal(days.cast(kind), array).fill_null(True)
        bad = np.flatnonzero(~midnight.to_numpy(zero_copy_only=False))
        days = pc.if_else(midnight, days, None)
        return days, [(int(p), "a date must not hold a time of day") for p in bad]
    if not pa.types.is_string(kind):
        try:
            array = array.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            bad = np.flatnonzero(array.is_valid().to_numpy(zero_copy_only=False))
            message = f"a {kind} value is not a {type_.value}"
            return pa.nulls(len(array), target), [(int(p), message) for p in bad]
    return _parse_text(array, type_)


def _parse_text(
    array: pa.Array, type_: DataType
) -> tuple[pa.Array, list[tuple[int, str]]]:
    target = _ARROW[type_]
    if type_ in (DataType.STRING, DataType.CODE):
        plain = pc.invert(pc.match_substring_regex(array, _NOT_PLAIN_TEXT))
    else:
        plain = pc.match_substring_regex(array, _PLAIN[type_])
    plain = plain.fill_null(False)
    result = pc.if_else(plain, array, None)
    try:
        result = (
            pc.equal(result, "true")
            if type_ is DataType.BOOLEAN
            else result.cast(target)
        )
    except pa.ArrowInvalid:  # e.g. 2025-02-30: parse_literal says what is wrong
        plain = pa.array(np.zeros(len(array), dtype=bool))
        result = pa.nulls(len(array), target)
    rest = pc.and_(array.is_valid(), pc.invert(plain))
    if not pc.any(rest).as_py():
        return result, []
    texts = array.filter(rest)
    distinct = pc.unique(texts)
    values: list[Any] = []
    messages: list[str | None] = []
    for text in distinct.to_pylist():
        try:
            value = None if cells.is_blank(text) else cells.parse_literal(text, type_)
            if isinstance(value, int) and not -(2**63) <= value < 2**63:
                raise CellError(f"{text!r} is beyond the 64-bit whole numbers")
            values.append(value)
            messages.append(None)
        except CellError as exc:
            values.append(None)
            messages.append(_cell_message(exc))
    which = pc.index_in(texts, value_set=distinct)
    result = pc.replace_with_mask(
        result, rest, pa.array(values, type=target).take(which)
    )
    positions = np.flatnonzero(rest.to_numpy(zero_copy_only=False))
    problems = [
        (int(p), message)
        for p, i in zip(positions, which.to_numpy(zero_copy_only=False), strict=True)
        if (message := messages[i]) is not None
    ]
    return result, problems


def _cell_message(exc: CellError) -> str:
    return exc.message + (f" ({exc.hint})" if exc.hint else "")


# -- one chunk ----------------------------------------------------------------------


def output_schema(schema: pa.Schema, plan: Plan) -> pa.Schema:
    """The input's columns (the table's own typed by it), then the outputs and
    `matched`: lists for multi-hit tables, as JSON text in CSV."""
    typed = {f.name: _ARROW[f.type] for f in plan.inputs}
    if plan.as_of_column is not None:
        typed[plan.as_of_column] = pa.date32()
    fields = [(f.name, typed.get(f.name, _plain(f.type))) for f in schema]
    for out in plan.outputs:
        kind = _ARROW[out.type]
        fields.append((out.name, pa.list_(kind) if plan.shape == "list" else kind))
    fields.append(("matched", pa.string() if plan.shape == "single" else _IDS))
    if plan.text:
        fields = [(n, pa.string() if pa.types.is_list(k) else k) for n, k in fields]
    return pa.schema(fields)


_IDS = pa.list_(pa.string())


def _plain(kind: pa.DataType) -> pa.DataType:
    """A column's type without its encoding, so that both engines write the same."""
    if pa.types.is_dictionary(kind):
        return _plain(kind.value_type)
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pa.string()
    if pa.types.is_large_binary(kind):
        return pa.binary()
    return kind


def decide_chunk(
    raw: pa.Table, plan: Plan, schema: pa.Schema
) -> tuple[pa.Table, list[tuple[int, str, str, str]]]:
    """Evaluate one chunk: its output rows (in SCHEMA), and (position, column, value,
    message) for each problem of the rows left out, in row order."""
    rows = raw.num_rows
    problems: list[Problem] = []
    typed: dict[str, pa.Array] = {}
    for f in plan.inputs:
        if f.name in raw.column_names:
            typed[f.name], found = coerce(raw.column(f.name), f.type, cells=plan.cells)
            problems += [(p, f.name, m) for p, m in found]
    days = _days(raw, plan, typed, problems)
    versions = _versions(plan, days, problems)
    keep = np.ones(rows, dtype=bool)
    keep[[p for p, _, _ in problems]] = False
    results, keep = _evaluate(plan, typed, days, keep, versions, problems)
    good = pa.array(keep)
    columns: list[Any] = []
    for f in schema:
        if f.name in raw.column_names:
            column = typed.get(f.name, raw.column(f.name)).filter(good)
            columns.append((_text(column) if plan.text else column).cast(f.type))
    listed = plan.shape == "list"
    for out in plan.outputs:
        columns.append(
            _arrow(results[out.name], _ARROW[out.type], listed=listed, text=plan.text)
        )
    columns.append(
        _arrow(
            results["matched"],
            pa.string(),
            listed=plan.shape != "single",
            text=plan.text,
        )
    )
    return pa.Table.from_arrays(columns, schema=schema), _described(raw, problems)


def _days(
    raw: pa.Table, plan: Plan, typed: dict[str, pa.Array], problems: list[Problem]
) -> Any:
    """Each row's evaluation date (datetime64[D]), or None when nothing is dated."""
    if not plan.versions:
        return None
    today = np.datetime64(dt.date.today(), "D")
    if plan.as_of_column is None:
        fixed = today if plan.as_of is None else np.datetime64(plan.as_of, "D")
        return np.full(raw.num_rows, fixed)
    name = plan.as_of_column
    typed[name], found = coerce(raw.column(name), DataType.DATE, cells=plan.cells)
    problems += [(p, name, m) for p, m in found]
    days = typed[name].to_numpy(zero_copy_only=False).astype("datetime64[D]")
    days[np.isnat(days)] = today  # like evaluate: a missing date is today
    return days


def _versions(plan: Plan, days: Any, problems: list[Problem]) -> dict[str, Any]:
    """Per effective-dated table, the version in force on each row (-1: none; those
    rows are problems, said as evaluate's NoVersionError says them)."""
    found: dict[str, Any] = {}
    for table, spans in plan.versions:
        index = np.full(len(days), -1)
        for i, (start, end) in enumerate(spans):
            inside = index < 0
            if start is not None:
                inside &= days >= np.datetime64(start, "D")
            if end is not None:
                inside &= days <= np.datetime64(end, "D")
            index[inside] = i
        found[table] = index
        column = plan.as_of_column or "as_of"
        for p in np.flatnonzero(index < 0):
            problems.append(
                (int(p), column, f"{table}: no version is in force on {days[p]}")
            )
    return found


def _evaluate(
    plan: Plan,
    typed: dict[str, pa.Array],
    days: Any,
    keep: Any,
    versions: dict[str, Any],
    problems: list[Problem],
) -> tuple[pd.DataFrame, Any]:
    """evaluate_frame on the rows to KEEP. When a row raises, the values outside
    their column's Values are found once per distinct value and left out; should a row
    still raise (a UNIQUE table matching twice), it is left out with every row of the
    same inputs, which raise alike: a pass per distinct failing row, never per row."""
    module = evaluator(plan)
    error = _runtime(module).DecisionError
    frame = _frame(plan, typed, days, keep)
    try:
        return module.evaluate_frame(frame), keep
    except error:
        pass
    keep = keep.copy()
    for p, column, message in _outside_values(plan, typed, keep, versions):
        problems.append((p, column, message))
        keep[p] = False
    frame = _frame(plan, typed, days, keep)
    groups = None
    while True:
        try:
            return module.evaluate_frame(frame), keep
        except error as exc:
            if exc.row is None or exc.row not in frame.index:
                raise
            if groups is None:
                groups = (
                    frame.groupby(list(frame.columns), dropna=False, observed=True)
                    .ngroup()
                    .to_numpy()
                    if len(frame.columns)
                    else np.zeros(len(frame), dtype=np.intp)
                )
            same = groups == groups[frame.index.get_loc(exc.row)]
            message = str(exc).removesuffix(f" (row {exc.row!r})")
            column = getattr(exc, "name", "")
            for p in frame.index.to_numpy()[same]:
                problems.append((int(p), column, message))
                keep[p] = False
            frame, groups = frame[~same], groups[~same]


def _runtime(module: types.ModuleType) -> types.ModuleType:
    return sys.modules[f"{module.__name__.rpartition('.')[0]}._runtime"]


def _frame(plan: Plan, typed: dict[str, pa.Array], days: Any, keep: Any) -> Any:
    """The rows to KEEP as the DataFrame evaluate_frame is fastest on: categories for
    strings, nullable Int64, datetime64 dates; labelled by their position."""
    mask = pa.array(keep)
    data: dict[str, Any] = {}
    for f in plan.inputs:
        if f.name in typed:
            data[f.name] = _pandas(typed[f.name].filter(mask), f.type)
    if days is not None:
        data["as_of"] = days[keep]
    return pd.DataFrame(data, index=pd.Index(np.flatnonzero(keep)))


def _pandas(array: pa.Array, type_: DataType) -> Any:
    if type_ in (DataType.STRING, DataType.CODE):
        return array.dictionary_encode().to_pandas().array
    if array.null_count == 0 and type_ is not DataType.DATE:
        return array.to_numpy(zero_copy_only=False)
    if type_ is DataType.INTEGER:
        return array.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get).array
    if type_ is DataType.BOOLEAN:
        return array.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get).array
    if type_ is DataType.DATE:
        return array.to_pandas(date_as_object=False).to_numpy()
    return array.to_numpy(zero_copy_only=False)


def _outside_values(
    plan: Plan, typed: dict[str, pa.Array], keep: Any, versions: dict[str, Any]
) -> list[Problem]:
    """(position, column, message) of each kept value outside its Values, in the
    version in force on its row; each distinct value is checked once."""
    found: list[Problem] = []
    for allowed in plan.allowed:
        array = typed.get(allowed.column)
        if array is None:
            continue
        rows = keep.copy()
        if allowed.table in versions:
            rows &= versions[allowed.table] == allowed.version
        if not rows.any():
            continue
        distinct = pc.unique(array.filter(pa.array(rows))).to_pylist()
        outside = [
            v
            for v in distinct
            if v is not None and not cells.tests_match(allowed.values, v)
        ]
        if not outside:
            continue
        which = pc.index_in(array, value_set=pa.array(outside, type=array.type))
        which = which.fill_null(-1).to_numpy(zero_copy_only=False)
        messages = [_outside_message(v, allowed) for v in outside]
        for p in np.flatnonzero(rows & (which >= 0)):
            found.append((int(p), allowed.column, messages[which[p]]))
    return found


def _outside_message(value: Any, allowed: Allowed) -> str:
    shown = repr(value) if isinstance(value, str) else value_text(value)
    text = f"{shown} is not one of the allowed Values of {allowed.column!r} in {allowed.table}"
    listed = entry_text(allowed.values, allowed.type)
    if len(listed) <= 80:
        text += f": {listed}"
    names = [str(t.value) for t in allowed.values.tests if isinstance(t, Equals)]
    hint = suggest(str(value), names)
    return text + (f"; {hint}" if hint else "")


def _arrow(values: pd.Series, kind: pa.DataType, *, listed: bool, text: bool) -> Any:
    """An object column of results as an Arrow array. Results are few distinct
    objects, so each is converted once and then taken per row."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    items = [list(u) for u in uniques] if listed else list(uniques)
    if listed and text:
        dictionary = pa.array([json.dumps(u, default=str) for u in items], pa.string())
    else:
        dictionary = pa.array(items, type=pa.list_(kind) if listed else kind)
    return dictionary.take(pa.array(codes, mask=codes < 0))


def _text(column: Any) -> Any:
    """A column as CSV can hold it: lists as JSON, dictionaries decoded."""
    kind = column.type
    if pa.types.is_dictionary(kind) or pa.types.is_large_string(kind):
        return column.cast(_plain(kind))
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        items = column.to_pylist()
        return pa.array(
            [None if v is None else json.dumps(v, default=str) for v in items]
        )
    return column


def _described(
    raw: pa.Table, problems: list[Problem]
) -> list[tuple[int, str, str, str]]:
    """Problems with the value as the input holds it, sorted by row."""
    values: dict[tuple[int, str], str] = {}
    by_column: dict[str, list[int]] = {}
    for p, column, _ in problems:
        by_column.setdefault(column, []).append(p)
    for column, positions in by_column.items():
        if column not in raw.column_names:
            continue
        taken = raw.column(column).take(pa.array(positions)).to_pylist()
        for p, v in zip(positions, taken, strict=True):
            values[(p, column)] = "" if v is None else str(v)
    described = [(p, c, values.get((p, c), ""), m) for p, c, m in problems]
    return sorted(described, key=lambda d: d[0])


# -- the engines --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Summary:
    rows: int  # read
    evaluated: int
    rejected: int  # rows left out (each has one or more lines in the errors file)
    output: Path
    errors: Path


class _Errors:
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


def run_local(
    plan: Plan,
    source: Source,
    output: Path,
    errors: Path,
    *,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[int, int], None] | None = None,
) -> Summary:
    """Run PLAN over SOURCE chunk by chunk in this process. OUTPUT and ERRORS appear
    whole when the run ends, or not at all (the files they replace stay as they were)."""
    schema = output_schema(source.schema, plan)
    kind = file_format(output, "--output")
    rows = evaluated = rejected = 0
    with (
        replacing(output) as staged,
        replacing(errors) as staged_errors,
        staged_errors.open("w", newline="", encoding="utf-8") as handle,
    ):
        report = _Errors(handle)
        try:
            writer = (
                pq.ParquetWriter(str(staged), schema)
                if kind == "parquet"
                else pacsv.CSVWriter(str(staged), schema)
            )
        except (OSError, pa.ArrowException) as exc:
            raise RunError(f"{output}: cannot write it: {exc}") from None
        with contextlib.closing(writer):
            for chunk, done in source.chunks(chunk_rows):
                table, problems = decide_chunk(chunk, plan, schema)
                writer.write_table(table)
                rejected += report.write(rows, problems)
                rows += chunk.num_rows
                evaluated += table.num_rows
                if progress is not None:
                    progress(done, source.size)
    return Summary(rows, evaluated, rejected, output, errors)


_BATCH = "__compile_rules_batch__"  # the extra row a Dask partition reports in


def decide_partition(frame: pd.DataFrame, plan: Plan, schema: pa.Schema) -> Any:
    """`decide_chunk` for a Dask partition: its output rows, then one row whose
    `_BATCH` column says, as JSON, how many rows it read and its problems."""
    raw = pa.Table.from_pandas(frame, preserve_index=False)
    table, problems = decide_chunk(raw, plan, schema)
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
    plan: Plan,
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
        raise RunError(
            "--engine dask needs Dask: pip install 'compile-rules[dask]'", usage=True
        ) from None
    if file_format(output, "--output") != "parquet":
        raise RunError(
            f"--output {output}: --engine dask writes a folder of Parquet parts; "
            "give it a name ending in .parquet",
            usage=True,
        )
    with _client(scheduler, distributed):
        frame = _dask_frame(source, partitions, dd)
        schema = output_schema(source.schema, plan)
        meta = pa.Table.from_pylist(
            [], schema=schema.append(pa.field(_BATCH, pa.string()))
        ).to_pandas(types_mapper=pd.ArrowDtype)
        decided = frame.map_partitions(
            decide_partition, delayed(plan), schema, meta=meta
        )
        rows = decided.map_partitions(_decided_rows, meta=meta.drop(columns=[_BATCH]))
        infos = decided.map_partitions(_batch_info, meta=meta[_BATCH])
        with replacing(output, folder=True) as staged:
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
    with (
        replacing(errors) as staged_errors,
        staged_errors.open("w", newline="", encoding="utf-8") as handle,
    ):
        report = _Errors(handle)
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
        frame = dd.read_parquet(  # row groups gathered into partitions of ~16 MiB
            path,
            dtype_backend="pyarrow",
            split_row_groups="adaptive",
            blocksize="16MiB",
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
