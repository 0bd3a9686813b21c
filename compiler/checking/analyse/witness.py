"""Whether a gap or an overlap the sweep found in a table with computed inputs
(version 2) can occur, and a case where it does.

The sweep takes computed columns (`age`, `diagnosis_codes_any_1`) as inputs of their
own, so a region it reports may combine values that no inputs produce: `any(M54.*)`
false together with `none(M54.*)` false. Before such a finding is reported, the
inputs the expressions read are searched for a combination landing in the region
(`computed.Pool`), which the reference interpreter confirms (no rule applies there;
both rules apply there):

- found: the finding is certain. Its example is those inputs, and it is not hedged.
- not found, when the search was exhaustive: the finding cannot occur, and is
  dropped. The search is exhaustive when every input the expressions read is a list
  that only quantified entries read (`any(...)`, `all(...)`, `none(...)` of literal
  tests): what those entries answer depends only on which kinds of element the list
  holds (elements the same tests accept are of a kind), so null, the empty list and
  one list per set of kinds (an element of each) are every case there is, when
  they are at most `POOL` in all.
- otherwise the finding stays, hedged (`findings.assumption`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace

from compiler.checking import interpret
from compiler.checking.analyse.computed import (
    POOL,
    TRIES,
    Candidate,
    ComputedSearch,
    Pool,
    candidates,
    linked_inputs,
    quantified_tests,
)
from compiler.checking.analyse.inputs import InputSearch
from compiler.checking.analyse.regions import Region
from compiler.checking.atoms import build_axis
from compiler.model import Decision, Project, Table, Value
from compiler.reading.cells import tests_match

EXHAUSTIVE_ATOMS = 10  # kinds of element of a list input searched set by set (2**10)

# which rules (indices) apply to a case -> whether the finding occurs there
Accepts = Callable[[frozenset[int]], bool]


@dataclass(frozen=True, slots=True)
class Verdict:
    example: dict[str, Value] | None  # inputs where the finding occurs
    impossible: bool  # the search was exhaustive and no inputs land in the region


UNKNOWN = Verdict(None, False)


class Witnesses:
    """The verdicts on one project's findings; a pool per table, built once."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.search = ComputedSearch(InputSearch(project))
        self._pools: dict[int, tuple[Table, Pool | None, bool]] = {}

    def verdict(
        self, table: Table, region: Region, accepts: Accepts, confirm: bool = True
    ) -> Verdict:
        """Whether inputs landing in REGION of TABLE exist, and ACCEPTS them (only
        whether the region is impossible, when not CONFIRM)."""
        pool, exhaustive = self._pool(table)
        if pool is None:
            return UNKNOWN
        decision = self._decision(table)
        inside = 0
        for i in pool.inside(region):
            inside += 1
            if inside > TRIES or not confirm:
                break
            values = self.search.complete(decision, table, region, pool, i, None)
            if values is None:
                continue
            if accepts(self._matched(table, values)):
                return Verdict(values, False)
        return Verdict(None, True) if exhaustive and not inside else UNKNOWN

    def _pool(self, table: Table) -> tuple[Pool | None, bool]:
        found = self._pools.get(id(table))
        if found is None or found[0] is not table:
            pool, exhaustive = self._build(table)
            found = (table, pool, exhaustive)
            self._pools[id(table)] = found
        return found[1], found[2]

    def _build(self, table: Table) -> tuple[Pool | None, bool]:
        """TABLE's pool, with every set of atoms of each list input that only
        quantified entries read; None for a table reading `from` inputs (their
        values come from other tables: not searched here)."""
        if any(c.source_table for c in table.inputs):
            return None, False
        lists = candidates(self.project, table)
        exhaustive = True
        for n, c in enumerate(linked_inputs(table)):
            every = _every_list(table, c)
            if every is None:
                exhaustive = False
            else:
                lists[n] = every
        pool = Pool(self.project, table, lists)
        return pool, exhaustive and pool.size <= POOL

    def _decision(self, table: Table) -> Decision:
        return next(d for d in self.project.decisions if table in d.versions)

    def _matched(self, table: Table, values: dict[str, Value]) -> frozenset[int]:
        """The rules (indices) of TABLE that apply to VALUES, by the interpreter."""
        given = dict(values)
        try:
            interpret.compute(table, given)
            rules = interpret.matching_rules(table, given)
        except Exception:  # noqa: BLE001 - values an expression refuses: no case
            return frozenset({-1})
        applies = {id(rule) for rule in rules}
        return frozenset(i for i, r in enumerate(table.rules) if id(r) in applies)


def _every_list(table: Table, c: int) -> list[Candidate] | None:
    """Every case of list input C, by the kinds of element it holds: null (when it
    may be missing), the empty list, and a list of one element of each kind for
    each set of kinds. None when other entries read C too, or when its elements
    are of more than `EXHAUSTIVE_ATOMS` kinds."""
    column = table.inputs[c]
    tests = quantified_tests(table, c) if column.many else None
    if tests is None:
        return None
    element = replace(column, many=False, required=True)
    # the atoms' witnesses, one per set of tests accepting it: the entries cannot
    # tell apart two elements that the same tests accept
    kinds: dict[tuple[bool, ...], Value] = {}
    for atom in build_axis(element, tests).atoms:
        if atom.witness is None:
            return None
        accepted = tuple(bool(tests_match(t, atom.witness)) for t in tests)
        kinds.setdefault(accepted, atom.witness)
    if len(kinds) > EXHAUSTIVE_ATOMS:
        return None
    elements = list(kinds.values())
    found: list[Candidate] = [None] if column.nullable else []
    for size in range(len(elements) + 1):
        found += list(itertools.combinations(elements, size))
    return found
