"""Version 2 of the workbook format: DMN's list semantics (TCK 0039) in workbooks.

An entry that is exactly the name of a list input of the column's type means "the
value is in that list", and computed outputs work in COLLECT and RULE ORDER tables,
one value per matched rule. The workbook is built in code; `evaluate`, `explain`,
`evaluate_frame` and the reference interpreter agree.
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
    run_generated_tests,
)
from .workbooks import decision_table, tests_sheet


def symptom_table(policy: str = "COLLECT") -> Any:
    return decision_table(
        "symptom_analysis",
        [
            ("symptom", "input", "string", None),
            ("flu_symptoms", "input", "list of string", None),
            ("finding", "computed output", "string", None),
        ],
        [
            (
                "R1",
                '"cough", "sore throat", "stuffy nose"',
                "-",
                'symptom + " is a cold symptom"',
            ),
            ("R2", "flu_symptoms", "-", 'symptom + " is a flu symptom"'),
            ("R3", '"flu_symptoms"', "-", '"the quoted name is a string"'),
        ],
        hit_policy=policy,
    )


CASES = tests_sheet(
    "symptom_analysis",
    [
        ("symptom", "input"),
        ("flu_symptoms", "input"),
        ("finding", "expected"),
        ("expected rule", "expected rule"),
    ],
    [
        (
            "T1",
            "cough",
            "fever, cough",
            '"cough is a cold symptom", "cough is a flu symptom"',
            "R1, R2",
        ),
        ("T2", "fever", "fever, cough", '"fever is a flu symptom"', "R2"),
        ("T3", "fever", "[]", "[]", None),
    ],
)
FLU = ["fever", "cough", "sore throat"]


@pytest.mark.parametrize("policy", ["COLLECT", "RULE ORDER"])
def test_a_list_input_named_as_an_entry_means_in_that_list(
    tmp_path: Path, policy: str
) -> None:
    books = {"s.xlsx": {"Table": symptom_table(policy), "Cases": CASES}}
    compilation = compile_books(tmp_path, books)
    assert not errors(compilation.diagnostics), compilation.diagnostics
    module = compiled_module(compilation, "symptom_analysis")
    result = module.evaluate(symptom="cough", flu_symptoms=FLU)
    assert result.matched == ("R1", "R2")
    assert [o.finding for o in result.outputs] == [
        "cough is a cold symptom",
        "cough is a flu symptom",
    ]
    assert module.evaluate(symptom="fever", flu_symptoms=()).matched == ()
    assert module.evaluate(symptom="fever").matched == ()  # no list: not in it
    assert module.evaluate(flu_symptoms=FLU).matched == ()  # null is in no list
    quoted = module.evaluate(symptom="flu_symptoms", flu_symptoms=())
    assert quoted.outputs[0].finding == "the quoted name is a string"
    explained = module.explain(symptom="fever", flu_symptoms=FLU)
    assert [o.finding for o in explained.result.outputs] == ["fever is a flu symptom"]
    with pytest.raises(module.InputError):
        module.evaluate(symptom="fever", flu_symptoms=[1, 2])
    run_generated_tests(compilation, tmp_path)
    names = [
        c.name for c in compilation.project.decision("symptom_analysis").first.inputs
    ]  # type: ignore[union-attr]
    assert "symptom_in_flu_symptoms" in names


def test_frame_and_interpreter_equal_evaluate(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    books = {"s.xlsx": {"Table": symptom_table()}}
    module = compiled_module(compile_books(tmp_path, books), "symptom_analysis")
    rows: list[tuple[Any, Any]] = [
        ("cough", FLU),
        ("fever", ("fever",)),
        ("rash", FLU),
        (None, FLU),
        ("cough", None),
        ("sore throat", []),
    ]
    frame = pd.DataFrame(rows, columns=["symptom", "flu_symptoms"], dtype=object)
    project, _ = load_books(tmp_path / "p", books)
    assert project is not None
    for categorical in (False, True):
        decided = module.evaluate_frame(frame, categorical=categorical)
        for i, (symptom, flu) in enumerate(rows):
            expected = module.evaluate(symptom=symptom, flu_symptoms=flu)
            assert decided["matched"][i] == expected.matched
            assert tuple(decided["finding"][i]) == tuple(
                o.finding for o in expected.outputs
            )
            outputs, matched = interpret.evaluate(
                project, "symptom_analysis", {"symptom": symptom, "flu_symptoms": flu}
            )
            assert matched == list(expected.matched)
            assert [o["finding"] for o in outputs] == [  # type: ignore[union-attr]
                o.finding for o in expected.outputs
            ]


def test_export_writes_the_list_and_import_reads_it_back(tmp_path: Path) -> None:
    """The list input becomes an inputData of a collection type, the entry its name
    and the computed outputs FEEL text; importing that gives the same table."""
    from compiler.interop import dmn

    project, _ = load_books(tmp_path, {"s.xlsx": {"Table": symptom_table()}})
    assert project is not None
    exported = dmn.export_dmn(project, (), "symptoms")
    assert not [m for m in exported.messages if m.severity == "error"]
    assert 'isCollection="true"' in exported.xml
    assert "<text>flu_symptoms</text>" in exported.xml
    again = dmn.read_dmn(exported.xml.encode(), "symptoms.dmn")
    assert again.errors == ()
    (table,) = again.tables
    original = project.decision("symptom_analysis").first
    assert [c.name for c in table.inputs] == [c.name for c in original.inputs]
    assert [r.inputs for r in table.rules] == [r.inputs for r in original.rules]
    texts = [[e.text for e in r.output_expressions if e] for r in table.rules]
    assert texts == [
        [e.text for e in r.output_expressions if e] for r in original.rules
    ]
