"""Inputs that make a rule decide: for the generated tests (`cases`) and for the chain
check A311 (`chains`).

A rule's regions where it decides (`Facts.wins`) constrain its table's inputs; a `from`
input is constrained in turn by the regions where its source table gives a value the
constraint accepts, down the chain, on each date the table is in force. Values meeting
one set of constraints are tried with the reference interpreter, which must find the
rule deciding; `_Candidates` lets it look only at the rules the atoms allow."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

from compiler.checking import interpret
from compiler.checking.analyse.regions import Region, study
from compiler.checking.atoms import Axis, bits, build_axis
from compiler.model import (
    Column,
    DataType,
    Decision,
    HitPolicy,
    Project,
    Rule,
    Table,
    Value,
    YearsMonths,
)

Constraint = tuple[str, Axis, int]  # input name, axis, atoms the value must lie in
_MAX_TRIES = 32  # constraint sets tried per rule before giving up
Answered = tuple[str, tuple[tuple[str, Value], ...], dt.date | None]
Answer = tuple[interpret.Outputs | list[interpret.Outputs], list[str]]


_EXACT_TYPES: dict[DataType, tuple[type, ...]] = {
    DataType.BOOLEAN: (bool,),
    DataType.INTEGER: (int,),
    DataType.NUMBER: (int, float),
    DataType.STRING: (str,),
    DataType.CODE: (str,),
    DataType.DATE: (dt.date,),
    DataType.DURATION: (dt.timedelta,),
    DataType.TIME: (dt.time,),
    DataType.DATETIME: (dt.datetime,),
    DataType.YEARS_MONTHS: (YearsMonths,),
}


class _Candidates:
    """For the reference interpreter (`interpret.Candidates`): the rules of a table
    that may match some values, read off the analysis' atoms. Per column and atom it
    keeps the rules whose entry accepts the atom (an int, bit r for rule r); the
    rules left after AND-ing the atoms of the values are a superset of the matches.
    When every value lies in an atom they are the matches (every entry is constant
    on every atom), and the interpreter does not test them again; otherwise it tests
    them one by one as always. So examples of a table of 16,384 rules cost a few
    big-int operations each, not a walk over every rule. Values it cannot place
    (values of another type or outside the atoms, null where it is no atom) do not
    narrow anything. `tests/test_fast.py` holds the answers to the interpreter's
    own on random tables."""

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

    def __call__(
        self, table: Table, values: dict[str, Value]
    ) -> tuple[Iterator[Rule], bool]:
        index = self._index(table)
        axes = study(table).axes
        left = (1 << len(table.rules)) - 1
        placed = True
        for column, axis, atoms in zip(table.inputs, axes, index, strict=True):
            value = values.get(column.name)
            if value is None:
                atom = axis.null  # None where null is outside the domain
            elif type(value) not in _EXACT_TYPES[column.type] or value != value:
                atom = None  # another type, NaN: tested by the interpreter
            else:
                atom = axis.locate(value)
            if atom is None:
                placed = False
            else:
                left &= atoms[atom]
        return self._rules(table.rules, left), placed

    @staticmethod
    def _rules(rules: tuple[Rule, ...], left: int) -> Iterator[Rule]:
        while left:  # lazily, in rule order: FIRST stops at the first match
            low = left & -left
            yield rules[low.bit_length() - 1]
            left ^= low


class InputSearch:
    """Finds inputs (chain inputs for tables with `from` inputs) that make a rule decide."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.candidates = _Candidates()
        # (decision, inputs, date) -> what the interpreter answered, for the inputs
        # `rule_inputs` found: the generated tests need the answer again
        self.answers: dict[Answered, Answer] = {}

    def blocked(self, name: str) -> str | None:
        """A required table (transitively) whose outputs cannot be listed, if any."""
        for required in self.project.decision(name).requires:
            decision = self.project.decision(required)
            if any(
                t.returns_list or t.aggregation or any(c.many for c in t.outputs)
                for t in decision.versions
            ):  # (version 2: a list output's lists are not searched either)
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
                    if self.settles(decision, table, rule, values, as_of):
                        return values, as_of
        return None

    def settles(
        self,
        decision: Decision,
        table: Table,
        rule: Rule,
        values: dict[str, Value],
        as_of: dt.date | None,
    ) -> bool:
        """Whether VALUES on AS_OF make RULE of TABLE decide, by the reference
        interpreter; its answer is kept in `answers` when they do."""
        try:
            answer = interpret.evaluate(
                self.project, decision.name, values, as_of, candidates=self.candidates
            )
        except (interpret.Ambiguous, interpret.NoVersion, interpret.MissingInput):
            return False
        if not _decides(table, rule, answer[1]):
            return False
        self.answers[(decision.name, tuple(values.items()), as_of)] = answer
        return True


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
