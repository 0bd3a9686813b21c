"""The quantified entries of a list input (version 2), evaluated from one pass over
its elements.

Each distinct `any(...)`, `every(...)` or `none(...)` entry of a list column is a
derived boolean column (`codes_any_1`, see `reading.sheets.lowering.lower`) whose
reference Python (`feel.some(codes, "code", lambda v: ...)`) scans the list. The
`_compute_` functions, `explain` and `evaluate_frame` keep that; `evaluate` instead
finds once per call which basic tests of all those entries (atoms: a prefix, a
value, a comparison, a range) each element passes (`feel.atoms`, bit k for the
k-th atom), and computes every entry from those bits:

- some element passes one of the entry's atoms (`any`, and `none` or a negated
  `every` as its negation): the bits some element passes, ANDed with the entry's;
- every element passes one of them (`every`, and a negated `any` or `none`): for a
  single atom the bits every element passes; else each element's bits in turn.

When every entry of a list is of the first kind and its atoms are few (at most
FOLD_WIDTH), the pass gives only the bits some element passes (`feel.some_bits`, or inline
for prefixes of one length, each string's bits kept once met), and `folding` makes those bits one key of the decision tree
(or of one mask) for all its entries: `evaluate` then computes no entry at all.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from compiler.emitting.literals import py_literal
from compiler.expressions.syntax import Quantified
from compiler.model import Column, Equals, Prefix, Table, Test, UnaryTests
from compiler.reading.sheets.lowering import predicate

_STRINGS = ("string", "code")
FOLD_WIDTH = 8  # atoms at most of a folded list: 256 keys


@dataclass(frozen=True, slots=True)
class Pass:
    """The atom pass of one list input: where its bits are, the module constants
    (lines) it reads, and the Python of each of its entries from the bits."""

    variable: str  # `codes_atoms`, assigned before its first entry
    call: str  # the Python of the pass
    constants: tuple[str, ...]
    entries: dict[str, str]  # derived column name -> its Python from the bits
    source: str = ""  # the list input
    # folded (every entry an `any` of its atoms or its negation): each entry's derived
    # column, mask and whether it is true when some element passes one of its atoms;
    # the pass then gives the bits some element passes (an int), or None
    fold: tuple[tuple[str, int, bool], ...] = ()
    width: int = 0
    lines: tuple[str, ...] = ()  # the statements that assign VARIABLE, when not CALL


def passes(table: Table) -> dict[str, Pass]:
    """The atom pass of each list input of TABLE that quantified entries test, by the
    name of the first derived column that reads it (the pass is computed there)."""
    by_source: dict[str, list[tuple[Column, Quantified]]] = {}
    for column in table.inputs:
        tree = column.expression.tree if column.expression else None
        if column.derived and isinstance(tree, Quantified):
            by_source.setdefault(tree.name, []).append((column, tree))
    columns = {c.name: c for c in table.inputs}
    found = {}
    for source, entries in by_source.items():
        made = _pass(columns[source], entries, set(columns))
        if made is not None:
            found[entries[0][0].name] = made
    return found


def _tests(tree: Quantified) -> UnaryTests:
    assert isinstance(tree.tests, UnaryTests)
    return tree.tests


def _pass(
    source: Column, entries: list[tuple[Column, Quantified]], taken: set[str]
) -> Pass | None:
    kind = entries[0][1].type
    atoms: list[Test] = list(
        dict.fromkeys(t for _, tree in entries for t in _tests(tree).tests)
    )
    if not atoms:
        return None
    width = len(atoms)

    def bits(value: int) -> str:
        return f"0b{value:0{width}b}"

    bit = {atom: 1 << k for k, atom in enumerate(atoms)}
    prefixes: dict[int, dict[str, int]] = {}
    equal: dict[str, int] = {}
    others: list[tuple[int, str]] = []
    for atom in atoms:
        if kind in _STRINGS and isinstance(atom, Prefix):
            prefixes.setdefault(len(atom.prefix), {})[atom.prefix] = bit[atom]
        elif kind in _STRINGS and isinstance(atom, Equals) and type(atom.value) is str:
            equal[atom.value] = bit[atom]
        else:
            test = predicate(UnaryTests((atom,)), source.type)
            others.append((bit[atom], f"lambda v: {test}"))
    variable = f"{source.name}_atoms"
    while variable in taken:  # not the name of an input
        variable += "_"
    upper = f"_{source.name.upper()}"
    each = False
    python: dict[str, str] = {}
    fold: list[tuple[str, int, bool]] = []
    for column, tree in entries:
        tests = _tests(tree)
        mask = 0
        for atom in tests.tests:
            mask |= bit[atom]
        # whether some element passes one of the atoms (any, none, a negated
        # every) or every element does (every, a negated any or none), and whether
        # the entry is that or its negation
        some = (tree.quantifier != "every") != tests.negated
        wanted = (tree.quantifier != "none") != tests.negated
        fold.append((column.name, mask, wanted) if some else ("", 0, False))
        if some:
            test = f"({variable}[0] & {bits(mask)}) {'!=' if wanted else '=='} 0"
        elif mask & (mask - 1) == 0:  # a single atom
            test = f"({variable}[1] & {bits(mask)}) {'!=' if wanted else '=='} 0"
        else:
            each = True
            every = f"all(b & {bits(mask)} for b in {variable}[2])"
            test = every if wanted else f"not {every}"
        python[column.name] = f"None if {variable} is None else {test}"
    pieces = []
    for length, table in sorted(prefixes.items()):
        inner = ", ".join(f"{py_literal(p)}: {bits(b)}" for p, b in table.items())
        pieces.append(f"({length}, {{{inner}}})")
    tables = ", ".join(pieces)
    named = ", ".join(f"{py_literal(v)}: {bits(b)}" for v, b in equal.items())
    tested = ", ".join(f"({bits(b)}, {t})" for b, t in others)
    listed = ", ".join(f"{k}: {_atom_text(a, source)}" for k, a in enumerate(atoms))
    said = (
        f"{source.name}: the tests of its quantified entries (atoms), bit k for the "
        f"k-th ({listed}). `evaluate` finds those each element passes in one pass "
        "(feel.atoms: by prefix, by value, then the other tests) and tests each "
        "entry's bits in them."
    )
    constants = (
        *textwrap.wrap(said, 86, initial_indent="# ", subsequent_indent="# "),
        f"{upper}_ATOM_PREFIXES: tuple[tuple[int, dict[str, int]], ...] = ({tables}{',' if tables else ''})",
        f"{upper}_ATOM_EQUAL: dict[str, int] = {{{named}}}",
        f"{upper}_ATOM_TESTS: tuple[tuple[int, Any], ...] = ({tested}{',' if tested else ''})",
    )
    call = (
        f"feel.atoms({source.name}, {kind!r}, {upper}_ATOM_PREFIXES, {upper}_ATOM_EQUAL, "
        f"{upper}_ATOM_TESTS, {each})"
    )
    if width > FOLD_WIDTH or not all(name for name, _, _ in fold):
        return Pass(variable, call, constants, python, source.name)
    lines: tuple[str, ...] = ()
    if len(prefixes) == 1 and not equal and not others:
        ((length, _),) = prefixes.items()
        constants = (
            *constants,
            f"{upper}_ATOM_SEEN: dict[str, int] = {{}}  # the bits of strings met",
        )
        x, seen = source.name, f"{upper}_ATOM_SEEN"
        # the pass inline: a string met before is one lookup (locals no input names)
        lines = (
            f"{variable}: int | None = None",
            f"if {x} is not None:",
            f"    if type({x}) is not list and type({x}) is not tuple:",
            '        raise TypeError("not a list of strings")',
            "    _some = 0",
            f"    for _item in {x}:",
            "        if type(_item) is not str:",
            '            raise TypeError("not a list of strings")',
            f"        _bits = {seen}.get(_item)",
            "        if _bits is None:",
            f"            _bits = feel.prefix_bit(_item, {length},"
            f" {upper}_ATOM_PREFIXES[0][1], {seen})",
            "        _some |= _bits",
            f"    {variable} = _some",
        )
    else:
        call = (
            f"feel.some_bits({source.name}, {kind!r}, {upper}_ATOM_PREFIXES, "
            f"{upper}_ATOM_EQUAL, {upper}_ATOM_TESTS)"
        )
    python = {
        name: f"None if {variable} is None else ({variable} & {bits(mask)})"
        f" {'!=' if wanted else '=='} 0"
        for name, mask, wanted in fold
    }
    return Pass(
        variable, call, constants, python, source.name, tuple(fold), width, lines
    )


def _atom_text(atom: Test, source: Column) -> str:
    """ATOM as the comment lists it: `M54.*`, or its test of an element `v`."""
    if isinstance(atom, Prefix):
        return f"{atom.prefix}*"
    return predicate(UnaryTests((atom,)), source.type)
