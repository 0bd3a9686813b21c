"""Stage 1: read an .xlsx file into plain sheets of cell values.

Only this module touches openpyxl. It returns `RawSheet`s (values keyed by row and
column, plus the facts later stages need: merged ranges, formula cells, number formats)
or a diagnostic saying why the file cannot be read. It never raises for a bad file.
"""

from __future__ import annotations

import datetime as dt
import types
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from .cells import RawValue
from .diagnostics import Diagnostic, Location, Severity

# Limits against hostile files (documented in docs/workbook-format.md).
MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024
MAX_CELLS = 5_000_000

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True, slots=True)
class RawSheet:
    """One worksheet: its non-empty cells and what else later stages check."""

    title: str
    location: Location
    cells: Mapping[tuple[int, int], RawValue]  # (row, column), 1-based
    number_formats: Mapping[
        tuple[int, int], str
    ]  # numeric cells with a non-General format
    merged: tuple[str, ...]  # merged ranges, `B3:C3`
    formulas: Mapping[
        tuple[int, int], bool
    ]  # formula cells: True when a cached value exists
    errors: Mapping[tuple[int, int], str]  # cells showing an Excel error (#N/A)
    hidden: bool = False

    @property
    def max_row(self) -> int:
        return max((r for r, _ in self.cells), default=0)

    @property
    def max_column(self) -> int:
        return max((c for _, c in self.cells), default=0)

    def value(self, row: int, column: int) -> RawValue:
        return self.cells.get((row, column))

    def row_values(self, row: int) -> list[RawValue]:
        return [self.cells.get((row, c)) for c in range(1, self.max_column + 1)]


@dataclass(frozen=True, slots=True)
class RawWorkbook:
    path: str  # display path, `tables/imaging.xlsx`
    sheets: tuple[RawSheet, ...]


def ref(row: int, column: int) -> str:
    return f"{get_column_letter(column)}{row}"


def read_workbook(file: Path, display_path: str) -> RawWorkbook | Diagnostic:
    """Read FILE, or say in one diagnostic why it cannot be read."""
    location = Location(display_path)
    problem = _precheck(file)
    if problem:
        return Diagnostic("E001", Severity.ERROR, problem, location)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about data validation and other extensions it drops.
            warnings.simplefilter("ignore")
            book = load_workbook(file, data_only=False, rich_text=False)
            cached = None
            sheets = []
            for ws in book.worksheets:
                sheet = _read_sheet(ws, display_path)
                if sheet.formulas and cached is None:
                    cached = load_workbook(file, data_only=True)
                if sheet.formulas:
                    assert cached is not None
                    sheet = _with_cached_values(sheet, cached[ws.title])
                sheets.append(sheet)
    except Exception as exc:  # any reader failure is the file's fault, never ours
        reason = str(exc) or type(exc).__name__
        return Diagnostic(
            "E001",
            Severity.ERROR,
            f"cannot read this workbook: {reason}",
            location,
            hint="save it from Excel or LibreOffice as an .xlsx workbook",
        )
    return RawWorkbook(display_path, tuple(sheets))


def _precheck(file: Path) -> str:
    """Reject what openpyxl would choke on or take too long over, before opening it."""
    try:
        with file.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        return f"cannot open this file: {exc.strerror or exc}"
    if not head:
        return "the file is empty"
    if head == _OLE_MAGIC:
        return (
            "this is not an .xlsx workbook: it is an old .xls file or a password-protected "
            "workbook; save it unprotected as .xlsx"
        )
    if not zipfile.is_zipfile(file):
        return "this is not an .xlsx workbook (the file is not a zip archive)"
    try:
        with zipfile.ZipFile(file) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        return f"the workbook archive is damaged: {exc}"
    if total > MAX_UNCOMPRESSED_BYTES:
        mib = MAX_UNCOMPRESSED_BYTES // (1024 * 1024)
        return f"the workbook unpacks to more than {mib} MiB; split it into smaller workbooks"
    return ""


def _read_sheet(ws: object, display_path: str) -> RawSheet:
    cells: dict[tuple[int, int], RawValue] = {}
    formats: dict[tuple[int, int], str] = {}
    formulas: dict[tuple[int, int], bool] = {}
    errors: dict[tuple[int, int], str] = {}
    # `_cells` holds only the cells stored in the file, so reading stays proportional to
    # the real content even when the sheet claims a dimension of A1:XFD1048576.
    stored = ws._cells  # type: ignore[attr-defined]
    if len(stored) > MAX_CELLS:
        raise ValueError(f"sheet {ws.title!r} has more than {MAX_CELLS:,} cells")  # type: ignore[attr-defined]
    for (row, column), cell in stored.items():
        value = cell.value
        if value is None:
            continue
        if cell.data_type == "f":
            formulas[(row, column)] = False
            continue
        if cell.data_type == "e":
            errors[(row, column)] = str(value)
            continue
        if isinstance(value, str) and not value.strip(" \t\r\n"):
            continue
        if isinstance(value, dt.timedelta):
            value = str(value)
        cells[(row, column)] = value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            fmt = cell.number_format or "General"
            if fmt != "General":
                formats[(row, column)] = fmt
    title = ws.title  # type: ignore[attr-defined]
    return RawSheet(
        title=title,
        location=Location(display_path, title),
        cells=types.MappingProxyType(cells),
        number_formats=types.MappingProxyType(formats),
        merged=tuple(sorted(str(r) for r in ws.merged_cells.ranges)),  # type: ignore[attr-defined]
        formulas=types.MappingProxyType(formulas),
        errors=types.MappingProxyType(errors),
        hidden=ws.sheet_state != "visible",  # type: ignore[attr-defined]
    )


def _with_cached_values(sheet: RawSheet, cached_ws: object) -> RawSheet:
    cells = dict(sheet.cells)
    formulas = {}
    for key in sheet.formulas:
        value = cached_ws.cell(*key).value  # type: ignore[attr-defined]
        formulas[key] = value is not None
        if value is not None:
            cells[key] = value
    return RawSheet(
        title=sheet.title,
        location=sheet.location,
        cells=types.MappingProxyType(cells),
        number_formats=sheet.number_formats,
        merged=sheet.merged,
        formulas=types.MappingProxyType(formulas),
        errors=sheet.errors,
        hidden=sheet.hidden,
    )
