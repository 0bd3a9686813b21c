"""Tests-sheet cases are run where authors look: `compile`, `lint`, `check`, `watch`
(and `analyse`) report a case the table no longer answers as `E423`, at its expected
cell, and write nothing; the reference interpreter they use agrees with the generated
code on every case of the shipped tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from compiler.authoring.annotate import FILLS
from compiler.checking import interpret
from compiler.cli import main
from compiler.diagnostics import Severity
from compiler.emitting.loader import load_modules
from compiler.pipeline import compile_tables

from .helpers import errors, only, watch_one_save, write_tables
from .workbooks import Row, decision_table, tests_sheet, write_workbook

ROOT = Path(__file__).resolve().parents[1]


def band(limit: int) -> list[Row]:
    """Rules from row 7 (R1 at A7); the Tests sheet's cases from row 5."""
    return decision_table(
        "band",
        hit_policy="FIRST",
        columns=[("age", "input", "integer", None), ("band", "output", "string", None)],
        rules=[("R1", f"< {limit}", "child"), ("R2", "-", "adult")],
    )


CASES = tests_sheet(
    "band",
    [("age", "input"), ("band", "expected"), ("rule", "expected rule")],
    [("T1", 10, "child", "R1"), ("T2", 17, "child", "R1"), ("T3", 40, "adult", "R2")],
)


def write(tables: Path, limit: int) -> Path:
    write_workbook(tables / "band.xlsx", {"Rules": band(limit), "Tests": CASES})
    return tables


def test_a_case_that_no_longer_holds_is_an_error_at_its_expected_cell(
    tmp_path: Path,
) -> None:
    """R1 changed from `< 18` to `< 16`: T2 (age 17) now gets R2's adult."""
    assert compile_tables(write(tmp_path / "tables", 18)).ok
    compilation = compile_tables(write(tmp_path / "tables", 16))
    assert compilation.files is None  # nothing to write
    found = [(str(d.location), d.severity) for d in errors(compilation.diagnostics)]
    assert found == [
        ("tables/band.xlsx:Tests!C6", Severity.ERROR),
        ("tables/band.xlsx:Tests!D6", Severity.ERROR),
    ]
    output, rule = errors(compilation.diagnostics)
    assert output.code == rule.code == "E423"
    assert output.message == (
        "the case 'T2' does not hold: it expects band = \"child\", but the table "
        'answers "adult" (rule R2 at tables/band.xlsx:Rules!A8 decided)'
    )
    assert rule.message == (
        "the case 'T2' does not hold: it expects rule R1, but rule R2 at "
        "tables/band.xlsx:Rules!A8 decided"
    )


def test_a_case_the_table_cannot_decide_is_an_error(tmp_path: Path) -> None:
    rules = decision_table(
        "band",
        columns=[("age", "input", "integer", None), ("band", "output", "string", None)],
        rules=[("R1", "< 18", "child"), ("R2", "< 30", "young")],  # UNIQUE overlaps
    )
    cases = tests_sheet(
        "band", [("age", "input"), ("band", "expected")], [("T1", 5, "child")]
    )
    tables = write_tables(tmp_path, {"b.xlsx": {"Rules": rules, "Tests": cases}})
    problem = only(compile_tables(tables).diagnostics, "E423")
    assert str(problem.location) == "tables/b.xlsx:Tests!C5"
    assert "cannot decide it" in problem.message and "R1, R2" in problem.message


def test_a_case_on_a_row_with_an_error_is_not_run(tmp_path: Path) -> None:
    """A case whose value is outside its Values (E405) is reported for that, not
    also as failing."""
    rules = decision_table(
        "band",
        columns=[
            ("age", "input", "integer", "[0..130]"),
            ("band", "output", "string", None),
        ],
        rules=[("R1", "< 18", "child"), ("R2", ">= 18", "adult")],
    )
    cases = tests_sheet(
        "band", [("age", "input"), ("band", "expected")], [("T1", 200, "child")]
    )
    tables = write_tables(tmp_path, {"b.xlsx": {"Rules": rules, "Tests": cases}})
    codes = [d.code for d in errors(compile_tables(tables).diagnostics)]
    assert codes == ["E405"]


def test_compile_lint_check_and_watch_report_a_failing_case(tmp_path: Path) -> None:
    tables, out = write(tmp_path / "tables", 18), tmp_path / "generated"
    runner = CliRunner()
    args = ["--tables", str(tables), "--out", str(out)]
    assert runner.invoke(main, ["compile", *args]).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    write(tables, 16)
    for command in ("compile", "lint", "check"):
        result = runner.invoke(main, [command, *args])
        assert result.exit_code == 3, (command, result.output)
        assert "tables/band.xlsx:Tests!C6: error E423" in result.stderr, command
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_watch_reports_a_failing_case_and_exits_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One cycle: the first run compiles, the save breaks T2, Ctrl-C stops."""
    tables, out = write(tmp_path / "tables", 18), tmp_path / "generated"
    result = watch_one_save(
        monkeypatch, tables, out, lambda: write(tables, 16) / "band.xlsx"
    )
    assert result.exit_code == 3, result.output
    assert "tables/band.xlsx:Tests!C6: error E423" in result.stderr
    assert "nothing written" in result.stderr
    assert "&lt; 18" in (out / "band.md").read_text()  # the last good output


def test_eval_and_explain_answer_while_a_case_fails(tmp_path: Path) -> None:
    """They show what the tables decide, to see why a case fails."""
    tables = write(tmp_path / "tables", 16)
    runner = CliRunner()
    for command in ("eval", "explain"):
        result = runner.invoke(
            main, [command, "--tables", str(tables), "band", "age=17"]
        )
        assert result.exit_code == 0, result.output
        assert "adult" in result.stdout and "R2" in result.stdout


def test_lint_annotate_marks_the_failing_cells(tmp_path: Path) -> None:
    tables = write(tmp_path / "tables", 16)
    dest = tmp_path / "annotated"
    result = CliRunner().invoke(
        main, ["lint", "--tables", str(tables), "--annotate", str(dest)]
    )
    assert result.exit_code == 3, result.output
    sheet = load_workbook(dest / "band.xlsx")["Tests"]
    for cell in ("C6", "D6"):
        assert sheet[cell].comment is not None and "E423" in sheet[cell].comment.text
        assert sheet[cell].fill.start_color.rgb.endswith(FILLS[Severity.ERROR])
    assert sheet["C5"].comment is None  # T1 still holds


def test_the_interpreter_and_the_generated_code_agree_on_the_shipped_cases() -> None:
    """What `compile` checks the cases with (the interpreter) answers as the generated
    evaluators (what pytest on generated/tests runs) do, case by case."""
    compilation = compile_tables(ROOT / "tables")
    project, files = compilation.project, compilation.files
    assert project is not None and files is not None
    modules = load_modules(files, [d.name for d in project.decisions])
    compared = 0
    for suite in project.suites:
        module = modules[suite.table]
        versioned = project.chain_versioned(suite.table)
        for case in suite.cases:
            inputs = dict(case.inputs)
            outputs, matched = interpret.evaluate(
                project, suite.table, inputs, case.as_of
            )
            kwargs = {**inputs, "as_of": case.as_of} if versioned else inputs
            result = module.evaluate(**kwargs)
            assert sorted(result.matched) == sorted(matched), case.location
            if isinstance(outputs, list):
                assert [o._asdict() for o in result.outputs] == outputs, case.location
            else:
                assert result.outputs._asdict() == outputs, case.location
            compared += 1
    assert compared == sum(len(s.cases) for s in project.suites) > 500
