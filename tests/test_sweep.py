"""The faster sweep (`regions._Sweep`, `merge_regions`, `missing_regions`) against
the code before it (`tests/sweep_before.py`): the same boxes, in the same order, so
the same gaps, overlaps, unreachable rules and examples. Brute force holds both to
the truth on small tables (`test_analyse.py`); this holds the new code to the old
box for box, on those small random tables and on the benchmark's tree-built tables
of 8 columns."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.analysis import make_rules, make_table
from compiler.checking import analyse
from compiler.checking.analyse import findings, regions
from compiler.model import HitPolicy, Table, Value

from . import sweep_before
from .test_analyse import small_table


def assert_same_sweep(table: Table) -> None:
    analyse.study.cache_clear()
    facts = analyse.study(table)
    before = sweep_before.sweep_before(facts)
    assert facts.dead == before.dead
    assert facts.uncovered == before.uncovered
    assert list(facts.overlaps) == list(before.overlaps)
    assert list(facts.wins.items()) == list(before.wins.items())
    assert facts.beaten == before.beaten
    if facts.uncovered:  # the gaps when an input is missing (A313)
        assert findings.missing_regions(facts) == sweep_before.missing_regions(facts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_table())
def test_the_sweep_cuts_small_tables_as_before(
    case: tuple[Table, list[tuple[Value, ...]]],
) -> None:
    assert_same_sweep(case[0])


POLICIES = [
    HitPolicy.UNIQUE,
    HitPolicy.FIRST,
    HitPolicy.PRIORITY,
    HitPolicy.ANY,
    HitPolicy.COLLECT,
]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.value)
def test_the_sweep_cuts_tree_tables_as_before(seed: int, policy: HitPolicy) -> None:
    """Tables of 300 rules cut by a random tree, with gaps and overlaps."""
    assert_same_sweep(make_table(make_rules(300, seed), policy))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_table(), st.data())
def test_a_box_is_cut_as_before(
    case: tuple[Table, list[tuple[Value, ...]]], data: st.DataObject
) -> None:
    """`groups` and `straddled` cut any box, of any atoms, as the sweep before did
    (`components`, `straddled`), not only the boxes the sweep visits."""
    t, _ = case
    facts = analyse.study(t)
    if any(axis.full == 0 for axis in facts.axes):
        return
    region = [data.draw(st.integers(1, axis.full)) for axis in facts.axes]
    rules = [
        r
        for r, box in enumerate(facts.masks)
        if all(m & part for m, part in zip(box, region, strict=True))
    ]
    within = {
        r: sum(
            1 << c for c, part in enumerate(region) if facts.masks[r][c] & part == part
        )
        for r in rules
    }
    now, before = regions._Sweep(facts), sweep_before._Sweep(facts)
    for column, part in enumerate(region):
        filling = sum(within[r] >> column & 1 for r in rules)
        found = now.groups(column, rules, part, within, filling)
        copies, parts = before.components(column, rules, part, within)
        if found is None:
            assert len(parts) == 1
        else:
            assert (found[0], found[1]()) == (len(parts), parts)
            assert copies == filling * (len(parts) - 1)
        straddled = now.straddled(column, rules, part, within)
        assert straddled == before.straddled(column, rules, part, within)


@given(st.lists(st.tuples(*[st.integers(1, 15)] * 3), max_size=40))
def test_boxes_merge_as_before(boxes: list[tuple[int, ...]]) -> None:
    assert regions.merge_regions(boxes) == sweep_before.merge_regions(boxes)
