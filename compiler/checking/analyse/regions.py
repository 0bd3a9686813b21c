"""The sweep: one table version's domain cut into boxes where the set of matching
rules is constant, and the `Facts` read off them (overlaps, gaps, the rules that decide).

Every input column is first cut into a few atoms on which all entries of the column
agree (`compiler/checking/atoms.py`), and each rule entry becomes a bitmask of atoms. A
rule is then a box: the product of its masks. A rule with an empty mask matches nothing.

The sweep (`_Sweep`) is in the style of Calvanese, Dumas, Laurson, Maggi, Montali and
Teinemaa, "Semantics, analysis and simplification of DMN decision tables" (Information
Systems, 2018). It partitions the domain recursively, column by column, into boxes
where the set of matching rules is constant, splitting the rule set as it goes,
without enumerating the grid or all pairs of rules:

    split(rules, box):
        if no rule is left:              the box is a gap
        if every rule fills the box:     a leaf: exactly these rules match here
        (FIRST, PRIORITY) if the rule that would win fills the box: it decides it
        otherwise cut the box along one column and split each part with the
        rules that meet it.

Choosing the cut is the sweep: along a column, the rules' runs of atoms are sorted by
start and merged where they share an atom. Where the merged stretches leave separate
groups, the column can be cut between them with no rule crossing the cut
(`components`): each rule goes to exactly one part, and atoms no rule accepts fall out
as a gap. Tables are mostly built like decision trees, and are then cut along their
own tree with no rule ever copied. When every column is crossed, the cut is the one
position that the fewest rules cross (`straddled`, a count over the sorted run ends);
those rules are copied into both halves. A `-` rule is copied by any cut of its
column, so columns with fewer of them are tried first. Where the part of a column
is one run of atoms and its rules are intervals there (most ordered columns), the
groups are read off with a few big-int operations instead (`intervals`); and each box
carries, per rule, the columns where the rule fills it, so a cut retests one column.

The cost follows the number of boxes visited, about five per rule for the benchmark
tables (`bench/analysis.py`), whose analysis time grows about as rules^1.3, not
rules^2.
"""

from __future__ import annotations

import bisect
import collections
import functools
import itertools
from dataclasses import dataclass, field

from compiler.checking.atoms import Axis, bits, build_axis, runs, span
from compiler.model import HitPolicy, Table, Value

Region = tuple[int, ...]  # one atom mask per input column: the box of their product

SINGLE_HIT = (HitPolicy.UNIQUE, HitPolicy.FIRST, HitPolicy.PRIORITY, HitPolicy.ANY)
_KEPT_WINS = 4  # regions kept per rule where it decides (for examples)


@dataclass
class Facts:
    """What the sweep learnt about one table version. Rules are table.rules indices."""

    table: Table
    axes: tuple[Axis, ...]
    masks: tuple[Region, ...]  # per rule: its box
    # rule -> a column where its entry accepts no allowed value
    dead: dict[int, int] = field(default_factory=dict)
    # boxes no rule matches, merged (gaps when the table must answer everything)
    uncovered: list[Region] = field(default_factory=list)
    # (earlier, later) rule pairs matching one input (UNIQUE; ANY when they disagree)
    overlaps: dict[tuple[int, int], None] = field(default_factory=dict)
    # rule -> a few boxes where it decides (single-hit) or matches (multi-hit),
    # boxes where it matches alone first
    wins: dict[int, list[Region]] = field(default_factory=dict)
    # FIRST, PRIORITY: rule -> the rules that decide where it matches but loses
    beaten: dict[int, set[int]] = field(default_factory=dict)
    # the same over complete inputs, once `complete_facts` has made it
    complete: Facts | None = field(default=None, repr=False)

    @property
    def checks_gaps(self) -> bool:
        """Single-hit tables without a Default must answer every input."""
        table = self.table
        single = table.hit_policy in SINGLE_HIT
        return single and not any(c.has_default for c in table.outputs)

    def unreachable(self) -> list[int]:
        """Live rules that decide no input (FIRST, PRIORITY)."""
        if self.table.hit_policy not in (HitPolicy.FIRST, HitPolicy.PRIORITY):
            return []
        return [
            r
            for r in range(len(self.masks))
            if r not in self.dead and r not in self.wins
        ]

    def overlap(self, a: int, b: int) -> Region:
        """Where rules A and B both match."""
        return tuple(x & y for x, y in zip(self.masks[a], self.masks[b], strict=True))


class _Studies:
    """`study(table)`, cached twice: by the table object (free), in front of a cache
    by value (tables are values, but hashing one walks all its rules: a large table
    is hashed once, not at every call)."""

    def __init__(self) -> None:
        self._by_object: dict[tuple[int, bool], tuple[Table, Facts]] = {}

    def __call__(self, table: Table, *, missing: bool = True) -> Facts:
        """The facts of TABLE over its whole domain, null included where an input
        can be missing; with MISSING false, over complete inputs only."""
        key = (id(table), missing)
        found = self._by_object.get(key)
        if found is not None and found[0] is table:
            return found[1]
        facts = _study(table, missing)
        if len(self._by_object) >= 128:
            del self._by_object[next(iter(self._by_object))]
        self._by_object[key] = (table, facts)
        return facts

    def cache_clear(self) -> None:
        self._by_object.clear()
        _study.cache_clear()


@functools.lru_cache(maxsize=128)
def _study(table: Table, missing: bool) -> Facts:
    """Atoms, boxes and the sweep of one table version (cached: tables are values)."""
    axes = tuple(
        build_axis(column, [rule.inputs[i] for rule in table.rules], missing=missing)
        for i, column in enumerate(table.inputs)
    )
    masks = tuple(
        tuple(axis.mask(entry) for axis, entry in zip(axes, rule.inputs, strict=True))
        for rule in table.rules
    )
    facts = Facts(table, axes, masks)
    for index, box in enumerate(masks):
        empty = next((c for c, mask in enumerate(box) if not mask), None)
        if empty is not None:
            facts.dead[index] = empty
    live = [r for r in range(len(masks)) if r not in facts.dead]
    if any(axis.full == 0 for axis in axes):
        return facts  # a column allows no value: there is no input to check
    sweep = _Sweep(facts)
    sweep.split(live, [axis.full for axis in axes])
    facts.uncovered = merge_regions(sweep.uncovered)
    return facts


study = _Studies()


def complete_facts(facts: Facts) -> Facts:
    """FACTS restricted to complete inputs (no input missing), read off the same
    sweep: the null atom is the last atom of an axis, so the axes without it keep
    every other atom's index; boxes lose their null bit, and the overlaps and gaps
    that held only null drop out. (What overlaps, gaps and wins need; not `dead`.)"""
    nulls = [axis.null for axis in facts.axes]
    if all(n is None for n in nulls):
        return facts
    if facts.complete is not None:
        return facts.complete
    table = facts.table
    axes = tuple(axis.without_null() for axis in facts.axes)
    keep = tuple(~(0 if n is None else 1 << n) for n in nulls)

    def clear(region: Region) -> Region | None:
        cleared = tuple(m & k for m, k in zip(region, keep, strict=True))
        return cleared if all(cleared) else None

    masks = tuple(
        tuple(m & k for m, k in zip(box, keep, strict=True)) for box in facts.masks
    )
    found = Facts(table, axes, masks)
    gaps = [r for r in map(clear, facts.uncovered) if r is not None]
    found.uncovered = merge_regions(gaps)
    found.overlaps = {
        pair: None for pair in facts.overlaps if clear(facts.overlap(*pair)) is not None
    }
    facts.complete = found
    return found


class _Sweep:
    """The recursive partition of one table's domain (see the module docstring)."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        table = facts.table
        self.policy = table.hit_policy
        self.masks = facts.masks
        self.rank = [table.rank(rule) for rule in table.rules]
        self.outputs = [rule.outputs for rule in table.rules]
        self.uncovered: list[Region] = []
        self._runs: dict[int, list[tuple[int, int]]] = {}
        # Per rule and column: the atoms i whose entry accepts atoms i - 1 and i.
        self.pairs = [tuple(m & (m << 1) for m in box) for box in self.masks]
        # Per rule: the columns where its entry is one run of atoms (an interval).
        self.single = [
            sum(1 << c for c, m in enumerate(box) if not m & (m + (m & -m)))
            for box in self.masks
        ]

    def split(self, rules: list[int], region: list[int]) -> None:
        """Partition REGION (one atom mask per column) among RULES, which all meet it.
        Written with a stack rather than recursion: deep tables cannot overflow.

        Each box carries, per rule, the columns where the rule accepts all of the
        box (`within`, a bitmask of columns): a cut narrows one column, so a part
        only tests its rules again in that column."""
        masks = self.masks
        whole = (1 << len(region)) - 1
        within = {
            r: sum(
                1 << c for c, part in enumerate(region) if masks[r][c] & part == part
            )
            for r in rules
        }
        pending = [(rules, region, within)]
        while pending:
            rules, region, within = pending.pop()
            if not rules:
                self.uncovered.append(tuple(region))
                continue
            everywhere = [r for r in rules if within[r] == whole]
            if len(everywhere) == len(rules):
                self.leaf(rules, tuple(region))
                continue
            if self.policy in (HitPolicy.FIRST, HitPolicy.PRIORITY):
                winner = self.winner(rules)
                if within[winner] == whole:
                    self.decided(winner, rules, tuple(region))
                    continue
            # Rules filling the region are in every part whatever the cut: leave
            # them out of choosing it.
            inside = [r for r in rules if within[r] != whole]
            column, parts = self.cut(inside, region, within)
            bit = 1 << column
            for mask, members in reversed(parts):
                narrowed = region.copy()
                narrowed[column] = mask
                if everywhere:
                    members = sorted([*members, *everywhere])
                narrower = {}
                for r in members:
                    found = within[r]
                    if not found & bit and masks[r][column] & mask == mask:
                        found |= bit
                    narrower[r] = found
                pending.append((members, narrowed, narrower))

    def cut(
        self, rules: list[int], region: list[int], within: dict[int, int]
    ) -> tuple[int, list[tuple[int, list[int]]]]:
        """The cheapest way to cut REGION along one column: the column and its parts,
        each with the rules meeting it. A rule meeting several parts is copied into
        each, so the cost of a cut is the number of copies it makes.

        First a cut no rule crosses (`components`), else one position that the fewest
        rules cross (`straddled`). A rule that is "-" in a column is copied by any
        cut of it, which bounds what each column can offer: columns are tried from
        the fewest such rules up, and stop once none can do better."""
        patterns = collections.Counter([within[r] for r in rules])
        spread = [
            sum(n for columns, n in patterns.items() if columns >> c & 1)
            for c in range(len(region))
        ]
        order = sorted(range(len(region)), key=spread.__getitem__)
        best: tuple[int, int, int, list[tuple[int, list[int]]]] | None = None
        uncut = []
        for column in order:
            if best is not None and spread[column] >= best[0]:
                break
            quick = self.intervals(column, rules, region[column], within)
            if quick is None:
                quick = self.components(column, rules, region[column], within)
            copies, parts = quick
            if len(parts) == 1:
                uncut.append(column)  # every cut of it is crossed by a rule
            elif best is None or copies < best[0]:
                best = (copies, 0, column, parts)
        for column in uncut:
            if best is not None and spread[column] + 1 >= best[0]:
                continue
            found = self.straddled(column, rules, region[column], within)
            if found is not None and (best is None or found[:2] < best[:2]):
                copies, balance, position = found
                parts = self.halves(column, rules, region[column], position)
                best = (copies, balance, column, parts)
        assert best is not None, "a region no rule fills can always be cut"
        return best[2], best[3]

    def intervals(
        self, column: int, rules: list[int], part: int, within: dict[int, int]
    ) -> tuple[int, list[tuple[int, list[int]]]] | None:
        """`components` in the common case, with a few big-int operations per rule
        and no sort: PART one run of atoms, and every rule not filling it an
        interval there. Its stretches then start at the atoms that no rule accepts
        together with the atom below. Whatever the rules, when they accept every
        atom of PART and every two neighbouring atoms together, PART stays whole.
        None: neither, `components` decides."""
        low = part & -part
        if (part + low) & part:
            return None  # not one run of atoms
        bit = 1 << column
        masks, pairs, single = self.masks, self.pairs, self.single
        covered = joined = 0
        one_run = bit
        for r in rules:
            if not within[r] & bit:
                covered |= masks[r][column]
                joined |= pairs[r][column]
                one_run &= single[r]
        neighbours = part & (part << 1)
        covered &= part
        joined &= neighbours
        if not covered or (covered == part and joined == neighbours):
            return 0, [(part, rules)]  # every cut is crossed by a rule
        if not one_run:
            return None
        starts = list(bits(covered & ~joined))
        ends = [*starts[1:], part.bit_length()]
        found: list[tuple[int, list[int]]] = [
            (covered & span(start, stop), [])
            for start, stop in zip(starts, ends, strict=True)
        ]
        everywhere: list[int] = []
        for r in rules:
            if within[r] & bit:
                everywhere.append(r)
                continue
            mask = masks[r][column] & part
            lowest = (mask & -mask).bit_length() - 1
            found[bisect.bisect_right(starts, lowest) - 1][1].append(r)
        if part & ~covered:
            found.append((part & ~covered, []))
        if everywhere and len(found) > 1:
            found = [(mask, sorted([*members, *everywhere])) for mask, members in found]
            return len(everywhere) * (len(found) - 1), found
        return 0, found

    def runs(self, mask: int) -> list[tuple[int, int]]:
        """`atoms.runs(mask)`, remembered: rules share their entries' masks."""
        found = self._runs.get(mask)
        if found is None:
            found = self._runs[mask] = runs(mask)
        return found

    def components(
        self, column: int, rules: list[int], part: int, within: dict[int, int]
    ) -> tuple[int, list[tuple[int, list[int]]]]:
        """PART of COLUMN cut where no rule crosses: the groups of atoms that rules
        link together, each with its rules, and the atoms no rule accepts (a gap).
        Rules accepting all of PART (`-`) link nothing and go to every group; their
        copies are counted first.

        A table built like a decision tree is cut exactly along its tree, so every
        rule stays whole and the work grows with the number of rules."""
        everywhere: list[int] = []
        runs_of: list[tuple[int, int, int]] = []  # (start, stop, rule)
        bit = 1 << column
        masks = self.masks
        for r in rules:
            if within[r] & bit:
                everywhere.append(r)
                continue
            found = self.runs(masks[r][column] & part)
            if len(found) == 1:
                runs_of.append((*found[0], r))
            else:
                runs_of.extend((start, stop, r) for start, stop in found)
        if not runs_of:
            return 0, [(part, rules)]
        runs_of.sort()
        # The sweep: runs sharing an atom merge into one stretch; a rule with several
        # runs (a list, a not(...)) joins its stretches (union-find on stretches).
        parent: list[int] = []
        first_stretch: dict[int, int] = {}
        spans: list[int] = []
        end = -1
        for start, stop, r in runs_of:
            if start >= end:
                parent.append(len(parent))
                spans.append(0)
            current = len(parent) - 1
            spans[current] |= span(start, stop)
            end = max(end, stop)
            if r in first_stretch:
                a, b = _root(parent, first_stretch[r]), _root(parent, current)
                parent[max(a, b)] = min(a, b)
            else:
                first_stretch[r] = current
        groups: dict[int, tuple[list[int], list[int]]] = {}
        for stretch, mask in enumerate(spans):
            group = groups.setdefault(_root(parent, stretch), ([0], []))
            group[0][0] |= mask
        for r in rules:
            if r in first_stretch:
                groups[_root(parent, first_stretch[r])][1].append(r)
        covered = sum(mask[0] for mask, _ in groups.values())
        found_parts = [(mask[0], members) for mask, members in groups.values()]
        if part & ~covered:
            found_parts.append((part & ~covered, []))
        if everywhere and len(found_parts) > 1:
            found_parts = [
                (mask, sorted([*members, *everywhere])) for mask, members in found_parts
            ]
            return len(everywhere) * (len(found_parts) - 1), found_parts
        return 0, found_parts

    def straddled(
        self, column: int, rules: list[int], part: int, within: dict[int, int]
    ) -> tuple[int, int, int] | None:
        """The position at which to cut PART of COLUMN in two copying the fewest rules:
        (copies, size of the larger half, position); None when it cannot be cut."""
        lows: list[int] = []
        highs: list[int] = []
        candidates: set[int] = set()
        copies = 0
        bit = 1 << column
        for r in rules:
            if within[r] & bit:
                copies += 1
                continue
            mask = self.masks[r][column] & part
            lows.append((mask & -mask).bit_length() - 1)
            highs.append(mask.bit_length())
            for start, stop in self.runs(mask):
                candidates.update((start, stop))
        bottom, top = (part & -part).bit_length() - 1, part.bit_length()
        # A cut at P leaves atoms of PART on both sides.
        valid = [p for p in candidates if part & span(bottom, p) and p < top]
        if not valid:
            return None
        lows.sort()
        highs.sort()
        best: tuple[int, int, int] | None = None
        for p in valid:
            left = bisect.bisect_left(lows, p)  # rules with atoms below P
            right = len(highs) - bisect.bisect_right(highs, p)  # ... and at or above P
            crossing = left + right - len(lows)
            found = (copies + crossing, max(left, right), p)
            if best is None or found < best:
                best = found
        return best

    def halves(
        self, column: int, rules: list[int], part: int, position: int
    ) -> list[tuple[int, list[int]]]:
        below = part & span(0, position)
        above = part & ~below
        masks = self.masks
        return [
            (half, [r for r in rules if masks[r][column] & half])
            for half in (below, above)
        ]

    def winner(self, rules: list[int]) -> int:
        if self.policy is HitPolicy.FIRST:
            return rules[0]
        return min(rules, key=lambda r: (self.rank[r], r))

    def decided(self, winner: int, rules: list[int], region: Region) -> None:
        """WINNER decides every input of REGION; the other RULES lose there."""
        wins = self.facts.wins.setdefault(winner, [])
        if len(wins) < _KEPT_WINS:
            wins.append(region)
        for r in rules:
            if r != winner:
                self.facts.beaten.setdefault(r, set()).add(winner)

    def leaf(self, rules: list[int], region: Region) -> None:
        """RULES all match every input of REGION, and no other rule does."""
        if self.policy in (HitPolicy.FIRST, HitPolicy.PRIORITY):
            self.decided(self.winner(rules), rules, region)
            return
        overlaps = self.facts.overlaps
        if self.policy in (HitPolicy.UNIQUE, HitPolicy.ANY):
            for a, b in itertools.combinations(rules, 2):
                if (
                    self.policy is HitPolicy.UNIQUE
                    or self.outputs[a] != self.outputs[b]
                ):
                    overlaps.setdefault((a, b), None)
        for r in rules:
            wins = self.facts.wins.setdefault(r, [])
            if len(rules) == 1:
                wins.insert(0, region)  # the rule alone: the best example
                del wins[_KEPT_WINS:]
            elif len(wins) < _KEPT_WINS:
                wins.append(region)


def _root(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def merge_regions(regions: list[Region]) -> list[Region]:
    """Join boxes that differ in one column only, until none do: fewer, larger gaps."""
    width = len(regions[0]) if regions else 0
    changed = True
    while changed:
        changed = False
        for c in range(width):
            joined: dict[Region, int] = {}
            for region in regions:
                rest = region[:c] + region[c + 1 :]
                if rest in joined:
                    joined[rest] |= region[c]
                    changed = True
                else:
                    joined[rest] = region[c]
            regions = [rest[:c] + (mask,) + rest[c:] for rest, mask in joined.items()]
    return regions


# -- wording: a box as text and as an input ----------------------------------------


def describe(facts: Facts, region: Region) -> str:
    """`modality = US, age in [0..17]`: the columns REGION restricts."""
    parts = [
        f"{axis.column.name} {axis.describe(mask)}"
        for axis, mask in zip(facts.axes, region, strict=True)
        if mask != axis.full
    ]
    return ", ".join(parts) or "any input"


def example_point(facts: Facts, region: Region) -> dict[str, Value]:
    """One input of REGION, by column; a list input (version 2), whose entries are
    its derived columns, is left out: its atoms hold elements, not lists."""
    return {
        axis.column.name: axis.example(mask)
        for axis, mask in zip(facts.axes, region, strict=True)
        if not axis.column.many
    }
