"""FEEL in the format's terms: S-FEEL unary tests and literals read (`parse_unary_tests`,
`parse_literal`), typed by a column's type (`typed`, `typed_tests`), and written back
(`feel_literal`, `feel_tests`). Anything beyond them raises `Unsupported`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from compiler import timetypes
from compiler.diagnostics import CellError
from compiler.interop.dmn.messages import Unsupported
from compiler.model import (
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
from compiler.reading import cells
from compiler.timetypes import iso_duration

# The FEEL type names (and Camunda 7's) the format has a type for.
TYPES = {
    "string": DataType.STRING,
    "number": DataType.NUMBER,
    "boolean": DataType.BOOLEAN,
    "date": DataType.DATE,
    # version 2 of the workbook format
    "days and time duration": DataType.DURATION,
    "dayTimeDuration": DataType.DURATION,
    "time": DataType.TIME,
    "date and time": DataType.DATETIME,
    "dateTime": DataType.DATETIME,
    "years and months duration": DataType.YEARS_MONTHS,
    "yearMonthDuration": DataType.YEARS_MONTHS,
    # Camunda 7 (Java) types: exact counterparts, not inferred.
    "integer": DataType.INTEGER,
    "long": DataType.INTEGER,
    "double": DataType.NUMBER,
}

Literal = str | Decimal | bool | dt.date | dt.timedelta | dt.time | YearsMonths | None

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<number>\d+(?:\.\d+)?|\.\d+)
    | (?P<range>\.\.)
    | (?P<op><=|>=|!=|<|>|=)
    | (?P<punct>[\[\]\(\),@\-])
    | (?P<word>[^\W\d][\w?]*)
    | (?P<other>\S)
    )""",
    re.X | re.S,
)
_TEMPORAL = re.compile(  # version 2 reads time(), date and time(), duration()
    r"\b(years\s+and\s+months\s+duration|days\s+and\s+time\s+duration)\s*\(",
    re.I,
)
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{6}|.)", re.S)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t"}


def _unescape(body: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if len(code) > 1:
            return chr(int(code[1:], 16))
        return _SIMPLE_ESCAPES.get(code, code)

    return _ESCAPE.sub(replace, body)


@dataclass(frozen=True, slots=True)
class _RawTest:
    """One positive unary test before typing: `op` is `=`, `!=`, `<`, `<=`, `>`, `>=`
    or `..` (a range, with both ends in `values`)."""

    op: str
    values: tuple[Literal, ...]
    low_closed: bool = True
    high_closed: bool = True


@dataclass(frozen=True, slots=True)
class RawTests:
    tests: tuple[_RawTest, ...] = ()
    negated: bool = False
    # version 2: an entry that names inputs (`> dateE`, `[numB..numC]`), kept as the
    # FEEL text for the builder to write in the format's terms (`named.py`)
    expression: str = ""

    def literals(self) -> Iterator[Literal]:
        for test in self.tests:
            yield from test.values


class _Feel:
    """A tiny recursive-descent reader for S-FEEL unary tests and literals.

    Anything else (names, arithmetic, calls, `?`) raises `Unsupported`: the workbook
    format holds values, not expressions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str]] = []
        if _TEMPORAL.search(re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)):
            raise Unsupported(
                f"{text!r} computes a duration; the format's cells hold duration "
                'values (duration("P14D"))',
                "time or duration value",
            )
        for match in _TOKEN.finditer(text):
            kind = match.lastgroup
            if kind is not None:
                self.tokens.append((kind, match.group(kind)))
        self.pos = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.pos += 1
        return token

    def unsupported(self) -> Unsupported:
        words = [t for k, t in self.tokens if k == "word"]
        plain = {"true", "false", "null", "not", "date"}
        names = [w for w in words if w not in plain]
        if names:
            return Unsupported(
                f"{self.text!r} uses names (of inputs, variables or functions); the "
                "format takes literal values only",
                "variable in a unary test",
            )
        return Unsupported(
            f"{self.text!r} is not an S-FEEL unary test or literal the format can hold",
            "FEEL expression",
        )

    def expect_end(self) -> None:
        if self.pos != len(self.tokens):
            raise self.unsupported()

    def unary_tests(self) -> RawTests:
        if not self.tokens or self.tokens == [("punct", "-")]:
            return RawTests()
        negated = self.peek() == ("word", "not") and self.tokens[1:2] == [
            ("punct", "(")
        ]
        if negated:
            self.pos = 2
        tests = [self.test()]
        while self.peek() == ("punct", ","):
            self.take()
            tests.append(self.test())
        if negated and self.take() != ("punct", ")"):
            raise self.unsupported()
        self.expect_end()
        return RawTests(tuple(tests), negated)

    def test(self) -> _RawTest:
        kind, text = self.peek()
        if kind == "op":
            self.take()
            return _RawTest(text, (self.endpoint(),))
        if kind == "punct" and text in "[(]":
            self.take()
            low = self.endpoint()
            if self.take()[0] != "range":
                raise self.unsupported()
            high = self.endpoint()
            kind, close = self.take()
            if kind != "punct" or close not in "])[":
                raise self.unsupported()
            return _RawTest("..", (low, high), text == "[", close == "]")
        return _RawTest("=", (self.endpoint(),))

    def literal(self) -> Literal:
        value = self.endpoint()
        self.expect_end()
        return value

    def endpoint(self) -> Literal:
        kind, text = self.take()
        if kind == "string":
            return _unescape(text[1:-1])
        if kind == "number":
            return Decimal(text)
        if (kind, text) == ("punct", "-") and self.peek()[0] == "number":
            return -Decimal(self.take()[1])
        if kind == "word" and text in ("true", "false"):
            return text == "true"
        if kind == "word" and text == "null":
            return None
        if kind == "word" and text in ("date", "time", "duration"):
            name = text
            if (text, *self.tokens[self.pos : self.pos + 2]) == (
                "date",
                ("word", "and"),
                ("word", "time"),
            ):
                self.pos += 2
                name = "date and time"
            if self.peek() == ("punct", "("):
                self.take()
                inner_kind, inner = self.take()
                if inner_kind != "string" or self.take() != ("punct", ")"):
                    raise self.unsupported()
                return _temporal(name, _unescape(inner[1:-1]), self.text)
        if (kind, text) == ("punct", "@") and self.peek()[0] == "string":
            return _at_literal(self.take()[1][1:-1], self.text)
        raise self.unsupported()


def _temporal(name: str, text: str, source: str) -> Literal:
    """`date("...")`, `time("...")`, `date and time("...")`, `duration("...")`."""
    if name == "date":
        return _date(text, source)
    try:
        if name == "time":
            return timetypes.parse_time(text)
        if name == "date and time":
            return timetypes.parse_datetime(text)
        if re.fullmatch(r"-?P(\d+Y)?(\d+M)?", text) and text.strip("-P"):
            return timetypes.parse_years_months(text)  # version 2: `P1Y6M`
        return timetypes.parse_duration(text)
    except CellError as error:
        raise Unsupported(
            f"{source!r}: {error.message}", "time or duration value"
        ) from None


def _at_literal(text: str, source: str) -> Literal:
    """DMN 1.3's `@"..."`: a date, time, date and time or duration by its form."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return _date(text, source)
    if text.lstrip("-").startswith("P"):
        return _temporal("duration", text, source)
    if "T" in text:
        return _temporal("date and time", text, source)
    return _temporal("time", text, source)


def _date(text: str, source: str) -> dt.date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise Unsupported(
            f"{source!r} is a time, date-time or duration, not a date",
            "time or duration value",
        )
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Unsupported(
            f"{source!r} is not a calendar date", "invalid literal"
        ) from None


def parse_unary_tests(text: str) -> RawTests:
    """S-FEEL unary tests (`-`, `"a","b"`, `not(< 5)`, `[1..9)`), not yet typed."""
    return _Feel(text.strip()).unary_tests()


def parse_literal(text: str) -> Literal:
    """An S-FEEL literal; empty text is null (as Camunda writes an empty output)."""
    text = text.strip()
    return None if not text else _Feel(text).literal()


def _kind_of(value: Literal) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, Decimal):
        return "number"
    if isinstance(value, dt.datetime):
        return "date and time"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.timedelta):
        return "days and time duration"
    if isinstance(value, YearsMonths):
        return "years and months duration"
    if isinstance(value, dt.time):
        return "time"
    return "string" if isinstance(value, str) else "null"


def infer_type(literals: Iterable[Literal]) -> DataType | None:
    """The one type every non-null literal has, or None (none, or mixed)."""
    kinds = {_kind_of(v) for v in literals} - {"null"}
    return TYPES[kinds.pop()] if len(kinds) == 1 else None


def typed(value: Literal, type_: DataType) -> Value:
    """A FEEL literal as a value of the column's type, or `Unsupported`."""
    if value is None:
        return None
    if type_ in (DataType.STRING, DataType.CODE) and isinstance(value, str):
        _check_cell_text(value)
        return value
    if isinstance(value, Decimal) and type_ is DataType.NUMBER:
        if Decimal(repr(float(value))) != value:
            raise Unsupported(
                f"{value} has more digits than a number column keeps (a float)",
                "number precision",
            )
        return float(value)
    if isinstance(value, Decimal) and type_ is DataType.INTEGER:
        if value == value.to_integral_value():
            return int(value)
    if isinstance(value, bool) and type_ is DataType.BOOLEAN:
        return value
    if type(value) is dt.date and type_ is DataType.DATE:
        return value
    if isinstance(value, (dt.timedelta, dt.time, dt.datetime, YearsMonths)):  # v2
        if type_ is _TIME_CLASSES[type(value)]:
            return value
    raise Unsupported(
        f"{feel_literal(value)} is a {_kind_of(value)}, but the column is {type_.value}",
        "type mismatch",
    )


_TIME_CLASSES: dict[type, DataType] = {
    dt.timedelta: DataType.DURATION,
    dt.time: DataType.TIME,
    dt.datetime: DataType.DATETIME,
    YearsMonths: DataType.YEARS_MONTHS,
}


def _check_cell_text(value: str) -> None:
    """Workbook cells normalise typographic quotes, special spaces and tabs: a string
    holding them cannot be written exactly."""
    if cells.clean_text(f'"{value}"')[0] != f'"{value}"' or re.search(
        r"[\x00-\x08\x0b-\x1f]", value
    ):
        raise Unsupported(
            f"the string {value!r} holds characters a workbook cell normalises "
            "(typographic quotes, tabs, special spaces or control characters)",
            "string not representable",
        )


def typed_tests(raw: RawTests, type_: DataType) -> UnaryTests:
    """Raw unary tests as model tests of the column's type, or `Unsupported`."""
    if len(raw.tests) == 1 and raw.tests[0].op == "!=" and not raw.negated:
        return UnaryTests((Equals(typed(raw.tests[0].values[0], type_)),), negated=True)
    tests: list[Test] = []
    for test in raw.tests:
        values = [typed(v, type_) for v in test.values]
        if test.op == "=":
            tests.append(Equals(values[0]))
            continue
        if test.op == "!=":
            raise Unsupported(
                "'!=' inside a list of tests; write not(...)", "FEEL expression"
            )
        if not type_.comparable:
            raise Unsupported(
                f"comparisons and ranges of {type_.value} values are not in the format",
                "comparison of strings or booleans",
            )
        if any(v is None for v in values):
            raise Unsupported("a comparison with null is never true", "FEEL expression")
        if test.op != "..":
            tests.append(Compare(test.op, values[0]))  # type: ignore[arg-type]
            continue
        low, high = values
        if low > high or (low == high and not (test.low_closed and test.high_closed)):  # type: ignore[operator]
            raise Unsupported("the range is empty", "empty range")
        tests.append(Interval(low, high, test.low_closed, test.high_closed))  # type: ignore[arg-type]
    return UnaryTests(tuple(tests), raw.negated)


def as_values(tests: UnaryTests) -> UnaryTests:
    """Unary tests usable as a Values row (values and ranges), or `Unsupported`."""
    if tests.negated or any(isinstance(t, Compare) for t in tests.tests):
        raise Unsupported(
            "Values take values and ranges, not comparisons or not(...)", "values"
        )
    if any(isinstance(t, Equals) and t.value is None for t in tests.tests):
        raise Unsupported(
            "null cannot be listed in Values (it is always allowed)", "values"
        )
    return tests


def feel_literal(value: Literal | Value) -> str:
    """A value as FEEL: strings quoted and escaped, dates as date("..."), no exponents."""
    if value is None:
        return "null"
    if isinstance(value, tuple):  # version 2: a list output's value
        return "[" + ", ".join(feel_literal(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
        return f'"{escaped}"'
    if isinstance(value, dt.datetime):  # version 2: before date, which it extends
        return f'date and time("{value.isoformat()}")'
    if isinstance(value, dt.date):
        return f'date("{value.isoformat()}")'
    if isinstance(value, dt.timedelta):
        return f'duration("{iso_duration(value)}")'
    if isinstance(value, YearsMonths):  # version 2: `duration("P1Y6M")`
        return f'duration("{value}")'
    if isinstance(value, dt.time):
        return f'time("{value.isoformat()}")'
    if isinstance(value, int):
        return str(value)
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else value
        text = format(number, "f")
    except (InvalidOperation, ValueError):
        raise Unsupported(f"{value!r} is not a finite number", "number") from None
    return text.rstrip("0").rstrip(".") if "." in text else text


def feel_test(test: Test, type_: DataType) -> str:
    if isinstance(test, Equals):
        return feel_literal(test.value)
    if isinstance(test, Compare):
        return f"{test.op} {feel_literal(test.value)}"
    if isinstance(test, Prefix):
        return f"starts with(?, {feel_literal(test.prefix)})"
    if type_ is DataType.CODE:
        low = ">=" if test.low_closed else ">"
        high = "<=" if test.high_closed else "<"
        length = len(str(test.low))
        return (
            f"string length(?) = {length} and ? {low} {feel_literal(test.low)} "
            f"and ? {high} {feel_literal(test.high)}"
        )
    opening = "[" if test.low_closed else "("
    closing = "]" if test.high_closed else ")"
    return f"{opening}{feel_literal(test.low)}..{feel_literal(test.high)}{closing}"


def feel_tests(tests: UnaryTests, type_: DataType) -> str:
    if tests.is_any:
        return "-"
    inner = ", ".join(feel_test(t, type_) for t in tests.tests)
    return f"not({inner})" if tests.negated else inner
