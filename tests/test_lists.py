"""Version 2 of the workbook format: list-valued inputs (`list of code`) with
`any(...)`, `every(...)` and `none(...)` entries.

The demo workbook is built in code: a claim's ICD-10 codes, where a rule applies when
any code falls under `M54.*`, and a CPT list where no code may be in a range. It
compiles, analyses, evaluates, passes its generated tests, and `evaluate_frame`
equals `evaluate` row by row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from compiler.checking import interpret

from .helpers import (
    compile_books,
    compiled_module,
    errors,
    load_books,
    only,
    run_generated_tests,
    write_package,
)
from .workbooks import decision_table, tests_sheet

SPINE = decision_table(
    "spine_xray",
    [
        ("diagnosis_codes", "input", "list of code", None),
        ("cpt_codes", "input", "list of code", None),
        ("xray_needed", "output", "boolean", None),
    ],
    [
        ("R1", "any(M54.*, M51.*)", "none([72141..72158])", True),
        ("R2", "any(M54.*, M51.*)", "any([72141..72158])", False),
        ("R3", "none(M54.*, M51.*)", "-", False),
    ],
    hit_policy="FIRST",
)
CASES = tests_sheet(
    "spine_xray",
    [
        ("diagnosis_codes", "input"),
        ("cpt_codes", "input"),
        ("xray_needed", "expected"),
        ("expected rule", "expected rule"),
    ],
    [
        ("T1", "M54.5, Z00.0", "72020", True, "R1"),
        ("T2", "M51.16", "72148", False, "R2"),
        ("T3", "Z00.0", "[]", False, "R3"),
        ("T4", "0042", "72148", False, "R3"),
    ],
)
BOOKS = {"spine.xlsx": {"Spine": SPINE, "Cases": CASES}}


def test_demo_workbook_compiles_decides_and_its_tests_pass(tmp_path: Path) -> None:
    compilation = compile_books(tmp_path, BOOKS)
    assert not errors(compilation.diagnostics), compilation.diagnostics
    module = compiled_module(compilation, "spine_xray")
    decide = module.evaluate
    assert decide(diagnosis_codes=("M54.5",), cpt_codes=("72020",)).matched == ("R1",)
    assert decide(diagnosis_codes=["M54.5"], cpt_codes=["72148"]).matched == ("R2",)
    assert decide(diagnosis_codes=(), cpt_codes=()).matched == ("R3",)
    assert decide().matched == ()  # no lists: no quantifier holds
    with pytest.raises(module.InputError):
        decide(diagnosis_codes=(5410,), cpt_codes=())
    with pytest.raises(module.InputError):
        decide(diagnosis_codes="M54.5", cpt_codes=())
    run_generated_tests(compilation, tmp_path)
    page = compilation.files["spine_xray.md"]  # type: ignore[index]
    assert "| diagnosis_codes | input | list of code |" in page


def test_codes_stay_text(tmp_path: Path) -> None:
    project, diagnostics = load_books(tmp_path, BOOKS)
    assert project is not None and not errors(diagnostics)
    case = project.suites[0].cases[3]
    assert dict(case.inputs)["diagnosis_codes"] == ("0042",)


def test_the_analysis_hedges_quantifiers_of_one_list(tmp_path: Path) -> None:
    table = decision_table(
        "hedged",
        [("codes", "input", "list of code", None), ("out", "output", "boolean", None)],
        [("R1", "any(M54.*)", True), ("R2", "none(M54.*)", False)],
    )
    compilation = compile_books(tmp_path, {"h.xlsx": [table]})
    for diagnostic in compilation.diagnostics:
        if diagnostic.code.startswith("A30"):
            assert "may be spurious" in diagnostic.message
            assert diagnostic.severity.name == "WARNING"


def test_frame_equals_evaluate_row_by_row(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    module = compiled_module(compile_books(tmp_path, BOOKS), "spine_xray")
    rows: list[tuple[Any, Any]] = [
        (("M54.5",), ("72020",)),
        (["M51.1", "Z00"], ["72148"]),
        ((), ()),
        (None, None),
        (("Z00",), None),
    ]
    frame = pd.DataFrame(rows, columns=["diagnosis_codes", "cpt_codes"], dtype=object)
    decided = module.evaluate_frame(frame)
    for i, (codes, cpts) in enumerate(rows):
        expected = module.evaluate(diagnosis_codes=codes, cpt_codes=cpts)
        assert decided["matched"][i] == (expected.matched or (None,))[0]
        assert decided["xray_needed"][i] == expected.outputs.xray_needed


def test_reference_interpreter_agrees(tmp_path: Path) -> None:
    project, _ = load_books(tmp_path, BOOKS)
    assert project is not None
    module = compiled_module(compile_books(tmp_path / "c", BOOKS), "spine_xray")
    for codes in ((), ("M54.5",), ("Z00", "M51.9"), ("A00",)):
        for cpts in ((), ("72148",), ("72020", "72150")):
            inputs = {"diagnosis_codes": codes, "cpt_codes": cpts}
            _, matched = interpret.evaluate(project, "spine_xray", inputs)  # type: ignore[arg-type]
            assert tuple(matched[:1]) == module.evaluate(**inputs).matched


def test_a_plain_test_in_a_list_column_is_an_error(tmp_path: Path) -> None:
    table = decision_table(
        "bad_list",
        [("codes", "input", "list of code", None), ("out", "output", "boolean", None)],
        [("R1", "M54.*", True)],
    )
    _, diagnostics = load_books(tmp_path, {"b.xlsx": [table]})
    found = only(diagnostics, "E209")
    assert found.location.cell == "B6" and "any(" in found.hint


def test_mypy_strict_passes_on_the_version_2_demo_tables(tmp_path: Path) -> None:
    """The generated code of every version-2 demo (time types, expressions, computed outputs, lists)
    is typed: mypy --strict passes on it."""
    import subprocess
    import sys

    from . import test_expressions, test_time_types

    books = {
        **test_expressions.BOOKS,
        **test_expressions.EXPIRY_BOOKS,
        **test_time_types.BOOKS,
        **BOOKS,
    }
    write_package(compile_books(tmp_path, books), tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "generated"],
        cwd=tmp_path / "out",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_explain_says_a_quantified_entry_of_the_list_as_written(tmp_path: Path) -> None:
    """`explain` shows the list against the cell's `any(...)`, passing or failing,
    not the derived boolean column the entry compiles to; its inputs are the
    caller's."""
    module: Any = compiled_module(compile_books(tmp_path, BOOKS), "spine_xray")
    why = module.explain(diagnosis_codes=["M54.5", "Z00.0"], cpt_codes=["72148"])
    text = str(why)
    assert "inputs: diagnosis_codes = [M54.5, Z00.0], cpt_codes = [72148]\n" in text
    assert (
        "diagnosis_codes = [M54.5, Z00.0] passes any(M54.*, M51.*) "
        "(tables/spine.xlsx:Spine!B8)"
    ) in text
    assert "R1: cpt_codes = [72148] fails none([72141..72158])" in text
    assert "_any_" not in text and "_none_" not in text
    assert why.result == module.evaluate(
        diagnosis_codes=["M54.5", "Z00.0"], cpt_codes=["72148"]
    )
    entries = why.to_json()["rules"][1]["entries"]
    assert {e["input"] for e in entries} == {"diagnosis_codes", "cpt_codes"}
