"""Every sheet of every workbook into one Project: each sheet's kind from its A1 cell,
then Values lists, decision tables (versions of one name make one Decision) and,
once all tables are known, Tests sheets."""

from __future__ import annotations

import datetime as dt

from compiler.diagnostics import Diagnostic, Severity
from compiler.model import Column, Decision, Project, Table, TestSuite
from compiler.reading import cells
from compiler.reading.sheets.common import Reader
from compiler.reading.sheets.table import read_table
from compiler.reading.sheets.tests_sheet import read_suite
from compiler.reading.sheets.values import named_lists
from compiler.reading.workbook import RawSheet, RawWorkbook, ref


def build_project(books: list[RawWorkbook]) -> tuple[Project, tuple[Diagnostic, ...]]:
    """Read every sheet of every workbook into one Project (not yet validated)."""
    reader = Reader()
    tables: list[Table] = []
    tests: list[RawSheet] = []
    partial: set[str] = set()
    lost: set[str] = set()
    for book in books:
        kinds = sheet_kinds(reader, book)
        lists = named_lists(reader, kinds["values"])
        for sheet in kinds["decision table"]:
            errors = reader.error_count()
            table = read_table(reader, sheet, lists)
            if table is not None:
                tables.append(table)
            if reader.error_count() > errors:
                partial.add(table.name if table else reader.text(sheet, 1, 2))
            if table is None:
                lost.add(reader.text(sheet, 1, 2))
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
        suite = read_suite(reader, sheet, decisions, chains, partial)
        if suite is not None:
            suites.append(suite)
    numbered: list[TestSuite] = []
    # A table's first Tests sheet is test_<table>, the next test_<table>_2, ... but
    # never a name another table's first one takes (tables `a` and `a_2`).
    taken = {f"test_{suite.table}" for suite in suites}
    counts: dict[str, int] = {}
    for suite in suites:
        module = f"test_{suite.table}"
        if suite.table in counts:
            n = counts[suite.table]
            while f"{module}_{n}" in taken:
                n += 1
            counts[suite.table] = n + 1
            module = f"{module}_{n}"
            taken.add(module)
        else:
            counts[suite.table] = 2
        numbered.append(
            TestSuite(suite.table, suite.cases, suite.location, module, suite.unread)
        )
    project = Project(
        tuple(decisions.values()),
        tuple(numbered),
        tuple(b.path for b in books),
        tuple(sorted(partial)),
        tuple(sorted(lost)),
    )
    return project, tuple(reader.diagnostics)


def sheet_kinds(reader: Reader, book: RawWorkbook) -> dict[str, list[RawSheet]]:
    """BOOK's sheets by the kind in A1; any other sheet is a note sheet (said so)."""
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
            _check_sheet_hygiene(reader, sheet)
        elif (1, 1) in sheet.errors:  # A1 says what the sheet is: it must be readable
            _excel_error(reader, sheet, 1, 1)
        else:
            reader.report(
                "I001",
                Severity.INFO,
                "note sheet: A1 is not 'Decision table', 'Tests' or 'Values', so it is not compiled",
                sheet.location,
            )
    return kinds


def _check_sheet_hygiene(reader: Reader, sheet: RawSheet) -> None:
    for merged in sheet.merged:
        reader.error(
            "E120",
            "merged cells in a table: each cell must hold its own value",
            sheet.location.at(merged),
            hint="unmerge the cells and fill each one",
        )
    for (row, column), cached in sorted(sheet.formulas.items()):
        at = sheet.location.at(ref(row, column))
        if cached:
            reader.warn("W121", "formula cell: its last calculated value is used", at)
        else:
            reader.unreadable.add(at)
            reader.error(
                "E121",
                "formula cell without a calculated value",
                at,
                hint="open and save the workbook in Excel or LibreOffice, or type the value",
            )
    for row, column in sorted(sheet.errors):
        _excel_error(reader, sheet, row, column)


def _excel_error(reader: Reader, sheet: RawSheet, row: int, column: int) -> None:
    text = sheet.errors[(row, column)]
    at = sheet.location.at(ref(row, column))
    reader.unreadable.add(at)
    reader.error(
        "E122",
        f"the cell shows the spreadsheet error {text}",
        at,
        text,
        f'fix the formula or type the value; to mean the text, write "{text}" in quotes',
    )


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
