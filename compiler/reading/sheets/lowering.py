"""Entries that name other inputs (version 2), lowered to derived input columns, and
raised back to the sheet's cells.

`lower` turns the entries `entries` parsed into columns whose value is an
expression over the table's other inputs (`Column.expression`), computed before the
rules are tested, so that the version-1 machinery (masks, analysis,
evaluate_frame) applies unchanged: an entry comparing column `x` with an expression
`r` becomes an entry of a derived column `x_vs_r` whose value is how `x` compares
with `r` (`less`, `equal`, `greater`, or null when either is missing), so that
`<= r` is `less, equal` and `> r` is `greater`: the analysis then proves those two
exclusive and complete, as they are. A range with an expression at either end is
two such comparisons (a literal end stays a literal test of `x`), and the rule's
cell of `x` holds what is left (`-`, or the literal end). A quantified entry of a
list column, and an entry naming a list input, become derived boolean columns.

`raise_entries` is the inverse, for the DMN export and the workbook writer.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass

from compiler.emitting.literals import py_literal
from compiler.expressions.syntax import Call, Name, Quantified
from compiler.expressions.typed import Typed
from compiler.model import (
    Column,
    ColumnKind,
    Compare,
    DataType,
    Equals,
    Interval,
    Prefix,
    Rule,
    UnaryTests,
)
from compiler.reading.sheets.entries import (
    OPS,
    SAME_OPS,
    SAMENESS,
    SIGNS,
    Member,
    Quantifier,
    Relational,
)


def _slug(text: str) -> str:
    spoken = text.lower().replace("-", " minus ").replace("+", " plus ")
    words = re.sub(r"[^a-z0-9]+", "_", spoken).strip("_")
    return words[:40].strip("_") or "value"


def lower(
    inputs: tuple[Column, ...],
    rules: tuple[Rule, ...],
    relational: dict[tuple[int, int], Relational | Quantifier | Member],
) -> tuple[tuple[Column, ...], tuple[Rule, ...]]:
    """INPUTS and RULES with RELATIONAL entries ((rule index, input index) -> entry)
    turned into derived columns, appended after the sheet's inputs: `x_vs_r` for
    comparisons with other inputs, a boolean `codes_any_1` for each distinct
    quantified entry of a list column, and a boolean `x_in_l` for entries that name a
    list input `l`."""
    if not relational:
        return inputs, rules
    quantified = {k: v for k, v in relational.items() if isinstance(v, Quantifier)}
    if quantified:
        inputs, rules = _lower_quantified(inputs, rules, quantified)
    members = {k: v for k, v in relational.items() if isinstance(v, Member)}
    if members:
        inputs, rules = _lower_members(inputs, rules, members)
    relations = {k: v for k, v in relational.items() if isinstance(v, Relational)}
    if not relations:
        return inputs, rules
    names = {c.name for c in inputs}
    derived: dict[tuple[str, str], Column] = {}
    for (_, position), entry in sorted(relations.items(), key=lambda kv: kv[0]):
        source = inputs[position]
        for relation in entry.relations:
            key = (source.name, relation.reference.text)
            if key in derived:
                continue
            name = base = f"{source.name}_vs_{_slug(relation.reference.text)}"
            number = 2
            while name in names:
                name, number = f"{base}_{number}", number + 1
            names.add(name)
            # ordered types: less, equal or greater; strings, codes and booleans:
            # equal or different
            function = "sign" if source.type.comparable else "same"
            python = f"feel.{function}({source.name}, {relation.reference.python})"
            typed = Typed(
                f"{source.name} compared with {relation.reference.text}",
                "string",
                python,
                (source.name, *relation.reference.names),
                Call(
                    0, 0, function, (Name(0, 0, source.name), relation.reference.tree)
                ),
            )
            values = SIGNS if source.type.comparable else SAMENESS
            derived[key] = Column(
                name,
                ColumnKind.INPUT,
                DataType.STRING,
                source.location,
                values=UnaryTests(tuple(Equals(s) for s in values)),
                kind_cell=source.kind_cell,
                source_never_null=_never_null(source, relation.reference, inputs),
                expression=typed,
                derived=True,
            )
    columns = list(derived.values())
    order = list(derived)
    lowered: list[Rule] = []
    for index, rule in enumerate(rules):
        entries = list(rule.inputs)
        extra = [UnaryTests()] * len(columns)
        cells_of = list(rule.input_cells)
        for position, source in enumerate(inputs):
            found = relations.get((index, position))
            if found is None:
                continue
            entries[position] = found.rest
            for relation in found.relations:
                slot = order.index((source.name, relation.reference.text))
                every = SIGNS if source.type.comparable else SAMENESS
                listed = tuple(Equals(s) for s in every if s in relation.signs)
                extra[slot] = UnaryTests(listed, relation.negated)
        for slot in range(len(columns)):
            source_position = next(
                i for i, c in enumerate(inputs) if c.name == order[slot][0]
            )
            cells_of.append(rule.input_cells[source_position])
        lowered.append(
            dataclasses.replace(
                rule,
                inputs=(*entries, *extra),
                input_cells=tuple(cells_of),
            )
        )
    return (*inputs, *columns), tuple(lowered)


def _never_null(source: Column, reference: Typed, inputs: tuple[Column, ...]) -> bool:
    """Whether SOURCE compared with REFERENCE always has a value: when REFERENCE is
    the bare name of an input and both are required plain inputs, which the evaluator
    refuses when missing (InputError). An expression such as `date_of_service - 14
    days` can be null on values out of range, so its comparison can be missing."""
    tree = reference.tree
    if not isinstance(tree, Name):
        return False
    named = next((c for c in inputs if c.name == tree.name), None)
    return named is not None and all(
        c.required and not c.computed and c.source_table is None
        for c in (source, named)
    )


def _unique(base: str, names: set[str]) -> str:
    """BASE, or BASE_2, BASE_3, ... when taken; the name is added to NAMES."""
    name, number = base, 2
    while name in names:
        name, number = f"{base}_{number}", number + 1
    names.add(name)
    return name


def _append_boolean(
    inputs: tuple[Column, ...],
    rules: tuple[Rule, ...],
    keyed: dict[tuple[int, int], tuple[int, object]],
    column_for: Callable[[tuple[int, object], set[str]], Column],
) -> tuple[tuple[Column, ...], tuple[Rule, ...]]:
    """A derived boolean column per distinct key of KEYED ((rule, input) -> (input,
    key)), made by COLUMN_FOR, appended to INPUTS; each rule's entry in it is `true`
    where KEYED has it, else `-`."""
    names = {c.name for c in inputs}
    derived: dict[tuple[int, object], Column] = {}
    for _, key in sorted(keyed.items(), key=lambda kv: kv[0]):
        if key not in derived:
            derived[key] = column_for(key, names)
    keys = list(derived)
    lowered = []
    for index, rule in enumerate(rules):
        extra = [UnaryTests()] * len(keys)
        for (rule_index, _), key in keyed.items():
            if rule_index == index:
                extra[keys.index(key)] = UnaryTests((Equals(True),))
        cells_of = [*rule.input_cells, *(rule.input_cells[p] for p, _ in keys)]
        lowered.append(
            dataclasses.replace(
                rule, inputs=(*rule.inputs, *extra), input_cells=tuple(cells_of)
            )
        )
    return (*inputs, *derived.values()), tuple(lowered)


def _lower_quantified(
    inputs: tuple[Column, ...],
    rules: tuple[Rule, ...],
    quantified: dict[tuple[int, int], Quantifier],
) -> tuple[tuple[Column, ...], tuple[Rule, ...]]:
    counts: dict[int, int] = {}

    def column_for(key: tuple[int, object], names: set[str]) -> Column:
        position, entry = key
        assert isinstance(entry, Quantifier)
        source = inputs[position]
        counts[position] = counts.get(position, 0) + 1
        name = _unique(f"{source.name}_{entry.quantifier}_{counts[position]}", names)
        first = next(
            q for (_, p), q in sorted(quantified.items()) if (p, _blank(q)) == key
        )
        text = first.text  # its text and its tests in their order, each once
        entry = dataclasses.replace(
            first,
            tests=dataclasses.replace(
                first.tests, tests=tuple(dict.fromkeys(first.tests.tests))
            ),
        )
        test = predicate(entry.tests, source.type)
        function = {"any": "some", "every": "every", "none": "none"}[entry.quantifier]
        python = (
            f"feel.{function}({source.name}, {source.type.value!r}, lambda v: {test})"
        )
        node = Quantified(
            0, 0, entry.quantifier, source.name, entry.tests, source.type.value
        )
        return _boolean(
            name,
            source,
            Typed(f"{text} of {source.name}", "boolean", python, (source.name,), node),
        )

    keyed = {k: (k[1], _blank(q)) for k, q in quantified.items()}
    return _append_boolean(inputs, rules, dict(keyed), column_for)


def _blank(entry: Quantifier) -> Quantifier:
    """ENTRY without its text and its tests in one order, each once: entries that
    differ only in spacing or in the order of their tests (`any(M54.*, M51.*)`,
    `any(M51.*, M54.*)`) are one column."""
    tests = tuple(sorted(set(entry.tests.tests), key=repr))
    return dataclasses.replace(
        entry, text="", tests=dataclasses.replace(entry.tests, tests=tests)
    )


def _boolean(name: str, source: Column, typed: Typed) -> Column:
    return Column(
        name,
        ColumnKind.INPUT,
        DataType.BOOLEAN,
        source.location,
        kind_cell=source.kind_cell,
        expression=typed,
        derived=True,
    )


def _lower_members(
    inputs: tuple[Column, ...],
    rules: tuple[Rule, ...],
    members: dict[tuple[int, int], Member],
) -> tuple[tuple[Column, ...], tuple[Rule, ...]]:
    def column_for(key: tuple[int, object], names: set[str]) -> Column:
        position, list_name = key
        assert isinstance(list_name, str)
        source = inputs[position]
        name = _unique(f"{source.name}_in_{list_name}", names)
        kind = inputs[_position(inputs, list_name)].type.value
        python = (
            f"feel.list_contains(feel.listed({list_name}, {kind!r}), {source.name})"
        )
        arguments = (Name(0, 0, list_name), Name(0, 0, source.name))
        typed = Typed(
            f"{source.name} in {list_name}",
            "boolean",
            python,
            (list_name, source.name),
            Call(0, 0, "list contains", arguments),
        )
        return _boolean(name, source, typed)

    keyed = {k: (k[1], m.list_name) for k, m in members.items()}
    return _append_boolean(inputs, rules, dict(keyed), column_for)


def _position(inputs: tuple[Column, ...], name: str) -> int:
    return next(i for i, c in enumerate(inputs) if c.name == name)


def predicate(tests: UnaryTests, type_: DataType) -> str:
    """TESTS on an element `v` as Python (values as `py_literal`)."""
    parts: list[str] = []
    for test in tests.tests:
        if isinstance(test, Equals):
            parts.append(
                "v is None" if test.value is None else f"v == {py_literal(test.value)}"
            )
        elif isinstance(test, Compare):
            parts.append(f"v {test.op} {py_literal(test.value)}")
        elif isinstance(test, Prefix):
            parts.append(f"v.startswith({py_literal(test.prefix)})")
        else:
            assert isinstance(test, Interval)
            low = "<=" if test.low_closed else "<"
            high = "<=" if test.high_closed else "<"
            inside = f"{py_literal(test.low)} {low} v {high} {py_literal(test.high)}"
            if isinstance(test.low, str):
                inside = f"(len(v) == {len(test.low)} and {inside})"
            parts.append(inside)
    joined = " or ".join(parts)
    return f"not ({joined})" if tests.negated else joined


# -- raising: the sheet's cells back from a lowered table ------------------------------


@dataclass(frozen=True, slots=True)
class Authored:
    """One rule's cell of a sheet input column, as `lower` found it: the column's own
    tests (a literal range end, or all of it), the comparisons with other inputs as
    (operator, expression text), a list column's quantified entry, and the list input
    an entry names (the value is in that list)."""

    tests: UnaryTests
    # (operator, expression text); `not(...)` around one is the operator `not <=`
    relations: tuple[tuple[str, str], ...] = ()
    quantified: Quantifier | None = None
    member: str = ""  # the list input the value is in (`flu_symptoms`)
    # a string, code or boolean column: `= x` is written out (a bare word in a
    # string column is a string)
    equality: bool = False

    def text(self, write: Callable[[UnaryTests], str]) -> str:
        """The cell text; WRITE gives plain unary tests as cell text."""
        if self.quantified is not None:
            return self.quantified.text
        if self.member:
            return self.member
        if not self.relations:
            return write(self.tests)
        if len(self.relations) == 1 and self.tests.is_any:
            op, reference = self.relations[0]
            bare = op.removeprefix("not ")
            inner = (
                reference
                if bare == "=" and not self.equality
                else f"{bare} {reference}"
            )
            return f"not({inner})" if op != bare else inner
        low, high = self.ends(write)
        return f"{low}..{high}"

    def ends(self, write: Callable[[UnaryTests], str]) -> tuple[str, str]:
        """The two ends of a range with an expression at one end or both (`[x`,
        `y)`); a literal end is WRITE of its value."""
        found: dict[str, str] = {}
        parts = [(op, reference) for op, reference in self.relations]
        for test in self.tests.tests:
            assert isinstance(test, Compare)
            parts.append((test.op, write(UnaryTests((Equals(test.value),)))))
        for op, text in parts:
            if op[0] == ">":
                found["low"] = ("[" if op.endswith("=") else "(") + text
            else:
                found["high"] = text + ("]" if op.endswith("=") else ")")
        return found["low"], found["high"]


_SIGN_OPS = {signs: op for op, signs in OPS.items()}
_SAME_SIGN_OPS = {signs: op for op, signs in SAME_OPS.items()}
_COMPARED = " compared with "


def is_quantifier(column: Column) -> bool:
    """Whether COLUMN is derived from a list column's quantified entries."""
    return column.expression is not None and isinstance(
        column.expression.tree, Quantified
    )


def raise_entries(
    inputs: tuple[Column, ...], rule: Rule
) -> tuple[tuple[Column, ...], tuple[Authored, ...]]:
    """The sheet's input columns of a lowered table (derived columns folded back into
    the columns they were derived from) and RULE's cells of them: the inverse of
    `lower`, so that writing these cells and reading them again gives the same
    table. ValueError on a derived column that `lower` cannot have made."""
    sheet = tuple(c for c in inputs if not c.derived)
    own = {c.name: i for i, c in enumerate(sheet)}
    tests = [e for c, e in zip(inputs, rule.inputs, strict=True) if not c.derived]
    relations: list[list[tuple[str, str]]] = [[] for _ in sheet]
    equality = [not c.type.comparable for c in sheet]
    quantified: list[Quantifier | None] = [None] * len(sheet)
    members = [""] * len(sheet)
    for column, entry in zip(inputs, rule.inputs, strict=True):
        if not column.derived or entry.is_any:
            continue
        assert column.expression is not None
        tree = column.expression.tree
        if isinstance(tree, Quantified):
            if entry != UnaryTests((Equals(True),)):
                raise ValueError(f"{column.name}: not an entry of a quantifier")
            text = column.expression.text
            entry_text = text[: -len(f" of {tree.name}")]
            assert isinstance(tree.tests, UnaryTests)
            quantified[own[tree.name]] = Quantifier(
                tree.quantifier, tree.tests, entry_text
            )
            continue
        assert isinstance(tree, Call) and isinstance(tree.arguments[0], Name)
        if tree.function == "list contains":  # `x_in_l`: the entry names the list
            if entry != UnaryTests((Equals(True),)):
                raise ValueError(f"{column.name}: not an entry naming a list")
            list_name, source = column.expression.names
            members[own[source]] = list_name
            continue
        source = tree.arguments[0].name
        signs = frozenset(str(t.value) for t in entry.tests if isinstance(t, Equals))
        ops = _SIGN_OPS if tree.function == "sign" else _SAME_SIGN_OPS
        if signs not in ops:
            raise ValueError(f"{column.name}: not an entry of a comparison")
        reference = column.expression.text[len(source) + len(_COMPARED) :]
        op = f"not {ops[signs]}" if entry.negated else ops[signs]
        relations[own[source]].append((op, reference))
    return sheet, tuple(
        Authored(t, tuple(r), q, m, e)
        for t, r, q, m, e in zip(
            tests, relations, quantified, members, equality, strict=True
        )
    )
