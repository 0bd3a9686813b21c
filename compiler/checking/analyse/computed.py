"""Inputs that make a rule decide in a table with computed inputs (version 2): the
examples of `cases` for tables whose entries test values the evaluator computes.

A computed input (Kind `computed`), a comparison with another input (`<=
date_of_service`, a derived column `x_vs_y`) and a quantified entry over a list
(`any(M54.*)`, a derived boolean) are columns whose value is an expression over the
table's other inputs. A rule's region (`Facts.wins`) constrains those columns too, so
an example must choose the plain inputs the expressions read (the *linked* inputs) so
that every computed value lands in the region. No expression is inverted; the values
are searched:

- Candidates per linked input: the witnesses of its own atoms (the type's ordinary
  values and the boundaries of its own entries), and, for each computed column it
  feeds, each partner input's witnesses moved by the magnitudes that column speaks
  of (the boundaries of its entries and the literals of its expression: `14 days`,
  an age of 18 as 18 days, weeks, months or years), a day either side. A list input
  takes `[]`, and lists of the elements its quantified entries tell apart.
- Per table, a pool of at most `POOL` combinations of candidates: their whole product
  when it is that small, else a sample drawn with a fixed seed (the table's name), so
  the same workbook always gives the same examples. The expressions are computed once
  per combination by the reference interpreter's own walk
  (`compiler.expressions.typed.evaluate`), and each column keeps, per atom, the set of
  combinations landing in it (an int, bit i for combination i).
- Per rule and region: the combinations inside the region are read off those sets with
  a few big-int operations; the first `TRIES` of them, completed with the other
  inputs (`InputSearch.constraints`), are evaluated by the reference interpreter
  (`interpret.evaluate`), which must find the rule deciding.

A rule for which none is found within that budget gets no example, and is listed as
such (`cases.examples`' misses: the generated module's docstring, and `A315` in the
compile report)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterator
from dataclasses import replace
from typing import cast

from compiler.checking import interpret
from compiler.checking.analyse.inputs import InputSearch
from compiler.checking.analyse.regions import Region, study
from compiler.checking.atoms import Axis, build_axis
from compiler.emitting.runtime import _feel
from compiler.expressions.syntax import Literal, Name, Node, Quantified
from compiler.expressions.typed import evaluate as evaluate_expression
from compiler.model import (
    Column,
    DataType,
    Decision,
    Project,
    Table,
    UnaryTests,
    Value,
)

POOL = 4096  # combinations of linked inputs computed per table
TRIES = 16  # combinations inside a region checked with the interpreter per rule
_PER_INPUT = 256  # candidates kept per linked input
_DAY = dt.timedelta(days=1)
# a value of a linked input: a list input's is a tuple of its elements
Candidate = Value | tuple[Value, ...]


def has_computed(table: Table) -> bool:
    """Whether TABLE has computed inputs (computed, derived or quantified columns)."""
    return any(c.computed for c in table.inputs)


def _nodes(node: object) -> Iterator[Node]:
    """NODE and every node below it (the dataclass fields that are nodes)."""
    if isinstance(node, Node):
        yield node
        for name in node.__slots__:  # type: ignore[attr-defined]
            yield from _nodes(getattr(node, name))
    elif isinstance(node, tuple):
        for item in node:
            yield from _nodes(item)


def _reads(table: Table) -> dict[int, list[int]]:
    """Per computed column (by index): the non-computed columns it reads, directly
    or through the computed columns it reads, in column order."""
    index = {c.name: i for i, c in enumerate(table.inputs)}
    found: dict[int, list[int]] = {}
    for i, column in enumerate(table.inputs):
        if column.expression is None:
            continue
        reads: set[int] = set()
        for name in column.expression.names:
            j = index.get(name)
            if j is None:
                continue
            reads.update(found.get(j, [j]) if table.inputs[j].computed else [j])
        found[i] = sorted(reads)
    return found


def linked_inputs(table: Table) -> list[int]:
    """The non-computed columns (by index) that TABLE's computed columns read."""
    return sorted({j for read in _reads(table).values() for j in read})


def quantified_tests(table: Table, c: int) -> list[UnaryTests] | None:
    """The tests of the quantified entries (`any(M54.*)`) over list input C, when
    those are all that TABLE's computed columns read of it (nothing compares its
    elements with another input); else None."""
    column = table.inputs[c]
    entries: list[UnaryTests] = []
    for k, read in _reads(table).items():
        if c not in read:
            continue
        expression = table.inputs[k].expression
        assert expression is not None
        if any(j != c for j in read):
            return None
        nodes = list(_nodes(expression.tree))
        quantified = [n for n in nodes if isinstance(n, Quantified)]
        if not quantified or any(q.name != column.name for q in quantified):
            return None
        if any(isinstance(n, Name) and n.name == column.name for n in nodes):
            return None  # `count(codes)`: more than which elements it holds
        for node in quantified:
            assert isinstance(node.tests, UnaryTests)
            entries.append(node.tests)
    return entries


def _magnitudes(
    table: Table, axes: tuple[Axis, ...], k: int, own: dict[int, list[Value]]
) -> list[Value]:
    """What computed column K speaks of: its atoms' witnesses, its expression's
    literals and the numbers and durations it reads (OWN: the linked inputs' own
    values), and those of the computed columns it reads."""
    found: list[Value] = [a.witness for a in axes[k].atoms if a.witness is not None]
    index = {c.name: i for i, c in enumerate(table.inputs)}
    pending, seen = [k], set()
    while pending:
        i = pending.pop()
        if i in seen:
            continue
        seen.add(i)
        expression = table.inputs[i].expression
        assert expression is not None
        for node in _nodes(expression.tree):
            if isinstance(node, Literal) and isinstance(node.value, (int, float)):
                value = evaluate_expression(replace(expression, tree=node), {})
                found.append(value)
        for name in expression.names:
            j = index.get(name)
            if j is None:
                continue
            if table.inputs[j].computed:
                pending.append(j)
            elif table.inputs[j].type in _MAGNITUDES and not table.inputs[j].many:
                found += [v for v in own.get(j, ()) if v is not None]
    return found


_MAGNITUDES = (DataType.INTEGER, DataType.NUMBER, DataType.DURATION)


def _moved(base: Value, magnitude: Value, kind: DataType) -> list[Value]:
    """BASE moved both ways by what MAGNITUDE can mean for a value of KIND."""
    found: list[Value] = []
    if isinstance(base, bool) or isinstance(magnitude, bool):
        return found
    if kind in (DataType.DATE, DataType.DATETIME) and isinstance(base, dt.date):
        steps: list[dt.timedelta] = []
        months: list[int] = []
        if isinstance(magnitude, dt.timedelta):
            steps.append(magnitude)
        elif isinstance(magnitude, _feel.YearsMonths):
            months.append(magnitude.total)
        elif isinstance(magnitude, (int, float)) and abs(magnitude) < 10_000:
            n = int(magnitude)
            steps += [n * _DAY, 7 * n * _DAY]
            months += [n, 12 * n]
        for sign in (1, -1):
            for step in steps:
                found.append(base + sign * step)
            for count in months:
                found.append(_feel._shift(base, sign * count))
    elif kind in (DataType.INTEGER, DataType.NUMBER) and isinstance(base, (int, float)):
        if isinstance(magnitude, (int, float)):
            found += [base + magnitude, base - magnitude, magnitude]
    elif kind is DataType.DURATION and isinstance(base, dt.timedelta):
        if isinstance(magnitude, dt.timedelta):
            found += [base + magnitude, base - magnitude, magnitude]
    unit = 1 if kind is DataType.INTEGER else 0.01
    nudged: list[Value] = []
    for value in found:
        nudged.append(value)
        if isinstance(value, (dt.date, dt.timedelta)):
            nudged += [value - _DAY, value + _DAY]
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            nudged += [value - unit, value + unit]
    return nudged


def _own(project: Project, table: Table, c: int, axis: Axis) -> list[Value]:
    """Column C's own values: its atoms' witnesses; for a `from` input, also what
    its source table's rules and Default give."""
    found = [a.witness for a in axis.atoms]
    column = table.inputs[c]
    if column.source_table is not None and not column.many:
        for source in project.decision(column.source_table).versions:
            at = [i for i, o in enumerate(source.outputs) if o.name == column.name]
            for i in at:
                found += [r.outputs[i] for r in source.rules]
                if source.outputs[i].has_default:
                    found.append(source.outputs[i].default)
    return list(dict.fromkeys(v for v in found if axis.locate(v) is not None))


def _list_candidates(
    table: Table, c: int, reads: dict[int, list[int]], own: dict[int, list[Value]]
) -> list[Candidate]:
    """A list input's candidates: null (when it may be missing), `[]`, and lists of
    one or two of the elements its quantified entries, or the inputs compared with
    its elements, tell apart."""
    column = table.inputs[c]
    entries: list[UnaryTests] = []
    elements: list[Value] = []
    for k, read in reads.items():
        if c not in read:
            continue
        expression = table.inputs[k].expression
        assert expression is not None
        for node in _nodes(expression.tree):
            if isinstance(node, Quantified) and node.name == column.name:
                assert isinstance(node.tests, UnaryTests)
                entries.append(node.tests)
        for j in read:
            other = table.inputs[j]
            if j != c and not other.many and other.type is column.type:
                elements += [v for v in own[j] if v is not None]
    element = replace(column, many=False, required=True, values=column.values)
    elements = [a.witness for a in build_axis(element, entries).atoms] + elements
    elements = list(dict.fromkeys(elements))[:32]
    found: list[Candidate] = [None] if column.nullable else []
    found.append(())
    found += [(e,) for e in elements]
    found += [(a, b) for a, b in itertools.combinations(elements[:8], 2)]
    return found


def _candidates(
    table: Table,
    c: int,
    reads: dict[int, list[int]],
    axes: tuple[Axis, ...],
    own: dict[int, list[Value]],
) -> list[Candidate]:
    """Values of linked input C worth trying, its own witnesses first."""
    column = table.inputs[c]
    if column.many:
        return _list_candidates(table, c, reads, own)
    found = list(own[c])
    for k, read in reads.items():
        if c not in read:
            continue
        # zero: the partner's own value, and a day (a unit) either side of it
        zero: Value = dt.timedelta(0) if column.type is DataType.DURATION else 0
        magnitudes = [zero, *_magnitudes(table, axes, k, own)]
        if table.inputs[k].type is column.type:
            found += magnitudes  # the computed value itself, as this input's value
        for j in read:
            if j == c or table.inputs[j].many:
                continue
            if table.inputs[j].type is column.type:  # `= home_state`: equal to it
                found += [v for v in own[j] if v is not None]
            for base in own[j]:
                if base is None:
                    continue
                for magnitude in magnitudes:
                    try:
                        found += _moved(base, magnitude, column.type)
                    except (OverflowError, ValueError):
                        continue
    kept: dict[object, Candidate] = {}
    for value in found:
        if (value, type(value)) in kept:
            continue
        if type(value) is float and column.type is DataType.INTEGER:
            continue
        if isinstance(value, dt.datetime) is not (column.type is DataType.DATETIME):
            if isinstance(value, dt.date):
                continue
        if axes[c].locate(value) is None:
            continue  # outside the column's Values
        kept[(value, type(value))] = value
        if len(kept) >= _PER_INPUT:
            break
    return list(kept.values())


def candidates(project: Project, table: Table) -> list[list[Candidate]]:
    """The values worth trying of each linked input of TABLE, in column order."""
    axes = study(table).axes
    reads = _reads(table)
    linked = linked_inputs(table)
    own = {c: _own(project, table, c, axes[c]) for c in linked}
    return [_candidates(table, c, reads, axes, own) for c in linked]


class Pool:
    """The combinations of one table's linked inputs, and per column and atom the
    combinations (bit i: combination i) whose value lands in that atom."""

    def __init__(
        self,
        project: Project,
        table: Table,
        lists: list[list[Candidate]] | None = None,
    ) -> None:
        """LISTS: the candidates of each linked input (in column order), when the
        caller chooses them (`witness`); else `candidates`'."""
        axes = study(table).axes
        reads = _reads(table)
        self.linked = linked_inputs(table)
        if lists is None:
            lists = candidates(project, table)
        size = 1
        for options in lists:
            size *= len(options)
        self.size = size
        if size <= POOL:
            combos = list(itertools.product(*lists))
        else:  # a sample, the same at every run: seeded by the table's name
            rng = random.Random(f"examples of {table.name}")
            first = tuple(options[0] for options in lists)
            drawn = {
                tuple(rng.randrange(len(options)) for options in lists)
                for _ in range(POOL - 1)
            }
            combos = [first] + [
                tuple(options[i] for options, i in zip(lists, pick, strict=True))
                for pick in sorted(drawn)
            ]
        self.combos: list[tuple[Candidate, ...]] = []
        self.atoms: list[tuple[int, ...]] = []  # per combination: an atom per column
        tested = [*self.linked, *reads]
        self.columns = tested
        for combo in combos:
            values: dict[str, Candidate] = {
                table.inputs[c].name: v for c, v in zip(self.linked, combo, strict=True)
            }
            try:
                interpret.compute(table, cast(dict[str, Value], values))
            except Exception:  # noqa: BLE001 - a combination the expressions refuse
                continue
            atoms: list[int] = []
            for c in tested:
                value = values.get(table.inputs[c].name)
                if table.inputs[c].many:
                    atom = axes[c].null if value is None else 0
                else:
                    atom = axes[c].locate(cast(Value, value))
                if atom is None:
                    break
                atoms.append(atom)
            else:
                self.combos.append(combo)
                self.atoms.append(tuple(atoms))
        self.sets: list[dict[int, int]] = [{} for _ in tested]
        for i, landed in enumerate(self.atoms):
            for n, atom in enumerate(landed):
                self.sets[n][atom] = self.sets[n].get(atom, 0) | 1 << i

    def inside(self, region: Region) -> Iterator[int]:
        """The combinations (indices) whose linked and computed values lie in REGION."""
        left = (1 << len(self.combos)) - 1
        for n, c in enumerate(self.columns):
            mask = region[c]
            sets = self.sets[n]
            chosen = 0
            for atom, combos in sets.items():
                if mask >> atom & 1:
                    chosen |= combos
            left &= chosen
            if not left:
                return
        while left:
            low = left & -left
            yield low.bit_length() - 1
            left ^= low


class ComputedSearch:
    """Finds inputs that make a rule of a table with computed inputs decide (the
    reference interpreter agreeing), through an `InputSearch` for the other inputs."""

    def __init__(self, search: InputSearch) -> None:
        self.search = search
        self._pools: dict[int, tuple[Table, Pool]] = {}

    def pool(self, table: Table) -> Pool:
        found = self._pools.get(id(table))
        if found is None or found[0] is not table:
            found = (table, Pool(self.search.project, table))
            self._pools[id(table)] = found
        return found[1]

    def rule_inputs(
        self, decision: Decision, table: Table, index: int
    ) -> tuple[dict[str, Value], dt.date | None] | None:
        """Inputs and a date that make rule INDEX of TABLE decide, checked with the
        reference interpreter; None when none is found within the budget."""
        search = self.search
        facts = study(table)
        rule = table.rules[index]
        pool = self.pool(table)
        plain = {c.name for c in search.project.chain_inputs(decision.name)}
        for as_of in search.dates(decision, table):
            tries = 0
            for region in facts.wins.get(index, []):
                for i in pool.inside(region):
                    tries += 1
                    if tries > TRIES:
                        break
                    found = self.complete(decision, table, region, pool, i, as_of)
                    if found is None:
                        continue
                    values = {name: found[name] for name in found if name in plain}
                    try:
                        if search.settles(decision, table, rule, values, as_of):
                            return values, as_of
                    except Exception:  # noqa: BLE001 - an expression refusing them
                        continue
        return None

    def complete(
        self,
        decision: Decision,
        table: Table,
        region: Region,
        pool: Pool,
        i: int,
        as_of: dt.date | None,
    ) -> dict[str, Value] | None:
        """Combination I of POOL, with the other inputs chosen in REGION."""
        combo = pool.combos[i]
        narrowed = list(region)
        for n, c in enumerate(pool.linked):
            narrowed[c] = 1 << pool.atoms[i][n]
        chosen: dict[str, Value] = {}
        for constraints in itertools.islice(
            self.search.constraints(table, tuple(narrowed), as_of), 4
        ):
            values = self.search.assign(decision, constraints)
            if values is not None:
                chosen = values
                break
        else:
            return None
        for c, value in zip(pool.linked, combo, strict=True):
            column: Column = table.inputs[c]
            if column.source_table is None:
                chosen[column.name] = cast(Value, value)
        linked = {table.inputs[c].name for c in pool.linked}
        for column in table.inputs:  # a list no entry reads: the empty list
            if column.many and column.name not in linked and column.name in chosen:
                chosen[column.name] = cast(Value, ())
        return chosen
