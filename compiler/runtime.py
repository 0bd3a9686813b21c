"""Shared helpers of the generated package, written into it as `_runtime.py`.

Generated evaluators import only this module and the standard library, so the
generated package runs wherever Python does, without the compiler installed.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol, TypeVar


class DecisionError(ValueError):
    """Base class of every error a generated evaluator raises."""


class InputError(DecisionError, TypeError):
    """An input is not of its column's type or lies outside its Values."""

    def __init__(self, table: str, name: str, value: object, allowed: str) -> None:
        super().__init__(
            f"{table}: {name}={value!r} is not allowed; expected {allowed}"
        )
        self.table = table
        self.name = name
        self.value = value


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


def priority(hits: list[H], ranks: dict[str, tuple[int, ...]], no_match: H) -> H:
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
    ranks: dict[str, tuple[int, ...]],
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
