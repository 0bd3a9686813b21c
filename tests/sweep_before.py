"""The sweep of `compiler/checking/analyse/regions.py`, `merge_regions` and
`findings.missing_regions` as they were before they were made faster (commit
17831c0, issue 18), kept verbatim as the reference the faster code must match box
for box: the gaps reported and the examples generated are read off these boxes, so
the same findings need the same boxes, not just equivalent ones
(`tests/test_sweep.py`)."""

from __future__ import annotations

import bisect
import collections
import itertools

from compiler.checking.analyse.findings import _minus
from compiler.checking.analyse.regions import _KEPT_WINS, Facts, Region, complete_facts
from compiler.checking.atoms import bits, runs, span
from compiler.model import HitPolicy


def sweep_before(facts: Facts) -> Facts:
    """The facts the sweep before found for the table of FACTS (same atoms)."""
    found = Facts(facts.table, facts.axes, facts.masks, dead=dict(facts.dead))
    if any(axis.full == 0 for axis in facts.axes):
        return found
    live = [r for r in range(len(facts.masks)) if r not in found.dead]
    sweep = _Sweep(found)
    sweep.split(live, [axis.full for axis in facts.axes])
    found.uncovered = merge_regions(sweep.uncovered)
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


def missing_regions(facts: Facts) -> list[Region]:
    """The uncovered boxes of FACTS cut to the inputs where some input is missing:
    disjoint boxes, each with one column holding null alone, merged. Left out: the
    inputs that stay unanswered whatever value the missing ones take, inside one gap
    over complete inputs (A303 says those already)."""
    pieces: list[Region] = []
    for region in facts.uncovered:
        for c, axis in enumerate(facts.axes):
            if axis.null is None or not region[c] >> axis.null & 1:
                continue
            piece = list(region)
            piece[c] = 1 << axis.null
            for before in range(c):
                null = facts.axes[before].null
                if null is not None:
                    piece[before] &= ~(1 << null)
            if all(piece):
                pieces.append(tuple(piece))
    gaps = complete_facts(facts).uncovered
    values = {  # per column that can be missing: its atoms other than null
        c: axis.full & ~(1 << axis.null)
        for c, axis in enumerate(facts.axes)
        if axis.null is not None
    }
    # The gaps holding every value of a set of missing-only columns, per set: the
    # pieces share a few sets, so each gap is tested once per set, not per piece.
    holding: dict[tuple[int, ...], list[Region]] = {}
    kept: list[Region] = []
    for box in pieces:
        missing = tuple(
            c
            for c, axis in enumerate(facts.axes)
            if box[c] == 1 << (axis.null or 0) and c in values
        )
        if missing not in holding:
            holding[missing] = [
                gap for gap in gaps if all(gap[c] == values[c] for c in missing)
            ]
        kept.extend(_beyond_gaps(box, missing, holding[missing]))
    return merge_regions(kept)


def _beyond_gaps(
    piece: Region, missing: tuple[int, ...], gaps: list[Region]
) -> list[Region]:
    """PIECE without the inputs that GAPS, complete gaps holding every value of
    PIECE's MISSING-only columns, hold."""
    boxes = [piece]
    for gap in gaps:
        left: list[Region] = []
        for box in boxes:
            inside = tuple(
                box[c] if c in missing else box[c] & gap[c] for c in range(len(box))
            )
            left.extend(_minus(box, inside) if all(inside) else [box])
        boxes = left
    return boxes
