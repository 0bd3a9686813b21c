"""Stage 3: checks across rules, tables and workbooks, on the model `sheets` built.

Rows of facts (versions, rule ids, entries) go into pandas frames, so each check is a
grouping or a membership test over a whole column rather than nested loops. Every
check is a plain function from the project to diagnostics; `CHECKS` lists them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator

from compiler.diagnostics import Diagnostic, Location, Severity
from compiler.model import (
    Aggregation,
    Column,
    DataType,
    Decision,
    Equals,
    HitPolicy,
    Interval,
    Prefix,
    Project,
    Rule,
    Table,
    Test,
    UnaryTests,
    Value,
)
from compiler.reading.cells import tests_match
from compiler.reading.sheets import suggest


def _error(
    code: str, message: str, location: Location, text: object = None, hint: str = ""
) -> Diagnostic:
    return Diagnostic(
        code, Severity.ERROR, message, location, "" if text is None else str(text), hint
    )


def _repeated(keys: Iterable[Hashable]) -> list[int]:
    """The positions of the KEYS that an earlier key equals, in order."""
    seen: set[Hashable] = set()
    found = []
    for position, key in enumerate(keys):
        if key in seen:
            found.append(position)
        else:
            seen.add(key)
    return found


def check_versions(project: Project) -> Iterator[Diagnostic]:
    """Sheets sharing a table name must be effective-dated versions that do not overlap
    and that share their columns."""
    tables = [t for d in project.decisions for t in d.versions]
    uses = Counter(t.name for t in tables)
    shared = [t for t in tables if uses[t.name] > 1]
    previous: Table | None = None
    for table in sorted(shared, key=lambda t: (t.name, _start(t))):  # stable
        if previous is not None and previous.name != table.name:
            previous = None
        if previous is not None and _start(table) <= _end(previous):
            dated = _dated(table) and _dated(previous)
            if not dated:
                yield _error(
                    "E401",
                    f"the table name {table.name!r} is used by more than one sheet "
                    f"(also at {previous.location})",
                    table.location.at("B1"),
                    table.name,
                    "rename one, or give both Effective from/Effective to dates as versions",
                )
            else:
                yield _error(
                    "E402",
                    f"the versions of {table.name!r} overlap: this one starts "
                    f"{_start(table)} but the version at {previous.location} runs to "
                    f"{_end(previous)}",
                    table.metadata_location("effective from"),
                    hint="make the effective date ranges follow each other without overlap",
                )
        if previous is None or _end(table) > _end(previous):
            previous = table
    for decision in project.decisions:
        first = decision.first
        shape = _shape(first.inputs, first.outputs)
        for table in decision.versions[1:]:
            if _shape(table.inputs, table.outputs) != shape:
                yield _error(
                    "E403",
                    f"this version of {decision.name!r} has other columns than the version at "
                    f"{first.location}: versions must share input and output names, kinds and types",
                    table.location.at("A1"),
                )


def _start(table: Table) -> dt.date:
    return table.effective_from or dt.date.min


def _end(table: Table) -> dt.date:
    return table.effective_to or dt.date.max


def _dated(table: Table) -> bool:
    return bool(table.effective_from or table.effective_to)


def _shape(
    inputs: tuple[Column, ...], outputs: tuple[Column, ...]
) -> tuple[tuple[str, str, str, str], ...]:
    return tuple(
        (c.name, c.kind.value, c.type.value, c.source_table or "")
        for c in inputs + outputs
    )


def check_rule_ids(project: Project) -> Iterator[Diagnostic]:
    """Rule ids are unique in a table; rows left out for a cell error count too."""
    rows = [
        (str(t.location), rule_id, where)
        for d in project.decisions
        for t in d.versions
        for rule_id, where in sorted(
            [(r.id, r.location) for r in t.rules] + list(t.unread_rules),
            key=lambda row: row[1].row,
        )
    ]
    for position in _repeated((table, rule_id) for table, rule_id, _ in rows):
        _, rule_id, where = rows[position]
        yield _error(
            "E404",
            f"the rule id {rule_id!r} is used twice in this table",
            where.at(where.cell.split(":")[0]),
            rule_id,
            "rule ids must be unique within a table; tests and results name rules by id",
        )


def check_values(project: Project) -> Iterator[Diagnostic]:
    """Every value written in a rule, a Default or a test lies within its Values."""
    # (column, value, where, cell): the value is in CELL of WHERE, or at WHERE when
    # CELL is None; the cell's Location is made only for a diagnostic (a large table
    # has over a hundred thousand cells).
    rows: list[tuple[Column, Value, Location, str | None]] = []
    for decision in project.decisions:
        for table in decision.versions:
            for column in table.outputs:
                if column.has_default:
                    rows.append((column, column.default, column.location, None))
            for rule in table.rules:
                for column, entry, cell in zip(
                    table.inputs, rule.inputs, rule.input_cells, strict=True
                ):
                    if column.values is None:
                        continue
                    for test in entry.tests:
                        for value in _test_values(test, column):
                            rows.append((column, value, rule.location, cell))
                for column, value, cell in zip(
                    table.outputs, rule.outputs, rule.output_cells, strict=True
                ):
                    if column.values is not None:
                        rows.append((column, value, rule.location, cell))
    for suite in project.suites:
        decision = project.decision(suite.table)
        chain = {c.name: c for c in _safe_chain(project, suite.table)}
        for case in suite.cases:
            table = _version_on(decision, case.as_of)
            known = {**chain, **{c.name: c for c in table.inputs + table.outputs}}
            for name, value in case.inputs:
                rows.append((known[name], value, case.cell(name), None))
            for name, expected in case.expected:
                for value in expected if isinstance(expected, tuple) else (expected,):
                    rows.append((known[name], value, case.cell(name), None))
    entries = [row for row in rows if row[0].values is not None and row[1] is not None]
    # Each distinct value of a column is checked once, however many cells repeat it;
    # type and value: 1 and True, or 1 and 1.0, are different cells.
    verdict: dict[tuple[int, type, Value], bool] = {}
    for column, value, where, ref in entries:
        key = (id(column), type(value), value)  # entries keep every column alive
        allowed = verdict.get(key)
        if allowed is None:
            allowed = verdict[key] = tests_match(column.values, value)  # type: ignore[arg-type]
        if allowed:
            continue
        yield _error(
            "E405",
            f"{value!r} is not one of the allowed Values of {column.name!r}",
            where if ref is None else where.at(ref),
            value,
            suggest(str(value), [str(v) for v in column.value_list])
            or _allowed_hint(column),
        )


def _version_on(decision: Decision, as_of: dt.date | None) -> Table:
    """The version in force on AS_OF (today when absent), else the first one."""
    when = as_of or dt.date.today()
    for table in decision.versions:
        if _start(table) <= when <= _end(table):
            return table
    return decision.first


def _test_values(test: Test, column: Column) -> tuple[Value, ...]:
    """The literal values a test mentions (a prefix is checked against listed codes)."""
    if isinstance(test, Equals):
        return (test.value,)
    if isinstance(test, Interval):
        return (test.low, test.high)
    if isinstance(test, Prefix):
        listed = [v for v in column.value_list if isinstance(v, str)]
        if column.values and len(listed) == len(column.values.tests):
            return tuple(v for v in listed if v.startswith(test.prefix))[:1] or (
                test.prefix + "*",
            )
        return ()
    return (test.value,)


def _allowed_hint(column: Column) -> str:
    listed = column.value_list
    if listed and len(listed) <= 12:
        return "allowed: " + ", ".join(str(v) for v in listed)
    return "see the Values row of this column"


def _safe_chain(project: Project, name: str) -> tuple[Column, ...]:
    try:
        return project.chain_inputs(name)
    except (KeyError, RecursionError):
        return project.decision(name).first.inputs


def check_requirements(project: Project) -> Iterator[Diagnostic]:
    """`from <table>` inputs: the table exists, has that output, types agree, no cycles."""
    names = {d.name: d for d in project.decisions}
    for decision in project.decisions:
        for table in decision.versions:
            for column in table.inputs:
                source = column.source_table
                if source is None or (
                    source in project.partial and source not in names
                ):
                    continue  # a required table that could not be read is reported there
                if source not in names:
                    yield _error(
                        "E410",
                        f"{column.name!r} comes from the table {source!r}, which does not exist",
                        column.location.at(column.kind_cell or column.location.cell),
                        source,
                        suggest(source, names),
                    )
                    continue
                producer = names[source].first
                outputs = {c.name: c for c in producer.outputs}
                if column.name not in outputs:
                    yield _error(
                        "E412",
                        f"the table {source!r} has no output named {column.name!r}",
                        column.location,
                        column.name,
                        suggest(column.name, outputs)
                        or f"its outputs: {', '.join(outputs)}",
                    )
                    continue
                given = outputs[column.name]
                # version 2: a `list of T` input reads a list output of T, or the
                # list a COLLECT (RULE ORDER, OUTPUT ORDER) table makes of its T output
                gives_list = given.many or producer.returns_list
                if given.type is not column.type or (
                    column.many and gives_list != column.many
                ):
                    here = _type_text(column.type, column.many)
                    there = _type_text(given.type, gives_list)
                    yield _error(
                        "E413",
                        f"{column.name!r} is {here} here but {there} in {source!r}",
                        column.location,
                    )
                elif (
                    producer.returns_list and len(producer.outputs) > 1 and column.many
                ):
                    yield _error(
                        "E414",
                        f"{source!r} returns a list of rows of {len(producer.outputs)} "
                        "outputs, so it cannot feed a list input",
                        column.location,
                        hint="give the required table one output, or split it",
                    )
                elif given.many and not column.many:
                    yield _error(
                        "E413",
                        f"{column.name!r} is {column.type.value} here but a list of "
                        f"{given.type.value} in {source!r}",
                        column.location,
                        hint=f"write list of {column.type.value} in its Type cell",
                    )
                if producer.returns_list and not column.many:
                    yield _error(
                        "E414",
                        f"{source!r} returns a list ({producer.hit_policy_text}), so its output cannot feed one input",
                        column.location,
                        hint="use a single-hit policy or a COLLECT aggregation in the "
                        f"required table, or write list of {column.type.value} in "
                        "this column's Type cell (version 2)",
                    )
    yield from _cycles(project, names)
    yield from _chain_types(project, names)


def _type_text(type_: DataType, many: bool) -> str:
    return f"a list of {type_.value}" if many else type_.value


def _cycles(project: Project, names: dict[str, Decision]) -> Iterator[Diagnostic]:
    state: dict[str, int] = {}
    reported: set[frozenset[str]] = set()

    def visit(name: str, path: list[str]) -> Iterator[Diagnostic]:
        state[name] = 1
        for required in names[name].requires:
            if required not in names:
                continue
            if state.get(required) == 1:
                cycle = path[path.index(required) :] + [required]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    yield _error(
                        "E411",
                        "tables require each other in a cycle: " + " -> ".join(cycle),
                        names[required].first.location.at("A1"),
                        hint="a table cannot depend, directly or through others, on itself",
                    )
            elif required not in state:
                yield from visit(required, [*path, required])
        state[name] = 2

    for decision in project.decisions:
        if decision.name not in state:
            yield from visit(decision.name, [decision.name])


def _chain_types(project: Project, names: dict[str, Decision]) -> Iterator[Diagnostic]:
    """An input name shared along a chain is one value, so it needs one type."""
    for decision in project.decisions:
        seen: dict[str, Column] = {}
        stack, visited = [decision.name], set()
        while stack:
            name = stack.pop()
            if name in visited or name not in names:
                continue
            visited.add(name)
            for column in names[name].first.inputs:
                if column.source_table:
                    continue
                other = seen.setdefault(column.name, column)
                if other.type is not column.type and name == decision.name:
                    yield _error(
                        "E418",
                        f"the input {column.name!r} is {column.type.value} here but {other.type.value} "
                        f"at {other.location}, and both are set by one call",
                        column.location,
                    )
            stack.extend(names[name].requires)


def check_hit_policies(project: Project) -> Iterator[Diagnostic]:
    for decision in project.decisions:
        for table in decision.versions:
            if table.hit_policy in (HitPolicy.PRIORITY, HitPolicy.OUTPUT_ORDER):
                # As in DMN, an output without Values takes no part in the priority;
                # at least one output must list its values, in priority order.
                ranked = [c for c in table.outputs if c.values is not None]
                for column in ranked or table.outputs[:1]:
                    if not column.enumerated:
                        yield _error(
                            "E415",
                            f"{table.hit_policy.value} needs the Values of {column.name!r} listed "
                            "one by one: their order is the priority",
                            column.location,
                            hint="fill the Values row, highest priority first",
                        )
            aggregation = table.aggregation
            if aggregation in (Aggregation.SUM, Aggregation.MIN, Aggregation.MAX):
                allowed: tuple[DataType, ...] = (DataType.INTEGER, DataType.NUMBER)
                if aggregation is not Aggregation.SUM:
                    allowed += (DataType.DATE, DataType.STRING, DataType.CODE)
                for column in table.outputs:
                    if column.type not in allowed:
                        yield _error(
                            "E416",
                            f"COLLECT {aggregation.value} cannot apply to the {column.type.value} output {column.name!r}",
                            column.location,
                        )


def check_tests(project: Project) -> Iterator[Diagnostic]:
    """Case ids are unique and expected rules exist; rows left out for a cell error
    (and rules left out for one) take part, so these show in the same run."""
    for suite in project.suites:
        decision = project.decision(suite.table)
        rule_ids = {
            rule_id
            for t in decision.versions
            for rule_id in [r.id for r in t.rules] + [i for i, _ in t.unread_rules]
        }
        rows = sorted([*suite.cases, *suite.unread], key=lambda c: c.location.row)
        for position in _repeated(c.id for c in rows):
            case = rows[position]
            yield _error(
                "E420",
                f"the case id {case.id!r} is used twice in this sheet",
                case.location,
                case.id,
            )
        for case in rows:
            for rule_id in case.expected_rules or ():
                if rule_id not in rule_ids and suite.table not in project.lost:
                    yield _error(
                        "E421",
                        f"the expected rule {rule_id!r} is not a rule of {suite.table!r}",
                        case.cell("expected rule"),
                        rule_id,
                        suggest(rule_id, rule_ids),
                    )
        for case in suite.cases:
            if not case.expected and case.expected_rules is None:
                yield Diagnostic(
                    "W422",
                    Severity.WARNING,
                    f"the case {case.id!r} expects nothing, so it checks nothing",
                    case.location,
                    hint="fill its expected cells or its expected rule",
                )


def check_duplicate_rules(project: Project) -> Iterator[Diagnostic]:
    """A rule with the same entries and outputs as an earlier one adds nothing: usually
    a row copied and not edited. Entries compare as sets (`CT, MRI` is `MRI, CT`)."""
    rules = [(t, r) for d in project.decisions for t in d.versions for r in t.rules]
    entries: dict[int, tuple[bool, tuple[str, ...]]] = {}  # by entry object: shared

    def entry_key(e: UnaryTests) -> tuple[bool, tuple[str, ...]]:
        found = entries.get(id(e))
        if found is None:
            found = entries[id(e)] = (e.negated, tuple(sorted(map(repr, e.tests))))
        return found

    keys = [
        (
            str(t.location),
            tuple(map(entry_key, r.inputs)),
            tuple(f"{type(v).__name__}:{v!r}" for v in r.outputs),
            tuple(e.python for e in r.output_expressions if e is not None),
        )
        for t, r in rules
    ]
    earlier: dict[Hashable, int] = {}
    for position, key in enumerate(keys):
        earlier.setdefault(key, position)
    for position in _repeated(keys):
        _, rule = rules[position]
        _, original = rules[earlier[keys[position]]]
        yield Diagnostic(
            "W406",
            Severity.WARNING,
            f"the rule {rule.id!r} repeats the rule {original.id!r}: same entries and "
            "same outputs",
            rule.location.at(rule.location.cell.split(":")[0]),
            rule.id,
            f"delete one of {_rule_row(original)} and {_rule_row(rule)}, or change "
            "what differs",
        )


def _rule_row(rule: Rule) -> str:
    """`R1 (row 10)`: a rule named so that two rules with one id are told apart."""
    first = rule.location.cell.split(":")[0]
    return f"{rule.id} (row {first.lstrip('ABCDEFGHIJKLMNOPQRSTUVWXYZ')})"


CHECKS: tuple[Callable[[Project], Iterator[Diagnostic]], ...] = (
    check_versions,
    check_rule_ids,
    check_duplicate_rules,
    check_requirements,
    check_hit_policies,
    check_values,
    check_tests,
)


def validate(project: Project) -> tuple[Diagnostic, ...]:
    return tuple(d for check in CHECKS for d in check(project))
