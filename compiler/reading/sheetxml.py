"""A fast path for openpyxl's reading of a worksheet's cells (issue 18).

openpyxl builds an ElementTree element for every row, cell and value of a sheet and
parses each cell with Python code of its own: at 131,000 cells that was most of the
time a large table took to read. The streaming scan of `workbook._Scan`, which walks
every XML part anyway for the limits of issue 14, hands each worksheet's start tags,
end tags and text to a `SheetCells`, which keeps the rows while every one of them has
a plain shape (below). When openpyxl then binds the sheet's cells, `bind_rows` turns
those rows into the very dicts openpyxl's `parse_row` and `parse_cell` make (the same
code, line for line, without the element trees), and openpyxl parses the sheet's XML
with its `sheetData` rows cut out, so that everything else (merged ranges, hyperlinks,
row and column dimensions, properties, and any error openpyxl raises on them) is
still openpyxl's.

Plain means: the root `worksheet` is in the main namespace as the default one, one
`sheetData` is its child, whose children are unprefixed `row`s, whose children are
unprefixed `c`s, each with at most one `v` (text only) and at most one `is` holding
nothing but at most one `t` (text only, `xml:space` its only attribute); no element
below the root declares a namespace, every prefixed attribute has a prefix the root
declares, and no other element is named `row` or `sheetData`. Any other shape (a
formula, rich text, a `t="d"` cell, ...) and any value `parse_cell` would fail on or
warn about give the sheet back to openpyxl whole, which then reads it as before, and
fails or warns as before. `tests/test_sheetxml.py` holds the two readings equal.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.utils.datetime import from_ISO8601
from openpyxl.worksheet import _reader as openpyxl_reader

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_XML = "http://www.w3.org/XML/1998/namespace"

# States of `SheetCells`: where in the sheet the last start tag left it.
_OUT, _DATA, _ROW, _CELL, _V, _IS, _T, _AFTER, _BROKEN = range(9)

Cell = tuple[dict[str, str], str | None, str | None]  # attributes, <v> text, <is> text
Row = tuple[dict[str, str], list[Cell]]


class SheetCells:
    """The rows of one worksheet part, collected from the scan's expat events while
    they are plain (see the module's docstring); `rows` is None once one is not."""

    def __init__(self, parser: Any, attributes: list[str]) -> None:
        self.parser = parser  # for CurrentByteIndex
        self.prefixes = {"xml": _XML}
        for key, value in zip(attributes[::2], attributes[1::2], strict=True):
            if key.startswith("xmlns:"):
                self.prefixes[key[6:]] = value
        self.rows: list[Row] | None = []
        self.cut = (-1, -1)  # the bytes of the rows in the part: [start, end)
        self.depth = 1  # the root is open
        self.state = _OUT
        self.texts: list[str] = []
        self.cells: list[Cell] = []
        self.row: dict[str, str] = {}
        self.cell: dict[str, str] = {}
        self.value: str | None = None
        self.inline: str | None = None

    def _break(self) -> None:
        self.state = _BROKEN
        self.rows = None
        self.cells = []

    def _attributes(self, attributes: list[str]) -> dict[str, str] | None:
        """ATTRIBUTES as ElementTree names them, or None when one declares a
        namespace or has a prefix the root does not declare."""
        keys = attributes[::2]
        found = dict(zip(keys, attributes[1::2], strict=True))
        if "xmlns" in found or ":" in "".join(keys):  # one search, not one per key
            named = {}
            for key, value in found.items():
                prefix, colon, local = key.partition(":")
                uri = self.prefixes.get(prefix) if colon else None
                if key == "xmlns" or prefix == "xmlns" or (colon and uri is None):
                    return None
                named[f"{{{uri}}}{local}" if colon else key] = value
            return named
        return found

    def start(self, tag: str, attributes: list[str]) -> None:
        self.depth += 1
        state = self.state
        if state == _ROW:
            if tag == "c":
                found = self._attributes(attributes)
                if found is not None:
                    self.cell, self.value, self.inline = found, None, None
                    self.state = _CELL
                    return
        elif state == _CELL:
            if tag == "v" and self.value is None:
                if not attributes or self._attributes(attributes) is not None:
                    self.texts = []
                    self.state = _V
                    return
            elif tag == "is" and self.inline is None and not attributes:
                self.inline = ""
                self.state = _IS
                return
        elif state == _IS:
            if (
                tag == "t"
                and not self.inline
                and attributes in ([], ["xml:space", "preserve"])
            ):
                self.texts = []
                self.state = _T
                return
        elif state == _DATA:
            if tag == "row":
                found = self._attributes(attributes)
                if found is not None:
                    if self.cut[0] < 0:
                        self.cut = (self.parser.CurrentByteIndex, -1)
                    self.row, self.cells = found, []
                    self.state = _ROW
                    return
        elif state == _OUT:
            local = tag.rpartition(":")[2]
            if local not in ("row", "sheetData"):
                return
            if tag == "sheetData" and self.depth == 2:
                if not attributes or self._attributes(attributes) is not None:
                    self.state = _DATA
                    return
        elif state == _AFTER:
            if tag.rpartition(":")[2] not in ("row", "sheetData"):
                return
        else:  # _BROKEN, _V, _T
            if state == _BROKEN:
                return
        self._break()

    def end(self, tag: str) -> None:
        self.depth -= 1
        state = self.state
        if state == _V:
            self.value = "".join(self.texts)
            self.state = _CELL
        elif state == _T:
            self.inline = "".join(self.texts)
            self.state = _IS
        elif state == _IS:
            self.state = _CELL
        elif state == _CELL:
            self.cells.append((self.cell, self.value, self.inline))
            self.state = _ROW
        elif state == _ROW:
            assert self.rows is not None
            self.rows.append((self.row, self.cells))
            self.state = _DATA
        elif state == _DATA:  # </sheetData>
            if self.cut[0] >= 0:
                self.cut = (self.cut[0], self.parser.CurrentByteIndex)
            self.state = _AFTER

    def text(self, data: str) -> None:
        if self.state == _V or self.state == _T:
            self.texts.append(data)

    @property
    def plain(self) -> bool:
        """Whether the whole part was read and every row in it is plain."""
        return self.rows is not None and self.state == _AFTER


class _Unusual(Exception):
    """A cell `bind_rows` leaves to openpyxl: it would fail, or warn, on it."""


FastCell = tuple[int, int, Any, str, Any]  # row, column, value, data type, style id
FastRow = tuple[int, list[FastCell]]
MARK: FastRow = (0, [])  # where `bind_rows` leaves the rows of the sheet


def bind_rows(
    parser: Any, found: SheetCells
) -> tuple[Iterator[FastRow], list[FastRow]] | None:
    """What openpyxl's `parser.parse()` yields, its source cut to the XML without the
    rows of FOUND, which it yields as one `MARK` where they stood; and those rows, as
    openpyxl's `parse_row` and `parse_cell` read them but in tuples (no dict per
    cell). None (PARSER untouched) when a row is left to openpyxl."""
    if not found.plain:
        return None
    saved = parser.row_counter, parser.col_counter, parser.row_dimensions
    parser.row_dimensions = dict(saved[2])
    try:
        rows = [
            _parse_row(parser, attributes, cells)
            for attributes, cells in found.rows or ()
        ]
    except Exception:
        parser.row_counter, parser.col_counter, parser.row_dimensions = saved
        return None
    start, end = found.cut
    if start < 0:  # no rows
        return parser.parse(), rows
    # openpyxl parses the sheet with its rows replaced by one empty row, where they
    # are yielded: anything it fails on before or after them fails in the same order.
    parser.source = _Without(parser.source, start, end)
    parser.parse_row = lambda element: MARK
    openpyxl_parse = parser.parse

    def parse() -> Iterator[FastRow]:
        yield from openpyxl_parse()
        del parser.parse_row

    return parse(), rows


def as_dict(cell: FastCell) -> dict[str, Any]:
    """CELL as the dict openpyxl's `parse_cell` makes of it."""
    row, column, value, data_type, style_id = cell
    return {
        "row": row,
        "column": column,
        "value": value,
        "data_type": data_type,
        "style_id": style_id,
    }


def _parse_row(parser: Any, attrs: dict[str, str], cells: list[Cell]) -> FastRow:
    """openpyxl's `WorkSheetParser.parse_row`, on the attributes and cells of a row."""
    if "r" in attrs:
        try:
            parser.row_counter = int(attrs["r"])
        except ValueError:
            val = float(attrs["r"])
            if val.is_integer():
                parser.row_counter = int(val)
            else:
                raise
    else:
        parser.row_counter += 1
    parser.col_counter = 0
    keys = {k for k in attrs if not k.startswith("{")}
    if keys - {"r", "spans"}:
        parser.row_dimensions[str(parser.row_counter)] = dict(attrs)
    return parser.row_counter, [_parse_cell(parser, *cell) for cell in cells]


def _parse_cell(
    parser: Any, attrs: dict[str, str], text: str | None, inline: str | None
) -> FastCell:
    """openpyxl's `WorkSheetParser.parse_cell` (read without rich text, and never a
    formula: a plain cell has none), with the check of `binding._checked_parse_cell`:
    a TRUE/FALSE cell holding other than 0 or 1 is left to openpyxl."""
    data_type = attrs.get("t", "n")
    coordinate = attrs.get("r")
    style_id: Any = attrs.get("s", 0)
    if style_id:
        style_id = int(style_id)
    if data_type == "inlineStr":
        value: Any = None
    else:
        value = text or None
    if coordinate:
        row, column = coordinate_to_tuple(coordinate)
        parser.col_counter = column
    else:
        parser.col_counter += 1
        row, column = parser.row_counter, parser.col_counter
    if value is not None:
        if data_type == "n":
            value = openpyxl_reader._cast_number(value)  # type: ignore[attr-defined]
            if style_id in parser.date_formats:
                data_type = "d"
                try:
                    value = openpyxl_reader.from_excel(  # type: ignore[attr-defined]
                        value,
                        parser.epoch,
                        timedelta=style_id in parser.timedelta_formats,
                    )
                except (OverflowError, ValueError):
                    raise _Unusual from None  # openpyxl warns: its words
        elif data_type == "s":
            value = parser.shared_strings[int(value)]
        elif data_type == "b":
            if value not in ("0", "1"):
                raise _Unusual  # binding._checked_parse_cell's error
            value = bool(int(value))
        elif data_type == "str":
            data_type = "s"
        elif data_type == "d":
            value = from_ISO8601(value)  # type: ignore[no-untyped-call]
    elif data_type == "inlineStr" and inline is not None:
        data_type = "s"
        value = inline  # Text.from_tree(<is><t>inline</t></is>).content
    return row, column, value, data_type, style_id


class _Without:
    """A part's bytes read from RAW with those in [START, END) replaced by `<row/>`."""

    def __init__(self, raw: BinaryIO, start: int, end: int) -> None:
        self.raw, self.start, self.end, self.at = raw, start, end, 0
        self.marked = False

    def read(self, size: int = -1) -> bytes:
        if self.at < self.start:
            wanted = self.start - self.at
            data = self.raw.read(wanted if size < 0 else min(size, wanted))
            self.at += len(data)
            return data
        if not self.marked:
            self.marked = True
            return b"<row/>"
        while self.at < self.end:
            skipped = self.raw.read(min(self.end - self.at, 1 << 20))
            if not skipped:
                return b""
            self.at += len(skipped)
        data = self.raw.read(size)
        self.at += len(data)
        return data

    def close(self) -> None:
        self.raw.close()
