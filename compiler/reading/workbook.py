"""Stage 1: read an .xlsx file into plain sheets of cell values.

Only this module, `binding` (openpyxl's binding of cells, checked) and `sheetxml`
(the cells of plain sheets, read by the scan below) touch openpyxl. It returns `RawSheet`s (values keyed by row and
column, plus the facts later stages need: merged ranges, formula cells, number formats)
or a diagnostic saying why the file cannot be read. It never raises for a bad file.

Workbooks are written by people and may be crafted, so before openpyxl sees a file
its archive and every XML part are checked in one streaming pass (`_Scan`): sizes, a
DTD anywhere (entity expansion), tags long enough to make expat re-parse quadratically,
and the number of cells openpyxl would create, counting merged and hyperlinked ranges,
which it expands cell by cell, of shared strings and of XML elements (openpyxl builds
an object for every data validation, style, ...). Reading then stays proportional to
the stored content, and bounded.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import pyexpat
import stat
import threading
import types
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel
from openpyxl.worksheet import _reader as openpyxl_reader

from compiler.diagnostics import Diagnostic, Location, Severity
from compiler.reading import binding, sheetxml
from compiler.reading.cells import RawValue

# Limits against hostile files (documented under Limits in docs/workbook-format.md).
MAX_FILE_BYTES = 64 * 1024 * 1024  # the .xlsx file itself
MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024  # all parts, unpacked
MAX_PARTS = 10_000  # files inside the archive
MAX_CELLS = 1_000_000  # cells openpyxl would create, over all sheets of a workbook
MAX_TAG_BYTES = 64 * 1024  # one start tag, comment or processing instruction
MAX_STRINGS = 1_000_000  # shared strings: never more needed than cells
MAX_OTHER_ELEMENTS = 200_000  # XML elements besides cells and strings, all parts
MAX_ELEMENTS = 6_000_000  # XML elements of all parts

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_LFS_POINTER = b"version https://git-lfs.github.com/spec/"
_EOCD = b"PK\x05\x06"  # end of the zip central directory
_CHUNK = 16 * 1024 * 1024  # large feeds keep expat's re-parsing of long tags cheap
_MAX_DIRECTORY_BYTES = 4 * 1024 * 1024  # zipfile keeps ~500 bytes per entry it lists
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_EXPANDED = frozenset({"mergeCell", "hyperlink"})  # ranges openpyxl fills cell by cell
_NOTED = _EXPANDED | {"sheet", "Relationship", "sst"}
# Elements of cells and strings (their count is bounded by MAX_CELLS and MAX_STRINGS):
# the sheet's rows and cells, values, formulas, inline and shared strings with their
# rich-text runs and run properties, phonetic runs.
_CELL_CONTENT = frozenset(
    "sheetData row c v f is t si sst r rPr rPh phoneticPr b i u strike sz color rFont "
    "family scheme charset outline shadow condense extend vertAlign".split()
)
_ROWS, _COLUMNS = 1_048_576, 16_384


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
    """Read FILE, or say in one diagnostic why it cannot be read.

    The file is opened once: the checks and openpyxl read the same bytes, even if the
    file is replaced meanwhile (and openpyxl does not judge it by its name's suffix).
    """
    opened = _open(file)
    if isinstance(opened, str):
        return Diagnostic("E001", Severity.ERROR, opened, Location(display_path))
    with opened as handle:
        return read_handle(handle, file, display_path)


def read_handle(
    handle: BinaryIO, file: Path, display_path: str
) -> RawWorkbook | Diagnostic:
    """Read the workbook FILE from HANDLE, open on its bytes (the compile cache reads
    the very bytes it hashed), or say in one diagnostic why it cannot be read."""
    location = Location(display_path)
    problem, plain = _precheck(handle)
    if problem:
        return Diagnostic("E001", Severity.ERROR, problem, location, hint=_HINT)
    try:
        sheets = _load(handle, display_path, plain)
    except binding.BadCell as bad:
        at = Location(display_path, bad.sheet, ref(bad.row, bad.column))
        return Diagnostic("E001", Severity.ERROR, bad.message, at, hint=bad.hint)
    except Exception as exc:  # any reader failure is the file's fault, never ours
        return Diagnostic(
            "E001",
            Severity.ERROR,
            f"cannot read this workbook: {_reason(exc, file, display_path)}",
            location,
            hint=_HINT,
        )
    return RawWorkbook(display_path, tuple(sheets))


_HINT = "save it from Excel or LibreOffice as an .xlsx workbook"


def _open(file: Path) -> BinaryIO | str:
    """FILE opened for reading, or why it cannot be: only a regular file is a
    workbook (a pipe or device is never waited on: it is opened without blocking)."""
    try:
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        if file.is_symlink():
            return (
                "the file is a symbolic link to a file that does not exist (a Git LFS "
                "or git-annex file not fetched?): fetch it (git lfs pull, git annex "
                "get) or remove the link"
            )
        return "cannot open this file: it was removed while the tables were read"
    except IsADirectoryError:
        return _FOLDER
    except OSError as exc:
        return f"cannot open this file: {exc.strerror or exc}"
    kind = os.fstat(fd).st_mode
    if not stat.S_ISREG(kind):
        os.close(fd)
        if stat.S_ISDIR(kind):
            return _FOLDER
        return "this is not a regular file (a device, pipe or socket), not a workbook"
    return os.fdopen(fd, "rb")


_FOLDER = "this is a folder named like a workbook; rename it (no .xlsx)"


_SERIALS = threading.Lock()  # openpyxl's reader reads date serials through us


def _from_excel(
    value: float, epoch: dt.datetime = WINDOWS_EPOCH, timedelta: bool = False
) -> object:
    """openpyxl's `from_excel`, read as Excel shows the serial: a negative one is no
    date (Excel shows ####) and 60 is 1900-02-29, a day that does not exist (Lotus's
    leap-year bug), both made the error #VALUE! by openpyxl (E122); in a 1904 workbook
    serials below 1 are 1904-01-01, not times of day."""
    if not timedelta:
        if epoch == WINDOWS_EPOCH and (value < 0 or 60 <= value < 61):
            raise ValueError("no date")
        if epoch == MAC_EPOCH and 0 <= value < 1:
            return epoch + dt.timedelta(milliseconds=round(value * 86_400_000))
    return from_excel(value, epoch, timedelta=timedelta)


def _load(
    handle: BinaryIO, display_path: str, plain: dict[str, sheetxml.SheetCells]
) -> list[RawSheet]:
    with _SERIALS, warnings.catch_warnings():
        # openpyxl warns about data validation and other extensions it drops.
        warnings.simplefilter("ignore")
        openpyxl_reader.from_excel = _from_excel  # type: ignore[attr-defined]
        binding.patch()
        binding.PLAIN.update(plain)
        try:
            return _load_sheets(handle, display_path)
        finally:
            binding.PLAIN.clear()
            binding.FAST.clear()
            openpyxl_reader.from_excel = from_excel  # type: ignore[attr-defined]
            binding.unpatch()


def _load_sheets(handle: BinaryIO, display_path: str) -> list[RawSheet]:
    handle.seek(0)
    book = load_workbook(handle, data_only=False, rich_text=False)
    cached = None
    sheets = []
    for ws in book.worksheets:
        sheet = _read_sheet(ws, display_path)
        if sheet.formulas and cached is None:
            handle.seek(0)
            cached = load_workbook(handle, data_only=True)
        if sheet.formulas:
            assert cached is not None
            sheet = _with_cached_values(sheet, cached[ws.title])
        sheets.append(sheet)
    return sheets


def _reason(exc: BaseException, file: Path, display_path: str) -> str:
    """The innermost cause of EXC on one line, without the machine's paths."""
    for _ in range(20):
        inner = exc.__cause__ or exc.__context__
        if inner is None:
            break
        exc = inner
    name = type(exc).__name__
    if "Forbidden" in name and type(exc).__module__.startswith("defusedxml"):
        return "it declares XML entities (a DTD), which spreadsheet files never do"
    text = " ".join((str(exc) or name).split())
    for shown in (str(file.resolve()), str(file)):
        text = text.replace(shown, display_path)
    return text if len(text) <= 300 else text[:297] + "..."


def _precheck(handle: BinaryIO) -> tuple[str, dict[str, sheetxml.SheetCells]]:
    """Reject what openpyxl would choke on or take too long over, before opening it;
    else ('', the worksheet parts whose rows the scan read, by name)."""
    try:
        head = handle.read(8)
        size = handle.seek(0, 2)
        problem = _archive_problem(handle, head, size)
    except OSError as exc:
        return f"cannot read this file: {exc.strerror or exc}", {}
    if problem:
        return problem, {}
    try:
        with zipfile.ZipFile(handle) as archive:
            scan = _Scan(archive)
            scan.check()
    except _Refused as refused:
        return str(refused), {}
    except Exception as exc:  # zipfile, zlib, seeks it makes: a damaged archive
        text = " ".join((str(exc) or type(exc).__name__).split())
        return f"the workbook archive is damaged or unsupported: {text}", {}
    return "", {
        name: part.plain
        for name, part in scan.parts.items()
        if part.plain is not None and part.plain.plain
    }


def _archive_problem(handle: BinaryIO, head: bytes, size: int) -> str:
    """What the file's first bytes and its zip directory say, before zipfile reads it."""
    if not head:
        return "the file is empty"
    if head == _OLE_MAGIC:
        return (
            "this is not an .xlsx workbook: it is an old .xls file or a password-protected "
            "workbook; save it unprotected as .xlsx"
        )
    if head.startswith(b"version "):
        handle.seek(0)
        if handle.read(200).startswith(_LFS_POINTER):
            return (
                "this is a Git LFS pointer, not the workbook itself: fetch it "
                "(git lfs pull)"
            )
    if not head.startswith(b"PK"):
        return (
            "this is not an .xlsx workbook (the file is not a zip archive): a CSV, HTML "
            "or text file renamed .xlsx?"
        )
    if size > MAX_FILE_BYTES:
        return f"the file is larger than {_size(MAX_FILE_BYTES)}; split it into smaller workbooks"
    handle.seek(max(0, size - 65_557))  # the directory end record, and its comment
    tail = handle.read()
    end = tail.rfind(_EOCD)
    if end < 0 or len(tail) < end + 22:
        return "the workbook archive is damaged or truncated (its zip directory is missing)"
    entries = int.from_bytes(tail[end + 10 : end + 12], "little")
    directory = int.from_bytes(tail[end + 12 : end + 16], "little")
    if entries > MAX_PARTS or directory > _MAX_DIRECTORY_BYTES:
        return _too_many_parts()
    handle.seek(0)
    return ""


class _Refused(Exception):
    """A limit or rule of `_Scan` was broken; the message says which, for the author."""


@dataclass
class _Part:
    """What the scan learnt about one XML part."""

    root: str = ""  # local name of the root element
    cells: int = 0  # cells openpyxl would create for it, were it a worksheet
    sheets: list[str] = field(default_factory=list)  # r:id of its <sheet> elements
    titles: list[str] = field(default_factory=list)  # the names of those sheets
    targets: dict[str, str] = field(default_factory=dict)  # a .rels part: Id -> part
    plain: sheetxml.SheetCells | None = None  # a worksheet's rows (`sheetxml`)


class _Scan:
    """One streaming expat pass over the parts openpyxl will parse as XML.

    Refuses a DTD anywhere (entity expansion: openpyxl uses defusedxml, this holds
    even where it does not), any tag, comment or processing instruction longer than
    MAX_TAG_BYTES (expat re-parses an unfinished token at every feed, and openpyxl
    feeds 16 KiB at a time: quadratic time), and a workbook whose sheets would make
    openpyxl create more than MAX_CELLS cells, counting merged and hyperlinked ranges
    by their area, since openpyxl creates a cell object for each of their cells; or
    more than MAX_STRINGS shared strings, MAX_OTHER_ELEMENTS elements besides those of
    cells and strings, or MAX_ELEMENTS elements in all (each counted as it is met, so
    a bomb is refused once it goes over, not after it is read).
    """

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.infos = {info.filename: info for info in archive.infolist()}
        self.parts: dict[str, _Part] = {}
        self.unpacked = 0
        self.elements = 0  # every element, MAX_ELEMENTS
        self.other = 0  # elements not of cells or strings, MAX_OTHER_ELEMENTS
        self.strings = 0  # `si` elements, MAX_STRINGS

    def check(self) -> None:
        """Raise `_Refused` if openpyxl should not be let at the archive."""
        infos = self.archive.infolist()
        if len(infos) > MAX_PARTS:
            raise _Refused(_too_many_parts())
        if len(self.infos) != len(infos):
            raise _Refused("the workbook archive is damaged: two files share a name")
        if sum(info.file_size for info in infos) > MAX_UNCOMPRESSED_BYTES:
            raise _Refused(_too_big())
        for name in self.infos:
            if name.lower().endswith(_XML_SUFFIXES):
                self._scan(name)
        cells = 0
        for name, part in list(self.parts.items()):
            if part.root != "workbook" or not part.sheets:
                continue
            _check_titles(part.titles)
            folder, base = posixpath.split(name)
            rels = self.parts.get(posixpath.join(folder, "_rels", f"{base}.rels"))
            targets = [rels.targets.get(rid, "") if rels else "" for rid in part.sheets]
            missing = sorted({t for t in targets if t and t not in self.infos})
            if missing:
                raise _Refused(
                    f"the workbook archive is damaged: its sheet {missing[0]} is missing"
                )
            for target in targets:
                if target and target not in self.parts:
                    self._scan(target)  # a sheet part not named .xml
            cells = max(cells, sum(self.parts[t].cells for t in targets if t))
        if cells > MAX_CELLS:
            raise _Refused(_too_many_cells())

    def _scan(self, name: str) -> None:
        info = self.infos[name]
        part = self.parts[name] = _Part()
        # Without namespace processing: declarations count towards a tag's length, and
        # expat's slow handling of thousands of them on one tag is never reached.
        parser = pyexpat.ParserCreate()
        parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)

        def refuse_dtd(*_: object) -> None:
            raise _Refused(
                f"the part {name} declares XML entities (a DTD), which spreadsheet "
                "files never do"
            )

        def long_tag(size: int) -> None:
            if size > MAX_TAG_BYTES:
                raise _Refused(
                    f"the part {name} holds a tag longer than {_size(MAX_TAG_BYTES)}; "
                    "no spreadsheet does"
                )

        def start(tag: str, attributes: list[str]) -> None:
            size = len(tag) + sum(map(len, attributes))  # hot: no call unless long
            if size > MAX_TAG_BYTES:
                long_tag(size)
            local = tag.rpartition(":")[2] if ":" in tag else tag
            self.elements += 1
            if self.elements > MAX_ELEMENTS:
                raise _Refused(self._too_many("XML elements", MAX_ELEMENTS, name))
            if local not in _CELL_CONTENT:
                self.other += 1
                if self.other > MAX_OTHER_ELEMENTS:
                    raise _Refused(self._too_many(_OTHER, MAX_OTHER_ELEMENTS, name))
            if local == "c":
                part.cells += 1
                if part.cells > MAX_CELLS:
                    raise _Refused(_too_many_cells())
            elif local == "si":
                self.strings += 1
                if self.strings > MAX_STRINGS:
                    raise _Refused(_too_many_strings(f"has {self.strings:,}"))
            elif local in _NOTED:
                _note(
                    part,
                    name,
                    local,
                    dict(zip(attributes[::2], attributes[1::2], strict=True)),
                )
            if sheet is not None:
                sheet.start(tag, attributes)
            elif not part.root:
                part.root = local
                if tag == "worksheet" and sheetxml.MAIN in attributes[1::2]:
                    read_rows(attributes)

        sheet: sheetxml.SheetCells | None = None

        def read_rows(attributes: list[str]) -> None:
            """From the root of a worksheet on, hand the rows to `sheetxml`."""
            nonlocal sheet
            names = dict(zip(attributes[::2], attributes[1::2], strict=True))
            if names.get("xmlns") != sheetxml.MAIN:
                return
            sheet = part.plain = sheetxml.SheetCells(parser, attributes)
            parser.EndElementHandler = sheet.end
            parser.CharacterDataHandler = sheet.text

        parser.buffer_text = True
        parser.StartDoctypeDeclHandler = refuse_dtd
        parser.EntityDeclHandler = refuse_dtd
        parser.ordered_attributes = True
        parser.StartElementHandler = start
        parser.CommentHandler = lambda text: long_tag(len(text))
        parser.ProcessingInstructionHandler = lambda t, d: long_tag(len(t) + len(d))
        try:
            with self.archive.open(info) as handle:
                while chunk := handle.read(_CHUNK):
                    self.unpacked += len(chunk)
                    if self.unpacked > MAX_UNCOMPRESSED_BYTES:
                        raise _Refused(_too_big())
                    parser.Parse(chunk, False)
                parser.Parse(b"", True)
        except pyexpat.ExpatError as exc:
            raise _Refused(
                f"the part {name} is not well-formed XML ({' '.join(str(exc).split())})"
            ) from None

    def _too_many(self, what: str, limit: int, name: str) -> str:
        """The message for more than LIMIT of WHAT, naming the sheet of the part NAME
        when the workbook part, scanned already, says which it is."""
        where = f"the part {name}"
        for book, part in self.parts.items():
            folder, base = posixpath.split(book)
            rels = self.parts.get(posixpath.join(folder, "_rels", f"{base}.rels"))
            if part.root != "workbook" or rels is None:
                continue
            for rid, title in zip(part.sheets, part.titles, strict=False):
                if rels.targets.get(rid) == name:
                    where = f"the sheet {title!r} ({name})"
        return (
            f"the workbook has more than {limit:,} {what} (the limit; {where} goes "
            "over it); split it into smaller workbooks"
        )


_OTHER = (
    "XML elements besides cells and strings (styles, data validation, conditional "
    "formatting, names, drawings, ...)"
)


def _too_many_strings(count: str) -> str:
    return (
        f"the workbook {count} shared strings, more than the limit of "
        f"{MAX_STRINGS:,} (no workbook needs more strings than cells); save it again "
        "from Excel or LibreOffice, which keep only the strings in use, or split it"
    )


def _check_titles(titles: list[str]) -> None:
    """Excel tells sheet names apart without case; openpyxl renames the second of
    `Rules` and `RULES` to `RULES1`, a sheet no message should name."""
    seen: dict[str, str] = {}
    for title in titles:
        other = seen.get(title.casefold())
        seen.setdefault(title.casefold(), title)
        if other is not None:
            raise _Refused(
                f"two sheets are named {other!r} and {title!r}, which Excel takes for "
                "the same name (case does not count); rename one"
            )


def _note(part: _Part, name: str, local: str, attributes: dict[str, str]) -> None:
    """Record the elements of `_NOTED`: expanded ranges, sheets, relationships."""
    if local in _EXPANDED:
        part.cells += _area(attributes.get("ref", ""))
        if part.cells > MAX_CELLS:
            raise _Refused(_too_many_cells())
    elif local == "sst":  # the count it declares refuses a bomb before its strings
        declared = attributes.get("uniqueCount", "").strip().lstrip("0")
        if declared.isascii() and declared.isdigit():  # not too long for int()
            if len(declared) > 15 or int(declared) > MAX_STRINGS:
                shown = f"{int(declared):,}" if len(declared) <= 15 else "~1e15+"
                raise _Refused(_too_many_strings(f"declares {shown}"))
    elif local == "sheet":
        part.sheets.extend(v for k, v in attributes.items() if k.endswith(":id"))
        part.titles.append(attributes.get("name", ""))
    elif local == "Relationship" and attributes.get("TargetMode") != "External":
        target = _resolve(name, attributes.get("Target", ""))
        part.targets.setdefault(attributes.get("Id", ""), target)


def _resolve(rels: str, target: str) -> str:
    """The part a relationship of the .rels part RELS points to, as openpyxl finds it."""
    if target.startswith("/"):
        return target[1:]
    parent = posixpath.split(posixpath.dirname(rels))[0]
    return posixpath.normpath(posixpath.join(parent, target))


def _area(reference: str) -> int:
    """How many cells a range such as `A1:C3`, `A:A` or `3:3` covers (1 if unreadable:
    openpyxl then fails on it too)."""
    try:
        low_col, low_row, high_col, high_row = range_boundaries(reference)
    except (ValueError, TypeError):
        return 1
    rows = (high_row or _ROWS) - (low_row or 1) + 1
    columns = (high_col or _COLUMNS) - (low_col or 1) + 1
    return max(rows, 1) * max(columns, 1)


def _size(count: int) -> str:
    for unit, shift in (("MiB", 20), ("KiB", 10)):
        if count >= 1 << shift and count % (1 << shift) == 0:
            return f"{count >> shift} {unit}"
    return f"{count:,} bytes"


def _too_many_parts() -> str:
    return f"the workbook archive holds more than {MAX_PARTS:,} files; no workbook does"


def _too_big() -> str:
    return (
        f"the workbook unpacks to more than {_size(MAX_UNCOMPRESSED_BYTES)}; "
        "split it into smaller workbooks"
    )


def _too_many_cells() -> str:
    return (
        f"the workbook has more than {MAX_CELLS:,} cells (counting merged and "
        "hyperlinked ranges cell by cell); split it into smaller workbooks"
    )


_BOOLEAN_FORMULAS = {"=TRUE()": True, "=FALSE()": False}

# Every error value Excel shows (and LibreOffice writes to .xlsx), old and new.
EXCEL_ERRORS = frozenset(
    {
        "#NULL!",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#N/A",
        "#SPILL!",
        "#CALC!",
        "#GETTING_DATA",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
        "#EXTERNAL!",
        "#PYTHON!",
    }
)


def excel_error(cell: object) -> str:
    """The error value openpyxl's CELL shows (`#N/A`), or ''. Text that reads exactly
    as an error value counts too: Excel itself turns typed `#N/A` into the error, and
    the two look the same in a sheet (the text is written "#N/A", quoted)."""
    return _error_value(cell.value, cell.data_type)  # type: ignore[attr-defined]


def _error_value(value: object, data_type: str) -> str:
    """`excel_error` of a cell holding VALUE of openpyxl's DATA_TYPE."""
    if data_type == "e":
        return str(value)
    if isinstance(value, str) and value.strip().upper() in EXCEL_ERRORS:
        return value.strip().upper()
    return ""


def _read_sheet(ws: object, display_path: str) -> RawSheet:
    cells: dict[tuple[int, int], RawValue] = {}
    formats: dict[tuple[int, int], str] = {}
    formulas: dict[tuple[int, int], bool] = {}
    errors: dict[tuple[int, int], str] = {}
    styles = binding.NumberFormats(ws)
    for key, value, data_type, style in _stored_cells(ws):
        if value is None:
            continue
        if data_type == "f":
            constant = _BOOLEAN_FORMULAS.get("".join(str(value).split()).upper())
            if constant is not None:  # how LibreOffice saves a typed TRUE or FALSE
                cells[key] = constant
            else:
                formulas[key] = False
            continue
        # Every error value holds a `#`: the text of others is not stripped and upcased.
        maybe = data_type == "e" or (isinstance(value, str) and "#" in value)
        error = _error_value(value, data_type) if maybe else ""
        if error:
            errors[key] = error
            continue
        if isinstance(value, str) and not value.strip(" \t\r\n"):
            continue
        if isinstance(value, dt.timedelta):
            value = str(value)
        cells[key] = value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            fmt = styles.of(style) or "General"
            if fmt != "General":
                formats[key] = fmt
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


# The style of a stored cell: an openpyxl cell, or the style id of a `binding.FAST` one.
StoredCell = tuple[tuple[int, int], RawValue, str, Any]


def _stored_cells(ws: object) -> Iterator[StoredCell]:
    """(row and column, value, openpyxl's data type, its style for `binding.NumberFormats`)
    of every cell stored in WS, in openpyxl's order: its cells, or the rows of a
    plain sheet kept in `binding.FAST`. `_cells` holds only the cells stored in the file, so
    reading stays proportional to the real content even when the sheet claims a
    dimension of A1:XFD1048576."""
    stored = ws._cells  # type: ignore[attr-defined]
    _, rows = binding.FAST.get(id(ws), (None, []))
    if len(stored) + sum(len(cells) for _, cells in rows) > MAX_CELLS:
        raise ValueError(f"sheet {ws.title!r} has more than {MAX_CELLS:,} cells")  # type: ignore[attr-defined]
    for key, cell in stored.items():
        yield key, cell.value, cell.data_type, cell
    for _, cells in rows:
        for row, column, value, data_type, style_id in cells:
            yield (row, column), value, data_type, style_id


def _with_cached_values(sheet: RawSheet, cached_ws: object) -> RawSheet:
    cells = dict(sheet.cells)
    formulas = {}
    errors = dict(sheet.errors)
    for key in sheet.formulas:
        cell = cached_ws.cell(*key)  # type: ignore[attr-defined]
        error = excel_error(cell)
        if error:  # a failed VLOOKUP's #N/A is no value to compile
            errors[key] = error
            continue
        formulas[key] = cell.value is not None
        if cell.value is not None:
            cells[key] = cell.value
    return RawSheet(
        title=sheet.title,
        location=sheet.location,
        cells=types.MappingProxyType(cells),
        number_formats=sheet.number_formats,
        merged=sheet.merged,
        formulas=types.MappingProxyType(formulas),
        errors=types.MappingProxyType(errors),
        hidden=sheet.hidden,
    )
