"""Version 2 in a generated module: the `_compute_` functions of the computed and
derived inputs (quantified entries evaluated from one pass, see `quantified`; the
fast forms of `inline`), the check of the plain inputs their expressions read,
`_finish`, which computes the outputs of the deciding rule, and the list inputs'
columns in the mask code.

`codegen` renders them into the module with the version-1 parts.
"""

from __future__ import annotations

from typing import Any

from compiler.emitting import folding, quantified
from compiler.emitting.inline import fast_python as inline_python
from compiler.emitting.inline import fast_value
from compiler.emitting.literals import py_literal
from compiler.emitting.masks import Rendered
from compiler.emitting.signatures import annotation
from compiler.model import Column, DataType, Table


def _finish_read(table: Table) -> list[Column]:
    """The inputs that TABLE's computed outputs read, in column order."""
    read = {n for r in table.rules for t in r.output_expressions if t for n in t.names}
    return [c for c in table.inputs if c.name in read]


def finish_arguments(table: Table) -> str:
    return ", ".join(c.name for c in _finish_read(table))


def finish_code(table: Table) -> str:
    """`_finish`: the Result of the deciding rule with its computed outputs (version
    2) computed from the inputs; Python built from the checked expressions. Rules
    whose computed outputs are the same expressions share a branch: `_FINISH` maps
    each rule id to its branch, so a call tests the branches, not every rule."""

    def python(column: Column, typed: Any) -> str:
        # version 2: a list output is a tuple, whatever its expression reads
        return f"feel.as_tuple({typed.python})" if column.many else str(typed.python)

    branches: dict[str, list[str]] = {}  # the fields computed -> the rules' ids
    computes: dict[str, Any] = {}  # the fields computed -> their expressions
    for rule in table.rules:
        if rule.output_expressions:
            fields = ", ".join(
                f"{c.name}={python(c, typed)}"
                for c, typed in zip(table.outputs, rule.output_expressions, strict=True)
                if typed is not None
            )
            branches.setdefault(fields, []).append(rule.id)
            computes[fields] = rule.output_expressions
    index = {i: b for b, ids in enumerate(branches.values()) for i in ids}
    lines = [
        "_NEW = tuple.__new__  # a NamedTuple built without its own __new__",
        "# evaluate's Results of a rule and its computed outputs, once built",
        "_MADE: dict[tuple[object, ...], Result] = {}",
        "",
        "# The branch of _finish that computes each rule's outputs.",
        "_FINISH: dict[str, int] = {"
        + ", ".join(f"{py_literal(i)}: {b}" for i, b in index.items())
        + "}",
        "",
        "",
        "def _finish(",
        "    result: Result,",
        *(
            f"    {c.name}: {annotation(c, literal=False)},"
            for c in _finish_read(table)
        ),
        "    **_others: object,  # explain and evaluate_frame pass every input",
        ") -> Result:",
    ]
    if table.returns_list:  # COLLECT, RULE ORDER: an Outputs per matched rule
        lines += [
            '    """The Result with the computed outputs of each matched rule."""',
            "    outputs = list(result.outputs)  # locals: names no input may take",
            "    for found, matched in enumerate(map(_FINISH.get, result.matched)):",
        ]
    else:
        lines += [
            '    """The Result with the computed outputs of its deciding rule (built by',
            "    tuple.__new__, without the NamedTuples' own __new__: cheaper per call).",
            '    """',
            "    matched = _FINISH.get(result.matched[0]) if result.matched else None",
        ]
    for branch, (fields, expressions) in enumerate(computes.items()):
        if table.returns_list:
            lines += [
                f"        if matched == {branch}:",
                f"            outputs[found] = outputs[found]._replace({fields})",
            ]
        else:  # the Outputs built at once, by tuple.__new__: cheaper than
            # _replace and than the NamedTuples' own __new__ (a Python function)
            built = ", ".join(
                python(c, typed) if typed is not None else f"result.outputs.{c.name}"
                for c, typed in zip(table.outputs, expressions, strict=True)
            )
            lines += [
                f"    if matched == {branch}:",
                f"        outputs = tuple.__new__(Outputs, ({built},))",
                "        return tuple.__new__(Result, (outputs, result.matched))",
            ]
    lines.append(
        "    return Result(tuple(outputs), result.matched)"
        if table.returns_list
        else "    return result"
    )
    return "\n".join(lines)


def finish_found(table: Table) -> list[str]:
    """The lines that end `evaluate` with the decision tree's leaf `found`: `_finish`
    of it, or, when every rule computes its outputs alike (one branch, a single
    hit), those outputs built in place (`inline.fast_value` where it has a fast
    form): no call of `_finish`, no lookup of the rule's branch."""
    call = [f"return _finish(found, {finish_arguments(table)})"]
    if table.returns_list or not table.rules:
        return call
    first = table.rules[0].output_expressions
    if not first or not all(r.output_expressions == first for r in table.rules):
        return call
    by_name = {c.name: c for c in table.inputs}
    built = []
    values = []  # the computed outputs' Python
    for k, (column, typed) in enumerate(zip(table.outputs, first, strict=True)):
        if typed is None:
            built.append(f"found[0][{k}]")
            continue
        if column.many:
            python = f"feel.as_tuple({typed.python})"
        else:
            python = fast_value(typed.tree, by_name) or str(typed.python)
        values.append((column, python))
        built.append(f"_key[{len(values)}]")
    kept = all(c.type in _KEPT and not c.many and not c.path for c, _ in values)
    if not kept:
        python_of = {f"_key[{i + 1}]": p for i, (_, p) in enumerate(values)}
        built = [python_of.get(b, b) for b in built]
        return [
            "if found[1]:  # every rule computes its outputs alike",
            "    return _NEW(",
            f"        Result, (_NEW(Outputs, ({', '.join(built)},)), found[1])",
            "    )",
            "return found",
        ]
    return [
        "if found[1]:  # every rule computes its outputs alike: each Result built once",
        f"    _key = (found[1], {', '.join(p for _, p in values)})",
        "    _made = _MADE.get(_key)",
        "    if _made is None:",
        f"        _made = _NEW(Result, (_NEW(Outputs, ({', '.join(built)},)), found[1]))",
        f"        if len(_MADE) < {MADE}:",
        "            _MADE[_key] = _made",
        "    return _made",
        "return found",
    ]


# The types of computed outputs whose Results `evaluate` keeps (`_MADE`, by the rule
# and the values): those whose equal values are alike (not a float: 0.0 and -0.0)
_KEPT = (DataType.INTEGER, DataType.STRING, DataType.CODE, DataType.DATE)
MADE = 4096  # Results at most kept


def finish_frame(table: Table) -> dict[str, Any]:
    """What `_feel.finish_frame` needs to finish evaluate_frame's rows."""
    plain = [c for c in table.inputs if not c.computed]
    computed = [c for c in table.inputs if c.expression is not None]
    ids = sorted(r.id for r in table.rules if r.output_expressions)
    return {
        "plain": "("
        + "".join(f'("{c.name}", "{c.type.value}"), ' for c in plain)
        + ")",
        "computed": "("
        + "".join(
            f'("{c.name}", _compute_{c.name}, {py_literal(c.expression.names)}), '
            for c in computed
            if c.expression is not None
        )
        + ")",
        "rules": py_literal(frozenset(ids)),
    }


def render_many(column: Column, prefix: str, n: int) -> Rendered:
    """A list-valued input (version 2): every rule accepts every list (its entries
    are derived columns); the runtime `Many` checks the value. In a decision tree
    its level has one node for both atoms (a list, None), so its index is 0."""
    element = column.type.value
    allowed = py_literal(f"a list or tuple of {element} values, or None")
    spec = f'Many(TABLE, "{column.name}", "{element}", {prefix}_ALL, {allowed})'
    return Rendered(
        f"# {column.name} (list of {element}): tested by its derived columns",
        f"{prefix}_ALL",
        spec,
        {"Many"},
        index="0",
        atoms=[(1 << n) - 1, (1 << n) - 1],
    )


def computed_inputs(
    table: Table, prefix: str, folds: bool = False
) -> list[dict[str, Any]]:
    """The computed inputs of TABLE (version 2), in order: each a function of the
    inputs its expression reads. The expression reaches the code only as Python built
    from its checked tree (names are the table's inputs, literals `py_literal`).
    FOLDS: whether a folded list's entries are one lookup (`folding`): `evaluate`
    then computes them on its checked path only (DEFERRED)."""
    by_name = {c.name: c for c in table.inputs}
    atom_passes = quantified.passes(table)
    deferred = {
        name
        for p in (folding.folded(table).values() if folds else ())
        for name, _, _ in p.fold
    }
    inline = {n: py for p in atom_passes.values() for n, py in p.entries.items()}
    for column in table.inputs:
        fast = inline_python(column, by_name)
        if fast is None and column.expression is not None and not column.derived:
            fast = fast_value(column.expression.tree, by_name)
        if fast is not None:
            inline[column.name] = fast
    found = []
    for column in table.inputs:
        typed = column.expression
        if typed is None:
            continue
        if not column.derived:
            doc = f"The computed input `{column.name}` (its expression: the workbook)."
        elif column.type is DataType.BOOLEAN:
            doc = f"Whether the elements of `{typed.names[0]}` pass an entry's tests."
        else:
            doc = (
                f"How `{typed.names[0]}` compares with an expression (an entry "
                "naming other inputs): less, equal, greater, or None."
            )
        found.append(
            {
                "name": column.name,
                "deferred": column.name in deferred,
                "python": typed.python,
                "inline": inline.get(column.name, typed.python),
                "before": (
                    list(p.lines) or [f"{p.variable} = {p.call}"]
                    if (p := atom_passes.get(column.name))
                    else []
                ),
                "constants": list(p.constants) if p else [],
                "arguments": [
                    {
                        "name": n,
                        "annotation": annotation(by_name[n], literal=False),
                        "type": by_name[n].type.value,
                    }
                    for n in typed.names
                ],
                "call": ", ".join(typed.names),
                "annotation": f"{column.type.python} | None",
                "doc": doc,
            }
        )
    return found


def computed_check(table: Table, prefix: str) -> str:
    """The code that validates the plain inputs the expressions read, raising
    InputError, when an expression met a value of the wrong type."""
    read = {n for c in table.inputs if c.expression for n in c.expression.names}
    plain = [
        (i, c.name)
        for i, c in enumerate(table.inputs)
        if c.name in read and not c.computed and not c.source_table
    ]
    if not plain:
        return "pass"
    columns = ", ".join(f"{prefix}_COLUMNS[{i}]" for i, _ in plain)
    values = ", ".join(n for _, n in plain)
    return f"checked_mask(({columns},), ({values},), 0)"
