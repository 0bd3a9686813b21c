"""The types a generated module declares: each column's annotation (a `Literal`
of its Values where they list every value), the keyword parameters of `evaluate`
and their docstring lines, and the structures of path outputs (version 2).

`codegen` and `computed` write them into the signatures of the functions they
render.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from compiler.emitting.literals import py_literal
from compiler.emitting.masks import describe
from compiler.model import (
    Column,
    ColumnKind,
    DataType,
    Decision,
    Project,
    Test,
    UnaryTests,
)

# The errors every generated module (and the package) exports, from _runtime.
ERRORS = ("AmbiguousError", "DecisionError", "InputError", "NoVersionError")


def annotation(column: Column, *, literal: bool = True) -> str:
    """`str | None`, or `Literal["CT", "MRI"] | None` when the Values list every value."""
    if column.many:  # version 2
        item = column.type.python
        if column.kind is ColumnKind.OUTPUT:  # a list output is always a tuple
            return f"tuple[{item}, ...] | None"
        return f"tuple[{item}, ...] | list[{item}] | None"
    listed = column.value_list
    if (
        literal
        and listed
        and column.values is not None
        and len(listed) == len(column.values.tests)
    ):
        if column.type in (DataType.STRING, DataType.CODE, DataType.INTEGER):
            return f"Literal[{', '.join(py_literal(v) for v in listed)}] | None"
    return f"{column.type.python} | None"


def merged_column(decision: Decision, column: Column) -> Column:
    """COLUMN with the Values of every version, for the signature of `evaluate`."""
    same = [
        c
        for t in decision.versions
        for c in t.inputs + t.outputs
        if c.name == column.name
    ]
    if any(c.values is None for c in same):
        return dataclasses.replace(column, values=None)
    tests: list[Test] = []
    for other in same:
        assert other.values is not None
        tests.extend(t for t in other.values.tests if t not in tests)
    values = UnaryTests(tuple(tests))
    return dataclasses.replace(column, values=values)


def _input_doc(column: Column, width: int = 80) -> list[str]:
    """The lines of an input in `evaluate`'s docstring: its type and its allowed
    Values as InputError names them, wrapped (`age_years: integer, Values: [0..130]`)."""
    head = f"{column.name}: {column.type.value}" + (
        ", required" if column.required else ""
    )
    if column.values is None or column.values.is_any:
        return [head]
    words = [describe(t) for t in column.values.tests]
    items = [f"{w}," for w in words[:-1]] + words[-1:]
    text = [f"{head}, Values:"]
    for item in items:  # wrapped between values, never inside one
        if len(text[-1]) + 1 + len(item) > width and text[-1].strip():
            text.append("   ")
        text[-1] += f" {item}"
    # In a docstring: backslashes and double quotes escaped, so the text reads back.
    return [line.replace("\\", "\\\\").replace('"', '\\"') for line in text]


def evaluate_params(
    project: Project, chain: tuple[Column, ...]
) -> list[dict[str, Any]]:
    """The keyword parameters of `evaluate`: a plain input each, and for the path
    inputs (version 2) one parameter per structured input, the mapping they read."""
    params: list[dict[str, Any]] = []
    roots: dict[str, dict[str, Any]] = {}
    for c in chain:
        column = _chain_column(project, c)
        if not c.path:
            params.append(
                {
                    "name": c.name,
                    "annotation": annotation(column),
                    "doc": _input_doc(column),
                    "root": False,
                }
            )
            continue
        root = roots.get(c.path[0])
        if root is None:
            root = {"name": c.path[0], "annotation": "Any", "root": True}
            root["doc"] = [f"{c.path[0]}: a mapping (dict) of fields, read by paths:"]
            roots[c.path[0]] = root
            params.append(root)
        doc = _input_doc(dataclasses.replace(column, name=c.header))
        root["doc"] += ["    " + line for line in doc]
    return params


def _chain_column(project: Project, column: Column) -> Column:
    """A chain input with the Values of every version of the table that declares it."""
    for decision in project.decisions:
        if column in decision.first.inputs:
            return merged_column(decision, column)
    return column


def output_structures(
    columns: tuple[Column, ...], outputs: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The path outputs of a table (version 2) as structures: a TypedDict per
    structure (`RgbNotationFields`, innermost first) and a property of `Outputs` per
    root (`rgb_notation`) that builds its nested dict from the flat fields
    (`rgb_notation__red`), which stay what `Outputs` holds."""
    annotations = {o["name"]: o["annotation"] for o in outputs}
    trees: dict[str, dict[str, Any]] = {}
    for column in columns:
        if not column.path:
            continue
        node = trees.setdefault(column.path[0], {})
        for part in column.path[1:-1]:
            node = node.setdefault(part, {})
        node[column.path[-1]] = column.name
    classes: list[dict[str, Any]] = []
    taken = {"Outputs", "Result", "Rule", "Version", "YearsMonths", *ERRORS}

    def declare(path: tuple[str, ...], tree: dict[str, Any]) -> tuple[str, str]:
        fields, values = [], []
        for key, value in tree.items():
            if isinstance(value, dict):
                inner, built = declare((*path, key), value)
                fields.append(f"{key}: {inner}")
                values.append(f"{key!r}: {built}")
            else:
                fields.append(f"{key}: {annotations[value]}")
                values.append(f"{key!r}: self.{value}")
        base = "".join(p.title().replace("_", "") for p in path) + "Fields"
        name, n = base, 2
        while name in taken:
            name, n = f"{base}{n}", n + 1
        taken.add(name)
        classes.append({"name": name, "path": ".".join(path), "fields": fields})
        return name, "{" + ", ".join(values) + "}"

    properties = []
    for root, tree in trees.items():
        name, built = declare((root,), tree)
        properties.append({"name": root, "annotation": name, "value": built})
    return classes, properties
