"""Each input column's domain, cut into atoms: sets of values no entry tells apart.

The analysis never looks at single values. For one column of one table it collects
every boundary that a rule entry or the Values row mentions and cuts the column's
domain at those boundaries, the elementary intervals of Calvanese et al. (2018):

- string: one atom per listed value, plus one atom for "any other value" when the
  column has no Values list (then it ranges over every string);
- boolean: `true` and `false`;
- integer, number, date: the points mentioned and the open stretches between them
  (`< 18` and `[18..64]` give `(-inf..18)`, `18`, `(18..64)`, `64`, `(64..+inf)`);
- code: as for numbers, in text order, but once per length mentioned by a code range
  (ranges only hold codes of their own length) plus once for all other lengths; a
  prefix `M54*` is the stretch from `M54` up to `M55`.

Stretches holding no value (no integer between 17 and 18) are dropped, and so is every
atom outside the column's Values. `null` (a missing input) is one more atom of every
column that can be missing, answered like the rest (`-` and `not(...)` accept it, as
the interpreter and the generated code do): not of a `required input`, whose missing
value is an InputError, nor of a `from` input whose source table always gives a
value. Null is always the last atom of an axis, so `Axis.without_null` gives the same
atoms over complete values, at the same indices: the analysis reads findings about
complete inputs off the same sweep (`regions.complete_facts`).

Every entry is constant on every atom, so an entry becomes a set of atoms, kept as a
Python int used as a bitmask (bit i set: the entry accepts atom i), and each atom keeps
one member, its witness, for examples and messages.
"""

from __future__ import annotations

import bisect
import copy
import datetime as dt
import functools
import math
import string
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from compiler.model import (
    TIME_TYPES,
    Column,
    Compare,
    DataType,
    Equals,
    Interval,
    Prefix,
    Test,
    UnaryTests,
    Value,
    YearsMonths,
)
from compiler.reading.cells import tests_match
from compiler.timetypes import show_duration, show_years_months

Ordered = int | float | dt.date | dt.timedelta | dt.time | YearsMonths | str
_READABLE = string.digits + string.ascii_uppercase + string.ascii_lowercase + "."
_MAX_CHAR = 0x10FFFF


def show(value: Value) -> str:
    """A value as an author would type it in a cell (version 2: a list output's
    value as `["a", "b"]`)."""
    if value is None:
        return "null"
    if isinstance(value, tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.timedelta):  # version 2: `14 days`
        return show_duration(value)
    if isinstance(value, YearsMonths):  # version 2: `18 months`
        return show_years_months(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, str):
        plain = value and value == value.strip() and not any(c in value for c in ',{}"')
        return value if plain else '"' + value.replace('"', '\\"') + '"'
    return str(value)


def bits(mask: int) -> Iterator[int]:
    """The indices of the set bits of MASK, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def runs(mask: int) -> list[tuple[int, int]]:
    """MASK as runs of consecutive set bits, `[(start, stop), ...]` with stop exclusive."""
    found = []
    while mask:
        start = (mask & -mask).bit_length() - 1
        shifted = mask >> start
        length = ((shifted + 1) & ~shifted).bit_length() - 1  # trailing ones
        found.append((start, start + length))
        mask &= ~(((1 << length) - 1) << start)
    return found


def span(start: int, stop: int) -> int:
    """The mask with bits start..stop-1 set."""
    return (1 << stop) - (1 << start) if stop > start else 0


@dataclass(frozen=True, slots=True)
class Atom:
    """A set of values every entry of the column accepts or rejects as a whole."""

    witness: Value  # one member: shown in messages, used in generated examples
    lane: int = 0  # ordered columns: which length class (codes), 0 otherwise
    candidate: int = -1  # ordered columns: position in the lane (odd: a point)
    joins: bool = False  # ordered columns: continues the previous atom without a hole
    other: bool = False  # string columns: every value the table does not mention
    null: bool = False  # the missing value, in columns that can be missing


class Axis:
    """One column's atoms, and the translation of entries to atom masks."""

    def __init__(self, column: Column, atoms: Sequence[Atom]) -> None:
        self.column = column
        self.atoms = tuple(atoms)
        self.full = (1 << len(self.atoms)) - 1
        self.null = next((i for i, a in enumerate(self.atoms) if a.null), None)
        assert self.null in (None, len(self.atoms) - 1), "null is the last atom"
        self._masks: dict[UnaryTests, int] = {}

    def without_null(self) -> Axis:
        """This axis over complete values: the null atom (always the last) left out,
        every other atom at its index."""
        if self.null is None:
            return self
        found = copy.copy(self)
        found.atoms = self.atoms[: self.null]
        found.full = self.full & ~(1 << self.null)
        found.null = None
        found._masks = {}
        return found

    def mask(self, entry: UnaryTests) -> int:
        """The atoms ENTRY accepts."""
        found = self._masks.get(entry)
        if found is None:
            if entry.is_any:
                found = self.full
            else:
                found = 0
                for test in entry.tests:
                    if isinstance(test, Equals) and test.value is None:
                        found |= 0 if self.null is None else 1 << self.null
                    else:
                        found |= self.test_mask(test)
                if entry.negated:
                    found = self.full & ~found
            self._masks[entry] = found
        return found

    def test_mask(self, test: Test) -> int:
        """The atoms TEST accepts (a test among the entries the axis was built from)."""
        raise NotImplementedError

    def locate(self, value: Value) -> int | None:
        """The atom holding VALUE, or None when VALUE is outside the domain."""
        if value is None:
            return self.null
        return self._locate(value)

    def _locate(self, value: Value) -> int | None:
        raise NotImplementedError

    def items(self, mask: int) -> list[str]:
        """MASK as a short list of values and ranges."""
        if self.null is not None and mask >> self.null & 1:
            return [*self._items(mask & ~(1 << self.null)), "null"]
        return self._items(mask)

    def _items(self, mask: int) -> list[str]:
        raise NotImplementedError

    def describe(self, mask: int) -> str:
        """`= US`, `in {CT, MRI}`, `not in {CT, MRI}`, `in [0..17]`: the set MASK,
        worded from itself or from its complement, whichever reads shorter."""
        if mask == self.full:
            return "is any value"
        if not mask:
            return "is no allowed value"
        positive = self.items(mask)
        negative = self.items(self.full & ~mask)
        vague = any(item.startswith("any") for item in positive)
        if (vague or len(negative) < len(positive)) and not any(
            item.startswith("any") for item in negative
        ):
            return _phrase(negative, negated=True)
        return _phrase(positive, negated=False)

    def example(self, mask: int) -> Value:
        """A member of MASK to show: the first witness an author can read."""
        first = self.atoms[(mask & -mask).bit_length() - 1].witness
        for count, index in enumerate(bits(mask)):
            witness = self.atoms[index].witness
            if not isinstance(witness, str) or witness.isprintable() or count > 64:
                return witness
        return first


def _phrase(items: list[str], negated: bool) -> str:
    if len(items) > 1:
        return ("not in {" if negated else "in {") + ", ".join(items) + "}"
    item = items[0]
    if item[:1] in "<>":
        return f"not {item}" if negated else item
    if item[:1] in "[(" or item.startswith("any"):
        return f"not in {item}" if negated else f"in {item}"
    return f"is not {item}" if negated else f"= {item}"


# -- strings and booleans ------------------------------------------------------------


class ListAxis(Axis):
    """Unordered columns: one atom per value, plus "any other value" for open strings."""

    def __init__(self, column: Column, atoms: Sequence[Atom]) -> None:
        super().__init__(column, atoms)
        self._index = {
            a.witness: i for i, a in enumerate(self.atoms) if not (a.other or a.null)
        }
        self._other = next((i for i, a in enumerate(self.atoms) if a.other), None)

    def test_mask(self, test: Test) -> int:
        if isinstance(test, Equals):
            index = self._index.get(test.value) if test.value is not None else None
            return 0 if index is None else 1 << index
        # The grammar allows nothing else on these types; decide per listed atom.
        return sum(
            1 << i
            for i, atom in enumerate(self.atoms)
            if not (atom.other or atom.null)
            and tests_match(UnaryTests((test,)), atom.witness)
        )

    def _locate(self, value: Value) -> int | None:
        if isinstance(value, bool) is (self.column.type is DataType.BOOLEAN):
            index = self._index.get(value)
            if index is not None:
                return index
            if isinstance(value, str):
                return self._other
        return None

    def _items(self, mask: int) -> list[str]:
        shown = [
            show(self.atoms[i].witness) for i in bits(mask) if not self.atoms[i].other
        ]
        if self._other is not None and mask >> self._other & 1:
            shown.append("any other value")
        return shown


def list_axis(column: Column, entries: list[UnaryTests], null: list[Atom]) -> ListAxis:
    if column.type is DataType.BOOLEAN:
        values: list[Value] = [True, False]
        if column.values is not None:
            values = [v for v in values if tests_match(column.values, v)]
        return ListAxis(column, [*(Atom(v) for v in values), *null])
    if column.values is not None:
        listed = dict.fromkeys(v for v in column.value_list if v is not None)
        return ListAxis(column, [*(Atom(v) for v in listed), *null])
    mentioned = dict.fromkeys(
        t.value
        for entry in entries
        for t in entry.tests
        if isinstance(t, Equals) and isinstance(t.value, str)
    )
    other = "other"
    while other in mentioned:
        other += "'"
    atoms = [*(Atom(v) for v in mentioned), Atom(other, other=True), *null]
    return ListAxis(column, atoms)


# -- numbers, dates and codes --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lane:
    """Codes of one length (or of every length not listed): ranges only reach their
    own length, so each length is cut separately. Other types have one lane."""

    length: int | None  # None: every length not in `excluded`
    excluded: frozenset[int] = frozenset()

    def holds(self, value: Ordered) -> bool:
        if not isinstance(value, str):
            return True
        if self.length is not None:
            return len(value) == self.length
        return len(value) not in self.excluded


class OrderedAxis(Axis):
    """Integers, numbers, dates and codes: points and the stretches between them.

    In each lane the sorted boundary points p0 < p1 < ... < pn-1 give the candidates
    `(-inf..p0), p0, (p0..p1), p1, ..., (pn-1..+inf)`: candidate 2i is the stretch
    below point i, candidate 2i+1 the point itself. Candidates holding no value of the
    domain are dropped; `_kept[lane][k]` counts the atoms before candidate k, so that a
    run of candidates maps to a run of atoms.
    """

    def __init__(
        self,
        column: Column,
        points: list[Ordered],
        lanes: list[Lane],
        atoms: Sequence[Atom],
        kept: list[list[int]],
        offsets: list[int],
    ) -> None:
        super().__init__(column, atoms)
        self.points = points
        self.lanes = lanes
        self._kept = kept
        self._offsets = offsets
        self._position = {p: i for i, p in enumerate(points)}

    # candidates -> atoms

    def _span(self, lane: int, first: int, last: int) -> int:
        """The atoms of candidates first..last (inclusive) of LANE."""
        if last < first:
            return 0
        kept, offset = self._kept[lane], self._offsets[lane]
        return span(offset + kept[first], offset + kept[last + 1])

    def _lane_of(self, value: Ordered) -> int | None:
        for index, lane in enumerate(self.lanes):
            if lane.holds(value):
                return index
        return None

    def test_mask(self, test: Test) -> int:
        top = 2 * len(self.points)
        position = self._position
        if isinstance(test, Equals):
            if test.value is None or isinstance(test.value, bool):
                return 0
            lane = self._lane_of(test.value)
            if lane is None:
                return 0
            point = 2 * position[test.value] + 1
            return self._span(lane, point, point)
        if isinstance(test, Interval):
            first = 2 * position[test.low] + (1 if test.low_closed else 2)
            last = 2 * position[test.high] + (1 if test.high_closed else 0)
            if isinstance(test.low, str):  # a code range holds codes of its length only
                lane = self._lane_of(test.low)
                return 0 if lane is None else self._span(lane, first, last)
            return self._span(0, first, last)
        if isinstance(test, Prefix):
            first, last = (
                2 * position[test.prefix] + 1,
                2 * position[_after(test.prefix)],
            )
        else:
            at = position[test.value]
            first, last = {
                "<": (0, 2 * at),
                "<=": (0, 2 * at + 1),
                ">": (2 * at + 2, top),
                ">=": (2 * at + 1, top),
            }[test.op]
        mask = 0
        for lane in range(len(self.lanes)):
            mask |= self._span(lane, first, last)
        return mask

    def _locate(self, value: Value) -> int | None:
        if value is None or isinstance(value, bool):
            return None
        try:
            lane = self._lane_of(value)
            at = bisect.bisect_left(self.points, value)  # type: ignore[arg-type]
        except TypeError:
            return None
        if lane is None:
            return None
        exact = at < len(self.points) and self.points[at] == value
        candidate = 2 * at + 1 if exact else 2 * at
        kept = self._kept[lane]
        if kept[candidate + 1] == kept[candidate]:
            return None  # the candidate was dropped: outside the domain
        return self._offsets[lane] + kept[candidate]

    # describing

    def _ends(self, atom: Atom) -> tuple[Ordered | None, bool, Ordered | None, bool]:
        """An atom as (low, low closed, high, high closed); None is unbounded."""
        index = atom.candidate // 2
        if atom.candidate % 2:
            point = self.points[index]
            return point, True, point, True
        low = self.points[index - 1] if index > 0 else None
        high = self.points[index] if index < len(self.points) else None
        return low, False, high, False

    def _items(self, mask: int) -> list[str]:
        pieces: list[tuple[str, str]] = []  # (text, length note) per run of atoms
        for start, stop in runs(mask):
            group_start = start
            for i in bits(self._breaks & span(start + 1, stop)):
                pieces.append(self._run_text(group_start, i))
                group_start = i
            pieces.append(self._run_text(group_start, stop))
        # A code stretch found in every length class needs no length note (`M54*`).
        seen: dict[str, int] = {}
        for text, _ in pieces:
            seen[text] = seen.get(text, 0) + 1
        shown: list[str] = []
        for text, note in pieces:
            if seen[text] == len(self.lanes) > 1:
                if text not in shown:
                    shown.append(text)
            else:
                shown.append(text + note)
        return shown

    @functools.cached_property
    def _breaks(self) -> int:
        """The atoms that do not continue the atom below them in one stretch (a
        hole between them, or another lane): where a run of atoms is worded in
        pieces. Found once: a run can hold thousands of atoms."""
        atoms = self.atoms
        return sum(
            1 << i
            for i in range(1, len(atoms))
            if not atoms[i].joins or atoms[i].lane != atoms[i - 1].lane
        )

    def _run_text(self, start: int, stop: int) -> tuple[str, str]:
        """Atoms START..STOP-1 of one lane as text, and a note on their length."""
        first, last = self.atoms[start], self.atoms[stop - 1]
        low, low_closed, _, _ = self._ends(first)
        _, _, high, high_closed = self._ends(last)
        lane = self.lanes[first.lane]
        kind = self.column.type
        if kind in (DataType.INTEGER, DataType.DATE, DataType.YEARS_MONTHS):
            # Whole values: an open end is the next value inside.
            if low is not None and not low_closed:
                low, low_closed = _step(low, 1), True
            if high is not None and not high_closed:
                high, high_closed = _step(high, -1), True
        note = ""
        if kind is DataType.CODE and len(self.lanes) > 1:
            if lane.length is not None:
                note = f" ({lane.length} characters)"
            else:
                note = " (other lengths)"
        if low is None and high is None:
            return ("any value", "") if not note else ("any code", note)
        if low is not None and low == high:
            return show(low), ""
        if (
            isinstance(low, str)
            and isinstance(high, str)
            and (low_closed or not lane.holds(low))
            and not high_closed
            and high == _after(low)
        ):
            return f"{low}*", note
        if low is None:
            return f"{'<=' if high_closed else '<'} {show(high)}", note
        if high is None:
            return f"{'>=' if low_closed else '>'} {show(low)}", note
        opening = "[" if low_closed else "("
        closing = "]" if high_closed else ")"
        if kind is DataType.CODE and lane.length == len(str(low)) == len(str(high)):
            note = ""  # a code range already says its length
        return f"{opening}{show(low)}..{show(high)}{closing}", note


def _step(value: Ordered, by: int) -> Ordered:
    if isinstance(value, dt.date):
        return value + dt.timedelta(days=by)
    if isinstance(value, YearsMonths):  # version 2: whole months, like integers
        return YearsMonths(value.total + by)
    assert isinstance(value, int)
    return value + by


def _after(prefix: str) -> str:
    """The first text after every text starting with PREFIX (`M54` -> `M55`)."""
    while prefix and ord(prefix[-1]) == _MAX_CHAR:
        prefix = prefix[:-1]
    if not prefix:
        return chr(_MAX_CHAR) * 8  # beyond any code anyone writes
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _boundaries(test: Test) -> Iterator[Ordered]:
    if isinstance(test, Equals):
        if test.value is not None and not isinstance(test.value, bool):
            yield test.value
    elif isinstance(test, Compare):
        yield test.value
    elif isinstance(test, Interval):
        yield test.low
        yield test.high
    else:
        yield test.prefix
        yield _after(test.prefix)


def ordered_axis(
    column: Column, entries: list[UnaryTests], null: list[Atom]
) -> OrderedAxis:
    tests = [t for entry in entries for t in entry.tests]
    if column.values is not None:
        tests.extend(column.values.tests)
    points = sorted(set(b for t in tests for b in _boundaries(t)))  # type: ignore[type-var]
    lanes = [Lane(None)]
    if column.type is DataType.CODE:
        lengths = sorted({len(str(t.low)) for t in tests if isinstance(t, Interval)})
        lanes = [*(Lane(n) for n in lengths), Lane(None, frozenset(lengths))]
    longest = max((len(p) for p in points if isinstance(p, str)), default=0)
    atoms: list[Atom] = []
    kept: list[list[int]] = []
    offsets: list[int] = []
    for index, lane in enumerate(lanes):
        offsets.append(len(atoms))
        counts = [0]
        joins = False
        for candidate in range(2 * len(points) + 1):
            witness = _witness(column.type, lane, points, candidate, longest)
            inside = witness is not None and (
                column.values is None or tests_match(column.values, witness)
            )
            if inside:
                atoms.append(Atom(witness, index, candidate, joins))
            # An atom joins the previous one unless a value outside the domain lies
            # between them (an empty stretch is no hole).
            joins = inside or (joins and witness is None)
            counts.append(counts[-1] + inside)
        kept.append(counts)
    atoms.extend(null)
    return OrderedAxis(column, points, lanes, atoms, kept, offsets)


def _witness(
    kind: DataType, lane: Lane, points: list[Ordered], candidate: int, longest: int
) -> Ordered | None:
    """A value of candidate CANDIDATE in LANE, or None when it holds none."""
    index = candidate // 2
    if candidate % 2:
        point = points[index]
        return point if lane.holds(point) else None
    low = points[index - 1] if index > 0 else None
    high = points[index] if index < len(points) else None
    if kind is DataType.CODE:
        assert (low is None or isinstance(low, str)) and (
            high is None or isinstance(high, str)
        )
        if lane.length is not None:
            return code_between(low, high, lane.length)
        for length in range(1, longest + 2):  # longer codes add nothing new
            if length not in lane.excluded:
                found = code_between(low, high, length)
                if found is not None:
                    return found
        return None
    if kind in TIME_TYPES:
        return time_between(kind, low, high)  # type: ignore[arg-type]
    if kind is DataType.DATE:
        return _date_between(low, high)  # type: ignore[arg-type]
    if kind is DataType.INTEGER:
        return _int_between(low, high)  # type: ignore[arg-type]
    if kind is DataType.YEARS_MONTHS:  # whole months: ordered like integers
        assert isinstance(low, (YearsMonths, type(None)))
        assert isinstance(high, (YearsMonths, type(None)))
        months = _int_between(
            None if low is None else low.total, None if high is None else high.total
        )
        return None if months is None else YearsMonths(months)
    return _number_between(low, high)  # type: ignore[arg-type]


def _int_between(low: int | None, high: int | None) -> int | None:
    """The integer strictly between, nearest a bound; None when there is none."""
    if low is None:
        return 0 if high is None else high - 1
    if high is None or high - low >= 2:
        return low + 1
    return None


def _date_between(low: dt.date | None, high: dt.date | None) -> dt.date | None:
    if low is None and high is None:
        return dt.date(2000, 1, 1)
    try:
        if low is None:
            assert high is not None
            return high - dt.timedelta(days=1)
        if high is None or (high - low).days >= 2:
            return low + dt.timedelta(days=1)
    except OverflowError:
        pass
    return None


_TIME_ORIGIN = dt.datetime(2000, 1, 1)
_TIME_SPAN = {  # (origin, least, most, readable step) in microseconds
    DataType.DURATION: (0, -(10**17), 10**17, 86_400_000_000),
    DataType.DATETIME: (
        0,
        (dt.datetime.min - _TIME_ORIGIN) // dt.timedelta(microseconds=1),
        (dt.datetime.max - _TIME_ORIGIN) // dt.timedelta(microseconds=1),
        86_400_000_000,
    ),
    DataType.TIME: (0, 0, 86_399_999_999, 3_600_000_000),
}


def _micros(kind: DataType, value: dt.timedelta | dt.datetime | dt.time) -> int:
    tick = dt.timedelta(microseconds=1)
    if isinstance(value, dt.timedelta):
        return value // tick
    if isinstance(value, dt.datetime):
        return (value - _TIME_ORIGIN) // tick
    return (dt.datetime.combine(dt.date.min, value) - dt.datetime.min) // tick


def _from_micros(kind: DataType, micros: int) -> dt.timedelta | dt.datetime | dt.time:
    delta = dt.timedelta(microseconds=micros)
    if kind is DataType.DURATION:
        return delta
    if kind is DataType.DATETIME:
        return _TIME_ORIGIN + delta
    return (dt.datetime.min + delta).time()


def time_between(
    kind: DataType,
    low: dt.timedelta | dt.datetime | dt.time | None,
    high: dt.timedelta | dt.datetime | dt.time | None,
) -> dt.timedelta | dt.datetime | dt.time | None:
    """A duration, datetime or time strictly between LOW and HIGH (None: unbounded),
    a readable step (a day, for times an hour) from a bound where one fits; None when
    no microsecond lies between."""
    origin, least, most, step = _TIME_SPAN[kind]
    a = least - 1 if low is None else _micros(kind, low)
    b = most + 1 if high is None else _micros(kind, high)
    if b - a < 2:
        return None
    if low is None and high is None:
        found = origin if kind is not DataType.TIME else 8 * step
    elif low is None:
        found = b - step if b - step > a else (a + b) // 2
    elif a + step < b:
        found = a + step
    else:
        found = (a + b) // 2
    return _from_micros(kind, found)


def _number_between(low: float | None, high: float | None) -> float | None:
    if low is None:
        return 0.0 if high is None else float(math.ceil(high) - 1)
    if high is None:
        return float(math.floor(low) + 1)
    whole = float(math.floor(low) + 1)
    if whole < high:
        return whole
    middle = (low + high) / 2
    return middle if low < middle < high else None


def code_between(low: str | None, high: str | None, length: int) -> str | None:
    """The text of LENGTH characters strictly between LOW and HIGH (None: unbounded)
    that stays closest to LOW, in readable characters where it can."""

    def solve(i: int, tight_low: bool, tight_high: bool) -> str | None:
        # tight_low: the text so far equals LOW's first i characters (same for high).
        if i == length:
            if tight_low:
                return None  # equal to LOW, or a prefix of it: not above it
            if tight_high and high is not None and len(high) == length:
                return None  # equal to HIGH
            return ""
        if tight_low and low is not None and i >= len(low):
            tight_low = False  # LOW is a proper prefix: anything longer is above it
        if tight_high and high is not None and i >= len(high):
            return None  # HIGH is a proper prefix: anything longer is above it
        floor = ord(low[i]) if tight_low and low is not None else -1
        ceiling = ord(high[i]) if tight_high and high is not None else _MAX_CHAR + 1
        if floor == ceiling:
            rest = solve(i + 1, True, True)
            return None if rest is None else chr(floor) + rest
        if floor >= 0:
            rest = solve(i + 1, True, False)
            if rest is not None:
                return chr(floor) + rest
        free = next((c for c in _READABLE if floor < ord(c) < ceiling), None)
        if free is not None:
            return free + "0" * (length - i - 1)
        if ceiling <= _MAX_CHAR:
            rest = solve(i + 1, False, True)
            if rest is not None:
                return chr(ceiling) + rest
        if floor + 1 < ceiling:  # only unreadable characters fit here
            return chr(floor + 1) + "0" * (length - i - 1)
        return None

    if low is not None and high is not None and low >= high:
        return None
    return solve(0, low is not None, high is not None)


def build_axis(
    column: Column, entries: Iterable[UnaryTests], *, missing: bool = True
) -> Axis:
    """The atoms of COLUMN, cut at every boundary ENTRIES and its Values mention; with
    the null atom when the column can be missing (and MISSING: the analysis of
    complete inputs leaves it out)."""
    entries = list(entries)
    null = [Atom(None, null=True)] if missing and column.nullable else []
    if column.type in (DataType.STRING, DataType.BOOLEAN):
        return list_axis(column, entries, null)
    return ordered_axis(column, entries, null)
