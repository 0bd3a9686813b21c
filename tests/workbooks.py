"""Build fixture workbooks in code, so tests show their tables instead of binary files.

    sheet = decision_table("age_band", hit_policy="FIRST",
        columns=[("age", "input", "integer", "[0..130]"), ("band", "output", "string", None)],
        rules=[("R1", "< 18", "child"), ("R2", ">= 18", "adult")])
    write_workbook(path, [sheet])

A sheet is a list of rows (lists of cell values); None is an empty cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

Row = list[Any]


class Text(str):
    """A cell typed as text even when it starts with `=` (as Excel keeps `'= x`);
    a plain str starting with `=` is written as a formula."""


Column = tuple[str, str, str | None, Any]  # name, kind, type, values


def decision_table(
    name: str,
    columns: Sequence[Column],
    rules: Iterable[Sequence[Any]],
    *,
    hit_policy: str | None = None,
    defaults: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    title: str = "",
) -> list[Row]:
    rows: list[Row] = [["Decision table", name]]
    if hit_policy:
        rows.append(["Hit policy", hit_policy])
    if title:
        rows.append(["Title", title])
    for label, value in (metadata or {}).items():
        rows.append([label, value])
    rows.append([])
    rows.append(["Rule", *(c[0] for c in columns)])
    rows.append(["Kind", *(c[1] for c in columns)])
    rows.append(["Type", *(c[2] for c in columns)])
    if any(c[3] is not None for c in columns):
        rows.append(["Values", *(c[3] for c in columns)])
    if defaults:
        rows.append(["Default", *(defaults.get(c[0]) for c in columns)])
    rows.extend([*rule] for rule in rules)
    return rows


def tests_sheet(
    table: str, columns: Sequence[tuple[str, str]], cases: Iterable[Sequence[Any]]
) -> list[Row]:
    """COLUMNS are (name, kind) with kind input, expected, expected rule or annotation."""
    return [
        ["Tests", table],
        [],
        ["Case", *(c[0] for c in columns)],
        ["Kind", *(c[1] for c in columns)],
        *([*case] for case in cases),
    ]


tests_sheet.__test__ = False  # type: ignore[attr-defined]  # not a pytest test function


def values_sheet(lists: dict[str, str]) -> list[Row]:
    return [["Values"], ["Name", "Values"], *([k, v] for k, v in lists.items())]


def write_workbook(path: Path, sheets: dict[str, list[Row]] | list[list[Row]]) -> Path:
    """Write SHEETS (title -> rows, or a list named Sheet1, Sheet2, ...) to PATH."""
    if isinstance(sheets, list):
        sheets = {f"Sheet{i}": rows for i, rows in enumerate(sheets, start=1)}
    book = Workbook()
    book.remove(book.worksheets[0])
    for title, rows in sheets.items():
        ws = book.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    cell = ws.cell(row=r, column=c, value=value)
                    if isinstance(value, Text):
                        cell.data_type = "s"
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path
