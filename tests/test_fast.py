"""The indexed evaluators (`compiler.index`, the masks in generated code) agree with
the reference interpreter on random tables, for every hit policy, every column type,
boundary values, nulls, NaN and inf, and invalid inputs (InputError, first column
first). Speed is measured by `python -m bench`, not here."""

from __future__ import annotations

import random
import types
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.checking import interpret
from compiler.emitting import codegen
from compiler.emitting.loader import sibling
from compiler.model import Value

from .random_tables import (
    KINDS,
    POLICIES,
    Case,
    build_table,
    inputs_for,
    module,
    tables,
    valid,
)


def check(case: Case, evaluator: types.ModuleType, inputs: dict[str, Value]) -> None:
    """`evaluate(**INPUTS)` does what the reference interpreter does."""
    invalid = [c.name for c in case.table.inputs if not valid(c, inputs[c.name])]
    if invalid:
        with pytest.raises(evaluator.InputError) as caught:
            evaluator.evaluate(**inputs)
        assert caught.value.name == invalid[0], inputs
        assert caught.value.table == "random_table"
        return
    try:
        outputs, ids = interpret.decide(case.table, dict(inputs))
    except interpret.Ambiguous:
        ambiguous = sibling(evaluator, "_runtime").AmbiguousError
        with pytest.raises(ambiguous):
            evaluator.evaluate(**inputs)
        return
    result = evaluator.evaluate(**inputs)
    assert list(result.matched) == ids, inputs
    if isinstance(outputs, list):
        assert [o._asdict() for o in result.outputs] == outputs, inputs
    else:
        assert result.outputs._asdict() == outputs, inputs


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_evaluate_agrees_with_the_reference(data: st.DataObject) -> None:
    case = data.draw(tables())
    evaluator = module(case)
    for _ in range(12):
        check(case, evaluator, data.draw(inputs_for(case)))


def random_case(seed: int, rules: int, policy: str) -> Case:
    rnd = random.Random(seed)
    names = ["modality", "cpt", "age", "bmi", "urgent", "seen"]
    rows = [
        (
            [rnd.choice(("-", "-", *KINDS[n].entries)) for n in names],
            (rnd.choice(("high", "medium", "low")), rnd.randint(0, 9)),
        )
        for _ in range(rules)
    ]
    return build_table(names, policy, rows)


@pytest.mark.parametrize("policy", POLICIES)
def test_large_tables_agree_with_the_reference(policy: str) -> None:
    """300 rules: hex masks, several words in frames, many matches per input."""
    case = random_case(7, 300, policy)
    evaluator = module(case)
    rnd = random.Random(policy)
    for _ in range(300):
        inputs = {c.name: rnd.choice(KINDS[c.name].inputs) for c in case.table.inputs}
        check(case, evaluator, inputs)


def source_of(case: Case) -> str:
    return codegen.generate(case.project)["random_table.py"]


def test_every_rule_keeps_its_id_location_and_conditions() -> None:
    case = build_table(
        ["modality", "age"],
        "FIRST",
        [(["CT, PET", "< 18"], ("high", 1)), (["-", "[18..64]"], ("low", 2))],
    )
    source = source_of(case)
    assert (
        "# R1, tables/random.xlsx:Random!A9:Z9: modality in ('CT', 'PET'), age < 18"
        in source
    )
    assert "# R2, tables/random.xlsx:Random!A10:Z10: age in [18..64]" in source
    # binary masks read in rule order: CT lets R1 and R2 through, MRI only R2
    assert '"CT": 0b11,' in source and '"MRI": 0b01,' in source
    assert "OUTSIDE,  # < 0" in source and "0b01,  # [18, 65)" in source


def test_priority_orders_the_bits_by_priority() -> None:
    case = build_table(
        ["age"],
        "PRIORITY",
        [(["-"], ("low", 1)), (["> 10"], ("high", 2)), (["> 5"], ("medium", 3))],
    )
    source = source_of(case)
    assert source.index("# R2,") < source.index("# R3,") < source.index("# R1,")
    evaluator = module(case)
    assert evaluator.evaluate(age=11).matched == ("R2",)
    assert evaluator.evaluate(age=6).matched == ("R3",)
    assert evaluator.evaluate(age=1).matched == ("R1",)


@pytest.mark.parametrize("value", [-1, 131, 1.5, True, "3"])
def test_one_input_tables_raise_outside_the_values(value: Any) -> None:
    """With one input nothing is ANDed; the mask of a slot outside the Values must
    still reach the checked path."""
    case = build_table(["age"], "FIRST", [(["-"], ("low", 1))])
    evaluator = module(case)
    with pytest.raises(evaluator.InputError):
        evaluator.evaluate(age=value)
    assert evaluator.evaluate(age=3).matched == ("R1",)


def test_no_inputs_and_no_rules() -> None:
    empty = module(build_table(["age"], "FIRST", []))
    assert empty.evaluate(age=3).matched == ()
    with pytest.raises(empty.InputError):
        empty.evaluate(age=-3)


def _decided(table: Any, inputs: dict[str, Value], candidates: Any) -> Any:
    try:
        return interpret.decide(table, dict(inputs), candidates)
    except interpret.Ambiguous:
        return "ambiguous"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_candidate_rules_leave_out_no_match(data: st.DataObject) -> None:
    """The analysis narrows the rules the interpreter tests for generated examples
    (`analyse._Candidates`), and where it places every value answers without the
    interpreter testing them: the matching rules, the first of them and the answers
    stay the interpreter's own, for valid and invalid inputs alike."""
    from compiler.checking.analyse.inputs import _Candidates

    case = data.draw(tables())
    candidates = _Candidates()
    for _ in range(5):
        inputs = data.draw(inputs_for(case))
        for first in (False, True):
            assert interpret.matching_rules(
                case.table, inputs, candidates, first=first
            ) == interpret.matching_rules(case.table, inputs, first=first), inputs
        assert _decided(case.table, inputs, candidates) == _decided(
            case.table, inputs, None
        ), inputs
