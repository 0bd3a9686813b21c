"""Per-column rule indexes: what the generated evaluators look values up in.

A table's evaluator never tests rules one by one. For each input column the compiler
cuts the column's values into atoms, sets of values that every entry of the column
accepts or rejects as a whole, and gives each atom a mask: an int with one bit per
rule, set when the rule's entry accepts the atom. An input value is mapped to its atom,
the masks of all columns are ANDed, and the bits left are the matching rules.

Bits run in reverse: the rule in position k of the table's bit order (rule order, or
priority order for PRIORITY) is bit n-1-k, so the first match is `n - m.bit_length()`
and `n` itself (no bit) indexes the no-match result.

Two kinds of columns:

- lookup (strings, booleans, codes whose rules test exact values only): the atoms are
  the listed values, `None`, and for a column without Values one "any other string"
  atom. The generated code is a dict value -> mask.
- ranges (integers, numbers, dates, other codes): every test becomes half-open
  intervals `[lo, hi)` (integers: `<= 18` is `< 19`; dates: one day on; numbers:
  `math.nextafter`; codes: `"M54"` is `["M54", "M54\\0")`, the prefix `M54*` is
  `["M54", "M55")`), so one `bisect_right(BOUNDS, x)` gives the atom (slot) of a
  value. Codes are cut once per length that a code range mentions (a range only holds
  codes of its own length), plus once for every other length. Slots outside the
  column's Values get no mask (None): the evaluator then takes its checked path,
  which raises InputError.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from compiler.model import (
    Column,
    Compare,
    DataType,
    Equals,
    Interval,
    Prefix,
    Table,
    Test,
    UnaryTests,
    Value,
    YearsMonths,
)
from compiler.reading.cells import tests_match

Bound = int | float | dt.date | dt.timedelta | dt.time | YearsMonths | str
Run = tuple[int, int]  # slots start..stop-1


@dataclass(frozen=True, slots=True)
class Lane:
    """Slots of one length class of codes (or the only lane of other types)."""

    length: int | None  # codes of this length; None: every other length
    bounds: tuple[Bound, ...]
    masks: tuple[int | None, ...]  # len(bounds) + 1 slots; None: outside Values
    runs: Mapping[UnaryTests, list[Run]] = field(
        default_factory=dict
    )  # slots of entries


@dataclass(frozen=True, slots=True)
class Axis:
    """One input column's atoms and their masks."""

    column: Column
    kind: str  # "lookup" or "ranges"
    null: int | None  # the mask of a missing value (None); None: a required input
    keys: tuple[Value, ...] = ()  # lookup: the listed values (not None)
    key_masks: tuple[int, ...] = ()  # lookup: the mask of each key
    other: int | None = None  # lookup: the mask of any unlisted string (open columns)
    lanes: tuple[Lane, ...] = ()  # ranges: the last lane is the default one
    nan: int | None = None  # numbers without Values: NaN and inf, matched exactly
    inf: int | None = None
    accepted: Mapping[UnaryTests, list[int]] = field(default_factory=dict)  # lookup

    @property
    def lane(self) -> Lane:
        """The default (for most columns the only) lane."""
        return self.lanes[-1]


def bit_order(table: Table) -> tuple[int, ...]:
    """Rule positions in bit order: priority order for PRIORITY (then the first set
    bit is the winner), rule order otherwise."""
    positions = range(len(table.rules))
    if table.hit_policy.name == "PRIORITY":
        return tuple(sorted(positions, key=lambda i: (table.rank(table.rules[i]), i)))
    return tuple(positions)


def build_axes(table: Table, order: Sequence[int]) -> tuple[Axis, ...]:
    """The axis of every input column of TABLE, with bits in ORDER."""
    n = len(order)
    bit_of = {position: n - 1 - k for k, position in enumerate(order)}
    axes = []
    for index, column in enumerate(table.inputs):
        entries = [rule.inputs[index] for rule in table.rules]
        bits = [bit_of[p] for p in range(len(entries))]
        if _is_lookup(column, entries):
            axes.append(_lookup_axis(column, entries, bits, n))
        else:
            axes.append(_ranges_axis(column, entries, bits, n))
    return tuple(axes)


def _is_lookup(column: Column, entries: Sequence[UnaryTests]) -> bool:
    if column.type in (DataType.STRING, DataType.BOOLEAN):
        return True
    if column.type is not DataType.CODE:
        return False
    if column.enumerated:
        return True
    tests = [t for e in entries for t in e.tests]
    return column.values is None and all(isinstance(t, Equals) for t in tests)


class _Bits:
    """Masks under construction: one bytearray per atom, turned into ints at the end
    (setting bits in place is linear; OR-ing big ints one bit at a time is not)."""

    def __init__(self, atoms: int, n: int) -> None:
        self.buffers = [bytearray((n + 7) // 8) for _ in range(atoms)]

    def set(self, atom: int, bit: int) -> None:
        self.buffers[atom][bit >> 3] |= 1 << (bit & 7)

    def ints(self) -> list[int]:
        return [int.from_bytes(b, "little") for b in self.buffers]


# -- lookup columns ----------------------------------------------------------------------


def _lookup_axis(
    column: Column, entries: Sequence[UnaryTests], bits: Sequence[int], n: int
) -> Axis:
    keys: list[Value]
    open_ = False
    if column.type is DataType.BOOLEAN:
        keys = [
            v
            for v in (True, False)
            if column.values is None or tests_match(column.values, v)
        ]
    elif column.values is not None:
        keys = list(dict.fromkeys(column.value_list))
    else:
        open_ = True
        keys = list(
            dict.fromkeys(
                t.value
                for e in entries
                for t in e.tests
                if isinstance(t, Equals) and isinstance(t.value, str)
            )
        )
    # An unlisted string: no entry can tell one from another (strings only have
    # equality tests), so any fresh string stands for all of them.
    witness = "\x00" + "".join(str(k) for k in keys)
    atoms: list[Value] = [*keys, None, *([witness] if open_ else [])]
    accepted: dict[UnaryTests, list[int]] = {}
    masks = _Bits(len(atoms), n)
    for entry, bit in zip(entries, bits, strict=True):
        found = accepted.get(entry)
        if found is None:
            found = [i for i, a in enumerate(atoms) if tests_match(entry, a)]
            accepted[entry] = found
        for atom in found:
            masks.set(atom, bit)
    ints = masks.ints()
    return Axis(
        column,
        "lookup",
        null=None if column.required else ints[len(keys)],
        keys=tuple(keys),
        key_masks=tuple(ints[: len(keys)]),
        other=ints[len(keys) + 1] if open_ else None,
        accepted=accepted,
    )


# -- ranges ------------------------------------------------------------------------------

Half = tuple[Bound | None, Bound | None]  # [lo, hi); None: unbounded


def after(value: Bound) -> Bound | None:
    """The least value above VALUE, as a bound (None: there is none)."""
    if isinstance(value, bool):
        raise TypeError("booleans have no order here")
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return math.nextafter(value, math.inf)
    if isinstance(value, (dt.datetime, dt.timedelta, dt.time)):  # version 2
        return _after_time(value)
    if isinstance(value, YearsMonths):  # version 2: whole months
        return YearsMonths(value.total + 1)
    if isinstance(value, dt.date):
        return None if value == dt.date.max else value + dt.timedelta(days=1)
    return value + "\x00"


_TICK = dt.timedelta(microseconds=1)


def _after_time(value: dt.datetime | dt.timedelta | dt.time) -> Bound | None:
    """The next microsecond (None past the largest value)."""
    if isinstance(value, dt.time):
        if value == dt.time.max:
            return None
        moment = dt.datetime.combine(dt.date.min, value) + _TICK
        return moment.time()
    try:
        return value + _TICK
    except OverflowError:
        return None


def _prefix_end(prefix: str) -> str | None:
    """The first text after every text starting with PREFIX (`M54` -> `M55`)."""
    while prefix and ord(prefix[-1]) == 0x10FFFF:
        prefix = prefix[:-1]
    return prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else None


def _half(test: Test) -> Half | None:
    """TEST as one half-open interval; None for `null` and for empty intervals."""
    if isinstance(test, Equals):
        if test.value is None or isinstance(test.value, bool):
            return None
        return (test.value, after(test.value))
    if isinstance(test, Compare):
        if test.op == "<":
            return (None, test.value)
        if test.op == "<=":
            return (None, after(test.value))
        if test.op == ">":
            above = after(test.value)
            return None if above is None else (above, None)
        return (test.value, None)
    if isinstance(test, Prefix):
        return (test.prefix, _prefix_end(test.prefix))
    low = test.low if test.low_closed else after(test.low)
    high = after(test.high) if test.high_closed else test.high
    return None if low is None else (low, high)


def _applies(test: Test, lane: int | None) -> bool:
    """Whether TEST can hold codes of the lane's length (code ranges: one length)."""
    if isinstance(test, Interval) and isinstance(test.low, str):
        return lane == len(test.low)
    return True


def _ranges_axis(
    column: Column, entries: Sequence[UnaryTests], bits: Sequence[int], n: int
) -> Axis:
    tests = [t for e in entries for t in e.tests]
    if column.values is not None:
        tests.extend(column.values.tests)
    lengths: list[int] = []
    if column.type is DataType.CODE:
        lengths = sorted(
            {
                len(t.low)
                for t in tests
                if isinstance(t, Interval) and isinstance(t.low, str)
            }
        )
    lanes = [
        _lane(column, entries, bits, n, length, lengths) for length in [*lengths, None]
    ]
    null = _Bits(1, n)
    nan = _Bits(1, n)
    inf = _Bits(1, n)
    special = column.type is DataType.NUMBER and column.values is None
    for entry, bit in zip(entries, bits, strict=True):
        if tests_match(entry, None):
            null.set(0, bit)
        if special and tests_match(entry, math.nan):
            nan.set(0, bit)
        if special and tests_match(entry, math.inf):
            inf.set(0, bit)
    return Axis(
        column,
        "ranges",
        null=None if column.required else null.ints()[0],
        lanes=tuple(lanes),
        nan=nan.ints()[0] if special else None,
        inf=inf.ints()[0] if special else None,
    )


def _lane(
    column: Column,
    entries: Sequence[UnaryTests],
    bits: Sequence[int],
    n: int,
    length: int | None,
    lengths: Sequence[int | None],
) -> Lane:
    """The slots of one lane: cut at every bound, masks by a sweep over the slots."""
    lane = length if length is not None or not lengths else -1  # -1: other lengths
    halves: dict[Test, Half] = {}
    for test in _all_tests(entries, column.values):
        half = _half(test)
        if half is not None and _applies(test, lane):
            halves[test] = half
    found = {b for half in halves.values() for b in half if b is not None}
    if column.type is DataType.NUMBER and column.values is None:
        found.add(math.inf)  # the top slot holds inf and NaN: matched the slow way
    bounds = tuple(sorted(found))  # type: ignore[type-var, unused-ignore]
    slots = len(bounds) + 1
    where = {b: i for i, b in enumerate(bounds)}

    def runs(entry: UnaryTests) -> list[Run]:
        found: list[Run] = []
        for test in entry.tests:
            half = halves.get(test)
            if half is None:
                continue
            low, high = half
            start = 0 if low is None else where[low] + 1
            stop = slots if high is None else where[high] + 1
            if start < stop:
                found.append((start, stop))
        merged = _merge(found)
        return _complement(merged, slots) if entry.negated else merged

    cache: dict[UnaryTests, list[Run]] = {}
    toggles: list[list[int]] = [[] for _ in range(slots + 1)]
    for entry, bit in zip(entries, bits, strict=True):
        if entry.is_any:
            found_runs = [(0, slots)]
        else:
            if entry not in cache:
                cache[entry] = runs(entry)
            found_runs = cache[entry]
        for start, stop in found_runs:
            toggles[start].append(bit)
            toggles[stop].append(bit)
    valid = [True] * slots
    if column.values is not None:
        valid = [False] * slots
        for start, stop in runs(column.values):
            valid[start:stop] = [True] * (stop - start)
    if column.type is DataType.NUMBER and column.values is None:
        valid[-1] = False  # inf and NaN
    masks: list[int | None] = []
    current = 0
    for slot in range(slots):
        if toggles[slot]:
            delta = _Bits(1, n)
            for bit in toggles[slot]:
                delta.buffers[0][bit >> 3] ^= 1 << (bit & 7)
            current ^= delta.ints()[0]
        masks.append(current if valid[slot] else None)
    return Lane(length, bounds, tuple(masks), cache)


def _all_tests(entries: Iterable[UnaryTests], values: UnaryTests | None) -> list[Test]:
    found = [t for e in entries for t in e.tests]
    if values is not None:
        found.extend(values.tests)
    return list(dict.fromkeys(found))


def _merge(runs: list[Run]) -> list[Run]:
    merged: list[Run] = []
    for start, stop in sorted(runs):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


def _complement(runs: list[Run], slots: int) -> list[Run]:
    found: list[Run] = []
    at = 0
    for start, stop in runs:
        if start > at:
            found.append((at, start))
        at = stop
    if at < slots:
        found.append((at, slots))
    return found


# -- overlaps ---------------------------------------------------------------------------


def disjoint(table: Table, axes: Sequence[Axis], order: Sequence[int]) -> bool:
    """Whether no valid input matches two rules: then UNIQUE and ANY need no check at
    run time. Rules overlap exactly when every column has an atom both accept, so
    rule k (bit n-1-k) is alone when the AND over the columns of the OR of the masks
    of the atoms its entry accepts is its own bit."""
    n = len(order)
    alone = [-1] * n
    for index, axis in enumerate(axes):
        union = _unions(axis)
        for k, position in enumerate(order):
            alone[k] &= union(table.rules[position].inputs[index])
    return all(mask == 1 << (n - 1 - k) for k, mask in enumerate(alone))


def _unions(axis: Axis) -> Callable[[UnaryTests], int]:
    """ENTRY -> the OR of the masks of the valid atoms ENTRY accepts."""
    cache: dict[UnaryTests, int] = {}
    if axis.kind == "lookup":
        atoms = [
            *axis.key_masks,
            axis.null or 0,
            *([] if axis.other is None else [axis.other]),
        ]

        def lookup(entry: UnaryTests) -> int:
            found = cache.get(entry)
            if found is None:
                found = 0
                for atom in axis.accepted[entry]:
                    found |= atoms[atom]
                cache[entry] = found
            return found

        return lookup
    tables = [_or_table(lane.masks) for lane in axis.lanes]

    def ranges(entry: UnaryTests) -> int:
        found = cache.get(entry)
        if found is None:
            found = (axis.null or 0) if tests_match(entry, None) else 0
            if axis.nan is not None and tests_match(entry, math.nan):
                found |= axis.nan
            if axis.inf is not None and tests_match(entry, math.inf):
                found |= axis.inf
            for lane, table in zip(axis.lanes, tables, strict=True):
                slots = len(lane.masks)
                for start, stop in [(0, slots)] if entry.is_any else lane.runs[entry]:
                    level = (stop - start).bit_length() - 1
                    found |= table[level][start] | table[level][stop - (1 << level)]
            cache[entry] = found
        return found

    return ranges


def _or_table(masks: Sequence[int | None]) -> list[list[int]]:
    """table[l][s]: the OR of the masks of slots s .. s + 2**l - 1 (None as 0), so
    that any run of slots is the OR of two entries."""
    table = [[m or 0 for m in masks]]
    width = 1
    while 2 * width <= len(masks):
        last = table[-1]
        table.append(
            [last[s] | last[s + width] for s in range(len(masks) - 2 * width + 1)]
        )
        width *= 2
    return table
