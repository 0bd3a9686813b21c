"""A small reference interpreter of the model: the semantics, stated directly.

It walks rules one by one with `cells.tests_match`, with no code generation involved,
so tests can check the generated evaluators against it, and the analysis can compute
the expected outputs of the example inputs it generates. It does not check inputs
against Values: callers pass valid inputs; but a `required input` left missing raises
MissingInput, as the generated code raises InputError.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable
from typing import Any

from compiler.expressions.typed import evaluate as evaluate_expression
from compiler.model import Aggregation, HitPolicy, Project, Rule, Table, Value
from compiler.reading.cells import tests_match


class Ambiguous(Exception):
    """UNIQUE matched several rules, or ANY matches disagree."""


class NoVersion(Exception):
    """No version of the table is in force on the date."""


class MissingInput(Exception):
    """A required input is missing (None)."""


Outputs = dict[str, Value]
# (table, values) -> the rules that may match, in rule order (every other rule is
# known not to), and whether each of them is known to match; the analysis finds them
# from its atoms, for large tables
Candidates = Callable[[Table, dict[str, Value]], tuple[Iterable[Rule], bool]]


def version_in_force(project: Project, name: str, as_of: dt.date | None) -> Table:
    decision = project.decision(name)
    if not decision.versioned:
        return decision.first
    when = as_of or dt.date.today()
    for table in decision.versions:
        if (
            (table.effective_from or dt.date.min)
            <= when
            <= (table.effective_to or dt.date.max)
        ):
            return table
    raise NoVersion(f"{name}: no version in force on {when}")


def matching_rules(
    table: Table,
    values: dict[str, Value],
    candidates: Candidates | None = None,
    *,
    first: bool = False,
) -> list[Rule]:
    """The rules of TABLE whose every entry accepts VALUES, in rule order (with
    FIRST, only the first of them). Only CANDIDATES(table, values) are tested when
    given, and none when it knows that each of them matches. NaN is a missing value,
    as in the generated evaluators."""
    if any(isinstance(v, float) and v != v for v in values.values()):
        values = {
            k: None if isinstance(v, float) and v != v else v for k, v in values.items()
        }
    rules, known = (
        (table.rules, False) if candidates is None else candidates(table, values)
    )
    found = (
        rules
        if known
        else (
            rule
            for rule in rules
            if all(
                tests_match(entry, values.get(c.name))
                for c, entry in zip(table.inputs, rule.inputs, strict=True)
            )
        )
    )
    return list(itertools.islice(found, 1) if first else found)


def evaluate(
    project: Project,
    name: str,
    inputs: dict[str, Value],
    as_of: dt.date | None = None,
    *,
    candidates: Candidates | None = None,
) -> tuple[Outputs | list[Outputs], list[str]]:
    """Evaluate table NAME: (outputs, matched rule ids), shaped like `eval --json`.
    CANDIDATES narrows the rules tested (see `matching_rules`)."""
    table = version_in_force(project, name, as_of)
    values = dict(inputs)
    for column in table.inputs:
        if column.required and values.get(column.name) is None:
            raise MissingInput(f"{name}: {column.name} is required but missing")
        if column.source_table:
            produced, _ = evaluate(
                project, column.source_table, inputs, as_of, candidates=candidates
            )
            if isinstance(produced, list):  # version 2: a COLLECT table's list
                listed = tuple(p[column.name] for p in produced)
                values[column.name] = listed  # type: ignore[assignment]
                continue
            values[column.name] = produced[column.name]
    compute(table, values)
    return decide(table, values, candidates)


def compute(table: Table, values: dict[str, Value]) -> None:
    """Add TABLE's computed inputs (version 2) to VALUES, in column order: each
    expression walked over the values (compiler.expressions.typed.evaluate)."""
    for column in table.inputs:
        if column.expression is not None:
            values[column.name] = evaluate_expression(column.expression, values)


def decide(
    table: Table, values: dict[str, Value], candidates: Candidates | None = None
) -> tuple[Outputs | list[Outputs], list[str]]:
    """Apply TABLE's hit policy to the rules that match VALUES (FIRST: the first
    rule that matches; the rules after it are not tested)."""
    policy = table.hit_policy
    first = policy is HitPolicy.FIRST and table.aggregation is None
    hits = matching_rules(table, values, candidates, first=first)
    names = [c.name for c in table.outputs]

    def out(rule: Rule) -> Outputs:
        found = dict(zip(names, rule.outputs, strict=True))
        for column, typed in zip(table.outputs, rule.output_expressions, strict=False):
            if typed is not None:  # version 2: a computed output
                value = evaluate_expression(typed, values)
                if column.many and value is not None:  # a list output: a tuple
                    value = tuple(value)
                found[column.name] = value
        return found

    defaults = {c.name: c.default for c in table.outputs}
    if table.returns_list:
        if not hits:
            has_default = any(c.has_default for c in table.outputs)
            return ([defaults] if has_default else []), []
        ordered = hits
        if policy is HitPolicy.OUTPUT_ORDER:
            ordered = sorted(hits, key=lambda r: table.rank(r))
        return [out(r) for r in ordered], [r.id for r in hits]
    if not hits:
        if table.aggregation is Aggregation.COUNT:
            return {
                c.name: c.default if c.has_default else 0 for c in table.outputs
            }, []
        return defaults, []
    if table.aggregation is not None:
        result: Outputs = {}
        for index, column in enumerate(table.outputs):
            present: list[Any] = [
                r.outputs[index] for r in hits if r.outputs[index] is not None
            ]
            if table.aggregation is Aggregation.COUNT:
                result[column.name] = len(hits)
            elif not present:
                result[column.name] = None
            elif table.aggregation is Aggregation.SUM:
                result[column.name] = sum(present)
            elif table.aggregation is Aggregation.MIN:
                result[column.name] = min(present)
            else:
                result[column.name] = max(present)
        return result, [r.id for r in hits]
    if policy is HitPolicy.FIRST:
        return out(hits[0]), [hits[0].id]
    if policy is HitPolicy.PRIORITY:
        best = min(hits, key=lambda r: table.rank(r))
        return out(best), [best.id]
    if policy is HitPolicy.UNIQUE:
        if len(hits) > 1:
            raise Ambiguous(
                f"{table.name}: rules {', '.join(r.id for r in hits)} all match"
            )
        return out(hits[0]), [hits[0].id]
    # ANY
    if any(r.outputs != hits[0].outputs for r in hits[1:]):
        raise Ambiguous(f"{table.name}: rules {', '.join(r.id for r in hits)} disagree")
    return out(hits[0]), [r.id for r in hits]
