"""Why a decision came out as it did, written into the generated package as
`_explain.py`: what a generated module's `explain(...)` returns.

`explain` takes the same inputs as `evaluate` and decides the same way: it reads the
same masks (through the version's `Lookup`/`Ranges` columns, which validate every
input as the checked path does) and hands the ANDed mask to the same `decide`, so
its `result` is what `evaluate` returns, and it raises what `evaluate` raises. From
the masks of each input it also reads, for every rule, which entries accepted the
input: the rules that decided, those that matched but lost to the hit policy, and
for each other rule the first entry (in column order) that rejected the input. The
words for each entry (`is >= 18`, `is not >= 18`) and its cell were written by the
compiler from the parsed cell; nothing here reads cell text.

Imported by `explain` on its first call only, so `evaluate` does not pay for it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ._runtime import NoVersionError, Rule, Version, YearsMonths, _Decided

D = TypeVar("D", bound=_Decided)

# What the compiler writes per version (the generated module's `_EXPLAIN`): its
# sheet, title and source, the names of its annotation columns, the words of each
# distinct entry (a key of RELATIONS, and the entry's text without `not(...)`), and
# its rules in rule order, each as (its id, its entry in _HITS, the entries other
# than `-`: (input column, cell, position of its words[, the column shown instead:
# a list, for an entry of its quantified column])).
EntryData = tuple[int, str, int] | tuple[int, str, int, int]  # + the column shown
RuleData = tuple[str, int, tuple[EntryData, ...]]
VersionData = tuple[
    str, str, str, tuple[str, ...], tuple[tuple[str, str], ...], tuple[RuleData, ...]
]

# How a value relates to an entry, by the entry's form: (passes, fails).
RELATIONS = {
    "is": ("is", "is not"),  # a value, null, a comparison: `is >= 18`
    "in": ("is in", "is not in"),  # a range: `is in [18..64]`
    "one of": ("is one of", "is not one of"),  # a list: `is one of "CT", "MRI"`
    "matches": ("matches", "does not match"),  # a code prefix: `matches M54.*`
    "not": ("is not", "is"),  # not(one test): `is not "CT"`
    "passes": ("passes", "fails"),  # a list's quantified entry: `passes any(M54.*)`
    "fails": ("fails", "passes"),
    "not in": ("is not in", "is in"),
    "none of": ("is none of", "is one of"),
    "not matches": ("does not match", "matches"),
}

DECIDED = "decided"
OUTRANKED = "outranked"  # it matched, but the hit policy chose another rule
REJECTED = "rejected"

_BARE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/+-]*$")


def value_text(value: object, type_: str = "") -> str:
    """VALUE as a cell would show it: `null`, `true`, `2025-12-18`, `18`, `"CT"`;
    codes bare when they can be (`70450`, `M54.5`); a list (version 2) as
    `["a", "b"]`."""
    if value is None:
        return "null"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(value_text(v, type_) for v in value) + "]"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):  # version 2: FEEL's ISO form
        return _iso_duration(value)
    if isinstance(value, YearsMonths):  # version 2: `P1Y6M`
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if type_ == "code" and _BARE.match(value):
            return value
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    return repr(value)


@dataclass(frozen=True, slots=True)
class Entry:
    """One input entry of a rule, checked against the input: `age_years = 17 is not
    >= 18 (tables/imaging_preface.xlsx:Guideline set!B12)`."""

    input: str
    value: object  # the input's value
    test: str  # the entry in words, as the value relates to it: `is not >= 18`
    cell: str  # the entry's cell
    type: str = ""  # the input's type (how the value is shown)

    def __str__(self) -> str:
        shown = value_text(self.value, self.type)
        return f"{self.input} = {shown} {self.test} ({self.cell})"

    def to_json(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "value": to_json(self.value),
            "test": self.test,
            "cell": self.cell,
            "text": str(self),
        }


@dataclass(frozen=True, slots=True)
class RuleExplanation:
    """What one rule of the version in force made of the input."""

    id: str
    location: str  # the rule's row
    status: str  # DECIDED, OUTRANKED or REJECTED
    entries: tuple[Entry, ...]  # DECIDED, OUTRANKED: its entries other than `-`
    rejected_by: Entry | None  # REJECTED: the first entry that rejected the input
    annotations: tuple[tuple[str, str], ...]  # (annotation column, text), non-blank

    def __str__(self) -> str:
        if self.rejected_by is not None:
            return f"{self.id}: {self.rejected_by}"
        how = "decided" if self.status == DECIDED else "matched, not chosen"
        return f"{self.id}: {how} ({self.location})"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "location": self.location,
            "status": self.status,
            "entries": [e.to_json() for e in self.entries],
            "rejected_by": None
            if self.rejected_by is None
            else self.rejected_by.to_json(),
            "annotations": [{"column": c, "text": t} for c, t in self.annotations],
            "text": str(self),
        }


@dataclass(frozen=True, slots=True)
class VersionInForce:
    """The sheet whose rules decided, and the dates it is in force (inclusive)."""

    sheet: str
    effective_from: datetime.date | None
    effective_to: datetime.date | None
    title: str
    source: str  # the citation of the sheet's Source row

    def __str__(self) -> str:
        start, end = self.effective_from, self.effective_to
        if start and end:
            return (
                f"sheet {self.sheet}, in force {start.isoformat()} to {end.isoformat()}"
            )
        if start:
            return f"sheet {self.sheet}, in force from {start.isoformat()}"
        if end:
            return f"sheet {self.sheet}, in force to {end.isoformat()}"
        return f"sheet {self.sheet}"

    def to_json(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "effective_from": to_json(self.effective_from),
            "effective_to": to_json(self.effective_to),
            "title": self.title,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Explanation(Generic[D]):
    """Why `evaluate` decides as it does on one input: `result` is what it returns."""

    table: str
    hit_policy: str
    version: VersionInForce
    as_of: datetime.date | None  # the evaluation date, for effective-dated chains
    inputs: tuple[tuple[str, object], ...]  # what the rules were tested on
    result: D
    rules: tuple[RuleExplanation, ...]  # every rule of the version, in rule order
    # the tables this one requires (`from` inputs): (input, its explanation)
    required: tuple[tuple[str, Explanation[Any]], ...] = ()
    types: tuple[str, ...] = ()  # the type of each input (how its value is shown)

    @property
    def outputs(self) -> Any:
        return self.result.outputs

    @property
    def matched(self) -> tuple[str, ...]:
        return self.result.matched

    @property
    def decided(self) -> tuple[RuleExplanation, ...]:
        return tuple(r for r in self.rules if r.status == DECIDED)

    @property
    def not_applied(self) -> tuple[RuleExplanation, ...]:
        return tuple(r for r in self.rules if r.status != DECIDED)

    def lines(self) -> list[str]:
        """The explanation for people, one line each, indented by level."""
        types = dict(zip((n for n, _ in self.inputs), self.types, strict=False))
        lines = [f"{self.table}: {_outputs_text(self.result.outputs)}"]
        lines.append(f"  version: {self.version} ({self.hit_policy} hit policy)")
        if self.as_of is not None:
            lines.append(f"  as of: {self.as_of.isoformat()}")
        if self.inputs:
            shown = ", ".join(
                f"{n} = {value_text(v, types.get(n, ''))}" for n, v in self.inputs
            )
            lines.append(f"  inputs: {shown}")
        decided = self.decided
        if not decided:
            lines.append("  no rule matched: the Defaults apply")
        for rule in decided:
            lines.append(f"  decided by {rule.id} ({rule.location})")
            lines += [f"    {e}" for e in rule.entries]
            if not rule.entries:
                lines.append("    every entry is -: the rule applies to any input")
            lines += [f"    {c}: {t}" for c, t in rule.annotations]
        if self.version.source:
            lines.append(f"  source: {self.version.source}")
        others = self.not_applied
        if others:
            lines.append("  not applied:")
            lines += [f"    {r}" for r in others]
        for name, explanation in self.required:
            lines.append(f"  {name} comes from {explanation.table}:")
            lines += [f"    {line}" for line in explanation.lines()]
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def to_json(self) -> dict[str, Any]:
        """The explanation as JSON values: dates as ISO text, outputs as objects."""
        return {
            "table": self.table,
            "hit_policy": self.hit_policy,
            "version": self.version.to_json(),
            "as_of": to_json(self.as_of),
            "inputs": {n: to_json(v) for n, v in self.inputs},
            "outputs": to_json(self.result.outputs),
            "matched": list(self.result.matched),
            "rules": [r.to_json() for r in self.rules],
            "required": [
                {"input": n, "explanation": e.to_json()} for n, e in self.required
            ],
        }


def _outputs_text(outputs: Any) -> str:
    if isinstance(outputs, tuple) and not hasattr(outputs, "_fields"):  # a list
        if not outputs:
            return "no outputs (no rule matched, and there is no Default)"
        return "; ".join(_outputs_text(o) for o in outputs)
    kind = type(outputs)
    return ", ".join(
        f"{k.replace('__', '.') if _in_structure(kind, k) else k} = {value_text(v)}"
        for k, v in outputs._asdict().items()
    )


def _in_structure(kind: type, field: str) -> bool:
    """Whether FIELD of the generated Outputs KIND is a path output (`rgb__red`,
    written `rgb.red`): its class gives the structure `rgb` as a property."""
    root, _, rest = field.partition("__")
    return bool(rest) and isinstance(getattr(kind, root, None), property)


def to_json(value: Any) -> Any:
    """VALUE as JSON values: dates as ISO text, named tuples as objects (the path
    outputs of an Outputs, `rgb__red`, as the nested object `"rgb": {"red": ...}`
    that its property gives)."""
    if hasattr(value, "_asdict"):
        found: dict[str, Any] = {}
        kind = type(value)
        for key, item in value._asdict().items():
            if not _in_structure(kind, key):
                found[key] = to_json(item)
            elif (root := key.partition("__")[0]) not in found:
                found[root] = to_json(getattr(value, root))
        return found
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [to_json(v) for v in value]
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return _iso_duration(value)
    if isinstance(value, YearsMonths) or type(value).__name__ == "YearsMonths":
        # also another copy of this runtime's: the compiler's to_json reads the
        # results of the generated packages it loads (serve, eval)
        return str(value)
    return value


def _iso_duration(value: datetime.timedelta) -> str:
    """`P14D`, `PT12H`, `-P1DT6H` (compiler.timetypes.iso_duration, shipped here)."""
    sign = "-" if value < datetime.timedelta(0) else ""
    value = abs(value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if seconds or value.microseconds:
        clock += f"{seconds}.{value.microseconds:06d}".rstrip("0").rstrip(".") + "S"
    text = (
        "P" + (f"{value.days}D" if value.days else "") + ("T" + clock if clock else "")
    )
    return sign + (text if text != "P" else "PT0S")


def explain_table(
    table: str,
    hit_policy: str,
    rules: Sequence[Rule],
    versions: Sequence[Version],
    explained: Sequence[VersionData],
    values: Mapping[str, object],
    as_of: datetime.date | None,
    required: tuple[tuple[str, Explanation[Any]], ...],
) -> Explanation[Any]:
    """The explanation of TABLE on VALUES (every input of the version in force, by
    name, `from` inputs included), as the generated `explain` asks for it. RULES is
    the module's RULES (every version's, in order); VERSIONS its _FRAME_VERSIONS and
    EXPLAINED its _EXPLAIN, one entry per version."""
    number = _in_force(table, versions, as_of)
    version = versions[number]
    sheet, title, source, notes, words, rule_data = explained[number]
    offset = sum(len(v[5]) for v in explained[:number])
    columns = version.columns
    # The checked path's masks: InputError for the first bad input, in column order.
    masks = [column.mask(values[column.name]) for column in columns]
    mask = (1 << version.n) - 1
    for column_mask in masks:
        mask &= column_mask
    result = version.decide(mask)  # the same Result as evaluate (or its error)
    winners = set(result.matched)
    found = []
    for position, (rule_id, k, entries) in enumerate(rule_data):
        rule = rules[offset + position]
        assert rule.id == rule_id, (rule.id, rule_id)
        bit = 1 << (version.n - 1 - k)
        checked = [
            Entry(
                columns[shown[0] if shown else c].name,
                values[columns[shown[0] if shown else c].name],
                _words(words[w], bool(masks[c] & bit)),
                f"{sheet}!{cell}",
                columns[shown[0] if shown else c].type,
            )
            for c, cell, w, *shown in entries
        ]
        annotations = tuple(
            (n, t) for n, t in zip(notes, rule.annotations, strict=False) if t
        )
        if mask & bit:
            status = DECIDED if rule.id in winners else OUTRANKED
            found.append(
                RuleExplanation(
                    rule.id, rule.location, status, tuple(checked), None, annotations
                )
            )
            continue
        first = next(
            e for (c, *_), e in zip(entries, checked, strict=True) if not masks[c] & bit
        )
        found.append(
            RuleExplanation(rule.id, rule.location, REJECTED, (), first, annotations)
        )
    # a list's quantified columns are said through the list (`passes any(...)`)
    instead = {c for _, _, data in rule_data for c, _, _, *over in data if over}
    shown = [c for i, c in enumerate(columns) if i not in instead]
    return Explanation(
        table,
        hit_policy,
        VersionInForce(
            sheet, version.effective_from, version.effective_to, title, source
        ),
        as_of,
        tuple((c.name, values[c.name]) for c in shown),
        result,
        tuple(found),
        required,
        tuple(c.type for c in shown),
    )


def _words(words: tuple[str, str], passes: bool) -> str:
    relation, text = words
    return f"{RELATIONS[relation][0 if passes else 1]} {text}"


def _in_force(
    table: str, versions: Sequence[Version], as_of: datetime.date | None
) -> int:
    """The position of the version in force on AS_OF: the first whose dates hold it
    (the order of evaluate's checks). AS_OF is None for tables without dates."""
    for number, version in enumerate(versions):
        if as_of is None:
            return number
        start, end = version.effective_from, version.effective_to
        if (start is None or start <= as_of) and (end is None or as_of <= end):
            return number
    assert as_of is not None
    raise NoVersionError(table, as_of)
