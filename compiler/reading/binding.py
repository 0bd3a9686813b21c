"""openpyxl's binding of a worksheet's cells, checked, and without openpyxl cells for
a plain sheet (issue 18): `workbook._load` patches openpyxl with `patch` while it
loads a workbook (under `workbook._SERIALS`), and `unpatch`s it after.

openpyxl keeps the last of two `<c r="B3">` and reads a TRUE/FALSE cell holding 2
as TRUE, without a word; both are refused here (`BadCell`). The rows of a plain
sheet, read by the scan (`sheetxml`), are kept in `FAST` for `workbook._read_sheet`,
unless the sheet merges or links cells (openpyxl's binding of those reads and
replaces cells).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.worksheet import _reader as openpyxl_reader

from compiler.reading import sheetxml


class BadCell(Exception):
    """A cell stored so that what Excel shows is not certain (`_checked_cells`)."""

    def __init__(self, row: int, column: int, message: str, hint: str) -> None:
        super().__init__(message)
        self.row, self.column, self.message, self.hint = row, column, message, hint
        self.sheet = ""


_WorksheetReader = openpyxl_reader.WorksheetReader
_WorkSheetParser = openpyxl_reader.WorkSheetParser
_bind_cells = _WorksheetReader.bind_cells
_parse_cell = _WorkSheetParser.parse_cell
_VALUE_TAG = openpyxl_reader.VALUE_TAG


def _checked_bind_cells(reader: openpyxl_reader.WorksheetReader) -> None:
    """openpyxl's `bind_cells`, refusing a cell stored twice: openpyxl keeps the last
    of two `<c r="B3">` without a word. Cells are bound one row at a time after the
    parser yields it, so the cells bound so far and those of the row are enough.

    The rows of a plain sheet (`sheetxml`) become no openpyxl cells at all unless
    the sheet merges or links cells (openpyxl's binding of those reads and replaces
    cells): `_read_sheet` reads them from `FAST`, which spares a Cell object, a
    style array and a dict per cell of a large table."""
    ws = reader.ws  # type: ignore[attr-defined]
    parser = reader.parser  # type: ignore[attr-defined]
    found = PLAIN.get(getattr(parser.source, "name", None))
    fast = sheetxml.bind_rows(parser, found) if found is not None else None
    bound = ws._cells
    parse: Callable[[], Iterator[tuple[int, list[dict[str, object]]]]] = parser.parse
    if fast is not None:
        fast_parse, fast_rows = fast
        parse = lambda: _fast_rows(reader, fast_parse, fast_rows)  # noqa: E731

    def checked() -> Iterator[tuple[int, list[dict[str, object]]]]:
        for index, row in parse():
            _check_twice(bound, ((c["row"], c["column"]) for c in row))
            yield index, row

    parser.parse = checked  # type: ignore[method-assign,assignment]
    try:
        _bind_cells(reader)
    except BadCell as bad:
        bad.sheet = ws.title
        raise
    finally:
        del parser.parse


def _check_twice(bound: object, keys: Iterable[tuple[object, object]]) -> None:
    """Raise `BadCell` for the first of KEYS (one row's cells) that BOUND (the
    cells so far) or the row holds already."""
    seen: set[tuple[object, object]] = set()
    for key in keys:
        if key in bound or key in seen:  # type: ignore[operator]
            raise BadCell(
                *key,  # type: ignore[arg-type]
                "the sheet's XML stores this cell twice, which Excel never "
                "writes: which of the two values it shows is not certain",
                _RESAVE,
            )
        seen.add(key)


def _fast_rows(
    reader: openpyxl_reader.WorksheetReader,
    parse: Iterator[sheetxml.FastRow],
    rows: list[sheetxml.FastRow],
) -> Iterator[tuple[int, list[dict[str, object]]]]:
    """openpyxl's rows of a plain sheet but its own (before and after them, in the
    same order of failure), with ROWS checked at their place (`sheetxml.MARK`) as
    openpyxl binds them: a cell stored twice, then a style that does not exist.
    They are kept in `FAST`, or yielded to openpyxl when the sheet merges or links
    cells."""
    ws: Any = reader.ws  # type: ignore[attr-defined]
    parser = reader.parser  # type: ignore[attr-defined]
    for item in parse:
        if item is not sheetxml.MARK:
            yield item  # type: ignore[misc]  # pragma: no cover - the cut leaves one row
            continue
        _check_rows(rows, ws.parent._cell_styles)
    if parser.merged_cells or parser.hyperlinks.hyperlink:
        for index, cells in rows:
            yield index, [sheetxml.as_dict(c) for c in cells]
    else:
        FAST[id(ws)] = (ws, rows)


def _check_rows(rows: list[sheetxml.FastRow], styles: Any) -> None:
    """Fail on ROWS as openpyxl's binding would: at the first cell stored twice or
    whose style is not among STYLES, row by row. When every cell is distinct and
    every style known, as in any saved workbook, two sets say so at once."""
    keys = [(c[0], c[1]) for _, cells in rows for c in cells]
    used = {c[4] for _, cells in rows for c in cells}
    if len(set(keys)) == len(keys) and all(_known(styles, s) for s in used):
        return
    taken: set[tuple[int, int]] = set()
    for _, cells in rows:
        _check_twice(taken, ((c[0], c[1]) for c in cells))
        for cell in cells:
            styles[cell[4]]  # openpyxl's IndexError, at the same cell
            taken.add((cell[0], cell[1]))


def _known(styles: Any, style_id: int) -> bool:
    try:
        styles[style_id]
    except IndexError:
        return False
    return True


def _checked_parse_cell(
    parser: openpyxl_reader.WorkSheetParser, element: object
) -> object:
    """openpyxl's `parse_cell`, refusing a TRUE/FALSE cell (`t="b"`) whose stored
    value is not 0 or 1: openpyxl reads 2 and -1 as TRUE and fails on the whole
    workbook for 0.5 or `true`; what Excel shows for them is not documented."""
    if element.get("t") == "b":  # type: ignore[attr-defined]
        text = element.findtext(_VALUE_TAG, None)  # type: ignore[attr-defined]
        if text and text not in ("0", "1"):
            where = element.get("r")  # type: ignore[attr-defined]
            row, column = (
                coordinate_to_tuple(where)
                if where
                else (parser.row_counter, parser.col_counter + 1)  # type: ignore[attr-defined]
            )
            shown = text if len(text) <= 20 else text[:17] + "..."
            raise BadCell(
                row,
                column,
                f"the cell is stored as TRUE/FALSE but holds {shown!r}, not 0 or 1: "
                "what Excel shows for it is not certain",
                "type TRUE or FALSE in the cell again and save the workbook",
            )
    return _parse_cell(parser, element)


_RESAVE = "open the workbook in Excel or LibreOffice, check the cell and save it again"


# The plain sheets of the workbook being loaded, by part name (set under workbook._SERIALS):
# their rows were read by the scan already (`sheetxml`).
PLAIN: dict[str | None, sheetxml.SheetCells] = {}
# The rows of the plain sheets bound without openpyxl cells, by id of the worksheet.
FAST: dict[int, tuple[object, list[sheetxml.FastRow]]] = {}


class NumberFormats(dict[int, str]):
    """The number format of each style id of a workbook, as openpyxl's cell of that
    style shows it (one throwaway cell per style, not per cell)."""

    def __init__(self, ws: Any) -> None:
        super().__init__()
        self.ws = ws

    def __missing__(self, style_id: int) -> str:
        styles = self.ws.parent._cell_styles  # type: ignore[attr-defined]
        cell = Cell(self.ws, row=1, column=1, style_array=styles[style_id])
        found = self[style_id] = cell.number_format
        return found

    def of(self, style: Any) -> str:
        """The number format of STYLE, an openpyxl cell or a style id."""
        return self[style] if type(style) is int else style.number_format  # type: ignore[no-any-return]


def patch() -> None:
    """Bind cells through this module's checks (and fast path) from now on."""
    _WorksheetReader.bind_cells = _checked_bind_cells  # type: ignore[method-assign,assignment]
    _WorkSheetParser.parse_cell = _checked_parse_cell  # type: ignore[method-assign,assignment]


def unpatch() -> None:
    """Give openpyxl its own binding back."""
    _WorksheetReader.bind_cells = _bind_cells  # type: ignore[method-assign]
    _WorkSheetParser.parse_cell = _parse_cell  # type: ignore[method-assign]
