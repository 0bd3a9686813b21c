"""`lint --annotate`: copies of the workbooks with every diagnostic on its cell.

Clinical editors fix tables in Excel, not in a terminal. Each copy gets, per problem,
a cell comment (code, message, hint), a fill on the cell (errors red, warnings amber,
info pale blue) and a first sheet "Problems" that lists them all with a link to each
cell. The source workbooks are only read: copies go to another folder, and a copy is
never written over its own source.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, PatternFill
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from compiler.authoring.new_table import font, row_height, save_atomic
from compiler.diagnostics import Diagnostic, Severity
from compiler.model import Project
from compiler.pipeline import check_tables, display_path, find_workbooks

FILLS = {
    Severity.ERROR: "FFC7CE",  # Excel's "bad" red
    Severity.WARNING: "FFEB9C",  # Excel's "neutral" amber
    Severity.INFO: "DDEBF7",
}
PROBLEMS = "Problems"
_MAX_FILLED = 200  # cells filled per diagnostic range (a whole-row range is short)


def lint(tables: Path) -> tuple[Project | None, tuple[Diagnostic, ...]]:
    """Validation and analysis diagnostics of TABLES, without generating code."""
    return check_tables(tables)


@dataclass(frozen=True, slots=True)
class Annotated:
    source: Path
    copy: Path
    problems: int  # diagnostics written into the copy


def annotate(
    tables: Path, dest: Path, diagnostics: Iterable[Diagnostic]
) -> list[Annotated]:
    """Write an annotated copy of every workbook under TABLES into DEST (same relative
    paths). Workbooks that cannot be opened are skipped: their one diagnostic says why."""
    by_path: dict[str, list[Diagnostic]] = {}
    for d in diagnostics:
        by_path.setdefault(d.location.path, []).append(d)
    if dest.resolve() == tables.resolve() or tables.resolve() in [
        *dest.resolve().parents
    ]:
        raise ValueError("the annotated copies must go outside the tables folder")
    written = []
    for file in find_workbooks(tables):
        shown = display_path(tables, file)
        found = by_path.get(shown, [])
        if any(d.code == "E001" for d in found):
            continue
        target = dest / file.relative_to(tables)
        annotate_workbook(file, target, found)
        written.append(Annotated(file, target, len(found)))
    return written


def annotate_workbook(source: Path, target: Path, found: list[Diagnostic]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # extensions openpyxl does not keep
        book = load_workbook(source)
    sheets = {ws.title: ws for ws in book.worksheets}
    for d in found:
        ws = sheets.get(d.location.sheet)
        if ws is None or not d.location.cell:
            continue
        _mark(ws, d)
    _problems_sheet(book, found)
    save_atomic(book, target)


def _note(d: Diagnostic) -> str:
    text = f"{d.severity} {d.code}: {d.message}"
    if d.hint:
        text += f"\nhint: {d.hint}"
    return text


def _mark(ws: Worksheet, d: Diagnostic) -> None:
    """Comment on the range's first cell; fill every cell of the range, keeping the
    worse colour where two diagnostics meet."""
    min_col, min_row, max_col, max_row = range_boundaries(d.location.cell)
    assert min_col is not None and min_row is not None
    max_col = max_col or min_col
    max_row = max_row or min_row
    first = ws.cell(row=min_row, column=min_col)
    previous = first.comment.text + "\n\n" if first.comment is not None else ""
    comment = Comment(previous + _note(d), "compile-rules")
    comment.width = 320
    comment.height = 120 + 40 * (previous + _note(d)).count("\n")
    first.comment = comment
    count = 0
    for row in range(min_row, max_row + 1):
        for col in range(min_col, max_col + 1):
            count += 1
            if count > _MAX_FILLED:
                return
            cell = ws.cell(row=row, column=col)
            if _severity_of(cell.fill) > d.severity:
                continue
            cell.fill = PatternFill("solid", start_color=FILLS[d.severity])


def _severity_of(fill: object) -> int:
    """The severity whose colour FILL is (-1 for any other fill)."""
    colour = str(getattr(getattr(fill, "start_color", None), "rgb", "") or "")
    for severity, rgb in FILLS.items():
        if getattr(fill, "fill_type", None) == "solid" and colour.endswith(rgb):
            return int(severity)
    return -1


def _link(sheet: str, cell: str) -> str:
    """An internal link target, `'CT contrast'!C7` (written as `#'CT contrast'!C7`
    in the sheet's XML `location` attribute)."""
    quoted = sheet.replace("'", "''")
    return f"'{quoted}'!{cell.split(':')[0]}"


def _problems_sheet(book: Workbook, found: list[Diagnostic]) -> None:
    title = PROBLEMS
    number = 2
    while title in book.sheetnames:
        title = f"{PROBLEMS} ({number})"
        number += 1
    ws = book.create_sheet(title, 0)
    book.active = 0
    for other in book.worksheets[1:]:
        other.sheet_view.tabSelected = False
    ws.append([f"Problems found by compile-rules ({len(found)})"])
    ws["A1"].font = font(bold=True, size=14)
    ws.row_dimensions[1].height = 21
    ws.append(
        [
            "This sheet and the coloured cells with comments were added by "
            "`compile-rules lint --annotate`; fix the original workbook, not this copy."
        ]
    )
    ws.append([])
    header = ["Severity", "Code", "Where", "Message", "Cell text", "Hint"]
    widths = (10, 8, 28, 70, 30, 50)
    ws.append(header)
    for cell in ws[4]:
        cell.font = font(bold=True)
    if not found:
        ws.append(["", "", "", "No problems."])
    for d in found:
        where = (
            f"{d.location.sheet}!{d.location.cell}"
            if d.location.cell
            else d.location.sheet or "(workbook)"
        )
        ws.append([str(d.severity), d.code, where, d.message, d.text, d.hint])
        row = ws.max_row
        for column in range(
            3, 7
        ):  # text that starts with = stays text, never a formula
            cell = ws.cell(row=row, column=column)
            if isinstance(cell.value, str):
                cell.data_type = "s"
        ws.cell(row=row, column=1).fill = PatternFill(
            "solid", start_color=FILLS[d.severity]
        )
        if d.location.sheet in book.sheetnames:
            cell = ws.cell(row=row, column=3)
            cell.hyperlink = Hyperlink(
                ref=cell.coordinate,
                location=_link(d.location.sheet, d.location.cell or "A1"),
                tooltip="Go to the cell",
            )
            cell.font = font(color="0563C1", underline="single")
        for col in range(1, len(widths) + 1):
            ws.cell(row=row, column=col).alignment = Alignment(
                wrap_text=col >= 4, vertical="top"
            )
        ws.row_dimensions[row].height = row_height(
            [(d.message, widths[3]), (d.text, widths[4]), (d.hint, widths[5])]
        )
    for letter, width in zip("ABCDEF", widths, strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A5"
