"""The generated evaluators: every hit policy per DMN 1.5, Defaults, input checks,
versions, chains; byte-for-byte determinism, ruff-clean output and golden files.

Set UPDATE_GOLDEN=1 to rewrite tests/golden/ from the golden workbook.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler.emitting import codegen, masks
from compiler.emitting.loader import load_table, sibling
from compiler.emitting.runtime import SHIPPED
from compiler.pipeline import compile_tables, load_tables

from .helpers import compile_books, compiled_module, errors, write_tables
from .workbooks import Row, decision_table, tests_sheet

GOLDEN = Path(__file__).with_name("golden")


def runtime_of(module: types.ModuleType) -> types.ModuleType:
    """The `_runtime` module of the package MODULE was generated into."""
    return sibling(module, "_runtime")


def table(
    name: str,
    policy: str,
    columns: list[tuple[str, str, str | None, Any]],
    rules: list[tuple[Any, ...]],
    **kwargs: Any,
) -> list[Row]:
    return decision_table(name, columns, rules, hit_policy=policy, **kwargs)


AGE = ("age", "input", "integer", "[0..130]")
LEVEL = ("level", "output", "string", '"high", "medium", "low"')

SEMANTICS: dict[str, list[Row]] = {
    "unique": table(
        "unique_band",
        "UNIQUE",
        [AGE, ("band", "output", "string", None)],
        [
            ("R1", "< 18", "child"),
            ("R2", "[18..64]", "adult"),
            ("R3", "> 64", "senior"),
        ],
    ),
    "first": table(
        "first_scan",
        "FIRST",
        [
            ("modality", "input", "string", "CT, MRI"),
            AGE,
            ("decision", "output", "string", None),
        ],
        [
            ("R1", "CT", "< 18", "no"),
            ("R2", "CT", "-", "yes"),
            ("R3", "-", "-", "maybe"),
        ],
    ),
    "priority": table(
        "priority_alert",
        "PRIORITY",
        [
            ("score", "input", "integer", None),
            LEVEL,
            ("route", "output", "string", "a, b"),
        ],
        [
            ("R1", ">= 0", "low", "a"),
            ("R2", ">= 50", "medium", "a"),
            ("R3", ">= 90", "high", "b"),
            ("R4", ">= 90", "high", "a"),  # same level: the second output decides
            ("R5", ">= 95", "high", "a"),  # same priority as R4: rule order decides
        ],
        metadata={"Complete": "no"},  # no rule for a negative score
    ),
    "any": table(
        "any_minor",
        "ANY",
        [AGE, ("minor", "output", "boolean", None)],
        [("R1", "< 18", True), ("R2", "< 10", True), ("R3", ">= 18", False)],
    ),
    "collect": table(
        "collect_flags",
        "COLLECT",
        [AGE, ("flag", "output", "string", None)],
        [("R1", "< 18", "minor"), ("R2", "< 65", "working"), ("R3", "< 18", "minor")],
    ),
    "collect_default": table(
        "collect_default",
        "C",
        [
            AGE,
            ("flag", "output", "string", None),
            ("weight", "output", "integer", None),
        ],
        [("R1", "< 18", "minor", 1)],
        defaults={"flag": "none"},
    ),
    "rule_order": table(
        "rule_order",
        "RULE ORDER",
        [AGE, ("flag", "output", "string", None)],
        [("R1", "< 65", "working"), ("R2", "< 18", "minor"), ("R3", "-", "person")],
    ),
    "output_order": table(
        "output_order",
        "OUTPUT ORDER",
        [AGE, LEVEL],
        [
            ("R1", "-", "low"),
            ("R2", "-", "high"),
            ("R3", "-", "low"),
            ("R4", "< 50", "medium"),
            ("R5", "-", "high"),
        ],
    ),
    "defaults": table(
        "first_default",
        "FIRST",
        [
            AGE,
            ("band", "output", "string", None),
            ("dose", "output", "number", None),
            ("due", "output", "date", None),
        ],
        [("R1", "< 18", "child", 0.5, "2026-01-01")],
        defaults={"band": "unknown", "due": dt.datetime(2030, 1, 1)},
    ),
    "types": table(
        "typed",
        "FIRST",
        [
            ("modality", "input", "string", '"CT", "MRI"'),
            ("cpt", "input", "code", "[70450..70498], 0042T, M54*"),
            ("age", "input", "integer", "[0..130]"),
            ("bmi", "input", "number", None),
            ("pregnant", "input", "boolean", None),
            ("seen", "input", "date", None),
            ("ok", "output", "boolean", None),
        ],
        [
            ("R1", "-", "[70450..70460]", "-", "-", "-", "-", True),
            ("R2", "-", "M54*", "-", "-", "-", "-", False),
            (
                "R3",
                "not(null)",
                "not(0042T, [70450..70460])",
                "not([0..17])",
                "not(< 18.5)",
                "not(true)",
                "not(null)",
                True,
            ),
            ("R4", "not(CT, MRI)", "not(M54*)", "-", "-", "-", "-", False),
        ],
        metadata={"Complete": "no"},  # a partial table: no match gives null
    ),
}
for _name, _points in (
    ("sum", "C+"),
    ("min", "COLLECT MIN"),
    ("max", "C>"),
    ("count", "C#"),
):
    SEMANTICS[_name] = table(
        f"points_{_name}",
        _points,
        [
            ("a", "input", "integer", None),
            ("points", "output", "integer", None),
            ("bonus", "output", "number", None),
        ],
        [
            ("R1", ">= 0", 10, 1.5),
            ("R2", ">= 5", 20, "null"),
            ("R3", ">= 7", "null", 0.25),
            ("R4", ">= 7", 5, "null"),
        ],
    )
SEMANTICS["sum_default"] = table(
    "sum_default",
    "COLLECT SUM",
    [("a", "input", "integer", None), ("points", "output", "integer", None)],
    [("R1", ">= 0", 10)],
    defaults={"points": -1},
)

AMBIGUOUS: dict[str, list[Row]] = {
    "unique": table(
        "unique_overlap",
        "UNIQUE",
        [AGE, ("band", "output", "string", None)],
        [("R1", "< 18", "child"), ("R2", "< 30", "young")],
    ),
    "any": table(
        "any_disagree",
        "ANY",
        [AGE, ("minor", "output", "boolean", None)],
        [("R1", "< 18", True), ("R2", "< 10", False), ("R3", "< 5", False)],
    ),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The semantics workbook, compiled through the whole pipeline."""
    compilation = compile_books(
        tmp_path_factory.mktemp("semantics"), {"s.xlsx": SEMANTICS}
    )
    shown = "\n".join(d.format() for d in compilation.diagnostics)
    assert compilation.files is not None, shown
    return compilation.files


@pytest.fixture(scope="module")
def unanalysed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Tables that static analysis rejects, generated anyway to test the runtime guard
    (a caller may run a table generated before the analysis existed)."""
    tables = write_tables(tmp_path_factory.mktemp("ambiguous"), {"a.xlsx": AMBIGUOUS})
    project, diagnostics = load_tables(tables)
    assert project is not None and not errors(diagnostics)
    return codegen.generate(project)


def run(files: dict[str, str], name: str, **inputs: Any) -> tuple[Any, tuple[str, ...]]:
    result = load_table(files, name).evaluate(**inputs)
    return result.outputs, result.matched


def out(result: tuple[Any, tuple[str, ...]]) -> tuple[Any, tuple[str, ...]]:
    """Outputs as plain tuples, so expectations read as data."""
    outputs, matched = result
    if outputs and isinstance(outputs[0], tuple):
        return tuple(tuple(o) for o in outputs), matched
    return tuple(outputs), matched


# -- single hit ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (17, (("child",), ("R1",))),
        (18, (("adult",), ("R2",))),
        (64, (("adult",), ("R2",))),
        (65, (("senior",), ("R3",))),
        (None, ((None,), ())),
    ],
)
def test_unique(files: dict[str, str], age: int | None, expected: object) -> None:
    assert out(run(files, "unique_band", age=age)) == expected


def test_unique_raises_on_several_matches(unanalysed: dict[str, str]) -> None:
    module = load_table(unanalysed, "unique_overlap")
    assert tuple(module.evaluate(age=20)) == (("young",), ("R2",))
    with pytest.raises(runtime_of(module).AmbiguousError) as caught:
        module.evaluate(age=10)
    assert caught.value.rules == ("R1", "R2")
    assert "UNIQUE" in str(caught.value)


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"modality": "CT", "age": 10}, (("no",), ("R1",))),
        ({"modality": "CT", "age": 30}, (("yes",), ("R2",))),
        ({"modality": "CT"}, (("yes",), ("R2",))),
        ({"modality": "MRI", "age": 10}, (("maybe",), ("R3",))),
        ({}, (("maybe",), ("R3",))),
    ],
)
def test_first(files: dict[str, str], inputs: dict[str, Any], expected: object) -> None:
    assert out(run(files, "first_scan", **inputs)) == expected


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (10, (("low", "a"), ("R1",))),
        (60, (("medium", "a"), ("R2",))),
        (92, (("high", "a"), ("R4",))),  # (high, a) outranks (high, b)
        (99, (("high", "a"), ("R4",))),  # R4 and R5 tie: the first in rule order wins
        (-5, ((None, None), ())),
    ],
)
def test_priority_follows_the_values_order(
    files: dict[str, str], score: int, expected: object
) -> None:
    assert out(run(files, "priority_alert", score=score)) == expected


def test_any_with_agreeing_matches(files: dict[str, str]) -> None:
    assert out(run(files, "any_minor", age=5)) == ((True,), ("R1", "R2"))
    assert out(run(files, "any_minor", age=15)) == ((True,), ("R1",))
    assert out(run(files, "any_minor", age=40)) == ((False,), ("R3",))
    assert out(run(files, "any_minor")) == ((None,), ())


def test_any_with_disagreeing_matches(unanalysed: dict[str, str]) -> None:
    module = load_table(unanalysed, "any_disagree")
    assert tuple(module.evaluate(age=15)) == ((True,), ("R1",))
    with pytest.raises(runtime_of(module).AmbiguousError) as caught:
        module.evaluate(age=3)
    assert caught.value.rules == ("R1", "R2", "R3")
    assert "ANY" in str(caught.value)


# -- multiple hits -------------------------------------------------------------------------


def test_collect_keeps_rule_order_and_duplicates(files: dict[str, str]) -> None:
    assert out(run(files, "collect_flags", age=10)) == (
        (("minor",), ("working",), ("minor",)),
        ("R1", "R2", "R3"),
    )
    assert out(run(files, "collect_flags", age=30)) == ((("working",),), ("R2",))
    assert run(files, "collect_flags", age=70) == ((), ())


def test_collect_without_match_gives_the_defaults(files: dict[str, str]) -> None:
    assert out(run(files, "collect_default", age=10)) == ((("minor", 1),), ("R1",))
    assert out(run(files, "collect_default", age=40)) == ((("none", None),), ())


def test_rule_order(files: dict[str, str]) -> None:
    assert out(run(files, "rule_order", age=10)) == (
        (("working",), ("minor",), ("person",)),
        ("R1", "R2", "R3"),
    )
    assert out(run(files, "rule_order", age=80)) == ((("person",),), ("R3",))


def test_output_order_sorts_by_priority_keeping_duplicates(
    files: dict[str, str],
) -> None:
    outputs, matched = out(run(files, "output_order", age=10))
    # R2 and R5 (high) then R4 (medium) then R1 and R3 (low): stable among equals
    assert outputs == (("high",), ("high",), ("medium",), ("low",), ("low",))
    assert matched == ("R1", "R2", "R3", "R4", "R5")  # `matched` is in rule order
    outputs, _ = out(run(files, "output_order", age=60))
    assert outputs == (("high",), ("high",), ("low",), ("low",))


@pytest.mark.parametrize(
    ("policy", "a", "expected"),
    [
        # a=8 matches R1 (10, 1.5), R2 (20, null), R3 (null, 0.25), R4 (5, null)
        ("sum", 8, ((35, 1.75), ("R1", "R2", "R3", "R4"))),
        ("min", 8, ((5, 0.25), ("R1", "R2", "R3", "R4"))),
        ("max", 8, ((20, 1.5), ("R1", "R2", "R3", "R4"))),
        ("count", 8, ((4, 4), ("R1", "R2", "R3", "R4"))),
        ("sum", 6, ((30, 1.5), ("R1", "R2"))),
        ("min", 6, ((10, 1.5), ("R1", "R2"))),
        ("max", 6, ((20, 1.5), ("R1", "R2"))),
        ("count", 6, ((2, 2), ("R1", "R2"))),
        # nothing matches: no value (COUNT: zero matches)
        ("sum", -1, ((None, None), ())),
        ("min", -1, ((None, None), ())),
        ("max", -1, ((None, None), ())),
        ("count", -1, ((0, 0), ())),
    ],
)
def test_collect_aggregations(
    files: dict[str, str], policy: str, a: int, expected: tuple[Any, Any]
) -> None:
    outputs, matched = run(files, f"points_{policy}", a=a)
    assert (tuple(outputs), matched) == expected
    assert type(outputs.points) is type(expected[0][0])


def test_collect_aggregation_default(files: dict[str, str]) -> None:
    assert out(run(files, "sum_default", a=3)) == ((10,), ("R1",))
    assert out(run(files, "sum_default", a=-3)) == ((-1,), ())


def test_defaults_when_nothing_matches(files: dict[str, str]) -> None:
    matched = run(files, "first_default", age=10)
    assert out(matched) == (("child", 0.5, dt.date(2026, 1, 1)), ("R1",))
    outputs, ids = run(files, "first_default", age=30)
    assert tuple(outputs) == ("unknown", None, dt.date(2030, 1, 1))
    assert ids == ()
    assert outputs._fields == ("band", "dose", "due")


# -- inputs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "inputs",
    [
        {"modality": "XRAY"},
        {"modality": "ct"},
        {"modality": 1},
        {"cpt": "70499"},
        {"cpt": "7045"},
        {"cpt": 70450},
        {"cpt": "M55"},
        {"age": 131},
        {"age": -1},
        {"age": "18"},
        {"age": 18.0},
        {"age": True},
        {"bmi": "30"},
        {"bmi": True},
        {"pregnant": 1},
        {"pregnant": "true"},
        {"seen": "2025-01-01"},
        {"seen": dt.datetime(2025, 1, 1)},
    ],
)
def test_input_error(files: dict[str, str], inputs: dict[str, Any]) -> None:
    module = load_table(files, "typed")
    with pytest.raises(module.InputError) as caught:
        module.evaluate(**inputs)
    assert isinstance(caught.value, TypeError) and isinstance(caught.value, ValueError)
    error: Any = caught.value
    (name,) = inputs
    assert (error.table, error.name) == ("typed", name)


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"cpt": "70450"}, ((True,), ("R1",))),
        # with no modality, not(CT, MRI) holds (DMN: null = "CT" is false): R4
        ({"cpt": "70461"}, ((False,), ("R4",))),
        ({"cpt": "M54.5"}, ((False,), ("R2",))),
        ({"cpt": "0042T"}, ((False,), ("R4",))),
        ({"modality": "MRI", "age": 130, "bmi": 30, "pregnant": False}, ((None,), ())),
        ({"bmi": 29.5, "seen": dt.date(2025, 1, 1)}, ((False,), ("R4",))),
        (
            {
                "modality": "MRI",
                "cpt": "70470",
                "age": 30,
                "bmi": 20,
                "seen": dt.date.min,
            },
            ((True,), ("R3",)),
        ),
        (
            {"modality": "MRI", "cpt": "0042T", "age": 30, "seen": dt.date.min},
            ((None,), ()),
        ),
        ({"modality": "MRI", "age": 17, "seen": dt.date.min}, ((None,), ())),
        ({"modality": "MRI", "bmi": 18.4, "seen": dt.date.min}, ((None,), ())),
        ({"modality": "MRI", "pregnant": True, "seen": dt.date.min}, ((None,), ())),
        (
            {"modality": "MRI", "pregnant": False, "seen": dt.date.min},
            ((True,), ("R3",)),
        ),
        (
            {k: None for k in ("modality", "cpt", "age", "bmi", "pregnant", "seen")},
            ((False,), ("R4",)),
        ),
    ],
)
def test_valid_inputs(
    files: dict[str, str], inputs: dict[str, Any], expected: object
) -> None:
    assert out(run(files, "typed", **inputs)) == expected


def test_unknown_keyword_is_a_type_error(files: dict[str, str]) -> None:
    with pytest.raises(TypeError):
        load_table(files, "typed").evaluate(age_years=3)


# -- versions ---------------------------------------------------------------------------------


def coverage(start: str | None, end: str | None, answer: str) -> list[Row]:
    metadata = {
        k: v for k, v in (("Effective from", start), ("Effective to", end)) if v
    }
    return table(
        "coverage",
        "FIRST",
        [AGE, ("covered", "output", "string", None)],
        [("R1", "-", answer)],
        metadata=metadata,
    )


def test_versions_by_as_of(tmp_path: Path) -> None:
    books = {
        "v1.xlsx": {"2025": coverage("2025-01-01", "2025-12-31", "old")},
        "v2.xlsx": {"2026": coverage("2026-01-01", None, "new")},
    }
    module = compiled_module(compile_books(tmp_path, books), "coverage")
    for day, answer in [
        (dt.date(2025, 1, 1), "old"),  # the day it starts
        (dt.date(2025, 12, 31), "old"),  # Effective to is inclusive
        (dt.date(2026, 1, 1), "new"),
        (dt.date(2099, 1, 1), "new"),
    ]:
        assert module.evaluate(as_of=day).outputs.covered == answer, day
    with pytest.raises(runtime_of(module).NoVersionError) as caught:
        module.evaluate(age=3, as_of=dt.date(2024, 12, 31))  # the day before
    assert caught.value.as_of == dt.date(2024, 12, 31)
    assert isinstance(caught.value, LookupError)
    today = dt.date.today()
    expected = "old" if today < dt.date(2026, 1, 1) else "new"
    assert module.evaluate().outputs.covered == expected


def test_version_gap(tmp_path: Path) -> None:
    books = {
        "x.xlsx": {
            "A": coverage(None, "2024-12-31", "first"),
            "B": coverage("2025-02-01", None, "second"),
        }
    }
    module = compiled_module(compile_books(tmp_path, books), "coverage")
    assert module.evaluate(as_of=dt.date(1990, 1, 1)).outputs.covered == "first"
    assert module.evaluate(as_of=dt.date(2025, 2, 1)).outputs.covered == "second"
    with pytest.raises(runtime_of(module).NoVersionError):
        module.evaluate(as_of=dt.date(2025, 1, 15))


# -- chains -----------------------------------------------------------------------------------

CHAIN = {
    "Surgery": table(
        "surgery",
        "FIRST",
        [
            ("risk", "from risk", "string", None),
            ("urgent", "input", "boolean", None),
            ("eligible", "output", "boolean", None),
        ],
        [("R1", "-", "true", True), ("R2", "high", "-", False), ("R3", "-", "-", True)],
    ),
    "Risk": table(
        "risk",
        "UNIQUE",
        [
            ("obese", "from bmi_class", "boolean", None),
            AGE,
            ("risk", "output", "string", "high, low"),
        ],
        [
            ("R1", "true", ">= 60", "high"),
            ("R2", "true", "< 60", "low"),
            ("R3", "false", "-", "low"),
        ],
        defaults={"risk": "low"},
    ),
    "BMI": table(
        "bmi_class",
        "FIRST",
        [("bmi", "input", "number", None), ("obese", "output", "boolean", None)],
        [("R1", ">= 30", True), ("R2", "-", False)],
    ),
}


def test_chains_evaluate_required_tables_first(tmp_path: Path) -> None:
    compilation = compile_books(tmp_path, {"chain.xlsx": CHAIN})
    surgery = compiled_module(compilation, "surgery")
    assert out_of(surgery.evaluate(bmi=35, age=70)) == ((False,), ("R2",))
    assert out_of(surgery.evaluate(bmi=35, age=40)) == ((True,), ("R3",))
    assert out_of(surgery.evaluate(bmi=35, age=70, urgent=True)) == ((True,), ("R1",))
    assert out_of(surgery.evaluate(bmi=20, age=70)) == ((True,), ("R3",))
    # bmi missing: bmi_class gives False (R2), so the risk is low
    assert out_of(surgery.evaluate(age=70)) == ((True,), ("R3",))
    risk = compiled_module(compilation, "risk")
    assert out_of(risk.evaluate(bmi=31, age=61)) == (("high",), ("R1",))
    with pytest.raises(runtime_of(surgery).InputError):
        surgery.evaluate(
            bmi=35, age=200
        )  # checked by `risk`, reached through `surgery`


def out_of(result: Any) -> tuple[Any, tuple[str, ...]]:
    return tuple(result.outputs), result.matched


def test_chain_through_a_versioned_table_takes_as_of(tmp_path: Path) -> None:
    books = {
        "x.xlsx": {
            "Old": coverage(None, "2025-12-31", "old"),
            "New": coverage("2026-01-01", None, "new"),
            "Top": table(
                "top",
                "FIRST",
                [
                    ("covered", "from coverage", "string", None),
                    ("out", "output", "string", None),
                ],
                [("R1", "old", "was old"), ("R2", "-", "is new")],
            ),
        }
    }
    top = compiled_module(compile_books(tmp_path, books), "top")
    assert top.evaluate(age=1, as_of=dt.date(2025, 6, 1)).outputs.out == "was old"
    assert top.evaluate(age=1, as_of=dt.date(2026, 6, 1)).outputs.out == "is new"


# -- generated tests ----------------------------------------------------------------------


def test_generated_tests_run_and_pass(tmp_path: Path) -> None:
    cases = tests_sheet(
        "surgery",
        [
            ("bmi", "input"),
            ("age", "input"),
            ("urgent", "input"),
            ("eligible", "expected"),
            ("expected rule", "expected rule"),
        ],
        [("T1", 35, 70, None, False, "R2"), ("T2", 20, 70, "false", True, "R3")],
    )
    compilation = compile_books(tmp_path, {"chain.xlsx": {**CHAIN, "Cases": cases}})
    assert compilation.files is not None
    package = tmp_path / "out" / "generated"
    for name, text in compilation.files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package)],
        cwd=tmp_path / "out",
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sheet_cases = 2
    examples = compilation.files["tests/examples/test_surgery.py"]
    generated = examples.count("pytest.param(")
    assert f"{sheet_cases + generated + _examples(compilation.files)} passed" in (
        done.stdout
    )


def _examples(files: dict[str, str]) -> int:
    """Generated example cases of the tables other than surgery."""
    return sum(
        text.count("pytest.param(")
        for name, text in files.items()
        if name.startswith("tests/examples/test_") and not name.endswith("surgery.py")
    )


def test_generated_examples_make_every_rule_decide_and_cross_every_edge(
    tmp_path: Path,
) -> None:
    """The analysis' examples are emitted as tests: one per rule that can decide and
    both sides of every range edge, each named by what it checks; they pass on the
    generated code and fail when the code decides otherwise."""
    compilation = compile_books(tmp_path, {"chain.xlsx": CHAIN})
    assert compilation.files is not None
    risk = compilation.files["tests/examples/test_risk.py"]
    for rule in ("R1", "R2", "R3"):
        assert f'id="E{rule[1]}: rule {rule} decides"' in risk
    assert "age = 59, just outside >= 60" in risk and '{"age": 60, "bmi": 30.0}' in risk
    assert '{"age": 59, "bmi": 30.0}' in risk  # risk's `from` input set through bmi
    bmi = compilation.files["tests/examples/test_bmi_class.py"]
    assert "bmi = 29.99, just outside >= 30" in bmi and '{"bmi": 30.0}' in bmi
    package = tmp_path / "out" / "generated"
    for name, text in compilation.files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text, encoding="utf-8")
    run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    target = str(package / "tests" / "examples" / "test_risk.py")
    done = subprocess.run([*run, target], cwd=tmp_path / "out", capture_output=True)
    assert done.returncode == 0, done.stdout
    module = package / "risk.py"
    text = module.read_text(encoding="utf-8")
    assert text.count('Outputs("high")') == 1
    module.write_text(text.replace('Outputs("high")', 'Outputs("low")'), "utf-8")
    done = subprocess.run([*run, target], cwd=tmp_path / "out", capture_output=True)
    assert done.returncode == 1, done.stdout


# -- determinism and style ----------------------------------------------------------------


def test_same_tables_give_the_same_bytes(tmp_path: Path) -> None:
    tables = write_tables(tmp_path, {"s.xlsx": SEMANTICS, "c.xlsx": CHAIN})
    first = compile_tables(tables).files
    second = compile_tables(tables).files
    assert first is not None and first == second


def test_output_does_not_depend_on_hash_seed(tmp_path: Path) -> None:
    tables = write_tables(tmp_path, {"s.xlsx": SEMANTICS, "c.xlsx": CHAIN})
    outputs = []
    for seed in ("0", "1", "4242"):
        out_dir = tmp_path / f"out{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "compiler",
                "compile",
                "--tables",
                str(tables),
                "--out",
                str(out_dir),
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(
            {
                p.relative_to(out_dir).as_posix(): p.read_bytes()
                for p in sorted(out_dir.rglob("*.py"))
            }
        )
    assert outputs[0] and outputs[0] == outputs[1] == outputs[2]


def test_generated_code_passes_ruff(tmp_path: Path, files: dict[str, str]) -> None:
    package = tmp_path / "generated"
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text, encoding="utf-8")
    project_rules = [
        "--select",
        "E,F,W,I,UP,B",
        "--line-length",
        "88",
        "--target-version",
        "py311",
    ]
    for command in (
        ["check", *project_rules],
        ["format", "--check", "--line-length", "88"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--isolated", str(package)],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr


# -- golden files -------------------------------------------------------------------------

GOLDEN_BOOK = {
    "Age bands": table(
        "age_band",
        "FIRST",
        [AGE, ("band", "output", "string", None)],
        [
            ("R1", "[0..18)", "child"),
            ("R2", "[18..65)", "adult"),
            ("R3", "[65..130]", "senior"),
        ],
        title="Age bands",
        metadata={"Source": "Preface-3"},
    ),
    **CHAIN,
    "Flags": table(
        "flags",
        "COLLECT",
        [
            ("cpt", "input", "code", None),
            ("flag", "output", "string", None),
            ("Note", "annotation", None, None),
        ],
        [
            ("R1", "[70450..70498]", "ct head", "CT"),
            ("R2", "M54.*, 0042T", "spine", None),
        ],
        defaults={"flag": "none"},
    ),
    "Coverage 2025": coverage("2025-01-01", "2025-12-31", "old"),
    "Coverage 2026": coverage("2026-01-01", None, "new"),
    "Alert": table(
        "alert",
        "PRIORITY",
        [("score", "input", "integer", None), LEVEL],
        [("R1", "-", "low"), ("R2", ">= 50", "medium"), ("R3", ">= 90", "high")],
    ),
    "Tests": tests_sheet(
        "age_band",
        [("age", "input"), ("band", "expected")],
        [("T1", 17, "child"), ("T2", 65, "senior")],
    ),
}


def golden_files() -> list[Path]:
    return [
        p for p in GOLDEN.rglob("*.py") if p.is_file() and "__pycache__" not in p.parts
    ]


def test_golden_files(tmp_path: Path) -> None:
    compilation = compile_books(tmp_path, {"golden.xlsx": GOLDEN_BOOK})
    assert compilation.files is not None, [d.format() for d in compilation.diagnostics]
    generated = {  # the modules; the runtime is compiler/emitting/runtime/ copied verbatim
        name: text
        for name, text in compilation.files.items()
        if name.endswith(".py") and name not in SHIPPED
    }
    if os.environ.get("UPDATE_GOLDEN") == "1":
        for old in golden_files():
            old.unlink()
        for name, text in generated.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_text(text, encoding="utf-8", newline="\n")
    stored = {
        p.relative_to(GOLDEN).as_posix(): p.read_text(encoding="utf-8")
        for p in golden_files()
    }
    assert sorted(stored) == sorted(generated), (
        "run with UPDATE_GOLDEN=1 to refresh tests/golden"
    )
    for name, text in generated.items():
        assert text == stored[name], (
            f"{name} differs from tests/golden/{name}; UPDATE_GOLDEN=1 rewrites it"
        )


@given(n=st.integers(1, 300), data=st.data())
def test_every_mask_literal_is_the_mask(n: int, data: st.DataObject) -> None:
    """Binary, hex and sparse `bits(...)` literals all give back the mask they write."""
    from compiler.emitting.runtime import _runtime

    mask = data.draw(st.integers(0, (1 << n) - 1))
    literal = masks._mask(mask, n)
    assert eval(literal, {"bits": _runtime.bits}) == mask
    if n > 200 and 0 < mask.bit_count() <= 3:  # far shorter than 50 hex digits
        assert literal.startswith("bits(")


def test_a_table_without_inputs_decides_its_rules(tmp_path: Path) -> None:
    """Found by fuzzing (`bench/fuzz.py compiler`): a table with outputs only gave
    `def evaluate(*, )`, a SyntaxError. DMN allows it: every rule applies."""
    constant = table(
        "constant", "FIRST", [("x", "output", "string", None)], [("R1", "a")]
    )
    module = compiled_module(
        compile_books(tmp_path, {"c.xlsx": {"C": constant}}), "constant"
    )
    assert out_of(module.evaluate()) == (("a",), ("R1",))


# -- what the generated package exports and says ------------------------------------------


def test_the_errors_are_exported_by_every_module_and_the_package() -> None:
    import generated
    from generated import _runtime, imaging_guideline_set, lab_policy_for_test

    for name in ("AmbiguousError", "DecisionError", "InputError", "NoVersionError"):
        error = getattr(_runtime, name)
        assert getattr(generated, name) is error and name in generated.__all__
        for module in (imaging_guideline_set, lab_policy_for_test):
            assert getattr(module, name) is error and name in module.__all__
    with pytest.raises(generated.InputError):
        imaging_guideline_set.evaluate(age_years=200)


def test_evaluate_docstring_lists_each_inputs_values() -> None:
    from generated import imaging_guideline_document

    doc = imaging_guideline_document.evaluate.__doc__ or ""
    assert "age_years: integer, required, Values: [0..130]" in doc
    assert "body_area: string, required, Values: 'Abdomen', 'Breast'," in doc
    assert "'PVD',\n            'Spine'\n" in doc
    assert "condition_in_pediatric_guidelines: boolean, required\n" in doc


def test_a_failing_generated_case_names_its_tests_sheet_cell() -> None:
    from generated.tests import test_imaging_guideline_set as suite

    first = suite.CASES[0].values
    assert suite.SHEET == "tables/imaging_preface.xlsx:Guideline set tests"
    assert first[4] == {"guideline_set": "D5", "expected rule": "E5"}
    inputs, as_of, _, _, cells = first
    with pytest.raises(AssertionError) as failed:
        suite.test_case(inputs, as_of, {"guideline_set": "General"}, None, cells)
    assert str(failed.value).startswith(
        "tables/imaging_preface.xlsx:Guideline set tests!D5: guideline_set: "
        "expected 'General', got 'Pediatric'"
    )
    with pytest.raises(AssertionError) as failed:
        suite.test_case(inputs, as_of, {}, ("R2",), cells)
    assert str(failed.value).startswith(
        "tables/imaging_preface.xlsx:Guideline set tests!E5: matched rules"
    )
