"""How `evaluate` looks an input up and reads the winner, chosen per column and per
table by size, where straight-line code costs fewer bytecodes than the general form.

- A table whose decision tree (`_runtime.decision_tree`) has at most TREE_ENTRIES
  entries looks its inputs up in the tree, one node per input, and returns the
  leaf: no AND of masks, whose cost grows with the rules (`tree_entries` counts
  the entries at compile time, as the runtime builds them at import).

- Early leaves (`early_level`): where the leading string columns leave most
  inputs with a settled result, a node of the tree is that result and `evaluate`
  only checks the later inputs are valid (a simple cost model, see there).
  Straight-line code (one `if` per rule) is never chosen: it would still have to
  validate every input, so it costs the validation floor plus the chain, more
  than the tree at every size measured (docs/benchmarks.md).

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
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compiler.emitting.masks import Rendered

TREE_ENTRIES = 100_000  # entries at most in a decision tree
EARLY_SHARE = 0.5  # early leaves: when at least this share of inputs meets one
EARLY_COST = 3  # steps of the test for an early leaf, paid by every input
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
    bound = bound_text(bounds, base)

    def tree(low: int, high: int) -> str:  # the slots low..high
        if low == high:
            return f"{base}_MASKS[{low}]" if slots is None else slots[low]
        middle = (low + high) // 2
        return (
            f"({tree(low, middle)} if {value} < {bound(middle)}"
            f" else {tree(middle + 1, high)})"
        )

    return tree(0, len(bounds))


def bound_text(bounds: tuple[object, ...], base: str) -> Callable[[int], str]:
    """The code of bound I of BOUNDS: an int or finite float as its literal, any
    other (a date, infinity, a code) as `{base}_BOUNDS[i]`."""

    def bound(i: int) -> str:
        b = bounds[i]
        if type(b) is int or (type(b) is float and math.isfinite(b)):
            return repr(b)
        return f"{base}_BOUNDS[{i}]"

    return bound


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


def early_level(
    atoms: Sequence[Sequence[int | None]],
    keyed: Sequence[bool],
    n: int,
    first: bool,
    saves: Sequence[int] | None = None,
) -> int | None:
    """The level of a decision tree's early leaves, or None when they do not pay.

    The level is that of the first column not keyed (the string columns before
    it cost a dict lookup each). After them a node whose every valid input below
    leads to the same leaf is an early leaf (`_runtime.decision_tree`: the nodes
    of that level are pairs, leaf or None and node or None): `evaluate` then only
    checks that the later inputs are valid (`Rendered.valid`) instead of finding
    their slots, an unpacking and a test more than the plain tree on the others. Measured on the five-input benchmark tables (a 2-core box,
    Python 3.11), that test costs about a third of what a settled node saves, so
    early leaves pay from about a quarter of the inputs; they are chosen when at
    least EARLY_SHARE of the atom combinations of the keyed columns (each equally
    likely) meets one, as in a small table, whose few rules leave most nodes with
    one rule or none. FIRST: a node is settled when its first rule that the later
    columns can match accepts every valid value of them (or none is left); other
    policies (FIRST semantics aside): when every rule left accepts every value.
    And only where the steps saved pay for the test: SAVES, per column, the steps
    a settled node saves there (a subscript, and the comparisons that find a
    slot), times the share settled, at least EARLY_COST, the test's steps (so a
    table whose only later column is a boolean keeps the plain tree)."""
    level = 0
    while level < len(keyed) and keyed[level]:
        level += 1
    if level == 0 or level == len(atoms):
        return None
    counts = {(1 << n) - 1: 1}
    for column in atoms[:level]:
        below: dict[int, int] = {}
        for mask, count in counts.items():
            for a in column:
                if a is not None:
                    below[mask & a] = below.get(mask & a, 0) + count
        counts = below
    can = every = (1 << n) - 1  # rules the later columns can match, always match
    for column in atoms[level:]:
        valid = [a for a in column if a is not None]
        union, common = 0, (1 << n) - 1
        for a in valid:
            union |= a
            common &= a
        can &= union
        every &= common if valid else 0
    settled = 0
    for mask, count in counts.items():
        live = mask & can
        if first:
            settled += (
                count if not live or (1 << (live.bit_length() - 1)) & every else 0
            )
        else:
            settled += count if live & every == live else 0
    share = settled / sum(counts.values())
    gain = share * sum(saves[level:]) if saves is not None else math.inf
    return level if share >= EARLY_SHARE and gain >= EARLY_COST else None


def decision_tree(
    columns: Sequence[Rendered],
    prefix: str,
    n: int,
    decide: str,
    first: bool = False,
    leaves: bool = True,
    runtime: str | None = None,
) -> tuple[str, str, int | None] | None:
    """The code that builds a table's decision tree, the expression that looks
    the inputs up in it and the level of its early leaves (`early_level`), or None
    when a column has no index (codes of several lengths, lists) or the tree would
    have more than TREE_ENTRIES entries. FIRST: the highest bit of a mask decides;
    LEAVES: early leaves are allowed. RUNTIME: the Python of the runtime columns of
    COLUMNS (version 2, `folding`), else `_COLUMNS`."""
    atoms = [c.atoms for c in columns]
    if not columns or any(a is None for a in atoms):
        return None
    known = [a for a in atoms if a is not None]
    if tree_entries(known, (1 << n) - 1) is None:
        return None
    keyed = [c.keyed for c in columns]
    saves = [c.saves for c in columns]
    early = early_level(known, keyed, n, first, saves) if leaves else None
    p = prefix
    flags = ", ".join(str(k) for k in keyed)
    code = (
        "# The decision tree: a level per input, in column order, and a node per set"
        " of rules\n# the inputs before it leave, whose entry for each value is the"
        " next input's node;\n# the last holds the result. Built from the masks, it"
        " decides as ANDing them does.\n"
    )
    if early is not None:
        code += (
            f"# Early leaves at level {early}: a node there whose later inputs all"
            " lead to one result\n# is that result.\n"
        )
    code += (
        f"{p}_TREE = decision_tree({runtime or f'{p}_COLUMNS'}, {p}_ALL, {decide},"
        f" ({flags}{',' if len(columns) == 1 else ''})"
        + ("" if early is None else f", {early}")
        + ")"
    )
    return code, f"{p}_TREE" + "".join(f"[{c.index}]" for c in columns), early
