"""Stage 4: static analysis of the validated tables: does every table answer every case,
and never answer one case two ways?

The domain of a table is the product of its input columns' domains (their Values, or
the whole type; null is not part of it, see `atoms`). Per table version:

1. **Atoms** (`compiler/atoms.py`). Every column is cut into a few atoms on which all
   entries of the column agree, and each rule entry becomes a bitmask of atoms. A rule
   is then a box: the product of its masks. A rule with an empty mask matches nothing.

2. **The sweep** (`_Sweep`), in the style of Calvanese, Dumas, Laurson, Maggi,
   Montali and Teinemaa, "Semantics, analysis and simplification of DMN decision
   tables" (Information Systems, 2018). It partitions the domain recursively, column
   by column, into boxes where the set of matching rules is constant, splitting the
   rule set as it goes, without enumerating the grid or all pairs of rules:

       split(rules, box):
           if no rule is left:              the box is a gap
           if every rule fills the box:     a leaf: exactly these rules match here
           (FIRST, PRIORITY) if the rule that would win fills the box: it decides it
           otherwise cut the box along one column and split each part with the
           rules that meet it.

   Choosing the cut is the sweep: along a column, the rules' runs of atoms are sorted
   by start and merged where they share an atom. Where the merged stretches leave
   separate groups, the column can be cut between them with no rule crossing the cut
   (`components`): each rule goes to exactly one part, and atoms no rule accepts fall
   out as a gap. Tables are mostly built like decision trees, and are then cut along
   their own tree with no rule ever copied. When every column is crossed, the cut is
   the one position that the fewest rules cross (`straddled`, a count over the sorted
   run ends); those rules are copied into both halves. A `-` rule is copied by any
   cut of its column, so columns with fewer of them are tried first.

   The cost follows the number of boxes visited, about five per rule for the
   benchmark tables (`bench/analysis.py`), whose analysis time grows about as
   rules^1.3, not rules^2.

3. **Findings.** Leaves holding two rules are overlaps (UNIQUE; ANY when their outputs
   differ); gaps are merged into compact boxes; a rule that never decides a leaf is
   unreachable under FIRST or PRIORITY. Version dates and `from` chains are checked on
   the model directly.

Diagnostic codes (all found here, none blocks except where marked error):

    A301 error    UNIQUE: two rules can match the same input
    A302 error    ANY: two rules can match the same input with different outputs
    A303 error    gap: inputs no rule matches, in a single-hit table without Default
    A304 warning  the same gap, in a table declared `Complete: no`
    A305 warning  FIRST: earlier rules cover the rule entirely
    A306 warning  PRIORITY: the rule's output never wins
    A307 warning  the rule matches no allowed input at all
    A308 warning  no version of a decision is in force between two versions
    A309 warning  a `from` input can receive a value outside its Values
    A310 warning  a rule tests a `from` input for values its source never gives
    A311 warning  no input found that makes a rule apply through its `from` chain
    A312 info     examples are not generated for a table (its chain is aggregated)

The module also provides the data for generated tests: `examples` (one input per rule,
and both sides of every range edge and version date, with outputs from the reference
interpreter) and `uncovered_rules` (rules no authored test exercises).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from compiler.checking import interpret
from compiler.checking.atoms import Axis, bits, build_axis, runs, show, span
from compiler.diagnostics import Diagnostic, Location, Severity
from compiler.model import (
    Aggregation,
    Column,
    Compare,
    DataType,
    Decision,
    HitPolicy,
    Interval,
    Project,
    Rule,
    Table,
    Test,
    Value,
)
from compiler.reading.cells import tests_match

Region = tuple[int, ...]  # one atom mask per input column: the box of their product

SINGLE_HIT = (HitPolicy.UNIQUE, HitPolicy.FIRST, HitPolicy.PRIORITY, HitPolicy.ANY)
MAX_REPORTED = 20  # per table and finding kind; the rest is summed up in one message
_KEPT_WINS = 4  # regions kept per rule where it decides (for examples)


# -- one table: atoms, boxes and the sweep -------------------------------------------


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
        self._by_object: dict[int, tuple[Table, Facts]] = {}

    def __call__(self, table: Table) -> Facts:
        found = self._by_object.get(id(table))
        if found is not None and found[0] is table:
            return found[1]
        facts = _study(table)
        if len(self._by_object) >= 128:
            del self._by_object[next(iter(self._by_object))]
        self._by_object[id(table)] = (table, facts)
        return facts

    def cache_clear(self) -> None:
        self._by_object.clear()
        _study.cache_clear()


@functools.lru_cache(maxsize=128)
def _study(table: Table) -> Facts:
    """Atoms, boxes and the sweep of one table version (cached: tables are values)."""
    axes = tuple(
        build_axis(column, [rule.inputs[i] for rule in table.rules])
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


class _Sweep:
    """The recursive partition of one table's domain (see the module docstring)."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        table = facts.table
        self.policy = table.hit_policy
        self.masks = facts.masks
        self.full = [axis.full for axis in facts.axes]
        # The columns (a bitmask) where a rule accepts every atom: its "-" entries.
        self.fills = [
            sum(1 << c for c, mask in enumerate(box) if mask == self.full[c])
            for box in self.masks
        ]
        self.rank = [table.rank(rule) for rule in table.rules]
        self.outputs = [rule.outputs for rule in table.rules]
        self.uncovered: list[Region] = []

    def fills_region(self, rule: int, region: list[int]) -> bool:
        masks, fills = self.masks[rule], self.fills[rule]
        return all(
            fills >> c & 1 or masks[c] & part == part for c, part in enumerate(region)
        )

    def split(self, rules: list[int], region: list[int]) -> None:
        """Partition REGION (one atom mask per column) among RULES, which all meet it.
        Written with a stack rather than recursion: deep tables cannot overflow."""
        pending = [(rules, region)]
        while pending:
            rules, region = pending.pop()
            if not rules:
                self.uncovered.append(tuple(region))
                continue
            filling = [self.fills_region(r, region) for r in rules]
            if all(filling):
                self.leaf(rules, tuple(region))
                continue
            if self.policy in (HitPolicy.FIRST, HitPolicy.PRIORITY):
                winner = self.winner(rules)
                if filling[rules.index(winner)]:
                    self.decided(winner, rules, tuple(region))
                    continue
            # Rules filling the region are in every part whatever the cut: leave
            # them out of choosing it.
            inside = [r for r, fills in zip(rules, filling, strict=True) if not fills]
            everywhere = [r for r, fills in zip(rules, filling, strict=True) if fills]
            column, parts = self.cut(inside, region)
            for mask, members in reversed(parts):
                narrowed = region.copy()
                narrowed[column] = mask
                if everywhere:
                    members = sorted([*members, *everywhere])
                pending.append((members, narrowed))

    def cut(
        self, rules: list[int], region: list[int]
    ) -> tuple[int, list[tuple[int, list[int]]]]:
        """The cheapest way to cut REGION along one column: the column and its parts,
        each with the rules meeting it. A rule meeting several parts is copied into
        each, so the cost of a cut is the number of copies it makes.

        First a cut no rule crosses (`components`), else one position that the fewest
        rules cross (`straddled`). A rule that is "-" in a column is copied by any
        cut of it, which bounds what each column can offer: columns are tried from
        the fewest such rules up, and stop once none can do better."""
        fills, masks = self.fills, self.masks
        spread = [
            sum(1 for r in rules if fills[r] >> c & 1 or masks[r][c] & part == part)
            for c, part in enumerate(region)
        ]
        order = sorted(range(len(region)), key=spread.__getitem__)
        best: tuple[int, int, int, list[tuple[int, list[int]]]] | None = None
        uncut = []
        for column in order:
            if best is not None and spread[column] >= best[0]:
                break
            copies, parts = self.components(column, rules, region[column])
            if len(parts) == 1:
                uncut.append(column)  # every cut of it is crossed by a rule
            elif best is None or copies < best[0]:
                best = (copies, 0, column, parts)
        for column in uncut:
            if best is not None and spread[column] + 1 >= best[0]:
                continue
            found = self.straddled(column, rules, region[column])
            if found is not None and (best is None or found[:2] < best[:2]):
                copies, balance, position = found
                parts = self.halves(column, rules, region[column], position)
                best = (copies, balance, column, parts)
        assert best is not None, "a region no rule fills can always be cut"
        return best[2], best[3]

    def components(
        self, column: int, rules: list[int], part: int
    ) -> tuple[int, list[tuple[int, list[int]]]]:
        """PART of COLUMN cut where no rule crosses: the groups of atoms that rules
        link together, each with its rules, and the atoms no rule accepts (a gap).
        Rules accepting all of PART (`-`) link nothing and go to every group; their
        copies are counted first.

        A table built like a decision tree is cut exactly along its tree, so every
        rule stays whole and the work grows with the number of rules."""
        everywhere: list[int] = []
        runs_of: list[tuple[int, int, int]] = []  # (start, stop, rule)
        for r in rules:
            mask = part if self.fills[r] >> column & 1 else self.masks[r][column] & part
            if mask == part:
                everywhere.append(r)
            else:
                runs_of.extend((start, stop, r) for start, stop in runs(mask))
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
        found = [(mask[0], members) for mask, members in groups.values()]
        if part & ~covered:
            found.append((part & ~covered, []))
        if everywhere and len(found) > 1:
            found = [(mask, sorted([*members, *everywhere])) for mask, members in found]
            return len(everywhere) * (len(found) - 1), found
        return 0, found

    def straddled(
        self, column: int, rules: list[int], part: int
    ) -> tuple[int, int, int] | None:
        """The position at which to cut PART of COLUMN in two copying the fewest rules:
        (copies, size of the larger half, position); None when it cannot be cut."""
        lows: list[int] = []
        highs: list[int] = []
        candidates: set[int] = set()
        copies = 0
        for r in rules:
            mask = part if self.fills[r] >> column & 1 else self.masks[r][column] & part
            if mask == part:
                copies += 1
                continue
            lows.append((mask & -mask).bit_length() - 1)
            highs.append(mask.bit_length())
            for start, stop in runs(mask):
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


# -- wording ---------------------------------------------------------------------------


def describe(facts: Facts, region: Region) -> str:
    """`modality = US, age in [0..17]`: the columns REGION restricts."""
    parts = [
        f"{axis.column.name} {axis.describe(mask)}"
        for axis, mask in zip(facts.axes, region, strict=True)
        if mask != axis.full
    ]
    return ", ".join(parts) or "any input"


def example_point(facts: Facts, region: Region) -> dict[str, Value]:
    return {
        axis.column.name: axis.example(mask)
        for axis, mask in zip(facts.axes, region, strict=True)
    }


def _shown(values: dict[str, Value]) -> str:
    return (
        ", ".join(f"{name} = {show(value)}" for name, value in values.items())
        or "(no inputs)"
    )


def _cells(rule: Rule) -> str:
    cells = rule.input_cells
    if not cells:
        return rule.location.cell
    return cells[0] if len(cells) == 1 else f"{cells[0]}:{cells[-1]}"


def _where(rule: Rule) -> Location:
    return rule.location.at(_cells(rule))


def _names(rules: Iterable[Rule], limit: int = 8) -> str:
    ids = [rule.id for rule in rules]
    if len(ids) > limit:
        return ", ".join(ids[:limit]) + f" and {len(ids) - limit} more"
    return ", ".join(ids)


def _results(table: Table, rule: Rule) -> str:
    return ", ".join(
        f"{column.name} = {show(value)}"
        for column, value in zip(table.outputs, rule.outputs, strict=True)
    )


def _more(
    code: str, severity: Severity, table: Table, count: int, what: str
) -> Diagnostic:
    return Diagnostic(
        code,
        severity,
        f"... and {count} more {what} in this table (only the first {MAX_REPORTED} are shown)",
        table.location,
    )


# -- analyses: project -> diagnostics ----------------------------------------------


def _tables(project: Project) -> Iterator[Table]:
    for decision in project.decisions:
        yield from decision.versions


def check_overlaps(project: Project) -> Iterator[Diagnostic]:
    """A301, A302: one input answered two ways."""
    for table in _tables(project):
        if table.hit_policy not in (HitPolicy.UNIQUE, HitPolicy.ANY):
            continue
        facts = study(table)
        pairs = sorted(facts.overlaps, key=lambda pair: (pair[1], pair[0]))
        unique = table.hit_policy is HitPolicy.UNIQUE
        code = "A301" if unique else "A302"
        for a, b in pairs[:MAX_REPORTED]:
            first, second = table.rules[a], table.rules[b]
            region = facts.overlap(a, b)
            both = (
                f"rules {first.id} ({_cells(first)}) and {second.id} ({_cells(second)})"
            )
            where = describe(facts, region)
            example = _shown(example_point(facts, region))
            tail = f"both apply when {where}"
            if example != where:
                tail += f"; for example {example}"
            if unique:
                message = (
                    f"{both} can both apply to one case, but hit policy UNIQUE allows only "
                    f"one: {tail}"
                )
                hint = (
                    "make their conditions exclusive, or use hit policy FIRST if the "
                    "upper rule should win"
                )
            else:
                message = (
                    f"{both} can both apply to one case and give different results "
                    f"({first.id}: {_results(table, first)}; {second.id}: "
                    f"{_results(table, second)}), which hit policy ANY does not allow: "
                    f"{tail}"
                )
                hint = "make their conditions exclusive, or their results equal"
            yield Diagnostic(code, Severity.ERROR, message, _where(second), hint=hint)
        if len(pairs) > MAX_REPORTED:
            what = "pairs of overlapping rules"
            yield _more(code, Severity.ERROR, table, len(pairs) - MAX_REPORTED, what)


def check_gaps(project: Project) -> Iterator[Diagnostic]:
    """A303, A304: inputs no rule answers, in a single-hit table without Default."""
    for table in _tables(project):
        facts = study(table)
        if not facts.checks_gaps or not facts.uncovered:
            continue
        code, severity = (
            ("A303", Severity.ERROR) if table.complete else ("A304", Severity.WARNING)
        )
        for region in facts.uncovered[:MAX_REPORTED]:
            example = _shown(example_point(facts, region))
            if table.complete:
                message = (
                    f"no rule applies when {describe(facts, region)} (for example "
                    f"{example}), and the table has no Default"
                )
                hint = (
                    "add a rule for these cases, give the outputs a Default, or write "
                    "'Complete: no' above the table if it is meant to be partial"
                )
            else:
                message = (
                    f"no rule applies when {describe(facts, region)} (for example "
                    f"{example}); the table is marked 'Complete: no', so the result "
                    "is null there"
                )
                hint = ""
            yield Diagnostic(code, severity, message, table.location, hint=hint)
        extra = len(facts.uncovered) - MAX_REPORTED
        if extra > 0:
            yield _more(
                code, severity, table, extra, "groups of inputs no rule applies to"
            )


def check_reach(project: Project) -> Iterator[Diagnostic]:
    """A305, A306, A307: rules that never decide anything."""
    for table in _tables(project):
        facts = study(table)
        for index, column in sorted(facts.dead.items()):
            rule = table.rules[index]
            name = table.inputs[column].name
            yield Diagnostic(
                "A307",
                Severity.WARNING,
                f"rule {rule.id} can never apply: its {name!r} entry accepts none of the "
                "allowed values",
                rule.location.at(rule.input_cells[column]),
                hint="check the entry against the Values row of the column",
            )
        unreachable = facts.unreachable()
        for index in unreachable[:MAX_REPORTED]:
            rule = table.rules[index]
            beaten = sorted(facts.beaten.get(index, ()))
            winners = _names(table.rules[r] for r in beaten)
            if table.hit_policy is HitPolicy.FIRST:
                yield Diagnostic(
                    "A305",
                    Severity.WARNING,
                    f"rule {rule.id} never applies: the rules above it ({winners}) already "
                    "match every case it matches, and under hit policy FIRST the first "
                    "matching rule decides",
                    _where(rule),
                    hint="remove the rule, or move it above the rules that hide it",
                )
            else:
                own = table.rank(rule)
                higher = all(table.rank(table.rules[r]) < own for r in beaten)
                reason = (
                    "a rule with a higher-priority output also applies"
                    if higher
                    else "a rule with an output of higher or equal priority, placed "
                    "above it, also applies"
                )
                yield Diagnostic(
                    "A306",
                    Severity.WARNING,
                    f"rule {rule.id} never decides: wherever it applies, {reason} "
                    f"({winners}), and under hit policy PRIORITY that one wins",
                    _where(rule),
                    hint="remove the rule, or check the order of the output's Values",
                )
        if len(unreachable) > MAX_REPORTED:
            code = "A305" if table.hit_policy is HitPolicy.FIRST else "A306"
            extra = len(unreachable) - MAX_REPORTED
            yield _more(code, Severity.WARNING, table, extra, "rules that never decide")


def check_version_dates(project: Project) -> Iterator[Diagnostic]:
    """A308: days between two versions of a decision when none is in force."""
    for decision in project.decisions:
        versions = sorted(
            decision.versions,
            key=lambda t: (t.effective_from or dt.date.min, t.location),
        )
        for before, after in itertools.pairwise(versions):
            end, start = before.effective_to, after.effective_from
            if end is None or start is None or start <= end + dt.timedelta(days=1):
                continue
            first_day, last_day = (
                end + dt.timedelta(days=1),
                start - dt.timedelta(days=1),
            )
            days = "on" if first_day == last_day else "from"
            span_text = (
                str(first_day)
                if first_day == last_day
                else f"{first_day} to {last_day}"
            )
            yield Diagnostic(
                "A308",
                Severity.WARNING,
                f"no version of {decision.name!r} is in force {days} {span_text}: the "
                f"version at {before.location} ends on {end} and this one starts on {start}",
                after.metadata_location("effective from"),
                hint="make each version start the day after the previous one ends",
            )


def producible(
    project: Project, name: str, output: str
) -> dict[Value, Rule | None] | None:
    """The values table NAME can give for OUTPUT, each with a rule giving it (None for
    the Default); None when they cannot be listed (COLLECT SUM, COUNT, lists)."""
    found: dict[Value, Rule | None] = {}
    for table in project.decision(name).versions:
        if table.returns_list or table.aggregation in (
            Aggregation.SUM,
            Aggregation.COUNT,
        ):
            return None
        index = next(i for i, c in enumerate(table.outputs) if c.name == output)
        facts = study(table)
        for r in sorted(facts.wins):
            found.setdefault(table.rules[r].outputs[index], table.rules[r])
        column = table.outputs[index]
        if column.has_default and facts.uncovered:
            found.setdefault(column.default, None)
    return found


def starved(project: Project, table: Table) -> dict[int, tuple[int, str, list[Value]]]:
    """Rules testing a `from` input only for values its source never gives:
    rule -> (column, source table, the values it gives)."""
    facts = study(table)
    found: dict[int, tuple[int, str, list[Value]]] = {}
    for c, column in enumerate(table.inputs):
        if column.source_table is None:
            continue
        given = producible(project, column.source_table, column.name)
        values: list[Value] = [v for v in given or () if v is not None]
        if not values:
            continue
        located = [facts.axes[c].locate(v) for v in values]
        reached = sum(1 << atom for atom in located if atom is not None)
        for index in range(len(table.rules)):
            if index not in facts.dead and not facts.masks[index][c] & reached:
                found.setdefault(index, (c, column.source_table, values))
    return found


def check_chains(project: Project) -> Iterator[Diagnostic]:
    """A309, A310: a `from` input against what its source table can give."""
    for table in _tables(project):
        for column in table.inputs:
            source = column.source_table
            if source is None or column.values is None:
                continue
            for value, producer in (
                producible(project, source, column.name) or {}
            ).items():
                if value is None or tests_match(column.values, value):
                    continue
                by = f"rule {producer.id}" if producer else "its Default"
                yield Diagnostic(
                    "A309",
                    Severity.WARNING,
                    f"{column.name!r} comes from {source!r}, which can give "
                    f"{show(value)} ({by}), but {show(value)} is not among the Values "
                    "allowed here",
                    column.location,
                    hint=f"add it to the Values, or change the outputs of {source!r}",
                )
        for index, (c, source, values) in sorted(starved(project, table).items()):
            rule = table.rules[index]
            shown = ", ".join(show(v) for v in values[:12])
            yield Diagnostic(
                "A310",
                Severity.WARNING,
                f"rule {rule.id} can never apply: its {table.inputs[c].name!r} entry "
                f"accepts none of the values {source!r} gives ({shown})",
                rule.location.at(rule.input_cells[c]),
                hint=f"check the entry against the outputs of {source!r}",
            )


def check_chain_examples(project: Project) -> Iterator[Diagnostic]:
    """A311, A312: rules of chained tables for which no chain input can be found."""
    for decision in project.decisions:
        if not decision.requires:
            continue
        builder = _Examples(project)
        blocked = builder.blocked(decision.name)
        if blocked:
            yield Diagnostic(
                "A312",
                Severity.INFO,
                f"no test inputs are generated for {decision.name!r}: it depends on "
                f"{blocked!r}, whose results are aggregated",
                decision.first.location,
            )
            continue
        for table in decision.versions:
            facts = study(table)
            known = starved(project, table)
            for index, rule in enumerate(table.rules):
                if index in facts.dead or index not in facts.wins or index in known:
                    continue  # reported as unreachable already
                if builder.rule_inputs(decision, table, index) is None:
                    yield Diagnostic(
                        "A311",
                        Severity.WARNING,
                        f"no input found that makes rule {rule.id} apply when "
                        f"{decision.name!r} is evaluated with the tables it depends on "
                        f"({', '.join(decision.requires)}): they may never give the "
                        "values it needs together",
                        _where(rule),
                        hint="check the rule against the outputs of those tables",
                    )


ANALYSES: tuple[Callable[[Project], Iterator[Diagnostic]], ...] = (
    check_overlaps,
    check_gaps,
    check_reach,
    check_version_dates,
    check_chains,
    check_chain_examples,
)


def analyse(project: Project) -> tuple[Diagnostic, ...]:
    return tuple(d for analysis in ANALYSES for d in analysis(project))


# -- generated tests ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Example:
    """One generated test case: inputs, and what the reference interpreter answers."""

    table: str
    kind: str  # 'rule' (makes the rule decide) or 'boundary' (one side of an edge)
    description: str
    inputs: tuple[tuple[str, Value], ...]
    as_of: dt.date | None
    expected_outputs: tuple[tuple[str, Value | tuple[Value, ...]], ...]
    expected_rules: tuple[str, ...]


Constraint = tuple[str, Axis, int]  # input name, axis, atoms the value must lie in
_MAX_TRIES = 32  # constraint sets tried per rule before giving up


_EXACT_TYPES: dict[DataType, tuple[type, ...]] = {
    DataType.BOOLEAN: (bool,),
    DataType.INTEGER: (int,),
    DataType.NUMBER: (int, float),
    DataType.STRING: (str,),
    DataType.CODE: (str,),
    DataType.DATE: (dt.date,),
}


class _Candidates:
    """For the reference interpreter (`interpret.Candidates`): the rules of a table
    that may match some values, read off the analysis' atoms. Per column and atom it
    keeps the rules whose entry accepts the atom (an int, bit r for rule r); the
    rules left after AND-ing the atoms of the values are a superset of the matches,
    which the interpreter then tests one by one as always. So examples of a table of
    16,384 rules cost a few big-int operations each, not a walk over every rule.
    Values it cannot place (null, values of another type or outside the atoms) do
    not narrow anything."""

    def __init__(self) -> None:
        self._tables: dict[int, tuple[Table, list[list[int]]]] = {}

    def _index(self, table: Table) -> list[list[int]]:
        found = self._tables.get(id(table))
        if found is not None and found[0] is table:
            return found[1]
        facts = study(table)
        n = len(table.rules)
        index = []
        for c, axis in enumerate(facts.axes):
            by_mask: dict[int, bytearray] = {}
            for r, box in enumerate(facts.masks):
                rules = by_mask.get(box[c])
                if rules is None:
                    rules = by_mask[box[c]] = bytearray((n + 7) // 8)
                rules[r >> 3] |= 1 << (r & 7)
            atoms = [0] * len(axis.atoms)
            for mask, rules in by_mask.items():
                as_int = int.from_bytes(rules, "little")
                for atom in bits(mask):
                    atoms[atom] |= as_int
            index.append(atoms)
        self._tables[id(table)] = (table, index)
        return index

    def __call__(self, table: Table, values: dict[str, Value]) -> list[Rule]:
        index = self._index(table)
        axes = study(table).axes
        left = (1 << len(table.rules)) - 1
        for column, axis, atoms in zip(table.inputs, axes, index, strict=True):
            value = values.get(column.name)
            if type(value) not in _EXACT_TYPES[column.type] or value != value:
                continue  # null, another type, NaN: tested by the interpreter
            atom = axis.locate(value)
            if atom is not None:
                left &= atoms[atom]
        found = []
        while left:
            low = left & -left
            found.append(table.rules[low.bit_length() - 1])
            left ^= low
        return found


class _Examples:
    """Finds inputs (chain inputs for tables with `from` inputs) for generated tests."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.candidates = _Candidates()

    def blocked(self, name: str) -> str | None:
        """A required table (transitively) whose outputs cannot be listed, if any."""
        for required in self.project.decision(name).requires:
            decision = self.project.decision(required)
            if any(t.returns_list or t.aggregation for t in decision.versions):
                return required
            deeper = self.blocked(required)
            if deeper:
                return deeper
        return None

    def dates(self, decision: Decision, table: Table) -> list[dt.date | None]:
        """Evaluation dates on which TABLE is the version in force and every table of
        the chain has one: its start or end, else the edges of required versions."""
        project = self.project
        if not project.chain_versioned(decision.name):
            return [None]
        edges: set[dt.date] = set()
        pending, seen = [decision.name], set()
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            for version in project.decision(name).versions:
                edges.update(
                    d for d in (version.effective_from, version.effective_to) if d
                )
            pending.extend(project.decision(name).requires)
        own = [d for d in (table.effective_from, table.effective_to) if d]
        found: list[dt.date | None] = []
        for day in [*own, *sorted(edges)]:
            try:
                if interpret.version_in_force(project, decision.name, day) is not table:
                    continue
                for name in seen:
                    interpret.version_in_force(project, name, day)
            except interpret.NoVersion:
                continue
            found.append(day)
        return list(dict.fromkeys(found))

    def constraints(
        self, table: Table, region: Region, as_of: dt.date | None, depth: int = 0
    ) -> Iterator[list[Constraint]]:
        """Constraint sets on chain inputs under which TABLE's inputs fall in REGION."""
        facts = study(table)
        own: list[Constraint] = []
        choices: list[list[list[Constraint]]] = []
        for column, axis, mask in zip(table.inputs, facts.axes, region, strict=True):
            if column.source_table is None:
                own.append((column.name, axis, mask))
                continue
            if depth > 8:
                return
            options = list(
                itertools.islice(
                    self.feeding(column, axis, mask, as_of, depth), _MAX_TRIES
                )
            )
            if not options:
                return
            choices.append(options)
        for combination in itertools.islice(itertools.product(*choices), _MAX_TRIES):
            yield own + [c for option in combination for c in option]

    def feeding(
        self, column: Column, axis: Axis, mask: int, as_of: dt.date | None, depth: int
    ) -> Iterator[list[Constraint]]:
        """Constraint sets under which COLUMN's source table gives a value in MASK."""
        assert column.source_table is not None
        try:
            producer = interpret.version_in_force(
                self.project, column.source_table, as_of
            )
        except interpret.NoVersion:
            return
        facts = study(producer)
        index = next(i for i, c in enumerate(producer.outputs) if c.name == column.name)

        def accepted(value: Value) -> bool:
            atom = axis.locate(value)
            return atom is not None and bool(mask >> atom & 1)

        for r in sorted(facts.wins):
            if accepted(producer.rules[r].outputs[index]):
                for region in facts.wins[r]:
                    yield from self.constraints(producer, region, as_of, depth + 1)
        out = producer.outputs[index]
        if facts.uncovered and accepted(out.default if out.has_default else None):
            for region in facts.uncovered:
                yield from self.constraints(producer, region, as_of, depth + 1)

    def assign(
        self, decision: Decision, constraints: list[Constraint]
    ) -> dict[str, Value] | None:
        """Chain input values meeting every constraint, or None."""
        by_name: dict[str, list[tuple[Axis, int]]] = {}
        for name, axis, mask in constraints:
            by_name.setdefault(name, []).append((axis, mask))
        values: dict[str, Value] = {}
        for column in self.project.chain_inputs(decision.name):
            wanted = by_name.get(column.name)
            if not wanted:
                axis = build_axis(column, ())
                values[column.name] = axis.example(axis.full)
                continue
            found = _meet(wanted)
            if found is None:
                return None
            values[column.name] = found[0]
        return values

    def rule_inputs(
        self, decision: Decision, table: Table, index: int
    ) -> tuple[dict[str, Value], dt.date | None] | None:
        """Inputs and a date that make rule INDEX of TABLE decide, checked with the
        reference interpreter; None when none is found."""
        facts = study(table)
        rule = table.rules[index]
        for as_of in self.dates(decision, table):
            tries = 0
            for region in facts.wins.get(index, []):
                for constraints in self.constraints(table, region, as_of):
                    tries += 1
                    if tries > _MAX_TRIES:
                        break
                    values = self.assign(decision, constraints)
                    if values is None:
                        continue
                    try:
                        _, matched = interpret.evaluate(
                            self.project,
                            decision.name,
                            values,
                            as_of,
                            candidates=self.candidates,
                        )
                    except (interpret.Ambiguous, interpret.NoVersion):
                        continue
                    if _decides(table, rule, matched):
                        return values, as_of
        return None


def _meet(wanted: list[tuple[Axis, int]]) -> tuple[Value] | None:
    """A value lying in every (axis, atoms) pair, tried from each one's atoms."""
    for axis, mask in wanted:
        tried = 0
        remaining = mask
        while remaining and tried < 64:
            low = remaining & -remaining
            remaining ^= low
            tried += 1
            value = axis.atoms[low.bit_length() - 1].witness
            if all(_inside(other, atoms, value) for other, atoms in wanted):
                return (value,)
    return None


def _inside(axis: Axis, mask: int, value: Value) -> bool:
    atom = axis.locate(value)
    return atom is not None and bool(mask >> atom & 1)


def _decides(table: Table, rule: Rule, matched: list[str]) -> bool:
    if table.hit_policy in (HitPolicy.FIRST, HitPolicy.PRIORITY, HitPolicy.UNIQUE):
        return matched == [rule.id]
    return rule.id in matched


def _expected(
    project: Project,
    name: str,
    values: dict[str, Value],
    as_of: dt.date | None,
    candidates: interpret.Candidates | None = None,
) -> tuple[tuple[tuple[str, Value | tuple[Value, ...]], ...], tuple[str, ...]] | None:
    try:
        outputs, matched = interpret.evaluate(
            project, name, values, as_of, candidates=candidates
        )
    except (interpret.Ambiguous, interpret.NoVersion):
        return None
    if isinstance(outputs, list):
        columns = [c.name for c in project.decision(name).first.outputs]
        shaped = tuple((c, tuple(row[c] for row in outputs)) for c in columns)
        return shaped, tuple(matched)
    return tuple(outputs.items()), tuple(matched)


def _edges(test: Test, kind: DataType) -> list[Value]:
    """The values on both sides of each edge of an ordered test: 17 and 18 for `< 18`,
    18 and 19 for `<= 18`."""
    if isinstance(test, Compare):
        # (edge, whether the edge value itself lies on the upper side)
        edges = [(test.value, test.op in ("<", ">="))]
    elif isinstance(test, Interval):
        edges = [(test.low, test.low_closed), (test.high, not test.high_closed)]
    else:
        return []
    found: list[Value] = []
    for edge, upper in edges:
        pair = (
            (_nudge(edge, -1, kind), edge) if upper else (edge, _nudge(edge, 1, kind))
        )
        found.extend(pair)
    return found


def _nudge(value: Value, step: int, kind: DataType) -> Value:
    """VALUE moved one step: a day, a unit, a hundredth, or one code up or down."""
    if step == 0:
        return value
    if isinstance(value, dt.date):
        try:
            return value + dt.timedelta(days=step)
        except OverflowError:
            return None
    if kind is DataType.INTEGER and isinstance(value, int):
        return value + step
    if kind is DataType.NUMBER and isinstance(value, (int, float)):
        return float(Decimal(repr(float(value))) + Decimal(step) / 100)
    if isinstance(value, str):
        return _next_code(value, step)
    return None


def _next_code(code: str, step: int) -> str | None:
    """The neighbouring code of the same length, counting in digits and capitals
    (`70450` -> `70449`, `M53Z` -> `M540`); None past the ends or for other characters."""
    chars = list(code)
    for i in range(len(chars) - 1, -1, -1):
        ch = chars[i]
        for alphabet in ("0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
            if ch in alphabet:
                at = alphabet.index(ch) + step
                if 0 <= at < len(alphabet):
                    chars[i] = alphabet[at]
                    return "".join(chars)
                chars[i] = alphabet[at % len(alphabet)]
                break
        else:
            return None
    return None


def _test_text(test: Test) -> str:
    if isinstance(test, Compare):
        return f"{test.op} {show(test.value)}"
    if isinstance(test, Interval):
        opening = "[" if test.low_closed else "("
        closing = "]" if test.high_closed else ")"
        return f"{opening}{show(test.low)}..{show(test.high)}{closing}"
    return ""


def _decision_examples(project: Project, decision: Decision) -> list[Example]:
    builder = _Examples(project)
    if builder.blocked(decision.name):
        return []
    found: dict[tuple[tuple[tuple[str, Value], ...], dt.date | None], Example] = {}

    def add(
        kind: str, description: str, values: dict[str, Value], as_of: dt.date | None
    ) -> None:
        inputs = tuple(values.items())
        if (inputs, as_of) in found:
            return
        expected = _expected(project, decision.name, values, as_of, builder.candidates)
        if expected is not None:
            outputs, matched = expected
            found[(inputs, as_of)] = Example(
                decision.name, kind, description, inputs, as_of, outputs, matched
            )

    chained = bool(decision.requires)
    decided: list[tuple[Table, Rule, dict[str, Value], dt.date | None]] = []
    for table in decision.versions:
        facts = study(table)
        for index, rule in enumerate(table.rules):
            if index in facts.dead or index not in facts.wins:
                continue
            solved = builder.rule_inputs(decision, table, index)
            if solved is not None:
                decided.append((table, rule, *solved))
                version = ""
                if decision.versioned:
                    version = f" (version from {table.effective_from or 'the start'})"
                add("rule", f"rule {rule.id}{version} decides", *solved)
    for table, rule, values, as_of in decided:
        facts = study(table)
        for c, (column, entry) in enumerate(
            zip(table.inputs, rule.inputs, strict=True)
        ):
            if chained and column.source_table:
                continue  # set through its source table, not directly
            for test in entry.tests:
                for value in _edges(test, column.type):
                    if value is None or facts.axes[c].locate(value) is None:
                        continue
                    side = "inside" if tests_match(entry, value) else "outside"
                    text = (
                        f"rule {rule.id}: {column.name} = {show(value)}, just {side} "
                        f"{_test_text(test)}"
                    )
                    add("boundary", text, {**values, column.name: value}, as_of)
    base = next(iter(found.values()), None)
    if decision.versioned and base is not None:
        for table in decision.versions:
            for edge, days in (
                (table.effective_from, (-1, 0)),
                (table.effective_to, (0, 1)),
            ):
                if edge is None:
                    continue
                for shift in days:
                    day = edge + dt.timedelta(days=shift)
                    when = ("the day before", "the day of", "the day after")[shift + 1]
                    ends = "starts" if days == (-1, 0) else "ends"
                    text = (
                        f"{when} the version of {decision.name!r} that {ends} on {edge}"
                    )
                    add("boundary", text, dict(base.inputs), day)
    return list(found.values())


def examples(project: Project) -> dict[str, tuple[Example, ...]]:
    """Generated test cases per decision: for every rule an input that makes it decide,
    and inputs on both sides of every range edge and version date, with the outputs
    the reference interpreter gives. Tables depending on aggregated tables get none
    (A312); rules no input reaches get none (A305-A307, A310, A311 say so).
    Call it on a project without analysis errors."""
    return {d.name: tuple(_decision_examples(project, d)) for d in project.decisions}


def uncovered_rules(project: Project) -> dict[str, tuple[str, ...]]:
    """Per decision, the rules no authored test case exercises, in table order.

    A case exercises the rules the interpreter reports as matched for its table and,
    through `from` inputs, for the tables it depends on. Rule ids of versioned
    decisions are given as `R1 (version from 2025-01-01)` when versions share ids.
    """
    matched: dict[str, set[tuple[int, str]]] = {
        d.name: set() for d in project.decisions
    }

    def exercise(
        name: str, values: dict[str, Value], as_of: dt.date | None, seen: set[str]
    ) -> None:
        if name in seen:
            return
        seen.add(name)
        try:
            table = interpret.version_in_force(project, name, as_of)
            _, ids = interpret.evaluate(project, name, values, as_of)
        except (interpret.Ambiguous, interpret.NoVersion):
            return
        version = project.decision(name).versions.index(table)
        matched[name].update((version, i) for i in ids)
        for required in project.decision(name).requires:
            exercise(required, values, as_of, seen)

    for suite in project.suites:
        for case in suite.cases:
            exercise(suite.table, dict(case.inputs), case.as_of, set())
    result: dict[str, tuple[str, ...]] = {}
    for decision in project.decisions:
        ids = [r.id for t in decision.versions for r in t.rules]
        shared = {i for i in ids if ids.count(i) > 1}
        missing = []
        for version, table in enumerate(decision.versions):
            for rule in table.rules:
                if (version, rule.id) in matched[decision.name]:
                    continue
                label = rule.id
                if rule.id in shared:
                    label += f" (version from {table.effective_from or 'the start'})"
                missing.append(label)
        result[decision.name] = tuple(missing)
    return result


__all__ = [
    "ANALYSES",
    "Example",
    "Facts",
    "analyse",
    "examples",
    "study",
    "uncovered_rules",
]
