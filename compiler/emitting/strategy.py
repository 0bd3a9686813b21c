"""How `evaluate` looks an input up and reads the winner, chosen per column and per
table by size, where straight-line code costs fewer bytecodes than the general form.

- A table whose decision tree (`_runtime.decision_tree`) has at most TREE_ENTRIES
  entries looks its inputs up in the tree, one node per input, and returns the
  leaf: no AND of masks, whose cost grows with the rules (`tree_entries` counts
  the entries at compile time, as the runtime builds them at import).

- A range column with few bounds compares the value inline, as `bisect_right`
  would, in a balanced tree of `<` tests (`slot_tree`): a value that is NaN fails
  every test and lands in the last slot, as with `bisect_right`.
- A single-hit table with few rules reads its winner from a tuple indexed by the
  mask itself (`_DECIDED`, built at import from `_HITS`) instead of computing
  `_N - mask.bit_length()` on every call.

Both read the same constants as the general form (`_BOUNDS`, `_MASKS`, `_HITS`),
so the checked path, `evaluate_frame` and `explain` are unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compiler.emitting.masks import Rendered

TREE_ENTRIES = 100_000  # entries at most in a decision tree
TREE_BOUNDS = 15  # bounds compared inline at most: 4 comparisons per value
DECIDED_RULES = 12  # rules at most for `_DECIDED`: 4,096 entries


def slot_tree(
    value: str,
    bounds: tuple[object, ...],
    base: str,
    slots: Sequence[str] | None = None,
) -> str | None:
    """The expression of `{base}_MASKS[bisect_right({base}_BOUNDS, value)]` as inline
    comparisons, or None when BOUNDS are too many. An int or float bound is written as
    its literal, any other (a date, infinity, a code) as `{base}_BOUNDS[i]`. SLOTS:
    what each slot gives instead of its mask (a decision tree's index)."""
    if len(bounds) > TREE_BOUNDS:
        return None

    def bound(i: int) -> str:
        b = bounds[i]
        if type(b) is int or (type(b) is float and math.isfinite(b)):
            return repr(b)
        return f"{base}_BOUNDS[{i}]"

    def tree(low: int, high: int) -> str:  # the slots low..high
        if low == high:
            return f"{base}_MASKS[{low}]" if slots is None else slots[low]
        middle = (low + high) // 2
        return (
            f"({tree(low, middle)} if {value} < {bound(middle)}"
            f" else {tree(middle + 1, high)})"
        )

    return tree(0, len(bounds))


def decided(prefix: str, rules: int) -> str | None:
    """The line that builds `_DECIDED` for a table of RULES rules whose winner is
    the highest bit of the mask, or None when it would be too large."""
    if rules > DECIDED_RULES:
        return None
    p = prefix
    return (
        f"{p}_DECIDED = tuple({p}_HITS[{p}_N - m.bit_length()]"
        f" for m in range(1 << {p}_N))"
    )


def tree_entries(atoms: Sequence[Sequence[int | None]], full: int) -> int | None:
    """The entries of the decision tree over columns of ATOMS (each atom's mask, None
    outside the Values), as `_runtime.decision_tree` builds it: one node per set of
    rules left per level, each with an entry per atom; None beyond TREE_ENTRIES."""
    masks = {full}
    entries = 0
    for column in atoms:
        below: set[int] = set()
        entries += len(masks) * len(column)
        if entries > TREE_ENTRIES:
            return None
        for mask in masks:
            below.update(mask & a for a in column if a is not None)
        masks = below
    return entries


def decision_tree(
    columns: Sequence[Rendered],
    prefix: str,
    n: int,
    decide: str,
    runtime: str | None = None,
) -> tuple[str, str] | None:
    """The code that builds a table's decision tree and the expression that looks
    the inputs up in it, or None when a column has no index (codes of several
    lengths, lists) or the tree would have more than TREE_ENTRIES entries. RUNTIME:
    the Python of the runtime columns of COLUMNS (version 2, `folding`), else
    `_COLUMNS`."""
    atoms = [c.atoms for c in columns]
    if not columns or any(a is None for a in atoms):
        return None
    if tree_entries([a for a in atoms if a is not None], (1 << n) - 1) is None:
        return None
    p = prefix
    keyed = ", ".join(str(c.keyed) for c in columns)
    code = (
        "# The decision tree: a level per input, in column order, and a node per set"
        " of rules\n# the inputs before it leave, whose entry for each value is the"
        " next input's node;\n# the last holds the result. Built from the masks, it"
        " decides as ANDing them does.\n"
        f"{p}_TREE = decision_tree({runtime or f'{p}_COLUMNS'}, {p}_ALL, {decide},"
        f" ({keyed}{',' if len(columns) == 1 else ''}))"
    )
    return code, f"{p}_TREE" + "".join(f"[{c.index}]" for c in columns)
