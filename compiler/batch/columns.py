"""Typing an input's columns by the table's, in Arrow: Arrow's casts for plain text,
`cells.parse_literal` once per distinct other text. A value its column cannot take is
a problem at its position and null in the result, so the rest of its chunk still runs.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from compiler.diagnostics import CellError
from compiler.model import DataType
from compiler.reading import cells

ARROW = {
    DataType.STRING: pa.string(),
    DataType.CODE: pa.string(),
    DataType.INTEGER: pa.int64(),
    DataType.NUMBER: pa.float64(),
    DataType.BOOLEAN: pa.bool_(),
    DataType.DATE: pa.date32(),
    DataType.DURATION: pa.duration("us"),
    DataType.TIME: pa.time64("us"),
    DataType.DATETIME: pa.timestamp("us"),
}

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
    is parsed even in string columns (spaces, quotes, `null`), as in a CSV cell. A
    float NaN is missing, whatever the column's type. A dictionary column is typed
    once per distinct value; string and code columns stay dictionaries."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(array.type):
        return _coerce_dictionary(array, type_, cells=cells)
    if pa.types.is_large_string(array.type) or pa.types.is_string_view(array.type):
        array = array.cast(pa.string())
    target = ARROW[type_]
    kind = array.type
    if pa.types.is_null(kind):
        return pa.nulls(len(array), target), []
    if pa.types.is_floating(kind) and pc.any(pc.is_nan(array)).as_py():
        array = pc.if_else(pc.is_nan(array), None, array)  # NaN: missing
    if cells and pa.types.is_string(kind):
        return _parse_text(array, type_)
    if kind == target and type_ is not DataType.NUMBER:
        return array, []
    if type_ is DataType.NUMBER and (
        pa.types.is_floating(kind) or pa.types.is_integer(kind)
    ):
        return array.cast(pa.float64()), []
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


def _coerce_dictionary(
    array: pa.DictionaryArray, type_: DataType, *, cells: bool
) -> tuple[pa.Array, list[tuple[int, str]]]:
    """A dictionary column typed by its dictionary: each distinct value once."""
    values, found = coerce(array.dictionary, type_, cells=cells)
    indices = array.indices
    problems: list[tuple[int, str]] = []
    if found:
        bad = pa.array([p for p, _ in found], type=indices.type)
        messages = [m for _, m in found]
        which = pc.index_in(indices, value_set=bad).fill_null(-1)
        which = which.to_numpy(zero_copy_only=False)
        problems = [(int(p), messages[which[p]]) for p in np.flatnonzero(which >= 0)]
    if type_ in (DataType.STRING, DataType.CODE) and values.null_count == 0:
        return pa.DictionaryArray.from_arrays(indices, values), problems
    return values.take(indices), problems


def _parse_text(
    array: pa.Array, type_: DataType
) -> tuple[pa.Array, list[tuple[int, str]]]:
    target = ARROW[type_]
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
            messages.append(cell_message(exc))
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


def cell_message(exc: CellError) -> str:
    return exc.message + (f" ({exc.hint})" if exc.hint else "")
