"""Every diagnostic an author can meet: its code, severity, cell and hint.

Workbooks are written to tmp_path/tables, so locations read `tables/x.xlsx:T!C7`.
The tables here use `decision_table`'s layout: with a Hit policy row and a Values row,
the header is row 4 (Kind 5, Type 6, Values 7) and the rules start at row 8.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from compiler.diagnostics import Diagnostic, Severity
from compiler.pipeline import compile_tables, load_tables

from .helpers import Sheets, errors, load_books, only, write_tables
from .workbooks import Row, decision_table, tests_sheet, values_sheet


def imaging(rules: Sequence[Sequence[Any]] | None = None, **kwargs: Any) -> list[Row]:
    """A FIRST table: rules from row 8, columns B (modality), C (age), D (contrast)."""
    return decision_table(
        kwargs.pop("name", "imaging"),
        hit_policy="FIRST",
        columns=[
            ("modality", "input", "string", '"CT", "MRI", "PET"'),
            ("age", "input", "integer", "[0..130]"),
            ("contrast", "output", "boolean", None),
        ],
        rules=rules or [("R1", "CT", "< 18", False), ("R2", "-", "-", True)],
        **kwargs,
    )


def diagnose(tmp_path: Path, books: Mapping[str, Sheets]) -> tuple[Diagnostic, ...]:
    _, diagnostics = load_books(tmp_path, books)
    return diagnostics


def check(
    diagnostic: Diagnostic,
    where: str,
    severity: Severity = Severity.ERROR,
    hint: str | None = None,
    text: str | None = None,
) -> None:
    assert str(diagnostic.location) == where, diagnostic.format()
    assert diagnostic.severity is severity, diagnostic.format()
    if hint is not None:
        assert hint in diagnostic.hint, diagnostic.format()
    if text is not None:
        assert diagnostic.text == text, diagnostic.format()


def test_a_valid_table_has_no_diagnostics(tmp_path: Path) -> None:
    assert diagnose(tmp_path, {"x.xlsx": {"T": imaging()}}) == ()


# -- cells -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "code", "hint"),
    [
        ('"CT', "E201", "quoted string"),
        ("[CT..PET]", "E201", "list the allowed values"),
        ("< CT", "E201", "list the allowed values"),
        ("not CT", "E201", "not(...)"),
    ],
)
def test_unparsable_input_cell(tmp_path: Path, cell: str, code: str, hint: str) -> None:
    rules = [("R1", cell, "< 18", False), ("R2", "-", "-", True)]
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"T": imaging(rules)}})
    check(only(diagnostics, code), "tables/x.xlsx:T!B8", hint=hint, text=cell)


def test_unparsable_output_cell(tmp_path: Path) -> None:
    rules = [("R1", "CT", "< 18", "maybe"), ("R2", "-", "-", None)]
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"T": imaging(rules)}})
    assert [(d.code, str(d.location)) for d in errors(diagnostics)] == [
        ("E201", "tables/x.xlsx:T!D8"),
        ("E202", "tables/x.xlsx:T!D9"),
    ]
    assert "true or false" in diagnostics[0].hint
    assert "null" in diagnostics[1].hint


def test_us_date_is_an_error_with_the_iso_form_as_hint(tmp_path: Path) -> None:
    sheet = decision_table(
        "deadline",
        hit_policy="FIRST",
        columns=[("due", "input", "date", None), ("late", "output", "boolean", None)],
        rules=[("R1", "< 12/18/2025", False), ("R2", "-", True)],
    )
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"T": sheet}})
    check(
        only(diagnostics, "E203"),
        "tables/x.xlsx:T!B7",
        hint="2025-12-18",
        text="< 12/18/2025",
    )


def test_bad_effective_date(tmp_path: Path) -> None:
    sheet = imaging(metadata={"Effective from": "18/12/2025"})
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"T": sheet}})
    check(only(diagnostics, "E203"), "tables/x.xlsx:T!B3", hint="ISO")


def test_effective_to_before_effective_from(tmp_path: Path) -> None:
    metadata = {"Effective from": "2026-01-01", "Effective to": "2025-01-01"}
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"T": imaging(metadata=metadata)}})
    assert only(diagnostics, "E108").severity is Severity.ERROR


def test_code_range_ends_of_different_length(tmp_path: Path) -> None:
    sheet = decision_table(
        "cpt",
        hit_policy="FIRST",
        columns=[("code", "input", "code", None), ("ok", "output", "boolean", None)],
        rules=[("R1", "[7045..70498]", True)],
    )
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"Codes": sheet}})
    check(only(diagnostics, "E204"), "tables/x.xlsx:Codes!B7", hint="same length")


# -- Values --------------------------------------------------------------------------------


def test_value_outside_values_in_a_rule(tmp_path: Path) -> None:
    rules = [("R1", "MRl", "< 18", False), ("R2", "PET, XRAY", "[0..200]", True)]
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"T": imaging(rules)}})
    outside = [d for d in diagnostics if d.code == "E405"]
    assert [(str(d.location), d.text) for d in outside] == [
        ("tables/x.xlsx:T!B8", "MRl"),
        ("tables/x.xlsx:T!B9", "XRAY"),
        ("tables/x.xlsx:T!C9", "200"),
    ]
    assert outside[0].hint == "did you mean 'MRI'?"
    assert "CT" in outside[1].hint  # nothing close: the allowed values are listed


def test_value_outside_values_in_an_output_and_a_default(tmp_path: Path) -> None:
    sheet = decision_table(
        "t",
        hit_policy="FIRST",
        columns=[
            ("a", "input", "integer", None),
            ("band", "output", "string", "child, adult"),
        ],
        defaults={"band": "adlt"},
        rules=[("R1", "< 18", "chlid")],
    )
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"T": sheet}})
    outside = [d for d in diagnostics if d.code == "E405"]
    assert [(str(d.location), d.hint) for d in outside] == [
        ("tables/x.xlsx:T!C4", "did you mean 'adult'?"),  # the column's header cell
        ("tables/x.xlsx:T!C9", "did you mean 'child'?"),
    ]


def test_value_outside_values_in_a_test(tmp_path: Path) -> None:
    tests = tests_sheet(
        "imaging",
        [("modality", "input"), ("age", "input"), ("contrast", "expected")],
        [("T1", "CT", 10, False), ("T2", "MRT", 10, True)],
    )
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"T": imaging(), "Tests": tests}})
    check(
        only(diagnostics, "E405"), "tables/x.xlsx:Tests!B6", hint="did you mean 'MRI'?"
    )


# -- rule ids ---------------------------------------------------------------------------------


def test_duplicate_rule_id(tmp_path: Path) -> None:
    rules = [("R1", "CT", "< 18", False), ("R1", "-", "-", True)]
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"T": imaging(rules)}})
    check(only(diagnostics, "E404"), "tables/x.xlsx:T!A9", text="R1")


def test_missing_rule_id(tmp_path: Path) -> None:
    rules = [("R1", "CT", "< 18", False), (None, "-", "-", True)]
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"T": imaging(rules)}})
    check(only(diagnostics, "E150"), "tables/x.xlsx:T!A9")


# -- structure -----------------------------------------------------------------------------


def test_unknown_metadata_label_is_a_warning(tmp_path: Path) -> None:
    sheet = imaging(metadata={"Reviewer": "Dr. House"})
    project, diagnostics = load_books(tmp_path, {"x.xlsx": {"T": sheet}})
    assert project is not None and project.decision("imaging")
    check(only(diagnostics, "W102"), "tables/x.xlsx:T!A3", Severity.WARNING)


@pytest.mark.parametrize("missing", ["Kind", "Type"])
def test_missing_kind_or_type_row(tmp_path: Path, missing: str) -> None:
    sheet = [row for row in imaging() if row[:1] != [missing]]
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"T": sheet}})
    problem = only(diagnostics, "E104")
    check(problem, "tables/x.xlsx:T!A5", hint="Kind and Type")
    assert missing in problem.message


def test_no_header_row(tmp_path: Path) -> None:
    sheet = [["Decision table", "t"], [], ["Rules", "a"], ["Kind", "input"]]
    check(
        only(diagnose(tmp_path, {"x.xlsx": {"T": sheet}}), "E103"), "tables/x.xlsx:T!A2"
    )


@pytest.mark.parametrize(
    "name", ["Imaging", "ct-contrast", "2nd_table", "class", "tests"]
)
def test_invalid_table_name(tmp_path: Path, name: str) -> None:
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"T": imaging(name=name)}})
    check(only(diagnostics, "E101"), "tables/x.xlsx:T!B1", text=name)


@pytest.mark.parametrize("name", ["Age", "age group", "for", "as_of"])
def test_invalid_column_name(tmp_path: Path, name: str) -> None:
    sheet = decision_table(
        "t",
        columns=[(name, "input", "integer", None), ("b", "output", "string", None)],
        rules=[("R1", "1", "x")],
    )
    check(
        only(diagnose(tmp_path, {"x.xlsx": {"T": sheet}}), "E111"),
        "tables/x.xlsx:T!B3",
        text=name,
    )


def test_column_name_twice(tmp_path: Path) -> None:
    sheet = decision_table(
        "t",
        columns=[("a", "input", "integer", None), ("a", "output", "string", None)],
        rules=[("R1", "1", "x")],
    )
    check(
        only(diagnose(tmp_path, {"x.xlsx": {"T": sheet}}), "E112"), "tables/x.xlsx:T!C3"
    )


def test_unknown_kind_and_type(tmp_path: Path) -> None:
    sheet = decision_table(
        "t",
        columns=[
            ("a", "inptu", "integer", None),
            ("b", "input", "integr", None),
            ("c", "output", "string", None),
        ],
        rules=[("R1", "1", "2", "x")],
    )
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"T": sheet}})
    check(only(diagnostics, "E113"), "tables/x.xlsx:T!B4", hint="did you mean 'input'?")
    check(
        only(diagnostics, "E114"), "tables/x.xlsx:T!C5", hint="did you mean 'integer'?"
    )


def test_duplicate_table_names(tmp_path: Path) -> None:
    diagnostics = diagnose(
        tmp_path, {"a.xlsx": {"T": imaging()}, "b.xlsx": {"T": imaging()}}
    )
    problem = only(diagnostics, "E401")
    check(problem, "tables/b.xlsx:T!B1", text="imaging")
    assert "tables/a.xlsx:T" in problem.message


def test_overlapping_effective_ranges(tmp_path: Path) -> None:
    first = imaging(
        metadata={"Effective from": "2025-01-01", "Effective to": "2025-12-31"}
    )
    second = imaging(metadata={"Effective from": dt.datetime(2025, 12, 31)})
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"V1": first, "V2": second}})
    problem = only(diagnostics, "E402")
    check(problem, "tables/x.xlsx:V2!B3")  # its Effective from cell
    assert "tables/x.xlsx:V1" in problem.message


def test_adjacent_effective_ranges_are_fine(tmp_path: Path) -> None:
    first = imaging(metadata={"Effective to": "2025-12-31"})
    second = imaging(metadata={"Effective from": "2026-01-01"})
    assert not errors(diagnose(tmp_path, {"x.xlsx": {"V1": first, "V2": second}}))


def chained(name: str, source: str) -> list[Row]:
    return decision_table(
        name,
        hit_policy="FIRST",
        columns=[
            ("flag", f"from {source}", "boolean", None),
            ("flag_out", "output", "boolean", None),
        ],
        rules=[("R1", "-", True)],
    )


def test_from_a_missing_table(tmp_path: Path) -> None:
    sheet = decision_table(
        "t",
        hit_policy="FIRST",
        columns=[
            ("contrast", "from imagng", "boolean", None),
            ("x", "output", "boolean", None),
        ],
        rules=[("R1", "-", True)],
    )
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"I": imaging(), "T": sheet}})
    check(
        only(diagnostics, "E410"), "tables/x.xlsx:T!B5", hint="did you mean 'imaging'?"
    )


def test_from_cycle(tmp_path: Path) -> None:
    def link(name: str, source: str) -> list[Row]:
        return decision_table(
            name,
            hit_policy="FIRST",
            columns=[
                (f"{source}_out", f"from {source}", "boolean", None),
                (f"{name}_out", "output", "boolean", None),
            ],
            rules=[("R1", "-", True)],
        )

    books = {"x.xlsx": {"A": link("a", "c"), "B": link("b", "a"), "C": link("c", "b")}}
    problem = only(diagnose(tmp_path, books), "E411")
    assert problem.severity is Severity.ERROR
    assert (
        "a -> c -> b -> a" in problem.message or "a -> b -> c -> a" in problem.message
    )
    assert str(problem.location).startswith("tables/x.xlsx:")


# -- workbook hygiene --------------------------------------------------------------------


def raw_book(tmp_path: Path, edit: Callable[[Any], object]) -> Path:
    """Write IMAGING with openpyxl, letting EDIT(ws) change the sheet first."""
    tables = write_tables(tmp_path, {})
    book = Workbook()
    ws = book.worksheets[0]
    ws.title = "T"
    for row in imaging():
        ws.append(row)
    edit(ws)
    book.save(tables / "x.xlsx")
    return tables


def test_merged_cells(tmp_path: Path) -> None:
    tables = raw_book(tmp_path, lambda ws: ws.merge_cells("B8:C8"))
    _, diagnostics = load_tables(tables)
    check(only(diagnostics, "E120"), "tables/x.xlsx:T!B8:C8", hint="unmerge")


def test_formula_without_cached_value(tmp_path: Path) -> None:
    def edit(ws: Any) -> None:
        ws["C8"] = "=10+8"  # openpyxl stores a formula without a cached value

    _, diagnostics = load_tables(raw_book(tmp_path, edit))
    check(only(diagnostics, "E121"), "tables/x.xlsx:T!C8", hint="save the workbook")
    # one problem, one message: not also "the cell cannot be parsed" for the same cell
    assert [d.code for d in errors(diagnostics)] == ["E121"]


def test_formula_without_cached_value_in_an_output_is_one_error(tmp_path: Path) -> None:
    def edit(ws: Any) -> None:
        ws["D8"] = "=1=1"

    _, diagnostics = load_tables(raw_book(tmp_path, edit))
    assert [(d.code, str(d.location)) for d in errors(diagnostics)] == [
        ("E121", "tables/x.xlsx:T!D8")
    ]


def test_tests_sheet_unknown_columns(tmp_path: Path) -> None:
    tests = tests_sheet(
        "imaging",
        [("modality", "input"), ("agee", "input"), ("contrats", "expected")],
        [("T1", "CT", 10, False)],
    )
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"T": imaging(), "Tests": tests}})
    unknown = [d for d in diagnostics if d.code == "E303"]
    assert [(str(d.location), d.hint) for d in unknown] == [
        ("tables/x.xlsx:Tests!C3", "did you mean 'age'?"),
        ("tables/x.xlsx:Tests!D3", "did you mean 'contrast'?"),
    ]


def test_tests_sheet_unknown_table(tmp_path: Path) -> None:
    tests = tests_sheet("imagin", [("modality", "input")], [("T1", "CT")])
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"T": imaging(), "Tests": tests}})
    check(
        only(diagnostics, "E301"),
        "tables/x.xlsx:Tests!B1",
        hint="did you mean 'imaging'?",
    )


def test_tests_sheet_unknown_expected_rule(tmp_path: Path) -> None:
    tests = tests_sheet(
        "imaging",
        [("modality", "input"), ("expected rule", "expected rule")],
        [("T1", "CT", "R9")],
    )
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"T": imaging(), "Tests": tests}})
    check(only(diagnostics, "E421"), "tables/x.xlsx:Tests!C5", text="R9")


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"name,age\nx,1\n", "not an .xlsx"), (b"PK\x03\x04broken", "")],
)
def test_unreadable_workbook(tmp_path: Path, content: bytes, message: str) -> None:
    tables = write_tables(tmp_path, {"ok.xlsx": {"T": imaging()}})
    (tables / "bad.xlsx").write_bytes(content)
    project, diagnostics = load_tables(tables)
    problem = only(diagnostics, "E001")
    check(problem, "tables/bad.xlsx")
    assert message in problem.message


# -- every problem in one run ----------------------------------------------------------------


def test_every_problem_of_a_workbook_is_reported_at_once(tmp_path: Path) -> None:
    rules = [
        ("R1", "CT", "< 1/2/2025", False),  # not a whole number
        ("R2", "not MRI", "-", True),  # bad cell
        ("R3", "-", "-", "perhaps"),  # bad output
    ]
    bad_name = imaging(name="Bad Name")
    tests = tests_sheet(
        "imaging", [("modality", "input"), ("nope", "input")], [("T1", "CT", 1)]
    )
    lists = values_sheet({"modalities": "CT, MRI"})
    books = {
        "x.xlsx": {"T": imaging(rules), "U": bad_name, "Tests": tests, "V": lists},
        "y.xlsx": {"T": imaging(name="other", metadata={"Colour": "red"})},
    }
    diagnostics = diagnose(tmp_path, books)
    found = {
        (d.code, str(d.location)) for d in diagnostics if d.severity >= Severity.WARNING
    }
    assert found >= {
        ("E201", "tables/x.xlsx:T!C8"),
        ("E201", "tables/x.xlsx:T!B9"),
        ("E201", "tables/x.xlsx:T!D10"),
        ("E101", "tables/x.xlsx:U!B1"),
        ("E303", "tables/x.xlsx:Tests!C3"),
        ("W102", "tables/y.xlsx:T!A3"),
    }


def test_validation_problems_are_reported_with_cell_problems(tmp_path: Path) -> None:
    """A cell error in one table does not hide a duplicate id or a value outside the
    Values elsewhere: the author sees them all in one run."""
    broken = imaging([("R1", "CT", "< 1/2/2025", False), ("R2", "-", "-", True)])
    duplicate = imaging(
        [("R1", "XRAY", "-", False), ("R1", "-", "-", True)], name="other"
    )
    diagnostics = compile_tables(
        write_tables(tmp_path, {"x.xlsx": {"A": broken, "B": duplicate}})
    ).diagnostics
    found = {(d.code, str(d.location)) for d in errors(diagnostics)}
    assert found == {
        ("E201", "tables/x.xlsx:A!C8"),
        ("E405", "tables/x.xlsx:B!B8"),
        ("E404", "tables/x.xlsx:B!A9"),
    }


def test_id_checks_count_the_rows_left_out_for_a_cell_error(tmp_path: Path) -> None:
    """A rule or test row with a bad cell is left out, but its id still counts: a
    duplicate id, or an expected rule that is no rule, shows in the same run as the
    cell errors, in the same table and sheet, not only once those are fixed."""
    rules = [
        ("R1", "CT", "< 18", False),
        ("R2", "CT", "abc", True),  # a cell error
        ("R2", "-", "-", True),  # the same id as the unreadable row
        ("R1", "MRI", "xyz", False),  # a cell error, and the id of the first row
    ]
    tests = tests_sheet(
        "imaging",
        [("modality", "input"), ("age", "input"), ("rule", "expected rule")],
        [
            ("T1", "CT", 5, "R9"),  # no such rule, in a table with cell errors
            ("T2", "CT", "old", "R8"),  # a cell error, and no such rule
            ("T2", "CT", 40, "R2"),  # the id of the unreadable case
            ("T3", "CT", 40, "R2"),  # R2 exists (its first row could not be read)
        ],
    )
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"T": imaging(rules), "Tests": tests}})
    found = {(d.code, str(d.location)) for d in errors(diagnostics)}
    assert found == {
        ("E201", "tables/x.xlsx:T!C9"),
        ("E404", "tables/x.xlsx:T!A10"),
        ("E201", "tables/x.xlsx:T!C11"),
        ("E404", "tables/x.xlsx:T!A11"),
        ("E421", "tables/x.xlsx:Tests!D5"),
        ("E201", "tables/x.xlsx:Tests!C6"),
        ("E421", "tables/x.xlsx:Tests!D6"),
        ("E420", "tables/x.xlsx:Tests!A7"),
    }, [d.format() for d in diagnostics]


def test_diagnostics_are_sorted_and_formatted(tmp_path: Path) -> None:
    rules = [("R1", "CT", "abc", False), ("R2", "-", "[1..", "x")]
    diagnostics = diagnose(tmp_path, {"x.xlsx": {"T": imaging(rules)}})
    cells = [d.location.cell for d in diagnostics]
    assert cells == ["C8", "C9", "D9"]
    assert diagnostics[0].format() == (
        "tables/x.xlsx:T!C8: error E201: 'abc' is not a whole number\n"
        "    cell: 'abc'\n"
        "    hint: integer columns take whole numbers, such as 18"
    )


def test_a_table_with_errors_does_not_raise_false_alarms_elsewhere(
    tmp_path: Path,
) -> None:
    """Cross checks run beside cell errors, but a table that could not be read (or a
    rule whose cells could not) is not reported again as missing where it is used."""
    broken = decision_table(  # no Kind row: the whole table is unreadable
        "age_band",
        columns=[("age", None, "integer", None), ("band", None, "string", None)],
        rules=[("A1", "< 18", "child"), ("A2", ">= 18", "adult")],
    )
    fees = decision_table(
        "fees",
        hit_policy="FIRST",
        columns=[
            ("band", "from age_band", "string", None),
            ("fee", "output", "number", None),
        ],
        rules=[("F1", "child", "ten"), ("F2", "-", 2.5)],  # F1: not a number
    )
    age_tests = tests_sheet("age_band", [("age", "input")], [("T1", 3)])
    fee_tests = tests_sheet(
        "fees",
        [("age", "input"), ("fee", "expected"), ("rule", "expected rule")],
        [("T1", 3, 10, "F1")],
    )
    diagnostics = diagnose(
        tmp_path,
        {"x.xlsx": {"Age": broken, "Fees": fees, "AT": age_tests, "FT": fee_tests}},
    )
    found = {(d.code, str(d.location)) for d in errors(diagnostics)}
    assert found == {
        ("E113", "tables/x.xlsx:Age!B4"),
        ("E113", "tables/x.xlsx:Age!C4"),
        ("E201", "tables/x.xlsx:Fees!C7"),
    }, [d.format() for d in diagnostics]
