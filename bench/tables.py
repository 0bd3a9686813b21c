"""Benchmark tables: random rules over five inputs, written for every engine.

One `Spec` (rules as plain data) becomes: a compile-rules workbook, a hand-written
style if/elif reference evaluator, a zen-engine JSON decision model (JDM) and a
pyDMNrules workbook. The inputs mirror a prior-authorization table: two strings with
Values lists, an integer (age), a number (BMI) and a boolean.

Only constructs that every engine reads the same way are generated: value lists,
comparisons, closed ranges, booleans and `-`; inputs are never null.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODALITIES = ("CT", "MRI", "PET", "US", "XR", "NM", "MG", "FL")
AREAS = (
    "Head", "Neck", "Chest", "Abdomen", "Pelvis", "Spine",
    "Upper extremity", "Lower extremity", "Heart", "Breast", "Vascular", "Whole body",
)  # fmt: skip
AGE_MAX = 120
DECISIONS = ("approve", "pend", "deny", "refer")
INPUTS = ("modality", "body_area", "age", "bmi", "urgent")


@dataclass(frozen=True)
class Rule:
    id: str
    modality: tuple[str, ...]  # () is any
    body_area: tuple[str, ...]
    age: tuple[int | None, int | None]  # closed [low, high]; None unbounded
    # ("<", 30.0), (">=", 30.0), ("band", 25.0, 30.0) for [25, 30); None: any
    bmi: tuple[Any, ...] | None
    urgent: bool | None
    decision: str
    points: int


@dataclass(frozen=True)
class Spec:
    name: str
    policy: str  # FIRST or UNIQUE
    rules: tuple[Rule, ...]


_AGES = [
    (0, 1),
    (2, 5),
    (6, 11),
    (12, 17),
    (18, 25),
    (26, 39),
    (40, 54),
    (55, 64),
    (65, 79),
    (80, AGE_MAX),
]
_BMI_CUTS = [18.5, 25.0, 30.0, 35.0, 40.0, 45.0, 50.0, 60.0]


def _bmi_band(b: int) -> tuple[Any, ...]:
    """BMI band B of 9: below the first cut, or [cut b-1, cut b) (the last open)."""
    if b == 0:
        return ("<", _BMI_CUTS[0])
    return ("band", _BMI_CUTS[b - 1], _BMI_CUTS[b] if b < len(_BMI_CUTS) else None)


def _cells_of_the_grid() -> list[tuple[int, int, int, int, bool]]:
    """modality x area x age band x BMI band x urgent: 8 x 12 x 10 x 9 x 2 = 17,280."""
    return [
        (m, a, g, b, u)
        for m in range(len(MODALITIES))
        for a in range(len(AREAS))
        for g in range(len(_AGES))
        for b in range(len(_BMI_CUTS) + 1)
        for u in (True, False)
    ]


def first_table(n: int, seed: int = 1) -> Spec:
    """N FIRST rules as prior-authorization tables are written: N-1 specific rules,
    each a distinct box of modality x area x age band x BMI band x urgent (the grid
    the UNIQUE tables are cut from), one in five naming a second modality and one in
    eight widened to `-` in one column, so that rules overlap and their order decides;
    then a catch-all rule. Every rule can decide: inputs drawn uniformly over the
    domain are decided all along the table (on average about half way down it for
    the large tables), not by its first few rules."""
    rnd = random.Random(seed)
    cells = _cells_of_the_grid()
    assert n - 1 <= len(cells), f"at most {len(cells) + 1} rules"
    rules = []
    for i, (m, a, g, b, u) in enumerate(rnd.sample(cells, n - 1)):
        modality: tuple[str, ...] = (MODALITIES[m],)
        if rnd.random() < 0.2:
            other = rnd.choice([x for x in MODALITIES if x != MODALITIES[m]])
            modality = (MODALITIES[m], other)
        area: tuple[str, ...] = (AREAS[a],)
        age: tuple[int | None, int | None] = _AGES[g]
        bmi: tuple[Any, ...] | None = _bmi_band(b)
        urgent: bool | None = u
        if rnd.random() < 0.125:
            wide = rnd.randrange(5)
            if wide == 0:
                modality = ()
            elif wide == 1:
                area = ()
            elif wide == 2:
                age = (None, None)
            elif wide == 3:
                bmi = None
            else:
                urgent = None
        decision = rnd.choice(DECISIONS)
        rules.append(
            Rule(f"R{i + 1}", modality, area, age, bmi, urgent, decision, i % 7)
        )
    rules.append(Rule(f"R{n}", (), (), (None, None), None, None, "pend", 0))
    return Spec(f"first_{n}", "FIRST", tuple(rules))


def unique_table(n: int, seed: int = 2) -> Spec:
    """N disjoint rules: distinct cells of modality x area x age band x BMI band x
    urgent (8 x 12 x 10 x 9 x 2 = 17,280 cells)."""
    rnd = random.Random(seed)
    cells = _cells_of_the_grid()
    assert n <= len(cells), f"at most {len(cells)} disjoint rules"
    rules = []
    for i, (m, a, g, b, u) in enumerate(rnd.sample(cells, n)):
        rules.append(
            Rule(
                f"R{i + 1}",
                (MODALITIES[m],),
                (AREAS[a],),
                _AGES[g],
                _bmi_band(b),
                u,
                rnd.choice(DECISIONS),
                i % 7,
            )
        )
    return Spec(f"unique_{n}", "UNIQUE", tuple(rules))


# -- inputs ----------------------------------------------------------------------------


def random_inputs(count: int, seed: int = 3) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    return [
        {
            "modality": rnd.choice(MODALITIES),
            "body_area": rnd.choice(AREAS),
            "age": rnd.randint(0, AGE_MAX),
            "bmi": round(rnd.uniform(14.0, 62.0), 1),
            "urgent": rnd.random() < 0.5,
        }
        for _ in range(count)
    ]


def random_frame(rows: int, seed: int = 4) -> Any:
    """ROWS random inputs as a DataFrame: strings as category, the fastest pandas
    form for low-cardinality text (object and str columns work too, slower)."""
    import numpy as np
    import pandas as pd

    rnd = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "modality": pd.Categorical.from_codes(  # type: ignore[call-overload]
                rnd.integers(0, len(MODALITIES), rows), categories=list(MODALITIES)
            ),
            "body_area": pd.Categorical.from_codes(  # type: ignore[call-overload]
                rnd.integers(0, len(AREAS), rows), categories=list(AREAS)
            ),
            "age": rnd.integers(0, AGE_MAX + 1, rows),
            "bmi": np.round(rnd.uniform(14.0, 62.0, rows), 1),
            "urgent": rnd.random(rows) < 0.5,
        }
    )


# -- compile-rules workbook ----------------------------------------------------------------


def _cells(rule: Rule) -> list[Any]:
    modality = ", ".join(rule.modality) if rule.modality else "-"
    area = ", ".join(f'"{a}"' for a in rule.body_area) if rule.body_area else "-"
    low, high = rule.age
    if low is None and high is None:
        age = "-"
    elif low is None:
        age = f"<= {high}"
    elif high is None:
        age = f">= {low}"
    else:
        age = f"[{low}..{high}]"
    bmi = "-"
    if rule.bmi and rule.bmi[0] == "band":
        _, lo, hi = rule.bmi
        bmi = f"[{lo}..{hi})" if hi is not None else f">= {lo}"
    elif rule.bmi:
        bmi = f"{rule.bmi[0]} {rule.bmi[1]}"
    urgent = "-" if rule.urgent is None else str(rule.urgent).lower()
    return [rule.id, modality, area, age, bmi, urgent, rule.decision, rule.points]


def sheet_rows(spec: Spec) -> list[list[Any]]:
    """The decision table sheet, in the workbook format of docs/workbook-format.md."""
    return [
        ["Decision table", spec.name],
        ["Hit policy", spec.policy],
        ["Complete", "no"],
        [],
        ["Rule", *INPUTS, "decision", "points"],
        ["Kind", "input", "input", "input", "input", "input", "output", "output"],
        [
            "Type",
            "string",
            "string",
            "integer",
            "number",
            "boolean",
            "string",
            "integer",
        ],
        [
            "Values",
            ", ".join(MODALITIES),
            ", ".join(f'"{a}"' for a in AREAS),
            f"[0..{AGE_MAX}]",
            None,
            None,
            ", ".join(DECISIONS),
            None,
        ],
        *(_cells(r) for r in spec.rules),
    ]


def write_workbook(path: Path, specs: list[Spec]) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for spec in specs:
        sheet = book.create_sheet(spec.name[:31])
        for row in sheet_rows(spec):
            sheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


# -- the if/elif reference -------------------------------------------------------------------


def reference_source(spec: Spec) -> str:
    """The evaluator a programmer would write by hand: one `if` per rule, in order
    (FIRST returns the first match; UNIQUE checks every rule)."""
    lines = [
        "def evaluate(modality, body_area, age, bmi, urgent):",
    ]
    if spec.policy == "UNIQUE":
        lines.append("    found = None")
    for rule in spec.rules:
        conditions = []
        if rule.modality:
            conditions.append(
                f"modality == {rule.modality[0]!r}"
                if len(rule.modality) == 1
                else f"modality in {rule.modality!r}"
            )
        if rule.body_area:
            conditions.append(f"body_area == {rule.body_area[0]!r}")
        low, high = rule.age
        if low is not None:
            conditions.append(f"age >= {low}")
        if high is not None:
            conditions.append(f"age <= {high}")
        if rule.bmi and rule.bmi[0] == "band":
            _, lo, hi = rule.bmi
            conditions.append(f"bmi >= {lo}")
            if hi is not None:
                conditions.append(f"bmi < {hi}")
        elif rule.bmi:
            conditions.append(f"bmi {rule.bmi[0]} {rule.bmi[1]}")
        if rule.urgent is not None:
            conditions.append(f"urgent is {rule.urgent}")
        result = f"({rule.decision!r}, {rule.points}, {rule.id!r})"
        lines.append(f"    if {' and '.join(conditions) or 'True'}:")
        if spec.policy == "FIRST":
            lines.append(f"        return {result}")
        else:
            lines.append("        if found is not None:")
            lines.append("            raise ValueError('UNIQUE violated')")
            lines.append(f"        found = {result}")
    lines.append("    return None" if spec.policy == "FIRST" else "    return found")
    return "\n".join(lines) + "\n"


# -- zen-engine (JDM) ---------------------------------------------------------------------------


def jdm(spec: Spec) -> str:
    """The table as a GoRules JSON decision model: input -> decision table -> output.
    zen has no UNIQUE policy; the UNIQUE tables (disjoint rules) run as `first`."""

    def unary(rule: Rule, column: str) -> str:
        if column == "modality":
            return ", ".join(f'"{m}"' for m in rule.modality)
        if column == "body_area":
            return ", ".join(f'"{a}"' for a in rule.body_area)
        if column == "age":
            low, high = rule.age
            if low is None and high is None:
                return ""
            if low is None:
                return f"<= {high}"
            if high is None:
                return f">= {low}"
            return f"[{low}..{high}]"
        if column == "bmi":
            if rule.bmi is None:
                return ""
            if rule.bmi[0] == "band":
                _, lo, hi = rule.bmi
                return f">= {lo}" if hi is None else f"[{lo}..{hi})"
            return f"{rule.bmi[0]} {rule.bmi[1]}"
        return "" if rule.urgent is None else str(rule.urgent).lower()

    inputs = [{"id": f"i_{c}", "name": c, "field": c} for c in INPUTS]
    outputs = [
        {"id": f"o_{c}", "name": c, "field": c} for c in ("decision", "points", "rule")
    ]
    rules = []
    for rule in spec.rules:
        row = {"_id": rule.id}
        row.update({f"i_{c}": unary(rule, c) for c in INPUTS})
        row["o_decision"] = json.dumps(rule.decision)
        row["o_points"] = str(rule.points)
        row["o_rule"] = json.dumps(rule.id)
        rules.append(row)
    table = {"hitPolicy": "first", "inputs": inputs, "outputs": outputs, "rules": rules}
    model = {
        "nodes": [
            {
                "id": "in",
                "type": "inputNode",
                "name": "request",
                "position": {"x": 0, "y": 0},
            },
            {
                "id": "table",
                "type": "decisionTableNode",
                "name": spec.name,
                "position": {"x": 200, "y": 0},
                "content": table,
            },
            {
                "id": "out",
                "type": "outputNode",
                "name": "response",
                "position": {"x": 400, "y": 0},
            },
        ],
        "edges": [
            {"id": "e1", "sourceId": "in", "targetId": "table", "type": "edge"},
            {"id": "e2", "sourceId": "table", "targetId": "out", "type": "edge"},
        ],
    }
    return json.dumps(model)


# -- pyDMNrules workbook ---------------------------------------------------------------------------


def write_pydmnrules(path: Path, spec: Spec) -> None:
    """pyDMNrules' own layout: a `Decision` sheet naming the table, and the table
    with its name above, the hit policy in the heading's first cell, and a double
    border between the input and the output columns (and under the heading)."""
    from openpyxl import Workbook
    from openpyxl.styles import Border, Side

    double = Side(style="double")
    book = Workbook()
    decision = book.active
    assert decision is not None
    decision.title = "Decision"
    decision.append(["Decision"])
    decision.append(["Decisions", "Execute Decision Tables"])
    decision.append(["Decide", spec.name])
    sheet = book.create_sheet("Rules")
    sheet.append([spec.name])
    names = ["Modality", "BodyArea", "Age", "BMI", "Urgent"]
    outputs = ["Decision", "Points", "RuleId"]
    sheet.append(["F" if spec.policy == "FIRST" else "U", *names, *outputs])
    for i, rule in enumerate(spec.rules, start=1):
        cells = _cells(rule)[1:6]
        cells = [
            ", ".join(f'"{m}"' for m in rule.modality) if rule.modality else "-",
            ", ".join(f'"{a}"' for a in rule.body_area) if rule.body_area else "-",
            cells[2],
            cells[3],
            cells[4],
        ]
        sheet.append([i, *cells, f'"{rule.decision}"', rule.points, f'"{rule.id}"'])
    plain = Side()

    def border(column: int, row: int) -> Border:
        return Border(
            left=double if column == 7 else plain,
            right=double if column == 6 else plain,
            top=plain,
            bottom=double if row == 2 else plain,
        )

    for row in range(2, 3 + len(spec.rules)):
        for column in range(1, 10):
            sheet.cell(row, column).border = border(column, row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


PYDMN_NAMES = {
    "modality": "Modality",
    "body_area": "BodyArea",
    "age": "Age",
    "bmi": "BMI",
    "urgent": "Urgent",
}
