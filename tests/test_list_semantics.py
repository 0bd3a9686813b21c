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


# -- lists in FEEL-CR expressions --------------------------------------------------

LISTS = {"codes": "list of string", "counts": "list of integer", "n": "integer"}


@pytest.mark.parametrize(
    ("text", "values", "expected", "kind"),
    [
        ("count(codes)", {"codes": ["a", "b"]}, 2, "integer"),
        ("count(codes)", {"codes": None}, None, "integer"),
        ("count([])", {}, 0, "integer"),
        ("sum(counts)", {"counts": [1, 2, 3]}, 6, "integer"),
        ("sum(counts)", {"counts": []}, None, "integer"),
        ("sum([1, 2.5])", {}, 3.5, "number"),
        ("sum([1, null])", {}, None, "integer"),
        ("min(counts)", {"counts": [4, 2]}, 2, "integer"),
        ("max(counts) + n", {"counts": [4, 2], "n": 1}, 5, "integer"),
        ("max(counts)", {"counts": []}, None, "integer"),
        ("min(3, n)", {"n": 1}, 1, "integer"),
        ('list contains(codes, "b")', {"codes": ("a", "b")}, True, "boolean"),
        ('list contains(codes, "c")', {"codes": ["a"]}, False, "boolean"),
        ("list contains(codes, null)", {"codes": ["a"]}, False, "boolean"),
        ("list contains([1, null], null)", {}, True, "boolean"),
        ('list contains(codes, "a")', {"codes": None}, None, "boolean"),
        ("list contains([1, 2, n], 3)", {"n": 3}, True, "boolean"),
        ("counts = [1, 2]", {"counts": [1, 2]}, True, "boolean"),
        ("count(if n > 1 then counts else [])", {"n": 2, "counts": [7]}, 1, "integer"),
    ],
)
def test_list_expressions_compile_and_walk_alike(
    text: str, values: dict[str, Any], expected: object, kind: str
) -> None:
    from compiler.emitting.runtime import _feel
    from compiler.expressions.typed import compile_expression, evaluate

    typed = compile_expression(text, LISTS)
    assert typed.type == kind
    arguments = {name: values.get(name) for name in LISTS}
    compiled = eval(  # noqa: S307 - the compiler's own output
        f"lambda {', '.join(arguments)}: {typed.python}", {"feel": _feel}
    )
    assert compiled(*arguments.values()) == expected
    assert evaluate(typed, arguments) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("codes + 1", "not defined"),
        ("codes < counts", "cannot be compared"),
        ('[1, "a"]', "one type"),
        ("count(n)", "takes a list"),
        ('list contains(counts, "a")', "never contains"),
        ("sum(codes)", "takes numbers"),
        ("count(codes, codes)", "one list"),
    ],
)
def test_list_type_errors_name_the_place(text: str, words: str) -> None:
    from compiler.expressions.syntax import ExpressionError
    from compiler.expressions.typed import compile_expression

    with pytest.raises(ExpressionError) as bad:
        compile_expression(text, LISTS)
    assert words in bad.value.message and bad.value.code == "E207"


def test_a_list_input_is_a_list_in_expressions(tmp_path: Path) -> None:
    """A computed input reads a list input as the list (not as one element), and a
    wrong element type is an InputError."""
    table = decision_table(
        "many_codes",
        [
            ("codes", "input", "list of code", None),
            ("how_many", "computed", "integer", None),
            ("busy", "output", "boolean", None),
        ],
        [("R1", "-", ">= 3", True), ("R2", "-", "< 3", False)],
        hit_policy="FIRST",
    )
    at = next(i for i, r in enumerate(table) if r and r[0] == "Type")
    table.insert(at + 1, ["Expression", None, "count(codes)", None])
    compilation = compile_books(tmp_path, {"m.xlsx": [table]})
    assert not errors(compilation.diagnostics), compilation.diagnostics
    module = compiled_module(compilation, "many_codes")
    assert module.evaluate(codes=["a", "b", "c"]).matched == ("R1",)
    assert module.evaluate(codes=["a"]).matched == ("R2",)
    assert module.evaluate().matched == ()
    with pytest.raises(module.InputError):
        module.evaluate(codes=[1, 2, 3])
    bad = [row[:] for row in table]
    bad[at + 1] = ["Expression", None, "codes", None]
    _, diagnostics = load_books(tmp_path / "bad", {"b.xlsx": [bad]})
    found = [d for d in diagnostics if d.code == "E207"]
    assert found and "list of string" in found[0].message


def test_an_entry_compares_with_a_list_function(tmp_path: Path) -> None:
    table = decision_table(
        "over_limit",
        [
            ("amount", "input", "integer", None),
            ("limits", "input", "list of integer", None),
            ("over", "output", "boolean", None),
        ],
        [("R1", "> max(limits)", "-", True), ("R2", "<= max(limits)", "-", False)],
    )
    compilation = compile_books(tmp_path, {"o.xlsx": [table]})
    assert not errors(compilation.diagnostics), compilation.diagnostics
    module = compiled_module(compilation, "over_limit")
    assert module.evaluate(amount=5, limits=[3, 4]).outputs.over is True
    assert module.evaluate(amount=4, limits=[3, 4]).outputs.over is False
    assert module.evaluate(amount=4, limits=[]).matched == ()  # max([]) is null


@pytest.mark.parametrize("policy", ["FIRST", "COLLECT"])
def test_a_computed_output_may_read_an_input_named_rule(
    tmp_path: Path, policy: str
) -> None:
    """`_finish` keeps its locals to names no input may take."""
    table = decision_table(
        "named_rule",
        [
            ("rule", "input", "string", None),
            ("said", "computed output", "string", None),
        ],
        [("R1", "-", 'rule + "!"')],
        hit_policy=policy,
    )
    module = compiled_module(compile_books(tmp_path, {"r.xlsx": [table]}), "named_rule")
    outputs = module.evaluate(rule="go").outputs
    assert (outputs[0] if policy == "COLLECT" else outputs).said == "go!"
