"""The authored Tests-sheet cases, run where authors look: `compile`, `lint`, `check`,
`watch` and `analyse` all report a case that does not hold as `E423`.

Each case goes through the reference interpreter (`interpret`), which the generated
evaluators agree with (tests/test_authored.py runs the shipped tables' cases both
ways). A failing case is one error per cell that disagrees, at that cell of the Tests
sheet: what was expected, what the table answered and which rule decided.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from compiler.checking import interpret
from compiler.diagnostics import Diagnostic, Location, Severity
from compiler.model import Project, Table, TestCase, TestSuite, Value
from compiler.reading.cell_text import value_text

Expected = Value | tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class Miss:
    """One expected cell the table does not answer: its column ("expected rule" for
    the matched rules), what it expects and what the table gave."""

    column: str
    wanted: Expected | tuple[str, ...]
    got: Expected | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the table made of one case."""

    case: TestCase
    table: Table | None  # the version that decided; None when none could
    actual: tuple[tuple[str, Expected], ...]  # each expected output's answer
    matched: tuple[str, ...]
    misses: tuple[Miss, ...]
    error: str = ""  # why the table could not decide (ambiguous, no version)

    @property
    def passed(self) -> bool:
        return not self.error and not self.misses


def close(a: Any, b: Any) -> bool:
    """Equal values; numbers within rounding (sums of floats may round)."""
    if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return type(a) is type(b) and bool(a == b)


def run_case(project: Project, suite: TestSuite, case: TestCase) -> Outcome:
    """Evaluate CASE of SUITE with the reference interpreter and compare."""
    try:
        table = interpret.version_in_force(project, suite.table, case.as_of)
        outputs, matched = interpret.evaluate(
            project, suite.table, dict(case.inputs), case.as_of
        )
    except (
        interpret.Ambiguous,
        interpret.NoVersion,
        interpret.MissingInput,
    ) as exc:
        return Outcome(case, None, (), (), (), str(exc))
    actual: list[tuple[str, Expected]] = []
    misses: list[Miss] = []
    for name, wanted in case.expected:
        got: Expected
        if isinstance(outputs, list):
            got = tuple(o[name] for o in outputs)
            ok = (
                isinstance(wanted, tuple)
                and len(wanted) == len(got)
                and all(close(a, b) for a, b in zip(got, wanted, strict=True))
            )
        else:
            got = outputs.get(name)
            ok = close(got, wanted)
        actual.append((name, got))
        if not ok:
            misses.append(Miss(name, wanted, got))
    if case.expected_rules is not None and sorted(case.expected_rules) != sorted(
        matched
    ):
        misses.append(Miss("expected rule", case.expected_rules, tuple(matched)))
    return Outcome(case, table, tuple(actual), tuple(matched), tuple(misses))


def check_cases(
    project: Project, diagnostics: tuple[Diagnostic, ...] = ()
) -> Iterator[Diagnostic]:
    """`E423` for each cell of a Tests-sheet case that the table does not answer as
    written. Cases on a row that already has an error (DIAGNOSTICS) are not run: that
    error says what to fix first."""
    flagged = {
        (d.location.path, d.location.sheet, d.location.row)
        for d in diagnostics
        if d.severity is Severity.ERROR
    }
    for suite in project.suites:
        for case in suite.cases:
            where = case.location
            if (where.path, where.sheet, where.row) in flagged:
                continue
            yield from _failures(run_case(project, suite, case))


def _failures(outcome: Outcome) -> Iterator[Diagnostic]:
    case = outcome.case
    if outcome.error:
        first = case.expected[0][0] if case.expected else "expected rule"
        yield Diagnostic(
            "E423",
            Severity.ERROR,
            f"the case {case.id!r} does not hold: the table cannot decide it "
            f"({outcome.error})",
            case.cell(first),
            hint="make the rules decide this input, or correct the case",
        )
        return
    for miss in outcome.misses:
        if miss.column == "expected rule":
            assert isinstance(miss.wanted, tuple)
            wanted = ", ".join(map(str, miss.wanted)) or "no rule"
            said = f"it expects {'rules' if len(miss.wanted) > 1 else 'rule'} {wanted}"
        else:
            said = (
                f"it expects {miss.column} = {value_text(miss.wanted)}, but the table "
                f"answers {value_text(miss.got)}"
            )
        yield Diagnostic(
            "E423",
            Severity.ERROR,
            f"the case {case.id!r} does not hold: {said}, but {_decided(outcome)}"
            if miss.column == "expected rule"
            else f"the case {case.id!r} does not hold: {said} ({_decided(outcome)})",
            case.cell(miss.column),
            hint="correct the rule that decided, or this expected cell if the rule "
            "is right",
        )


def _decided(outcome: Outcome) -> str:
    """`rule R3 (tables/x.xlsx:T!A10) decided`, or that no rule matched."""
    table = outcome.table
    assert table is not None
    where: dict[str, Location] = {r.id: r.location for r in table.rules}
    if not outcome.matched:
        defaults = any(c.has_default for c in table.outputs)
        return "no rule matched" + (", so the Default answered" if defaults else "")
    shown = [
        f"{rule_id} at {where[rule_id].at(where[rule_id].cell.split(':')[0])}"
        if rule_id in where
        else rule_id
        for rule_id in outcome.matched
    ]
    if len(shown) == 1:
        return f"rule {shown[0]} decided"
    return f"rules {', '.join(shown)} matched"
