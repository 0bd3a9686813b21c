"""Version 2 of the format in a decision-table sheet: computed inputs (Kind `computed`,
their expression in the `Expression` row) and entries that name other inputs
(`<= date_of_service`, `[date_of_service - 14 days..date_of_service]`).

Both end up as input columns whose value is an expression over the table's other
inputs (`Column.expression`), computed before the rules are tested, so that the
version-1 machinery (masks, analysis, evaluate_frame) applies unchanged:

- a computed input is its own column, of its declared Type;
- an entry comparing column `x` with an expression `r` becomes an entry of a
  derived column `x_vs_r` whose value is how `x` compares with `r` (`less`, `equal`,
  `greater`, or null when either is missing), so that `<= r` is `less, equal` and
  `> r` is `greater`: the analysis then proves those two exclusive and complete, as
  they are. A range with an expression at either end is two such comparisons (a
  literal end stays a literal test of `x`). The rule's cell of `x` holds what is left
  (`-`, or the literal end).

Expressions are parsed and type-checked here (`compiler.expressions`); errors are
E207 at the character of the cell, E208 for entry forms that cannot be split so.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass

from compiler.diagnostics import CellError
from compiler.emitting.literals import py_literal
from compiler.expressions.syntax import Call, ExpressionError, Name, Quantified, tokens
from compiler.expressions.typed import LIST, Typed, compile_expression, type_of
from compiler.model import (
    Bound,
    Column,
    ColumnKind,
    Compare,
    DataType,
    Equals,
    Interval,
    Prefix,
    Rule,
    UnaryTests,
)
from compiler.reading import cells
from compiler.reading.sheets.common import Reader
from compiler.reading.workbook import RawSheet, ref

SIGNS = ("less", "equal", "greater")
# strings, codes and booleans: whether the input equals the operand
SAMENESS = ("equal", "different")
_OPS = {
    "<": frozenset({"less"}),
    "<=": frozenset({"less", "equal"}),
    ">": frozenset({"greater"}),
    ">=": frozenset({"greater", "equal"}),
    "=": frozenset({"equal"}),
    "!=": frozenset({"less", "greater"}),
}
_SAME_OPS = {"=": frozenset({"equal"}), "!=": frozenset({"different"})}
_COMPARISON = re.compile(r"^(<=|>=|<|>|!=|=)?(\s*)(.+)$", re.S)
_NOT = re.compile(r"^not\((\s*)(.*?)\s*\)$", re.S | re.I)
# a string or code entry naming another input: `= other`, `!= claim.state`,
# `not(= other)`; only such text, naming an input of the table, is read so
_EQUALITY = re.compile(
    r"^(?:not\(\s*(=)\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\)|(!=|=)\s*([A-Za-z_][A-Za-z0-9_.]*))$",
    re.I,
)
_RANGE = re.compile(r"^([\[\(\]])(\s*)(.+?)\s*\.\.(\s*)(.+?)\s*([\]\)\[])$", re.S)


def inputs_env(columns: list[tuple[Column, int]]) -> dict[str, str]:
    """The names an expression of the table may read, with their expression types."""
    return {c.name: _kind(c) for c, _ in columns if c.kind is ColumnKind.INPUT}


def _kind(column: Column) -> str:
    """COLUMN's expression type: `list of string` for a list input."""
    return f"{LIST}{type_of(column.type)}" if column.many else type_of(column.type)


def attach_expressions(
    reader: Reader,
    sheet: RawSheet,
    columns: list[tuple[Column, int]],
    rows: dict[str, int],
) -> list[tuple[Column, int]] | None:
    """COLUMNS with the expression of each computed column parsed and checked against
    the plain inputs and the computed columns to its left; None on errors."""
    if "kind" not in rows:
        return columns
    computed = {
        col
        for _, col in columns
        if reader.text(sheet, rows["kind"], col).lower() == "computed"
    }
    ok = True
    if "expression" in rows:
        for _, col in columns:
            if col not in computed and sheet.value(rows["expression"], col) is not None:
                reader.error(
                    "E116",
                    "only computed columns take an Expression",
                    sheet.location.at(ref(rows["expression"], col)),
                    sheet.value(rows["expression"], col),
                    "write computed in the Kind cell, or clear the Expression cell",
                )
                ok = False
    if not computed:
        return columns if ok else None
    env = {
        c.name: _kind(c)
        for c, col in columns
        if c.kind is ColumnKind.INPUT and col not in computed
    }
    found: list[tuple[Column, int]] = []
    for column, col in columns:
        if col not in computed:
            found.append((column, col))
            continue
        row = rows.get("expression")
        at = sheet.location.at(ref(row, col)) if row else column.location
        text = reader.text(sheet, row, col) if row else ""
        try:
            if not text:
                raise CellError(
                    "a computed column needs an expression",
                    "write it in the Expression row below the Kind row, e.g. "
                    "years and months duration(date_of_birth, date_of_service).years",
                    code="E207",
                )
            typed = compile_expression(text, env)
            check_type(typed, column.type, text, column.many)
        except CellError as error:
            reader.cell_error(error, at, text or None)
            ok = False
            continue
        env[column.name] = _kind(column)
        found.append((dataclasses.replace(column, expression=typed), col))
    return found if ok else None


def check_type(typed: Typed, type_: DataType, text: str, many: bool = False) -> None:
    """TYPED fits a column of TYPE_ (a list of TYPE_ when MANY, version 2): null
    fits any column, an integer a number, and `[]` (a list of null) any list."""
    want = type_of(type_)
    got = typed.type
    if many:
        if not got.startswith(LIST) and got != "null":
            raise ExpressionError(
                f"the expression gives {_shown(got)}, but the column is a list of "
                f"{type_.value}",
                0,
                f"write a list, [{text}], or flatten([...]) lists together",
            )
        got = got[len(LIST) :] if got != "null" else "null"
        if got.startswith(LIST):
            raise ExpressionError(
                f"the expression gives a list of {got}, but the column is a list of "
                f"{type_.value}",
                0,
                "flatten(...) it into one list",
            )
    fits = got == want or got == "null"
    if want == "number" and got == "integer":
        fits = True
    if not fits:
        column = f"a list of {type_.value}" if many else type_.value
        gives = f"a list of {_shown(got)}" if many else _shown(got)
        hint = (
            "take .years or .months of it, or make the column's Type years and "
            "months duration"
            if got == "ym"
            else "take count(...), sum(...), min(...) or max(...) of it"
            if got.startswith(LIST)
            else f"the column's Type says {column}"
        )
        raise ExpressionError(
            f"the expression gives {gives}, but the column is {column}", 0, hint
        )


def _shown(kind: str) -> str:
    shown = {"ym": "years and months duration", "datetime": "date and time"}
    name = kind if kind.startswith(LIST) else shown.get(kind, kind)
    return ("an " if name[0] in "aeiou" else "a ") + name


def output_expression(
    raw: cells.RawValue, column: Column, env: dict[str, str]
) -> Typed:
    """A `computed output` cell: an expression over the inputs, of the column's type
    (a literal is an expression too: strings are quoted, `"approve"`)."""
    if isinstance(raw, bool):
        raw = "true" if raw else "false"
    text = cells.clean_text(str(raw))[0] if raw is not None else ""
    if not text:
        raise CellError(
            "the output cell is empty", "write an expression, or null", code="E202"
        )
    typed = compile_expression(text, env)
    check_type(typed, column.type, text, column.many)
    return typed


# -- entries that name other inputs ----------------------------------------------------


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
            relations.append(Relation(reference, _OPS[op]))
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
    if not column.type.comparable and op not in _SAME_OPS:
        raise CellError(
            f"{cell!r}: a {column.type.value} column compares with another input "
            "for equality only",
            "write = x (equal), != x (both present and different) or not(= x) "
            "(not equal, or either missing)",
            code="E208",
        )
    at += comparison.start(3)
    reference = _reference(cell, at, comparison.group(3), column, env)
    ops = _OPS if column.type.comparable else _SAME_OPS
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


# -- lowering: relations become derived columns ----------------------------------------


def _slug(text: str) -> str:
    spoken = text.lower().replace("-", " minus ").replace("+", " plus ")
    words = re.sub(r"[^a-z0-9]+", "_", spoken).strip("_")
    return words[:40].strip("_") or "value"


def lower(
    inputs: tuple[Column, ...],
    rules: tuple[Rule, ...],
    relational: dict[tuple[int, int], Relational | Quantifier | Member],
) -> tuple[tuple[Column, ...], tuple[Rule, ...]]:
    """INPUTS and RULES with RELATIONAL entries ((rule index, input index) -> entry)
    turned into derived columns, appended after the sheet's inputs: `x_vs_r` for
    comparisons with other inputs, a boolean `codes_any_1` for each distinct
    quantified entry of a list column, and a boolean `x_in_l` for entries that name a
    list input `l`."""
    if not relational:
        return inputs, rules
    quantified = {k: v for k, v in relational.items() if isinstance(v, Quantifier)}
    if quantified:
        inputs, rules = _lower_quantified(inputs, rules, quantified)
    members = {k: v for k, v in relational.items() if isinstance(v, Member)}
    if members:
        inputs, rules = _lower_members(inputs, rules, members)
    relations = {k: v for k, v in relational.items() if isinstance(v, Relational)}
    if not relations:
        return inputs, rules
    names = {c.name for c in inputs}
    derived: dict[tuple[str, str], Column] = {}
    for (_, position), entry in sorted(relations.items(), key=lambda kv: kv[0]):
        source = inputs[position]
        for relation in entry.relations:
            key = (source.name, relation.reference.text)
            if key in derived:
                continue
            name = base = f"{source.name}_vs_{_slug(relation.reference.text)}"
            number = 2
            while name in names:
                name, number = f"{base}_{number}", number + 1
            names.add(name)
            # ordered types: less, equal or greater; strings, codes and booleans:
            # equal or different
            function = "sign" if source.type.comparable else "same"
            python = f"feel.{function}({source.name}, {relation.reference.python})"
            typed = Typed(
                f"{source.name} compared with {relation.reference.text}",
                "string",
                python,
                (source.name, *relation.reference.names),
                Call(
                    0, 0, function, (Name(0, 0, source.name), relation.reference.tree)
                ),
            )
            values = SIGNS if source.type.comparable else SAMENESS
            derived[key] = Column(
                name,
                ColumnKind.INPUT,
                DataType.STRING,
                source.location,
                values=UnaryTests(tuple(Equals(s) for s in values)),
                kind_cell=source.kind_cell,
                source_never_null=_never_null(source, relation.reference, inputs),
                expression=typed,
                derived=True,
            )
    columns = list(derived.values())
    order = list(derived)
    lowered: list[Rule] = []
    for index, rule in enumerate(rules):
        entries = list(rule.inputs)
        extra = [UnaryTests()] * len(columns)
        cells_of = list(rule.input_cells)
        for position, source in enumerate(inputs):
            found = relations.get((index, position))
            if found is None:
                continue
            entries[position] = found.rest
            for relation in found.relations:
                slot = order.index((source.name, relation.reference.text))
                every = SIGNS if source.type.comparable else SAMENESS
                listed = tuple(Equals(s) for s in every if s in relation.signs)
                extra[slot] = UnaryTests(listed, relation.negated)
        for slot in range(len(columns)):
            source_position = next(
                i for i, c in enumerate(inputs) if c.name == order[slot][0]
            )
            cells_of.append(rule.input_cells[source_position])
        lowered.append(
            dataclasses.replace(
                rule,
                inputs=(*entries, *extra),
                input_cells=tuple(cells_of),
            )
        )
    return (*inputs, *columns), tuple(lowered)


def _never_null(source: Column, reference: Typed, inputs: tuple[Column, ...]) -> bool:
    """Whether SOURCE compared with REFERENCE always has a value: when REFERENCE is
    the bare name of an input and both are required plain inputs, which the evaluator
    refuses when missing (InputError). An expression such as `date_of_service - 14
    days` can be null on values out of range, so its comparison can be missing."""
    tree = reference.tree
    if not isinstance(tree, Name):
        return False
    named = next((c for c in inputs if c.name == tree.name), None)
    return named is not None and all(
        c.required and not c.computed and c.source_table is None
        for c in (source, named)
    )


def _unique(base: str, names: set[str]) -> str:
    """BASE, or BASE_2, BASE_3, ... when taken; the name is added to NAMES."""
    name, number = base, 2
    while name in names:
        name, number = f"{base}_{number}", number + 1
    names.add(name)
    return name


def _append_boolean(
    inputs: tuple[Column, ...],
    rules: tuple[Rule, ...],
    keyed: dict[tuple[int, int], tuple[int, object]],
    column_for: Callable[[tuple[int, object], set[str]], Column],
) -> tuple[tuple[Column, ...], tuple[Rule, ...]]:
    """A derived boolean column per distinct key of KEYED ((rule, input) -> (input,
    key)), made by COLUMN_FOR, appended to INPUTS; each rule's entry in it is `true`
    where KEYED has it, else `-`."""
    names = {c.name for c in inputs}
    derived: dict[tuple[int, object], Column] = {}
    for _, key in sorted(keyed.items(), key=lambda kv: kv[0]):
        if key not in derived:
            derived[key] = column_for(key, names)
    keys = list(derived)
    lowered = []
    for index, rule in enumerate(rules):
        extra = [UnaryTests()] * len(keys)
        for (rule_index, _), key in keyed.items():
            if rule_index == index:
                extra[keys.index(key)] = UnaryTests((Equals(True),))
        cells_of = [*rule.input_cells, *(rule.input_cells[p] for p, _ in keys)]
        lowered.append(
            dataclasses.replace(
                rule, inputs=(*rule.inputs, *extra), input_cells=tuple(cells_of)
            )
        )
    return (*inputs, *derived.values()), tuple(lowered)


def _lower_quantified(
    inputs: tuple[Column, ...],
    rules: tuple[Rule, ...],
    quantified: dict[tuple[int, int], Quantifier],
) -> tuple[tuple[Column, ...], tuple[Rule, ...]]:
    counts: dict[int, int] = {}

    def column_for(key: tuple[int, object], names: set[str]) -> Column:
        position, entry = key
        assert isinstance(entry, Quantifier)
        source = inputs[position]
        counts[position] = counts.get(position, 0) + 1
        name = _unique(f"{source.name}_{entry.quantifier}_{counts[position]}", names)
        first = next(
            q for (_, p), q in sorted(quantified.items()) if (p, _blank(q)) == key
        )
        text = first.text  # its text and its tests in their order, each once
        entry = dataclasses.replace(
            first,
            tests=dataclasses.replace(
                first.tests, tests=tuple(dict.fromkeys(first.tests.tests))
            ),
        )
        test = predicate(entry.tests, source.type)
        function = {"any": "some", "every": "every", "none": "none"}[entry.quantifier]
        python = (
            f"feel.{function}({source.name}, {source.type.value!r}, lambda v: {test})"
        )
        node = Quantified(
            0, 0, entry.quantifier, source.name, entry.tests, source.type.value
        )
        return _boolean(
            name,
            source,
            Typed(f"{text} of {source.name}", "boolean", python, (source.name,), node),
        )

    keyed = {k: (k[1], _blank(q)) for k, q in quantified.items()}
    return _append_boolean(inputs, rules, dict(keyed), column_for)


def _blank(entry: Quantifier) -> Quantifier:
    """ENTRY without its text and its tests in one order, each once: entries that
    differ only in spacing or in the order of their tests (`any(M54.*, M51.*)`,
    `any(M51.*, M54.*)`) are one column."""
    tests = tuple(sorted(set(entry.tests.tests), key=repr))
    return dataclasses.replace(
        entry, text="", tests=dataclasses.replace(entry.tests, tests=tests)
    )


def _boolean(name: str, source: Column, typed: Typed) -> Column:
    return Column(
        name,
        ColumnKind.INPUT,
        DataType.BOOLEAN,
        source.location,
        kind_cell=source.kind_cell,
        expression=typed,
        derived=True,
    )


def _lower_members(
    inputs: tuple[Column, ...],
    rules: tuple[Rule, ...],
    members: dict[tuple[int, int], Member],
) -> tuple[tuple[Column, ...], tuple[Rule, ...]]:
    def column_for(key: tuple[int, object], names: set[str]) -> Column:
        position, list_name = key
        assert isinstance(list_name, str)
        source = inputs[position]
        name = _unique(f"{source.name}_in_{list_name}", names)
        kind = inputs[_position(inputs, list_name)].type.value
        python = (
            f"feel.list_contains(feel.listed({list_name}, {kind!r}), {source.name})"
        )
        arguments = (Name(0, 0, list_name), Name(0, 0, source.name))
        typed = Typed(
            f"{source.name} in {list_name}",
            "boolean",
            python,
            (list_name, source.name),
            Call(0, 0, "list contains", arguments),
        )
        return _boolean(name, source, typed)

    keyed = {k: (k[1], m.list_name) for k, m in members.items()}
    return _append_boolean(inputs, rules, dict(keyed), column_for)


def _position(inputs: tuple[Column, ...], name: str) -> int:
    return next(i for i, c in enumerate(inputs) if c.name == name)


def predicate(tests: UnaryTests, type_: DataType) -> str:
    """TESTS on an element `v` as Python (values as `py_literal`)."""
    parts: list[str] = []
    for test in tests.tests:
        if isinstance(test, Equals):
            parts.append(
                "v is None" if test.value is None else f"v == {py_literal(test.value)}"
            )
        elif isinstance(test, Compare):
            parts.append(f"v {test.op} {py_literal(test.value)}")
        elif isinstance(test, Prefix):
            parts.append(f"v.startswith({py_literal(test.prefix)})")
        else:
            assert isinstance(test, Interval)
            low = "<=" if test.low_closed else "<"
            high = "<=" if test.high_closed else "<"
            inside = f"{py_literal(test.low)} {low} v {high} {py_literal(test.high)}"
            if isinstance(test.low, str):
                inside = f"(len(v) == {len(test.low)} and {inside})"
            parts.append(inside)
    joined = " or ".join(parts)
    return f"not ({joined})" if tests.negated else joined


# -- raising: the sheet's cells back from a lowered table ------------------------------


@dataclass(frozen=True, slots=True)
class Authored:
    """One rule's cell of a sheet input column, as `lower` found it: the column's own
    tests (a literal range end, or all of it), the comparisons with other inputs as
    (operator, expression text), a list column's quantified entry, and the list input
    an entry names (the value is in that list)."""

    tests: UnaryTests
    # (operator, expression text); `not(...)` around one is the operator `not <=`
    relations: tuple[tuple[str, str], ...] = ()
    quantified: Quantifier | None = None
    member: str = ""  # the list input the value is in (`flu_symptoms`)
    # a string, code or boolean column: `= x` is written out (a bare word in a
    # string column is a string)
    equality: bool = False

    def text(self, write: Callable[[UnaryTests], str]) -> str:
        """The cell text; WRITE gives plain unary tests as cell text."""
        if self.quantified is not None:
            return self.quantified.text
        if self.member:
            return self.member
        if not self.relations:
            return write(self.tests)
        if len(self.relations) == 1 and self.tests.is_any:
            op, reference = self.relations[0]
            bare = op.removeprefix("not ")
            inner = (
                reference
                if bare == "=" and not self.equality
                else f"{bare} {reference}"
            )
            return f"not({inner})" if op != bare else inner
        low, high = self.ends(write)
        return f"{low}..{high}"

    def ends(self, write: Callable[[UnaryTests], str]) -> tuple[str, str]:
        """The two ends of a range with an expression at one end or both (`[x`,
        `y)`); a literal end is WRITE of its value."""
        found: dict[str, str] = {}
        parts = [(op, reference) for op, reference in self.relations]
        for test in self.tests.tests:
            assert isinstance(test, Compare)
            parts.append((test.op, write(UnaryTests((Equals(test.value),)))))
        for op, text in parts:
            if op[0] == ">":
                found["low"] = ("[" if op.endswith("=") else "(") + text
            else:
                found["high"] = text + ("]" if op.endswith("=") else ")")
        return found["low"], found["high"]


_SIGN_OPS = {signs: op for op, signs in _OPS.items()}
_SAME_SIGN_OPS = {signs: op for op, signs in _SAME_OPS.items()}
_COMPARED = " compared with "


def is_quantifier(column: Column) -> bool:
    """Whether COLUMN is derived from a list column's quantified entries."""
    return column.expression is not None and isinstance(
        column.expression.tree, Quantified
    )


def raise_entries(
    inputs: tuple[Column, ...], rule: Rule
) -> tuple[tuple[Column, ...], tuple[Authored, ...]]:
    """The sheet's input columns of a lowered table (derived columns folded back into
    the columns they were derived from) and RULE's cells of them: the inverse of
    `lower`, so that writing these cells and reading them again gives the same
    table. ValueError on a derived column that `lower` cannot have made."""
    sheet = tuple(c for c in inputs if not c.derived)
    own = {c.name: i for i, c in enumerate(sheet)}
    tests = [e for c, e in zip(inputs, rule.inputs, strict=True) if not c.derived]
    relations: list[list[tuple[str, str]]] = [[] for _ in sheet]
    equality = [not c.type.comparable for c in sheet]
    quantified: list[Quantifier | None] = [None] * len(sheet)
    members = [""] * len(sheet)
    for column, entry in zip(inputs, rule.inputs, strict=True):
        if not column.derived or entry.is_any:
            continue
        assert column.expression is not None
        tree = column.expression.tree
        if isinstance(tree, Quantified):
            if entry != UnaryTests((Equals(True),)):
                raise ValueError(f"{column.name}: not an entry of a quantifier")
            text = column.expression.text
            entry_text = text[: -len(f" of {tree.name}")]
            assert isinstance(tree.tests, UnaryTests)
            quantified[own[tree.name]] = Quantifier(
                tree.quantifier, tree.tests, entry_text
            )
            continue
        assert isinstance(tree, Call) and isinstance(tree.arguments[0], Name)
        if tree.function == "list contains":  # `x_in_l`: the entry names the list
            if entry != UnaryTests((Equals(True),)):
                raise ValueError(f"{column.name}: not an entry naming a list")
            list_name, source = column.expression.names
            members[own[source]] = list_name
            continue
        source = tree.arguments[0].name
        signs = frozenset(str(t.value) for t in entry.tests if isinstance(t, Equals))
        ops = _SIGN_OPS if tree.function == "sign" else _SAME_SIGN_OPS
        if signs not in ops:
            raise ValueError(f"{column.name}: not an entry of a comparison")
        reference = column.expression.text[len(source) + len(_COMPARED) :]
        op = f"not {ops[signs]}" if entry.negated else ops[signs]
        relations[own[source]].append((op, reference))
    return sheet, tuple(
        Authored(t, tuple(r), q, m, e)
        for t, r, q, m, e in zip(
            tests, relations, quantified, members, equality, strict=True
        )
    )
