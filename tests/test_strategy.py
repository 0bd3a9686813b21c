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

from compiler.emitting import strategy
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
