"""Version 2: the `years and months duration` type (DMN's yearMonthDuration).

Its value is a `YearsMonths` (a whole number of months), not an int: an evaluator
refuses 18 for it, so months are never taken for an integer. A demo workbook built in
code compiles, the analysis orders the months like integers (exact gaps and
overlaps), the evaluator decides, its generated tests pass, `evaluate_frame` equals
`evaluate`, explanations show the values, and export-dmn / import-dmn keep the type.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli import main
from compiler.diagnostics import CellError
from compiler.model import DataType, YearsMonths
from compiler.reading import cells
from compiler.timetypes import parse_years_months, show_years_months

from .helpers import (
    compile_books,
    compiled_module,
    errors,
    load_books,
    only,
    run_generated_tests,
    write_tables,
)
from .workbooks import decision_table, tests_sheet

YM = "years and months duration"
SCREENING = decision_table(
    "screening_interval",
    [
        ("since_last_screening", "input", YM, None),
        ("status", "output", "string", None),
        ("next_in", "output", YM, None),
    ],
    [
        ("R1", "< 18 months", "wait", "6 months"),
        ("R2", "[18 months..3 years]", "due", "0 months"),
        ("R3", "> P3Y", "overdue", "P0M"),
        ("R4", "null", "unknown", "null"),
    ],
)
SCREENING_TESTS = tests_sheet(
    "screening_interval",
    [
        ("since_last_screening", "input"),
        ("status", "expected"),
        ("next_in", "expected"),
        ("expected rule", "expected rule"),
    ],
    [
        ("T1", "1 year", "wait", "6 months", "R1"),
        ("T2", "P2Y", "due", "P0M", "R2"),
        ("T3", "-P2M", "wait", "P6M", "R1"),
        ("T4", "3 years 1 month", "overdue", None, "R3"),
    ],
)
BOOKS = {"s.xlsx": {"Screening": SCREENING, "Screening tests": SCREENING_TESTS}}


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("3 months", 3),
        ("1 month", 1),
        ("1 year", 12),
        ("2 years 6 months", 30),
        ("P1Y6M", 18),
        ("-P2M", -2),
        ("-1 year", -12),
        ('duration("P1Y")', 12),
        ("P0M", 0),
    ],
)
def test_cell_forms(text: str, months: int) -> None:
    value = parse_years_months(text)
    assert value == YearsMonths(months)
    assert parse_years_months(show_years_months(value)) == value  # shown as typed
    assert parse_years_months(str(value)) == value  # ISO: P1Y6M


def test_entries_compare_like_integers() -> None:
    tests = cells.parse_unary_tests("[3 months..1 year]", DataType.YEARS_MONTHS)
    assert cells.tests_match(tests, YearsMonths(12))
    assert not cells.tests_match(tests, YearsMonths(13))
    below = cells.parse_unary_tests("< 18 months", DataType.YEARS_MONTHS)
    assert cells.tests_match(below, YearsMonths(17))
    assert not cells.tests_match(below, YearsMonths(18))
    assert not cells.tests_match(below, 17)  # an int is not a duration
    assert YearsMonths(18).years == 1 and YearsMonths(18).months == 6
    with pytest.raises(TypeError):
        assert YearsMonths(1) < 2  # type: ignore[operator]


@pytest.mark.parametrize("text", ["P1M3D", "3 days", "PT1H", "2 weeks"])
def test_days_in_a_years_and_months_cell_are_an_error(text: str) -> None:
    with pytest.raises(CellError, match="no fixed length in months") as bad:
        cells.parse_literal(text, DataType.YEARS_MONTHS)
    assert bad.value.code == "E206" and bad.value.hint


def test_lint_names_the_cell_code_and_hint(tmp_path: Path) -> None:
    table = decision_table(
        "bad_interval",
        [("since", "input", YM, None), ("ok", "output", "boolean", None)],
        [("R1", "< P1M3D", True), ("R2", ">= P1M", False)],
    )
    tables = write_tables(tmp_path, {"bad.xlsx": [table]})
    result = CliRunner().invoke(main, ["lint", "--tables", str(tables)])
    assert result.exit_code != 0
    line = next(x for x in result.output.splitlines() if "E206" in x)
    assert "bad.xlsx:Sheet1!B6" in line and "P1M3D" in line, result.output
    assert "90 days: 3 months" in result.output  # the hint


def test_a_date_compared_with_months_is_an_error_naming_the_cell(
    tmp_path: Path,
) -> None:
    table = decision_table(
        "bad_compare",
        [("since", "input", YM, None), ("ok", "output", "boolean", None)],
        [("R1", "< 2025-12-18", True)],
    )
    _, diagnostics = load_books(tmp_path, {"bad.xlsx": [table]})
    found = only(diagnostics, "E206")
    assert str(found.location).endswith("!B6")
    assert "not a years-and-months duration" in found.message and found.hint


def test_an_entry_comparing_months_with_a_date_input_is_a_type_error(
    tmp_path: Path,
) -> None:
    table = decision_table(
        "bad_names",
        [
            ("since", "input", YM, None),
            ("wait", "input", "duration", None),
            ("ok", "output", "boolean", None),
        ],
        [("R1", "< wait", "-", True)],
    )
    _, diagnostics = load_books(tmp_path, {"bad.xlsx": [table]})
    found = only(diagnostics, "E207")
    assert str(found.location).endswith("!B6"), found
    assert "years and months duration" in found.message, found.message


def test_demo_workbook_compiles_decides_and_its_tests_pass(tmp_path: Path) -> None:
    compilation = compile_books(tmp_path, BOOKS)
    assert not errors(compilation.diagnostics), compilation.diagnostics
    module = compiled_module(compilation, "screening_interval")
    months = module.YearsMonths  # the generated package's own value type
    result = module.evaluate(since_last_screening=months(20))
    assert result.matched == ("R2",) and result.outputs.next_in == months(0)
    assert module.evaluate(since_last_screening=months(37)).matched == ("R3",)
    assert module.evaluate().matched == ("R4",)
    with pytest.raises(module.InputError):  # 20 of what? not a duration
        module.evaluate(since_last_screening=20)
    with pytest.raises(module.InputError):
        module.evaluate(since_last_screening=dt.timedelta(days=60))
    explained = module.explain(since_last_screening=months(40))
    assert "P3Y4M is > 3 years" in str(explained)
    assert explained.to_json()["inputs"] == {"since_last_screening": "P3Y4M"}
    output = run_generated_tests(compilation, tmp_path)
    assert "passed" in output and "failed" not in output


def test_analysis_orders_months_like_integers(tmp_path: Path) -> None:
    gap = decision_table(
        "gap_interval",
        [("since", "input", YM, None), ("ok", "output", "boolean", None)],
        [("R1", "< 1 year", True), ("R2", "[13 months..3 years]", False)],
    )
    compilation = compile_books(tmp_path, {"gap.xlsx": [gap]})
    found = [d for d in compilation.diagnostics if d.code == "A303"]
    messages = " ".join(d.message for d in found)
    # whole months: 12 months alone, and from 37 months on (like integers)
    assert "since in {1 year, >= 37 months}" in messages, messages
    overlap = decision_table(
        "overlap_interval",
        [("since", "input", YM, None), ("ok", "output", "boolean", None)],
        [
            ("R1", "<= 12 months", True),
            ("R2", ">= 1 year", False),
            ("R3", "null", True),
        ],
    )
    compilation = compile_books(tmp_path / "o", {"o.xlsx": [overlap]})
    found_overlap = only(compilation.diagnostics, "A301")
    assert "1 year" in found_overlap.message, found_overlap.message
    exact = decision_table(  # < 13 months and >= 13 months: no gap, whole months
        "exact_interval",
        [("since", "input", YM, None), ("ok", "output", "boolean", None)],
        [("R1", "< 13 months", True), ("R2", "> 1 year", False), ("R3", "null", True)],
    )
    compilation = compile_books(tmp_path / "e", {"e.xlsx": [exact]})
    assert not [d for d in compilation.diagnostics if d.code in ("A301", "A303")]


def test_frame_equals_evaluate_row_by_row(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    module = compiled_module(compile_books(tmp_path, BOOKS), "screening_interval")
    months = module.YearsMonths
    rows = [months(1), None, months(18), months(36), months(37), months(-2)]
    decided = module.evaluate_frame(pd.DataFrame({"since_last_screening": rows}))
    for i, value in enumerate(rows):
        expected = module.evaluate(since_last_screening=value)
        assert decided["matched"][i] == expected.matched[0]
        assert decided["status"][i] == expected.outputs.status
        assert decided["next_in"][i] == expected.outputs.next_in
    with pytest.raises(module.InputError):
        module.evaluate_frame(pd.DataFrame({"since_last_screening": [months(1), 3]}))


def test_a_computed_input_takes_years_and_months_duration(tmp_path: Path) -> None:
    rows = [
        ["Decision table", "age_band"],
        [],
        ["Rule", "date_of_birth", "date_of_service", "age", "band"],
        ["Kind", "input", "input", "computed", "output"],
        ["Type", "date", "date", YM, "string"],
        [
            "Expression",
            None,
            None,
            "years and months duration(date_of_birth, date_of_service)",
            None,
        ],
        ["R1", "-", "-", "< 18 years", "minor"],
        ["R2", "-", "-", ">= 18 years", "adult"],
        ["R3", "-", "-", "null", "unknown"],
    ]
    compilation = compile_books(tmp_path, {"a.xlsx": [rows]})
    assert not errors(compilation.diagnostics), compilation.diagnostics
    module = compiled_module(compilation, "age_band")
    born = dt.date(2008, 3, 31)
    assert module.evaluate(
        date_of_birth=born, date_of_service=dt.date(2026, 3, 30)
    ).outputs.band == ("minor")
    assert module.evaluate(
        date_of_birth=born, date_of_service=dt.date(2026, 3, 31)
    ).outputs.band == ("adult")


def test_dmn_export_and_import_keep_the_type(tmp_path: Path) -> None:
    """workbook -> export-dmn -> import-dmn -> workbook gives the same rules."""
    from compiler.interop import dmn
    from compiler.pipeline import load_tables

    project, _ = load_books(tmp_path, {"s.xlsx": [SCREENING]})
    assert project is not None
    exported = dmn.export_dmn(project, (), "s")
    assert not [m for m in exported.messages if m.severity == "error"]
    assert 'typeRef="years and months duration"' in exported.xml
    assert '[duration("P1Y6M")..duration("P3Y")]' in exported.xml
    again = dmn.read_dmn(exported.xml.encode(), "s.dmn")
    assert again.errors == ()
    tables = tmp_path / "back" / "tables"
    dmn.write_workbook(again, tables / "s.xlsx")
    back, diagnostics = load_tables(tables)
    assert back is not None and not errors(diagnostics)
    first = project.decision("screening_interval").first
    second = back.decision("screening_interval").first
    assert [c.type for c in first.inputs + first.outputs] == [
        c.type for c in second.inputs + second.outputs
    ]
    assert [r.inputs for r in first.rules] == [r.inputs for r in second.rules]
    assert [r.outputs for r in first.rules] == [r.outputs for r in second.rules]


def test_dmn_import_reads_year_month_duration() -> None:
    from compiler.interop.dmn import feel

    assert feel.parse_literal('duration("P1Y")') == YearsMonths(12)
    assert feel.parse_literal('@"-P2M"') == YearsMonths(-2)
    assert feel.TYPES["yearMonthDuration"] is DataType.YEARS_MONTHS
    tests = feel.typed_tests(
        feel.parse_unary_tests('> duration("P1Y2M")'), DataType.YEARS_MONTHS
    )
    assert cells.tests_match(tests, YearsMonths(15))
    assert not cells.tests_match(tests, YearsMonths(14))


def test_run_refuses_the_type_with_a_reason(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    tables = write_tables(tmp_path, {"s.xlsx": [SCREENING]})
    source = tmp_path / "in.csv"
    source.write_text("since_last_screening\nP1Y\n")
    result = CliRunner().invoke(
        main,
        [
            "run",
            "--tables",
            str(tables),
            "screening_interval",
            "--input",
            str(source),
            "--output",
            str(tmp_path / "out.csv"),
        ],
    )
    assert result.exit_code != 0
    assert "does not take years-and-months durations yet" in result.output
    assert "since_last_screening" in result.output and "Traceback" not in result.output
