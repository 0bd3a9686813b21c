"""The per-table strategies of `evaluate` (compiler/emitting/strategy.py) decide as
the general form does: inline comparisons as `bisect_right`, `_DECIDED` as
`_N - mask.bit_length()`, and the generated code says which it uses."""

from __future__ import annotations

import datetime as dt
import math
import random
from bisect import bisect_right
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.emitting import codegen, strategy
from compiler.emitting.loader import load_table
from compiler.emitting.runtime._runtime import (
    OUTSIDE,
    Deciding,
    DecisionError,
    Lookup,
    Ranges,
    decision_tree,
)

from .helpers import compile_books
from .random_tables import KINDS, POLICIES, build_table, module
from .test_fast import check
from .workbooks import decision_table


@pytest.mark.parametrize("count", range(1, strategy.TREE_BOUNDS + 1))
def test_the_slot_tree_finds_the_slot_bisect_right_finds(count: int) -> None:
    rng = random.Random(count)
    bounds = tuple(sorted(rng.sample(range(-50, 50), count - 1))) + (math.inf,)
    code = strategy.slot_tree("x", bounds, "_X")
    assert code is not None and "bisect" not in code
    masks = tuple(range(len(bounds) + 1))
    namespace = {"_X_BOUNDS": bounds, "_X_MASKS": masks}
    values = [*range(-60, 60), -0.5, 0.5, math.inf, -math.inf, math.nan, *bounds]
    for x in values:
        found = eval(code, namespace, {"x": x})  # our own generated expression
        assert found == masks[bisect_right(bounds, x)], (bounds, x)


def test_dates_and_infinity_are_read_from_the_bounds() -> None:
    bounds = (dt.date(2025, 1, 1), dt.date(2026, 1, 1))
    code = strategy.slot_tree("d", bounds, "_D")
    assert code is not None and "_D_BOUNDS[0]" in code and "date(" not in code
    assert strategy.slot_tree("x", (1.5, math.inf), "_X") == (
        "((_X_MASKS[0] if x < 1.5 else _X_MASKS[1]) if x < _X_BOUNDS[1] else _X_MASKS[2])"
    )


def test_many_bounds_and_many_rules_keep_the_general_form() -> None:
    assert strategy.slot_tree("x", tuple(range(strategy.TREE_BOUNDS + 1)), "_X") is None
    assert strategy.decided("", strategy.DECIDED_RULES + 1) is None
    assert strategy.decided("_V1", 3) == (
        "_V1_DECIDED = tuple(_V1_HITS[_V1_N - m.bit_length()] for m in range(1 << _V1_N))"
    )


def test_a_small_table_reads_its_winner_from_decided(tmp_path: Path) -> None:
    rules = [("R1", "< 18", "[0..5]", "child"), ("R2", "-", "> 2.5", "adult")]
    book = decision_table(
        "band",
        [
            ("age", "input", "integer", None),
            ("score", "input", "number", None),
            ("label", "output", "string", None),
        ],
        rules,
        hit_policy="FIRST",
        defaults={"label": "none"},
    )
    compilation = compile_books(tmp_path, {"b.xlsx": {"Band": book}})
    assert compilation.files is not None
    source = compilation.files["band.py"]
    assert "return _DECIDED[mask]" in source and "bisect_right" not in source


def _entries(node: Any, seen: set[int]) -> int:
    """The entries of the tree under NODE, each shared node counted once."""
    if id(node) in seen or not isinstance(node, (dict, tuple, Deciding)):
        return 0
    seen.add(id(node))
    inner = node.node if isinstance(node, Deciding) else node
    below = inner.values() if isinstance(inner, dict) else inner
    width = len(inner) if isinstance(inner, tuple) else None
    return (width or 0) + sum(_entries(b, seen) for b in below)


def test_the_compiler_counts_the_tree_the_runtime_builds() -> None:
    """`strategy.tree_entries` (compile time) counts the entries of the tuple nodes
    that `decision_tree` builds at import; the limit turns the tree off."""
    modality = Lookup("t", "m", "string", {"CT": 0b110, "MR": 0b011}, 0b001, "")
    age = Ranges(
        "t", "a", "integer", (0, 18, 131), (OUTSIDE, 0b100, 0b011, OUTSIDE), 0b111, ""
    )
    urgent = Lookup("t", "u", "boolean", {True: 0b101, False: 0b010}, OUTSIDE, "")
    columns = (modality, age, urgent)
    tree = decision_tree(columns, 0b111, lambda mask: mask, (False, False, False))
    atoms = [[None if a is OUTSIDE else a for a in c.atoms] for c in columns]
    counted = strategy.tree_entries(atoms, 0b111)
    assert counted == _entries(tree, set())
    # the leaf is the AND of the masks; an atom outside the Values holds None
    assert tree[0][1][0] == 0b110 & 0b100 & 0b101
    assert tree[1][0] is None and tree[1][3] is None and tree[1][2][2] is None


def test_a_leaf_that_decide_refuses_is_decided_again_per_call() -> None:
    def decide(mask: int) -> int:
        if mask & (mask - 1):
            raise DecisionError("two rules")
        return mask

    flag = Lookup("t", "f", "boolean", {True: 0b11, False: 0b01}, 0b10, "")
    tree = decision_tree((flag,), 0b11, decide, (False,))
    assert isinstance(tree, Deciding) and tree[1] == 0b01 and tree[2] == 0b10
    with pytest.raises(DecisionError):
        tree[0]


@pytest.mark.parametrize("policy", POLICIES)
def test_beyond_the_limit_a_table_ands_its_masks(
    policy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both forms of `evaluate` decide alike, errors included (test_fast checks the
    tree against the reference interpreter; here the masks against the tree), on
    random rules that overlap, so that UNIQUE and ANY tables match several."""
    rnd = random.Random(policy)
    names = ["modality", "area", "age", "bmi", "urgent"]
    rows = [
        (
            [rnd.choice(("-", "-", *KINDS[n].entries)) for n in names],
            (rnd.choice(("high", "medium", "low")), rnd.randint(0, 9)),
        )
        for _ in range(12)
    ]
    case = build_table(names, policy, rows)
    tree = module(case)
    monkeypatch.setattr(strategy, "TREE_ENTRIES", 3)
    masks = module(case)
    assert hasattr(tree, "_TREE") and not hasattr(masks, "_TREE")
    for _ in range(2000):
        inputs = {n: rnd.choice(KINDS[n].inputs) for n in names}
        answers = []
        for evaluator in (tree, masks):
            try:
                answers.append(evaluator.evaluate(**inputs))
            except Exception as error:  # the same class and message
                answers.append((type(error).__name__, str(error)))
        assert answers[0] == answers[1], inputs


def test_a_settled_node_of_the_early_level_is_its_leaf() -> None:
    """`decision_tree(..., early)`: a node of that level whose valid inputs below
    all lead to one leaf is `(leaf, None)`, the others `(None, node)`; a value outside the
    Values below does not count (the evaluator checks it is valid)."""
    modality = Lookup("t", "m", "string", {"CT": 0b110, "MR": 0b001}, 0b000, "")
    age = Ranges(
        "t", "a", "integer", (0, 18, 131), (OUTSIDE, 0b100, 0b011, OUTSIDE), 0b111, ""
    )
    tree = decision_tree(
        (modality, age), 0b111, lambda m: ("leaf", m), (True, False), 1
    )
    # CT: rules 0b110 left; age splits them (0b100 below 18, 0b010 from 18 on)
    node = (None, ("leaf", 0b100), ("leaf", 0b010), None, ("leaf", 0b110))
    assert tree["CT"] == (None, node)
    assert tree["MR"][1][1] == ("leaf", 0) and tree["MR"][1][2] == ("leaf", 0b001)
    assert tree[None] == (("leaf", 0), None)  # no rule left: one leaf, any age
    assert decision_tree((modality, age), 0b111, lambda m: m, (True, False))[None] == (
        None,
        0,
        0,
        None,
        0,
    )


def test_early_leaves_are_chosen_where_most_inputs_settle() -> None:
    """The compile-time share (`strategy.early_level`): FIRST settles on the first
    rule left when it accepts every later value; other policies when every rule
    left does."""
    # one string column (3 values + null), then a boolean (true, false, null)
    first = [[0b10, 0b01, 0b00, 0b00], [0b11, 0b01, 0b01]]
    assert strategy.early_level(first, [True, False], 2, first=True) == 1
    assert strategy.early_level(first, [False, False], 2, first=True) is None
    spread = [[0b10, 0b01, 0b11, 0b11], [0b10, 0b01, 0b00]]
    assert strategy.early_level(spread, [True, False], 2, first=True) is None
    assert strategy.early_level(first, [True, True], 2, first=True) is None


def _early_case(data: Any) -> Any:
    rest = data.draw(
        st.lists(
            st.sampled_from(sorted(set(KINDS) - {"modality"})),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    names = ["modality", *rest]
    policy = data.draw(st.sampled_from(POLICIES))
    rows = []
    for _ in range(data.draw(st.integers(0, 6))):
        cells = [data.draw(st.sampled_from(("-", *KINDS[n].entries))) for n in names]
        level = data.draw(st.sampled_from(("high", "medium", "low", None)))
        rows.append((cells, (level, data.draw(st.sampled_from((1, 2, None))))))
    return build_table(names, policy, rows)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_early_leaves_agree_with_the_reference_and_the_plain_tree(
    data: st.DataObject,
) -> None:
    """Early leaves forced on (EARLY_SHARE and EARLY_COST 0) for tables whose first column is a
    string with Values: `evaluate` agrees with the reference interpreter and with
    the tree without early leaves on valid and invalid inputs (wrong types, bools
    for ints, ints for bools, outside the Values, None, NaN, inf)."""
    case = _early_case(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(strategy, "EARLY_SHARE", 0.0)
        patch.setattr(strategy, "EARLY_COST", 0)
        early = module(case)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(strategy, "EARLY_SHARE", 2.0)
        plain = module(case)
        source = codegen.generate(case.project, formatted=False)["random_table.py"]
        assert "leaf, node = " not in source
    inputs = st.fixed_dictionaries(
        {c.name: st.sampled_from(KINDS[c.name].inputs) for c in case.table.inputs}
    )
    for _ in range(12):
        drawn = data.draw(inputs)
        check(case, early, drawn)
        answers = []
        for evaluator in (early, plain):
            try:
                answers.append(evaluator.evaluate(**drawn))
            except Exception as error:  # the same class and message
                answers.append((type(error).__name__, str(error)))
        assert answers[0] == answers[1], drawn


def test_small_benchmark_tables_take_early_leaves_and_large_ones_do_not(
    tmp_path: Path,
) -> None:
    """The choice on the benchmark tables (bench/tables.py): their 10-rule tables
    leave most (modality, body area) pairs with one rule or none; 1,000 rules do
    not."""
    from bench import tables as bench_tables
    from compiler.pipeline import load_tables

    specs = [bench_tables.first_table(10), bench_tables.unique_table(10)]
    specs += [bench_tables.first_table(1000), bench_tables.unique_table(1000)]
    bench_tables.write_workbook(tmp_path / "t.xlsx", specs)
    project, _ = load_tables(tmp_path)
    assert project is not None
    files = codegen.generate(project, formatted=False)
    for spec in specs:
        early = "leaf, node = " in files[f"{spec.name}.py"]
        assert early == (len(spec.rules) == 10), spec.name
    settled = {}
    for spec in specs[:2]:
        tree = load_table(files, spec.name)._TREE
        pairs = [
            tree[m][b] for m in bench_tables.MODALITIES for b in bench_tables.AREAS
        ]
        settled[spec.name] = sum(leaf is not None for leaf, _ in pairs)
    assert settled == {"first_10": 85, "unique_10": 86}  # of 96 (docs/benchmarks.md)


def test_a_string_column_after_the_early_level_is_checked_against_its_values() -> None:
    """A keyed column after the early level: its value must be one of its Values
    (or None) for an early leaf to be returned; anything else raises InputError."""
    from .random_tables import Kind

    body = Kind(
        KINDS["modality"].type, "Head, Neck", ("Head",), ("Head", "Neck", "Knee", None)
    )
    rows = [(["CT", "true", "Head"], ("high", 1)), (["MRI", "-", "-"], ("low", 2))]
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(KINDS, "body", body)
        patch.setattr(strategy, "EARLY_SHARE", 0.0)
        patch.setattr(strategy, "EARLY_COST", 0)
        case = build_table(["modality", "urgent", "body"], "FIRST", rows)
        evaluator = module(case)
    assert evaluator._TREE["PET"] == (evaluator._NO_MATCH, None)  # an early leaf
    for modality in ("CT", "MRI", "PET", None):
        for urgent in (True, False, None, 1):
            for value in ("Head", "Neck", "Knee", None, ["Head"]):
                inputs = {"modality": modality, "urgent": urgent, "body": value}
                check(case, evaluator, inputs)
