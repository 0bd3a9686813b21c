"""Type-check an expression tree against its inputs' types, then emit it as Python
(for the generated evaluators) or evaluate it directly (the reference interpreter).

Types are the column types (`integer`, `number`, `string`, `boolean`, `date`,
`datetime`, `time`, `duration`; `code` is a `string` here) plus `ym` (a
years-and-months duration, which only expressions hold) and `null`. A type error is
an ExpressionError (E207) naming the character of the node that is wrong.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from compiler import timetypes
from compiler.diagnostics import CellError
from compiler.emitting.literals import py_literal
from compiler.emitting.runtime import _feel
from compiler.expressions.syntax import (
    Between,
    Binary,
    Call,
    ExpressionError,
    If,
    ListLiteral,
    Literal,
    Name,
    Node,
    Path,
    Quantified,
    Unary,
    parse,
)
from compiler.model import DataType

NUMERIC = ("integer", "number")
ORDERED = (*NUMERIC, "string", "date", "datetime", "time", "duration", "ym")
_OPS = {
    "+": "add",
    "-": "sub",
    "*": "mul",
    "/": "div",
    "**": "power",
    "<": "lt",
    "<=": "le",
    ">": "gt",
    ">=": "ge",
    "=": "eq",
    "!=": "ne",
    "and": "and_",
    "or": "or_",
}
_ARITHMETIC: dict[tuple[str, str, str], str] = {}
for _a in NUMERIC:
    for _b in NUMERIC:
        _kind = "integer" if _a == _b == "integer" else "number"
        for _op in "+-*":
            _ARITHMETIC[(_op, _a, _b)] = _kind
        _ARITHMETIC[("/", _a, _b)] = "number"
        _ARITHMETIC[("**", _a, _b)] = "number"
    _ARITHMETIC[("*", "duration", _a)] = _ARITHMETIC[("*", _a, "duration")] = "duration"
    _ARITHMETIC[("/", "duration", _a)] = "duration"
    _ARITHMETIC[("*", "ym", _a)] = _ARITHMETIC[("*", _a, "ym")] = "ym"
for _t in ("date", "datetime"):
    for _d in ("duration", "ym"):
        _ARITHMETIC[("+", _t, _d)] = _ARITHMETIC[("+", _d, _t)] = _t
        _ARITHMETIC[("-", _t, _d)] = _t
    _ARITHMETIC[("-", _t, _t)] = "duration"
for _d in ("duration", "ym"):
    _ARITHMETIC[("+", _d, _d)] = _ARITHMETIC[("-", _d, _d)] = _d
_ARITHMETIC[("/", "duration", "duration")] = "number"
_ARITHMETIC[("+", "time", "duration")] = _ARITHMETIC[("-", "time", "duration")] = "time"
_ARITHMETIC[("-", "time", "time")] = "duration"
_ARITHMETIC[("+", "string", "string")] = "string"

_FIELDS = {
    "ym": {"years": "integer", "months": "integer"},
    "duration": {
        "days": "integer",
        "hours": "integer",
        "minutes": "integer",
        "seconds": "integer",
    },
    "date": {
        "year": "integer",
        "month": "integer",
        "day": "integer",
        "weekday": "integer",
    },
    "datetime": {
        "year": "integer",
        "month": "integer",
        "day": "integer",
        "weekday": "integer",
        "hour": "integer",
        "minute": "integer",
        "second": "integer",
    },
    "time": {"hour": "integer", "minute": "integer", "second": "integer"},
}
# name -> (argument types (None: any ordered, all alike), result type (None: the
# arguments'))
_FUNCTIONS: dict[str, tuple[tuple[str | None, ...], str | None]] = {
    "abs": ((None,), None),
    "floor": (("number",), "integer"),
    "ceiling": (("number",), "integer"),
    "string length": (("string",), "integer"),
    "upper case": (("string",), "string"),
    "lower case": (("string",), "string"),
    "starts with": (("string", "string"), "boolean"),
    "ends with": (("string", "string"), "boolean"),
    "contains": (("string", "string"), "boolean"),
    "substring": (("string", "number"), "string"),
    "decimal": (("number", "number"), "number"),
}
# `string(x)`: the types it writes as FEEL does (other types are refused)
_STRINGABLE = ("string", "integer", "number", "boolean", "date", "null")
_TEXT_TYPES = {
    "date": DataType.DATE,
    "time": DataType.TIME,
    "date and time": DataType.DATETIME,
}


def type_of(column_type: DataType) -> str:
    if column_type is DataType.YEARS_MONTHS:  # version 2: a column of them
        return "ym"
    return "string" if column_type is DataType.CODE else column_type.value


@dataclass(frozen=True, slots=True)
class Typed:
    """An expression checked against its inputs: its type, the Python that computes
    it, the input names it reads (in order of first use) and its tree."""

    text: str
    type: str
    python: str
    names: tuple[str, ...]
    tree: Node


def compile_expression(text: str, inputs: Mapping[str, str]) -> Typed:
    """TEXT parsed and checked, INPUTS mapping each name it may read to its type."""
    tree = parse(text)
    checker = _Checker(text, inputs)
    kind, python = checker.check(tree)
    return Typed(text, kind, python, tuple(dict.fromkeys(checker.names)), tree)


def path_name(node: Path) -> str:
    """The identifier of the path input NODE reads (`claim.member.age` is
    `claim__member__age`), or '' when NODE is not a path of names."""
    fields = [node.field]
    value = node.value
    while isinstance(value, Path):
        fields.append(value.field)
        value = value.value
    if not isinstance(value, Name):
        return ""
    return "__".join([value.name, *reversed(fields)])


LIST = "list of "  # a list type: `list of integer`; `list of null` is `[]`


def _same(a: str, b: str) -> bool:
    if a.startswith(LIST) and b.startswith(LIST):
        return _same(a[len(LIST) :], b[len(LIST) :])
    return a == b or (a in NUMERIC and b in NUMERIC) or "null" in (a, b)


def _element(kind: str) -> str | None:
    """The element type of the list type KIND (`null` for `[]` and for null itself);
    None when KIND is not a list."""
    if kind == "null":
        return "null"
    return kind[len(LIST) :] if kind.startswith(LIST) else None


def _innermost(kind: str) -> str:
    """The type of the values KIND holds once every list in it is opened: `string`
    for `list of list of string` and for `string`."""
    while kind.startswith(LIST):
        kind = kind[len(LIST) :]
    return kind


def _joined(kinds: list[str]) -> str:
    """The type of values of KINDS together (an integer and a number are a number)."""
    known = [k for k in kinds if k != "null"]
    if not known:
        return "null"
    if all(k in NUMERIC for k in known) and "number" in known:
        return "number"
    if all(k.startswith(LIST) for k in known):
        return LIST + _joined([k[len(LIST) :] for k in known])
    return known[0]


def _article(kind: str) -> str:
    shown = {"ym": "years and months duration", "datetime": "date and time"}.get(
        kind, kind
    )
    return ("an " if shown[0] in "aeiou" else "a ") + shown


class _Checker:
    def __init__(self, text: str, inputs: Mapping[str, str]) -> None:
        self.text = text
        self.inputs = inputs
        self.names: list[str] = []

    def fail(self, node: Node, message: str, hint: str = "") -> ExpressionError:
        shown = self.text[node.start : node.end]
        return ExpressionError(
            f"{message} (at character {node.start + 1}: {shown!r})", node.start, hint
        )

    def check(self, node: Node) -> tuple[str, str]:
        if isinstance(node, Literal):
            return self.literal(node)
        if isinstance(node, Name):
            if node.name not in self.inputs:
                known = ", ".join(sorted(self.inputs)) or "none"
                raise self.fail(
                    node, f"unknown name {node.name!r}", f"the inputs here: {known}"
                )
            self.names.append(node.name)
            kind = self.inputs[node.name]
            element = _element(kind)
            if element is not None and kind != "null":  # a list input: checked
                return kind, f"feel.listed({node.name}, {element!r})"
            return kind, node.name
        if isinstance(node, Unary):
            kind, python = self.check(node.operand)
            if kind not in (*NUMERIC, "duration", "ym", "null"):
                raise self.fail(node, f"cannot negate {_article(kind)}")
            return kind, f"feel.neg({python})"
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Between):
            value, low, high = (
                self.check(n) for n in (node.value, node.low, node.high)
            )
            for other, part in ((low, node.low), (high, node.high)):
                if not _same(value[0], other[0]) or value[0] not in (*ORDERED, "null"):
                    raise self.fail(
                        part,
                        f"{_article(value[0])} cannot be compared with "
                        f"{_article(other[0])}",
                    )
            return "boolean", f"feel.between({value[1]}, {low[1]}, {high[1]})"
        if isinstance(node, If):
            condition = self.check(node.condition)
            if condition[0] not in ("boolean", "null"):
                raise self.fail(
                    node.condition,
                    f"the condition is {_article(condition[0])}, not a boolean",
                )
            then, otherwise = self.check(node.then), self.check(node.otherwise)
            if not _same(then[0], otherwise[0]):
                raise self.fail(
                    node,
                    f"then gives {_article(then[0])} but else {_article(otherwise[0])}",
                    "both branches must give the same type",
                )
            kind = then[0] if then[0] != "null" else otherwise[0]
            if (
                kind in NUMERIC
                and then[0] != otherwise[0]
                and "null" not in (then[0], otherwise[0])
            ):
                kind = "number"
            return kind, f"({then[1]} if {condition[1]} is True else {otherwise[1]})"
        if isinstance(node, Path):
            dotted = path_name(node)
            if dotted in self.inputs:  # version 2: a path input, `claim.member.age`
                return self.check(Name(node.start, node.end, dotted))
            kind, python = self.check(node.value)
            fields = _FIELDS.get(kind, {})
            if node.field not in fields:
                raise self.fail(
                    node,
                    f"{_article(kind)} has no field {node.field!r}",
                    f"its fields: {', '.join(fields)}" if fields else "",
                )
            fused = self.fused_field(node)
            if fused is not None:
                return fields[node.field], fused
            return fields[node.field], f"feel.field({python}, {node.field!r})"
        if isinstance(node, Call):
            return self.call(node)
        assert isinstance(node, ListLiteral)
        items = [self.check(item) for item in node.items]
        for (kind, _), item in zip(items, node.items, strict=True):
            if not _same(kind, items[0][0]):
                mixed = _innermost(kind) == _innermost(items[0][0])
                raise self.fail(
                    item,
                    f"a list holds values of one type: {_article(items[0][0])} and "
                    f"{_article(kind)}",
                    "to splice the lists into one list, write flatten([...])"
                    if mixed
                    else "",
                )
        inner = "".join(f"{p}, " for _, p in items)
        return LIST + _joined([k for k, _ in items]), f"({inner.rstrip(' ')})"

    def fused_field(self, node: Path) -> str | None:
        """The Python of `years and months duration(a, b).years` (or `.months`) and
        of `(a - b).days` of two dates, which skip building the duration (as
        `feel.field` of it gives); None for other fields."""
        value = node.value
        if (
            isinstance(value, Call)
            and value.function == "years and months duration"
            and node.field in ("years", "months")
        ):
            start, end = (self.check(a)[1] for a in value.arguments)
            return f"feel.ym_field({start}, {end}, {node.field!r})"
        if isinstance(value, Binary) and value.op == "-" and node.field == "days":
            left, right = self.check(value.left), self.check(value.right)
            if left[0] == "date" and right[0] == "date":
                return f"feel.days_between({left[1]}, {right[1]})"
        return None

    def literal(self, node: Literal) -> tuple[str, str]:
        value = node.value
        if node.unit:
            assert isinstance(value, (int, float))
            if timetypes.YM_UNITS.get(node.unit):
                if not isinstance(value, int):
                    raise self.fail(
                        node, "months and years are counted in whole numbers"
                    )
                months = value * timetypes.YM_UNITS[node.unit]
                return "ym", f"feel.YearsMonths({months})"
            seconds = value * timetypes.unit_seconds(node.unit)
            return "duration", py_literal(dt.timedelta(seconds=seconds))
        if value is None:
            return "null", "None"
        if isinstance(value, bool):
            return "boolean", py_literal(value)
        if isinstance(value, int):
            return "integer", py_literal(value)
        if isinstance(value, float):
            return "number", py_literal(value)
        assert isinstance(value, str)
        return "string", py_literal(value)

    def binary(self, node: Binary) -> tuple[str, str]:
        left, right = self.check(node.left), self.check(node.right)
        function = f"feel.{_OPS[node.op]}({left[1]}, {right[1]})"
        a, b = left[0], right[0]
        if node.op in ("and", "or"):
            for kind, part in ((a, node.left), (b, node.right)):
                if kind not in ("boolean", "null"):
                    raise self.fail(
                        part, f"{node.op} needs booleans, not {_article(kind)}"
                    )
            return "boolean", function
        if node.op in ("=", "!="):
            if not _same(a, b):
                raise self.fail(node, f"{_article(a)} is never equal to {_article(b)}")
            return "boolean", function
        if node.op in ("<", "<=", ">", ">="):
            if (
                not _same(a, b)
                or a not in (*ORDERED, "null")
                or b not in (*ORDERED, "null")
            ):
                raise self.fail(
                    node,
                    f"{_article(a)} cannot be compared with {_article(b)}",
                    "compare values of one type: a date with a date, a duration "
                    "with a duration (date - date is a duration)",
                )
            return "boolean", function
        if "null" in (a, b):
            return (b if a == "null" else a), function
        result = _ARITHMETIC.get((node.op, a, b))
        if result is None:
            raise self.fail(
                node,
                f"{_article(a)} {node.op} {_article(b)} is not defined",
                "date - date is a duration; date + duration is a date; durations "
                "are written 14 days, 6 weeks, 3 months",
            )
        return result, function

    def call(self, node: Call) -> tuple[str, str]:
        name = node.function
        if name in _TEXT_TYPES or name == "duration":
            return self.temporal(node)
        if name == "years and months duration":
            if len(node.arguments) != 2:
                raise self.fail(node, f"{name} takes two dates (from, to)")
            parts = [self.check(a) for a in node.arguments]
            for (kind, _), argument in zip(parts, node.arguments, strict=True):
                if kind not in ("date", "datetime", "null"):
                    raise self.fail(
                        argument, f"{name} takes dates, not {_article(kind)}"
                    )
            return "ym", f"feel.years_and_months({parts[0][1]}, {parts[1][1]})"
        if name == "flatten":
            return self.flatten(node)
        if name in ("count", "sum", "list contains") or (
            name in ("min", "max") and len(node.arguments) == 1
        ):
            return self.list_call(node)
        if name in ("min", "max"):
            parts = [self.check(a) for a in node.arguments]
            if not parts or any(not _same(parts[0][0], k) for k, _ in parts):
                raise self.fail(node, f"{name} takes one or more values of one type")
            kind = parts[0][0]
            if kind in NUMERIC and any(k == "number" for k, _ in parts):
                kind = "number"
            inner = ", ".join(p for _, p in parts)
            return kind, f"feel.call({name!r}, {inner})"
        if name == "string":
            if len(node.arguments) != 1:
                raise self.fail(node, "string takes one value")
            kind, python = self.check(node.arguments[0])
            if kind not in _STRINGABLE:
                raise self.fail(
                    node.arguments[0],
                    f"string takes a string, number, boolean or date, not "
                    f"{_article(kind)}",
                )
            return "string", f"feel.call('string', {python})"
        if name not in _FUNCTIONS:
            known = ", ".join(
                sorted(
                    [
                        *_FUNCTIONS,
                        "min",
                        "max",
                        "count",
                        "sum",
                        "list contains",
                        "flatten",
                        "date",
                        "time",
                        "date and time",
                        "duration",
                        "years and months duration",
                        "string",
                    ]
                )
            )
            raise self.fail(
                node, f"unknown function {name!r}", f"the functions: {known}"
            )
        expected, result = _FUNCTIONS[name]
        parts = [self.check(a) for a in node.arguments]
        if len(parts) not in (len(expected), len(expected) + (name == "substring")):
            raise self.fail(node, f"{name} takes {len(expected)} argument(s)")
        for (kind, _), want, argument in zip(
            parts, expected, node.arguments, strict=False
        ):
            if want is None:
                if kind not in (*NUMERIC, "duration", "null"):
                    raise self.fail(argument, f"{name} takes a number or a duration")
            elif (
                not _same(kind, want)
                if want == "number"
                else kind not in (want, "null")
            ):
                raise self.fail(
                    argument, f"{name} takes {_article(want)}, not {_article(kind)}"
                )
        inner = ", ".join(p for _, p in parts)
        return result or parts[0][0], f"feel.call({name!r}, {inner})"

    def list_call(self, node: Call) -> tuple[str, str]:
        """FEEL's list functions: `count(l)`, `sum(l)`, `min(l)`, `max(l)` and
        `list contains(l, x)`; null for a null list (`list contains` too)."""
        name = node.function
        wanted = 2 if name == "list contains" else 1
        if len(node.arguments) != wanted:
            shape = "a list and a value" if wanted == 2 else "one list"
            raise self.fail(node, f"{name} takes {shape}")
        parts = [self.check(a) for a in node.arguments]
        kind, python = parts[0]
        element = _element(kind)
        if element is None:
            raise self.fail(
                node.arguments[0],
                f"{name} takes a list, not {_article(kind)}",
                "a list input, or a list such as [1, 2, 3]",
            )
        if name == "list contains":
            if not _same(element, parts[1][0]):
                raise self.fail(
                    node.arguments[1],
                    f"a list of {element} never contains {_article(parts[1][0])}",
                )
            return "boolean", f"feel.list_contains({python}, {parts[1][1]})"
        if name == "count":
            return "integer", f"feel.count({python})"
        if name == "sum" and element not in (*NUMERIC, "null"):
            raise self.fail(node, f"sum takes numbers, not a list of {element}")
        if name != "sum" and element not in (*ORDERED, "null"):
            raise self.fail(node, f"{name} takes values that have an order")
        return element, f"feel.list_{name}({python})"

    def flatten(self, node: Call) -> tuple[str, str]:
        """FEEL's `flatten(l)`: the values of L with every nested list spliced in, in
        order. Typed: a list whose items, once their nested lists are opened, hold
        values of one type T gives a `list of T`; so a list literal given to flatten
        may mix lists and values of T (`flatten([["w", "x"], "y"])` is a list of
        string), which no other list may."""
        if len(node.arguments) != 1:
            raise self.fail(node, "flatten takes one list")
        argument = node.arguments[0]
        if isinstance(argument, ListLiteral):
            items = [(self.check(item), item) for item in argument.items]
            kinds = [_innermost(kind) for (kind, _), _ in items]
            for kind, (_, item) in zip(kinds, items, strict=True):
                if not _same(kind, kinds[0]):
                    raise self.fail(
                        item,
                        "flatten gives a list of one type, but its items hold "
                        f"{_article(kinds[0])} and {_article(kind)}",
                        "flatten lists and values of one type, e.g. "
                        'flatten([["w", "x"], "y"])',
                    )
            inner = "".join(f"{p}, " for (_, p), _ in items)
            python = f"({inner.rstrip(' ')})"
            return LIST + _joined(kinds), f"feel.call('flatten', {python})"
        kind, python = self.check(argument)
        if _element(kind) is None:
            raise self.fail(
                argument,
                f"flatten takes a list, not {_article(kind)}",
                'a list input, or a list such as [["w", "x"], "y"]',
            )
        return LIST + _innermost(kind), f"feel.call('flatten', {python})"

    def temporal(self, node: Call) -> tuple[str, str]:
        """`date("2025-12-18")`, `time("08:30")`, `date and time("...")`,
        `duration("P14D")`, and `date(2025, 12, 18)`: literals, read when compiled."""
        name = node.function
        arguments = node.arguments
        if name == "date" and len(arguments) == 3:
            parts = [self.check(a) for a in arguments]
            for (kind, _), argument in zip(parts, arguments, strict=True):
                if kind not in ("integer", "null"):
                    raise self.fail(
                        argument, "date(year, month, day) takes whole numbers"
                    )
            return "date", f"feel.call('date', {', '.join(p for _, p in parts)})"
        if len(arguments) != 1 or not (
            isinstance(arguments[0], Literal) and isinstance(arguments[0].value, str)
        ):
            raise self.fail(node, f'{name}(...) takes one text, e.g. {name}("...")')
        text = arguments[0].value
        assert isinstance(text, str)
        try:
            if name == "duration":
                months = timetypes.parse_ym(text)
                if months is not None:
                    return "ym", f"feel.YearsMonths({months})"
                value: Any = timetypes.parse_duration(text)
                return "duration", py_literal(value)
            if name == "date":
                from compiler.reading.cells import parse_date_text

                return "date", py_literal(parse_date_text(text))
            value = (
                timetypes.parse_time(text)
                if name == "time"
                else timetypes.parse_datetime(text)
            )
        except CellError as error:
            raise self.fail(node, error.message, error.hint) from None
        return ("time" if name == "time" else "datetime"), py_literal(value)


# -- the reference interpreter ----------------------------------------------------------


def evaluate(typed: Typed, values: Mapping[str, Any]) -> Any:
    """TYPED on VALUES, walking its tree: the semantics stated directly (with the
    shipped `_feel` primitives), for the reference interpreter."""
    return _evaluate(typed.tree, values)


def _evaluate(node: Node, values: Mapping[str, Any]) -> Any:
    run: Callable[[Node], Any] = lambda n: _evaluate(n, values)  # noqa: E731
    if isinstance(node, Literal):
        if node.unit:
            assert isinstance(node.value, (int, float))
            if node.unit in timetypes.YM_UNITS:
                return _feel.YearsMonths(
                    int(node.value) * timetypes.YM_UNITS[node.unit]
                )
            return dt.timedelta(seconds=node.value * timetypes.unit_seconds(node.unit))
        return node.value
    if isinstance(node, Name):
        return values.get(node.name)
    if isinstance(node, Unary):
        return _feel.neg(run(node.operand))
    if isinstance(node, Binary):
        function = getattr(_feel, _OPS[node.op])
        return function(run(node.left), run(node.right))
    if isinstance(node, Between):
        return _feel.between(run(node.value), run(node.low), run(node.high))
    if isinstance(node, If):
        return run(node.then) if run(node.condition) is True else run(node.otherwise)
    if isinstance(node, Path):
        if path_name(node) in values:
            return values[path_name(node)]
        return _feel.field(run(node.value), node.field)
    if isinstance(node, Quantified):
        return _quantified(node, values.get(node.name))
    if isinstance(node, ListLiteral):
        return tuple(run(item) for item in node.items)
    assert isinstance(node, Call)
    name = node.function
    if name == "years and months duration":
        return _feel.years_and_months(*(run(a) for a in node.arguments))
    if name == "sign":  # a derived column (compiler.reading.sheets.lowering)
        return _feel.sign(*(run(a) for a in node.arguments))
    if name == "same":  # likewise, of a string, code or boolean column
        return _feel.same(*(run(a) for a in node.arguments))
    arguments = [run(a) for a in node.arguments]
    if name == "list contains":
        return _feel.list_contains(*arguments)
    if name in ("count", "sum") or (
        name in ("min", "max")
        and len(arguments) == 1
        and isinstance(arguments[0], (list, tuple))
    ):
        return getattr(_feel, "count" if name == "count" else f"list_{name}")(
            *arguments
        )
    if name in ("duration", "time", "date and time") or (
        name == "date" and len(node.arguments) == 1
    ):
        text = node.arguments[0]
        assert isinstance(text, Literal) and isinstance(text.value, str)
        if name == "duration":
            months = timetypes.parse_ym(text.value)
            if months is not None:
                return _feel.YearsMonths(months)
            return timetypes.parse_duration(text.value)
        if name == "date":
            from compiler.reading.cells import parse_date_text

            return parse_date_text(text.value)
        if name == "time":
            return timetypes.parse_time(text.value)
        return timetypes.parse_datetime(text.value)
    return _feel.call(name, *arguments)


def _quantified(node: Quantified, items: Any) -> bool | None:
    """Some, every or no element of ITEMS passes the node's tests (null: no list)."""
    from compiler.reading.cells import tests_match

    if items is None:
        return None
    passed = [tests_match(node.tests, item) for item in items]  # type: ignore[arg-type]
    if node.quantifier == "any":
        return any(passed)
    if node.quantifier == "every":
        return all(passed)
    return not any(passed)
