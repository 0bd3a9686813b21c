"""How the static analysis scales: tables of 1,000, 4,000 and 16,384 rules.

    python bench/analysis.py [--sizes 1000 4000 16384] [--seed 7]

Each table has 8 input columns of mixed types (strings with Values lists, integers,
numbers, dates, a boolean, codes) and is built like a real policy table: the domain is
cut by a random decision tree into as many boxes as there are rules, one rule per box,
with `-`, lists, `not(...)`, comparisons and ranges as the box needs. Then a few rules
are dropped (gaps) and a few are copied with one entry widened to `-` (overlaps), so
the analysis has something to find. The same rules are timed under UNIQUE and, with a
catch-all rule appended, under FIRST.

Prints the seconds per table and the growth exponent between sizes (the slope of
log(time) against log(rules): 1 is linear, 2 quadratic).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compiler.checking import analyse  # noqa: E402
from compiler.diagnostics import Location  # noqa: E402
from compiler.model import (  # noqa: E402
    Column,
    ColumnKind,
    Compare,
    DataType,
    Decision,
    Equals,
    HitPolicy,
    Interval,
    Project,
    Rule,
    Table,
    Test,
    UnaryTests,
)

WHERE = Location("bench.xlsx", "Bench")
MODALITIES = [
    "CT",
    "MRI",
    "US",
    "PET",
    "XR",
    "NM",
    "MG",
    "DXA",
    "FL",
    "IR",
    "ECHO",
    "OTHER",
]
SETTINGS = ["inpatient", "outpatient", "emergency", "home", "hospice", "telehealth"]
START = dt.date(2020, 1, 1)


@dataclass(frozen=True)
class Spec:
    """A column of the generated tables and its domain for the tree to cut."""

    name: str
    type: DataType
    values: UnaryTests | None
    low: int = 0  # ordered columns: the stretch the tree cuts (integer positions)
    high: int = 0
    bounded: bool = True  # False: the column ranges over its whole type


SPECS = [
    Spec("modality", DataType.STRING, UnaryTests(tuple(Equals(m) for m in MODALITIES))),
    Spec("age", DataType.INTEGER, UnaryTests((Interval(0, 130),)), 0, 131),
    Spec("bmi", DataType.NUMBER, UnaryTests((Interval(10.0, 60.0),)), 100, 600),
    Spec("service_date", DataType.DATE, None, 0, 3650, bounded=False),
    Spec("contrast", DataType.BOOLEAN, None),
    Spec("cpt", DataType.CODE, UnaryTests((Interval("70000", "79999"),)), 70000, 80000),
    Spec("setting", DataType.STRING, UnaryTests(tuple(Equals(s) for s in SETTINGS))),
    Spec("score", DataType.INTEGER, None, 0, 100, bounded=False),
]

Box = list[object]  # per column: a list of values (strings, booleans) or (low, high)


def full_box() -> Box:
    box: Box = []
    for spec in SPECS:
        if spec.type is DataType.STRING:
            assert spec.values is not None
            box.append([t.value for t in spec.values.tests if isinstance(t, Equals)])
        elif spec.type is DataType.BOOLEAN:
            box.append([True, False])
        else:
            box.append((spec.low, spec.high))
    return box


def split(box: Box, generator: random.Random) -> tuple[Box, Box] | None:
    """Cut BOX in two along a random column that can still be cut."""
    columns = [
        c
        for c, part in enumerate(box)
        if (isinstance(part, list) and len(part) > 1)
        or (isinstance(part, tuple) and part[1] - part[0] > 1)
    ]
    if not columns:
        return None
    c = generator.choice(columns)
    part = box[c]
    if isinstance(part, list):
        shuffled = part[:]
        generator.shuffle(shuffled)
        cut = generator.randint(1, len(shuffled) - 1)
        pieces: tuple[object, object] = (shuffled[:cut], shuffled[cut:])
    else:
        assert isinstance(part, tuple)
        cut = generator.randint(part[0] + 1, part[1] - 1)
        pieces = ((part[0], cut), (cut, part[1]))
    return [*box[:c], pieces[0], *box[c + 1 :]], [*box[:c], pieces[1], *box[c + 1 :]]


def value_at(spec: Spec, position: int) -> int | float | dt.date | str:
    if spec.type is DataType.NUMBER:
        return position / 10
    if spec.type is DataType.DATE:
        return START + dt.timedelta(days=position)
    if spec.type is DataType.CODE:
        return f"{position:05d}"
    return position


def entry(spec: Spec, part: object, whole: object) -> UnaryTests:
    """The unary tests selecting PART of a column whose full stretch is WHOLE."""
    if part == whole:
        return UnaryTests()
    if isinstance(part, list):
        assert isinstance(whole, list)
        rest = [v for v in whole if v not in part]
        if len(rest) < len(part):
            return UnaryTests(tuple(Equals(v) for v in rest), negated=True)
        return UnaryTests(tuple(Equals(v) for v in part))
    assert isinstance(part, tuple) and isinstance(whole, tuple)
    low, high = part
    tests: tuple[Test, ...]
    if not spec.bounded and low == whole[0]:
        tests = (Compare("<", value_at(spec, high)),)
    elif not spec.bounded and high == whole[1]:
        tests = (Compare(">=", value_at(spec, low)),)
    elif high - low == 1 and spec.type is not DataType.NUMBER:
        tests = (Equals(value_at(spec, low)),)
    elif spec.type is DataType.NUMBER:
        last = high == whole[1]  # the top stretch keeps its closed end, 60
        tests = (Interval(value_at(spec, low), value_at(spec, high), True, last),)
    else:
        tests = (Interval(value_at(spec, low), value_at(spec, high - 1)),)
    return UnaryTests(tests)


def columns() -> tuple[Column, ...]:
    return tuple(
        Column(s.name, ColumnKind.INPUT, s.type, WHERE.at("B8"), values=s.values)
        for s in SPECS
    )


def make_rules(size: int, seed: int) -> list[Rule]:
    """SIZE rules: the leaves of a random decision tree, a few dropped, a few
    copied with one entry widened to `-`."""
    generator = random.Random(seed)
    whole = full_box()
    boxes = [whole]
    while len(boxes) < size:
        index = generator.randrange(len(boxes))
        halves = split(boxes[index], generator)
        if halves is None:
            continue
        boxes[index] = halves[0]
        boxes.append(halves[1])
    rules: list[tuple[UnaryTests, ...]] = [
        tuple(
            entry(s, part, full)
            for s, part, full in zip(SPECS, box, whole, strict=True)
        )
        for box in boxes
    ]
    for _ in range(max(1, size // 200)):  # gaps
        rules.pop(generator.randrange(len(rules)))
    for _ in range(max(1, size // 200)):  # overlaps
        widened = list(generator.choice(rules))
        widened[generator.randrange(len(widened))] = UnaryTests()
        rules.insert(generator.randrange(len(rules)), tuple(widened))
    rules = rules[:size] if len(rules) > size else rules
    return [
        Rule(
            f"R{i}",
            entries,
            (generator.choice(("yes", "no")),),
            (),
            WHERE.at(f"A{i + 8}:J{i + 8}"),
            tuple(f"{chr(66 + c)}{i + 8}" for c in range(len(entries))),
            (f"J{i + 8}",),
        )
        for i, entries in enumerate(rules, start=1)
    ]


def make_table(rules: list[Rule], policy: HitPolicy) -> Table:
    output = Column(
        "decision",
        ColumnKind.OUTPUT,
        DataType.STRING,
        WHERE.at("J8"),
        values=UnaryTests((Equals("yes"), Equals("no"))),
    )
    if policy is HitPolicy.FIRST:
        catch_all = Rule(
            "ELSE",
            tuple(UnaryTests() for _ in SPECS),
            ("no",),
            (),
            WHERE.at("A9999:J9999"),
            tuple(f"{chr(66 + c)}9999" for c in range(len(SPECS))),
            ("J9999",),
        )
        rules = [*rules, catch_all]
    return Table("bench", policy, None, columns(), (output,), (), tuple(rules), WHERE)


def timed(table: Table) -> tuple[float, dict[str, int]]:
    """Seconds to analyse TABLE from scratch (atoms, sweep, diagnostics)."""
    analyse.study.cache_clear()
    project = Project((Decision(table.name, (table,)),), (), ())
    started = time.perf_counter()
    found = analyse.analyse(project)
    seconds = time.perf_counter() - started
    facts = analyse.study(table)
    counts = {
        "overlapping pairs": len(facts.overlaps),
        "gap boxes": len(facts.uncovered),
        "unreachable": len(facts.unreachable()),
        "diagnostics": len(found),
    }
    return seconds, counts


def slope(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of log(seconds) against log(rules)."""
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(s) for _, s in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 16384])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print("8 input columns: " + ", ".join(f"{s.name} ({s.type.value})" for s in SPECS))
    for policy in (HitPolicy.UNIQUE, HitPolicy.FIRST):
        points: list[tuple[int, float]] = []
        print(f"\n{policy.value}")
        for size in args.sizes:
            rules = make_rules(size, args.seed)
            table = make_table(rules, policy)
            seconds, counts = timed(table)
            points.append((len(table.rules), seconds))
            found = ", ".join(f"{v} {k}" for k, v in counts.items())
            print(f"  {len(table.rules):6d} rules  {seconds:7.3f} s   ({found})")
        for (n1, t1), (n2, t2) in zip(points, points[1:], strict=False):
            exponent = math.log(t2 / t1) / math.log(n2 / n1)
            print(f"  growth {n1} -> {n2} rules: exponent {exponent:.2f}")
        if len(points) > 1:
            print(f"  growth exponent (log-log slope, all sizes): {slope(points):.2f}")


if __name__ == "__main__":
    main()
