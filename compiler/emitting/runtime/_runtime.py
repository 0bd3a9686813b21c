"""Shared helpers of the generated package, written into it as `_runtime.py`.

Generated evaluators import only this module and the standard library, so the
generated package runs wherever Python does, without the compiler installed.
`evaluate_frame` goes through `_frame.py`, which needs pandas and numpy.

Masks: a generated evaluator maps each input value to a mask, an int with one bit per
rule (bit n-1-k for the rule in position k of the table's bit order), ANDs them, and
reads the matches from the bits left. `Lookup` and `Ranges` hold one column's masks
for the checked path (which validates every input) and for frames.
"""

from __future__ import annotations

import datetime
import math
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, TypeVar


@dataclass(frozen=True, slots=True, order=True)
class YearsMonths:
    """A years-and-months duration (`P1Y6M`, `18 months`): a whole number of months.

    Not an int, so that 18 months cannot be taken for 18 (years, or an integer input):
    an evaluator refuses an int for a years-and-months input. Values order by their
    months, and never compare with other types (TypeError)."""

    total: int

    @property
    def years(self) -> int:
        """FEEL's `.years`: the whole years (signed)."""
        return int(self.total / 12)

    @property
    def months(self) -> int:
        """FEEL's `.months`: the months beyond the whole years (signed)."""
        return self.total - 12 * self.years

    def __repr__(self) -> str:
        return f"YearsMonths({self.total})"

    def __str__(self) -> str:
        """ISO 8601 / FEEL text: `P1Y6M`, `-P2M`, `P0M`."""
        years, rest = divmod(abs(self.total), 12)
        text = (f"{years}Y" if years else "") + (
            f"{rest}M" if rest or not years else ""
        )
        return ("-P" if self.total < 0 else "P") + text


class DecisionError(ValueError):
    """Base class of every error a generated evaluator raises."""

    row: object = None  # evaluate_frame: the label of the row that raised

    def at_row(self, label: object) -> DecisionError:
        """This error, naming the frame row LABEL in its message."""
        self.row = label
        self.args = (f"{self.args[0]} (row {label!r})", *self.args[1:])
        return self


class InputError(DecisionError, TypeError):
    """An input is not of its column's type or lies outside its Values."""

    def __init__(self, table: str, name: str, value: object, allowed: str) -> None:
        super().__init__(
            f"{table}: {name}={value!r} is not allowed; expected {allowed}"
        )
        self.table = table
        self.name = name
        self.value = value
        self.allowed = allowed


class AmbiguousError(DecisionError):
    """A UNIQUE table matched several rules, or an ANY table's matches disagree."""

    def __init__(self, table: str, policy: str, rules: tuple[str, ...]) -> None:
        ids = ", ".join(rules)
        super().__init__(
            f"{table}: {policy} hit policy violated: rules {ids} all match"
        )
        self.table = table
        self.rules = rules


class NoVersionError(DecisionError, LookupError):
    """No version of a table is in force on the evaluation date."""

    def __init__(self, table: str, as_of: datetime.date) -> None:
        super().__init__(f"{table}: no version is in force on {as_of.isoformat()}")
        self.table = table
        self.as_of = as_of


class Rule(NamedTuple):
    """Where a rule came from: its id, its row in the workbook and its annotations."""

    id: str
    location: str
    annotations: tuple[str, ...]


def invalid(table: str, name: str, value: object, allowed: str) -> InputError:
    return InputError(table, name, value, allowed)


class _Decided(Protocol):
    """A prebuilt result of one rule: its outputs and its id (`matched[0]`)."""

    @property
    def outputs(self) -> Any: ...

    @property
    def matched(self) -> tuple[str, ...]: ...


H = TypeVar("H", bound=_Decided)
Out = TypeVar("Out")
R = TypeVar("R")


def unique(table: str, hits: list[H], no_match: H) -> H:
    """UNIQUE: at most one rule may match. HITS are the prebuilt results of matches."""
    if not hits:
        return no_match
    if len(hits) > 1:
        raise AmbiguousError(table, "UNIQUE", tuple(h.matched[0] for h in hits))
    return hits[0]


def any_(
    table: str,
    hits: list[H],
    no_match: H,
    result: Callable[[Any, tuple[str, ...]], H],
) -> H:
    """ANY: matches must agree on every output; the result names all of them."""
    if not hits:
        return no_match
    outputs = hits[0].outputs
    if any(h.outputs != outputs for h in hits[1:]):
        raise AmbiguousError(table, "ANY", tuple(h.matched[0] for h in hits))
    if len(hits) == 1:
        return hits[0]
    return result(outputs, tuple(h.matched[0] for h in hits))


def priority(hits: list[H], ranks: Mapping[str, tuple[int, ...]], no_match: H) -> H:
    """PRIORITY: the match whose outputs come first in the Values order wins; among
    equal priorities, the first in rule order."""
    if not hits:
        return no_match
    return min(hits, key=lambda h: ranks[h.matched[0]])


def collect(
    hits: list[tuple[Out, str]],
    no_match: R,
    result: Callable[[tuple[Out, ...], tuple[str, ...]], R],
) -> R:
    """COLLECT and RULE ORDER: every match, in rule order. HITS are (outputs, id)."""
    if not hits:
        return no_match
    return result(tuple(o for o, _ in hits), tuple(i for _, i in hits))


def output_order(
    hits: list[tuple[Out, str]],
    ranks: Mapping[str, tuple[int, ...]],
    no_match: R,
    result: Callable[[tuple[Out, ...], tuple[str, ...]], R],
) -> R:
    """OUTPUT ORDER: every match, by decreasing priority (stable for equal ones);
    `matched` stays in rule order."""
    if not hits:
        return no_match
    ordered = sorted(hits, key=lambda h: ranks[h[1]])
    return result(tuple(o for o, _ in ordered), tuple(i for _, i in hits))


def aggregate(
    kind: str,
    hits: list[tuple[Out, str]],
    no_match: R,
    result: Callable[[Out, tuple[str, ...]], R],
    outputs: Callable[..., Out],
) -> R:
    """COLLECT SUM, MIN, MAX, COUNT, applied to each output over the non-null values of
    the matches. COUNT counts the matched rules."""
    if not hits:
        return no_match
    values: list[Any] = []
    for column in zip(*(o for o, _ in hits), strict=True):
        present = [v for v in column if v is not None]
        if kind == "COUNT":
            values.append(len(hits))
        elif not present:
            values.append(None)
        elif kind == "SUM":
            values.append(sum(present))
        elif kind == "MIN":
            values.append(min(present))
        else:
            values.append(max(present))
    return result(outputs(*values), tuple(i for _, i in hits))


def today() -> datetime.date:
    """The evaluation date when `as_of` is not given."""
    return datetime.date.today()


def evaluation_date(table: str, as_of: object) -> datetime.date:
    """The `as_of` that TABLE's `evaluate` was given, as the date it compares: today
    for None; a `datetime.date`; InputError for anything else, a `datetime` (and
    `pd.Timestamp`) included, whose time of day and time zone have no meaning here."""
    if as_of is None:
        return today()
    if isinstance(as_of, datetime.date) and not isinstance(as_of, datetime.datetime):
        return as_of
    raise InputError(
        table, "as_of", as_of, "a datetime.date (not a datetime), or None for today"
    )


# -- columns and masks ---------------------------------------------------------------


class Outside(int):
    """The mask of a slot outside a column's Values: AND-ing it raises KeyError, so
    the fast path falls back to the checked path, which raises InputError."""

    def __and__(self, other: int) -> int:
        raise KeyError("outside the Values")

    __rand__ = __and__


OUTSIDE = Outside(0)


def bits(n: int, *positions: int | tuple[int, int]) -> int:
    """The mask of the rules at POSITIONS (the k-th entry of `_HITS`; `(a, b)` for
    a to b) in a table of N rules: large tables write sparse masks so, as their
    digits would fill lines by the thousand."""
    mask = 0
    for position in positions:
        low, high = position if isinstance(position, tuple) else (position, position)
        mask |= ((1 << (high - low + 1)) - 1) << (n - 1 - high)
    return mask


def by_value(
    bounds: Sequence[Any], masks: Sequence[int], values: Sequence[int]
) -> dict[int, int]:
    """The mask of each of VALUES (integers of a short Values list), read off the
    slots once at import, so the fast path looks an integer up instead of searching."""
    return {v: masks[bisect_right(bounds, v)] for v in values}


class Lookup:
    """A column whose masks are looked up by value: strings, booleans, and codes that
    the rules test by value. Atoms: the listed values, null, and (open columns
    without Values) any other string."""

    __slots__ = (
        "table",
        "name",
        "type",
        "values",
        "atoms",
        "allowed",
        "_index",
        "cache",
    )

    def __init__(
        self,
        table: str,
        name: str,
        type_: str,
        masks: Mapping[Any, int],
        null: int,
        allowed: str,
        other: int | None = None,
    ) -> None:
        self.table = table
        self.name = name
        self.type = type_
        self.values = tuple(v for v in masks if v is not None)
        self.atoms: tuple[int, ...] = (
            *(masks[v] for v in self.values),
            null,
            *(() if other is None else (other,)),
        )
        self.allowed = allowed
        self._index = {v: i for i, v in enumerate(self.values)}
        self.cache: dict[str, Any] = {}

    @property
    def null_atom(self) -> int:
        return len(self.values)

    def atom(self, value: object) -> int:
        """The atom of VALUE; InputError when VALUE is not allowed. NaN is missing."""
        if value is None or (isinstance(value, float) and value != value):
            if type(self.atoms[len(self.values)]) is Outside:  # a required input
                raise InputError(self.table, self.name, value, self.allowed)
            return len(self.values)
        if self.type == "boolean":
            if value is True or value is False:
                found = self._index.get(value)
                if found is not None:
                    return found
        elif len(self.atoms) > len(self.values) + 1:  # open: any string
            if type(value) is str:
                return self._index.get(value, len(self.values) + 1)
        else:
            try:
                found = self._index.get(value)
            except TypeError:  # unhashable
                found = None
            if found is not None:
                return found
        raise InputError(self.table, self.name, value, self.allowed)

    def mask(self, value: object) -> int:
        return self.atoms[self.atom(value)]


_TYPES: dict[str, tuple[type, ...]] = {
    "integer": (int,),
    "number": (int, float),
    "date": (datetime.date,),
    "code": (str,),
    # version 2 of the workbook format: naive times and datetimes only
    "duration": (datetime.timedelta,),
    "time": (datetime.time,),
    "datetime": (datetime.datetime,),
    "years and months duration": (YearsMonths,),
}
_ZONED = ("time", "datetime")


class Ranges:
    """A column cut into slots `[BOUNDS[i-1], BOUNDS[i])`: integers, numbers, dates,
    codes (one lane of slots per code length that a code range mentions). A slot
    outside the Values has no mask (None). Atoms: the slots of every lane, null, then
    for numbers without Values NaN and inf."""

    __slots__ = (
        "table",
        "name",
        "type",
        "lanes",
        "atoms",
        "allowed",
        "nan_atom",
        "inf_atom",
        "null_atom",
        "cache",
    )

    def __init__(
        self,
        table: str,
        name: str,
        type_: str,
        bounds: Sequence[Any],
        masks: Sequence[int],
        null: int,
        allowed: str,
        *,
        lanes: Mapping[int, tuple[Sequence[Any], Sequence[int]]] | None = None,
        nan: int | None = None,
        inf: int | None = None,
    ) -> None:
        self.table = table
        self.name = name
        self.type = type_
        self.allowed = allowed
        atoms: list[int] = list(masks)
        # lane length -> (offset of its first atom, bounds, masks); None: the rest
        self.lanes: dict[int | None, tuple[int, Sequence[Any], Sequence[int]]]
        self.lanes = {None: (0, bounds, masks)}
        for length, (lane_bounds, lane_masks) in (lanes or {}).items():
            self.lanes[length] = (len(atoms), lane_bounds, lane_masks)
            atoms.extend(lane_masks)
        self.null_atom = len(atoms)
        atoms.append(null)
        self.nan_atom = self.inf_atom = -1
        if nan is not None and inf is not None:
            self.nan_atom, self.inf_atom = len(atoms), len(atoms) + 1
            atoms.extend((nan, inf))
        self.atoms = tuple(atoms)
        self.cache: dict[str, Any] = {}

    def atom(self, value: object) -> int:
        """The atom of VALUE; InputError when VALUE is not allowed. NaN (a float
        that is not equal to itself: float, numpy.float64) is missing, in any column,
        as in evaluate_frame and run."""
        if value is None or (isinstance(value, float) and value != value):
            if type(self.atoms[self.null_atom]) is Outside:  # a required input
                raise InputError(self.table, self.name, value, self.allowed)
            return self.null_atom
        if type(value) in _TYPES[self.type]:
            if self.type in _ZONED and value.tzinfo is not None:  # type: ignore[attr-defined]
                pass  # naive and zoned values have no order: not allowed
            else:
                lane = self.lanes[None]
                if len(self.lanes) > 1:
                    assert isinstance(value, str)
                    lane = self.lanes.get(len(value), lane)
                offset, bounds, masks = lane
                slot = bisect_right(bounds, value)
                if type(masks[slot]) is not Outside:
                    return offset + slot
                if value == math.inf and self.inf_atom >= 0:
                    return self.inf_atom
        raise InputError(self.table, self.name, value, self.allowed)

    def mask(self, value: object) -> int:
        return self.atoms[self.atom(value)]


_ELEMENT_TYPES = {**_TYPES, "string": (str,), "boolean": (bool,)}


class Many:
    """A list-valued input (workbook format version 2): its entries are derived
    columns, so every rule accepts every list; the column only checks that a value is
    a list or tuple of TYPE (atom 0) or None (atom 1)."""

    __slots__ = ("table", "name", "type", "atoms", "allowed", "null_atom", "cache")

    def __init__(
        self, table: str, name: str, type_: str, full: int, allowed: str
    ) -> None:
        self.table = table
        self.name = name
        self.type = type_
        self.atoms = (full, full)
        self.allowed = allowed
        self.null_atom = 1
        self.cache: dict[str, Any] = {}

    def atom(self, value: object) -> int:
        if value is None:
            return 1
        if type(value) in (list, tuple):
            allowed = _ELEMENT_TYPES[self.type]
            if all(type(v) in allowed for v in value):  # type: ignore[attr-defined]
                return 0
        raise InputError(self.table, self.name, value, self.allowed)

    def mask(self, value: object) -> int:
        return self.atoms[self.atom(value)]


Column = Lookup | Ranges | Many


def checked_mask(columns: Sequence[Column], values: Sequence[object], full: int) -> int:
    """The checked path: every input validated (InputError in column order), then the
    same mask as the fast path computes."""
    mask = full
    for column, value in zip(columns, values, strict=True):
        mask &= column.mask(value)
    return mask


def hits_of(mask: int, n: int, hits: Sequence[R]) -> list[R]:
    """The prebuilt hits of the bits set in MASK, in bit order."""
    found = []
    while mask:
        top = mask.bit_length()
        found.append(hits[n - top])
        mask ^= 1 << (top - 1)
    return found


def ambiguous(
    table: str, mask: int, n: int, hits: Sequence[_Decided]
) -> AmbiguousError:
    """UNIQUE matched the rules of MASK."""
    return AmbiguousError(
        table, "UNIQUE", tuple(h.matched[0] for h in hits_of(mask, n, hits))
    )


# -- decision trees --------------------------------------------------------------


def by_slot(
    bounds: Sequence[Any], masks: Sequence[int], values: Sequence[int]
) -> dict[int, int]:
    """The slot of each of VALUES (integers of a short Values list), read off the
    bounds once at import: what a decision tree indexes an integer's node with."""
    found = {v: bisect_right(bounds, v) for v in values}
    return {v: s for v, s in found.items() if type(masks[s]) is not Outside}


def open_slots(masks: Sequence[int]) -> tuple[int | None, ...]:
    """Each slot, or None for a slot outside the Values: indexing a tree with None
    raises TypeError, so a value there takes the checked path."""
    return tuple(None if type(m) is Outside else s for s, m in enumerate(masks))


class Undecided:
    """A leaf of a decision tree whose rules `decide` refused at import (UNIQUE or
    ANY matching several rules): `Deciding` decides it again, and raises, per call."""

    __slots__ = ("mask",)

    def __init__(self, mask: int) -> None:
        self.mask = mask


class Deciding:
    """A last node of a decision tree that holds an `Undecided` leaf: looking a
    value up decides that leaf again (the error names the rules), any other leaf
    as a plain node does."""

    __slots__ = ("node", "decide")

    def __init__(self, node: Any, decide: Callable[[int], Any]) -> None:
        self.node = node
        self.decide = decide

    def __getitem__(self, key: Any) -> Any:
        found = self.node[key]
        if type(found) is Undecided:
            return self.decide(found.mask)
        return found


def decision_tree(
    columns: Sequence[Column],
    full: int,
    decide: Callable[[int], Any],
    keyed: Sequence[bool],
    early: int = -1,
) -> Any:
    """The decision tree of a table, built at import from the masks of COLUMNS: one
    level per column, one node per set of rules that the columns before it leave,
    holding for each value of its column the node of the next level; the last
    level holds `decide(mask)`, the result. A KEYED column's nodes are dicts from
    its values (and None, when missing is allowed) to nodes, the others' tuples
    indexed by atom (`Lookup.atom`, `Ranges.atom`), None for an atom outside the
    Values. Nodes that the same rules reach are shared, so the tree holds at most
    (rules left) x (atoms) entries per level. Looking up every input's value in turn
    gives what `decide(checked_mask(...))` gives, without an AND of masks.

    EARLY (a level, or -1): the nodes of that level are pairs, `(leaf, None)` for
    a node whose every valid input below leads to the same leaf (an early leaf:
    `evaluate` returns it once the inputs of the later columns are found valid),
    `(None, node)` for the others."""
    built: list[dict[int, Any]] = [{} for _ in range(len(columns) + 1)]
    mixed = object()  # a subtree whose inputs lead to different leaves
    settled: list[dict[int, Any]] = [{} for _ in range(len(columns) + 1)]

    def single(level: int, mask: int) -> Any:
        """The one leaf that every valid input below node (LEVEL, MASK) reaches,
        else MIXED."""
        found = settled[level].get(mask, settled)
        if found is not settled:
            return found
        if level == len(columns):
            found = node(level, mask)
            if found is None or type(found) is Undecided:
                found = mixed
        else:
            found = None
            for a in columns[level].atoms:
                if type(a) is not Outside:
                    below = single(level + 1, mask & a)
                    if below is mixed or (found is not None and below is not found):
                        found = mixed
                        break
                    found = below
            if found is None:  # no valid input at all
                found = mixed
        settled[level][mask] = found
        return found

    def node(level: int, mask: int) -> Any:
        found = built[level].get(mask)
        if found is not None:
            return found
        if level == early:
            leaf = single(level, mask)
            found = (None, plain(level, mask)) if leaf is mixed else (leaf, None)
            built[level][mask] = found
            return found
        return plain(level, mask)

    def plain(level: int, mask: int) -> Any:
        if level == len(columns):
            try:
                found = decide(mask)
            except DecisionError:
                found = Undecided(mask)
        else:
            column = columns[level]
            below = [
                None if type(a) is Outside else node(level + 1, mask & a)
                for a in column.atoms
            ]
            if keyed[level]:
                assert isinstance(column, Lookup)
                found = {v: below[i] for i, v in enumerate(column.values)}
                found = {v: b for v, b in found.items() if b is not None}
                if below[len(column.values)] is not None:
                    found[None] = below[len(column.values)]
            else:
                found = tuple(below)
            if any(type(b) is Undecided for b in below):
                found = Deciding(found, decide)
        built[level][mask] = found
        return found

    return node(0, full)


# -- versions ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Version:
    """One version of a table, as `_frame.decide_frame` needs it."""

    effective_from: datetime.date | None
    effective_to: datetime.date | None
    columns: tuple[Column, ...]
    n: int  # rules
    hits: Sequence[Any]  # "first"/"unique": the prebuilt results, no-match at [n]
    policy: str  # "first" (FIRST, PRIORITY), "unique", or "python": decide() per key
    decide: Callable[[int], Any]  # a mask -> the Result
    # what evaluate_frame computed once: the result table, the grid, rows seen
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
