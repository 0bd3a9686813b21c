"""The data of generated tests: `examples` (one input per rule, and both sides of
every range edge and version date, with outputs from the reference interpreter) and
`uncovered_rules` (rules no authored test exercises)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from compiler.checking import interpret
from compiler.checking.analyse.computed import ComputedSearch, has_computed
from compiler.checking.analyse.inputs import InputSearch
from compiler.checking.analyse.nulls import settle_sources
from compiler.checking.analyse.regions import study
from compiler.checking.atoms import show
from compiler.model import (
    Compare,
    DataType,
    Decision,
    Interval,
    Project,
    Rule,
    Table,
    Test,
    Value,
    YearsMonths,
)
from compiler.reading.cells import tests_match


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


def _expected(
    project: Project,
    name: str,
    values: dict[str, Value],
    as_of: dt.date | None,
    builder: InputSearch,
) -> tuple[tuple[tuple[str, Value | tuple[Value, ...]], ...], tuple[str, ...]] | None:
    """What the reference interpreter answers for VALUES on AS_OF (already known
    for the inputs BUILDER found for a rule), or None when it raises."""
    answer = builder.answers.pop((name, tuple(values.items()), as_of), None)
    if answer is None:
        try:
            answer = interpret.evaluate(
                project, name, values, as_of, candidates=builder.candidates
            )
        except (interpret.Ambiguous, interpret.NoVersion, interpret.MissingInput):
            return None
    outputs, matched = answer
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
    if isinstance(value, YearsMonths):  # version 2: a month
        return YearsMonths(value.total + step)
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


def _decision_examples(
    project: Project, decision: Decision, misses: list[str] | None = None
) -> list[Example]:
    """DECISION's examples; MISSES gets the rules of tables with computed inputs
    for which the search (`computed`) found none within its budget."""
    builder = InputSearch(project)
    if builder.blocked(decision.name):
        return []
    chain = project.chain_inputs(decision.name)
    if any(c.path for c in chain) and any(
        c.computed for t in decision.versions for c in t.inputs
    ):
        # a table with both: the search for computed inputs (`computed`) does not
        # nest the values of path inputs yet; its Tests sheet's cases stand for it
        return []
    searched = ComputedSearch(builder)  # version 2: tables with computed inputs
    found: dict[tuple[tuple[tuple[str, Value], ...], dt.date | None], Example] = {}

    def add(
        kind: str, description: str, values: dict[str, Value], as_of: dt.date | None
    ) -> None:
        inputs = tuple(values.items())
        if (inputs, as_of) in found:
            return
        expected = _expected(project, decision.name, values, as_of, builder)
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
            if has_computed(table):
                solved = searched.rule_inputs(decision, table, index)
                if solved is None and misses is not None:
                    misses.append(_label(decision, table, rule))
            else:
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
            if (chained and column.source_table) or column.computed:
                continue  # set through its source table, or computed: not directly
            for test in entry.tests:
                edges = _edges(test, column.type)
                shown = _test_text(test) if edges else ""
                for value in edges:
                    if value is None or facts.axes[c].locate(value) is None:
                        continue
                    side = "inside" if tests_match(entry, value) else "outside"
                    text = (
                        f"rule {rule.id}: {column.name} = {show(value)}, just {side} "
                        f"{shown}"
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


def _label(decision: Decision, table: Table, rule: Rule) -> str:
    if decision.versioned:
        return f"{rule.id} (version from {table.effective_from or 'the start'})"
    return rule.id


def examples(
    project: Project, *, misses: dict[str, tuple[str, ...]] | None = None
) -> dict[str, tuple[Example, ...]]:
    """Generated test cases per decision: for every rule an input that makes it decide,
    and inputs on both sides of every range edge and version date, with the outputs
    the reference interpreter gives. Tables depending on aggregated tables get none
    (A312); rules no input reaches get none (A305-A307, A310, A311 say so). In tables
    with computed inputs the inputs are searched within a budget (`computed`): the
    rules it finds none for are put in MISSES (decision -> rule labels) when given.
    Call it on a project without analysis errors."""
    project = settle_sources(project)
    found: dict[str, tuple[Example, ...]] = {}
    for decision in project.decisions:
        missed: list[str] = []
        found[decision.name] = tuple(_decision_examples(project, decision, missed))
        if missed and misses is not None:
            misses[decision.name] = tuple(missed)
    return found


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
        except (interpret.Ambiguous, interpret.NoVersion, interpret.MissingInput):
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
