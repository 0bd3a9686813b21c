"""Stage 2: raw sheets to the model (tables, Values lists, Tests sheets).

Each sheet is classified by its A1 cell, then read row by row as the format page lays
it out. Every cell is parsed exactly once, here, by `cells`, with its column's type;
problems become diagnostics that name the cell, and reading goes on so the author sees
them all.
"""

from __future__ import annotations

import datetime as dt
import difflib
import keyword
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from compiler.diagnostics import CellError, Diagnostic, Location, Severity
from compiler.model import (
    Aggregation,
    Column,
    ColumnKind,
    DataType,
    Decision,
    HitPolicy,
    Project,
    Rule,
    Table,
    TestCase,
    TestSuite,
    UnaryTests,
    Value,
)
from compiler.reading import cells
from compiler.reading.cells import RawValue
from compiler.reading.workbook import RawSheet, RawWorkbook, ref

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
RESERVED_NAMES = frozenset({"tests", "conftest", "evaluate", "as_of", "date", "result"})

_HIT_POLICIES: dict[str, tuple[HitPolicy, Aggregation | None]] = {
    "UNIQUE": (HitPolicy.UNIQUE, None),
    "U": (HitPolicy.UNIQUE, None),
    "FIRST": (HitPolicy.FIRST, None),
    "F": (HitPolicy.FIRST, None),
    "PRIORITY": (HitPolicy.PRIORITY, None),
    "P": (HitPolicy.PRIORITY, None),
    "ANY": (HitPolicy.ANY, None),
    "A": (HitPolicy.ANY, None),
    "COLLECT": (HitPolicy.COLLECT, None),
    "C": (HitPolicy.COLLECT, None),
    "COLLECT SUM": (HitPolicy.COLLECT, Aggregation.SUM),
    "C+": (HitPolicy.COLLECT, Aggregation.SUM),
    "COLLECT MIN": (HitPolicy.COLLECT, Aggregation.MIN),
    "C<": (HitPolicy.COLLECT, Aggregation.MIN),
    "COLLECT MAX": (HitPolicy.COLLECT, Aggregation.MAX),
    "C>": (HitPolicy.COLLECT, Aggregation.MAX),
    "COLLECT COUNT": (HitPolicy.COLLECT, Aggregation.COUNT),
    "C#": (HitPolicy.COLLECT, Aggregation.COUNT),
    "RULE ORDER": (HitPolicy.RULE_ORDER, None),
    "R": (HitPolicy.RULE_ORDER, None),
    "OUTPUT ORDER": (HitPolicy.OUTPUT_ORDER, None),
    "O": (HitPolicy.OUTPUT_ORDER, None),
}
_METADATA = (
    "hit policy",
    "title",
    "source",
    "effective from",
    "effective to",
    "complete",
)
_COLUMN_ROWS = ("kind", "type", "values", "default")
# Rules per table (version): evaluators and the analysis hold one bit per rule for
# every slot of a column, so a lookup table of N rules costs N^2 bits; at this limit
# compiling takes ~10 s and ~0.6 GB (docs/workbook-format.md, Limits).
MAX_RULES = 32_768
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,19}$")
_TYPES = {t.value: t for t in DataType}


def check_identifier(name: str) -> str:
    """Why NAME is not a usable identifier, or '' when it is."""
    if not IDENTIFIER.match(name):
        return "names are snake_case: lowercase letters, digits and _, starting with a letter"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"{name!r} is a Python keyword"
    return ""


def suggest(text: str, choices: Iterable[str]) -> str:
    """`did you mean 'MRI'?` when something close exists."""
    options = [str(c) for c in choices]
    close = difflib.get_close_matches(text, options, n=1, cutoff=0.6)
    if not close:
        lowered = {o.lower(): o for o in options}
        if text.lower() in lowered:
            close = [lowered[text.lower()]]
    return f"did you mean {close[0]!r}?" if close else ""


@dataclass
class _Metadata:
    """The metadata rows of a decision table sheet, as read so far."""

    hit_policy: HitPolicy = HitPolicy.UNIQUE
    aggregation: Aggregation | None = None
    title: str = ""
    source: str = ""
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    complete: bool = True
    cells: dict[str, str] = field(default_factory=dict)  # label -> value cell


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

    # -- sheets -----------------------------------------------------------------

    def sheet_kinds(self, book: RawWorkbook) -> dict[str, list[RawSheet]]:
        kinds: dict[str, list[RawSheet]] = {
            "decision table": [],
            "tests": [],
            "values": [],
        }
        for sheet in book.sheets:
            a1 = sheet.value(1, 1)
            kind = cells.clean_text(a1)[0].lower() if isinstance(a1, str) else ""
            if kind in kinds:
                kinds[kind].append(sheet)
                self._check_sheet_hygiene(sheet)
            else:
                self.report(
                    "I001",
                    Severity.INFO,
                    "note sheet: A1 is not 'Decision table', 'Tests' or 'Values', so it is not compiled",
                    sheet.location,
                )
        return kinds

    def _check_sheet_hygiene(self, sheet: RawSheet) -> None:
        for merged in sheet.merged:
            self.error(
                "E120",
                "merged cells in a table: each cell must hold its own value",
                sheet.location.at(merged),
                hint="unmerge the cells and fill each one",
            )
        for (row, column), cached in sorted(sheet.formulas.items()):
            at = sheet.location.at(ref(row, column))
            if cached:
                self.warn("W121", "formula cell: its last calculated value is used", at)
            else:
                self.unreadable.add(at)
                self.error(
                    "E121",
                    "formula cell without a calculated value",
                    at,
                    hint="open and save the workbook in Excel or LibreOffice, or type the value",
                )
        for (row, column), text in sorted(sheet.errors.items()):
            at = sheet.location.at(ref(row, column))
            self.unreadable.add(at)
            self.error("E122", f"the cell shows the spreadsheet error {text}", at, text)

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

    # -- Values sheets ------------------------------------------------------------

    def named_lists(
        self, sheets: list[RawSheet]
    ) -> dict[str, tuple[RawValue, Location]]:
        lists: dict[str, tuple[RawValue, Location]] = {}
        for sheet in sheets:
            header = _find_row(sheet, "name", start=2)
            if header is None:
                self.error(
                    "E140",
                    "Values sheet without a header row starting with 'Name'",
                    sheet.location.at("A2"),
                )
                continue
            for row in range(header + 1, sheet.max_row + 1):
                name = self.text(sheet, row, 1)
                if not name:
                    continue
                at = sheet.location.at(ref(row, 2))
                if name in lists:
                    self.error(
                        "E141",
                        f"the list {name!r} is defined twice",
                        sheet.location.at(ref(row, 1)),
                    )
                    continue
                lists[name] = (sheet.value(row, 2), at)
        return lists

    # -- decision tables ----------------------------------------------------------

    def table(
        self, sheet: RawSheet, lists: dict[str, tuple[RawValue, Location]]
    ) -> Table | None:
        loc = sheet.location
        name = self.text(sheet, 1, 2)
        if not name:
            self.error(
                "E101",
                "the table has no name",
                loc.at("B1"),
                hint="write a snake_case name in B1",
            )
            return None
        problem = check_identifier(name) or (
            f"{name!r} is reserved for the generated package"
            if name in RESERVED_NAMES
            else ""
        )
        if problem:
            self.error(
                "E101", f"invalid table name {name!r}", loc.at("B1"), name, problem
            )
            return None
        header = _find_row(sheet, "rule", start=2)
        if header is None:
            self.error(
                "E103", "no header row: no row has 'Rule' in column A", loc.at("A2")
            )
            return None
        meta = self._metadata(sheet, header)
        column_rows = self._column_rows(sheet, header)
        if "kind" not in column_rows or "type" not in column_rows:
            missing = [
                label.title() for label in ("kind", "type") if label not in column_rows
            ]
            self.error(
                "E104",
                f"missing {' and '.join(missing)} row below the header",
                loc.at(ref(header + 1, 1)),
                hint="the rows Kind and Type (and optionally Values, Default) follow the Rule row",
            )
            return None
        columns = self._columns(sheet, header, column_rows, lists)
        if columns is None:
            return None
        inputs = tuple(c for c, _ in columns if c.kind is ColumnKind.INPUT)
        outputs = tuple(c for c, _ in columns if c.kind is ColumnKind.OUTPUT)
        notes = tuple(c for c, _ in columns if c.kind is ColumnKind.ANNOTATION)
        if not outputs:
            self.error("E106", "the table has no output column", loc.at(ref(header, 1)))
            return None
        first_rule = max(column_rows.values()) + 1
        rules = self._rules(sheet, first_rule, columns)
        if len(rules) > MAX_RULES:
            self.error(
                "E160",
                f"the table has {len(rules):,} rules; a table may have at most "
                f"{MAX_RULES:,}",
                loc.at(rules[MAX_RULES].location.cell.split(":")[0]),
                hint="split it into several tables (for example by code range or "
                "modality), chained with 'from' inputs where one decides for another",
            )
            return None
        return Table(
            name=name,
            hit_policy=meta.hit_policy,
            aggregation=meta.aggregation,
            inputs=inputs,
            outputs=outputs,
            annotations=notes,
            rules=rules,
            location=loc,
            title=meta.title,
            source=meta.source,
            effective_from=meta.effective_from,
            effective_to=meta.effective_to,
            complete=meta.complete,
            metadata_cells=tuple(meta.cells.items()),
        )

    def _metadata(self, sheet: RawSheet, header: int) -> _Metadata:
        meta = _Metadata()
        seen: set[str] = set()
        for row in range(2, header):
            label = self.text(sheet, row, 1).lower().rstrip(":")
            if not label:
                continue
            at = sheet.location.at(ref(row, 2))
            raw = sheet.value(row, 2)
            text = self.text(sheet, row, 2)
            if label not in _METADATA:
                self.warn(
                    "W102",
                    f"unknown metadata row {label!r} is ignored",
                    sheet.location.at(ref(row, 1)),
                    hint=suggest(label, _METADATA)
                    or f"known rows: {', '.join(_METADATA)}",
                )
                continue
            if label in seen:
                self.error(
                    "E102",
                    f"the metadata row {label!r} appears twice",
                    sheet.location.at(ref(row, 1)),
                )
                continue
            seen.add(label)
            meta.cells[label] = ref(row, 2)
            if label == "hit policy":
                key = re.sub(r"\s+", " ", text.upper())
                if key not in _HIT_POLICIES:
                    self.error(
                        "E105",
                        f"unknown hit policy {text!r}",
                        at,
                        raw,
                        suggest(key, [k for k in _HIT_POLICIES if len(k) > 2])
                        or "use UNIQUE, FIRST, PRIORITY, ANY, COLLECT (SUM, MIN, MAX, "
                        "COUNT), RULE ORDER or OUTPUT ORDER",
                    )
                    continue
                meta.hit_policy, meta.aggregation = _HIT_POLICIES[key]
            elif label.startswith("effective"):
                if raw is None:
                    continue
                try:
                    value = cells.parse_literal(raw, DataType.DATE, allow_null=False)
                except CellError as exc:
                    self.cell_error(exc, at, raw)
                    continue
                assert isinstance(value, dt.date)
                if label == "effective from":
                    meta.effective_from = value
                else:
                    meta.effective_to = value
            elif label == "complete":
                if text.lower() not in ("yes", "true", "no", "false"):
                    self.error(
                        "E107", f"Complete must be yes or no, not {text!r}", at, raw
                    )
                    continue
                meta.complete = text.lower() in ("yes", "true")
            elif label == "title":
                meta.title = text
            else:
                meta.source = text
        start, end = meta.effective_from, meta.effective_to
        if start and end and end < start:
            self.error(
                "E108",
                f"Effective to ({end}) is before Effective from ({start})",
                sheet.location.at(meta.cells["effective to"]),
            )
        return meta

    def _column_rows(self, sheet: RawSheet, header: int) -> dict[str, int]:
        rows: dict[str, int] = {}
        row = header + 1
        while True:
            label = self.text(sheet, row, 1).lower()
            if label not in _COLUMN_ROWS:
                break
            if label in rows:
                self.error(
                    "E109",
                    f"the row {label.title()!r} appears twice",
                    sheet.location.at(ref(row, 1)),
                )
            rows.setdefault(label, row)
            row += 1
        return rows

    def _columns(
        self,
        sheet: RawSheet,
        header: int,
        rows: dict[str, int],
        lists: dict[str, tuple[RawValue, Location]],
    ) -> list[tuple[Column, int]] | None:
        """The table's columns with their sheet column numbers; None when unusable."""
        loc = sheet.location
        last = max((c for (r, c) in sheet.cells if r == header), default=1)
        columns: list[tuple[Column, int]] = []
        names: set[str] = set()
        ok = True
        for col in range(2, last + 1):
            name = self.text(sheet, header, col)
            at = loc.at(ref(header, col))
            kind_text = self.text(sheet, rows["kind"], col)
            if not name:
                if kind_text or any(
                    sheet.value(r, col) is not None for r in rows.values()
                ):
                    self.error("E110", "a column has no name in the header row", at)
                    ok = False
                continue
            problem = check_identifier(name) or (
                "as_of is reserved for the evaluation date" if name == "as_of" else ""
            )
            if problem and kind_text.lower() != "annotation":
                self.error("E111", f"invalid column name {name!r}", at, name, problem)
                ok = False
                continue
            if name in names:
                self.error("E112", f"the column {name!r} appears twice", at, name)
                ok = False
                continue
            names.add(name)
            column = self._column(sheet, col, name, rows, lists, kind_text)
            if column is None:
                ok = False
            else:
                columns.append((column, col))
        return columns if ok else None

    def _column(
        self,
        sheet: RawSheet,
        col: int,
        name: str,
        rows: dict[str, int],
        lists: dict[str, tuple[RawValue, Location]],
        kind_text: str,
    ) -> Column | None:
        loc = sheet.location
        kind_at = loc.at(ref(rows["kind"], col))
        kind_lower = kind_text.lower()
        source_table = None
        if kind_lower.startswith("from "):
            kind = ColumnKind.INPUT
            source_table = kind_text[5:].strip()
            problem = check_identifier(source_table)
            if problem:
                self.error(
                    "E113",
                    f"'from' names an invalid table {source_table!r}",
                    kind_at,
                    kind_text,
                    problem,
                )
                return None
        elif kind_lower in ("input", "output", "annotation"):
            kind = ColumnKind(kind_lower)
        else:
            self.error(
                "E113",
                f"unknown column kind {kind_text!r}"
                if kind_text
                else "the column has no kind",
                kind_at,
                kind_text or None,
                suggest(kind_lower, ("input", "output", "annotation"))
                or "use input, output, annotation or from <table>",
            )
            return None
        header_at = loc.at(ref(_header_row(rows), col))
        if kind is ColumnKind.ANNOTATION:
            return Column(name, kind, DataType.STRING, header_at)
        type_at = loc.at(ref(rows["type"], col))
        type_text = self.text(sheet, rows["type"], col)
        values: UnaryTests | None = None
        named = lists.get(type_text)
        if type_text.lower() in _TYPES:
            type_ = _TYPES[type_text.lower()]
        elif named is not None:
            type_, values = self._infer_list(type_text, named)
            if values is None:
                return None
        else:
            self.error(
                "E114",
                f"unknown type {type_text!r}"
                if type_text
                else "the column has no type",
                type_at,
                type_text or None,
                suggest(type_text.lower(), [*_TYPES, *lists])
                or f"use one of {', '.join(_TYPES)}",
            )
            return None
        if "values" in rows and sheet.value(rows["values"], col) is not None:
            values = self._values(sheet, rows["values"], col, type_, lists)
            if values is None:
                return None
        default: Value = None
        has_default = False
        if "default" in rows and sheet.value(rows["default"], col) is not None:
            raw = sheet.value(rows["default"], col)
            at = loc.at(ref(rows["default"], col))
            if kind is not ColumnKind.OUTPUT:
                self.error("E115", "only output columns take a Default", at, raw)
                return None
            try:
                default = cells.parse_literal(
                    self._code_raw(sheet, rows["default"], col, type_), type_
                )
                has_default = True
            except CellError as exc:
                self.cell_error(exc, at, raw)
                return None
        return Column(
            name,
            kind,
            type_,
            header_at,
            source_table,
            values,
            default,
            has_default,
            kind_at.cell,
        )

    def _infer_list(
        self, name: str, named: tuple[RawValue, Location]
    ) -> tuple[DataType, UnaryTests | None]:
        """A Type cell naming a Values list: the first type every item parses as."""
        raw, at = named
        for type_ in (
            DataType.BOOLEAN,
            DataType.INTEGER,
            DataType.NUMBER,
            DataType.DATE,
        ):
            try:
                return type_, cells.parse_values(raw, type_)
            except CellError:
                continue
        try:
            return DataType.STRING, cells.parse_values(raw, DataType.STRING)
        except CellError as exc:
            self.cell_error(exc, at, raw)
            return DataType.STRING, None

    def _values(
        self,
        sheet: RawSheet,
        row: int,
        col: int,
        type_: DataType,
        lists: dict[str, tuple[RawValue, Location]],
    ) -> UnaryTests | None:
        raw = sheet.value(row, col)
        at = sheet.location.at(ref(row, col))
        text = self.text(sheet, row, col)
        if text in lists:
            raw, at = lists[text]
        try:
            return cells.parse_values(raw, type_)
        except CellError as exc:
            self.cell_error(exc, at, raw)
            return None

    def _code_raw(
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

    def _rules(
        self, sheet: RawSheet, first: int, columns: list[tuple[Column, int]]
    ) -> tuple[Rule, ...]:
        loc = sheet.location
        rules: list[Rule] = []
        last_col = max(c for _, c in columns)
        row = first
        end = sheet.max_row
        while row <= end:
            values = [sheet.value(row, c) for c in range(1, last_col + 1)]
            if all(cells.is_blank(v) for v in values):
                break
            rule_id = self.text(sheet, row, 1)
            row_range = loc.at(f"{ref(row, 1)}:{ref(row, last_col)}")
            if not rule_id:
                self.error(
                    "E150",
                    "a rule row has no rule id in column A",
                    loc.at(ref(row, 1)),
                    hint="write an id such as R7",
                )
                row += 1
                continue
            rule = self._rule(sheet, row, rule_id, row_range, columns)
            if rule is not None:
                rules.append(rule)
            row += 1
        self._leftovers(sheet, row, last_col, first_rule=first)
        return tuple(rules)

    def _rule(
        self,
        sheet: RawSheet,
        row: int,
        rule_id: str,
        row_range: Location,
        columns: list[tuple[Column, int]],
    ) -> Rule | None:
        inputs: list[UnaryTests] = []
        outputs: list[Value] = []
        notes: list[str] = []
        input_cells: list[str] = []
        output_cells: list[str] = []
        ok = True
        for column, col in columns:
            cell = ref(row, col)
            at = sheet.location.at(cell)
            if column.kind is ColumnKind.ANNOTATION:
                notes.append(self.text(sheet, row, col))
                continue
            raw = self._code_raw(sheet, row, col, column.type)
            if isinstance(raw, str):
                self.text(sheet, row, col)  # reports normalised quotes and spaces
            try:
                if column.kind is ColumnKind.INPUT:
                    inputs.append(cells.parse_unary_tests(raw, column.type))
                    input_cells.append(cell)
                else:
                    if cells.is_blank(raw):
                        raise CellError(
                            "the output cell is empty",
                            "write a value, or null for no value",
                            code="E202",
                        )
                    outputs.append(cells.parse_literal(raw, column.type))
                    output_cells.append(cell)
            except CellError as exc:
                self.cell_error(exc, at, sheet.value(row, col))
                ok = False
        if not ok:
            return None
        return Rule(
            rule_id,
            tuple(inputs),
            tuple(outputs),
            tuple(notes),
            row_range,
            tuple(input_cells),
            tuple(output_cells),
        )

    def _leftovers(
        self, sheet: RawSheet, after: int, last_col: int, *, first_rule: int
    ) -> None:
        """Content below the blank row that ends a table, or beside its rules, is
        ignored: say so, since it is usually a rule someone forgot to join up.
        (Notes beside the metadata rows are fine.)"""
        stray = sorted(
            (r, c)
            for (r, c) in sheet.cells
            if r >= after or (c > last_col and first_rule <= r < after)
        )
        for row in sorted({r for r, c in stray if c == 1}):
            rule_id = self.text(sheet, row, 1)
            filled = [c for c in range(2, last_col + 1) if (row, c) in sheet.cells]
            if _RULE_ID.match(rule_id) and filled:
                self.warn(
                    "W152",
                    f"the row {rule_id!r} looks like a rule, but it comes after the "
                    f"blank row {after} that ends the table, so it is ignored",
                    sheet.location.at(f"{ref(row, 1)}:{ref(row, last_col)}"),
                    rule_id,
                    "remove the blank rows above it to make it a rule, or move it to "
                    "a note sheet",
                )
                stray = [(r, c) for r, c in stray if r != row]
        if stray:
            r, c = stray[0]
            more = f" (and {len(stray) - 1} more cells)" if len(stray) > 1 else ""
            self.warn(
                "W151",
                f"cells outside the table are ignored{more}",
                sheet.location.at(ref(r, c)),
                sheet.value(r, c),
                "a blank row ends the table; remove the blank row if these are rules",
            )

    # -- Tests sheets ---------------------------------------------------------------

    def suite(
        self,
        sheet: RawSheet,
        decisions: dict[str, Decision],
        chain: dict[str, dict[str, Column] | None],
        partial: set[str],
    ) -> TestSuite | None:
        loc = sheet.location
        name = self.text(sheet, 1, 2)
        if name in partial and name not in decisions:
            return None  # its table's sheet has errors, reported there
        if name not in decisions:
            self.error(
                "E301",
                f"the Tests sheet names an unknown table {name!r}"
                if name
                else "the Tests sheet names no table in B1",
                loc.at("B1"),
                name or None,
                suggest(name, decisions) if name else "",
            )
            return None
        decision = decisions[name]
        table = decision.first
        header = _find_row(sheet, "case", start=2)
        if header is None:
            self.error(
                "E302", "no header row: no row has 'Case' in column A", loc.at("A2")
            )
            return None
        kind_row = header + 1
        if self.text(sheet, kind_row, 1).lower() != "kind":
            self.error(
                "E302",
                "the row below the Case row must be the Kind row",
                loc.at(ref(kind_row, 1)),
            )
            return None
        known = chain[name]
        inputs = known if known is not None else {}
        outputs = {c.name: c for c in table.outputs}
        last = max((c for (r, c) in sheet.cells if r == header), default=1)
        layout: list[tuple[str, str, int, DataType]] = []  # (role, name, column, type)
        for col in range(2, last + 1):
            column_name = self.text(sheet, header, col)
            kind = re.sub(r"\s+", " ", self.text(sheet, kind_row, col).lower())
            at = loc.at(ref(header, col))
            if not column_name and not kind:
                continue
            if kind == "annotation":
                layout.append(("note", column_name, col, DataType.STRING))
            elif kind == "expected rule" or (
                kind in ("", "expected")
                and column_name.lower().replace("_", " ") == "expected rule"
            ):
                layout.append(("rules", column_name, col, DataType.STRING))
            elif kind == "input" and column_name == "as_of":
                layout.append(("as_of", column_name, col, DataType.DATE))
            elif kind == "input":
                if column_name not in inputs and known is None:
                    continue  # an input of a required table that is missing or unread
                if column_name not in inputs:
                    self.error(
                        "E303",
                        f"{column_name!r} is not an input of {name!r}",
                        at,
                        column_name,
                        suggest(column_name, inputs) or f"inputs: {', '.join(inputs)}",
                    )
                    continue
                layout.append(("input", column_name, col, inputs[column_name].type))
            elif kind == "expected":
                if column_name not in outputs:
                    self.error(
                        "E303",
                        f"{column_name!r} is not an output of {name!r}",
                        at,
                        column_name,
                        suggest(column_name, outputs)
                        or f"outputs: {', '.join(outputs)}",
                    )
                    continue
                layout.append(("expected", column_name, col, outputs[column_name].type))
            else:
                self.error(
                    "E304",
                    f"unknown kind {kind!r} in a Tests sheet",
                    loc.at(ref(kind_row, col)),
                    kind,
                    "use input, expected, expected rule or annotation",
                )
        cases: list[TestCase] = []
        row = kind_row + 1
        while row <= sheet.max_row:
            case_id = self.text(sheet, row, 1)
            if not case_id:
                if any(sheet.value(row, c) is not None for _, _, c, _ in layout):
                    self.error(
                        "E305",
                        "a test row has no case id in column A",
                        loc.at(ref(row, 1)),
                    )
                row += 1
                continue
            case = self._case(sheet, row, case_id, layout, table.returns_list)
            if case is not None:
                cases.append(case)
            row += 1
        return TestSuite(name, tuple(cases), loc, "")

    def _case(
        self,
        sheet: RawSheet,
        row: int,
        case_id: str,
        layout: list[tuple[str, str, int, DataType]],
        returns_list: bool,
    ) -> TestCase | None:
        inputs: list[tuple[str, Value]] = []
        expected: list[tuple[str, Value | tuple[Value, ...]]] = []
        as_of = None
        rules = None
        note = ""
        ok = True
        for role, name, col, type_ in layout:
            raw = self._code_raw(sheet, row, col, type_)
            at = sheet.location.at(ref(row, col))
            try:
                if role == "note":
                    note = self.text(sheet, row, col)
                elif role == "rules":
                    text = self.text(sheet, row, col)
                    if text:
                        rules = tuple(
                            str(cells.parse_literal(t, DataType.STRING))
                            for t in cells.split_list(text)
                        )
                elif cells.is_blank(raw):
                    if role == "input":
                        inputs.append((name, None))
                elif role == "as_of":
                    parsed = cells.parse_literal(raw, DataType.DATE, allow_null=False)
                    assert isinstance(parsed, dt.date)
                    as_of = parsed
                elif role == "input":
                    inputs.append((name, cells.parse_literal(raw, type_)))
                elif returns_list:
                    if isinstance(raw, str) and cells.clean_text(raw)[0] in (
                        "[]",
                        "none()",
                    ):
                        expected.append((name, ()))
                    else:
                        expected.append((name, cells.parse_literal_list(raw, type_)))
                else:
                    expected.append((name, cells.parse_literal(raw, type_)))
            except CellError as exc:
                self.cell_error(exc, at, sheet.value(row, col))
                ok = False
        if not ok:
            return None
        row_at = sheet.location.at(ref(row, 1))
        refs = tuple((name, ref(row, col)) for _, name, col, _ in layout) + tuple(
            ("expected rule", ref(row, col))
            for role, _, col, _ in layout
            if role == "rules"
        )  # the key no identifier can be, for the expected-rule cell
        return TestCase(
            case_id, tuple(inputs), tuple(expected), row_at, as_of, rules, note, refs
        )


def _header_row(rows: dict[str, int]) -> int:
    return min(rows.values()) - 1


def _find_row(sheet: RawSheet, label: str, start: int) -> int | None:
    for row in sorted({r for (r, c) in sheet.cells if c == 1 and r >= start}):
        raw = sheet.value(row, 1)
        if isinstance(raw, str) and cells.clean_text(raw)[0].lower() == label:
            return row
    return None


def build_project(books: list[RawWorkbook]) -> tuple[Project, tuple[Diagnostic, ...]]:
    """Read every sheet of every workbook into one Project (not yet validated)."""
    reader = Reader()
    tables: list[Table] = []
    tests: list[RawSheet] = []
    partial: set[str] = set()
    for book in books:
        kinds = reader.sheet_kinds(book)
        lists = reader.named_lists(kinds["values"])
        for sheet in kinds["decision table"]:
            errors = reader.error_count()
            table = reader.table(sheet, lists)
            if table is not None:
                tables.append(table)
            if reader.error_count() > errors:
                partial.add(table.name if table else reader.text(sheet, 1, 2))
        tests.extend(kinds["tests"])
    by_name: dict[str, list[Table]] = {}
    for table in tables:
        by_name.setdefault(table.name, []).append(table)
    decisions = {
        name: Decision(name, tuple(sorted(versions, key=_version_key)))
        for name, versions in sorted(by_name.items())
    }
    chains = {name: _chain(name, decisions) for name in decisions}
    suites: list[TestSuite] = []
    for sheet in tests:
        suite = reader.suite(sheet, decisions, chains, partial)
        if suite is not None:
            suites.append(suite)
    numbered: list[TestSuite] = []
    counts: dict[str, int] = {}
    for suite in suites:
        counts[suite.table] = counts.get(suite.table, 0) + 1
        n = counts[suite.table]
        module = f"test_{suite.table}" + (f"_{n}" if n > 1 else "")
        numbered.append(TestSuite(suite.table, suite.cases, suite.location, module))
    project = Project(
        tuple(decisions.values()),
        tuple(numbered),
        tuple(b.path for b in books),
        tuple(sorted(partial)),
    )
    return project, tuple(reader.diagnostics)


def _version_key(table: Table) -> tuple[dt.date, str, str]:
    return (
        table.effective_from or dt.date.min,
        table.location.path,
        table.location.sheet,
    )


def _chain(name: str, decisions: dict[str, Decision]) -> dict[str, Column] | None:
    """Inputs a test of NAME may set, tolerating cycles (validation reports them);
    None when a table in the chain is missing, so its inputs are unknown."""
    seen: dict[str, Column] = {}
    visited: set[str] = set()
    complete = True

    def visit(table_name: str) -> None:
        nonlocal complete
        if table_name not in decisions:
            complete = False
            return
        if table_name in visited:
            return
        visited.add(table_name)
        decision = decisions[table_name]
        for column in decision.first.inputs:
            if not column.source_table:
                seen.setdefault(column.name, column)
        for required in decision.requires:
            visit(required)

    visit(name)
    return seen if complete else None
