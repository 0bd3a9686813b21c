"""`compile-rules new`: a new decision table sheet that compiles as it is.

An author starts from a sheet laid out as docs/workbook-format.md says, instead of
copying an old table and forgetting to clear it: metadata rows, the Rule/Kind/Type/
Values/Default rows styled and frozen, dropdowns for Kind, Type and Hit policy and
for every column with listed Values, one example rule (`-` in every input) and an
empty Tests sheet. The sheets go into a new workbook or are added to an existing one;
an existing sheet is never replaced.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from compiler.diagnostics import CellError, Diagnostic
from compiler.model import DataType, Equals, UnaryTests, Value
from compiler.pipeline import load_tables
from compiler.reading import cells
from compiler.reading.cell_text import value_text
from compiler.reading.sheets import (
    check_identifier,
    input_name_problem,
    suggest,
    table_name_problem,
)

HIT_POLICIES = (
    "UNIQUE",
    "FIRST",
    "PRIORITY",
    "ANY",
    "COLLECT",
    "COLLECT SUM",
    "COLLECT MIN",
    "COLLECT MAX",
    "COLLECT COUNT",
    "RULE ORDER",
    "OUTPUT ORDER",
)
_LETTERS = {"U", "F", "P", "A", "C", "C+", "C<", "C>", "C#", "R", "O"}
DROPDOWN_ROWS = 200  # rule and test rows that get the dropdowns
_META_FILL = PatternFill("solid", start_color="F2F2F2")
_HEADER_FILL = PatternFill("solid", start_color="DDEBF7")
_EXAMPLES: dict[DataType, Value] = {
    DataType.STRING: "example",
    DataType.CODE: "example",
    DataType.INTEGER: 0,
    DataType.NUMBER: 0,
    DataType.BOOLEAN: False,
}


def font(**changes: Any) -> Font:
    """The default font (Calibri 11, the theme's body font in Excel) with CHANGES.

    A font without a name shows in a serif fallback in LibreOffice, so styled cells
    always name one."""
    return Font(
        **{"name": "Calibri", "size": 11, "family": 2, "scheme": "minor", **changes}
    )


def row_height(texts: list[tuple[str, float]], line: float = 15.0) -> float | None:
    """The height for a row whose wrapped cells hold TEXTS (text, column width), or
    None for one line. Neither Excel nor LibreOffice fits a row to wrapped text when
    the file is opened, so the height is written."""
    lines = 1
    for text, width in texts:
        per_line = max(1, int(width * 1.2))  # characters of body text per line
        lines = max(
            lines, sum(-(-len(part) // per_line) or 1 for part in text.split("\n"))
        )
    return line * lines if lines > 1 else None


class TemplateError(ValueError):
    """A bad argument (name, type, Values) or a sheet that already exists."""


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    name: str
    type: DataType
    values_text: str = ""  # the Values cell as typed, '' for none
    values: UnaryTests | None = None


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    sheet: str
    tests_sheet: str
    created: bool  # a new workbook, rather than sheets added to an existing one


def parse_column(text: str) -> ColumnSpec:
    """`age:integer`, `modality:string=CT, MRI`, `age:integer=[0..130]`."""
    head, _, values_text = text.partition("=")
    name, sep, type_text = head.partition(":")
    name, type_text = name.strip(), type_text.strip().lower()
    problem = check_identifier(name) if name else "the column has no name"
    if problem:
        raise TemplateError(f"{text!r}: {problem}")
    types = [t.value for t in DataType]
    if not sep or type_text not in types:
        hint = suggest(type_text, types) if type_text else ""
        raise TemplateError(
            f"{text!r}: write NAME:TYPE with TYPE one of {', '.join(types)}"
            + (f"; {hint}" if hint else "")
        )
    type_ = DataType(type_text)
    values_text = values_text.strip()
    values = None
    if values_text:
        try:
            values = cells.parse_values(values_text, type_)
        except CellError as exc:
            raise TemplateError(f"{text!r}: Values: {exc.message}") from None
    return ColumnSpec(name, type_, values_text, values)


def check_hit_policy(text: str) -> str:
    key = " ".join(text.upper().split())
    if key not in HIT_POLICIES and key not in _LETTERS:
        raise TemplateError(
            f"unknown hit policy {text!r}; use one of {', '.join(HIT_POLICIES)}"
        )
    return key


def _check_policy_outputs(policy: str, outputs: list[ColumnSpec]) -> None:
    """What validation would reject for this policy, said before anything is written."""
    full = {"P": "PRIORITY", "O": "OUTPUT ORDER", "C+": "COLLECT SUM"}.get(
        policy, policy
    )
    full = {"C<": "COLLECT MIN", "C>": "COLLECT MAX"}.get(full, full)
    if full in ("PRIORITY", "OUTPUT ORDER") and not any(_listed(c) for c in outputs):
        raise TemplateError(
            f"{full} ranks rules by their outputs' Values: give an output listed "
            'Values, highest priority first (e.g. --output level:string="high, low")'
        )
    allowed = {
        "COLLECT SUM": (DataType.INTEGER, DataType.NUMBER),
        "COLLECT MIN": tuple(t for t in DataType if t is not DataType.BOOLEAN),
        "COLLECT MAX": tuple(t for t in DataType if t is not DataType.BOOLEAN),
    }.get(full)
    if allowed is not None:
        wrong = [c.name for c in outputs if c.type not in allowed]
        if wrong:
            kinds = " or ".join(t.value for t in allowed)
            raise TemplateError(f"{full} needs {kinds} outputs; not {', '.join(wrong)}")


def _sheet_title(text: str) -> str:
    """Excel allows 31 characters and no []:*?/\\ in a sheet name."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in text)
    return cleaned[:31].strip()


def _listed(spec: ColumnSpec) -> list[Value] | None:
    """The Values one by one, or None when there are none or they hold ranges."""
    if spec.values is None:
        return None
    tests = spec.values.tests
    if not all(isinstance(t, Equals) for t in tests):
        return None
    return [t.value for t in tests if isinstance(t, Equals)]


def _example(spec: ColumnSpec) -> str | int | float | bool:
    listed = _listed(spec)
    value: Value = listed[0] if listed else _EXAMPLES.get(spec.type, "2025-01-01")
    if isinstance(value, bool):  # as the dropdown offers it (LibreOffice shows a
        return "true" if value else "false"  # boolean cell as 1 or 0)
    if isinstance(value, (int, float)):
        return value
    return value_text(value, quote=False)


def _dropdown_items(spec: ColumnSpec, *, output: bool) -> list[str]:
    if spec.type is DataType.BOOLEAN:
        return ["true", "false", "null" if output else "-"]
    listed = _listed(spec)
    if not listed:
        return []
    return [*(value_text(v, quote=False) for v in listed), "null" if output else "-"]


class _Lists:
    """Dropdown lists too long (or with commas) for an inline list go to a hidden note
    sheet, created on first use."""

    def __init__(self, book: Workbook, table: str) -> None:
        self.book = book
        self.title = _unique_title(book, _sheet_title(f"{table} lists"))
        self.sheet: Worksheet | None = None

    def validation(self, items: list[str]) -> DataValidation:
        inline = ",".join(items)
        if len(inline) <= 250 and not any(("," in i or '"' in i) for i in items):
            return DataValidation(type="list", formula1=f'"{inline}"')
        if self.sheet is None:
            self.sheet = self.book.create_sheet(self.title)
            self.sheet["A1"] = "Dropdown lists (a note sheet: it is not compiled)"
            self.sheet.sheet_state = "hidden"
        column = self.sheet.max_column + (1 if self.sheet.max_row > 1 else 0)
        for row, item in enumerate(items, start=2):
            self.sheet.cell(row=row, column=column, value=item)
        letter = get_column_letter(column)
        ref = f"{quote_sheetname(self.title)}!${letter}$2:${letter}${len(items) + 1}"
        return DataValidation(type="list", formula1=ref)


def _unique_title(book: Workbook, title: str) -> str:
    candidate, number = title, 2
    while candidate in book.sheetnames:
        suffix = f" ({number})"
        candidate = title[: 31 - len(suffix)] + suffix
        number += 1
    return candidate


def _dropdown(ws: Worksheet, dv: DataValidation, ref: str, prompt: str = "") -> None:
    dv.allow_blank = True
    dv.showErrorMessage = False  # free text stays possible: lists, not(...), ranges
    if prompt:
        dv.showInputMessage = True
        dv.prompt = prompt
    dv.add(ref)
    ws.add_data_validation(dv)


def new_table(
    name: str,
    inputs: list[ColumnSpec],
    outputs: list[ColumnSpec],
    into: Path,
    *,
    hit_policy: str = "UNIQUE",
) -> Written:
    """Add the table NAME and its Tests sheet to the workbook INTO (created if absent)."""
    problem = table_name_problem(name)
    if problem:
        raise TemplateError(f"invalid table name {name!r}: {problem}")
    for column in inputs:
        problem = input_name_problem(column.name)
        if problem:
            raise TemplateError(f"invalid input name {column.name!r}: {problem}")
    if not inputs or not outputs:
        missing = "--input" if not inputs else "--output"
        raise TemplateError(f"a table needs at least one {missing} NAME:TYPE")
    names = [c.name for c in inputs + outputs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise TemplateError(f"column names must differ: {', '.join(repeated)}")
    policy = check_hit_policy(hit_policy)
    _check_policy_outputs(policy, outputs)
    created = not into.exists()
    if created:
        book = Workbook()
        for sheet in book.worksheets:  # the default empty sheet
            book.remove(sheet)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = load_workbook(into)
    title = _sheet_title(name)
    tests_title = _sheet_title(f"{name} tests")
    for wanted in (title, tests_title):
        if wanted in book.sheetnames:
            raise TemplateError(
                f"{into} already has a sheet named {wanted!r}; nothing was written"
            )
    lists = _Lists(book, name)
    _table_sheet(book.create_sheet(title), name, inputs, outputs, policy, lists)
    _tests_sheet(book.create_sheet(tests_title), name, inputs, outputs, lists)
    if lists.sheet is not None:  # keep the hidden lists sheet last
        book.move_sheet(lists.sheet, offset=len(book.sheetnames))
    save_atomic(book, into)
    return Written(into, title, tests_title, created)


def check_target(name: str, into: Path, tables: Path) -> None:
    """What `new` checks before it writes the table NAME into the workbook INTO: an
    .xlsx file, not open in a spreadsheet application (whose save would undo ours),
    and no table NAME among the workbooks under TABLES yet."""
    if into.suffix.lower() != ".xlsx":
        raise TemplateError(f"--into {into}: the workbook must be an .xlsx file")
    for lock in (f"~${into.name}", f".~lock.{into.name}#"):
        if (into.parent / lock).exists():
            raise TemplateError(
                f"{into} is open in a spreadsheet application ({lock} exists); "
                "close it first"
            )
    if tables.is_dir():
        project, _ = load_tables(tables)
        if project is not None and name in [d.name for d in project.decisions]:
            where = project.decision(name).first.location
            raise TemplateError(f"a table named {name!r} already exists at {where}")


def written_problems(path: Path) -> tuple[Diagnostic, ...]:
    """What reading the workbook PATH alone reports, once the sheets are added: the
    promise is a table that compiles as it is. The hidden lists sheet's note (I001)
    is left out."""
    with tempfile.TemporaryDirectory(prefix="compile-rules-new-") as tmp:
        folder = Path(tmp) / "tables"
        folder.mkdir()
        shutil.copy2(path, folder / path.name)
        _, diagnostics = load_tables(folder)
    return tuple(d for d in diagnostics if d.code != "I001")


def _style_row(ws: Worksheet, row: int, last: int, fill: PatternFill) -> None:
    for col in range(1, last + 1):
        cell = ws.cell(row=row, column=col)
        cell.font = font(bold=True)
        cell.fill = fill


def _table_sheet(
    ws: Worksheet,
    name: str,
    inputs: list[ColumnSpec],
    outputs: list[ColumnSpec],
    policy: str,
    lists: _Lists,
) -> None:
    columns = [*inputs, *outputs]
    last = len(columns) + 2  # Rule, the columns, Note
    meta = [
        ("Decision table", name),
        ("Hit policy", policy),
        ("Title", None),
        ("Source", None),
    ]
    for row, (label, value) in enumerate(meta, start=1):
        ws.cell(row=row, column=1, value=label)
        ws.cell(row=row, column=2, value=value)
        _style_row(ws, row, 1, _META_FILL)
    header = 6
    rows = ["Rule", "Kind", "Type", "Values", "Default"]
    for offset, label in enumerate(rows):
        ws.cell(row=header + offset, column=1, value=label)
    for col, spec in enumerate(columns, start=2):
        is_output = col - 2 >= len(inputs)
        ws.cell(row=header, column=col, value=spec.name)
        ws.cell(row=header + 1, column=col, value="output" if is_output else "input")
        ws.cell(row=header + 2, column=col, value=spec.type.value)
        if spec.values_text:
            ws.cell(row=header + 3, column=col, value=spec.values_text)
    ws.cell(row=header, column=last, value="Note")
    ws.cell(row=header + 1, column=last, value="annotation")
    for offset in range(len(rows)):
        _style_row(ws, header + offset, last, _HEADER_FILL)
    first_rule = header + len(rows)
    ws.cell(row=first_rule, column=1, value="R1")
    for col, spec in enumerate(columns, start=2):
        is_output = col - 2 >= len(inputs)
        ws.cell(row=first_rule, column=col, value=_example(spec) if is_output else "-")
    note = (
        "Example rule: replace it with your first rule. Rule ids stay stable: "
        "add new rules with new ids, never renumber."
    )
    ws.cell(row=first_rule, column=last, value=note)
    ws.freeze_panes = f"B{first_rule}"
    ws.column_dimensions["A"].width = 16
    for col, spec in enumerate(columns, start=2):
        width = max(14, len(spec.name) + 4, min(len(spec.values_text) + 2, 40))
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.column_dimensions[get_column_letter(last)].width = 60
    ws.cell(row=first_rule, column=last).alignment = Alignment(wrap_text=True)
    ws.row_dimensions[first_rule].height = row_height([(note, 60)])
    _dropdown(
        ws,
        DataValidation(type="list", formula1=f'"{",".join(HIT_POLICIES)}"'),
        "B2",
        "Hit policy: which rule decides when several match",
    )
    kind_end = get_column_letter(last + 5)
    _dropdown(
        ws,
        DataValidation(
            type="list", formula1='"input,required input,output,annotation"'
        ),
        f"B{header + 1}:{kind_end}{header + 1}",
        "input, required input (must be given), output, annotation, or type: "
        "from <table>",
    )
    types = ",".join(t.value for t in DataType)
    _dropdown(
        ws,
        DataValidation(type="list", formula1=f'"{types}"'),
        f"B{header + 2}:{kind_end}{header + 2}",
        "The column's type (or the name of a list on a Values sheet)",
    )
    end = first_rule + DROPDOWN_ROWS - 1
    for col, spec in enumerate(columns, start=2):
        is_output = col - 2 >= len(inputs)
        items = _dropdown_items(spec, output=is_output)
        if items:
            letter = get_column_letter(col)
            _dropdown(
                ws,
                lists.validation(items),
                f"{letter}{first_rule}:{letter}{end}",
                "Pick a value, or type a unary test (-, a list, not(...))"
                if not is_output
                else "Pick a value",
            )


def _tests_sheet(
    ws: Worksheet,
    name: str,
    inputs: list[ColumnSpec],
    outputs: list[ColumnSpec],
    lists: _Lists,
) -> None:
    ws.cell(row=1, column=1, value="Tests")
    ws.cell(row=1, column=2, value=name)
    _style_row(ws, 1, 1, _META_FILL)
    header = [
        *(c.name for c in inputs),
        *(c.name for c in outputs),
        "expected rule",
        "Note",
    ]
    kinds = ["input"] * len(inputs) + ["expected"] * len(outputs)
    kinds += ["expected rule", "annotation"]
    ws.cell(row=3, column=1, value="Case")
    ws.cell(row=4, column=1, value="Kind")
    for col, (title, kind) in enumerate(zip(header, kinds, strict=True), start=2):
        ws.cell(row=3, column=col, value=title)
        ws.cell(row=4, column=col, value=kind)
        width = 60 if kind == "annotation" else max(14, len(title) + 4)
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.column_dimensions["A"].width = 12
    for row in (3, 4):
        _style_row(ws, row, len(header) + 1, _HEADER_FILL)
    ws.freeze_panes = "B5"
    for col, spec in enumerate([*inputs, *outputs], start=2):
        items = _dropdown_items(spec, output=True)
        if items:
            letter = get_column_letter(col)
            _dropdown(
                ws,
                lists.validation(items),
                f"{letter}5:{letter}{4 + DROPDOWN_ROWS}",
            )


def save_atomic(book: Workbook, target: Path) -> None:
    """Save so that the workbook on disk is the old one or the new one, never half."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.stem}.", suffix=".xlsx.tmp"
    )
    os.close(fd)
    try:
        book.save(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
