"""What every sheet kind's reader shares: the diagnostics collector with its cell
text, and the checks and suggestions for names (also used by the tools that write
tables, so their names pass the same rules)."""

from __future__ import annotations

import datetime as dt
import difflib
import keyword
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from compiler.diagnostics import CellError, Diagnostic, Location, Severity
from compiler.model import DataType
from compiler.reading import cells
from compiler.reading.cells import RawValue
from compiler.reading.workbook import RawSheet, ref

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
# Table names: module names of the generated package (`tests`, `conftest`), names its
# modules use, and `index`, the page of the report (`index.html`) that lists the tables.
RESERVED_NAMES = frozenset(
    {"tests", "conftest", "evaluate", "as_of", "date", "result", "index"}
)
# Input columns are parameters of the generated `evaluate`, `explain` and version
# functions, whose bodies call Python's builtins (`type(age) is int`), the runtime's
# helpers and their own locals: an input named like any of them would shadow it.
# `tests/test_hardening.py` checks that those bodies use no other lowercase name.
GENERATED_NAMES = frozenset(
    {"as_of", "date", "today", "mask", "found", "hits", "result", "outputs"}
    | {"matched", "frame", "categorical", "bisect_left", "bisect_right"}
    | {"invalid", "unique", "any_", "priority", "collect", "output_order"}
    | {"aggregate", "bits", "by_value", "checked_mask", "hits_of", "ambiguous"}
    | {"evaluation_date"}
)
# The builtins generated functions call, and those codegen is likely to (not every
# builtin: `zip`, `id`, `input` or `format` name real columns, and no generated
# function that takes inputs calls them; the audit test fails the day one does).
BUILTIN_NAMES = frozenset(
    {"type", "int", "float", "str", "bool", "len", "isinstance", "tuple", "dict"}
    | {"list", "set", "frozenset", "sorted", "any", "all", "range", "object"}
    | {"getattr", "min", "max", "sum", "iter", "next", "enumerate", "print"}
)
# Version 2: a table with computed inputs or outputs, entries naming other inputs, list
# inputs or durations, times and datetimes has generated functions that call the
# shipped `_feel` module (imported as `feel`) and the datetime classes.
VERSION_2_NAMES = frozenset({"feel", "timedelta", "time", "datetime"})
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")

NamedLists = dict[str, tuple[RawValue, Location]]  # Values lists: name -> (cell, where)


def check_identifier(name: str) -> str:
    """Why NAME is not a usable identifier, or '' when it is."""
    if not IDENTIFIER.match(name):
        return "names are snake_case: lowercase letters, digits and _, starting with a letter"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"{name!r} is a Python keyword"
    return ""


# A table name names files (`<name>.py`, `tests/test_<name>_2.py`, their caches
# such as `test_<name>.cpython-312-pytest-8.4.1.pyc`, report pages): 100 characters
# keep every one of them within the 255 bytes a file system allows a file name.
MAX_TABLE_NAME = 100


def table_name_problem(name: str) -> str:
    """Why NAME cannot name a table, or '' when it can."""
    problem = check_identifier(name)
    if problem:
        return problem
    if name in RESERVED_NAMES:
        return f"{name!r} is reserved for the generated package"
    if len(name) > MAX_TABLE_NAME:
        return (
            f"the name has {len(name)} characters; a table name names files, so it "
            f"has at most {MAX_TABLE_NAME}"
        )
    return ""


def input_name_problem(name: str) -> str:
    """Why NAME cannot name an input column, or '' when it can."""
    if name == "as_of":
        return "as_of is reserved for the evaluation date"
    if name in BUILTIN_NAMES:
        what = "a Python builtin the generated code calls"
    elif name in GENERATED_NAMES:
        what = "a name the generated code uses"
    else:
        return ""
    return f"{name!r} is {what}, which an input would hide; call it e.g. {name}_value"


def suggest(text: str, choices: Iterable[str]) -> str:
    """`did you mean 'MRI'?` when something close exists."""
    options = [str(c) for c in choices]
    close = difflib.get_close_matches(text, options, n=1, cutoff=0.6)
    if not close:
        lowered = {o.lower(): o for o in options}
        if text.lower() in lowered:
            close = [lowered[text.lower()]]
    return f"did you mean {close[0]!r}?" if close else ""


def find_row(sheet: RawSheet, label: str, start: int) -> int | None:
    """The first row from START whose column A reads LABEL (a header row)."""
    for row in sorted({r for (r, c) in sheet.cells if c == 1 and r >= start}):
        raw = sheet.value(row, 1)
        if isinstance(raw, str) and cells.clean_text(raw)[0].lower() == label:
            return row
    return None


@dataclass
class Reader:
    """Collects diagnostics while sheets are read; one per compile."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    unreadable: set[Location] = field(default_factory=set)  # cells of E121 and E122

    def report(
        self,
        code: str,
        severity: Severity,
        message: str,
        location: Location,
        text: RawValue = None,
        hint: str = "",
    ) -> None:
        shown = "" if text is None else str(text)
        self.diagnostics.append(
            Diagnostic(code, severity, message, location, shown, hint)
        )

    def error(
        self,
        code: str,
        message: str,
        location: Location,
        text: RawValue = None,
        hint: str = "",
    ) -> None:
        self.report(code, Severity.ERROR, message, location, text, hint)

    def warn(
        self,
        code: str,
        message: str,
        location: Location,
        text: RawValue = None,
        hint: str = "",
    ) -> None:
        self.report(code, Severity.WARNING, message, location, text, hint)

    def cell_error(self, exc: CellError, location: Location, text: RawValue) -> None:
        if location in self.unreadable:
            return  # already reported as a formula without value or an Excel error
        self.error(exc.code, exc.message, location, text, exc.hint)

    def error_count(self) -> int:
        return sum(d.severity is Severity.ERROR for d in self.diagnostics)

    def text(self, sheet: RawSheet, row: int, column: int) -> str:
        """A cell as clean text (for labels, names and free text)."""
        raw = sheet.value(row, column)
        if raw is None:
            return ""
        if isinstance(raw, str):
            cleaned, changed = cells.clean_text(raw)
            if changed:
                self.report(
                    "I130",
                    Severity.INFO,
                    "typographic quotes or special spaces were normalised",
                    sheet.location.at(ref(row, column)),
                    raw,
                )
            return cleaned
        if isinstance(raw, bool):
            return "true" if raw else "false"
        if isinstance(raw, float) and raw.is_integer():
            return str(int(raw))
        if isinstance(raw, dt.datetime):
            return (
                raw.date().isoformat() if raw.time() == dt.time(0) else raw.isoformat()
            )
        return str(raw)

    def code_raw(
        self, sheet: RawSheet, row: int, col: int, type_: DataType
    ) -> RawValue:
        """A cell's value; numeric cells in code columns become their digits (warned
        when the number format shows leading zeros the number lacks)."""
        raw = sheet.value(row, col)
        if type_ in (DataType.INTEGER, DataType.NUMBER) and isinstance(raw, str):
            self._number_as_text(sheet, row, col, raw)
        if (
            type_ is DataType.CODE
            and isinstance(raw, (int, float))
            and not isinstance(raw, bool)
        ):
            text, padded = cells.code_text(
                raw, sheet.number_formats.get((row, col), "")
            )
            if padded:
                self.warn(
                    "W131",
                    f"code typed as the number {raw!r}; its leading zeros exist only in the "
                    f"cell's number format, so it is read as {text!r}",
                    sheet.location.at(ref(row, col)),
                    raw,
                    "type codes as text (format the column as Text first)",
                )
            return text
        return raw

    def _number_as_text(self, sheet: RawSheet, row: int, col: int, raw: str) -> None:
        """A plain number typed as text (Excel's green triangle) is read as the number;
        say so, since sorting and formulas in the sheet treat it as text."""
        text = cells.clean_text(raw)[0]
        if _PLAIN_NUMBER.match(text):
            self.report(
                "I132",
                Severity.INFO,
                f"the number {text} is stored as text; it is read as a number",
                sheet.location.at(ref(row, col)),
                raw,
                "type it as a number (or use Excel's 'Convert to Number')",
            )
