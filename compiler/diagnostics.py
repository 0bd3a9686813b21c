"""Diagnostics are values: every stage returns them instead of raising.

An author fixing a workbook wants every problem in one run, each pointing at a cell,
so stages collect `Diagnostic` records and the pipeline sorts and reports them together.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass


class Severity(enum.IntEnum):
    """Ordered so that `max()` over diagnostics gives the worst one."""

    INFO = 0
    WARNING = 1
    ERROR = 2

    def __str__(self) -> str:
        return self.name.lower()


# Characters that a terminal, a report or an XML file must not get raw: C0 and C1
# controls (an escape sequence can erase a line and print another), DEL, line and
# paragraph separators, bidirectional overrides and isolates (text that reads
# reordered). Tab and newline stay where the text is free text (see `visible`).
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
    "\u202a-\u202e\u2066-\u2069]"
)
_INVISIBLE_ALL = re.compile(_INVISIBLE.pattern[:-1] + "\t\n]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, lines: bool = False) -> str:
    """TEXT with every control, separator and bidirectional character shown as an
    escape (`\\x1b`, `\\u202e`), as the generated Python shows them; with LINES,
    tabs and newlines are kept (free text of several lines)."""
    return (_INVISIBLE if lines else _INVISIBLE_ALL).sub(_escaped, text)


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """Where something came from: `tables/imaging.xlsx:CT contrast!C14`.

    `path` is the workbook path as the user sees it (the tables folder's name, then the
    path inside it), so diagnostics and generated code read the same on every machine.
    `cell` is an A1 reference or range (`C14`, `A13:F13`); empty for a whole sheet or file.
    """

    path: str
    sheet: str = ""
    cell: str = ""

    def __str__(self) -> str:
        if not self.sheet:
            return self.path
        if not self.cell:
            return f"{self.path}:{self.sheet}"
        return f"{self.path}:{self.sheet}!{self.cell}"

    def at(self, cell: str) -> Location:
        return Location(self.path, self.sheet, cell)

    @property
    def row(self) -> int:
        """The row of the cell (of a range's first cell); 0 for a sheet or file."""
        return _cell_order(self.cell)[0]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in the tables, in words a clinical author understands."""

    code: str
    severity: Severity
    message: str
    location: Location
    text: str = ""
    hint: str = ""

    def sort_key(self) -> tuple[str, str, tuple[int, int], str, str]:
        return (
            self.location.path,
            self.location.sheet,
            _cell_order(self.location.cell),
            self.code,
            self.message,
        )

    def format(self) -> str:
        """`path:Sheet!C7: error E101: message [cell text] (hint)` on one or more lines."""
        where, message = visible(str(self.location)), visible(self.message)
        line = f"{where}: {self.severity} {self.code}: {message}"
        if self.text:
            line += f"\n    cell: {self.text!r}"  # repr: escapes what is not printable
        if self.hint:
            line += f"\n    hint: {visible(self.hint)}"
        return line


def _cell_order(cell: str) -> tuple[int, int]:
    """Sort C7 before C10 and by row first, so messages read top to bottom."""
    ref = cell.split(":", 1)[0]
    letters = "".join(ch for ch in ref if ch.isalpha())
    digits = "".join(ch for ch in ref if ch.isdigit())
    column = 0
    for ch in letters.upper():
        column = column * 26 + (ord(ch) - 64)
    return (int(digits) if digits else 0, column)


def sort_diagnostics(
    diagnostics: list[Diagnostic] | tuple[Diagnostic, ...],
) -> tuple[Diagnostic, ...]:
    unique = dict.fromkeys(diagnostics)
    return tuple(sorted(unique, key=Diagnostic.sort_key))


def has_errors(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def on_sheets(
    diagnostics: tuple[Diagnostic, ...], sheets: Iterable[Location]
) -> tuple[Diagnostic, ...]:
    """The DIAGNOSTICS located on one of SHEETS (on any of their cells)."""
    wanted = {(s.path, s.sheet) for s in sheets}
    return tuple(
        d for d in diagnostics if (d.location.path, d.location.sheet) in wanted
    )


class CellError(ValueError):
    """Raised by the cell parsers; the caller turns it into a Diagnostic with a location."""

    def __init__(self, message: str, hint: str = "", code: str = "E201") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code
