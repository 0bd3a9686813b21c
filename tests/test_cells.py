"""The cell grammar of docs/workbook-format.md, form by form, and its error messages.

Each case is a cell as an author types it (or as openpyxl reads an Excel cell: bool,
datetime, int, float) and the unary tests or literal it must mean.
"""

from __future__ import annotations

import datetime as dt

import pytest

from compiler.diagnostics import CellError
from compiler.model import (
    Compare,
    DataType,
    Equals,
    Interval,
    Prefix,
    Test,
    UnaryTests,
    Value,
)
from compiler.reading import cells
from compiler.reading.cells import (
    RawValue,
    parse_literal,
    parse_literal_list,
    parse_unary_tests,
    parse_values,
)

S = DataType.STRING
C = DataType.CODE
Z = DataType.INTEGER  # the integers, ℤ (ruff rejects a variable named I)
N = DataType.NUMBER
B = DataType.BOOLEAN
D = DataType.DATE

DAY = dt.date(2025, 12, 18)


def eq(*values: Value) -> UnaryTests:
    return UnaryTests(tuple(Equals(v) for v in values))


def one(test: Test, negated: bool = False) -> UnaryTests:
    return UnaryTests((test,), negated)


@pytest.mark.parametrize(
    ("raw", "type_", "expected"),
    [
        # empty and `-`: any value
        (None, S, UnaryTests()),
        ("", S, UnaryTests()),
        ("-", Z, UnaryTests()),
        ("  -  ", D, UnaryTests()),
        # bare, quoted and typographically quoted strings
        ("MRI", S, eq("MRI")),
        ('"MRI"', S, eq("MRI")),
        ("\u201cMRI\u201d", S, eq("MRI")),
        ("\u201eMRI\u201c", S, eq("MRI")),
        ('"a, b"', S, eq("a, b")),
        ('"not(x)"', S, eq("not(x)")),
        # lists
        ("CT, MRI", S, eq("CT", "MRI")),
        ('"CT", "MRI"', S, eq("CT", "MRI")),
        ("\u201cCT\u201d, \u201cMRI\u201d", S, eq("CT", "MRI")),
        ("CT,MRI,PET", S, eq("CT", "MRI", "PET")),
        ("1, 2, 3", Z, eq(1, 2, 3)),
        # not(...)
        ("not(CT, MRI)", S, UnaryTests((Equals("CT"), Equals("MRI")), negated=True)),
        ("NOT(CT)", S, UnaryTests((Equals("CT"),), negated=True)),
        ("not(null)", S, UnaryTests((Equals(None),), negated=True)),
        ("not([0..17])", Z, one(Interval(0, 17), negated=True)),
        # comparisons: integers, numbers, dates
        ("< 18", Z, one(Compare("<", 18))),
        ("<= 18", Z, one(Compare("<=", 18))),
        ("> 65", Z, one(Compare(">", 65))),
        (">= 65", Z, one(Compare(">=", 65))),
        (">=65", Z, one(Compare(">=", 65))),
        ("< 29.9", N, one(Compare("<", 29.9))),
        ("< 2025-12-18", D, one(Compare("<", DAY))),
        ('>= date("2025-12-18")', D, one(Compare(">=", DAY))),
        # ranges in every bracket style
        ("[18..64]", Z, one(Interval(18, 64, True, True))),
        ("(0..30)", Z, one(Interval(0, 30, False, False))),
        ("[0..30)", Z, one(Interval(0, 30, True, False))),
        ("(0..30]", Z, one(Interval(0, 30, False, True))),
        ("]0..30[", Z, one(Interval(0, 30, False, False))),
        ("]0..30]", Z, one(Interval(0, 30, False, True))),
        ("[0..30[", Z, one(Interval(0, 30, True, False))),
        ("[ 0 .. 30 ]", Z, one(Interval(0, 30))),
        ("[18.5..24.9]", N, one(Interval(18.5, 24.9))),
        (
            "[2025-01-01..2025-12-31]",
            D,
            one(Interval(dt.date(2025, 1, 1), dt.date(2025, 12, 31))),
        ),
        # a list mixing values, ranges and comparisons
        (
            "0, [18..64], > 90",
            Z,
            UnaryTests((Equals(0), Interval(18, 64), Compare(">", 90))),
        ),
        # ranges of every bracket style inside lists
        ("[0..1[, 0", Z, UnaryTests((Interval(0, 1, True, False), Equals(0)))),
        ("]0..30[, 5", Z, UnaryTests((Interval(0, 30, False, False), Equals(5)))),
        ("(0..30], 40", Z, UnaryTests((Interval(0, 30, False, True), Equals(40)))),
        (
            "not(]0..3[, 5)",
            Z,
            UnaryTests((Interval(0, 3, False, False), Equals(5)), True),
        ),
        # booleans as Excel cells and as text
        (True, B, eq(True)),
        (False, B, eq(False)),
        ("true", B, eq(True)),
        ("FALSE", B, eq(False)),
        (" True ", B, eq(True)),
        # dates as Excel date cells, ISO text and date("...")
        (dt.datetime(2025, 12, 18), D, eq(DAY)),
        (DAY, D, eq(DAY)),
        ("2025-12-18", D, eq(DAY)),
        ('date("2025-12-18")', D, eq(DAY)),
        ("date(\u201c2025-12-18\u201d)", D, eq(DAY)),
        # null: the input is missing
        ("null", S, eq(None)),
        ("NULL", Z, eq(None)),
        ("null", D, eq(None)),
        ("CT, null", S, eq("CT", None)),
        # code ranges and prefixes
        ("[70450..70498]", C, one(Interval("70450", "70498"))),
        ("M54.*", C, one(Prefix("M54."))),
        ("M54*", C, one(Prefix("M54"))),
        (
            "M54.*, M51*, 72148",
            C,
            UnaryTests((Prefix("M54."), Prefix("M51"), Equals("72148"))),
        ),
        ("not(M54.*)", C, one(Prefix("M54."), negated=True)),
        # numbers typed as text (and Excel numbers) in number columns
        ("30", N, eq(30.0)),
        ("29.9", N, eq(29.9)),
        ("-1.5", N, eq(-1.5)),
        (30, N, eq(30.0)),
        (29.9, N, eq(29.9)),
        ("18", Z, eq(18)),
        (18, Z, eq(18)),
        (18.0, Z, eq(18)),
        # codes stay text exactly as written
        ("0042T", C, eq("0042T")),
        ("018.82", C, eq("018.82")),
        ("00123", C, eq("00123")),
        ("70450", C, eq("70450")),
        (70450, C, eq("70450")),
        ('"0042T"', C, eq("0042T")),
        # surrounding spaces, no-break spaces and a trailing newline are ignored
        ("  MRI  ", S, eq("MRI")),
        ("\u00a0MRI\u00a0", S, eq("MRI")),
        ("MRI\n", S, eq("MRI")),
        ("MRI\r\n", S, eq("MRI")),
        ("\tCT ,\u00a0MRI\n", S, eq("CT", "MRI")),
        ("[18..64]\n", Z, one(Interval(18, 64))),
        ("\u00a0< 18\u00a0", Z, one(Compare("<", 18))),
        (" 2025-12-18\n", D, eq(DAY)),
        ("0042T\n", C, eq("0042T")),
        ("-\n", S, UnaryTests()),
    ],
)
def test_unary_test_forms(raw: RawValue, type_: DataType, expected: UnaryTests) -> None:
    assert parse_unary_tests(raw, type_) == expected


def test_numbers_parse_to_exact_python_types() -> None:
    """A number column yields floats, an integer column ints, a code column text."""
    values = [parse_literal("30", type_) for type_ in (N, Z, C)]
    assert [type(v) for v in values] == [float, int, str]
    assert parse_unary_tests("30", N) == UnaryTests((Equals(30.0),))


@pytest.mark.parametrize(
    ("raw", "type_", "code", "message", "hint"),
    [
        # a US date: the hint spells the ISO form
        ("12/18/2025", D, "E203", "is not a date", "write it as 2025-12-18"),
        ("18.12.2025", D, "E203", "is not a date", "ISO"),
        ("< 12/18/2025", D, "E203", "is not a date", "2025-12-18"),
        ("2025-02-30", D, "E203", "not a real calendar date", ""),
        # code ranges whose ends differ in length
        ("[7045..70498]", C, "E204", "differ in length", "same length"),
        # comparisons and ranges on strings
        ("< CT", S, "E201", "comparisons", "list the allowed values"),
        (">= 5", S, "E201", "comparisons", "list the allowed values"),
        ("< M54", C, "E201", "comparisons", ""),
        ("[a..b]", S, "E201", "ranges", "list the allowed values"),
        ("[true..false]", B, "E201", "ranges", ""),
        # empty ranges
        ("[30..0]", Z, "E205", "empty", ""),
        ("(5..5)", Z, "E205", "contains no value", ""),
        # wrong types
        ("abc", Z, "E201", "not a whole number", "whole numbers"),
        # shorthands an author means as a test: the hint says which test
        ("18+", Z, "E201", "not a number or a test", "write >= 18"),
        ("18-64", Z, "E201", "not a number or a test", "write [18..64]"),
        ("18 - 64", N, "E201", "not a number or a test", "write [18..64]"),
        ("=< 18", Z, "E201", "not a number or a test", "write <= 18"),
        ("= 18", Z, "E201", "not a number or a test", "write 18"),
        ("<< 18", Z, "E201", "'<< 18' has two comparison signs", "< 18"),
        (">>= 5", N, "E201", "two comparison signs", ""),
        ("18.5", Z, "E201", "not a whole number", ""),
        ("lots", N, "E201", "not a number", ""),
        ("maybe", B, "E201", "not a boolean", "true or false"),
        ('"18"', Z, "E201", "quoted string", "whole number"),
        (True, Z, "E201", "TRUE/FALSE", ""),
        (dt.datetime(2025, 1, 1), S, "E201", "date cell", ""),
        (dt.datetime(2025, 1, 1, 9, 30), D, "E203", "time of day", ""),
        # malformed lists and negations
        ("not CT", S, "E201", "not a valid test", "not(...)"),
        ("not()", S, "E201", "at least one value", ""),
        ("CT,,MRI", S, "E201", "empty item", "extra comma"),
        ('"CT', S, "E201", "unbalanced quotes", ""),
        ("CT, -", S, "E201", "cannot be part of a list", ""),
        ("M*54*", C, "E201", "not a code prefix", "M54.*"),
    ],
)
def test_invalid_cells(
    raw: RawValue, type_: DataType, code: str, message: str, hint: str
) -> None:
    with pytest.raises(CellError) as caught:
        parse_unary_tests(raw, type_)
    assert caught.value.code == code
    assert message in caught.value.message
    assert hint in caught.value.hint


# -- matching ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "type_", "value", "matches"),
    [
        ("-", S, None, True),
        ("-", Z, 7, True),
        ("MRI", S, "MRI", True),
        ("MRI", S, "mri", False),
        ("MRI", S, None, False),
        ("CT, MRI", S, "CT", True),
        ("CT, MRI", S, "PET", False),
        ("not(CT, MRI)", S, "PET", True),
        ("not(CT, MRI)", S, "MRI", False),
        ("not(CT, MRI)", S, None, True),  # DMN: null = "CT" is false, so not(...) holds
        ("null", S, None, True),
        ("null", S, "CT", False),
        ("not(null)", S, "CT", True),
        ("not(null)", S, None, False),
        ("< 18", Z, 17, True),
        ("< 18", Z, 18, False),
        ("<= 18", Z, 18, True),
        ("> 65", Z, 65, False),
        (">= 65", Z, 65, True),
        ("< 18", Z, None, False),
        ("[18..64]", Z, 18, True),
        ("[18..64]", Z, 64, True),
        ("[18..64]", Z, 65, False),
        ("(0..30)", Z, 0, False),
        ("(0..30)", Z, 30, False),
        ("(0..30)", Z, 1, True),
        ("[0..30)", Z, 0, True),
        ("[0..30)", Z, 30, False),
        ("]0..30[", Z, 0, False),
        ("]0..30[", Z, 29, True),
        ("[0..30]", Z, None, False),
        ("[18.5..25)", N, 24.99, True),
        ("[18.5..25)", N, 25, False),
        ("< 30", N, 29, True),  # an int passed to a number column compares as a number
        ("true", B, True, True),
        ("true", B, False, False),
        ("false", B, None, False),
        ("1", Z, True, False),  # True is not the integer 1
        ("< 2025-12-18", D, dt.date(2025, 12, 17), True),
        ("< 2025-12-18", D, DAY, False),
        ("[2025-01-01..2025-12-31]", D, DAY, True),
        ("[70450..70498]", C, "70450", True),
        ("[70450..70498]", C, "70498", True),
        ("[70450..70498]", C, "70499", False),
        ("[70450..70498]", C, "7046", False),  # shorter codes are outside the range
        ("[70450..70498]", C, "704600", False),  # and so are longer ones
        ("[A0000..A9999]", C, "A0421", True),
        ("M54.*", C, "M54.5", True),
        ("M54.*", C, "M545", False),
        ("M54*", C, "M545", True),
        ("M54*", C, "M54", True),
        ("M54*", C, "M5", False),
        ("M54*", C, None, False),
        ("0042T", C, "0042T", True),
        ("0042T", C, "42T", False),
    ],
)
def test_matching(cell: str, type_: DataType, value: Value, matches: bool) -> None:
    assert cells.tests_match(parse_unary_tests(cell, type_), value) is matches


# -- output literals, expected lists and Values ----------------------------------------


@pytest.mark.parametrize(
    ("raw", "type_", "expected"),
    [
        ("adult", S, "adult"),
        ('"adult"', S, "adult"),
        ("\u201cadult\u201d", S, "adult"),
        ('"a, b"', S, "a, b"),
        ("null", S, None),
        ("0042T", C, "0042T"),
        ("018.82", C, "018.82"),
        (42, C, "42"),
        ("3", Z, 3),
        (3, Z, 3),
        ("2.5", N, 2.5),
        (2, N, 2.0),
        ("true", B, True),
        (False, B, False),
        ("2025-12-18", D, DAY),
        ('date("2025-12-18")', D, DAY),
        (dt.datetime(2025, 12, 18), D, DAY),
        (" yes\u00a0\n", S, "yes"),
        # quotes: a quoted literal only when the whole cell is one quoted string
        ('Use "contrast"', S, 'Use "contrast"'),
        ('He said "no" twice', S, 'He said "no" twice'),
        ('"No" means no', S, '"No" means no'),
        ('"say \\"no\\""', S, 'say "no"'),  # docs/workbook-format.md#quotes
        ('"a\\\\b"', S, "a\\b"),
    ],
)
def test_output_literals(raw: RawValue, type_: DataType, expected: Value) -> None:
    value = parse_literal(raw, type_)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("raw", "type_"),
    [
        ("", S),
        (None, S),
        ("< 3", Z),
        ("[1..2]", Z),
        ("12/18/2025", D),
        ("yes", B),
        (1.5, Z),
    ],
)
def test_invalid_output_literals(raw: RawValue, type_: DataType) -> None:
    with pytest.raises(CellError):
        parse_literal(raw, type_)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('"CT', "unbalanced quotes"),
        ('"a", "b"', "2 quoted strings, but this cell holds one value"),
    ],
)
def test_quote_mistakes_say_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(CellError) as caught:
        parse_literal(raw, S)
    assert message in caught.value.message


def test_an_entry_with_quotes_inside_is_text() -> None:
    assert parse_unary_tests('Use "contrast"', S) == eq('Use "contrast"')
    assert parse_unary_tests('Use "contrast", CT', S) == eq('Use "contrast"', "CT")


def test_null_can_be_refused() -> None:
    with pytest.raises(CellError):
        parse_literal("null", S, allow_null=False)


def test_expected_lists() -> None:
    assert parse_literal_list('"a", "b"', S) == ("a", "b")
    assert parse_literal_list("a, b", S) == ("a", "b")
    assert parse_literal_list("1, 2", Z) == (1, 2)
    assert parse_literal_list(3, Z) == (3,)


def test_values_cells() -> None:
    assert parse_values('"CT", "MRI"', S) == eq("CT", "MRI")
    assert parse_values("CT, MRI", S) == eq("CT", "MRI")
    assert parse_values("[0..130]", Z) == one(Interval(0, 130))
    for bad in ("not(CT)", "null", "CT, null"):
        with pytest.raises(CellError):
            parse_values(bad, S)
    with pytest.raises(CellError):
        parse_values("< 130", Z)
