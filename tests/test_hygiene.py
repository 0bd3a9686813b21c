"""Spreadsheet hygiene diagnostics, each naming its cell: numbers stored as text
(I132), identical duplicate rules (W406), rows below a table that look like
forgotten rules (W152) or other stray cells (W151), typographic quotes and special
spaces (I130) and formulas with a calculated value (W121). Merged cells (E120),
formulas without one (E121) and zero-padded codes (W131): test_validate.py and
test_sheets.py."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

from compiler.diagnostics import Severity
from compiler.model import Equals, UnaryTests
from compiler.pipeline import load_tables

from .helpers import compile_books, errors, load_books, only, write_tables
from .workbooks import decision_table, tests_sheet

COLUMNS = [
    ("age", "input", "integer", None),
    ("weight", "input", "number", None),
    ("modality", "input", "string", None),
    ("dose", "output", "number", None),
    ("Note", "annotation", None, None),
]


def table(
    rules: Sequence[Sequence[object]], *extra: list[object]
) -> list[list[object]]:
    return [
        *decision_table("dose", hit_policy="FIRST", columns=COLUMNS, rules=rules),
        *extra,
    ]


def codes(diagnostics: tuple[object, ...], code: str) -> list[str]:
    return [str(d.location) for d in diagnostics if d.code == code]  # type: ignore[attr-defined]


def test_numbers_stored_as_text_are_used_and_reported(tmp_path: Path) -> None:
    rules = [
        ("R1", "18", " 70.5", "18", "1.5", ""),  # row 7: B7, C7 and E7 are text
        ("R2", "< 18", 70, "-", 2, ""),
        ("R3", "-", "-", "-", 0, ""),
    ]
    tests = tests_sheet(
        "dose",
        [("age", "input"), ("modality", "input"), ("dose", "expected")],
        # B5, D5 text; C5 is a string. No weight: R3 decides (compile runs the cases)
        [("T1", "18", "18", "0"), ("T2", 5, "x", 0)],
    )
    compilation = compile_books(
        tmp_path, {"d.xlsx": {"Dose": table(rules), "T": tests}}
    )
    found = codes(compilation.diagnostics, "I132")
    assert found == [
        "tables/d.xlsx:Dose!B7",
        "tables/d.xlsx:Dose!C7",
        "tables/d.xlsx:Dose!E7",
        "tables/d.xlsx:T!B5",
        "tables/d.xlsx:T!D5",
    ]
    first = next(d for d in compilation.diagnostics if d.code == "I132")
    assert first.severity is Severity.INFO
    assert "stored as text" in first.message and first.text == "18"
    assert compilation.ok  # the values are used
    assert compilation.project is not None
    rule = compilation.project.decision("dose").first.rules[0]
    assert rule.outputs == (1.5,)


def test_unary_tests_and_strings_are_not_numbers_as_text(tmp_path: Path) -> None:
    rules = [("R1", "[1..5]", ">= 2", "18", 1, "")]
    project, diagnostics = load_books(tmp_path, {"d.xlsx": [table(rules)]})
    assert not codes(diagnostics, "I132")


def test_identical_rules_are_a_warning_naming_both(tmp_path: Path) -> None:
    rules = [
        ("R1", "< 18", "-", '"CT", "MRI"', 1, "first"),
        ("R2", ">= 18", "-", "CT", 2, ""),
        ("R3", "< 18", None, "MRI, CT", 1, "copied, note differs"),  # same as R1
        ("R4", "< 18", "-", "CT, MRI", 3, "other output: not a duplicate"),
    ]
    project, diagnostics = load_books(tmp_path, {"d.xlsx": {"Dose": table(rules)}})
    assert not errors(diagnostics)
    d = only(diagnostics, "W406")
    assert d.severity is Severity.WARNING
    assert str(d.location) == "tables/d.xlsx:Dose!A9"
    assert "'R3'" in d.message and "'R1'" in d.message


def test_a_rule_copied_with_its_id_is_named_by_its_rows(tmp_path: Path) -> None:
    rules = [("R1", "< 18", "-", "CT", 1, ""), ("R1", "< 18", "-", "CT", 1, "")]
    project, diagnostics = load_books(tmp_path, {"d.xlsx": {"Dose": table(rules)}})
    d = only(diagnostics, "W406")
    assert "R1 and R1" not in d.hint
    assert "delete one of R1 (row 7) and R1 (row 8)" in d.hint


def test_versions_may_repeat_a_rule(tmp_path: Path) -> None:
    """The same rule in two effective-dated versions is not a duplicate."""
    rules = [("R1", "-", "-", "-", 1, "")]
    sheets = {
        "Old": decision_table(
            "dose",
            columns=COLUMNS,
            rules=rules,
            metadata={"Effective to": "2025-12-31"},
        ),
        "New": decision_table(
            "dose",
            columns=COLUMNS,
            rules=rules,
            metadata={"Effective from": "2026-01-01"},
        ),
    }
    _, diagnostics = load_books(tmp_path, {"d.xlsx": sheets})
    assert not codes(diagnostics, "W406")


def test_a_rule_below_the_blank_row_is_named(tmp_path: Path) -> None:
    rules = [("R1", "< 18", "-", "-", 1, ""), ("R2", "-", "-", "-", 2, "")]
    sheet = table(rules, [], [], ["R3", ">= 65", None, None, 0.5, "forgotten"])
    _, diagnostics = load_books(tmp_path, {"d.xlsx": {"Dose": sheet}})
    d = only(diagnostics, "W152")
    assert str(d.location) == "tables/d.xlsx:Dose!A11:F11"
    assert "'R3'" in d.message and "blank row 9" in d.message
    assert "remove the blank rows" in d.hint
    assert not codes(diagnostics, "W151")


def test_notes_below_and_cells_beside_a_table_are_stray_cells(tmp_path: Path) -> None:
    rules = [("R1", "< 18", "-", "-", 1, ""), ("R2", "-", "-", "-", 2, "")]
    sheet = table(rules, [], ["Reviewed by the committee on 2025-03-01."])
    sheet[7] = [*sheet[7], None, "scratch"]  # H8: beside the rules
    _, diagnostics = load_books(tmp_path, {"d.xlsx": {"Dose": sheet}})
    assert codes(diagnostics, "W151") == [
        "tables/d.xlsx:Dose!H8",
        "tables/d.xlsx:Dose!A10",
    ]
    beside, below = (d for d in diagnostics if d.code == "W151")
    assert "beside the table" in beside.message
    assert "blank row" not in beside.hint  # no blank row ends the table beside it
    assert "ends at column F" in beside.hint
    assert "below the table" in below.message
    assert "the blank row 9 ends the table" in below.hint
    assert not codes(diagnostics, "W152")


def test_a_cell_beside_the_rules_is_not_blamed_on_a_blank_row(tmp_path: Path) -> None:
    rules = [("R1", "< 18", "-", "-", 1, ""), ("R2", "-", "-", "-", 2, "")]
    sheet = table(rules)
    sheet[6] = [*sheet[6], None, "scratch", "more"]  # H7, I7: beside the rules
    _, diagnostics = load_books(tmp_path, {"d.xlsx": {"Dose": sheet}})
    d = only(diagnostics, "W151")
    assert str(d.location) == "tables/d.xlsx:Dose!H7"
    assert "beside the table are ignored (and 1 more cells)" in d.message
    assert "blank row" not in d.hint


def test_typographic_quotes_and_special_spaces_are_normalised(tmp_path: Path) -> None:
    rules = [
        ("R1", "< 18", "-", "\u201cCT\u201d", 1, ""),  # D7: typographic quotes
        ("R2", "-", "-", "MRI,\u00a0CT", 2, ""),  # D8: a no-break space
        ("R3", "-", "-", "P\u200bET", 3, ""),  # D9: a zero-width space
        ("R4", "-", "-", "-", 4, ""),
    ]
    project, diagnostics = load_books(tmp_path, {"d.xlsx": {"Dose": table(rules)}})
    assert project is not None and not errors(diagnostics)
    found = [d for d in diagnostics if d.code == "I130"]
    assert [str(d.location) for d in found] == [
        "tables/d.xlsx:Dose!D7",
        "tables/d.xlsx:Dose!D8",
        "tables/d.xlsx:Dose!D9",
    ]
    assert all(d.severity is Severity.INFO for d in found)
    assert found[0].text == "\u201cCT\u201d"  # the cell as typed
    entries = [r.inputs[2] for r in project.decision("dose").first.rules[:3]]
    assert entries == [
        UnaryTests((Equals("CT"),)),
        UnaryTests((Equals("MRI"), Equals("CT"))),
        UnaryTests((Equals("PET"),)),
    ]


def edit_sheet_xml(path: Path, old: str, new: str) -> None:
    """Replace OLD by NEW in the first sheet's XML: what openpyxl cannot write."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    xml = parts[sheet].decode()
    assert old in xml
    parts[sheet] = xml.replace(old, new).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_a_formula_with_a_calculated_value_is_a_warning(tmp_path: Path) -> None:
    """openpyxl writes a formula without its value; put one in, as Excel would."""
    rules = [("R1", "< 18", "-", "-", "=0.5*3", ""), ("R2", "-", "-", "-", 2, "")]
    tables = write_tables(tmp_path, {"d.xlsx": {"Dose": table(rules)}})
    edit_sheet_xml(tables / "d.xlsx", "<f>0.5*3</f><v />", "<f>0.5*3</f><v>1.5</v>")
    project, diagnostics = load_tables(tables)
    assert project is not None and not errors(diagnostics)
    d = only(diagnostics, "W121")
    assert str(d.location) == "tables/d.xlsx:Dose!E7"
    assert d.severity is Severity.WARNING
    assert project.decision("dose").first.rules[0].outputs == (1.5,)


def test_true_and_false_saved_by_libreoffice_are_values(tmp_path: Path) -> None:
    """LibreOffice stores a typed TRUE as the formula TRUE(): a value, not a formula."""
    columns = [("urgent", "input", "boolean", None), ("ok", "output", "boolean", None)]
    rules = [("R1", "-", "x"), ("R2", "-", "y")]  # rows 7 and 8
    sheet = decision_table("flags", hit_policy="FIRST", columns=columns, rules=rules)
    tables = write_tables(tmp_path, {"f.xlsx": {"Flags": sheet}})
    for cell, text, formula, value in (
        ("C7", "x", "TRUE()", 1),
        ("C8", "y", "false( )", 0),
    ):
        edit_sheet_xml(
            tables / "f.xlsx",
            f'<c r="{cell}" t="inlineStr"><is><t>{text}</t></is></c>',
            f'<c r="{cell}" t="b"><f>{formula}</f><v>{value}</v></c>',
        )
    project, diagnostics = load_tables(tables)
    assert project is not None and not diagnostics, diagnostics
    assert [r.outputs for r in project.decision("flags").first.rules] == [
        (True,),
        (False,),
    ]
