"""Reading workbooks into the model: sheet kinds, metadata, column rows, hit policies,
types, Values lists, Tests sheets, versions and `from` chains, as the format page
lays them out. Every workbook is written by openpyxl into a `tables` folder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from compiler.diagnostics import Severity
from compiler.model import (
    Aggregation,
    ColumnKind,
    DataType,
    Equals,
    HitPolicy,
    Interval,
    Project,
    UnaryTests,
)

from .helpers import Sheets, errors, load_books, only, write_tables
from .workbooks import decision_table, tests_sheet, values_sheet

AGE_BAND = decision_table(
    "age_band",
    hit_policy="FIRST",
    columns=[
        ("age", "input", "integer", "[0..130]"),
        ("band", "output", "string", '"child", "adult"'),
    ],
    rules=[("R1", "< 18", "child"), ("R2", ">= 18", "adult")],
)


def load_ok(tmp_path: Path, books: Mapping[str, Sheets]) -> Project:
    project, diagnostics = load_books(tmp_path, books)
    assert project is not None
    assert not errors(diagnostics), "\n".join(d.format() for d in diagnostics)
    return project


# -- sheet kinds -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "a1",
    ["Decision table", "DECISION TABLE", "decision Table", "  Decision table\u00a0"],
)
def test_sheet_kind_is_a1_case_insensitive(tmp_path: Path, a1: str) -> None:
    sheet = [[a1, *AGE_BAND[0][1:]], *AGE_BAND[1:]]
    tests = tests_sheet("age_band", [("age", "input"), ("band", "expected")], [])
    tests[0][0] = "TESTS"
    values = values_sheet({"bands": "child, adult"})
    values[0][0] = "values"
    project = load_ok(tmp_path, {"x.xlsx": {"T": sheet, "C": tests, "V": values}})
    assert [d.name for d in project.decisions] == ["age_band"]
    assert [s.table for s in project.suites] == ["age_band"]


def test_note_sheets_are_listed_at_info_level(tmp_path: Path) -> None:
    notes = [["Read me first"], ["This workbook holds the imaging rules."]]
    project, diagnostics = load_books(
        tmp_path, {"x.xlsx": {"About": notes, "Empty": [], "T": AGE_BAND}}
    )
    assert project is not None and [d.name for d in project.decisions] == ["age_band"]
    infos = [d for d in diagnostics if d.code == "I001"]
    assert [str(d.location) for d in infos] == [
        "tables/x.xlsx:About",
        "tables/x.xlsx:Empty",
    ]
    assert all(d.severity is Severity.INFO for d in infos)


def test_hidden_sheets_rows_and_columns_are_compiled(tmp_path: Path) -> None:
    tables = write_tables(tmp_path, {})
    book = Workbook()
    ws = book.worksheets[0]
    ws.title = "Hidden rules"
    for row in AGE_BAND:
        ws.append(row)
    ws.sheet_state = "hidden"
    ws.row_dimensions[len(AGE_BAND)].hidden = True  # the last rule's row
    ws.column_dimensions["B"].hidden = True  # the input column
    visible = book.create_sheet("Notes")
    visible["A1"] = "Notes"
    book.active = 1
    book.save(tables / "hidden.xlsx")
    from compiler.pipeline import load_tables

    project, diagnostics = load_tables(tables)
    assert project is not None and not errors(diagnostics)
    table = project.decision("age_band").first
    assert [r.id for r in table.rules] == ["R1", "R2"]
    assert table.inputs[0].name == "age"


def test_lock_files_are_not_sources(tmp_path: Path) -> None:
    tables = write_tables(tmp_path, {"x.xlsx": [AGE_BAND]})
    (tables / "~$x.xlsx").write_bytes(b"lock")
    (tables / ".~lock.x.xlsx#").write_bytes(b"lock")
    (tables / ".~lock.y.xlsx").write_bytes(b"lock")
    from compiler.pipeline import load_tables

    project, diagnostics = load_tables(tables)
    assert project is not None and not errors(diagnostics)


def test_workbooks_in_subfolders_are_sources(tmp_path: Path) -> None:
    project = load_ok(tmp_path, {"imaging/ct/x.xlsx": [AGE_BAND]})
    table = project.decision("age_band").first
    assert str(table.location) == "tables/imaging/ct/x.xlsx:Sheet1"


# -- metadata ----------------------------------------------------------------------------


def test_metadata_rows(tmp_path: Path) -> None:
    sheet = decision_table(
        "age_band",
        hit_policy="first",
        title="Age bands",
        metadata={
            "SOURCE": "Preface-3",
            "effective From": dt.datetime(2025, 12, 18),
            "Effective to": "2026-12-31",
        },
        columns=[("age", "input", "integer", None), ("band", "output", "string", None)],
        rules=[("R1", "< 18", "child")],
    )
    table = load_ok(tmp_path, {"x.xlsx": [sheet]}).decision("age_band").first
    assert table.hit_policy is HitPolicy.FIRST
    assert table.title == "Age bands"
    assert table.source == "Preface-3"
    assert table.effective_from == dt.date(2025, 12, 18)
    assert table.effective_to == dt.date(2026, 12, 31)


def test_absent_hit_policy_means_unique(tmp_path: Path) -> None:
    sheet = decision_table(
        "t",
        columns=[("a", "input", "integer", None), ("b", "output", "string", None)],
        rules=[("R1", "1", "x")],
    )
    table = load_ok(tmp_path, {"x.xlsx": [sheet]}).decision("t").first
    assert (table.hit_policy, table.aggregation) == (HitPolicy.UNIQUE, None)


def test_unknown_metadata_label_is_a_warning(tmp_path: Path) -> None:
    sheet = decision_table(
        "t",
        metadata={"Owner": "Imaging team", "Titel": "typo"},
        columns=[("a", "input", "integer", None), ("b", "output", "string", None)],
        rules=[("R1", "1", "x")],
    )
    project, diagnostics = load_books(tmp_path, {"x.xlsx": [sheet]})
    assert project is not None and not errors(diagnostics)
    warnings = [d for d in diagnostics if d.code == "W102"]
    assert [str(d.location) for d in warnings] == [
        "tables/x.xlsx:Sheet1!A2",
        "tables/x.xlsx:Sheet1!A3",
    ]
    assert all(d.severity is Severity.WARNING for d in warnings)
    assert "did you mean 'title'" in warnings[1].hint


@pytest.mark.parametrize(
    ("text", "policy", "aggregation"),
    [
        ("UNIQUE", HitPolicy.UNIQUE, None),
        ("U", HitPolicy.UNIQUE, None),
        ("FIRST", HitPolicy.FIRST, None),
        ("F", HitPolicy.FIRST, None),
        ("PRIORITY", HitPolicy.PRIORITY, None),
        ("P", HitPolicy.PRIORITY, None),
        ("ANY", HitPolicy.ANY, None),
        ("A", HitPolicy.ANY, None),
        ("COLLECT", HitPolicy.COLLECT, None),
        ("C", HitPolicy.COLLECT, None),
        ("COLLECT SUM", HitPolicy.COLLECT, Aggregation.SUM),
        ("C+", HitPolicy.COLLECT, Aggregation.SUM),
        ("COLLECT MIN", HitPolicy.COLLECT, Aggregation.MIN),
        ("C<", HitPolicy.COLLECT, Aggregation.MIN),
        ("COLLECT MAX", HitPolicy.COLLECT, Aggregation.MAX),
        ("C>", HitPolicy.COLLECT, Aggregation.MAX),
        ("COLLECT COUNT", HitPolicy.COLLECT, Aggregation.COUNT),
        ("C#", HitPolicy.COLLECT, Aggregation.COUNT),
        ("RULE ORDER", HitPolicy.RULE_ORDER, None),
        ("R", HitPolicy.RULE_ORDER, None),
        ("OUTPUT ORDER", HitPolicy.OUTPUT_ORDER, None),
        ("O", HitPolicy.OUTPUT_ORDER, None),
        ("collect  sum", HitPolicy.COLLECT, Aggregation.SUM),
        (" rule order\n", HitPolicy.RULE_ORDER, None),
    ],
)
def test_hit_policies(
    tmp_path: Path, text: str, policy: HitPolicy, aggregation: Aggregation | None
) -> None:
    sheet = decision_table(
        "t",
        hit_policy=text,
        columns=[("a", "input", "integer", None), ("n", "output", "integer", "1, 2")],
        rules=[("R1", "1", 1)],
    )
    table = load_ok(tmp_path, {"x.xlsx": [sheet]}).decision("t").first
    assert (table.hit_policy, table.aggregation) == (policy, aggregation)


def test_unknown_hit_policy(tmp_path: Path) -> None:
    sheet = decision_table(
        "t",
        hit_policy="FRIST",
        columns=[("a", "input", "integer", None), ("b", "output", "string", None)],
        rules=[("R1", "1", "x")],
    )
    _, diagnostics = load_books(tmp_path, {"x.xlsx": [sheet]})
    problem = only(diagnostics, "E105")
    assert str(problem.location) == "tables/x.xlsx:Sheet1!B2"
    assert "FIRST" in problem.hint


# -- columns ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "type_"),
    [
        ("string", DataType.STRING),
        ("code", DataType.CODE),
        ("integer", DataType.INTEGER),
        ("number", DataType.NUMBER),
        ("boolean", DataType.BOOLEAN),
        ("date", DataType.DATE),
        ("Integer", DataType.INTEGER),
        ("DATE", DataType.DATE),
    ],
)
def test_types(tmp_path: Path, text: str, type_: DataType) -> None:
    sheet = decision_table(
        "t",
        columns=[("a", "input", text, None), ("b", "output", text, None)],
        rules=[("R1", "-", "null")],
    )
    table = load_ok(tmp_path, {"x.xlsx": [sheet]}).decision("t").first
    assert table.inputs[0].type is type_ and table.outputs[0].type is type_


@pytest.mark.parametrize(
    "order",
    [
        ("Kind", "Type", "Values", "Default"),
        ("Default", "Values", "Type", "Kind"),
        ("Type", "Default", "Kind", "Values"),
        ("values", "KIND", "default", "type"),
    ],
)
def test_column_rows_in_any_order(tmp_path: Path, order: tuple[str, ...]) -> None:
    cells: dict[str, list[Any]] = {
        "kind": ["input", "output", "annotation"],
        "type": ["string", "integer", None],
        "values": ["CT, MRI", "[0..10]", None],
        "default": [None, 0, None],
    }
    sheet = [
        ["Decision table", "t"],
        ["Hit policy", "FIRST"],
        [],
        ["Rule", "modality", "score", "note"],
        *([label, *cells[label.lower()]] for label in order),
        ["R1", "CT", 3, "a note"],
        ["R2", "MRI", 7, None],
    ]
    table = load_ok(tmp_path, {"x.xlsx": [sheet]}).decision("t").first
    (modality,), (score,), (note,) = table.inputs, table.outputs, table.annotations
    assert (modality.kind, modality.type) == (ColumnKind.INPUT, DataType.STRING)
    assert modality.values == UnaryTests((Equals("CT"), Equals("MRI")))
    assert (score.kind, score.type, score.values) == (
        ColumnKind.OUTPUT,
        DataType.INTEGER,
        UnaryTests((Interval(0, 10),)),
    )
    assert (score.default, score.has_default) == (0, True)
    assert note.kind is ColumnKind.ANNOTATION
    assert [(r.id, r.outputs, r.annotations) for r in table.rules] == [
        ("R1", (3,), ("a note",)),
        ("R2", (7,), ("",)),
    ]


def test_rules_end_at_the_first_blank_row(tmp_path: Path) -> None:
    sheet = [*AGE_BAND, [], ["R3", ">= 200", "giant"]]
    project, diagnostics = load_books(tmp_path, {"x.xlsx": [sheet]})
    assert project is not None
    assert [r.id for r in project.decision("age_band").first.rules] == ["R1", "R2"]
    stray = only(diagnostics, "W152")
    assert stray.severity is Severity.WARNING
    assert str(stray.location) == "tables/x.xlsx:Sheet1!A11:C11"


def test_rule_cells_are_located(tmp_path: Path) -> None:
    table = (
        load_ok(tmp_path, {"x.xlsx": {"Bands": AGE_BAND}}).decision("age_band").first
    )
    rule = table.rules[1]
    assert str(rule.location) == "tables/x.xlsx:Bands!A9:C9"
    assert (rule.input_cells, rule.output_cells) == (("B9",), ("C9",))


def test_numeric_code_cell_is_read_as_its_digits(tmp_path: Path) -> None:
    tables = write_tables(tmp_path, {})
    book = Workbook()
    ws = book.worksheets[0]
    for row in decision_table(
        "codes",
        hit_policy="FIRST",
        columns=[("cpt", "input", "code", None), ("ok", "output", "boolean", None)],
        rules=[("R1", 70450, True), ("R2", 42, True)],
    ):
        ws.append(row)
    ws["B8"].number_format = "00000"  # shows 00042
    book.save(tables / "codes.xlsx")
    from compiler.pipeline import load_tables

    project, diagnostics = load_tables(tables)
    assert project is not None and not errors(diagnostics)
    rules = project.decision("codes").first.rules
    assert [r.inputs[0] for r in rules] == [
        UnaryTests((Equals("70450"),)),
        UnaryTests((Equals("00042"),)),
    ]
    warning = only(diagnostics, "W131")
    assert str(warning.location) == "tables/codes.xlsx:Sheet!B8"


# -- Values sheets and named lists ------------------------------------------------------


def test_named_lists_in_values_and_type_cells(tmp_path: Path) -> None:
    lists = values_sheet(
        {
            "gender_marker": '"Male", "Female", "X", "Not specified"',
            "modality": "CT, MRI, PET",
            "ages": "[0..130]",
        }
    )
    sheet = decision_table(
        "t",
        hit_policy="FIRST",
        columns=[
            ("gender", "input", "string", "gender_marker"),
            ("scan", "input", "modality", None),
            ("age", "input", "integer", "ages"),
            ("ok", "output", "boolean", None),
        ],
        rules=[("R1", "Female", "CT, MRI", "< 50", True)],
    )
    project = load_ok(tmp_path, {"x.xlsx": {"Lists": lists, "T": sheet}})
    gender, scan, age = project.decision("t").first.inputs
    assert gender.value_list == ("Male", "Female", "X", "Not specified")
    assert (scan.type, scan.value_list) == (DataType.STRING, ("CT", "MRI", "PET"))
    assert age.values == UnaryTests((Interval(0, 130),))


# -- Tests sheets ------------------------------------------------------------------------


def test_tests_sheet(tmp_path: Path) -> None:
    tests = tests_sheet(
        "age_band",
        [
            ("age", "input"),
            ("band", "expected"),
            ("expected rule", "expected rule"),
            ("Note", "annotation"),
        ],
        [("T1", 17, "child", "R1", "a minor"), ("T2", "null", "null", None, None)],
    )
    project = load_ok(tmp_path, {"x.xlsx": {"T": AGE_BAND, "Cases": tests}})
    (suite,) = project.suites
    assert (suite.table, suite.module) == ("age_band", "test_age_band")
    first, second = suite.cases
    assert (first.id, first.inputs, first.expected) == (
        "T1",
        (("age", 17),),
        (("band", "child"),),
    )
    assert (first.expected_rules, first.note) == (("R1",), "a minor")
    assert str(first.location) == "tables/x.xlsx:Cases!A5"
    assert (second.inputs, second.expected, second.expected_rules) == (
        (("age", None),),
        (("band", None),),
        None,
    )


def test_tests_sheet_with_as_of_and_list_expectations(tmp_path: Path) -> None:
    sheet = decision_table(
        "flags",
        hit_policy="COLLECT",
        metadata={"Effective from": "2025-01-01"},
        columns=[("age", "input", "integer", None), ("flag", "output", "string", None)],
        rules=[("R1", "< 18", "minor"), ("R2", "< 65", "working")],
    )
    tests = tests_sheet(
        "flags",
        [("age", "input"), ("as_of", "input"), ("flag", "expected")],
        [
            ("T1", 10, dt.datetime(2025, 6, 1), '"minor", "working"'),
            ("T2", 70, "2025-06-01", "[]"),
        ],
    )
    (suite,) = load_ok(tmp_path, {"x.xlsx": [sheet, tests]}).suites
    first, second = suite.cases
    assert first.as_of == dt.date(2025, 6, 1)
    assert first.expected == (("flag", ("minor", "working")),)
    assert second.expected == (("flag", ()),)


# -- versions and chains ----------------------------------------------------------------


def version(start: object, end: object, band: str) -> list[list[object]]:
    metadata = {}
    if start is not None:
        metadata["Effective from"] = start
    if end is not None:
        metadata["Effective to"] = end
    return decision_table(
        "band",
        hit_policy="FIRST",
        metadata=metadata,
        columns=[("age", "input", "integer", None), ("band", "output", "string", None)],
        rules=[("R1", "-", band)],
    )


def test_effective_dated_versions(tmp_path: Path) -> None:
    books = {
        "a.xlsx": {"2026": version("2026-01-01", None, "new")},
        "b.xlsx": {"2025": version(dt.datetime(2025, 1, 1), "2025-12-31", "old")},
    }
    decision = load_ok(tmp_path, books).decision("band")
    assert decision.versioned
    assert [(t.effective_from, t.effective_to) for t in decision.versions] == [
        (dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        (dt.date(2026, 1, 1), None),
    ]


def test_from_chains(tmp_path: Path) -> None:
    bmi = decision_table(
        "bmi_class",
        hit_policy="FIRST",
        columns=[
            ("bmi", "input", "number", None),
            ("obese", "output", "boolean", None),
        ],
        rules=[("R1", ">= 30", True), ("R2", "-", False)],
    )
    surgery = decision_table(
        "surgery",
        hit_policy="FIRST",
        columns=[
            ("obese", "from bmi_class", "boolean", None),
            ("age", "input", "integer", None),
            ("eligible", "output", "boolean", None),
        ],
        rules=[("R1", "true", ">= 18", True), ("R2", "-", "-", False)],
    )
    project = load_ok(tmp_path, {"x.xlsx": [surgery, bmi]})
    decision = project.decision("surgery")
    assert decision.requires == ("bmi_class",)
    obese = decision.first.inputs[0]
    assert (obese.kind, obese.source_table) == (ColumnKind.INPUT, "bmi_class")
    assert [c.name for c in project.chain_inputs("surgery")] == ["age", "bmi"]
