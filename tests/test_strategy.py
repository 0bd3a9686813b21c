"""The per-table strategies of `evaluate` (compiler/emitting/strategy.py) decide as
the general form does: inline comparisons as `bisect_right`, `_DECIDED` as
`_N - mask.bit_length()`, and the generated code says which it uses."""

from __future__ import annotations

import datetime as dt
import math
import random
from bisect import bisect_right
from pathlib import Path

import pytest

from compiler.emitting import strategy

from .helpers import compile_books
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
