"""The findings of the sweep, as diagnostics: overlaps (A301, A302), gaps (A303,
A304), rules that never decide (A305-A307); and days no version of a decision is in
force (A308), checked on the model directly. Each kind reports at most `MAX_REPORTED`
per table and sums up the rest in one message."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator

from compiler.checking.analyse.regions import describe, example_point, study
from compiler.checking.atoms import show
from compiler.diagnostics import Diagnostic, Location, Severity
from compiler.model import HitPolicy, Project, Rule, Table, Value

MAX_REPORTED = 20  # per table and finding kind; the rest is summed up in one message


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


def check_overlaps(project: Project) -> Iterator[Diagnostic]:
    """A301, A302: one input answered two ways."""
    for table in all_tables(project):
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
            yield Diagnostic(
                code, Severity.ERROR, message, rule_location(second), hint=hint
            )
        if len(pairs) > MAX_REPORTED:
            what = "pairs of overlapping rules"
            yield _more(code, Severity.ERROR, table, len(pairs) - MAX_REPORTED, what)


def check_gaps(project: Project) -> Iterator[Diagnostic]:
    """A303, A304: inputs no rule answers, in a single-hit table without Default."""
    for table in all_tables(project):
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
