"""Entries that name other inputs (version 2), read from their cells: comparisons
with an expression over the table's other inputs (`<= date_of_service`,
`[date_of_service - 14 days..date_of_service]`), equality entries of a string or
code column (`= other`, `!= claim.state`, `not(= other)`), quantified entries of a
list column (`any(...)`, `every(...)`, `none(...)`) and entries that are the name
of a list input (the value is in that list).

`rules` parses each such cell here; `lowering` turns what it finds into derived
columns. Errors are E207 at the character of the cell, E208 for entry forms that
cannot be split into comparisons, E209 for a list column's entry.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from compiler.diagnostics import CellError
from compiler.expressions.syntax import ExpressionError, tokens
from compiler.expressions.typed import Typed, compile_expression, type_of
from compiler.model import Bound, Column, ColumnKind, Compare, DataType, UnaryTests
from compiler.reading import cells

SIGNS = ("less", "equal", "greater")
# strings, codes and booleans: whether the input equals the operand
SAMENESS = ("equal", "different")
OPS = {
    "<": frozenset({"less"}),
    "<=": frozenset({"less", "equal"}),
    ">": frozenset({"greater"}),
    ">=": frozenset({"greater", "equal"}),
    "=": frozenset({"equal"}),
    "!=": frozenset({"less", "greater"}),
}
SAME_OPS = {"=": frozenset({"equal"}), "!=": frozenset({"different"})}
_COMPARISON = re.compile(r"^(<=|>=|<|>|!=|=)?(\s*)(.+)$", re.S)
_NOT = re.compile(r"^not\((\s*)(.*?)\s*\)$", re.S | re.I)
# a string or code entry naming another input: `= other`, `!= claim.state`,
# `not(= other)`; only such text, naming an input of the table, is read so
_EQUALITY = re.compile(
    r"^(?:not\(\s*(=)\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\)|(!=|=)\s*([A-Za-z_][A-Za-z0-9_.]*))$",
    re.I,
)
_RANGE = re.compile(r"^([\[\(\]])(\s*)(.+?)\s*\.\.(\s*)(.+?)\s*([\]\)\[])$", re.S)


@dataclass(frozen=True, slots=True)
class Relation:
    """Part of an entry of column `column`: `column` compared with `reference`;
    `negated` for `not(...)` around the comparison (which then also matches when
    either side is missing, like every `not(...)`)."""

    reference: Typed
    signs: frozenset[str]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Quantifier:
    """An entry of a list column: `any(...)`, `every(...)` or `none(...)` of the
    elements' unary tests."""

    quantifier: str
    tests: UnaryTests
    text: str  # as written, cleaned: names the derived column


_QUANTIFIED = re.compile(r"^(any|every|none)\s*\((.*)\)$", re.S | re.I)


def parse_quantified(raw: cells.RawValue, column: Column) -> Quantifier | None:
    """An entry of the list column COLUMN; None for `-` (any list, null included)."""
    if cells.is_blank(raw):
        return None
    text, _ = cells.clean_text(str(raw))
    if text == "-":
        return None
    match = _QUANTIFIED.match(text)
    if not match:
        raise CellError(
            f"{text!r}: {column.name!r} holds a list, so an entry says which of its "
            "elements must pass",
            "write any(...), every(...) or none(...) around the tests, e.g. "
            "any(M54.*, [70450..70498])",
            code="E209",
        )
    tests = cells.parse_unary_tests(match.group(2), column.type)
    if tests.is_any:
        raise CellError(f"{text!r} has no tests inside", "e.g. any(M54.*)", code="E209")
    return Quantifier(match.group(1).lower(), tests, text)


@dataclass(frozen=True, slots=True)
class Member:
    """An entry that is exactly the name of a list input whose elements have the
    column's type: the value is in that list (DMN's meaning of such an entry)."""

    list_name: str


def parse_member(
    raw: cells.RawValue, column: Column, columns: list[Column]
) -> Member | None:
    """RAW as a `Member` entry of COLUMN when its text is the name of another input of
    COLUMNS that holds a list of COLUMN's type; None otherwise. Version 1 has no list
    inputs, so no version-1 entry reads so; a quoted name stays a string."""
    if column.many or not isinstance(raw, str):
        return None
    text = cells.clean_text(raw)[0]
    for other in columns:
        if (
            other.name == text
            and other.many
            and other.kind is ColumnKind.INPUT
            and other.name != column.name
            and type_of(other.type) == type_of(column.type)
        ):
            return Member(other.name)
    return None


@dataclass(frozen=True, slots=True)
class Relational:
    """An entry naming other inputs: its relations (all must hold) and what is left
    for the column itself (a literal range end, or `-`)."""

    relations: tuple[Relation, ...]
    rest: UnaryTests


def mentions_input(text: str, env: dict[str, str]) -> bool:
    """Whether TEXT names an input of ENV, or the root of a path input
    (`claim` of `claim.limit`, whose column is `claim__limit`)."""
    roots = {name.partition("__")[0] for name in env if "__" in name}
    try:
        return any(
            t.kind == "name" and (t.text in env or t.text in roots)
            for t in tokens(text)
        )
    except ExpressionError:
        return False


def equality_entry(raw: cells.RawValue, column: Column, env: dict[str, str]) -> bool:
    """Whether RAW, in the string or code column COLUMN, is an entry naming another
    input of ENV (version 2): `= other`, `!= other` or `not(= other)`, `other` the
    name or path of an input of the table. Other text, a bare name included, is
    read as version 1 reads it (a string)."""
    if column.type not in (DataType.STRING, DataType.CODE) or not isinstance(raw, str):
        return False
    match = _EQUALITY.match(cells.clean_text(raw)[0])
    if match is None:
        return False
    name = (match.group(2) or match.group(4)).replace(".", "__")
    return name in env and name != column.name


def bare_input_name(raw: cells.RawValue, column: Column, columns: list[Column]) -> str:
    """The name (or path) of another single-valued input of COLUMN's type that RAW,
    an entry of the string or code column COLUMN, is exactly; empty otherwise. Such
    an entry is a string (version 1); the reader warns that `= name` compares."""
    if column.type not in (DataType.STRING, DataType.CODE) or not isinstance(raw, str):
        return ""
    text = cells.clean_text(raw)[0]
    for other in columns:
        if (
            other.header == text
            and other is not column
            and other.kind is ColumnKind.INPUT
            and not other.many
            and other.type in (DataType.STRING, DataType.CODE)
        ):
            return text
    return ""


def parse_relational(text: str, column: Column, env: dict[str, str]) -> Relational:
    """TEXT (an input entry version 1 refuses, or in a string or code column one
    `equality_entry` accepts) as comparisons of COLUMN with expressions over the
    other inputs ENV; CellError when it is not one. `not(...)` may hold one
    comparison. In a string, code or boolean column the comparison is `= x` (or a
    bare `x`, as DMN writes it) or `!= x`."""
    text, _ = cells.clean_text(text)
    others = {k: v for k, v in env.items() if k != column.name}
    negation = _NOT.match(text)
    if negation is not None:
        inner_at, inner = negation.start(2), negation.group(2)
        if _RANGE.match(inner) or "," in inner:
            raise CellError(
                f"{text!r}: not(...) around an entry naming another input holds one "
                "comparison",
                "write the range's opposite as two rules (below it, above it), or "
                "split the list over two rules",
                code="E208",
            )
        found = _comparison(text, inner, inner_at, column, others)
        relation = dataclasses.replace(found, negated=True)
        return Relational((relation,), UnaryTests())
    if not column.type.comparable:
        if "," in text or _RANGE.match(text):
            raise CellError(
                f"{text!r}: an entry naming another input is one comparison",
                "write = x, != x or not(= x) in a "
                f"{column.type.value} column, one per cell; split a list over rules",
                code="E208",
            )
        return Relational((_comparison(text, text, 0, column, others),), UnaryTests())
    bracket = _RANGE.match(text)
    if bracket:
        opening, _, low_text, _, high_text, closing = bracket.groups()
        low_at, high_at = bracket.start(3), bracket.start(5)
        relations: list[Relation] = []
        rest: list[Compare] = []
        for part, at, closed, ops in (
            (low_text, low_at, opening == "[", (">=", ">")),
            (high_text, high_at, closing == "]", ("<=", "<")),
        ):
            op = ops[0] if closed else ops[1]
            literal = _literal(part, column.type)
            if literal is not None:
                rest.append(Compare(op, literal))
                continue
            reference = _reference(text, at, part, column, others)
            relations.append(Relation(reference, OPS[op]))
        if len(rest) == 2:
            raise CellError(f"{text!r} is not a valid range", code="E201")
        return Relational(tuple(relations), UnaryTests(tuple(rest)))
    if "," in text:
        raise CellError(
            f"{text!r}: an entry naming another input is one comparison or one range",
            "split the list over two rules",
            code="E208",
        )
    return Relational((_comparison(text, text, 0, column, others),), UnaryTests())


def _comparison(
    cell: str, text: str, at: int, column: Column, env: dict[str, str]
) -> Relation:
    """TEXT (at offset AT of the cell text CELL): one comparison of COLUMN with an
    expression over ENV, `<= x` or a bare `x` (equal)."""
    comparison = _COMPARISON.match(text)
    assert comparison is not None
    op = comparison.group(1) or "="
    if not column.type.comparable and op not in SAME_OPS:
        raise CellError(
            f"{cell!r}: a {column.type.value} column compares with another input "
            "for equality only",
            "write = x (equal), != x (both present and different) or not(= x) "
            "(not equal, or either missing)",
            code="E208",
        )
    at += comparison.start(3)
    reference = _reference(cell, at, comparison.group(3), column, env)
    ops = OPS if column.type.comparable else SAME_OPS
    return Relation(reference, ops[op])


def _literal(text: str, type_: DataType) -> Bound | None:
    try:
        value = cells.parse_literal(text, type_, allow_null=False)
    except CellError:
        return None
    assert not isinstance(value, (bool, str))  # comparable types only
    return value


def _reference(
    cell: str, at: int, part: str, column: Column, env: dict[str, str]
) -> Typed:
    """PART (at offset AT of the cell text) as an expression of COLUMN's type."""
    padded = " " * at + part  # positions in messages count from the cell's start
    typed = compile_expression(padded, env)
    want = type_of(column.type)
    if not (typed.type == want or {typed.type, want} <= {"integer", "number"}):
        shown = {"ym": "years and months duration", "datetime": "date and time"}
        raise ExpressionError(
            f"{cell!r} compares a {column.type.value} with a "
            f"{shown.get(typed.type, typed.type)}",
            at,
            "compare values of one type: a date with a date (date - date is a "
            "duration; date + duration is a date)",
        )
    return dataclasses.replace(typed, text=part.strip())
