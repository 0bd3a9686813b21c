"""Version 2 of the workbook format as standard FEEL, for export: FEEL-CR expressions
(computed inputs and outputs), entries that name other inputs and list quantifiers.

FEEL-CR is a subset of FEEL but for one extension, durations written in words
(`14 days`, `3 months`), which become `duration("P14D")` and `duration("P3M")`.
Names stay as written, but a name of a `from` input becomes the decision it reads
(`age_band`, or `plan.band` for one output of several), and a name of a computed
input to the left becomes its expression, in parentheses: DMN has no variable for an
input clause. The authored text travels beside the FEEL in an extension attribute
(`cr:text`), so that import restores the cell exactly (`docs/dmn.md`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from compiler import timetypes
from compiler.diagnostics import CellError
from compiler.expressions.syntax import Literal, Name, Node, parse
from compiler.expressions.typed import compile_expression, type_of
from compiler.interop.dmn.feel import feel_literal
from compiler.interop.dmn.messages import Unsupported
from compiler.model import (
    Column,
    Compare,
    DataType,
    Equals,
    Interval,
    Prefix,
    Table,
    UnaryTests,
)
from compiler.reading import cells
from compiler.reading.sheets import computed, lowering
from compiler.reading.sheets.entries import Member, Quantifier, Relational
from compiler.reading.sheets.lowering import Authored
from compiler.reading.sheets.rules import input_entry
from compiler.timetypes import iso_duration

# Our extension namespace (export writes it, import reads it back).
EXTENSIONS = "https://compile-rules/dmn/extensions"
TEXT = f"{{{EXTENSIONS}}}text"  # an entry's or expression's authored cell text
TYPE = f"{{{EXTENSIONS}}}type"  # a column's Type cell, where FEEL's type differs
KIND = f"{{{EXTENSIONS}}}kind"  # `computed`, `computed output`
VALUES = f"{{{EXTENSIONS}}}values"  # a list column's Values cell (its elements')
COMPLETE = f"{{{EXTENSIONS}}}complete"  # a table's Complete row: yes or no
PATH = f"{{{EXTENSIONS}}}path"  # `yes`: an output named by its path (`rgb.red`)
ITEM = "item"  # the element of a list, in `some item in ? satisfies ...`


def feel_expression(text: str, names: Mapping[str, str]) -> str:
    """The FEEL-CR expression TEXT as FEEL, each name of NAMES replaced by its FEEL."""
    spans: list[tuple[int, int, str]] = []

    def visit(node: Node) -> None:
        if isinstance(node, Literal) and node.unit:
            spans.append((node.start, node.end, _duration(node)))
            return
        if isinstance(node, Name) and node.name in names:
            spans.append((node.start, node.end, names[node.name]))
            return
        for slot in dataclasses.fields(node):
            child = getattr(node, slot.name)
            for one in child if isinstance(child, tuple) else (child,):
                if isinstance(one, Node):
                    visit(one)

    visit(parse(text))
    for start, end, replacement in sorted(spans, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _duration(node: Literal) -> str:
    """`14 days` as `duration("P14D")`, `3 months` as `duration("P3M")`."""
    assert isinstance(node.value, (int, float))
    months = timetypes.YM_UNITS.get(node.unit)
    if months:
        count = int(node.value) * months
        years, rest = divmod(count, 12)
        iso = (
            "P"
            + (f"{years}Y" if years else "")
            + (f"{rest}M" if rest or not years else "")
        )
        return f'duration("{iso}")'
    seconds = node.value * timetypes.unit_seconds(node.unit)
    return f'duration("{iso_duration(dt.timedelta(seconds=seconds))}")'


def feel_relational(
    entry: Authored, names: Mapping[str, str], type_: DataType = DataType.NUMBER
) -> str:
    """An entry naming other inputs, of a column of TYPE_, as FEEL unary tests:
    `<= date_of_service`, `[date_of_service - duration("P14D")..date_of_service]`;
    `= x` is the bare `x`, `not(= x)` is `not(x)`, and `!= x` (both present and
    different) is `< x, > x`, or for booleans `? != null and x != null and ? != x`
    (FEEL orders no booleans)."""
    converted = Authored(
        entry.tests,
        tuple((op, feel_expression(r, names)) for op, r in entry.relations),
    )
    if len(converted.relations) == 1 and entry.tests.is_any:
        op, reference = converted.relations[0]
        bare = op.removeprefix("not ")
        if bare == "!=":
            inner = (
                f"? != null and {reference} != null and ? != {reference}"
                if type_ is DataType.BOOLEAN
                else f"< {reference}, > {reference}"
            )
        else:
            inner = reference if bare == "=" else f"{bare} {reference}"
        if op == bare:
            return inner
        if bare == "!=":  # not(both present and different): ? = x, or either null
            return f"? = null or {reference} = null or ? = {reference}"
        return f"not({inner})"

    def literal(tests: UnaryTests) -> str:
        (test,) = tests.tests
        assert isinstance(test, Equals)
        return feel_literal(test.value)

    return converted.text(literal)


def feel_quantified(quantifier: str, tests: UnaryTests, type_: DataType) -> str:
    """`any(M54.*)` of a list as the FEEL unary test `some item in ? satisfies
    (starts with(item, "M54."))`; `every` likewise, `none` as `every ... not(...)`."""
    predicate = " or ".join(_element_test(t, type_) for t in tests.tests)
    if tests.negated:
        predicate = f"not({predicate})"
    if quantifier == "any":
        return f"some {ITEM} in ? satisfies ({predicate})"
    if quantifier == "every":
        return f"every {ITEM} in ? satisfies ({predicate})"
    return f"every {ITEM} in ? satisfies not({predicate})"


def _element_test(test: object, type_: DataType) -> str:
    if isinstance(test, Equals):
        return f"{ITEM} = {feel_literal(test.value)}"
    if isinstance(test, Compare):
        return f"{ITEM} {test.op} {feel_literal(test.value)}"
    if isinstance(test, Prefix):
        return f"starts with({ITEM}, {feel_literal(test.prefix)})"
    assert isinstance(test, Interval)
    low = ">=" if test.low_closed else ">"
    high = "<=" if test.high_closed else "<"
    inside = (
        f"{ITEM} {low} {feel_literal(test.low)} and {ITEM} {high} "
        f"{feel_literal(test.high)}"
    )
    if type_ is DataType.CODE:
        return f"(string length({ITEM}) = {len(str(test.low))} and {inside})"
    return f"({inside})"


# -- import: the extension attributes read back ------------------------------------------


@dataclass
class Restored:
    """What export's extension attributes say about a clause: its Type cell, its
    Kind (`computed`, `computed output`), a computed input's expression, a list's
    Values cell, and the authored cells of its entries by rule index."""

    type: str = ""
    kind: str = ""
    expression: str = ""
    values: str = ""
    cells: dict[int, str] = field(default_factory=dict)


def restored(clause: ET.Element, expression: ET.Element | None) -> Restored:
    """The extension attributes of an input or output CLAUSE (and its EXPRESSION)."""
    return Restored(
        type=clause.get(TYPE, ""),
        kind=clause.get(KIND, ""),
        expression=expression.get(TEXT, "") if expression is not None else "",
        values=clause.get(VALUES, ""),
    )


def complete(table: ET.Element) -> bool | None:
    """A decision table's `cr:complete` (yes, no), else None."""
    text = table.get(COMPLETE)
    return None if text is None else text == "yes"


def restore_table(
    table: Table, inputs: Sequence[Restored], outputs: Sequence[Restored]
) -> Table:
    """TABLE (built from a model's FEEL) with what the extension attributes of its
    INPUTS and OUTPUTS restore: types, computed inputs and outputs, and the authored
    cells, read as a sheet's cells are and lowered the same way; `Unsupported` when
    they do not read."""
    if not any(_restores(r) for r in (*inputs, *outputs)):
        return table
    try:
        columns = _restored_columns(table.inputs, inputs)
        sheet = [(c, n) for n, c in enumerate(columns)]
        env = computed.inputs_env(sheet)
        outs = tuple(
            _restored_output(c, r) for c, r in zip(table.outputs, outputs, strict=True)
        )
        relational: dict[tuple[int, int], Relational | Quantifier | Member]
        relational = {}
        rules = []
        for index, rule in enumerate(table.rules):
            entries = list(rule.inputs)
            for position, (column, restore) in enumerate(
                zip(columns, inputs, strict=True)
            ):
                if index in restore.cells:
                    found: dict[tuple[int, int], Any] = {}
                    entries[position] = input_entry(
                        restore.cells[index], column, sheet, position, found
                    )
                    relational.update({(index, p): e for (_, p), e in found.items()})
            expressions = tuple(
                computed.output_expression(r.cells[index], c, env)
                if index in r.cells and c.per_rule
                else None
                for c, r in zip(outs, outputs, strict=True)
            )
            values = tuple(
                cells.parse_list_value(r.cells[index], c.type)
                if index in r.cells and c.many and not c.per_rule
                else value
                for c, r, value in zip(outs, outputs, rule.outputs, strict=True)
            )  # version 2: a list output's cells
            rules.append(
                dataclasses.replace(
                    rule,
                    outputs=values,  # type: ignore[arg-type]
                    inputs=tuple(entries),
                    input_cells=("",) * len(entries),  # no cells: lower copies them
                    output_expressions=expressions
                    if any(e is not None for e in expressions)
                    else (),
                )
            )
        lowered, lowered_rules = lowering.lower(
            tuple(columns), tuple(rules), relational
        )
    except CellError as error:
        raise Unsupported(
            f"its cells as export wrote them do not read: {error.message}",
            "malformed table",
        ) from None
    rules_ = tuple(dataclasses.replace(r, input_cells=()) for r in lowered_rules)
    return dataclasses.replace(table, inputs=lowered, outputs=outs, rules=rules_)


def _restores(restore: Restored) -> bool:
    return bool(restore.type or restore.kind or restore.cells)


def cell_type(text: str) -> tuple[DataType, bool]:
    """A Type cell export wrote (`integer`, `code`, `list of code`): the type, and
    whether it is a list; `Unsupported` for another text."""
    listed = re.fullmatch(r"list of (.+)", text)
    try:
        return DataType(listed.group(1) if listed else text), listed is not None
    except ValueError:
        raise Unsupported(f"unknown type {text!r}", "unknown type") from None


def _restored_type(column: Column, restore: Restored) -> Column:
    if not restore.type:
        return column
    type_, many = cell_type(restore.type)
    return dataclasses.replace(column, type=type_, many=many)


def _restored_columns(
    columns: tuple[Column, ...], restores: Sequence[Restored]
) -> list[Column]:
    """The input columns with their types, list Values and expressions restored;
    a computed input reads the inputs and the computed inputs to its left."""
    found: list[Column] = []
    for column, restore in zip(columns, restores, strict=True):
        column = _restored_type(column, restore)
        if restore.values:
            column = dataclasses.replace(
                column, values=cells.parse_values(restore.values, column.type)
            )
        if restore.kind == "computed":
            env = {c.name: type_of(c.type) for c in found}
            typed = compile_expression(restore.expression, env)
            computed.check_type(typed, column.type, restore.expression)
            column = dataclasses.replace(column, expression=typed, values=None)
        found.append(column)
    return found


def _restored_output(column: Column, restore: Restored) -> Column:
    column = _restored_type(column, restore)
    if restore.kind == "computed output":
        column = dataclasses.replace(column, per_rule=True, values=None)
    return column
