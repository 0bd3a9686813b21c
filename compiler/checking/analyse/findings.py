"""The findings of the sweep, as diagnostics: overlaps (A301, A302), gaps (A303,
A304), rules that never decide (A305-A307), gaps and overlaps that exist only when an
input is missing (A313, A314: warnings, so that a table written over real values
still compiles); and days no version of a decision is in
force (A308), checked on the model directly. Each kind reports at most `MAX_REPORTED`
per table and sums up the rest in one message."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from compiler.checking.analyse.computed import has_computed
from compiler.checking.analyse.regions import (
    Facts,
    Region,
    complete_facts,
    describe,
    example_point,
    merge_regions,
    quantified_entry,
    said,
    study,
)
from compiler.checking.analyse.witness import UNKNOWN, Accepts, Verdict, Witnesses
from compiler.checking.atoms import show
from compiler.diagnostics import Diagnostic, Location, Severity
from compiler.model import HitPolicy, Project, Rule, Table, Value

MAX_REPORTED = 20  # per table and finding kind; the rest is summed up in one message
_T = TypeVar("_T")


# -- wording ---------------------------------------------------------------------------


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


def rule_location(rule: Rule) -> Location:
    """Where a finding about RULE points: its input cells (also used by `chains`)."""
    return rule.location.at(_cells(rule))


def all_tables(project: Project) -> Iterator[Table]:
    """Every version of every decision, in order: what the per-table passes check."""
    for decision in project.decisions:
        yield from decision.versions


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


def _complete(table: Table, facts: Facts) -> Facts:
    """The facts of TABLE over complete inputs (no input missing)."""
    return complete_facts(facts)


def _missing_names(facts: Facts, region: Region) -> list[str]:
    """The inputs REGION holds missing only (its mask is the null atom alone); a
    list's quantified column is missing when the list is (version 2)."""
    names = [
        (quantified_entry(axis.column) or (axis.column.name,))[0]
        for axis, mask in zip(facts.axes, region, strict=True)
        if axis.null is not None and mask == 1 << axis.null
    ]
    return list(dict.fromkeys(names))


def _listed(names: list[str]) -> str:
    quoted = [repr(n) for n in names]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _missing_hint(names: list[str], fix: str) -> str:
    it = "it" if len(names) == 1 else "them"
    when = "it is" if len(names) == 1 else "they are"
    kind = "'required input'"
    return f"declare {it} required (Kind {kind}), or {fix} when {when} missing"


def _where(facts: Facts, region: Region) -> str:
    """REGION without its missing-only columns (the message names those)."""
    parts = [
        said(axis, mask)
        for axis, mask in zip(facts.axes, region, strict=True)
        if mask != axis.full
        and not (axis.null is not None and mask == 1 << axis.null)
        and not (axis.null is not None and mask == axis.full & ~(1 << axis.null))
    ]
    return ", ".join(parts)


def assumption(table: Table) -> str:
    """What the analysis of TABLE assumes (version 2), empty when it is exact.

    Computed and derived inputs are analysed as inputs of their own. That is exact
    unless what they read is constrained elsewhere in the table: an input they read
    has entries of its own, or two of them read the same input
    (`x_vs_a` and `x_vs_b`, both of `x`). Then some combinations of atoms cannot
    occur, and a finding may name one of them."""
    computed = [c for c in table.inputs if c.expression is not None]
    if not computed:
        return ""
    constrained = {
        c.name
        for i, c in enumerate(table.inputs)
        if not c.computed and any(not r.inputs[i].is_any for r in table.rules)
    }
    readers: dict[str, int] = {}
    for column in computed:
        assert column.expression is not None
        for name in set(column.expression.names):
            readers[name] = readers.get(name, 0) + 1
    related = sorted(n for n, k in readers.items() if k > 1 or n in constrained)
    if not related:
        return ""
    shown = ", ".join(c.name for c in computed)
    return (
        f"this may be spurious: the analysis takes {shown} as inputs of their own, "
        f"independent of one another and of {', '.join(related)}, which they are "
        "computed from, so it cannot tell whether such a case can occur"
    )


def _hedge(found: Diagnostic, note: str) -> Diagnostic:
    """FOUND saying NOTE, as a warning: an error the tables may not have must not
    block."""
    if not note:
        return found
    return dataclasses.replace(
        found,
        severity=min(found.severity, Severity.WARNING),
        message=f"{found.message} ({note})",
    )


class _Judge:
    """The findings of one table with computed inputs, settled (version 2:
    `witness`): a finding whose region no inputs reach is dropped, one that inputs
    reach shows them as its example and is certain; the others are hedged where
    the analysis assumes something."""

    def __init__(self, table: Table, witnesses: Callable[[], Witnesses]) -> None:
        self.table = table
        self.note = assumption(table)
        self.searched = has_computed(table)  # an example: inputs, not columns
        self._witnesses = witnesses

    def possible(
        self, findings: Iterable[tuple[_T, Region, Accepts]]
    ) -> list[tuple[_T, Region, Verdict]]:
        """FINDINGS (what, where, whether a case shows it) but those no inputs
        reach, each with its verdict; confirmed (an example found) only for the
        first `MAX_REPORTED`, which are reported."""
        found: list[tuple[_T, Region, Verdict]] = []
        for what, region, accepts in findings:
            if not self.searched:
                found.append((what, region, UNKNOWN))
                continue
            confirm = len(found) < MAX_REPORTED
            verdict = self._witnesses().verdict(self.table, region, accepts, confirm)
            if not verdict.impossible:
                found.append((what, region, verdict))
        return found

    def example(self, facts: Facts, region: Region, verdict: Verdict) -> str:
        return _shown(verdict.example or example_point(facts, region))

    def qualify(self, found: Diagnostic, verdict: Verdict = UNKNOWN) -> Diagnostic:
        return found if verdict.example is not None else _hedge(found, self.note)


def _witnesses(project: Project) -> Callable[[], Witnesses]:
    """A Witnesses of PROJECT, built on first use (most tables never need one)."""
    made: list[Witnesses] = []

    def get() -> Witnesses:
        if not made:
            made.append(Witnesses(project))
        return made[0]

    return get


def _none_applies(matched: frozenset[int]) -> bool:
    return not matched


def _both_apply(a: int, b: int) -> Accepts:
    return lambda matched: a in matched and b in matched


def check_overlaps(project: Project) -> Iterator[Diagnostic]:
    """A301, A302: one input answered two ways; A314: only when an input is missing."""
    witnesses = _witnesses(project)
    for table in all_tables(project):
        if table.hit_policy not in (HitPolicy.UNIQUE, HitPolicy.ANY):
            continue
        facts = study(table)
        if not facts.overlaps:
            continue
        judge = _Judge(table, witnesses)
        complete = _complete(table, facts)
        pairs = sorted(complete.overlaps, key=_later)
        yield from _overlaps(table, complete, _judged(judge, complete, pairs), judge)
        pairs = sorted(
            (p for p in facts.overlaps if p not in complete.overlaps), key=_later
        )
        yield from _missing_overlaps(table, facts, _judged(judge, facts, pairs), judge)


def _judged(
    judge: _Judge, facts: Facts, pairs: list[tuple[int, int]]
) -> list[tuple[tuple[int, int], Region, Verdict]]:
    """The PAIRS of rules that can both apply to one case, with the region where
    they do and its verdict."""
    return judge.possible((p, facts.overlap(*p), _both_apply(*p)) for p in pairs)


def _later(pair: tuple[int, int]) -> tuple[int, int]:
    return pair[1], pair[0]


def _both(table: Table, a: int, b: int) -> tuple[Rule, Rule, str]:
    first, second = table.rules[a], table.rules[b]
    both = f"rules {first.id} ({_cells(first)}) and {second.id} ({_cells(second)})"
    return first, second, both


def _overlaps(
    table: Table,
    facts: Facts,
    pairs: list[tuple[tuple[int, int], Region, Verdict]],
    judge: _Judge,
) -> Iterator[Diagnostic]:
    unique = table.hit_policy is HitPolicy.UNIQUE
    code = "A301" if unique else "A302"
    for (a, b), region, verdict in pairs[:MAX_REPORTED]:
        first, second, both = _both(table, a, b)
        where = describe(facts, region)
        example = judge.example(facts, region, verdict)
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
        found = Diagnostic(
            code, Severity.ERROR, message, rule_location(second), hint=hint
        )
        yield judge.qualify(found, verdict)
    if len(pairs) > MAX_REPORTED:
        what = "pairs of overlapping rules"
        extra = len(pairs) - MAX_REPORTED
        yield judge.qualify(_more(code, Severity.ERROR, table, extra, what))


def _missing_overlaps(
    table: Table,
    facts: Facts,
    pairs: list[tuple[tuple[int, int], Region, Verdict]],
    judge: _Judge,
) -> Iterator[Diagnostic]:
    """A314: rules that overlap only where an input is missing."""
    for (a, b), region, verdict in pairs[:MAX_REPORTED]:
        first, second, both = _both(table, a, b)
        names = _missing_names(facts, region)
        verb = "is" if len(names) == 1 else "are"
        where = _where(facts, region)
        example = judge.example(facts, region, verdict)
        if table.hit_policy is HitPolicy.UNIQUE:
            problem = "but hit policy UNIQUE allows only one"
        else:
            problem = (
                f"and give different results ({first.id}: {_results(table, first)}; "
                f"{second.id}: {_results(table, second)}), which hit policy ANY does "
                "not allow"
            )
        message = (
            f"{both} both apply when {_listed(names)} {verb} missing"
            + (f" and {where}" if where else "")
            + f", {problem} (for example {example})"
        )
        hint = _missing_hint(names, "make the rules exclusive")
        found = Diagnostic(
            "A314", Severity.WARNING, message, rule_location(second), hint=hint
        )
        yield judge.qualify(found, verdict)
    if len(pairs) > MAX_REPORTED:
        what = "pairs of rules overlapping when an input is missing"
        extra = len(pairs) - MAX_REPORTED
        yield judge.qualify(_more("A314", Severity.WARNING, table, extra, what))


def check_gaps(project: Project) -> Iterator[Diagnostic]:
    """A303, A304: inputs no rule answers, in a single-hit table without Default;
    A313: such inputs that exist only when an input is missing."""
    witnesses = _witnesses(project)
    for table in all_tables(project):
        facts = study(table)
        if not facts.checks_gaps or not facts.uncovered:
            continue
        judge = _Judge(table, witnesses)
        yield from _gaps(table, _complete(table, facts), judge)
        yield from _missing_gaps(table, facts, judge)


def _gaps(table: Table, facts: Facts, judge: _Judge) -> Iterator[Diagnostic]:
    code, severity = (
        ("A303", Severity.ERROR) if table.complete else ("A304", Severity.WARNING)
    )
    regions = judge.possible((r, r, _none_applies) for r in facts.uncovered)
    for _, region, verdict in regions[:MAX_REPORTED]:
        example = judge.example(facts, region, verdict)
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
        found = Diagnostic(code, severity, message, table.location, hint=hint)
        yield judge.qualify(found, verdict)
    extra = len(regions) - MAX_REPORTED
    if extra > 0:
        what = "groups of inputs no rule applies to"
        yield judge.qualify(_more(code, severity, table, extra, what))


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
    # Those columns of the gaps are then all ones: they cut nothing off a piece.
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
                tuple(-1 if c in missing else m for c, m in enumerate(gap))
                for gap in gaps
                if all(gap[c] == values[c] for c in missing)
            ]
        kept.extend(_beyond_gaps(box, holding[missing]))
    return merge_regions(kept)


def _beyond_gaps(piece: Region, gaps: list[Region]) -> list[Region]:
    """PIECE without what GAPS hold: complete gaps holding every value of PIECE's
    missing-only columns, those columns made all ones. A gap that misses PIECE
    misses every box cut from it: it is passed over at once."""
    boxes = [piece]
    for gap in [gap for gap in gaps if all(map(operator.and_, piece, gap))]:
        left: list[Region] = []
        for box in boxes:
            if all(map(operator.and_, box, gap)):
                left.extend(_minus(box, tuple(map(operator.and_, box, gap))))
            else:
                left.append(box)
        boxes = left
    return boxes


def _minus(box: Region, inner: Region) -> list[Region]:
    """BOX without INNER (a box inside it), as disjoint boxes."""
    found: list[Region] = []
    prefix = list(box)
    for c in range(len(box)):
        rest = box[c] & ~inner[c]
        if rest:
            found.append((*prefix[:c], rest, *box[c + 1 :]))
        prefix[c] = inner[c]
    return found


def _missing_gaps(table: Table, facts: Facts, judge: _Judge) -> Iterator[Diagnostic]:
    """A313: inputs no rule answers only because an input is missing."""
    gaps = missing_regions(facts)
    regions = judge.possible((r, r, _none_applies) for r in gaps)
    for _, region, verdict in regions[:MAX_REPORTED]:
        names = _missing_names(facts, region)
        verb = "is" if len(names) == 1 else "are"
        where = _where(facts, region)
        example = judge.example(facts, region, verdict)
        result = (
            "and the table has no Default"
            if table.complete
            else "the table is marked 'Complete: no', so the result is null there"
        )
        message = (
            f"no rule applies when {_listed(names)} {verb} missing"
            + (f" and {where}" if where else "")
            + f" (for example {example}), {result}"
        )
        hint = _missing_hint(names, "add a rule or a Default for")
        found = Diagnostic("A313", Severity.WARNING, message, table.location, hint=hint)
        yield judge.qualify(found, verdict)
    if len(regions) > MAX_REPORTED:
        what = "groups of inputs no rule applies to when an input is missing"
        extra = len(regions) - MAX_REPORTED
        yield judge.qualify(_more("A313", Severity.WARNING, table, extra, what))


def check_reach(project: Project) -> Iterator[Diagnostic]:
    """A305, A306, A307: rules that never decide anything. Certain on every table:
    a computed column taken as an input of its own (version 2) can only add cases
    that do not occur, so a rule that decides in none of the cases the sweep
    considers decides in none that occur."""
    for table in all_tables(project):
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
                    rule_location(rule),
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
                    rule_location(rule),
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
