"""Random decision tables built straight into the model, for property tests of the
generated evaluators against the reference interpreter (`compiler.interpret`).

Entries are written as cell text and parsed by `cells.parse_unary_tests`, so they are
exactly what an author could type; tables skip the workbook and the static analysis
(overlapping UNIQUE rules are kept on purpose: the evaluator must raise).
"""

from __future__ import annotations

import datetime as dt
import math
import types
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from compiler.diagnostics import Location
from compiler.emitting import codegen
from compiler.emitting.loader import load_table
from compiler.model import (
    Aggregation,
    Column,
    ColumnKind,
    DataType,
    Decision,
    HitPolicy,
    Project,
    Rule,
    Table,
    Value,
)
from compiler.reading.cells import (
    parse_literal,
    parse_unary_tests,
    parse_values,
    tests_match,
)


@dataclass(frozen=True)
class Kind:
    """An input column type, its Values cell, entries to draw from, and inputs."""

    type: DataType
    values: str | None
    entries: tuple[str, ...]
    inputs: tuple[Any, ...]  # valid and invalid, None included


D = dt.date
KINDS = {
    "modality": Kind(
        DataType.STRING,
        "CT, MRI, PET",
        ("CT", "MRI", "CT, PET", "not(CT)", "null", "not(null)", "not(MRI, null)"),
        ("CT", "MRI", "PET", None, "XR", "ct", 1, True),
    ),
    "area": Kind(
        DataType.STRING,
        None,
        ("Head", "Spine", "Head, Neck", "not(Head)", "null", "not(null)"),
        ("Head", "Neck", "Spine", "Knee", "", None, 3, b"Head"),
    ),
    "cpt": Kind(
        DataType.CODE,
        None,
        (
            "70450",
            "[70450..70460]",
            "M54*",
            "not(M54*, 0042T)",
            "(70455..70470]",
            "0042T",
        ),
        (
            "70450",
            "70455",
            "70460",
            "70461",
            "7045",
            "M54",
            "M54.5",
            "0042T",
            "",
            None,
            70450,
        ),
    ),
    "cpt_listed": Kind(
        DataType.CODE,
        "[70450..70498], 0042T, M54*",
        ("70450", "[70450..70460]", "M54.*", "not(0042T)", "M54*"),
        (
            "70450",
            "70460",
            "70498",
            "70499",
            "0042T",
            "M54",
            "M54.5",
            "M55",
            None,
            "7045",
        ),
    ),
    "age": Kind(
        DataType.INTEGER,
        "[0..130]",
        (
            "< 18",
            "<= 18",
            "> 65",
            ">= 65",
            "[18..64]",
            "(18..64)",
            "18",
            "18, 30",
            "not([0..17])",
            "null",
        ),
        (-1, 0, 17, 18, 19, 30, 64, 65, 66, 130, 131, None, 18.0, True, "18"),
    ),
    "count": Kind(
        DataType.INTEGER,
        None,
        ("< 0", "0", "[1..3]", "> 3", "not(2)", "null"),
        (-(2**70), -1, 0, 1, 2, 3, 4, 2**70, None, 2.0, False),
    ),
    "bmi": Kind(
        DataType.NUMBER,
        None,
        ("< 18.5", ">= 30", "[18.5..25)", "30", "not(< 18.5)", "(25..30]", "null"),
        (
            18.4,
            18.5,
            18.500000000000004,
            25,
            25.0,
            29.99,
            30,
            30.0,
            31.5,
            -math.inf,
            math.inf,
            math.nan,
            None,
            True,
            "30",
        ),
    ),
    "gfr": Kind(
        DataType.NUMBER,
        "[0..200]",
        ("< 30", ">= 30", "[30..60)", "not(< 15)"),
        (0, 0.0, 14.9, 15, 29.999, 30, 60, 200, 200.5, -0.1, math.nan, math.inf, None),
    ),
    "urgent": Kind(
        DataType.BOOLEAN,
        None,
        ("true", "false", "null", "not(true)", "not(null)"),
        (True, False, None, 1, 0, "true"),
    ),
    "seen": Kind(
        DataType.DATE,
        None,
        (
            "< 2025-01-01",
            "[2025-01-01..2025-06-30]",
            "2025-03-01",
            "not(null)",
            "> 2025-06-30",
        ),
        (
            D(2024, 12, 31),
            D(2025, 1, 1),
            D(2025, 3, 1),
            D(2025, 6, 30),
            D(2025, 7, 1),
            D.min,
            D.max,
            None,
            dt.datetime(2025, 1, 1),
            "2025-01-01",
        ),
    ),
    # version 2 of the workbook format: the time types, ordered like numbers
    "wait": Kind(
        DataType.DURATION,
        None,
        ("< 14 days", ">= 2 weeks", "[3 days..P14D)", "P1D", "not(null)", "null"),
        (
            dt.timedelta(days=1),
            dt.timedelta(days=3),
            dt.timedelta(days=13, hours=23),
            dt.timedelta(days=14),
            dt.timedelta(days=15),
            -dt.timedelta(days=1),
            dt.timedelta.max,
            None,
            1,
            "P1D",
        ),
    ),
    "clock": Kind(
        DataType.TIME,
        "[06:00..22:00]",
        ("< 08:00", "[08:00..18:00]", "> 18:00", "12:00", "not(null)"),
        (
            dt.time(6),
            dt.time(7, 59, 59),
            dt.time(8),
            dt.time(12),
            dt.time(18),
            dt.time(18, 0, 0, 1),
            dt.time(22),
            dt.time(23),
            None,
            dt.time(8, tzinfo=dt.UTC),
            "08:00",
        ),
    ),
    "booked": Kind(
        DataType.DATETIME,
        None,
        (
            "< 2025-01-01T00:00",
            ">= 2025-06-30T12:00",
            "[2025-01-01T00:00..2025-02-01T00:00)",
        ),
        (
            dt.datetime(2024, 12, 31, 23, 59),
            dt.datetime(2025, 1, 1),
            dt.datetime(2025, 1, 31, 23),
            dt.datetime(2025, 2, 1),
            dt.datetime(2025, 6, 30, 12),
            dt.datetime.max,
            None,
            D(2025, 1, 1),
            dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        ),
    ),
}

POLICIES = (
    "FIRST",
    "UNIQUE",
    "PRIORITY",
    "ANY",
    "COLLECT",
    "RULE ORDER",
    "OUTPUT ORDER",
    "C+",
    "C<",
    "C>",
    "C#",
)
LEVELS = ("high", "medium", "low")
HERE = Location("tables/random.xlsx", "Random")


@dataclass(frozen=True)
class Case:
    table: Table
    project: Project


def _column(name: str, kind: Kind) -> Column:
    values = parse_values(kind.values, kind.type) if kind.values else None
    return Column(name, ColumnKind.INPUT, kind.type, HERE.at("B8"), values=values)


def build_table(
    names: list[str], policy: str, rows: list[tuple[list[str], tuple[Any, Any]]]
) -> Case:
    inputs = tuple(_column(n, KINDS[n]) for n in names)
    level = Column(
        "level",
        ColumnKind.OUTPUT,
        DataType.STRING,
        HERE.at("X8"),
        values=parse_values("high, medium, low", DataType.STRING),
    )
    points = Column("points", ColumnKind.OUTPUT, DataType.INTEGER, HERE.at("Y8"))
    aggregation = {
        "C+": Aggregation.SUM,
        "C<": Aggregation.MIN,
        "C>": Aggregation.MAX,
        "C#": Aggregation.COUNT,
    }.get(policy)
    hit_policy = HitPolicy.COLLECT if aggregation else HitPolicy(policy)
    rules = []
    for i, (cells, (level_value, points_value)) in enumerate(rows, start=1):
        entries = tuple(
            parse_unary_tests(text, c.type)
            for text, c in zip(cells, inputs, strict=True)
        )
        rules.append(
            Rule(
                f"R{i}",
                entries,
                (level_value, points_value),
                (),
                HERE.at(f"A{8 + i}:Z{8 + i}"),
                tuple(f"B{8 + i}" for _ in inputs),
                ("X", "Y"),
            )
        )
    outputs = (points,) if aggregation else (level, points)
    if aggregation:  # aggregations add numbers only
        rules = [
            Rule(r.id, r.inputs, r.outputs[1:], (), r.location, r.input_cells, ("Y",))
            for r in rules
        ]
    table = Table(
        "random_table", hit_policy, aggregation, inputs, outputs, (), tuple(rules), HERE
    )
    project = Project(
        (Decision("random_table", (table,)),), (), ("tables/random.xlsx",)
    )
    return Case(table, project)


@st.composite
def tables(
    draw: st.DrawFn, max_rules: int = 12, policies: tuple[str, ...] = POLICIES
) -> Case:
    names = draw(
        st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=4, unique=True)
    )
    policy = draw(st.sampled_from(policies))
    count = draw(st.integers(0, max_rules))
    rows = []
    for _ in range(count):
        cells = [draw(st.sampled_from(("-", *KINDS[n].entries))) for n in names]
        outputs = (
            draw(st.sampled_from((*LEVELS, None))),
            draw(st.sampled_from((1, 2, 5, None))),
        )
        rows.append((cells, outputs))
    return build_table(names, policy, rows)


def inputs_for(case: Case) -> st.SearchStrategy[dict[str, Value]]:
    return st.fixed_dictionaries(
        {c.name: st.sampled_from(KINDS[c.name].inputs) for c in case.table.inputs}
    )


_PYTHON = {
    DataType.STRING: (str,),
    DataType.CODE: (str,),
    DataType.INTEGER: (int,),
    DataType.NUMBER: (int, float),
    DataType.BOOLEAN: (bool,),
    DataType.DATE: (dt.date,),
    DataType.DURATION: (dt.timedelta,),
    DataType.TIME: (dt.time,),
    DataType.DATETIME: (dt.datetime,),
}


def valid(column: Column, value: Value) -> bool:
    """What `evaluate` accepts: None or NaN (missing), or exactly the column's type
    and inside Values."""
    if value is None or (isinstance(value, float) and value != value):
        return True
    if type(value) not in _PYTHON[column.type]:
        return False
    if getattr(value, "tzinfo", None) is not None:  # version 2: naive times only
        return False
    return column.values is None or tests_match(column.values, value)


def module(case: Case) -> types.ModuleType:
    return load_table(codegen.generate(case.project, formatted=False), "random_table")


def parse(text: str, type_: DataType) -> Value:
    return parse_literal(text, type_)
