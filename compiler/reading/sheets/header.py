"""The top of a decision-table sheet: its name in B1, then the metadata rows (hit
policy, title, source, the version dates, complete) down to the Rule row."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from compiler.diagnostics import CellError
from compiler.model import Aggregation, DataType, HitPolicy
from compiler.reading import cells
from compiler.reading.sheets.common import (
    Reader,
    suggest,
    table_name_problem,
)
from compiler.reading.workbook import RawSheet, ref

_HIT_POLICIES: dict[str, tuple[HitPolicy, Aggregation | None]] = {
    "UNIQUE": (HitPolicy.UNIQUE, None),
    "U": (HitPolicy.UNIQUE, None),
    "FIRST": (HitPolicy.FIRST, None),
    "F": (HitPolicy.FIRST, None),
    "PRIORITY": (HitPolicy.PRIORITY, None),
    "P": (HitPolicy.PRIORITY, None),
    "ANY": (HitPolicy.ANY, None),
    "A": (HitPolicy.ANY, None),
    "COLLECT": (HitPolicy.COLLECT, None),
    "C": (HitPolicy.COLLECT, None),
    "COLLECT SUM": (HitPolicy.COLLECT, Aggregation.SUM),
    "C+": (HitPolicy.COLLECT, Aggregation.SUM),
    "COLLECT MIN": (HitPolicy.COLLECT, Aggregation.MIN),
    "C<": (HitPolicy.COLLECT, Aggregation.MIN),
    "COLLECT MAX": (HitPolicy.COLLECT, Aggregation.MAX),
    "C>": (HitPolicy.COLLECT, Aggregation.MAX),
    "COLLECT COUNT": (HitPolicy.COLLECT, Aggregation.COUNT),
    "C#": (HitPolicy.COLLECT, Aggregation.COUNT),
    "RULE ORDER": (HitPolicy.RULE_ORDER, None),
    "R": (HitPolicy.RULE_ORDER, None),
    "OUTPUT ORDER": (HitPolicy.OUTPUT_ORDER, None),
    "O": (HitPolicy.OUTPUT_ORDER, None),
}
_METADATA = (
    "hit policy",
    "title",
    "source",
    "effective from",
    "effective to",
    "complete",
)


@dataclass
class Metadata:
    """The metadata rows of a decision table sheet, as read so far."""

    hit_policy: HitPolicy = HitPolicy.UNIQUE
    aggregation: Aggregation | None = None
    title: str = ""
    source: str = ""
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    complete: bool = True
    cells: dict[str, str] = field(default_factory=dict)  # label -> value cell


def read_name(reader: Reader, sheet: RawSheet) -> str | None:
    """The table name in B1; None (reported) when it is missing or unusable."""
    loc = sheet.location
    name = reader.text(sheet, 1, 2)
    if not name:
        reader.error(
            "E101",
            "the table has no name",
            loc.at("B1"),
            hint="write a snake_case name in B1",
        )
        return None
    problem = table_name_problem(name)
    if problem:
        reader.error(
            "E101", f"invalid table name {name!r}", loc.at("B1"), name, problem
        )
        return None
    return name


def read_metadata(reader: Reader, sheet: RawSheet, header: int) -> Metadata:
    """The rows between B1 and the Rule row HEADER; unknown and bad rows are
    reported and leave their defaults."""
    meta = Metadata()
    seen: set[str] = set()
    for row in range(2, header):
        label = reader.text(sheet, row, 1).lower().rstrip(":")
        if not label:
            continue
        at = sheet.location.at(ref(row, 2))
        raw = sheet.value(row, 2)
        text = reader.text(sheet, row, 2)
        if label not in _METADATA:
            reader.warn(
                "W102",
                f"unknown metadata row {label!r} is ignored",
                sheet.location.at(ref(row, 1)),
                hint=suggest(label, _METADATA) or f"known rows: {', '.join(_METADATA)}",
            )
            continue
        if label in seen:
            reader.error(
                "E102",
                f"the metadata row {label!r} appears twice",
                sheet.location.at(ref(row, 1)),
            )
            continue
        seen.add(label)
        meta.cells[label] = ref(row, 2)
        if label == "hit policy":
            key = re.sub(r"\s+", " ", text.upper())
            if key not in _HIT_POLICIES:
                reader.error(
                    "E105",
                    f"unknown hit policy {text!r}",
                    at,
                    raw,
                    suggest(key, [k for k in _HIT_POLICIES if len(k) > 2])
                    or "use UNIQUE, FIRST, PRIORITY, ANY, COLLECT (SUM, MIN, MAX, "
                    "COUNT), RULE ORDER or OUTPUT ORDER",
                )
                continue
            meta.hit_policy, meta.aggregation = _HIT_POLICIES[key]
        elif label.startswith("effective"):
            if raw is None:
                continue
            try:
                value = cells.parse_literal(raw, DataType.DATE, allow_null=False)
            except CellError as exc:
                reader.cell_error(exc, at, raw)
                continue
            assert isinstance(value, dt.date)
            if label == "effective from":
                meta.effective_from = value
            else:
                meta.effective_to = value
        elif label == "complete":
            if text.lower() not in ("yes", "true", "no", "false"):
                reader.error(
                    "E107", f"Complete must be yes or no, not {text!r}", at, raw
                )
                continue
            meta.complete = text.lower() in ("yes", "true")
        elif label == "title":
            meta.title = text
        else:
            meta.source = text
    start, end = meta.effective_from, meta.effective_to
    if start and end and end < start:
        reader.error(
            "E108",
            f"Effective to ({end}) is before Effective from ({start})",
            sheet.location.at(meta.cells["effective to"]),
        )
    return meta
