"""Benchmark tables: random rules over five inputs, written for every engine.

One `Spec` (rules as plain data) becomes: a compile-rules workbook, a hand-written
style if/elif reference evaluator, a zen-engine JSON decision model (JDM) and a
pyDMNrules workbook. The inputs mirror a prior-authorization table: two strings with
Values lists, an integer (age), a number (BMI) and a boolean.

Only constructs that every engine reads the same way are generated: value lists,
comparisons, closed ranges, booleans and `-`; inputs are never null.
"""

from __future__ import annotations

import datetime as dt
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


# -- version 2: a claim table using the version-2 features, and its scalar twin ----------------
#
# Each rule tests five columns. In the version-2 table they are computed by the
# evaluator from the claim as it arrives (six dates and a list of codes); in its scalar
# twin they are the numbers and codes a caller would compute before the call, tested
# with the same entries (version-1 types only). Both tables have the same rules, in
# the same order, under FIRST, so on every claim they decide by the same rule.

DIAGNOSES = ("M54", "M51", "M48", "M47", "S32", "G89")  # ICD-10 categories
CLAIM_DECISIONS = ("approve", "pend", "deny", "refer")
# days since the last CT: [low, high), None unbounded
_CT_GAPS: tuple[tuple[int | None, int | None], ...] = (
    (None, 14),
    (14, 30),
    (30, 90),
    (90, None),
)
XRAY_WINDOW = 14  # days before the date of service


@dataclass(frozen=True)
class ClaimRule:
    id: str
    age: tuple[int | None, int | None]  # closed [low, high] years; None unbounded
    ct_gap: int | None  # index into _CT_GAPS; None: any
    xray: int | None  # 0 within the window, 1 older, 2 after the service; None: any
    diagnoses: tuple[str, ...]  # categories, any of which; (): any
    expiry: bool | None  # True: not expired at the date of service; None: any
    decision: str


@dataclass(frozen=True)
class ClaimSpec:
    name: str  # the version-2 table; its scalar twin is `<name>_scalar`
    rules: tuple[ClaimRule, ...]

    @property
    def scalar_name(self) -> str:
        return f"{self.name}_scalar"


def claim_table(n: int, seed: int = 5) -> ClaimSpec:
    """N FIRST rules over a claim, as `first_table` draws them: N-1 distinct boxes of
    age band x days since the last CT x X-ray recency x diagnosis category x
    authorization status (10 x 4 x 3 x 6 x 2 = 1,440), one in five naming a second
    category and one in eight widened to `-` in one column, then a catch-all."""
    rnd = random.Random(seed)
    cells = [
        (g, c, x, d, e)
        for g in range(len(_AGES))
        for c in range(len(_CT_GAPS))
        for x in range(3)
        for d in range(len(DIAGNOSES))
        for e in (True, False)
    ]
    assert n - 1 <= len(cells), f"at most {len(cells) + 1} rules"
    rules = []
    for i, (g, c, x, d, e) in enumerate(rnd.sample(cells, n - 1)):
        age: tuple[int | None, int | None] = _AGES[g]
        ct_gap: int | None = c
        xray: int | None = x
        diagnoses: tuple[str, ...] = (DIAGNOSES[d],)
        if rnd.random() < 0.2:
            other = rnd.choice([y for y in DIAGNOSES if y != DIAGNOSES[d]])
            diagnoses = (DIAGNOSES[d], other)
        expiry: bool | None = e
        if rnd.random() < 0.125:
            wide = rnd.randrange(5)
            if wide == 0:
                age = (None, None)
            elif wide == 1:
                ct_gap = None
            elif wide == 2:
                xray = None
            elif wide == 3:
                diagnoses = ()
            else:
                expiry = None
        decision = rnd.choice(CLAIM_DECISIONS)
        rules.append(
            ClaimRule(f"R{i + 1}", age, ct_gap, xray, diagnoses, expiry, decision)
        )
    rules.append(ClaimRule(f"R{n}", (None, None), None, None, (), None, "pend"))
    return ClaimSpec(f"claim_{n}", tuple(rules))


def _closed(low: Any, high: Any, unit: str = "") -> str:
    if low is None and high is None:
        return "-"
    if low is None:
        return f"<= {high}{unit}"
    if high is None:
        return f">= {low}{unit}"
    return f"[{low}{unit}..{high}{unit}]"


def _half_open(band: tuple[int | None, int | None], unit: str = "") -> str:
    low, high = band
    if low is None:
        return f"< {high}{unit}"
    if high is None:
        return f">= {low}{unit}"
    return f"[{low}{unit}..{high}{unit})"


# The columns of the version-2 table: (name, kind, type, expression).
CLAIM_COLUMNS = (
    ("date_of_service", "required input", "date", None),
    ("date_of_birth", "input", "date", None),
    ("last_ct", "input", "date", None),
    (
        "age",
        "computed",
        "integer",
        "years and months duration(date_of_birth, date_of_service).years",
    ),
    ("since_last_ct", "computed", "duration", "date_of_service - last_ct"),
    ("xray_date", "input", "date", None),
    ("diagnosis_codes", "input", "list of code", None),
    ("authorization_expires", "input", "date", None),
    ("decision", "output", "string", None),
    (
        "days_left",
        "computed output",
        "integer",
        "(authorization_expires - date_of_service).days",
    ),
)
# The scalar twin's: the values of the columns the rules test, computed by the caller.
SCALAR_COLUMNS = (
    ("age", "input", "integer", f"[0..{AGE_MAX}]"),
    ("days_since_ct", "input", "integer", None),
    ("xray_age_days", "input", "integer", None),
    ("diagnosis_category", "input", "code", ", ".join(DIAGNOSES)),
    ("days_to_expiry", "input", "integer", None),
    ("decision", "output", "string", ", ".join(CLAIM_DECISIONS)),
    ("days_left", "output", "integer", None),
)
CLAIM_INPUTS = tuple(c[0] for c in CLAIM_COLUMNS if c[1].endswith("input"))
SCALAR_INPUTS = tuple(c[0] for c in SCALAR_COLUMNS if c[1] == "input")


def _claim_cells(rule: ClaimRule) -> list[Any]:
    """The version-2 rule: age and the CT gap are computed columns, the X-ray date
    and the expiry entries name the date of service, the codes a list."""
    xray = {
        None: "-",
        0: f"[date_of_service - {XRAY_WINDOW} days..date_of_service]",
        1: f"< date_of_service - {XRAY_WINDOW} days",
        2: "> date_of_service",
    }[rule.xray]
    expiry = {None: "-", True: ">= date_of_service", False: "< date_of_service"}
    codes = ", ".join(f"{d}.*" for d in rule.diagnoses)
    return [
        rule.id,
        "-",
        "-",
        "-",
        _closed(*rule.age),
        "-" if rule.ct_gap is None else _half_open(_CT_GAPS[rule.ct_gap], " days"),
        xray,
        f"any({codes})" if codes else "-",
        expiry[rule.expiry],
        rule.decision,
        "(authorization_expires - date_of_service).days",
    ]


def _scalar_cells(rule: ClaimRule, index: int) -> list[Any]:
    xray = {None: "-", 0: f"[0..{XRAY_WINDOW}]", 1: f"> {XRAY_WINDOW}", 2: "< 0"}
    expiry = {None: "-", True: ">= 0", False: "< 0"}
    return [
        rule.id,
        _closed(*rule.age),
        "-" if rule.ct_gap is None else _half_open(_CT_GAPS[rule.ct_gap]),
        xray[rule.xray],
        ", ".join(rule.diagnoses) or "-",
        expiry[rule.expiry],
        rule.decision,
        index % 7,
    ]


def _header(
    name: str, columns: tuple[tuple[str, str, str, str | None], ...], values: bool
) -> list[list[Any]]:
    rows: list[list[Any]] = [
        ["Decision table", name],
        ["Hit policy", "FIRST"],
        ["Complete", "no"],
        [],
        ["Rule", *(c[0] for c in columns)],
        ["Kind", *(c[1] for c in columns)],
        ["Type", *(c[2] for c in columns)],
    ]
    label = "Values" if values else "Expression"
    computed = [None if c[1] == "computed output" else c[3] for c in columns]
    rows.append([label, *computed])
    return rows


def claim_sheet_rows(spec: ClaimSpec) -> list[list[Any]]:
    """The version-2 table, in the workbook format of docs/workbook-format.md."""
    return [
        *_header(spec.name, CLAIM_COLUMNS, values=False),
        *(_claim_cells(r) for r in spec.rules),
    ]


def scalar_sheet_rows(spec: ClaimSpec) -> list[list[Any]]:
    """Its scalar twin: the same rules over the values the caller computes."""
    return [
        *_header(spec.scalar_name, SCALAR_COLUMNS, values=True),
        *(_scalar_cells(r, i) for i, r in enumerate(spec.rules)),
    ]


def claim_inputs(count: int, seed: int = 6) -> list[dict[str, Any]]:
    """COUNT claims: a date of service in 2025, an age of 0 to 120 years, the last
    CT up to 200 days before, an X-ray from 40 days before to 5 after, one to three
    codes of one category, an authorization that expired up to 30 days before or
    expires up to 90 after."""
    rnd = random.Random(seed)
    found = []
    for _ in range(count):
        service = dt.date(2025, 1, 1) + dt.timedelta(days=rnd.randrange(365))
        category = rnd.choice(DIAGNOSES)
        codes = [
            f"{category}.{rnd.randrange(10)}{rnd.choice(('', '6', '9'))}"
            for _ in range(rnd.randint(1, 3))
        ]
        found.append(
            {
                "date_of_service": service,
                "date_of_birth": service - dt.timedelta(days=rnd.randrange(43800)),
                "last_ct": service - dt.timedelta(days=rnd.randrange(200)),
                "xray_date": service + dt.timedelta(days=rnd.randint(-40, 5)),
                "diagnosis_codes": codes,
                "authorization_expires": service
                + dt.timedelta(days=rnd.randint(-30, 90)),
            }
        )
    return found


def scalar_inputs(claim: dict[str, Any]) -> dict[str, Any]:
    """The scalar twin's inputs for CLAIM: what a caller computes before the call."""
    service, born = claim["date_of_service"], claim["date_of_birth"]
    before = (service.month, service.day) < (born.month, born.day)
    return {
        "age": service.year - born.year - before,
        "days_since_ct": (service - claim["last_ct"]).days,
        "xray_age_days": (service - claim["xray_date"]).days,
        "diagnosis_category": claim["diagnosis_codes"][0].split(".")[0],
        "days_to_expiry": (claim["authorization_expires"] - service).days,
    }


# -- a chain: a table reading another's output (a `from` column) --------------------------------

URGENCIES = ("routine", "expedited")


def route_sheet_rows(spec: Spec, alone: bool = False) -> list[list[Any]]:
    """A routing table over SPEC's `decision` (a `from` column reading SPEC's table)
    and an urgency: the chain's second table. ALONE: the same table with `decision`
    a plain input, to evaluate the chain's parts separately."""
    name = f"route_{spec.name}" + ("_alone" if alone else "")
    kind = "input" if alone else f"from {spec.name}"
    rows: list[list[Any]] = [
        ["Decision table", name],
        ["Hit policy", "UNIQUE"],
        [],
        ["Rule", "decision", "urgency", "queue"],
        ["Kind", kind, "input", "output"],
        ["Type", "string", "string", "string"],
        ["Values", ", ".join(DECISIONS), ", ".join(URGENCIES), None],
    ]
    for i, (d, p) in enumerate((d, p) for d in DECISIONS for p in URGENCIES):
        rows.append([f"R{i + 1}", d, p, f"{d}-{p}"])
    return rows


def write_sheets(path: Path, sheets: dict[str, list[list[Any]]]) -> None:
    """A workbook of SHEETS (title -> rows)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title[:31])
        for row in rows:
            sheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
