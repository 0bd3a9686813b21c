"""What a generated module's `explain(...)` needs from the model, as code.

Per version, one constant of plain literals (`_EXPLAIN` in the module): the sheet,
its title and source, the names of its annotation columns, the words of each
distinct entry (how a value relates to it, and its text), and per rule its id, its
entry in `_HITS` and its entries other than `-`, each as (input column, cell,
position of its words), and, for an entry of a list's quantified column (version
2: `any(M54.*)` of `diagnosis_codes`), the list column shown in its place. The
words are written here, at compile time, from the
parsed entry (`cell_text` prints it back in cell syntax), so no cell text reaches
the generated code but as `repr()` of a string built from parsed values. The shipped `_explain.explain_table` does the rest at run time.

A tuple of literals is one constant of the compiled module: importing it costs
nothing per rule, and `evaluate` does not read it.
"""

from __future__ import annotations

from collections.abc import Sequence

from compiler.emitting.formatting import itemised
from compiler.emitting.literals import py_literal
from compiler.expressions.syntax import Quantified
from compiler.model import (
    Compare,
    DataType,
    Equals,
    Interval,
    Prefix,
    Table,
    UnaryTests,
)
from compiler.reading.cell_text import entry_text, test_text

_NEGATED = {"is": "not", "in": "not in", "one of": "none of", "matches": "not matches"}


def entry_words(entry: UnaryTests, type_: DataType) -> tuple[str, str]:
    """An input entry other than `-` as (how a value relates to it, its text): one of
    the keys of the runtime's `RELATIONS` (`is`, `in`, `one of`, `matches`, or their
    negations for `not(...)`), and the entry in cell syntax without its `not(...)`:
    `("is", ">= 18")`, `("one of", '"CT", "MRI"')`, `("not", '"CT"')`."""
    if len(entry.tests) == 1:
        test = entry.tests[0]
        text = test_text(test, quote=type_ is not DataType.CODE)
        if isinstance(test, Equals | Compare):
            relation = "is"
        elif isinstance(test, Interval):
            relation = "in"
        else:
            assert isinstance(test, Prefix)
            relation = "matches"
    else:
        text, relation = entry_text(UnaryTests(entry.tests), type_), "one of"
    return (_NEGATED[relation] if entry.negated else relation), text


def explain_version(table: Table, order: Sequence[int]) -> dict[str, object]:
    """What the template writes of TABLE into `_EXPLAIN`, as literals: the sheet, its
    title and source, its annotation columns, the words of its distinct entries, and
    per rule (in rule order) its id, its entry in `_HITS` (the rule in position p is
    the entry `order.index(p)`, see `index.bit_order`) and its entries other than
    `-`, as (input column, cell, position of its words)."""
    slot = {position: k for k, position in enumerate(order)}
    words: dict[tuple[str, str], int] = {}
    seen: dict[tuple[int, DataType], int] = {}  # by entry object (the table keeps it)

    def number(entry: UnaryTests, type_: DataType) -> int:
        key = (id(entry), type_)
        found = seen.get(key)
        if found is None:
            found = seen[key] = words.setdefault(entry_words(entry, type_), len(words))
        return found

    def data(index: int, entry: UnaryTests, cell: str) -> tuple[object, ...]:
        shown = _over_list(table, index, entry)
        if shown is None:
            return (index, cell, number(entry, table.inputs[index].type))
        source, said = shown
        return (index, cell, words.setdefault(said, len(words)), source)

    rules = []
    for position, rule in enumerate(table.rules):
        entries = tuple(
            data(index, entry, cell)
            for index, (entry, cell) in enumerate(
                zip(rule.inputs, rule.input_cells, strict=True)
            )
            if not entry.is_any
        )
        rules.append(f"            {py_literal((rule.id, slot[position], entries))},\n")
    return {
        "sheet": py_literal(str(table.location)),
        "title": py_literal(table.title),
        "source": py_literal(table.source),
        "notes": py_literal(tuple(c.name for c in table.annotations)),
        "words": [py_literal(w) for w in words],
        "rules": itemised(rules, "((("),
    }


def _over_list(
    table: Table, index: int, entry: UnaryTests
) -> tuple[int, tuple[str, str]] | None:
    """(the list column, the words) for an entry `true` or `false` of the derived
    column of a quantified entry (version 2), so that `explain` says
    `diagnosis_codes = [M54.5] passes any(M54.*)`, as the author wrote the cell,
    not `diagnosis_codes_any_1 = true is true`; None for any other entry."""
    column = table.inputs[index]
    node = column.expression.tree if column.derived and column.expression else None
    if not isinstance(node, Quantified) or len(entry.tests) != 1:
        return None
    test = entry.tests[0]
    if not isinstance(test, Equals) or not isinstance(test.value, bool):
        return None
    sources = [i for i, c in enumerate(table.inputs) if c.name == node.name]
    if not sources or not isinstance(node.tests, UnaryTests):
        return None
    source = sources[0]
    text = f"{node.quantifier}({entry_text(node.tests, table.inputs[source].type)})"
    return source, ("passes" if test.value != entry.negated else "fails", text)
