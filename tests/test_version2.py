"""Version 2 of the workbook format end to end (issue 15's done-when).

A workbook written from the new contract alone, one table per feature: a duration
between two dates, a list of ICD-10 codes with a prefix pattern, an age computed from
a date of birth, an entry naming another input, and an output expression. It
compiles, analyses, evaluates, passes its generated tests (the Tests sheets and the
examples), round-trips through `export-dmn` / `import-dmn` unchanged, and its
`evaluate_frame` equals `evaluate` row by row.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from compiler.pipeline import load_tables

from .helpers import (
    compile_books,
    compiled_module,
    errors,
    load_books,
    run_generated_tests,
)
from .test_dmn import run, tables_of
from .test_expressions import EXPIRY, EXPIRY_TESTS, with_expressions
from .workbooks import decision_table, tests_sheet

D = dt.date
DAY = dt.timedelta(days=1)


# durations between dates: a computed duration, compared with `14 days`
CT_GAP = with_expressions(
    decision_table(
        "ct_repeat",
        [
            ("date_of_service", "input", "date", None),
            ("last_ct", "input", "date", None),
            ("since_last_ct", "computed", "duration", None),
            ("repeat_allowed", "output", "boolean", None),
        ],
        [
            ("R1", "-", "-", "< 14 days", False),
            ("R2", "-", "-", ">= 2 weeks", True),
            ("R3", "-", "-", "null", True),
        ],
        hit_policy="UNIQUE",
    ),
    {3: "date_of_service - last_ct"},
)
CT_GAP_TESTS = tests_sheet(
    "ct_repeat",
    [
        ("date_of_service", "input"),
        ("last_ct", "input"),
        ("repeat_allowed", "expected"),
        ("expected rule", "expected rule"),
    ],
    [
        ("T1", "2025-12-18", "2025-12-10", False, "R1"),
        ("T2", "2025-12-18", "2025-12-04", True, "R2"),
        ("T3", "2025-12-18", None, True, "R3"),
    ],
)

# a list of ICD-10 codes with a prefix pattern
SPINE = decision_table(
    "lumbar_mri",
    [
        ("diagnosis_codes", "input", "list of code", None),
        ("weeks_of_therapy", "input", "integer", "[0..104]"),
        ("mri_indicated", "output", "boolean", None),
    ],
    [
        ("R1", "any(M54.*, M51.1*)", ">= 6", True),
        ("R2", "any(M54.*, M51.1*)", "< 6", False),
        ("R3", "none(M54.*, M51.1*)", "-", False),
    ],
    hit_policy="FIRST",
)
SPINE_TESTS = tests_sheet(
    "lumbar_mri",
    [
        ("diagnosis_codes", "input"),
        ("weeks_of_therapy", "input"),
        ("mri_indicated", "expected"),
        ("expected rule", "expected rule"),
    ],
    [
        ("T1", "M54.5, Z00.0", 8, True, "R1"),
        ("T2", "M51.16", 2, False, "R2"),
        ("T3", "[]", 8, False, "R3"),
    ],
)

# an age computed from a date of birth
AGE = with_expressions(
    decision_table(
        "imaging_guidelines",
        [
            ("date_of_service", "input", "date", None),
            ("date_of_birth", "input", "date", None),
            ("age", "computed", "integer", None),
            ("guideline_set", "output", "string", '"Pediatric", "General"'),
        ],
        [
            ("R1", "-", "-", "< 18", "Pediatric"),
            ("R2", "-", "-", ">= 18", "General"),
        ],
        hit_policy="FIRST",
    ),
    {3: "years and months duration(date_of_birth, date_of_service).years"},
)
AGE_TESTS = tests_sheet(
    "imaging_guidelines",
    [
        ("date_of_service", "input"),
        ("date_of_birth", "input"),
        ("guideline_set", "expected"),
        ("expected rule", "expected rule"),
    ],
    [
        ("T1", "2025-12-18", "2010-06-01", "Pediatric", "R1"),
        ("T2", "2025-12-18", "2007-12-18", "General", "R2"),
        ("T3", "2025-12-18", "2007-12-19", "Pediatric", "R1"),
    ],
)

# an entry naming another input
XRAY = decision_table(
    "xray_recent",
    [
        ("date_of_service", "input", "date", None),
        ("xray_date", "input", "date", None),
        ("xray_current", "output", "boolean", None),
    ],
    [
        ("R1", "-", "[date_of_service - 14 days..date_of_service]", True),
        ("R2", "-", "< date_of_service - 14 days", False),
        ("R3", "-", "> date_of_service", False),
    ],
    hit_policy="FIRST",
)
XRAY_TESTS = tests_sheet(
    "xray_recent",
    [
        ("date_of_service", "input"),
        ("xray_date", "input"),
        ("xray_current", "expected"),
        ("expected rule", "expected rule"),
    ],
    [
        ("T1", "2025-12-18", "2025-12-04", True, "R1"),
        ("T2", "2025-12-18", "2025-12-03", False, "R2"),
        ("T3", "2025-12-18", "2025-12-19", False, "R3"),
    ],
)

# an output expression: EXPIRY (authorization_days), from test_expressions

BOOKS = {
    "version2.xlsx": {
        "CT repeat": CT_GAP,
        "CT repeat tests": CT_GAP_TESTS,
        "Lumbar MRI": SPINE,
        "Lumbar MRI tests": SPINE_TESTS,
        "Guidelines": AGE,
        "Guidelines tests": AGE_TESTS,
        "X-ray": XRAY,
        "X-ray tests": XRAY_TESTS,
        "Expiry": EXPIRY,
        "Expiry tests": EXPIRY_TESTS,
    }
}
TABLES = (
    "ct_repeat",
    "lumbar_mri",
    "imaging_guidelines",
    "xray_recent",
    "authorization_days",
)


def test_it_compiles_analyses_decides_and_its_generated_tests_pass(
    tmp_path: Path,
) -> None:
    compilation = compile_books(tmp_path, BOOKS)
    assert not errors(compilation.diagnostics), [
        d.format() for d in compilation.diagnostics
    ]
    analysed = {d.code for d in compilation.diagnostics if d.code.startswith("A")}
    assert analysed <= {"A303", "A313"}, analysed  # gaps where inputs are missing
    modules = {name: compiled_module(compilation, name) for name in TABLES}
    dos = D(2025, 12, 18)
    assert modules["ct_repeat"].evaluate(
        date_of_service=dos, last_ct=D(2025, 12, 10)
    ).matched == ("R1",)
    assert modules["lumbar_mri"].evaluate(
        diagnosis_codes=("Z00.0", "M54.5"), weeks_of_therapy=6
    ).matched == ("R1",)
    assert (
        modules["imaging_guidelines"]
        .evaluate(date_of_service=dos, date_of_birth=D(2008, 1, 1))
        .outputs.guideline_set
        == "Pediatric"
    )
    assert modules["xray_recent"].evaluate(
        date_of_service=dos, xray_date=dos
    ).matched == ("R1",)
    assert modules["authorization_days"].evaluate(
        date_of_service=dos, authorization_expires=dos + 3 * DAY
    ).outputs == ("valid", 3)
    output = run_generated_tests(compilation, tmp_path)
    assert "passed" in output and "failed" not in output


def test_it_round_trips_through_export_dmn_and_import_dmn_unchanged(
    tmp_path: Path,
) -> None:
    project, diagnostics = load_books(tmp_path / "a", BOOKS)
    assert project is not None and not errors(diagnostics)
    exported = run(["export-dmn", "--out", "model.dmn"], tmp_path / "a")
    assert exported.exit_code == 0, exported.output
    assert " error" not in exported.output, exported.output
    model = tmp_path / "a" / "model.dmn"
    (tmp_path / "b").mkdir()
    imported = run(
        ["import-dmn", str(model), "--into", "tables/model.xlsx"], tmp_path / "b"
    )
    assert imported.exit_code == 0, imported.output
    assert " error" not in imported.output, imported.output  # its analysis warns
    again, diagnostics = load_tables(tmp_path / "b" / "tables")
    assert again is not None and not errors(diagnostics)
    assert tables_of(again) == tables_of(project)


def test_the_exported_model_is_standard_feel(tmp_path: Path) -> None:
    """What another DMN engine reads: FEEL expressions and unary tests, with the
    authored form only in extension attributes."""
    project, _ = load_books(tmp_path, BOOKS)
    assert project is not None
    from compiler.interop import dmn

    exported = dmn.export_dmn(project, (), "version 2")
    root = ET.fromstring(exported.xml)
    ns = "{https://www.omg.org/spec/DMN/20230324/MODEL/}"
    texts = [e.text for e in root.iter(f"{ns}text")]
    assert "date_of_service - last_ct" in texts
    assert '< duration("P14D")' in texts
    assert "years and months duration(date_of_birth, date_of_service).years" in texts
    assert '[date_of_service - duration("P14D")..date_of_service]' in texts
    assert "<= date_of_service" not in texts and ">= date_of_service" in texts
    assert (
        'some item in ? satisfies (starts with(item, "M54.") or '
        'starts with(item, "M51.1"))' in texts
    )
    assert "(authorization_expires - date_of_service).days" in texts
    assert not any("14 days" in (t or "") for t in texts)


def test_frame_equals_evaluate_row_by_row(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    compilation = compile_books(tmp_path, BOOKS)
    dos = D(2025, 12, 18)
    dates = [dos - 20 * DAY, dos - 14 * DAY, dos - 13 * DAY, dos, dos + DAY, None]
    rows: dict[str, list[dict[str, Any]]] = {
        "ct_repeat": [{"date_of_service": dos, "last_ct": d} for d in dates],
        "lumbar_mri": [
            {"diagnosis_codes": codes, "weeks_of_therapy": weeks}
            for codes in (("M54.5",), ("Z00.0", "M51.16"), (), None, ("M51.2",))
            for weeks in (2, 6, None)
        ],
        "imaging_guidelines": [
            {"date_of_service": dos, "date_of_birth": born}
            for born in (D(2007, 12, 18), D(2007, 12, 19), D(1950, 1, 1), None)
        ],
        "xray_recent": [{"date_of_service": dos, "xray_date": d} for d in dates],
        "authorization_days": [
            {"date_of_service": dos, "authorization_expires": d} for d in dates
        ],
    }
    for name, cases in rows.items():
        module = compiled_module(compilation, name)
        frame = pd.DataFrame(cases, dtype=object)
        decided = module.evaluate_frame(frame)
        for i, case in enumerate(cases):
            expected = module.evaluate(**case)
            assert decided["matched"][i] == (expected.matched or (None,))[0], (
                name,
                case,
            )
            for field in module.Outputs._fields:
                value = getattr(expected.outputs, field)
                got = decided[field][i]
                assert (got is None or got != got) if value is None else got == value


# -- the corners of the round trip ---------------------------------------------------

WINDOW = decision_table(
    "window_days",
    [("urgent", "input", "boolean", None), ("days", "output", "integer", None)],
    [("W1", True, 7), ("W2", False, 14)],
)
CORNERS = with_expressions(
    decision_table(
        "corners",
        [
            ("days", "from window_days", "integer", None),
            ("date_of_service", "input", "date", None),
            ("xray_date", "input", "date", None),
            ("window_start", "computed", "date", None),
            ("span", "computed", "duration", None),
            ("scores", "input", "list of integer", "[0..10]"),
            ("ok", "output", "boolean", None),
        ],
        [
            (
                "C1",
                "-",
                "-",
                "[window_start..2030-01-01)",
                "-",
                "<= 90 days",
                "every([1..5])",
                True,
            ),
            ("C2", "-", "-", "(2020-01-01..window_start)", "-", "-", "none(3)", False),
            ("C3", "-", "-", "date_of_service", "-", "-", "-", False),
        ],
        hit_policy="FIRST",
    ),
    {
        4: "date_of_service - days * 1 day",
        5: "date_of_service - window_start + 36 hours",
    },
)
CORNER_BOOKS = {"corners.xlsx": {"Window": WINDOW, "Corners": CORNERS}}


def test_feel_of_from_inputs_computed_inputs_and_durations_in_words() -> None:
    from compiler.interop.dmn.version2 import feel_expression

    names = {"days": "window_days", "window_start": "(date_of_service - x)"}
    assert (
        feel_expression("date_of_service - days * 1 day", names)
        == 'date_of_service - window_days * duration("P1D")'
    )
    assert (
        feel_expression("a + 6 weeks - 3 months + 14 days", {})
        == 'a + duration("P42D") - duration("P3M") + duration("P14D")'
    )
    assert (
        feel_expression("window_start + 1 year - 18 months + 36 hours", names)
        == '(date_of_service - x) + duration("P1Y") - duration("P1Y6M") + '
        'duration("P1DT12H")'
    )


def test_corners_round_trip_unchanged(tmp_path: Path) -> None:
    """A `from` input read by an expression, a computed input read by another and by
    an entry, ranges with a literal end, equality with another input, `every` and
    `none`, a list's Values."""
    from compiler.interop import dmn

    project, diagnostics = load_books(tmp_path / "a", CORNER_BOOKS)
    assert project is not None and not errors(diagnostics), diagnostics
    exported = dmn.export_dmn(project, (), "corners")
    assert not [m for m in exported.messages if m.severity == "error"]
    assert (
        '[(date_of_service - window_days * duration("P1D"))..date("2030-01-01"))'
        in exported.xml
    )
    again = dmn.read_dmn(exported.xml.encode(), "corners.dmn")
    assert again.errors == (), again.errors
    dmn.write_workbook(again, tmp_path / "b" / "tables" / "corners.xlsx")
    back, diagnostics = load_tables(tmp_path / "b" / "tables")
    assert back is not None and not errors(diagnostics)
    assert tables_of(back) == tables_of(project)
