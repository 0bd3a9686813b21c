"""Hardening, second round (issue 14): no silent wrong answers, no exit 123 for a
user's mistake, bounded resources. One test (or parametrized group) per class of
failure; each failed before its fix."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from compiler.pipeline import load_tables
from compiler.reading.workbook import EXCEL_ERRORS

from .helpers import errors, write_tables
from .workbooks import decision_table, tests_sheet, values_sheet

# -- Excel error values -----------------------------------------------------------------


def set_cell_xml(path: Path, sheet: int, ref: str, xml: str) -> None:
    """Replace the cell REF of the SHEET-th worksheet (1-based) by the XML of a cell
    (what openpyxl cannot write: cached formula values, errors)."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    name = f"xl/worksheets/sheet{sheet}.xml"
    text = parts[name].decode()
    pattern = re.compile(rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)')
    assert pattern.search(text), f"no cell {ref} in {name}"
    parts[name] = pattern.sub(lambda _: xml.replace("REF", ref), text, count=1).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for part, data in parts.items():
            archive.writestr(part, data)


def error_book(root: Path) -> Path:
    """A table with Values and Default rows, a Values sheet and a Tests sheet."""
    columns = [
        ("age", "input", "integer", "[0..130]"),
        ("kind", "input", "string", "kinds"),
        ("band", "output", "string", None),
    ]
    table = decision_table(
        "band",
        columns,
        [("R1", "< 18", "-", "child"), ("R2", ">= 18", "-", "adult")],
        hit_policy="FIRST",
        defaults={"band": "none"},
    )
    tests = tests_sheet(
        "band",
        [("age", "input"), ("band", "expected")],
        [("T1", 5, "child"), ("T2", 40, "adult")],
    )
    books = {"b.xlsx": {"Band": table, "Values": values_sheet({"kinds": "a, b"})}}
    books["t.xlsx"] = {"Tests": tests}
    return write_tables(root, books)


# (workbook, sheet number, cell): the table name, its hit policy, a column name, its kind and type,
# a Values entry, a Default, a rule's input and output, a Values-sheet list, a Tests
# input and expected value, and A1 (which says what a sheet is).
PLACES = [
    ("b.xlsx", 1, "B1"),
    ("b.xlsx", 1, "B2"),
    ("b.xlsx", 1, "B4"),
    ("b.xlsx", 1, "B5"),
    ("b.xlsx", 1, "B6"),
    ("b.xlsx", 1, "B7"),
    ("b.xlsx", 1, "D8"),
    ("b.xlsx", 1, "B9"),
    ("b.xlsx", 1, "D10"),
    ("b.xlsx", 2, "B3"),
    ("b.xlsx", 1, "A1"),
    ("t.xlsx", 1, "B5"),
    ("t.xlsx", 1, "C6"),
    ("t.xlsx", 1, "A1"),
]
SHEETS = {("b.xlsx", 1): "Band", ("b.xlsx", 2): "Values", ("t.xlsx", 1): "Tests"}
CACHED = '<c r="REF" t="e"><f>VLOOKUP(1,Z1:Z2,2,FALSE)</f><v>{error}</v></c>'
PLAIN = '<c r="REF" t="e"><v>{error}</v></c>'
TEXT = '<c r="REF" t="inlineStr"><is><t>{error}</t></is></c>'


def assert_error_named(tables: Path, book: str, sheet: int, ref: str) -> None:
    _, diagnostics = load_tables(tables)
    found = [d for d in errors(diagnostics) if d.code == "E122"]
    where = f"tables/{book}:{SHEETS[(book, sheet)]}!{ref}"
    assert [str(d.location) for d in found] == [where], diagnostics


@pytest.mark.parametrize("form", [CACHED, PLAIN, TEXT], ids=["cached", "plain", "text"])
@pytest.mark.parametrize(("book", "sheet", "ref"), PLACES)
def test_an_excel_error_in_any_cell_read_is_an_error_naming_it(
    tmp_path: Path, form: str, book: str, sheet: int, ref: str
) -> None:
    """Was: a formula's cached #N/A compiled as the string "#N/A" (a warning only)."""
    tables = error_book(tmp_path)
    set_cell_xml(tables / book, sheet, ref, form.format(error="#N/A"))
    assert_error_named(tables, book, sheet, ref)


@pytest.mark.parametrize("error", sorted(EXCEL_ERRORS))
def test_every_excel_error_value_is_an_error(tmp_path: Path, error: str) -> None:
    assert {"#N/A", "#REF!", "#SPILL!", "#CALC!", "#GETTING_DATA"} <= EXCEL_ERRORS
    tables = error_book(tmp_path)
    set_cell_xml(tables / "b.xlsx", 1, "D10", CACHED.format(error=error))
    assert_error_named(tables, "b.xlsx", 1, "D10")


def test_the_text_of_an_error_value_in_quotes_is_text(tmp_path: Path) -> None:
    tables = error_book(tmp_path)
    set_cell_xml(tables / "b.xlsx", 1, "D10", TEXT.format(error='"#N/A"'))
    project, diagnostics = load_tables(tables)
    assert project is not None and not errors(diagnostics), diagnostics
    assert project.decision("band").first.rules[1].outputs == ("#N/A",)
