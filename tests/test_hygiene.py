"""Spreadsheet hygiene diagnostics, each naming its cell: numbers stored as text
(I132), identical duplicate rules (W406), and rows below a table that look like
forgotten rules (W152) or other stray cells (W151)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from compiler.diagnostics import Severity

from .helpers import compile_books, errors, load_books, only
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
        [("T1", "18", "18", "1.5"), ("T2", 5, "x", 2)],  # B5, D5 text; C5 is a string
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
    d = only(diagnostics, "W151")
    assert str(d.location) == "tables/d.xlsx:Dose!H8"
    assert "1 more" in d.message
    assert not codes(diagnostics, "W152")
