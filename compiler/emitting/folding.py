"""A list input's quantified entries as one lookup (version 2).

Each `any(...)` entry of a list input is a derived boolean column (see
`quantified`), so a table testing a list of codes for twenty categories has twenty
columns that `evaluate` would compute and look up in turn. When the list's pass is
folded (`quantified.Pass.fold`: every entry true or false as some element passes
one of its atoms, at most `quantified.FOLD_WIDTH` atoms), every entry is a function
of one int, the bits some element passes: `evaluate` computes that int and looks it
up once, in one level of the decision tree (`{LIST}_FOLD`, a `Lookup` whose values
are the 2**width bit sets and None) or, without a tree, in one dict of masks
(`{LIST}_FOLD_MASKS`): the mask of a key is the AND of the masks of the values
that its entries take, as `checked_mask` would AND them.

The derived columns stay in `_COLUMNS` (the checked path, `explain` and
`evaluate_frame` read them); `evaluate` computes them from the bits only on its
checked path.
"""

from __future__ import annotations

from collections.abc import Sequence

from compiler.emitting import quantified
from compiler.emitting.index import Axis
from compiler.emitting.literals import py_literal
from compiler.emitting.masks import Rendered, _mask
from compiler.model import Table

FOLD_BITS = 1 << 20  # keys x rules at most of a folded list: its masks' size


def folded(table: Table) -> dict[str, quantified.Pass]:
    """The folded passes of TABLE, by the name of their list input: those whose
    2**width masks of a bit per rule stay within FOLD_BITS (a module's size)."""
    n = len(table.rules)
    return {
        p.source: p
        for p in quantified.passes(table).values()
        if p.fold and (1 << p.width) * n <= FOLD_BITS
    }


def _value_mask(axis: Axis, value: bool | None) -> int | None:
    """The mask of VALUE in a derived boolean column's AXIS (None: outside)."""
    if value is None:
        return axis.null
    return dict(zip(axis.keys, axis.key_masks, strict=True)).get(value)


def fold_masks(
    passed: quantified.Pass, axes: dict[str, Axis], full: int
) -> dict[int | None, int | None]:
    """The mask of each key of the folded list of PASSED (the bits some element
    passes, None for a missing list): the AND of its entries' masks (AXES: the
    derived columns' by name); None when an entry's value is outside its column."""
    found: dict[int | None, int | None] = {}
    for key in [*range(1 << passed.width), None]:
        mask: int | None = full
        for name, bits, wanted in passed.fold:
            value = None if key is None else ((key & bits) != 0) == wanted
            got = _value_mask(axes[name], value)
            mask = None if mask is None or got is None else mask & got
        found[key] = mask
    return found


def fold(
    table: Table,
    axes: Sequence[Axis],
    columns: list[Rendered],
    prefix: str,
    n: int,
) -> tuple[list[Rendered], str | None]:
    """The columns that `evaluate` looks up (the folded lists' derived columns
    left out, each list's column looked up by its bits) and the Python of the
    columns of the decision tree (None: `_COLUMNS`). Adds each folded list's
    constants to its column's code."""
    passes = folded(table)
    if not passes:
        return columns, None
    by_name = {a.column.name: a for a in axes}
    dropped = {name for p in passes.values() for name, _, _ in p.fold}
    looked_up: list[Rendered] = []
    tree: list[str] = []
    full = (1 << n) - 1
    for i, (axis, rendered) in enumerate(zip(axes, columns, strict=True)):
        name = axis.column.name
        if name in dropped:
            continue
        passed = passes.get(name)
        if passed is None:
            looked_up.append(rendered)
            tree.append(f"{prefix}_COLUMNS[{i}]")
            continue
        masks = fold_masks(passed, by_name, full)
        base = f"{prefix}_{name.upper()}_FOLD"
        listed = ", ".join(f"{py_literal(k)}: {_mask(m, n)}" for k, m in masks.items())
        allowed = py_literal("the bits of its entries' atoms, or None")
        code = "\n".join(
            (
                f"# {name}: its entries' masks by the bits some element passes"
                " (None: a missing list)",
                f"{base}_MASKS: dict[int | None, int] = {{{listed}}}",
                f'{base} = Lookup(TABLE, "{name}", "integer", {base}_MASKS,'
                f" {base}_MASKS[None], {allowed})",
            )
        )
        variable = passed.variable
        folded_column = Rendered(
            code=rendered.code,
            fast=f"{base}_MASKS[{variable}]",
            spec=rendered.spec,
            names={*rendered.names, "Lookup"},
            fast_code=code,
            index=variable,
            index_code=code,
            index_names={"Lookup"},
            keyed=True,
            atoms=[*(masks[k] for k in range(1 << passed.width)), masks[None]],
        )
        for used in ("bits", "OUTSIDE"):
            if used in code:
                folded_column.names.add(used)
        columns[i] = folded_column
        looked_up.append(folded_column)
        tree.append(base)
    return looked_up, "(" + ", ".join(tree) + ("," if len(tree) == 1 else "") + ")"
