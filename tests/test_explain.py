"""`explain(...)` agrees with `evaluate(...)` and tells the truth about every rule.

On every Tests-sheet case and every generated example of the shipped tables, and on
random tables (tests/random_tables.py) with random inputs, valid or not: `explain`
returns what `evaluate` returns as its `result`, or raises what it raises. Each rule
it calls decided is one `evaluate` matched; each rule it says was rejected is
rejected, per the reference semantics (`cells.tests_match`), by the entry it names,
and accepted by every entry before it; every entry it lists for a matching rule
accepts the input.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.checking import analyse
from compiler.emitting.explain import entry_words
from compiler.emitting.loader import load_table
from compiler.emitting.runtime._explain import RELATIONS, value_text
from compiler.model import DataType, Project, Table
from compiler.pipeline import compile_tables
from compiler.reading import cells
from compiler.reading.cell_text import value_text as cell_value_text

from . import random_tables as R

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shipped() -> tuple[Project, dict[str, str]]:
    compilation = compile_tables(ROOT / "tables")
    assert compilation.project is not None and compilation.files is not None
    return compilation.project, compilation.files


def _outcome(call: Any, kwargs: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "result", call(**kwargs)
    except Exception as exc:  # noqa: BLE001 - the two must raise alike
        return type(exc).__name__, str(exc)


def _version(project: Project, name: str, sheet: str) -> Table:
    for table in project.decision(name).versions:
        if str(table.location) == sheet:
            return table
    raise AssertionError(f"{name}: no version on {sheet}")


def check_agrees(
    project: Project, module: types.ModuleType, kwargs: dict[str, Any]
) -> None:
    """explain(**KWARGS) against evaluate(**KWARGS), and its rules against the
    reference semantics."""
    kind, expected = _outcome(module.evaluate, kwargs)
    got_kind, explanation = _outcome(module.explain, kwargs)
    if kind != "result":
        assert (got_kind, explanation) == (kind, expected)
        return
    assert got_kind == "result", explanation
    check_explanation(project, explanation)
    assert explanation.result == expected
    assert explanation.outputs == expected.outputs
    assert explanation.matched == expected.matched


def check_explanation(project: Project, explanation: Any) -> None:
    table = _version(project, explanation.table, explanation.version.sheet)
    values = {  # NaN is missing
        k: None if isinstance(v, float) and v != v else v
        for k, v in dict(explanation.inputs).items()
    }
    assert [c.name for c in table.inputs] == list(values)
    assert [r.id for r in explanation.rules] == [r.id for r in table.rules]
    by_id = {r.id: r for r in table.rules}
    columns = {c.name: i for i, c in enumerate(table.inputs)}
    matched = set(explanation.matched)
    for ruled in explanation.rules:
        rule = by_id[ruled.id]
        assert ruled.location == str(rule.location)
        accepts = [
            cells.tests_match(entry, values[c.name])
            for c, entry in zip(table.inputs, rule.inputs, strict=True)
        ]
        if ruled.status == "rejected":
            entry = ruled.rejected_by
            assert entry is not None and ruled.id not in matched
            index = columns[entry.input]
            assert all(accepts[:index]) and not accepts[index], ruled
            assert entry.cell == str(table.location.at(rule.input_cells[index]))
            relation, text = entry_words(rule.inputs[index], table.inputs[index].type)
            assert entry.test == f"{RELATIONS[relation][1]} {text}"
            assert str(ruled) == f"{ruled.id}: {entry}"
            continue
        assert all(accepts), ruled
        assert (ruled.status == "decided") == (ruled.id in matched)
        listed = [i for i, e in enumerate(rule.inputs) if not e.is_any]
        assert [columns[e.input] for e in ruled.entries] == listed
        for entry in ruled.entries:
            relation, _ = entry_words(
                rule.inputs[columns[entry.input]],
                table.inputs[columns[entry.input]].type,
            )
            assert entry.test.startswith(RELATIONS[relation][0] + " ")
    assert {r.id for r in explanation.decided} == matched
    for name, required in explanation.required:
        assert values[name] == getattr(required.outputs, name)
        check_explanation(project, required)


def _kwargs(
    project: Project, name: str, inputs: Any, as_of: dt.date | None
) -> dict[str, Any]:
    kwargs = dict(inputs)
    if project.chain_versioned(name):
        kwargs["as_of"] = as_of
    return kwargs


def test_explain_agrees_on_every_tests_case_and_example(
    shipped: tuple[Project, dict[str, str]],
) -> None:
    project, files = shipped
    examples = analyse.examples(project)
    checked = 0
    for decision in project.decisions:
        module = load_table(files, decision.name)
        cases = [
            (c.inputs, c.as_of)
            for s in project.suites
            if s.table == decision.name
            for c in s.cases
        ]
        cases += [(e.inputs, e.as_of) for e in examples.get(decision.name, ())]
        assert cases, decision.name
        for inputs, as_of in cases:
            check_agrees(
                project, module, _kwargs(project, decision.name, inputs, as_of)
            )
            checked += 1
    assert checked > 10 * len(project.decisions)  # Tests sheets and generated examples


def test_rejection_names_the_entry_and_its_cell(
    shipped: tuple[Project, dict[str, str]],
) -> None:
    _, files = shipped
    module = load_table(files, "imaging_guideline_set")
    explanation = module.explain(age_years=17, condition_in_pediatric_guidelines=True)
    assert [str(r) for r in explanation.not_applied] == [
        "R2: condition_in_pediatric_guidelines = true is not false "
        "(tables/imaging_preface.xlsx:Guideline set!C11)",
        "R3: age_years = 17 is not >= 18 (tables/imaging_preface.xlsx:Guideline set!B12)",
    ]
    (decided,) = explanation.decided
    assert decided.id == "R1"
    assert [str(e) for e in decided.entries] == [
        "age_years = 17 is < 18 (tables/imaging_preface.xlsx:Guideline set!B10)",
        "condition_in_pediatric_guidelines = true is true "
        "(tables/imaging_preface.xlsx:Guideline set!C10)",
    ]
    assert decided.annotations[0][0] == "Note"
    assert decided.annotations[0][1].startswith("Preface-3: individuals <18")
    assert explanation.version.source.startswith("Preface to the Imaging Guidelines")
    text = str(explanation)
    assert "decided by R1 (tables/imaging_preface.xlsx:Guideline set!A10:E10)" in text
    assert "R3: age_years = 17 is not >= 18" in text


def test_chained_tables_explain_each_required_table(
    shipped: tuple[Project, dict[str, str]],
) -> None:
    _, files = shipped
    module = load_table(files, "imaging_guideline_document")
    explanation = module.explain(
        body_area="Chest", age_years=30, condition_in_pediatric_guidelines=False
    )
    ((name, required),) = explanation.required
    assert (name, required.table) == ("guideline_set", "imaging_guideline_set")
    assert [r.id for r in required.decided] == ["R3"]
    assert dict(explanation.inputs)["guideline_set"] == "General"
    assert explanation.to_json()["required"][0]["explanation"]["matched"] == ["R3"]
    assert "guideline_set comes from imaging_guideline_set:" in str(explanation)


def test_versions_and_errors_are_explained_as_evaluate_has_them(
    shipped: tuple[Project, dict[str, str]],
) -> None:
    _, files = shipped
    module = load_table(files, "lab_policy_for_test")
    old = module.explain(test="PCA3", as_of=dt.date(2025, 6, 1))
    new = module.explain(test="PCA3", as_of=dt.date(2026, 6, 1))
    assert old.version.effective_to == dt.date(2025, 12, 31)
    assert new.version.effective_from == dt.date(2026, 1, 1)
    assert "in force from 2026-01-01" in str(new.version)
    assert old.result == module.evaluate(test="PCA3", as_of=dt.date(2025, 6, 1))
    with pytest.raises(module.InputError, match="test='nope' is not allowed"):
        module.explain(test="nope")


def test_json_is_plain_values(shipped: tuple[Project, dict[str, str]]) -> None:
    import json

    _, files = shipped
    module = load_table(files, "lab_policy_for_test")
    data = module.explain(test="PCA3", as_of=dt.date(2026, 6, 1)).to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["as_of"] == "2026-06-01"
    assert data["version"]["effective_from"] == "2026-01-01"
    (decided,) = [r for r in data["rules"] if r["status"] == "decided"]
    assert decided["entries"][0]["cell"].endswith("Lab policy from 2026-01-01!B32")


def test_rules_the_hit_policy_passed_over_are_outranked() -> None:
    rows = [(["< 18"], ("high", 1)), (["< 65"], ("low", 2)), (["> 70"], ("low", 3))]
    for policy, decided in (("FIRST", "R1"), ("PRIORITY", "R1"), ("COLLECT", None)):
        case = R.build_table(["age"], policy, rows)
        explanation = R.module(case).explain(age=10)
        statuses = [r.status for r in explanation.rules]
        if decided is None:  # every match contributes
            assert statuses == ["decided", "decided", "rejected"]
        else:
            assert statuses == ["decided", "outranked", "rejected"]
            assert str(explanation.rules[1]) == (
                "R2: matched, not chosen (tables/random.xlsx:Random!A10:Z10)"
            )


def test_explain_is_imported_on_its_first_call_only() -> None:
    """Importing a generated module (and evaluate) leaves `_explain` unloaded."""
    code = (
        "import sys; from generated import imaging_guideline_document as m; "
        "m.evaluate(body_area='Head', age_years=3, "
        "condition_in_pediatric_guidelines=True); "
        "print('generated._explain' in sys.modules); "
        "m.explain(body_area='Head', age_years=3, "
        "condition_in_pediatric_guidelines=True); "
        "print('generated._explain' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["False", "True"]


def test_a_table_without_inputs() -> None:
    case = R.build_table([], "COLLECT", [([], ("high", 1)), ([], ("low", 2))])
    explanation = R.module(case).explain()
    assert explanation.matched == ("R1", "R2") and explanation.inputs == ()
    assert "every entry is -: the rule applies to any input" in str(explanation)


@pytest.mark.parametrize(
    ("cell", "type_", "passes", "fails"),
    [
        (">= 18", DataType.INTEGER, "is >= 18", "is not >= 18"),
        ("[18..64]", DataType.INTEGER, "is in [18..64]", "is not in [18..64]"),
        ("CT, MRI", DataType.STRING, 'is one of "CT", "MRI"', 'is not one of "CT", "MRI"'),
        ("not(CT)", DataType.STRING, 'is not "CT"', 'is "CT"'),
        ("not(CT, MRI)", DataType.STRING, 'is none of "CT", "MRI"', 'is one of "CT", "MRI"'),
        ("null", DataType.DATE, "is null", "is not null"),
        ("not(null)", DataType.DATE, "is not null", "is null"),
        ("M54*", DataType.CODE, "matches M54*", "does not match M54*"),
        ("not([70450..70460])", DataType.CODE, "is not in [70450..70460]", "is in [70450..70460]"),
    ],
)  # fmt: skip
def test_entry_words(cell: str, type_: DataType, passes: str, fails: str) -> None:
    relation, text = entry_words(cells.parse_unary_tests(cell, type_), type_)
    assert (f"{RELATIONS[relation][0]} {text}", f"{RELATIONS[relation][1]} {text}") == (
        passes,
        fails,
    )


@given(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.dates(),
        st.text(),
    )
)
def test_runtime_shows_values_as_cells_do(value: Any) -> None:
    """The generated package's value_text (it cannot import the compiler) prints a
    value as `cell_text` does."""
    assert value_text(value) == cell_value_text(value)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_explain_agrees_on_random_tables(data: st.DataObject) -> None:
    case = data.draw(R.tables())
    module = R.module(case)
    for _ in range(8):
        inputs = data.draw(R.inputs_for(case))
        check_agrees(case.project, module, inputs)
