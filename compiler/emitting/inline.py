"""Faster Python for some derived columns in `evaluate` (version 2), where the types
are known; `explain`, `evaluate_frame` and the `_compute_` functions keep the
reference Python of the expression, which this must equal on every value.

- a date compared with a date input shifted by whole days (`< date_of_service - 14
  days`): the difference of their ordinals against the days, when both are dates
  and the shifted date is within the dates' range (else `feel.sign_days`: null when
  the shift leaves that range, as `feel.sub` gives), instead of building the
  shifted date and a duration on every call.
- a date input compared with another (`<= date_of_service`): the comparison itself
  when both are dates, else `feel.sign`.

and, for computed inputs and computed outputs (`fast_value`), of two date inputs A
and B, each when both are dates (`type(x) is date`: not a datetime), else the
reference function:

- `years and months duration(A, B).years`: `B.year - A.year` less one when B's
  month and day come before A's (for A <= B; else `feel.ym_field`);
- `A - B`: the timedelta itself (`feel.sub`); `(A - B).days`: the ordinals'
  difference (`feel.days_between`).
"""

from __future__ import annotations

import datetime as dt

from compiler import timetypes
from compiler.expressions.syntax import Binary, Call, Literal, Name, Path
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
    if isinstance(reference, Name) and _type(reference, columns) is DataType.DATE:
        a, b = source.name, reference.name
        return (
            f'(("less" if {a} < {b} else "greater" if {a} > {b} else "equal")'
            f" if {_dates(a, b)} else feel.sign({a}, {b}))"
        )
    if not (isinstance(reference, Binary) and reference.op in ("+", "-")):
        return None
    base, shift = reference.left, reference.right
    if not isinstance(base, Name) or _type(base, columns) is not DataType.DATE:
        return None
    days = _whole_days(shift)
    if days is None:
        return None
    days = days if reference.op == "+" else -days
    a, b, x = source.name, base.name, f"_{column.name}"
    # X (a local no input can name) holds B's ordinal, then the ordinals' difference:
    # the ordinal of B + DAYS within the dates' range (else null, as feel.sub gives)
    last = dt.date.max.toordinal()
    low, high = max(1, 1 - days), min(last, last - days)
    return (
        f'(("less" if ({x} := {a}.toordinal() - {x}) < {days}'
        f' else "greater" if {x} > {days} else "equal")'
        f" if {_dates(a, b)} and {low} <= ({x} := {b}.toordinal()) <= {high}"
        f" else feel.sign_days({a}, {b}, {days}))"
    )


def _dates(a: str, b: str) -> str:
    return f"type({a}) is date and type({b}) is date"


def fast_value(tree: object, columns: dict[str, Column]) -> str | None:
    """Python for the expression TREE of a computed input or output in `evaluate`
    (COLUMNS: the table's inputs by name), or None: its own."""

    def dates(node: object) -> tuple[str, str] | None:
        """The names of the two date inputs of `A - B` or a call's (A, B)."""
        pair = (
            (node.left, node.right)
            if isinstance(node, Binary) and node.op == "-"
            else node.arguments
            if isinstance(node, Call) and len(node.arguments) == 2
            else ()
        )
        if len(pair) == 2 and all(
            isinstance(x, Name) and _type(x, columns) is DataType.DATE for x in pair
        ):
            a, b = pair
            assert isinstance(a, Name) and isinstance(b, Name)
            return a.name, b.name
        return None

    if isinstance(tree, Path):
        value = tree.value
        found = dates(value)
        if found is None:
            return None
        a, b = found
        if (
            isinstance(value, Call)
            and value.function == "years and months duration"
            and tree.field == "years"
        ):
            return (
                f"({b}.year - {a}.year - (({b}.month, {b}.day) < ({a}.month, {a}.day))"
                f" if {_dates(a, b)} and {a} <= {b}"
                f' else feel.ym_field({a}, {b}, "years"))'
            )
        if isinstance(value, Binary) and tree.field == "days":
            return (
                f"({a}.toordinal() - {b}.toordinal() if {_dates(a, b)}"
                f" else feel.days_between({a}, {b}))"
            )
        return None
    if isinstance(tree, Binary):
        found = dates(tree)
        if found is None:
            return None
        a, b = found
        return f"({a} - {b} if {_dates(a, b)} else feel.sub({a}, {b}))"
    return None


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
