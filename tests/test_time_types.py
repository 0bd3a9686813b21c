"""Version 2 of the workbook format: `duration`, `time` and `datetime` columns.

A demo workbook built in code: it compiles, the analysis orders the new types like
numbers, the evaluator decides, its generated tests pass, and `evaluate_frame` equals
`evaluate` row by row.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from compiler.checking import interpret
from compiler.diagnostics import CellError
from compiler.model import DataType
from compiler.reading import cells
from compiler.timetypes import iso_duration, parse_duration, parse_ym, show_duration

from .helpers import (
    compile_books,
    compiled_module,
    errors,
    load_books,
    only,
    run_generated_tests,
)
from .workbooks import decision_table, tests_sheet

DAY = dt.timedelta(days=1)

WAIT = decision_table(
    "contrast_wait",
    [
        ("since_inconclusive_ct", "input", "duration", None),
        ("requested_at", "input", "time", None),
        ("booked", "input", "datetime", None),
        ("ct_with_contrast", "output", "boolean", None),
    ],
    [
        ("R1", "< 14 days", "[08:00..18:00]", ">= 2025-12-18T00:00", True),
        ("R2", ">= 2 weeks", "-", "-", False),
        ("R3", "< P14D", "not([08:00..18:00])", "-", False),
        ("R4", "< 14 days", "[08:00..18:00]", "< 2025-12-18T00:00", False),
        ("R5", "null", "-", "-", False),
    ],
    hit_policy="UNIQUE",
)
WAIT_TESTS = tests_sheet(
    "contrast_wait",
    [
        ("since_inconclusive_ct", "input"),
        ("requested_at", "input"),
        ("booked", "input"),
        ("ct_with_contrast", "expected"),
        ("expected rule", "expected rule"),
    ],
    [
        ("T1", "13 days", "09:30", "2025-12-20T10:00", True, "R1"),
        ("T2", "P14D", "09:30", "2025-12-20T10:00", False, "R2"),
        ("T3", "3 days", "19:00", None, False, "R3"),
    ],
)
BOOKS = {"wait.xlsx": {"Wait": WAIT, "Wait tests": WAIT_TESTS}}


def test_duration_forms() -> None:
    assert parse_duration("6 weeks") == 42 * DAY
    assert parse_duration("1 day") == DAY
    assert parse_duration("P14D") == 14 * DAY
    assert parse_duration("P1DT6H") == DAY + dt.timedelta(hours=6)
    assert parse_duration("-P1D") == -DAY
    assert parse_duration('duration("PT12H")') == dt.timedelta(hours=12)
    assert parse_ym("3 months") == 3 and parse_ym("P1Y2M") == 14
    assert show_duration(14 * DAY) == "2 weeks" and show_duration(3 * DAY) == "3 days"
    assert iso_duration(DAY + dt.timedelta(hours=6, seconds=1.5)) == "P1DT6H1.5S"
    with pytest.raises(CellError, match="months and years") as bad:
        parse_duration("3 months")
    assert bad.value.code == "E206"
    with pytest.raises(CellError, match="time zone"):
        cells.parse_literal("2025-12-18T08:30Z", DataType.DATETIME)
    with pytest.raises(CellError, match="not a duration"):
        cells.parse_literal("2025-12-18", DataType.DURATION)


def test_cells_of_the_new_types() -> None:
    tests = cells.parse_unary_tests("[3 days..2 weeks)", DataType.DURATION)
    assert cells.tests_match(tests, 13 * DAY) and not cells.tests_match(tests, 14 * DAY)
    assert cells.parse_literal(dt.time(8, 30), DataType.TIME) == dt.time(8, 30)
    assert cells.parse_literal(
        dt.datetime(2025, 1, 1, 8, 0), DataType.DATETIME
    ) == dt.datetime(2025, 1, 1, 8, 0)
    # a date is not a datetime, and a duration is not compared with a date
    assert not cells.tests_match(
        cells.parse_unary_tests(">= 2025-01-01T00:00", DataType.DATETIME),
        dt.date(2025, 6, 1),
    )


def test_a_duration_compared_with_a_date_is_an_error_naming_the_cell(
    tmp_path: Path,
) -> None:
    table = decision_table(
        "bad_wait",
        [("wait", "input", "duration", None), ("ok", "output", "boolean", None)],
        [("R1", "< 2025-12-18", True)],
    )
    _, diagnostics = load_books(tmp_path, {"bad.xlsx": [table]})
    found = only(diagnostics, "E206")
    assert str(found.location).endswith("!B6") and "not a duration" in found.message
    assert found.hint


def test_demo_workbook_compiles_decides_and_its_tests_pass(tmp_path: Path) -> None:
    compilation = compile_books(tmp_path, BOOKS)
    assert not errors(compilation.diagnostics), compilation.diagnostics
    module = compiled_module(compilation, "contrast_wait")
    result = module.evaluate(
        since_inconclusive_ct=10 * DAY,
        requested_at=dt.time(9),
        booked=dt.datetime(2025, 12, 19, 9),
    )
    assert result.matched == ("R1",) and result.outputs.ct_with_contrast is True
    assert module.evaluate(since_inconclusive_ct=15 * DAY).matched == ("R2",)
    with pytest.raises(module.InputError):
        module.evaluate(since_inconclusive_ct=dt.date(2025, 1, 1))
    with pytest.raises(module.InputError):  # a zoned datetime has no order here
        module.evaluate(
            since_inconclusive_ct=DAY,
            requested_at=dt.time(9),
            booked=dt.datetime(2025, 12, 19, tzinfo=dt.UTC),
        )
    output = run_generated_tests(compilation, tmp_path)
    assert "3 passed" not in output  # the examples ran too, not just the sheet


def test_analysis_orders_durations_like_numbers(tmp_path: Path) -> None:
    table = decision_table(
        "gap_wait",
        [("wait", "input", "duration", None), ("ok", "output", "boolean", None)],
        [("R1", "< 14 days", True), ("R2", "[2 weeks..30 days]", False)],
    )
    compilation = compile_books(tmp_path, {"gap.xlsx": [table]})
    gap = only(compilation.diagnostics, "A303")
    assert "> 30 days" in gap.message, gap.message
    overlap = decision_table(
        "overlap_wait",
        [("wait", "input", "duration", None), ("ok", "output", "boolean", None)],
        [("R1", "<= 14 days", True), ("R2", ">= 2 weeks", False)],
    )
    compilation = compile_books(tmp_path / "o", {"o.xlsx": [overlap]})
    found = only(compilation.diagnostics, "A301")
    assert "2 weeks" in found.message, found.message


def test_frame_equals_evaluate_row_by_row(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    module = compiled_module(compile_books(tmp_path, BOOKS), "contrast_wait")
    rows = [
        (10 * DAY, dt.time(9), dt.datetime(2025, 12, 19, 9)),
        (10 * DAY, dt.time(9), dt.datetime(2025, 12, 1, 9)),
        (20 * DAY, None, None),
        (DAY, dt.time(20), None),
        (None, None, None),
    ]
    names = ["since_inconclusive_ct", "requested_at", "booked"]
    frame = pd.DataFrame(rows, columns=names)
    frame["since_inconclusive_ct"] = pd.to_timedelta(frame["since_inconclusive_ct"])
    frame["booked"] = pd.to_datetime(frame["booked"])
    decided = module.evaluate_frame(frame)
    for i, row in enumerate(rows):
        expected = module.evaluate(**dict(zip(names, row, strict=True)))
        assert decided["matched"][i] == expected.matched[0]
        assert decided["ct_with_contrast"][i] == expected.outputs.ct_with_contrast
    objects = module.evaluate_frame(pd.DataFrame(rows, columns=names, dtype=object))
    assert list(objects["matched"]) == list(decided["matched"])


def test_reference_interpreter_agrees(tmp_path: Path) -> None:
    project, diagnostics = load_books(tmp_path, BOOKS)
    assert project is not None and not errors(diagnostics)
    module = compiled_module(compile_books(tmp_path / "c", BOOKS), "contrast_wait")
    for wait in (DAY, 14 * DAY, None):
        for clock in (dt.time(7), dt.time(9), None):
            inputs = {
                "since_inconclusive_ct": wait,
                "requested_at": clock,
                "booked": dt.datetime(2025, 12, 19),
            }
            try:
                _, matched = interpret.evaluate(project, "contrast_wait", inputs)
            except interpret.Ambiguous:
                continue
            assert tuple(matched) == module.evaluate(**inputs).matched


def test_dmn_export_and_import_keep_the_time_types(tmp_path: Path) -> None:
    """workbook -> export-dmn -> import-dmn -> workbook gives the same rules."""
    from compiler.interop import dmn
    from compiler.pipeline import load_tables

    project, _ = load_books(tmp_path, {"wait.xlsx": [WAIT]})
    assert project is not None
    exported = dmn.export_dmn(project, (), "wait")
    assert not [m for m in exported.messages if m.severity == "error"]
    assert 'duration("P14D")' in exported.xml and 'time("08:00:00")' in exported.xml
    again = dmn.read_dmn(exported.xml.encode(), "wait.dmn")
    assert again.errors == ()
    tables = tmp_path / "back" / "tables"
    dmn.write_workbook(again, tables / "wait.xlsx")
    back, diagnostics = load_tables(tables)
    assert back is not None and not errors(diagnostics)
    first, second = (
        project.decision("contrast_wait").first,
        back.decision("contrast_wait").first,
    )
    assert [c.type for c in first.inputs] == [c.type for c in second.inputs]
    assert [r.inputs for r in first.rules] == [r.inputs for r in second.rules]
    assert [r.outputs for r in first.rules] == [r.outputs for r in second.rules]


def test_dmn_import_keeps_the_two_durations_apart() -> None:
    from compiler.interop.dmn import feel
    from compiler.interop.dmn.messages import Unsupported

    assert feel.parse_literal('duration("P2D")') == 2 * DAY
    assert feel.parse_literal('@"08:30:00"') == dt.time(8, 30)
    with pytest.raises(Unsupported, match="years and months duration"):
        feel.typed(feel.parse_literal('duration("P1Y")'), DataType.DURATION)


def test_a_time_minus_a_date_is_an_input_error_not_a_crash(tmp_path: Path) -> None:
    """`closes - opens` over two time inputs: a datetime (or a date) passed for a
    time is an InputError naming it, whichever side it is on; before, a time minus
    a datetime raised AttributeError out of the runtime."""
    from .test_expressions import with_expressions

    sheet = with_expressions(
        decision_table(
            "open_hours",
            [
                ("opens", "input", "time", None),
                ("closes", "input", "time", None),
                ("span", "computed", "duration", None),
                ("long_day", "output", "boolean", None),
            ],
            [["R1", "-", "-", ">= 10 hours", "true"], ["R2", "-", "-", "-", "false"]],
            hit_policy="FIRST",
        ),
        {3: "closes - opens"},
    )
    module = compiled_module(compile_books(tmp_path, {"h.xlsx": [sheet]}), "open_hours")
    assert module.evaluate(opens=dt.time(7), closes=dt.time(18)).outputs.long_day
    for opens, closes in (
        (dt.datetime(2025, 1, 1, 7), dt.time(18)),
        (dt.time(7), dt.datetime(2025, 1, 1, 18)),
        (dt.date(2025, 1, 1), dt.time(18)),
    ):
        for call in (module.evaluate, module.explain):
            with pytest.raises(module.InputError):
                call(opens=opens, closes=closes)
