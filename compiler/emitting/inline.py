"""Faster Python for some derived columns in `evaluate` (version 2), where the types
are known; `explain`, `evaluate_frame` and the `_compute_` functions keep the
reference Python of the expression, which this must equal on every value.

- a date compared with a date input shifted by whole days (`< date_of_service - 14
  days`): `feel.sign_days`, ordinal arithmetic instead of building the shifted date
  and a duration on every call (null when the shift leaves the dates' range, as
  `feel.sub` gives).
"""

from __future__ import annotations

from compiler import timetypes
from compiler.expressions.syntax import Binary, Call, Literal, Name
from compiler.model import Column, DataType

_DAY = 86400


def fast_python(column: Column, columns: dict[str, Column]) -> str | None:
    """Python for the derived COLUMN in `evaluate` (COLUMNS: the table's inputs by
    name), or None: its expression's own."""
    typed = column.expression
    if typed is None or not column.derived:
        return None
    tree = typed.tree
    if not (isinstance(tree, Call) and tree.function == "sign"):
        return None
    source, reference = tree.arguments
    if not isinstance(source, Name) or _type(source, columns) is not DataType.DATE:
        return None
    if not (isinstance(reference, Binary) and reference.op in ("+", "-")):
        return None
    base, shift = reference.left, reference.right
    if not isinstance(base, Name) or _type(base, columns) is not DataType.DATE:
        return None
    days = _whole_days(shift)
    if days is None:
        return None
    days = days if reference.op == "+" else -days
    return f"feel.sign_days({source.name}, {base.name}, {days})"


def _type(node: Name, columns: dict[str, Column]) -> DataType | None:
    found = columns.get(node.name)
    return None if found is None else found.type


def _whole_days(node: object) -> int | None:
    """The whole days of the duration literal NODE (`14 days`, `2 weeks`), or None."""
    if not isinstance(node, Literal) or not node.unit:
        return None
    if type(node.value) is not int or node.unit in timetypes.YM_UNITS:
        return None
    try:
        seconds = node.value * timetypes.unit_seconds(node.unit)
    except KeyError:
        return None
    return seconds // _DAY if seconds % _DAY == 0 else None
