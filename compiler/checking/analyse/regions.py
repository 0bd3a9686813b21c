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

Choosing the cut is the sweep: along a column, the atoms the rules accept form
stretches, each starting at an accepted atom that no rule accepts together with the
atom below (a few big-int operations over the rules' masks). Where the stretches, or
the groups that rules with several runs of atoms (lists, `not(...)`) join, are
separate, the column can be cut between them with no rule crossing the cut
(`groups`): each rule goes to exactly one part, and atoms no rule accepts fall out as
a gap. Tables are mostly built like decision trees, and are then cut along their own
tree with no rule ever copied. When every column is crossed, the cut is the one
position that the fewest rules cross (`straddled`, a count over the sorted run ends);
those rules are copied into both halves. A `-` rule is copied by any cut of its
column, so columns with fewer of them are tried first, and only the cut chosen lists
its parts' rules. Each box carries, per rule, the columns where the rule fills it, so
a cut retests one column; a box that only one rule does not fill is cut without
choosing (`alone`).

The cost follows the number of boxes visited, about five per rule for the benchmark
tables (`bench/analysis.py`), whose analysis time grows about as rules^1.3, not
rules^2.
"""

from __future__ import annotations

import bisect
import collections
import functools
import itertools
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from compiler.checking.atoms import Axis, bits, build_axis, runs, span
from compiler.expressions.syntax import Quantified
from compiler.model import Column, DataType, HitPolicy, Table, UnaryTests, Value
from compiler.reading.cell_text import entry_text

Region = tuple[int, ...]  # one atom mask per input column: the box of their product

_Parts = Callable[[], list[tuple[int, list[int]]]]  # lists a cut's parts, with rules
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
    entries = [
        [rule.inputs[i] for rule in table.rules] for i in range(len(table.inputs))
    ]
    axes = tuple(
        build_axis(column, found, missing=missing)
        for column, found in zip(table.inputs, entries, strict=True)
    )
    # Column by column, then turned into one box per rule (`zip`, in C).
    by_column = [
        list(map(a.mask, found)) for a, found in zip(axes, entries, strict=True)
    ]
    masks: tuple[Region, ...] = (
        tuple(zip(*by_column, strict=True)) if axes else tuple(() for _ in table.rules)
    )
    facts = Facts(table, axes, masks)
    for index, box in enumerate(masks):
        if not all(box):
            facts.dead[index] = next(c for c, mask in enumerate(box) if not mask)
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

    masks = tuple(tuple(map(operator.and_, box, keep)) for box in facts.masks)
    found = Facts(table, axes, masks)
    gaps = [r for r in map(clear, facts.uncovered) if r is not None]
    found.uncovered = merge_regions(gaps)
    found.overlaps = {
        pair: None for pair in facts.overlaps if clear(facts.overlap(*pair)) is not None
    }
    facts.complete = found
    return found


class _Sweep:
    """The recursive partition of one table's domain (see the module docstring).

    The boxes are also kept by column (`columns[c][r]`, rule r's atoms in column
    c): a cut reads one column of many rules, which `map` and `reduce` do in C."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        table = facts.table
        self.policy = table.hit_policy
        self.rank = [table.rank(rule) for rule in table.rules]
        self.outputs = [rule.outputs for rule in table.rules]
        self.uncovered: list[Region] = []
        self._runs: dict[int, list[tuple[int, int]]] = {}
        self._bits: dict[int, tuple[int, ...]] = {}
        width = len(facts.axes)
        self.columns = [[box[c] for box in facts.masks] for c in range(width)]
        # Per column and rule: the atoms i its entry accepts together with i - 1,
        # its lowest atom and one past its highest.
        self.pairs = [[m & (m << 1) for m in atoms] for atoms in self.columns]
        self.lows = [
            [(m & -m).bit_length() - 1 for m in atoms] for atoms in self.columns
        ]
        self.highs = [[m.bit_length() for m in atoms] for atoms in self.columns]
        # Per column: the rules whose entry there is several runs of atoms.
        self.several = [
            frozenset(r for r, m in enumerate(atoms) if m & (m + (m & -m)))
            for atoms in self.columns
        ]

    def split(self, rules: list[int], region: list[int]) -> None:
        """Partition REGION (one atom mask per column) among RULES, which all meet it.
        Written with a stack rather than recursion: deep tables cannot overflow.

        Each box carries, per rule, the columns where the rule accepts all of the
        box (`within`, a bitmask of columns): a cut narrows one column, so a part
        only tests its rules again in that column."""
        columns = self.columns
        whole = (1 << len(region)) - 1
        within = {
            r: sum(
                1 << c for c, part in enumerate(region) if columns[c][r] & part == part
            )
            for r in rules
        }
        ordered = self.policy in (HitPolicy.FIRST, HitPolicy.PRIORITY)
        pending = [(rules, region, within)]
        while pending:
            rules, region, within = pending.pop()
            if not rules:
                self.uncovered.append(tuple(region))
                continue
            # Rules filling the region are in every part whatever the cut: leave
            # them out of choosing it (EVERYWHERE; listed only when there are any).
            inside = [r for r in rules if within[r] != whole]
            if not inside:
                self.leaf(rules, tuple(region))
                continue
            if ordered:
                winner = self.winner(rules)
                if within[winner] == whole:
                    self.decided(winner, rules, tuple(region))
                    continue
            everywhere = (
                [r for r in rules if within[r] == whole]
                if len(inside) < len(rules)
                else []
            )
            if len(inside) == 1:
                self.alone(inside[0], everywhere, region, within[inside[0]])
                continue
            column, parts = self.cut(inside, region, within)
            bit = 1 << column
            atoms = columns[column]
            for mask, members in reversed(parts):
                narrowed = region.copy()
                narrowed[column] = mask
                if everywhere:
                    members = sorted([*members, *everywhere])
                narrower = {
                    r: within[r] | bit if atoms[r] & mask == mask else within[r]
                    for r in members
                }
                pending.append((members, narrowed, narrower))

    def alone(
        self, rule: int, everywhere: list[int], region: list[int], within: int
    ) -> None:
        """What `split` does with REGION when RULE is the only rule not filling it
        (EVERYWHERE fill it; under FIRST and PRIORITY none of them wins), without
        choosing cuts: it cuts the columns RULE does not fill (WITHIN: those it
        does), lowest first, each into RULE's atoms and the rest, the rest going
        to EVERYWHERE (or a gap); then RULE's box is a leaf, found first."""
        rest: list[Region] = []
        narrowed = region.copy()
        for c, part in enumerate(region):
            if not within >> c & 1:
                mask = self.columns[c][rule] & part
                narrowed[c] = part & ~mask
                rest.append(tuple(narrowed))
                narrowed[c] = mask
        self.leaf(sorted([*everywhere, rule]), tuple(narrowed))
        for box in reversed(rest):
            if everywhere:
                self.leaf(everywhere, box)
            else:
                self.uncovered.append(box)

    def cut(
        self, rules: list[int], region: list[int], within: dict[int, int]
    ) -> tuple[int, list[tuple[int, list[int]]]]:
        """The cheapest way to cut REGION along one column: the column and its parts,
        each with the rules meeting it. A rule meeting several parts is copied into
        each, so the cost of a cut is the number of copies it makes.

        First a cut no rule crosses (`groups`), else one position that the fewest
        rules cross (`straddled`). A rule that is "-" in a column is copied by any
        cut of it, which bounds what each column can offer: columns are tried from
        the fewest such rules up, and stop once none can do better. Only the
        chosen cut lists its parts' rules."""
        spread = [0] * len(region)  # per column: the rules filling it
        for columns, n in _tally(map(within.__getitem__, rules), len(rules)).items():
            for c in self.bits(columns):
                spread[c] += n
        order = sorted(range(len(region)), key=spread.__getitem__)
        best: tuple[int, int, int, _Parts] | None = None
        uncut = []
        for column in order:
            if best is not None and spread[column] >= best[0]:
                break
            found = self.groups(column, rules, region[column], within, spread[column])
            if found is None:
                uncut.append(column)  # every cut of it is crossed by a rule
                continue
            count, listed = found
            copies = spread[column] * (count - 1)  # its "-" rules go to every part
            if best is None or copies < best[0]:
                best = (copies, 0, column, listed)
        for column in uncut:
            if best is not None and spread[column] + 1 >= best[0]:
                continue
            cheapest = self.straddled(column, rules, region[column], within)
            if cheapest is not None and (best is None or cheapest[:2] < best[:2]):
                copies, balance, position = cheapest
                listed = functools.partial(
                    self.halves, column, rules, region[column], position
                )
                best = (copies, balance, column, listed)
        assert best is not None, "a region no rule fills can always be cut"
        return best[2], best[3]()

    def groups(
        self,
        column: int,
        rules: list[int],
        part: int,
        within: dict[int, int],
        filling: int,
    ) -> tuple[int, _Parts] | None:
        """PART of COLUMN cut where no rule crosses: the number of parts, and a
        function listing them (the groups of atoms that rules link together, each
        with its rules, then the atoms no rule accepts, a gap). None when every cut
        of PART is crossed by a rule. Rules accepting all of PART (`-`; FILLING:
        how many) link nothing and go to every part.

        The sweep over the atoms: a *stretch* starts at each accepted atom that no
        rule accepts together with the atom below (`heads`). A rule whose entry is
        one run of atoms stays in one stretch; a rule with several runs (a list, a
        not(...)) can join stretches (union-find). A table built like a decision
        tree is cut along its own tree, every rule staying whole."""
        bit = 1 << column
        cut = [r for r in rules if not within[r] & bit] if filling else rules
        if not cut:
            return None
        atoms = self.columns[column]
        covered = functools.reduce(operator.or_, map(atoms.__getitem__, cut)) & part
        neighbours = part & (part << 1)
        pairs = map(self.pairs[column].__getitem__, cut)
        joined = functools.reduce(operator.or_, pairs) & neighbours
        heads = covered & ~joined
        gap = part & ~covered

        def listed(groups: list[tuple[int, list[int]]]) -> list[tuple[int, list[int]]]:
            if gap:
                groups.append((gap, []))
            if filling:
                everywhere = [r for r in rules if within[r] & bit]
                groups = [(mask, sorted([*rs, *everywhere])) for mask, rs in groups]
            return groups

        if not heads & (heads - 1):  # one stretch
            return (2, lambda: listed([(covered, list(cut))])) if gap else None
        several = self.several[column]
        if _one_run(part) and (not several or several.isdisjoint(cut)):
            # Every rule is one run of atoms in PART: no rule joins stretches.

            def stretches() -> list[tuple[int, list[int]]]:
                starts = list(bits(heads))
                ends = [*starts[1:], part.bit_length()]
                found: list[tuple[int, list[int]]] = [
                    (covered & span(a, b), [])
                    for a, b in zip(starts, ends, strict=True)
                ]
                # A rule's stretch: the one of its lowest atom, or of PART's: i from 1
                # is `bisect_right(starts, low)`, and 0 (below PART) the first too.
                lows = map(self.lows[column].__getitem__, cut)
                at = map(bisect.bisect_right, itertools.repeat(starts), lows)
                adds = [members.append for _, members in found[:1] + found]
                for add, r in zip(map(adds.__getitem__, at), cut, strict=True):
                    add(r)
                return listed(found)

            return heads.bit_count() + (1 if gap else 0), stretches
        # Stretches are numbered from 1 here: `bisect_right(starts, atom)` of an atom.
        starts = list(bits(heads))
        masks = [atoms[r] & part for r in cut]
        roots = _groups(starts, set(masks), self.runs)
        count = len(set(roots)) - 1 + (1 if gap else 0)
        if count == 1:
            return None

        def joined_groups() -> list[tuple[int, list[int]]]:
            ends = [*starts[1:], part.bit_length()]
            found: dict[int, tuple[int, list[int]]] = {}
            for root, a, b in zip(roots[1:], starts, ends, strict=True):
                mask, members = found.get(root, (0, []))
                found[root] = (mask | covered & span(a, b), members)
            lows = [(m & -m).bit_length() - 1 for m in masks]
            first = map(bisect.bisect_right, itertools.repeat(starts), lows)
            for r, stretch in zip(cut, first, strict=True):
                found[roots[stretch]][1].append(r)
            return listed(list(found.values()))

        return count, joined_groups

    def bits(self, mask: int) -> tuple[int, ...]:
        """`atoms.bits(mask)`, remembered: a few sets of columns recur."""
        found = self._bits.get(mask)
        if found is None:
            found = self._bits[mask] = tuple(bits(mask))
        return found

    def runs(self, mask: int) -> list[tuple[int, int]]:
        """`atoms.runs(mask)`, remembered: rules share their entries' masks."""
        found = self._runs.get(mask)
        if found is None:
            found = self._runs[mask] = runs(mask)
        return found

    def straddled(
        self, column: int, rules: list[int], part: int, within: dict[int, int]
    ) -> tuple[int, int, int] | None:
        """The position at which to cut PART of COLUMN in two copying the fewest rules:
        (copies, size of the larger half, position); None when it cannot be cut.
        A cut at P, between atoms P - 1 and P, leaves atoms of PART on both sides,
        and a rule's atoms start or end at each candidate position."""
        bit = 1 << column
        bottom, top = (part & -part).bit_length() - 1, part.bit_length()
        cut = [r for r in rules if not within[r] & bit]
        copies = len(rules) - len(cut)  # "-" rules: copied by any cut
        if not self.several[column] and _one_run(part):
            lows, highs = self.interval_ends(column, cut, bottom, top)
            candidates = {*lows, *highs}
        else:
            atoms = self.columns[column]
            masks = [atoms[r] & part for r in cut]
            lows = sorted([(m & -m).bit_length() - 1 for m in masks])
            highs = sorted([m.bit_length() for m in masks])
            candidates = {*lows, *highs}
            for m in [m for m in masks if m & (m + (m & -m))]:  # several runs
                for start, stop in self.runs(m):
                    candidates.update((start, stop))
        valid = [p for p in candidates if bottom < p < top]
        if not valid:
            return None
        # Per position: the rules with atoms below it, those with none above it,
        # and the difference, the rules crossing it.
        below = list(map(bisect.bisect_left, itertools.repeat(lows), valid))
        done = list(map(bisect.bisect_right, itertools.repeat(highs), valid))
        crossing = list(map(operator.sub, below, done))
        fewest = min(crossing)
        count = len(lows)
        balance, position = min(
            (max(b, count - d), p)
            for b, d, p, n in zip(below, done, valid, crossing, strict=True)
            if n == fewest
        )
        return copies + fewest, balance, position

    def interval_ends(
        self, column: int, rules: list[int], bottom: int, top: int
    ) -> tuple[list[int], list[int]]:
        """The sorted lowest atoms and ends (one past the highest) of RULES in the
        run BOTTOM..TOP-1 of COLUMN, where every rule is one run of atoms that meets
        it: clamped from the rules' own ends, without masking wide ints."""
        lows = [
            low if low > bottom else bottom
            for low in map(self.lows[column].__getitem__, rules)
        ]
        highs = [
            high if high < top else top
            for high in map(self.highs[column].__getitem__, rules)
        ]
        lows.sort()
        highs.sort()
        return lows, highs

    def halves(
        self, column: int, rules: list[int], part: int, position: int
    ) -> list[tuple[int, list[int]]]:
        below = part & span(0, position)
        above = part & ~below
        atoms = self.columns[column]
        return [
            (half, [r for r in rules if atoms[r] & half]) for half in (below, above)
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


def _tally(values: Iterable[int], size: int) -> dict[int, int]:
    """How often each of SIZE VALUES occurs: `Counter`, whose set-up costs more
    than counting a few values by hand (most boxes hold a few rules)."""
    if size > 16:
        return collections.Counter(values)
    counts: dict[int, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def _one_run(mask: int) -> bool:
    """Whether the set bits of MASK are consecutive (adding its lowest bit carries
    through all of them)."""
    return not mask & (mask + (mask & -mask))


def _groups(
    starts: list[int],
    masks: set[int],
    runs: Callable[[int], list[tuple[int, int]]],
) -> list[int]:
    """Per stretch (numbered from 1; 0 stands for none), the lowest stretch of its
    group: stretches starting at STARTS, joined by each of MASKS (the distinct
    entries, in the part, of the rules) that has atoms in several. Union-find
    keeps the lowest stretch as the root, so the order of MASKS does not matter."""
    parent = list(range(len(starts) + 1))
    for mask in masks:
        low = (mask & -mask).bit_length() - 1
        a = bisect.bisect_right(starts, low)
        if a != bisect.bisect_right(starts, mask.bit_length() - 1):
            for start, _ in runs(mask):  # in several stretches: they are one group
                x = _root(parent, a)
                y = _root(parent, bisect.bisect_right(starts, start))
                parent[max(x, y)] = min(x, y)
    return [_root(parent, s) for s in range(len(parent))]


def _root(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def merge_regions(regions: list[Region]) -> list[Region]:
    """Join boxes that differ in one column only, until none do: fewer, larger gaps.

    Columns are taken in turn, 0, 1, ..., 0, 1, ...; each turn joins the boxes
    alike but for that column, each where the first of them stood. A turn that
    joins nothing changes nothing, so the turns stop once every column has had
    one since the last join. Boxes are compared by numbers standing for their
    masks: a mask of thousands of atoms is slow to hash, a small number is not."""
    width = len(regions[0]) if regions else 0
    masks: list[list[int]] = [[] for _ in range(width)]  # per column: number -> mask
    numbers: list[dict[int, int]] = [{} for _ in range(width)]  # and back

    def number(c: int, mask: int) -> int:
        found = numbers[c].get(mask)
        if found is None:
            found = numbers[c][mask] = len(masks[c])
            masks[c].append(mask)
        return found

    columns = []  # per column: the number of each box's mask
    for c, found in enumerate(zip(*regions, strict=True)):
        masks[c] = list(dict.fromkeys(found))  # numbered in order of first use
        numbers[c] = {mask: n for n, mask in enumerate(masks[c])}
        columns.append(map(numbers[c].__getitem__, found))
    boxes = list(zip(*columns, strict=True))
    column, idle = 0, 0  # idle: turns in a row that joined nothing
    while idle < width:
        c = column
        rests = list(map(_leaving_out(width, c), boxes))
        counts = collections.Counter(rests)
        if len(counts) == len(rests):
            idle += 1
        else:
            idle = 0
            boxes = _joined(boxes, rests, counts, c, masks[c], number)
        column = (column + 1) % width
    return [tuple(map(list.__getitem__, masks, box)) for box in boxes]


def _joined(
    boxes: list[tuple[int, ...]],
    rests: list[tuple[int, ...]],
    counts: collections.Counter[tuple[int, ...]],
    c: int,
    of: list[int],
    number: Callable[[int, int], int],
) -> list[tuple[int, ...]]:
    """BOXES, those alike but for column C (the same REST, COUNTS of them) joined
    where the first of them stood; a box alone is kept as it is, so only joined
    masks are ORed and numbered (OF: the masks of column C, by number)."""
    several = {rest for rest, n in counts.items() if n > 1}
    joined: dict[tuple[int, ...], int] = {}
    for i in [i for i, rest in enumerate(rests) if rest in several]:
        joined[rests[i]] = joined.get(rests[i], 0) | of[boxes[i][c]]
    kept = []
    for rest, box in zip(rests, boxes, strict=True):
        if rest not in several:
            kept.append(box)
        elif (mask := joined.pop(rest, None)) is not None:
            kept.append((*rest[:c], number(c, mask), *rest[c:]))
    return kept


def _leaving_out(width: int, c: int) -> Callable[[tuple[int, ...]], tuple[int, ...]]:
    """A function giving a tuple of WIDTH items without item C (`itemgetter`, in C,
    where it gives a tuple: of two items or more)."""
    if width < 3:
        return lambda box: box[:c] + box[c + 1 :]
    return operator.itemgetter(*(i for i in range(width) if i != c))


# -- wording: a box as text and as an input ----------------------------------------


def describe(facts: Facts, region: Region) -> str:
    """`modality = US, age in [0..17]`: the columns REGION restricts."""
    parts = [
        said(axis, mask)
        for axis, mask in zip(facts.axes, region, strict=True)
        if mask != axis.full
    ]
    return ", ".join(parts) or "any input"


def said(axis: Axis, mask: int) -> str:
    """`age in [0..17]`: MASK of AXIS in words. The derived column of a list's
    quantified entry (version 2) is said as the author wrote the entry, of the
    list: `diagnosis_codes passes any(M54.*)`, not `diagnosis_codes_any_1 = true`."""
    quantified = quantified_entry(axis.column)
    if quantified is None:
        return f"{axis.column.name} {axis.describe(mask)}"
    name, text = quantified
    held: frozenset[object] = frozenset(axis.atoms[i].witness for i in bits(mask))
    phrase = _QUANTIFIED.get(held)
    if phrase is None:
        return f"{axis.column.name} {axis.describe(mask)}"
    return f"{name} {phrase.format(text)}"


_QUANTIFIED: dict[frozenset[object], str] = {
    frozenset({True}): "passes {}",
    frozenset({False}): "fails {}",
    frozenset({None}): "is missing",
    frozenset({True, False}): "is not missing",
    frozenset({False, None}): "does not pass {}",
    frozenset({True, None}): "does not fail {}",
}


def quantified_entry(column: Column) -> tuple[str, str] | None:
    """(the list, the entry as written: `any(M54.*, M51.*)`) when COLUMN is the
    derived column of a list's quantified entry (version 2), else None."""
    node = column.expression.tree if column.derived and column.expression else None
    if not isinstance(node, Quantified) or not isinstance(node.tests, UnaryTests):
        return None
    return (
        node.name,
        f"{node.quantifier}({entry_text(node.tests, DataType(node.type))})",
    )


def example_point(facts: Facts, region: Region) -> dict[str, Value]:
    """One input of REGION, by column; a list input (version 2), whose entries are
    its derived columns, is left out: its atoms hold elements, not lists."""
    return {
        axis.column.name: axis.example(mask)
        for axis, mask in zip(facts.axes, region, strict=True)
        if not axis.column.many
    }
