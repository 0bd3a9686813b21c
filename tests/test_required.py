"""`required input`: a Kind that says an input must be given.

The reader takes `required input` (and rejects `required` on anything else); the
generated `evaluate`, `evaluate_frame` and `explain` raise InputError for a missing
required input, the reference interpreter raises MissingInput, and the analysis
leaves null out of the input's domain. A workbook without it compiles as before."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from compiler.checking import interpret
from compiler.pipeline import load_tables

from .helpers import Sheets, compile_books, compiled_module, only, write_tables
from .workbooks import Column, decision_table

AGE = ("age", "required input", "integer", "[0..130]")
FLAG = ("flag", "input", "boolean", None)
BAND = ("band", "output", "string", '"child", "adult"')
RULES = [("R1", "< 18", "-", "child"), ("R2", ">= 18", "-", "adult")]


def book(*columns: Column) -> dict[str, Sheets]:
    return {"x.xlsx": {"T": decision_table("band", columns, RULES)}}


def test_a_required_input_raises_input_error_when_missing(tmp_path: Path) -> None:
    compilation = compile_books(tmp_path, book(AGE, FLAG, BAND))
    assert not [d for d in compilation.diagnostics if d.code.startswith("A")]
    module = compiled_module(compilation, "band")
    assert module.evaluate(age=30).outputs.band == "adult"  # flag may be missing
    with pytest.raises(module.InputError) as raised:
        module.evaluate(flag=True)
    assert str(raised.value) == (
        "band: age=None is not allowed; expected an int in [0..130]"
    )
    assert isinstance(raised.value, TypeError)  # InputError is also a TypeError
    with pytest.raises(module.InputError, match="age=None"):
        module.explain()
    assert "age: integer, required" in (module.evaluate.__doc__ or "")
    assert "or a required input is missing" in (module.evaluate.__doc__ or "")


def test_evaluate_frame_names_the_row_of_a_missing_required_input(
    tmp_path: Path,
) -> None:
    module = compiled_module(compile_books(tmp_path, book(AGE, FLAG, BAND)), "band")
    ages = pd.array([30, None, 5], dtype="Int64")
    frame = pd.DataFrame({"age": ages}, index=["a", "b", "c"])
    with pytest.raises(module.InputError, match=r"age=None .*\(row 'b'\)"):
        module.evaluate_frame(frame)
    with pytest.raises(module.InputError, match=r"\(row 0\)"):
        module.evaluate_frame(pd.DataFrame({"flag": [True]}))  # the column is absent
    found = module.evaluate_frame(pd.DataFrame({"age": [30, 5]}))
    assert list(found["band"]) == ["adult", "child"]


def test_the_interpreter_raises_missing_input(tmp_path: Path) -> None:
    project, _ = load_tables(write_tables(tmp_path, book(AGE, FLAG, BAND)))
    assert project is not None
    assert interpret.evaluate(project, "band", {"age": 3}) == (
        {"band": "child"},
        ["R1"],
    )
    with pytest.raises(interpret.MissingInput, match="age is required"):
        interpret.evaluate(project, "band", {"flag": True})


def test_without_required_a_missing_input_is_a_gap_the_analysis_reports(
    tmp_path: Path,
) -> None:
    optional = ("age", "input", "integer", "[0..130]")
    compilation = compile_books(tmp_path, book(optional, FLAG, BAND))
    assert compilation.ok  # a warning: version-1 workbooks still compile
    gap = only(compilation.diagnostics, "A313")
    assert gap.message.startswith("no rule applies when 'age' is missing")
    module = compiled_module(compilation, "band")
    assert module.evaluate().matched == ()
    allowed = "an int in [0..130], or None"
    with pytest.raises(module.InputError, match=allowed.replace("[", r"\[")):
        module.evaluate(age=200)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("required output", "only an input can be declared required, not 'output'"),
        ("required from other", "a 'from' input takes its value from another table"),
        ("required", "'required' alone is not a column kind"),
    ],
)
def test_required_applies_to_plain_inputs_only(
    tmp_path: Path, kind: str, message: str
) -> None:
    columns = (("age", kind, "integer", "[0..130]"), FLAG, BAND)
    compilation = compile_books(tmp_path, book(*columns))
    problem = only(compilation.diagnostics, "E113")
    assert str(problem.location) == "tables/x.xlsx:T!B4"
    assert problem.message.startswith(message)


def test_the_kind_is_case_and_space_insensitive(tmp_path: Path) -> None:
    columns = (("age", "  Required   Input ", "integer", "[0..130]"), FLAG, BAND)
    module = compiled_module(compile_books(tmp_path, book(*columns)), "band")
    with pytest.raises(module.InputError):
        module.evaluate()


ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_tables_analyse_with_no_findings() -> None:
    from compiler.diagnostics import Severity
    from compiler.pipeline import check_tables

    found = [
        d.format()
        for d in check_tables(ROOT / "tables")[1]
        if d.severity is not Severity.INFO
    ]
    assert found == []


def test_the_readme_examples_of_input_errors() -> None:
    from generated import imaging_guideline_set

    with pytest.raises(imaging_guideline_set.InputError) as raised:
        imaging_guideline_set.evaluate(age_years=200)
    assert str(raised.value) == (
        "imaging_guideline_set: age_years=200 is not allowed; "
        "expected an int in [0..130]"
    )
    with pytest.raises(imaging_guideline_set.InputError) as raised:
        imaging_guideline_set.evaluate(age_years=10)
    assert str(raised.value) == (
        "imaging_guideline_set: condition_in_pediatric_guidelines=None is not "
        "allowed; expected a bool"
    )
