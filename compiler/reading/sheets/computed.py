"""Version 2 of the format in a decision-table sheet: computed inputs (Kind `computed`,
their expression in the `Expression` row) and computed outputs (an expression over
the inputs in the rule's output cell).

A computed input is its own input column, of its declared Type, whose value is an
expression over the table's other inputs (`Column.expression`), computed before the
rules are tested, so that the version-1 machinery (masks, analysis, evaluate_frame)
applies unchanged. Entries that name other inputs are read by `entries` and lowered
to such columns by `lowering`.

Expressions are parsed and type-checked here (`compiler.expressions`); errors are
E207 at the character of the cell, E116 for an Expression outside a computed column.
"""

from __future__ import annotations

import dataclasses

from compiler.diagnostics import CellError
from compiler.expressions.syntax import ExpressionError
from compiler.expressions.typed import LIST, Typed, compile_expression, type_of
from compiler.model import Column, ColumnKind, DataType
from compiler.reading import cells
from compiler.reading.sheets.common import Reader
from compiler.reading.workbook import RawSheet, ref


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
