"""Values as Python literals, for codegen, its masks and its templates, and the one
template environment, whose `py_literal` filter the templates use for every literal.

Every value from a cell reaches generated code through `py_literal`, as `repr()` of
a parsed, typed value, never as cell text, so no cell can write code into the
generated package.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

import jinja2

from compiler.model import Value, YearsMonths

# Types whose literal is their repr(), looked up by exact type first: a large table
# writes about a million literals, most of them plain strings and numbers.
PLAIN = frozenset({type(None), bool, int, float, str})


def py_literal(value: object) -> str:
    """The one way a value becomes code: exact types, sets sorted, dates as date(...)."""
    if type(value) in PLAIN:
        return repr(value)
    if type(value) is tuple:
        inner = ", ".join(
            [repr(v) if type(v) in PLAIN else py_literal(v) for v in value]
        )
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):  # version 2: before date, which it extends
        fields = (value.year, value.month, value.day, value.hour, value.minute)
        rest = (value.second, value.microsecond)
        shown = (*fields, *rest) if any(rest) else fields
        return f"datetime({', '.join(map(str, shown))})"
    if isinstance(value, dt.timedelta):
        parts = [f"days={value.days}"] if value.days else []
        if value.seconds:
            parts.append(f"seconds={value.seconds}")
        if value.microseconds:
            parts.append(f"microseconds={value.microseconds}")
        return f"timedelta({', '.join(parts)})"
    if isinstance(value, dt.time):
        clock = (value.hour, value.minute, value.second, value.microsecond)
        return f"time({', '.join(map(str, clock[: 4 if clock[3] else 3]))})"
    if isinstance(value, dt.date):
        return f"date({value.year}, {value.month}, {value.day})"
    if isinstance(value, YearsMonths):  # version 2: a whole number of months
        return f"YearsMonths({value.total})"
    if isinstance(value, frozenset):
        items = sorted(value, key=lambda v: (v is None, type(v).__name__, repr(v)))
        return "frozenset({" + ", ".join(py_literal(v) for v in items) + "})"
    if isinstance(value, tuple):
        inner = ", ".join(py_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    raise TypeError(f"no literal for {type(value).__name__}")


def dict_literal(pairs: Iterable[tuple[str, object]]) -> str:
    """`{"age": 18, "urgent": True}`: a dict of PAIRS, keys and values `py_literal`;
    a dict value (a structured input's fields) as a dict literal in turn. A string
    key and a plain value, nearly every pair, are one f-string (`py_literal` is
    their repr()): a large table's example cases write two dicts each."""
    items = [
        f"{k!r}: {v!r}" if type(k) is str and type(v) in PLAIN else _pair(k, v)
        for k, v in pairs
    ]
    return "{" + ", ".join(items) + "}"


def _pair(key: object, value: object) -> str:
    """One item of `dict_literal` whose key or value is not plain."""
    shown = (
        dict_literal(value.items()) if isinstance(value, dict) else py_literal(value)
    )
    return f"{py_literal(key)}: {shown}"


@functools.cache  # one environment: it compiles each template once per process
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("compiler.emitting", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["py_literal"] = py_literal
    return env


def value_names(values: Iterable[Value]) -> list[str]:
    """The datetime classes the literals of VALUES need (datetime before date: a
    datetime is a date)."""
    found: set[str] = set()
    for value in values:
        if type(value) in PLAIN:
            continue
        if isinstance(value, dt.datetime):
            found.add("datetime")
        elif isinstance(value, dt.date):
            found.add("date")
        elif isinstance(value, dt.timedelta):
            found.add("timedelta")
        elif isinstance(value, dt.time):
            found.add("time")
    return sorted(found)
