"""A conversion as a workbook in the format: a `Decision table` sheet per table, the DMN
names and ids as comments and on a `DMN import` note sheet; and the checks import runs
on what it wrote (`check_workbook`, `names_in_use`)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.worksheet.worksheet import Worksheet

from compiler import pipeline
from compiler.diagnostics import Diagnostic
from compiler.interop.dmn.tables import Conversion, Origin
from compiler.model import (
    Column,
    ColumnKind,
    Compare,
    DataType,
    Equals,
    Prefix,
    Rule,
    Table,
    Test,
    UnaryTests,
    Value,
    YearsMonths,
)
from compiler.reading.sheets import lowering
from compiler.timetypes import iso_duration

CellValue = str | int | float | bool | None


def value_text(value: Value, type_: DataType) -> str:
    """A value in the format's cell grammar: strings quoted, dates ISO, null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dt.timedelta):  # version 2: ISO, as FEEL writes it
        return iso_duration(value)
    if isinstance(value, YearsMonths):  # version 2: `P1Y6M`
        return str(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def test_text(test: Test, type_: DataType) -> str:
    if isinstance(test, Equals):
        return value_text(test.value, type_)
    if isinstance(test, Compare):
        return f"{test.op} {value_text(test.value, type_)}"
    if isinstance(test, Prefix):
        return f"{test.prefix}*"
    low = "[" if test.low_closed else "("
    high = "]" if test.high_closed else ")"
    if type_ is DataType.CODE:
        return f"{low}{test.low}..{test.high}{high}"
    return f"{low}{value_text(test.low, type_)}..{value_text(test.high, type_)}{high}"


def tests_text(tests: UnaryTests, type_: DataType) -> str:
    """Unary tests in the cell grammar: `-`, `"a", "b"`, `not(< 5)`, `[1..9)`."""
    if tests.is_any:
        return "-"
    inner = ", ".join(test_text(t, type_) for t in tests.tests)
    return f"not({inner})" if tests.negated else inner


def _cell_value(value: Value, type_: DataType) -> str | int | float | bool:
    """A literal as a typed cell where Excel has the type (numbers, booleans), else text;
    a list (version 2: a list output's value) as its values, `[]` when empty."""
    if isinstance(value, tuple):
        return ", ".join(value_text(v, type_) for v in value) if value else "[]"
    if isinstance(value, bool) or (
        isinstance(value, (int, float)) and type_ is not DataType.CODE
    ):
        return (
            int(value)
            if isinstance(value, float) and value.is_integer() and abs(value) < 2**53
            else value
        )
    return value_text(value, type_)


def _entry_cell(tests: UnaryTests, type_: DataType) -> str | int | float | bool:
    if (
        len(tests.tests) == 1
        and not tests.negated
        and isinstance(tests.tests[0], Equals)
    ):
        value = tests.tests[0].value
        if value is not None:
            return _cell_value(value, type_)
    return tests_text(tests, type_)


def _put(ws: Worksheet, row: int, column: int, value: CellValue) -> None:
    """Write a cell; text starting with `=` stays text (openpyxl would make a formula)."""
    if value is None or value == "":
        return
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"


def _sheet_title(name: str, used: set[str]) -> str:
    title, n = name[:31], 2
    while title in used:
        suffix = f"_{n}"
        title, n = name[: 31 - len(suffix)] + suffix, n + 1
    used.add(title)
    return title


def write_table(ws: Worksheet, table: Table, origin: Origin | None = None) -> None:
    """One `Decision table` sheet laid out as the format page shows it."""
    rows: list[tuple[str, CellValue]] = [
        ("Decision table", table.name),
        ("Hit policy", table.hit_policy_text),
    ]
    if table.title:
        rows.append(("Title", table.title))
    if table.source:
        rows.append(("Source", table.source))
    for date_label, date in (
        ("Effective from", table.effective_from),
        ("Effective to", table.effective_to),
    ):
        if date is not None:
            rows.append((date_label, date.isoformat()))
    if not table.complete:
        rows.append(("Complete", "no"))
    for r, (label, value) in enumerate(rows, start=1):
        _put(ws, r, 1, label)
        _put(ws, r, 2, value)
    if origin is not None:
        ws.cell(row=1, column=2).comment = Comment(
            f"DMN decision {origin.decision_name!r}\nid: {origin.decision_id}",
            "compile-rules",
        )
    inputs, cells_of = _sheet_inputs(table)  # version 2: derived columns folded back
    columns = [*inputs, *table.outputs, *table.annotations]
    notes = (
        {ident: (dmn, ident_id, role) for ident, dmn, ident_id, role in origin.columns}
        if origin
        else {}
    )
    header = len(rows) + 2
    labels = ["Rule", "Kind", "Type"]
    if any(c.computed for c in columns):  # version 2: computed inputs
        labels.append("Expression")
    if any(c.values is not None for c in columns):
        labels.append("Values")
    if any(c.has_default for c in columns):
        labels.append("Default")
    for offset, label in enumerate(labels):
        _put(ws, header + offset, 1, label)
    for index, column in enumerate(columns, start=2):
        _put(ws, header, index, column.header)
        if column.name in notes:
            dmn, dmn_id, role = notes[column.name]
            text = f"DMN {role} {dmn!r}" + (f"\nid: {dmn_id}" if dmn_id else "")
            ws.cell(row=header, column=index).comment = Comment(text, "compile-rules")
        _put(ws, header + 1, index, column_kind(column))
        if column.kind is ColumnKind.ANNOTATION:
            continue
        _put(ws, header + 2, index, column_type(column))
        if column.expression is not None:
            _put(ws, header + labels.index("Expression"), index, column.expression.text)
        if column.values is not None:
            _put(
                ws,
                header + labels.index("Values"),
                index,
                tests_text(column.values, column.type),
            )
        if column.has_default:
            _put(
                ws,
                header + labels.index("Default"),
                index,
                _cell_value(column.default, column.type),
            )
    row = header + len(labels)
    for rule in table.rules:
        _put(ws, row, 1, rule.id)
        cells_: list[CellValue] = list(cells_of(rule))
        expressions = rule.output_expressions or (None,) * len(table.outputs)
        cells_ += [
            _cell_value(v, c.type) if e is None else e.text
            for v, c, e in zip(rule.outputs, table.outputs, expressions, strict=True)
        ]
        cells_ += list(rule.annotations)
        for index, value in enumerate(cells_, start=2):
            _put(ws, row, index, value)
        row += 1


def column_kind(column: Column) -> str:
    """The Kind cell of COLUMN."""
    if column.source_table:
        return f"from {column.source_table}"
    if column.computed:  # version 2
        return "computed"
    if column.per_rule:
        return "computed output"
    return column.kind.value


def column_type(column: Column) -> str:
    """The Type cell of COLUMN (`list of code` for a list input)."""
    return f"list of {column.type.value}" if column.many else column.type.value


def _sheet_inputs(
    table: Table,
) -> tuple[tuple[Column, ...], Callable[[Rule], tuple[CellValue, ...]]]:
    """The input columns of TABLE's sheet, and a rule's cells of them: a table with
    derived columns (entries naming other inputs, list quantifiers; version 2) has
    them folded back into the cells they were derived from."""
    if not any(c.derived for c in table.inputs):
        return table.inputs, lambda rule: tuple(
            _entry_cell(t, c.type)
            for t, c in zip(rule.inputs, table.inputs, strict=True)
        )
    sheet = tuple(c for c in table.inputs if not c.derived)

    def cells_of(rule: Rule) -> tuple[CellValue, ...]:
        _, entries = lowering.raise_entries(table.inputs, rule)
        return tuple(
            _entry_cell(e.tests, c.type)
            if not e.relations and e.quantified is None
            else e.text(partial(tests_text, type_=c.type))
            for e, c in zip(entries, sheet, strict=True)
        )

    return sheet, cells_of


def write_workbook(conversion: Conversion, path: Path) -> None:
    """The converted tables as one workbook: a sheet per table, then a `DMN import`
    note sheet (ignored by the compiler) with every column's DMN name and id and the
    messages."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    used: set[str] = set()
    for table in conversion.tables:
        ws = book.create_sheet(_sheet_title(table.location.sheet, used))
        write_table(ws, table, conversion.origins.get(table.location.sheet))
    notes = book.create_sheet(_sheet_title("DMN import", used))
    lines: list[tuple[CellValue, ...]] = [
        ("DMN import", conversion.model),
        ("Written by compile-rules import-dmn; this note sheet is not compiled.",),
        (),
        ("Table", "Column", "Role", "DMN name", "DMN id"),
    ]
    for table in conversion.tables:
        origin = conversion.origins[table.location.sheet]
        lines.append(
            (table.name, "", "decision", origin.decision_name, origin.decision_id)
        )
        lines.extend(
            (table.name, ident, role, dmn, dmn_id)
            for ident, dmn, dmn_id, role in origin.columns
        )
    if conversion.messages:
        lines += [(), ("Severity", "Element", "DMN name", "DMN id", "Message")]
        lines.extend(
            (m.severity, m.element, m.name, m.id, m.text) for m in conversion.messages
        )
    for r, line in enumerate(lines, start=1):
        for c, value in enumerate(line, start=1):
            _put(notes, r, c, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def save_workbook(conversion: Conversion, path: Path) -> None:
    """`write_workbook` through a temporary file, so PATH is never left half written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.import.xlsx")
    try:
        write_workbook(conversion, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def check_workbook(path: Path) -> tuple[Diagnostic, ...]:
    """Compile the written workbook alone (no formatting): import promises a workbook
    that compiles, and this shows what the source model itself gets wrong (UNIQUE
    tables whose rules overlap, ...)."""
    with tempfile.TemporaryDirectory(prefix="compile-rules-dmn-") as tmp:
        tables = Path(tmp) / "tables"
        tables.mkdir()
        shutil.copyfile(path, tables / path.name)
        compilation = pipeline.compile_tables(tables, formatted=False)
        return compilation.diagnostics


def names_in_use(
    tables: Path, conversion: Conversion, target: Path
) -> list[tuple[str, str]]:
    """Converted table names already used by other workbooks under TABLES."""
    if not tables.is_dir():
        return []
    project, _ = pipeline.load_tables(tables)
    if project is None:
        return []
    ours = {t.name for t in conversion.tables}
    shown = (
        pipeline.display_path(tables, target)
        if target.resolve().is_relative_to(tables.resolve())
        else ""
    )
    return [
        (d.name, str(d.first.location))
        for d in project.decisions
        if d.name in ours and d.first.location.path != shown
    ]
