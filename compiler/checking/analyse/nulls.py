"""When a `from` input can be missing: only when its source table can give null.

A plain input is missing when the caller leaves it out (unless it is a `required
input`). A `from` input is never passed by the caller: its value is the same-named
output of its source table, so it is missing exactly when that table gives null (a
rule or Default of null, or no rule applying and no Default). `settle_sources` marks
the `from` inputs whose source never gives null (`Column.source_never_null`), source
tables first, so that the analysis leaves null out of their domain."""

from __future__ import annotations

from dataclasses import replace

from compiler.checking.analyse.regions import study
from compiler.model import Decision, Project, Table


def settle_sources(project: Project) -> Project:
    """PROJECT with every `from` input whose source never gives null marked so."""
    if not any(d.requires for d in project.decisions):
        return project
    names = {d.name for d in project.decisions}
    settled: dict[str, Decision] = {}

    def settle(name: str, seen: tuple[str, ...]) -> Decision:
        found = settled.get(name)
        if found is not None:
            return found
        decision = project.decision(name)
        versions = []
        for table in decision.versions:
            inputs = []
            for column in table.inputs:
                source = column.source_table
                if source is not None and source in names and source not in seen:
                    given = settle(source, (*seen, name))
                    if not gives_null(given, column.name):
                        column = replace(column, source_never_null=True)
                inputs.append(column)
            if tuple(inputs) != table.inputs:
                table = replace(table, inputs=tuple(inputs))
            versions.append(table)
        found = replace(decision, versions=tuple(versions))
        if found == decision:
            found = decision
        settled[name] = found
        return found

    return replace(
        project, decisions=tuple(settle(d.name, ()) for d in project.decisions)
    )


def gives_null(decision: Decision, output: str) -> bool:
    """Whether some version of DECISION can give null for OUTPUT."""
    return any(_version_gives_null(table, output) for table in decision.versions)


def _version_gives_null(table: Table, output: str) -> bool:
    if table.returns_list or table.aggregation is not None:
        return True  # not a single value to check: assume it can
    index = next((i for i, c in enumerate(table.outputs) if c.name == output), None)
    if index is None:
        return True
    facts = study(table)
    if any(table.rules[r].outputs[index] is None for r in facts.wins):
        return True
    column = table.outputs[index]
    no_rule = column.default if column.has_default else None
    return bool(facts.uncovered) and no_rule is None
