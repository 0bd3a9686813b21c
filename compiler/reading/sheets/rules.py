"""The rule rows of a decision-table sheet, from below the column rows to the first
blank row; what lies beyond is ignored, and said to be."""

from __future__ import annotations

import re
from dataclasses import dataclass

from compiler.diagnostics import CellError, Location
from compiler.expressions.typed import Typed
from compiler.model import Column, ColumnKind, Rule, UnaryTests, Value
from compiler.reading import cells
from compiler.reading.sheets import computed, entries
from compiler.reading.sheets.common import Reader
from compiler.reading.sheets.entries import Member, Quantifier, Relational
from compiler.reading.workbook import RawSheet, ref

_RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,19}$")


def read_rules(
    reader: Reader,
    sheet: RawSheet,
    first: int,
    columns: list[tuple[Column, int]],
    relational: dict[tuple[int, int], Relational | Quantifier | Member] | None = None,
) -> tuple[tuple[Rule, ...], tuple[tuple[str, Location], ...]]:
    """The rules from row FIRST, and the (id, row) of the rows left out: rows with bad
    cells are reported and left out, but their ids still take part in the checks.
    Entries that name other inputs (version 2) go to RELATIONAL, by (rule index,
    input index), with `-` in the rule, when it is given."""
    loc = sheet.location
    rules: list[Rule] = []
    unread: list[tuple[str, Location]] = []
    last_col = max(c for _, c in columns)
    shape = _Shape.of(columns)
    row = first
    end = sheet.max_row
    while row <= end:
        values = [sheet.value(row, c) for c in range(1, last_col + 1)]
        if all(cells.is_blank(v) for v in values):
            break
        rule_id = reader.text(sheet, row, 1)
        row_range = loc.at(f"{ref(row, 1)}:{ref(row, last_col)}")
        if not rule_id:
            reader.error(
                "E150",
                "a rule row has no rule id in column A",
                loc.at(ref(row, 1)),
                hint="write an id such as R7",
            )
            row += 1
            continue
        found: dict[tuple[int, int], Relational | Quantifier | Member] = {}
        rule = _rule(reader, sheet, row, rule_id, row_range, shape, found)
        if rule is not None and relational is not None:
            relational.update({(len(rules), i): e for (_, i), e in found.items()})
        if rule is not None:
            rules.append(rule)
        else:
            unread.append((rule_id, row_range))
        row += 1
    _leftovers(reader, sheet, row, last_col, first_rule=first)
    return tuple(rules), tuple(unread)


@dataclass(frozen=True, slots=True)
class _Shape:
    """What every rule row of a table reads alike, worked out once per table (not
    per cell: a large table has hundreds of thousands)."""

    columns: list[tuple[Column, int]]
    names: list[Column]  # the columns, for `entries`
    env: dict[str, str]  # `computed.inputs_env(columns)`
    letters: dict[int, str]  # the column letters, by column number

    @classmethod
    def of(cls, columns: list[tuple[Column, int]]) -> _Shape:
        letters = {col: ref(1, col)[:-1] for _, col in columns}
        return cls(
            columns, [c for c, _ in columns], computed.inputs_env(columns), letters
        )


def _rule(
    reader: Reader,
    sheet: RawSheet,
    row: int,
    rule_id: str,
    row_range: Location,
    shape: _Shape,
    relational: dict[tuple[int, int], Relational | Quantifier | Member],
) -> Rule | None:
    inputs: list[UnaryTests] = []
    outputs: list[Value] = []
    expressions: dict[int, Typed] = {}
    notes: list[str] = []
    input_cells: list[str] = []
    output_cells: list[str] = []
    ok = True
    columns = shape.columns
    for column, col in columns:
        cell = f"{shape.letters[col]}{row}"
        if column.kind is ColumnKind.ANNOTATION:
            notes.append(reader.text(sheet, row, col))
            continue
        raw = reader.code_raw(sheet, row, col, column.type)
        if isinstance(raw, str):
            reader.text(sheet, row, col)  # reports normalised quotes and spaces
        try:
            if column.kind is ColumnKind.INPUT:
                input_cells.append(cell)
                inputs.append(
                    input_entry(
                        raw,
                        column,
                        columns,
                        len(inputs),
                        relational,
                        env=shape.env,
                        names=shape.names,
                    )
                )
                named = entries.bare_input_name(raw, column, shape.names)
                if named:
                    reader.warn(
                        "W211",
                        f"{named!r} is read as the text {named!r}, not as the "
                        f"input {named}: a bare word in a {column.type.value} "
                        "column is a value",
                        sheet.location.at(cell),
                        raw,
                        f"to compare with the input, write = {named} (or not(= "
                        f'{named})); to mean the text, quote it: "{named}"',
                    )
            else:
                if cells.is_blank(raw):
                    raise CellError(
                        "the output cell is empty",
                        "write a value, or null for no value",
                        code="E202",
                    )
                if column.per_rule:  # version 2: the cell is an expression
                    expressions[len(outputs)] = computed.output_expression(
                        raw, column, shape.env
                    )
                    outputs.append(None)
                elif column.many:  # version 2: a list, `"a", "b"`; [] is empty
                    outputs.append(cells.parse_list_value(raw, column.type))  # type: ignore[arg-type]
                else:
                    outputs.append(cells.parse_literal(raw, column.type))
                output_cells.append(cell)
        except CellError as exc:
            reader.cell_error(exc, sheet.location.at(cell), sheet.value(row, col))
            ok = False
    if not ok:
        return None
    return Rule(
        rule_id,
        tuple(inputs),
        tuple(outputs),
        tuple(notes),
        row_range,
        tuple(input_cells),
        tuple(output_cells),
        tuple(expressions.get(i) for i in range(len(outputs))) if expressions else (),
    )


def input_entry(
    raw: cells.RawValue,
    column: Column,
    columns: list[tuple[Column, int]],
    position: int,
    relational: dict[tuple[int, int], Relational | Quantifier | Member],
    *,
    env: dict[str, str] | None = None,
    names: list[Column] | None = None,
) -> UnaryTests:
    """An input entry; one that names other inputs (version 2) is kept in
    RELATIONAL and stands as `-` until the table is lowered. ENV and NAMES are
    `computed.inputs_env(columns)` and the columns alone, when the caller has them."""
    if column.many:  # version 2: a list column's entries quantify over elements
        quantified = entries.parse_quantified(raw, column)
        if quantified is not None:
            relational[(0, position)] = quantified
        return UnaryTests()
    if names is None:
        names = [c for c, _ in columns]
    member = entries.parse_member(raw, column, names)
    if member is not None:  # version 2: the value is in that list input
        relational[(0, position)] = member
        return UnaryTests()
    if env is None:
        env = computed.inputs_env(columns)
    if entries.equality_entry(raw, column, env):  # version 2: `= other_input`
        assert isinstance(raw, str)
        relational[(0, position)] = entries.parse_relational(raw, column, env)
        return UnaryTests()
    try:
        return cells.parse_unary_tests(raw, column.type)
    except CellError:
        if not isinstance(raw, str) or not entries.mentions_input(raw, env):
            raise
    relational[(0, position)] = entries.parse_relational(raw, column, env)
    return UnaryTests()


def _leftovers(
    reader: Reader, sheet: RawSheet, after: int, last_col: int, *, first_rule: int
) -> None:
    """Content below the blank row that ends a table, or beside its rules, is
    ignored: say so, since it is usually a rule someone forgot to join up.
    (Notes beside the metadata rows are fine.)"""
    stray = sorted(
        (r, c)
        for (r, c) in sheet.cells
        if r >= after or (c > last_col and first_rule <= r < after)
    )
    for row in sorted({r for r, c in stray if c == 1}):
        rule_id = reader.text(sheet, row, 1)
        filled = [c for c in range(2, last_col + 1) if (row, c) in sheet.cells]
        if _RULE_ID.match(rule_id) and filled:
            reader.warn(
                "W152",
                f"the row {rule_id!r} looks like a rule, but it comes after the "
                f"blank row {after} that ends the table, so it is ignored",
                sheet.location.at(f"{ref(row, 1)}:{ref(row, last_col)}"),
                rule_id,
                "remove the blank rows above it to make it a rule, or move it to "
                "a note sheet",
            )
            stray = [(r, c) for r, c in stray if r != row]
    below = [(r, c) for r, c in stray if r >= after]
    beside = [(r, c) for r, c in stray if r < after]
    last = ref(1, last_col).rstrip("0123456789")
    for group, where, hint in (
        (
            beside,
            "beside",
            f"the table ends at column {last}, its last column with a header; give "
            "the column a header, Kind and Type to make it part of the table, or "
            "move these cells to a note sheet",
        ),
        (
            below,
            "below",
            f"the blank row {after} ends the table; remove the blank row if these "
            "are rules, or move these cells to a note sheet",
        ),
    ):
        if group:
            r, c = group[0]
            more = f" (and {len(group) - 1} more cells)" if len(group) > 1 else ""
            reader.warn(
                "W151",
                f"cells {where} the table are ignored{more}",
                sheet.location.at(ref(r, c)),
                sheet.value(r, c),
                hint,
            )
