"""One chunk decided: its rows typed, dated and evaluated by the generated
`evaluate_frame`, written with their inputs; the rows it cannot take are left out,
each with its problems (row, column, value, message), and the others still run.
Both engines apply this, so a cluster computes exactly what one machine does.
"""

from __future__ import annotations

import datetime as dt
import json
import types
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from compiler.batch.columns import ARROW, coerce
from compiler.batch.plan import Allowed, Plan, evaluator
from compiler.emitting.loader import sibling
from compiler.model import DataType, Equals
from compiler.reading import cells
from compiler.reading.cell_text import entry_text, value_text
from compiler.reading.sheets import suggest

Problem = tuple[int, str, str]  # position in the chunk, column, message


def output_schema(schema: pa.Schema, plan: Plan) -> pa.Schema:
    """The input's columns (the table's own typed by it), then the outputs and
    `matched`: lists for multi-hit tables, as JSON text in CSV."""
    typed = {f.name: ARROW[f.type] for f in plan.inputs}
    if plan.as_of_column is not None:
        typed[plan.as_of_column] = pa.date32()
    fields = [(f.name, typed.get(f.name, _plain(f.type))) for f in schema]
    for out in plan.outputs:
        kind = ARROW[out.type]
        listed = plan.shape == "list" or out.many  # (version 2: a list output)
        fields.append((out.name, pa.list_(kind) if listed else kind))
    fields.append(("matched", pa.string() if plan.shape == "single" else _IDS))
    if plan.text:
        fields = [(n, pa.string() if pa.types.is_list(k) else k) for n, k in fields]
    return pa.schema(fields)


_IDS = pa.list_(pa.string())
CODED = pa.dictionary(pa.int32(), pa.string())  # a string column as its codes


def coded_schema(schema: pa.Schema, plan: Plan) -> pa.Schema | None:
    """SCHEMA (an output schema, for Parquet) with the string columns that hold few
    values as dictionaries (the table's string and code inputs; its string outputs
    and `matched` when one rule decides), which Parquet writes as they are, without
    a hash per row. Such a file is written without pyarrow's own copy of the schema
    (it would say dictionaries), so only when every column's type reads back the same
    from Parquet's types alone; else None."""
    if not all(_native(f.type) for f in schema):
        return None
    few = {f.name for f in plan.inputs if f.type in (DataType.STRING, DataType.CODE)}
    if plan.shape == "single":
        few |= {f.name for f in plan.outputs if ARROW[f.type] == pa.string()}
        few.add("matched")
    return pa.schema(
        [
            (f.name, CODED if f.name in few and f.type == pa.string() else f.type)
            for f in schema
        ]
    )


def _native(kind: pa.DataType) -> bool:
    """Whether Parquet's own types give KIND back to a reader (as pyarrow reads it)."""
    if pa.types.is_timestamp(kind):
        return bool(kind.tz is None and kind.unit != "s")
    return any(
        test(kind)
        for test in (
            pa.types.is_boolean,
            pa.types.is_integer,
            pa.types.is_float32,
            pa.types.is_float64,
            pa.types.is_string,
            pa.types.is_binary,
            pa.types.is_date32,
        )
    )


def _plain(kind: pa.DataType) -> pa.DataType:
    """A column's type without its encoding, so that both engines write the same."""
    if pa.types.is_dictionary(kind):
        return _plain(kind.value_type)
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pa.string()
    if pa.types.is_large_binary(kind):
        return pa.binary()
    return kind


@dataclass(frozen=True, slots=True)
class Decided:
    """One chunk decided by one plan: its inputs typed, the rows it could take
    (KEEP), their results (Categorical columns labelled by the rows' positions) and
    the problems of the others."""

    typed: dict[str, pa.Array]
    keep: Any
    results: pd.DataFrame
    problems: list[Problem]


def decide_rows(raw: pa.Table, plan: Plan) -> Decided:
    """Type, date and evaluate the rows of RAW by PLAN."""
    names = set(raw.column_names)
    problems: list[Problem] = []
    typed: dict[str, pa.Array] = {}
    for f in plan.inputs:
        if f.name in names:
            array, found = coerce(raw.column(f.name), f.type, cells=plan.cells)
            if f.type in (DataType.STRING, DataType.CODE):
                array = _encoded(array)
            typed[f.name] = array
            problems += [(p, f.name, m) for p, m in found]
    days = _days(raw, plan, typed, problems)
    versions = _versions(plan, days, problems)
    keep = np.ones(raw.num_rows, dtype=bool)
    keep[[p for p, _, _ in problems]] = False
    results, keep = _evaluate(plan, typed, days, keep, versions, problems)
    return Decided(typed, keep, results, problems)


def decide_chunk(
    raw: pa.Table, plan: Plan, schema: pa.Schema
) -> tuple[pa.Table, list[tuple[int, str, str, str]]]:
    """Evaluate one chunk: its output rows (in SCHEMA), and (position, column, value,
    message) for each problem of the rows left out, in row order."""
    decided = decide_rows(raw, plan)
    keep = decided.keep
    rows = None if keep.all() else np.flatnonzero(keep)
    columns = input_columns(raw, decided.typed, schema, plan.text, rows)
    results = decided.results
    for out in plan.outputs:
        kind = schema.field(out.name).type
        columns.append(
            arrow_results(
                results[out.name], kind, listed=plan.shape == "list" or out.many
            )
        )
    kind = schema.field("matched").type
    columns.append(
        arrow_results(results["matched"], kind, listed=plan.shape != "single")
    )
    return pa.Table.from_arrays(columns, schema=schema), described(
        raw, decided.problems
    )


def input_columns(
    raw: pa.Table,
    typed: dict[str, pa.Array],
    schema: pa.Schema,
    text: bool,
    rows: Any = None,
) -> list[Any]:
    """The input's columns (the table's own as TYPED) at positions ROWS (None:
    all), in the types of SCHEMA, which names them first, in the input's order."""
    taken = None if rows is None else pa.array(rows, type=pa.int64())
    columns: list[Any] = []
    for position, f in enumerate(schema):
        if position == raw.num_columns:
            break
        column = typed.get(f.name)
        if column is None:
            column = raw.column(position)
        if taken is not None:
            column = column.take(taken)
        columns.append((_text(column) if text else column).cast(f.type))
    return columns


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
    their column's Values are found once per distinct value and left out; the rows
    missing a required input go in one pass per such input; should a row still raise
    (a UNIQUE table matching twice), it is left out with every row of the same
    inputs, which raise alike: a pass per distinct failing row, never per row."""
    module = evaluator(plan)
    error = _runtime(module).DecisionError
    frame = _frame(plan, typed, days, keep)
    try:
        return module.evaluate_frame(frame, categorical=True), keep
    except error as exc:
        _release(exc)
    keep = keep.copy()
    for p, column, message in _outside_values(plan, typed, keep, versions):
        problems.append((p, column, message))
        keep[p] = False
    frame = _frame(plan, typed, days, keep)
    groups = None
    while True:
        try:
            return module.evaluate_frame(frame, categorical=True), keep
        except error as exc:
            if exc.row is None or exc.row not in frame.index:
                raise
            _release(exc)
            column = getattr(exc, "name", "")
            if getattr(exc, "value", 0) is None:
                # A missing required input: every row missing it raises alike (no
                # earlier input of theirs raised first), so all go at once.
                message = str(exc).removesuffix(f" (row {exc.row!r})")
                same = (
                    frame[column].isna().to_numpy()
                    if column in frame.columns
                    else np.ones(len(frame), dtype=bool)
                )
                for p in frame.index.to_numpy()[same]:
                    problems.append((int(p), column, message))
                    keep[p] = False
                frame = frame[~same]
                if groups is not None:
                    groups = groups[~same]
                continue
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
            for p in frame.index.to_numpy()[same]:
                problems.append((int(p), column, message))
                keep[p] = False
            frame, groups = frame[~same], groups[~same]


def _release(exc: BaseException) -> None:
    """Drop the traceback of an error a chunk raised, whose frames hold the chunk's
    arrays: the raising frame refers to the error, so the two form a cycle that only
    a full garbage collection frees, and a run with bad rows would otherwise grow by
    a chunk's arrays per error until one happens (memory grew with the file)."""
    exc.__traceback__ = None


def _runtime(module: types.ModuleType) -> types.ModuleType:
    return sibling(module, "_runtime")


def _frame(plan: Plan, typed: dict[str, pa.Array], days: Any, keep: Any) -> Any:
    """The rows to KEEP as the DataFrame evaluate_frame is fastest on: categories for
    strings, nullable Int64, datetime64 dates; labelled by their position."""
    every = bool(keep.all())
    mask = None if every else pa.array(keep)
    data: dict[str, Any] = {}
    for f in plan.inputs:
        if f.name in typed:
            array = typed[f.name] if mask is None else typed[f.name].filter(mask)
            data[f.name] = _pandas(array, f.type)
    if days is not None:
        data["as_of"] = days if every else days[keep]
    index = pd.RangeIndex(len(keep)) if every else pd.Index(np.flatnonzero(keep))
    return pd.DataFrame(data, index=index, copy=False)


def _encoded(array: pa.Array) -> pa.Array:
    """A string column as a dictionary (int32 codes), as evaluate_frame takes it
    (categories) and Parquet writes it cheapest."""
    if pa.types.is_dictionary(array.type):
        return array if array.type == CODED else array.cast(CODED)
    return array.dictionary_encode()


def _pandas(array: pa.Array, type_: DataType) -> Any:
    if type_ in (DataType.STRING, DataType.CODE):
        return array.to_pandas().array
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
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
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


def arrow_results(values: pd.Series, kind: pa.DataType, *, listed: bool) -> Any:
    """A Categorical column of results as an Arrow array of KIND: its few categories
    converted once, then taken per row by their codes, or kept as codes when KIND
    is a dictionary. LISTED: each result is a tuple (as JSON when KIND is text)."""
    categorical = values.array
    codes = np.asarray(categorical.codes)
    missing = codes < 0
    indices = pa.array(codes, mask=missing if missing.any() else None)
    items = list(categorical.categories)
    if listed:
        items = [list(u) for u in items]
        if kind == pa.string():
            items = [json.dumps(u, default=str) for u in items]
    if pa.types.is_dictionary(kind):
        dictionary = pa.array(items, type=kind.value_type)
        return pa.DictionaryArray.from_arrays(indices.cast(kind.index_type), dictionary)
    return pa.array(items, type=kind).take(indices)


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


def described(
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
