"""Model values and input entries back to cell syntax, for people to read.

The Markdown pages, the HTML report, `diff` and `show` all print entries the way an
author would type them (`< 18`, `"CT", "MRI"`, `not(null)`), from the model rather
than from the raw cells, so that two spellings of one rule read the same.
"""

from __future__ import annotations

import datetime as dt
import re

from compiler.model import (
    Bound,
    Compare,
    DataType,
    Equals,
    Interval,
    Prefix,
    Test,
    UnaryTests,
    Value,
    YearsMonths,
)
from compiler.timetypes import show_duration, show_years_months

_BARE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/+-]*$")
_KEYWORDS = frozenset({"null", "true", "false", "-"})


def value_text(value: Value | tuple[Value, ...], *, quote: bool = True) -> str:
    """One literal as a cell shows it: `null`, `true`, `2025-12-18`, `18`, `"CT"`.

    A tuple (several expected values of a multi-hit table) is a comma list.
    """
    if isinstance(value, tuple):
        return ", ".join(value_text(v, quote=quote) for v in value) or "[]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.timedelta):  # version 2: `14 days`
        return show_duration(value)
    if isinstance(value, YearsMonths):  # version 2: `18 months`
        return show_years_months(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if not quote and _BARE.match(value) and value.lower() not in _KEYWORDS:
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def bound_text(value: Bound) -> str:
    """A comparison or range end; codes stay bare (`[70450..70498]`)."""
    if isinstance(value, str):
        return value if _BARE.match(value) else value_text(value)
    return value_text(value)


def test_text(test: Test, *, quote: bool = True) -> str:
    if isinstance(test, Equals):
        return value_text(test.value, quote=quote)
    if isinstance(test, Compare):
        return f"{test.op} {bound_text(test.value)}"
    if isinstance(test, Interval):
        low = "[" if test.low_closed else "("
        high = "]" if test.high_closed else ")"
        return f"{low}{bound_text(test.low)}..{bound_text(test.high)}{high}"
    if isinstance(test, Prefix):
        return f"{test.prefix}*"
    raise TypeError(test)  # pragma: no cover - Test is a closed union


test_text.__test__ = False  # type: ignore[attr-defined]  # not a pytest test function


def entry_text(entry: UnaryTests, type_: DataType | None = None) -> str:
    """An input entry: `-`, `"CT", "MRI"`, `not(null)`, `[18..64]`; codes bare."""
    if entry.is_any:
        return "-"
    quote = type_ is not DataType.CODE
    listed = ", ".join(test_text(t, quote=quote) for t in entry.tests)
    return f"not({listed})" if entry.negated else listed
