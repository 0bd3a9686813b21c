"""How `evaluate` looks an input up and reads the winner, chosen per column and per
table by size, where straight-line code costs fewer bytecodes than the general form.

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

TREE_BOUNDS = 15  # bounds compared inline at most: 4 comparisons per value
DECIDED_RULES = 12  # rules at most for `_DECIDED`: 4,096 entries


def slot_tree(value: str, bounds: tuple[object, ...], base: str) -> str | None:
    """The expression of `{base}_MASKS[bisect_right({base}_BOUNDS, value)]` as inline
    comparisons, or None when BOUNDS are too many. An int or float bound is written as
    its literal, any other (a date, infinity, a code) as `{base}_BOUNDS[i]`."""
    if len(bounds) > TREE_BOUNDS:
        return None

    def bound(i: int) -> str:
        b = bounds[i]
        if type(b) is int or (type(b) is float and math.isfinite(b)):
            return repr(b)
        return f"{base}_BOUNDS[{i}]"

    def tree(low: int, high: int) -> str:  # the slots low..high
        if low == high:
            return f"{base}_MASKS[{low}]"
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
