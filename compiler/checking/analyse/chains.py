"""`from` inputs against the tables that feed them: values a source can give that the
input does not allow (A309), rules testing for values no source gives (A310), and rules
no chain input makes apply (A311); and decisions that get no examples because a table
they depend on aggregates its results (A312)."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.checking.analyse.findings import all_tables, rule_location
from compiler.checking.analyse.inputs import InputSearch
from compiler.checking.analyse.regions import study
from compiler.checking.atoms import show
from compiler.diagnostics import Diagnostic, Severity
from compiler.model import Aggregation, Project, Rule, Table, Value
from compiler.reading.cells import tests_match


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
        if table.outputs[index].many:  # version 2: a list output's lists
            return None
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
    for table in all_tables(project):
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
        builder = InputSearch(project)
        blocked = builder.blocked(decision.name)
        if blocked:
            yield Diagnostic(
                "A312",
                Severity.INFO,
                f"no test inputs are generated for {decision.name!r}: it depends on "
                f"{blocked!r}, whose results are aggregated or lists",
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
                        rule_location(rule),
                        hint="check the rule against the outputs of those tables",
                    )
