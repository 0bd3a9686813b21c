"""Cell text to typed values and unary tests, directed by the column's type.

The grammar is the one in docs/workbook-format.md: bare or quoted strings, lists,
`not(...)`, comparisons, ranges in every bracket style, booleans, dates, `null`, code
ranges and prefixes. Every function here either returns a plain Python value or raises
`CellError` with a message an author understands and, where it helps, a hint.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re

from compiler import timetypes
from compiler.diagnostics import CellError
from compiler.model import (
    TIME_TYPES,
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

RawValue = str | int | float | bool | dt.datetime | dt.date | dt.time | None

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_SPACES = {ord(ch): " " for ch in "\u00a0\u2007\u202f\t"}
_QUOTES = {ord(ch): '"' for ch in "\u201c\u201d\u201e\u201f\u2033"}
_UNIFIED = {**_ZERO_WIDTH, **_SPACES, **_QUOTES}  # disjoint: one pass does all three
_COMPARISON = re.compile(r"^(<=|>=|<|>)\s*(.+)$", re.S)
_RANGE = re.compile(r"^([\[\(\]])\s*(.+?)\s*\.\.\s*(.+?)\s*([\]\)\[])$", re.S)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATE_FN = re.compile(r'^date\(\s*"([^"]*)"\s*\)$', re.I)
_SLASH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def clean_text(text: str) -> tuple[str, bool]:
    """Strip surrounding space; unify no-break spaces, zero-width characters and
    typographic quotes. Returns the text and whether anything inside it changed."""
    if text.isascii() and "\t" not in text:  # most cells: nothing to unify
        return text.strip(), False
    cleaned = text.translate(_UNIFIED).strip()
    return cleaned, cleaned != text.strip()


def is_blank(raw: RawValue) -> bool:
    return raw is None or (isinstance(raw, str) and not clean_text(raw)[0])


def code_text(raw: int | float, number_format: str) -> tuple[str, bool]:
    """A numeric cell in a code column, read as its digits.

    Returns the text and whether the cell's number format shows leading zeros that the
    stored number lacks (`0042` typed as 42 with format `0000`): then the displayed text
    is used, and the caller warns the author.
    """
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = str(raw)
    fmt = number_format.strip()
    if isinstance(raw, int) and re.fullmatch(r"0+", fmt) and len(fmt) > len(text):
        return text.zfill(len(fmt)), True
    return text, False


# -- literals ----------------------------------------------------------------------


def _unquote(text: str) -> str | None:
    """The inside of a "quoted" string, or None when the text is not one quoted string."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        inner = text[1:-1]
        out: list[str] = []
        i = 0
        while i < len(inner):
            ch = inner[i]
            if ch == "\\" and i + 1 < len(inner) and inner[i + 1] in '"\\':
                out.append(inner[i + 1])
                i += 2
                continue
            if ch == '"':
                return None  # two strings, e.g. `"a", "b"`
            out.append(ch)
            i += 1
        return "".join(out)
    return None


def _not_one_quoted_string(text: str) -> None:
    """TEXT starts with a quote but is not one quoted string: raise what is wrong when
    it is a mistake (a quote left open, several strings in a one-value cell); return
    when it is text that merely starts with a quoted word (`"No" means no`)."""
    items = split_list(text)  # raises when a quote is left open
    if len(items) > 1 and all(_unquote(item) is not None for item in items):
        raise CellError(
            f"{text!r} is {len(items)} quoted strings, but this cell holds one value",
            "to keep the quotes as text, quote the whole cell and write each quote "
            'inside it as \\": "\\"a\\", \\"b\\""',
        )


def parse_date_text(text: str) -> dt.date:
    match = _DATE_FN.match(text)
    if match:
        text = match.group(1).strip()
    iso = _ISO_DATE.match(text)
    if iso:
        try:
            return dt.date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError:
            raise CellError(
                f"{text!r} is not a real calendar date", code="E203"
            ) from None
    slash = _SLASH_DATE.match(text)
    hint = "write dates as ISO text, 2025-12-18, or as an Excel date cell"
    if slash:
        month, day, year = slash.groups()
        hint = f"write it as {year}-{int(month):02d}-{int(day):02d} (ISO, year first)"
    raise CellError(f"{text!r} is not a date", hint, code="E203")


def _date_from_cell(raw: dt.datetime | dt.date) -> dt.date:
    if isinstance(raw, dt.datetime):
        if raw.time() != dt.time(0, 0):
            raise CellError("a date cell must not hold a time of day", code="E203")
        return raw.date()
    return raw


def parse_literal(raw: RawValue, type_: DataType, *, allow_null: bool = True) -> Value:
    """One value of TYPE: an output entry, a Default, a test input or expected value."""
    if isinstance(raw, dt.time):
        if type_ is DataType.TIME:
            return raw.replace(tzinfo=None)
        raise CellError("a time of day is not a valid value here")
    if isinstance(raw, str):
        text, _ = clean_text(raw)
        if not text:
            raise CellError("the cell is empty", "write null for no value")
        if text.lower() == "null":
            if not allow_null:
                raise CellError("null is not allowed here")
            return None
        return _literal_from_text(text, type_)
    if raw is None:
        raise CellError("the cell is empty", "write null for no value")
    return _literal_from_cell(raw, type_)


def _literal_from_cell(
    raw: int | float | bool | dt.datetime | dt.date, type_: DataType
) -> Value:
    if isinstance(raw, bool):
        if type_ is DataType.BOOLEAN:
            return raw
        raise CellError(f"TRUE/FALSE is not a {type_.value}", _type_hint(type_))
    if isinstance(raw, (dt.datetime, dt.date)):
        if type_ is DataType.DATE:
            return _date_from_cell(raw)
        if type_ is DataType.DATETIME:  # version 2; a date cell is its midnight
            if isinstance(raw, dt.datetime):
                return raw.replace(tzinfo=None)
            return dt.datetime.combine(raw, dt.time())
        raise CellError(f"a date cell is not a {type_.value}", _type_hint(type_))
    # int or float from Excel
    if type_ is DataType.INTEGER:
        if isinstance(raw, float) and not raw.is_integer():
            raise CellError(
                f"{raw!r} is not a whole number", "integer columns take whole numbers"
            )
        return int(raw)
    if type_ is DataType.NUMBER:
        if isinstance(raw, float) and not math.isfinite(raw):
            raise CellError("not a finite number")
        try:
            return float(raw)
        except OverflowError:  # an int beyond any float
            raise CellError("not a finite number") from None
    if type_ in (DataType.STRING, DataType.CODE):
        return code_text(raw, "")[0]
    raise CellError(f"{raw!r} is not a {type_.value}", _type_hint(type_))


def _literal_from_text(text: str, type_: DataType) -> Value:
    quoted = _unquote(text)
    if type_ in (DataType.STRING, DataType.CODE):
        if quoted is not None:
            return quoted
        if text.startswith('"'):
            _not_one_quoted_string(text)
        return text  # quotes inside text are text: `Use "contrast"`
    if quoted is not None:
        raise CellError(
            f"{text!r} is a quoted string, but this column holds {type_.value} values",
            _type_hint(type_),
        )
    if type_ is DataType.BOOLEAN:
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise CellError(f"{text!r} is not a boolean", "write true or false")
    if type_ is DataType.DATE:
        return parse_date_text(text)
    if type_ in TIME_TYPES:
        return _time_literal(text, type_)
    if type_ is DataType.YEARS_MONTHS:
        return timetypes.parse_years_months(text)
    if type_ is DataType.INTEGER:
        if _INTEGER.match(text):
            try:
                return int(text)
            except ValueError:  # beyond the 4300 digits Python converts
                raise CellError("the number has too many digits") from None
        if _NUMBER.match(text) and float(text).is_integer():
            return int(float(text))
        raise CellError(
            f"{text!r} is not a whole number",
            "integer columns take whole numbers, such as 18",
        )
    # NUMBER
    if _NUMBER.match(text):
        number = float(text)
        if not math.isfinite(number):  # 1e999: infinity would reach the code
            raise CellError(f"{text!r} is too large a number")
        return number
    raise CellError(f"{text!r} is not a number", "numbers are written like 30 or 29.9")


def _time_literal(text: str, type_: DataType) -> Value:
    """A duration, time or datetime written as text (compiler/timetypes.py)."""
    if type_ is DataType.DURATION:
        return timetypes.parse_duration(text)
    if type_ is DataType.TIME:
        return timetypes.parse_time(text)
    return timetypes.parse_datetime(text)


def _type_hint(type_: DataType) -> str:
    return {
        DataType.STRING: 'a text value, bare or "quoted"',
        DataType.CODE: "a code written as text, e.g. 70450 or M54.5",
        DataType.INTEGER: "a whole number, e.g. 18",
        DataType.NUMBER: "a number, e.g. 29.9",
        DataType.BOOLEAN: "true or false",
        DataType.DATE: "a date, 2025-12-18 or an Excel date cell",
        DataType.DURATION: timetypes.DURATION_HINT,
        DataType.TIME: timetypes.TIME_HINT,
        DataType.DATETIME: timetypes.DATETIME_HINT,
        DataType.YEARS_MONTHS: timetypes.YEARS_MONTHS_HINT,
    }[type_]


# -- lists -------------------------------------------------------------------------


def split_list(text: str) -> list[str]:
    """Split on commas outside quotes and call parentheses (`not(`, `date(`).

    Range brackets are not nested pairs (`]0..30[`, `(0..30]`), and a range holds no
    comma, so they take no part in the split."""
    items: list[str] = []
    depth = 0
    quoted = False
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "(" and i and text[i - 1].isalpha():
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(text[start:i].strip())
            start = i + 1
        i += 1
    if quoted:
        raise CellError(f"unbalanced quotes in {text!r}", 'close every "quoted string"')
    items.append(text[start:].strip())
    if any(not item for item in items):
        raise CellError(f"empty item in the list {text!r}", "remove the extra comma")
    return items


def parse_literal_list(raw: RawValue, type_: DataType) -> tuple[Value, ...]:
    """`"a", "b"`: several expected values for a multi-hit table."""
    if not isinstance(raw, str):
        return (parse_literal(raw, type_),)
    text, _ = clean_text(raw)
    return tuple(parse_literal(item, type_) for item in split_list(text))


def parse_list_value(raw: RawValue, type_: DataType) -> tuple[Value, ...] | None:
    """A list value (version 2: a list output's cell or Default, a Tests sheet's
    expected list): `"a", "b"` or `["a", "b"]`; `[]` is the empty list and `null`
    no list. Elements are never null."""
    text = clean_text(raw)[0] if isinstance(raw, str) else ""
    if text.lower() == "null":
        return None
    if text.startswith("[") and text.endswith("]") and ".." not in text:
        text = text[1:-1].strip()
        if not text:
            return ()
        raw = text
    items = parse_literal_list(raw, type_)
    if any(item is None for item in items):
        raise CellError(
            "a list holds no null",
            "write the values, [] for the empty list, or null for no list",
        )
    return items


# -- unary tests -------------------------------------------------------------------


def parse_unary_tests(raw: RawValue, type_: DataType) -> UnaryTests:
    """An input entry: `-`, a value, a list, `not(...)`, a comparison or a range."""
    if raw is None:
        return UnaryTests()
    if isinstance(raw, str):
        return _parse_text_tests(raw, type_)
    if isinstance(raw, float):  # 0.0 and -0.0 are equal keys: never cached
        return UnaryTests((Equals(parse_literal(raw, type_)),))
    return _parse_cell_tests(type(raw).__name__, raw, type_)


@functools.lru_cache(maxsize=4096)  # TRUE/FALSE cells: one entry object each
def _parse_cell_tests(kind: str, raw: RawValue, type_: DataType) -> UnaryTests:
    """A typed cell's entry; KIND keeps TRUE and 1 apart in the cache."""
    return UnaryTests((Equals(parse_literal(raw, type_)),))


@functools.lru_cache(maxsize=4096)  # large tables repeat their entries
def _parse_text_tests(raw: str, type_: DataType) -> UnaryTests:
    text, _ = clean_text(raw)
    if text in ("", "-"):
        return UnaryTests()
    negated = False
    lowered = text.lower()
    if lowered.startswith("not(") and text.endswith(")"):
        negated = True
        text = text[4:-1].strip()
        if not text:
            raise CellError("not() needs at least one value", "e.g. not(CT, MRI)")
    elif lowered.startswith("not ") or lowered == "not":
        raise CellError(
            f"{text!r} is not a valid test", "write not(...) with parentheses"
        )
    tests = tuple(_parse_test(item, type_) for item in split_list(text))
    return UnaryTests(tests, negated)


def _parse_test(text: str, type_: DataType) -> Test:
    if text == "-":
        raise CellError("'-' (any value) cannot be part of a list", "use - alone")
    comparison = _COMPARISON.match(text)
    if comparison:
        if not type_.comparable:
            raise CellError(
                f"comparisons like {text!r} apply to numbers and dates, not {type_.value}",
                "list the allowed values instead, e.g. CT, MRI",
            )
        op, operand = comparison.groups()
        if operand.lstrip()[:1] in ("<", ">", "="):
            raise CellError(
                f"{text!r} has two comparison signs",
                "write one of <, <=, > or >= before the value, e.g. < 18",
            )
        value = parse_literal(operand.strip(), type_, allow_null=False)
        assert isinstance(
            value, (int, float, dt.date, dt.timedelta, dt.time, YearsMonths)
        ) and not isinstance(value, bool)
        return Compare(op, value)
    bracket = _RANGE.match(text)
    if bracket:
        return _parse_range(text, bracket, type_)
    if type_ is DataType.CODE and text.endswith("*") and _unquote(text) is None:
        prefix = text[:-1]
        if not prefix or "*" in prefix or '"' in prefix:
            raise CellError(
                f"{text!r} is not a code prefix", "write e.g. M54.* or M54*"
            )
        return Prefix(prefix)
    if type_ in (DataType.INTEGER, DataType.NUMBER):
        _numeric_shorthand(text)
    return Equals(parse_literal(text, type_))


_AT_LEAST = re.compile(r"^(\d+(?:\.\d+)?)\s*\+$")  # 18+
_SPAN = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:-|\u2013|to)\s*(\d+(?:\.\d+)?)$", re.I)
_EQUALS = re.compile(r"^(=<|=>|==?)\s*(.+)$")


def _numeric_shorthand(text: str) -> None:
    """Raise with the entry an author meant by a shorthand that is not one: `18+`,
    `18-64`, `= 18`, `=< 18`."""
    hint = ""
    if at_least := _AT_LEAST.match(text):
        low = at_least.group(1)
        hint = f"for {low} or more, write >= {low}"
    elif span := _SPAN.match(text):
        low, high = span.groups()
        hint = f"for {low} to {high}, both included, write [{low}..{high}]"
    elif equals := _EQUALS.match(text):
        sign, operand = equals.groups()
        meant = {"=<": f"<= {operand}", "=>": f">= {operand}"}.get(sign, operand)
        hint = f"write {meant}"
    if hint:
        raise CellError(f"{text!r} is not a number or a test", hint)


def _parse_range(text: str, match: re.Match[str], type_: DataType) -> Interval:
    opening, low_text, high_text, closing = match.groups()
    if not type_.ordered:
        raise CellError(
            f"ranges like {text!r} apply to numbers, dates and codes, not {type_.value}",
            "list the allowed values instead",
        )
    low = parse_literal(low_text, type_, allow_null=False)
    high = parse_literal(high_text, type_, allow_null=False)
    assert low is not None and high is not None and not isinstance(low, bool)
    assert not isinstance(high, bool)
    if type_ is DataType.CODE:
        assert isinstance(low, str) and isinstance(high, str)
        if len(low) != len(high):
            raise CellError(
                f"the ends of the code range {text!r} differ in length",
                "code ranges compare character by character: both ends need the same length",
                code="E204",
            )
    if low > high:  # type: ignore[operator]
        raise CellError(
            f"the range {text!r} is empty: its start is after its end", code="E205"
        )
    interval = Interval(low, high, opening == "[", closing == "]")
    if low == high and not (interval.low_closed and interval.high_closed):
        raise CellError(f"the range {text!r} contains no value", code="E205")
    return interval


def parse_values(raw: RawValue, type_: DataType) -> UnaryTests:
    """A Values cell: the allowed values, as a list of values and ranges."""
    tests = parse_unary_tests(raw, type_)
    if tests.negated:
        raise CellError("Values cannot be negated", "list the allowed values")
    if any(isinstance(t, Compare) for t in tests.tests):
        raise CellError(
            "Values take values and ranges, not comparisons", "e.g. [0..130]"
        )
    if any(isinstance(t, Equals) and t.value is None for t in tests.tests):
        raise CellError(
            "null is not a value to list in Values", "null is always allowed"
        )
    return tests


def test_matches(test: Test, value: Value) -> bool:
    """Whether one test accepts VALUE (used by validation and the reference checks)."""
    if isinstance(test, Equals):
        if test.value is None or value is None:
            return test.value is None and value is None
        return (
            type(test.value) is type(value)
            and test.value == value
            or (_numeric(test.value) and _numeric(value) and test.value == value)
        )
    if value is None or isinstance(value, bool):
        return False
    if isinstance(test, Prefix):
        return isinstance(value, str) and value.startswith(test.prefix)
    if isinstance(test, Compare):
        if not _comparable(test.value, value):
            return False
        op = test.op
        if op == "<":
            return value < test.value  # type: ignore[operator]
        if op == "<=":
            return value <= test.value  # type: ignore[operator]
        if op == ">":
            return value > test.value  # type: ignore[operator]
        return value >= test.value  # type: ignore[operator]
    if not _comparable(test.low, value):
        return False
    if isinstance(value, str) and len(value) != len(str(test.low)):
        return False
    above = value >= test.low if test.low_closed else value > test.low  # type: ignore[operator]
    below = value <= test.high if test.high_closed else value < test.high  # type: ignore[operator]
    return bool(above and below)


def tests_match(tests: UnaryTests, value: Value) -> bool:
    if tests.is_any:
        return True
    hit = any(test_matches(t, value) for t in tests.tests)
    return not hit if tests.negated else hit


def _numeric(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _comparable(a: object, b: object) -> bool:
    if _numeric(a) and _numeric(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, (dt.time, dt.datetime)):  # version 2: naive and zoned: no order
        return (a.tzinfo is None) == (b.tzinfo is None)  # type: ignore[attr-defined]
    return True
