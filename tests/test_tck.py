"""DMN TCK conformance: every test case of the TCK's decision-table cases, imported
with import-dmn, compiled, and run through the generated evaluators (`compiler.interop.tck`).

Every case (all 31 of the TCK that hold a decision table) must pass entirely. A case
that stops passing fails here; one the format could not express would be xfailed with
the import's precise reason. `python -m compiler.interop.tck` prints the same results
as a pass table.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from compiler.interop import dmn, tck
from compiler.pipeline import compile_tables

from .helpers import compiled_module

TCK = tck.DEFAULT_TCK  # tests/dmn-tck: the TCK's cases, unchanged (Apache-2.0)
ABSENT = f"the DMN TCK cases are not at {TCK}"

MUST_PASS = (
    "0004",
    "0005",
    "0006",
    "0007",
    "0008",  # version 2: list outputs (literal expressions), flatten, a COLLECT read as a list
    "0010",
    "0017",  # version 2: structA.price, a path into a structured input; > dateE
    "0020",  # version 2: Total Vacation Days, a literal expression over three tables
    "0035",  # version 2: a structure in a structure as path outputs; table BKMs called
    "0036",  # version 2: entries naming paths (= complex.a_string); years and months
    "0037",  # version 2: a BKM's table inlined, its parameters bound to paths
    "0038",  # version 2: a BKM whose body is a context returning a table
    "0039",  # version 2: a list input named as an entry, computed outputs in COLLECT
    "0040",  # boxed contexts: a table per entry, `**`, a context in a context
    "0041",  # three contexts deep
    "0086",  # an imported model: its item definition and BKM by the prefix myimport
    "0087",  # version 2: BKMs (tables, contexts, PMT with **) inlined where invoked
    "0088",  # version 2: a decision service, its input decision a plain input
    *(f"01{n:02d}" for n in range(8, 20)),
)
# The tests the format can express of cases that do not pass whole (none today).
EXPRESSIBLE: dict[str, set[str]] = {}


@functools.cache
def outcomes(folder: Path) -> dict[str, tck.Outcome]:
    return {o.test: o for o in tck.run_case(folder)}


def cases() -> list[Any]:
    if not TCK.is_dir():
        return [pytest.param(None, "", marks=pytest.mark.skip(reason=ABSENT))]
    return [
        pytest.param(
            folder,
            test.get("id", ""),
            id=f"{folder.name[:4]}-{test.get('id', '')[:12]}",
        )
        for folder in tck.case_folders(TCK)
        for test in tck.test_cases(folder)
    ]


@pytest.mark.parametrize(("folder", "test_id"), cases())
def test_tck_case(folder: Path, test_id: str) -> None:
    case = folder.name[:4]
    outcome = outcomes(folder)[test_id]
    if case in MUST_PASS or test_id in EXPRESSIBLE.get(case, ()):
        assert outcome.status == "pass", outcome.detail
        return
    assert case in EXPRESSIBLE, f"{folder.name} is not a case this suite knows"
    assert outcome.status == "unsupported", outcome.detail
    pytest.xfail(outcome.detail)


@pytest.mark.skipif(not TCK.is_dir(), reason=ABSENT)
def test_the_pass_table_lists_every_case() -> None:
    rows = [
        tck.summarise(f.name, list(outcomes(f).values())) for f in tck.case_folders(TCK)
    ]
    statuses = {r.case[:4]: r.status for r in rows}
    assert {statuses[c] for c in MUST_PASS} == {"pass"}
    assert set(statuses.values()) == {"pass"}
    assert "FAIL" not in statuses.values()
    table = tck.pass_table(rows)
    assert "| 0017-tableTests | 4/4 | pass |  |" in table
    assert "| 0087-chapter-11-example | 8/8 | pass |  |" in table
    assert "| 0004-lending | 1/1 | pass |  |" in table


@pytest.mark.skipif(not TCK.is_dir(), reason=ABSENT)
def test_vacation_days_total_is_a_literal_expression_table(tmp_path: Path) -> None:
    """0020's Total Vacation Days, a literal expression over three decision tables,
    is a FIRST table of one rule reading them (`from`) with a computed output; its
    generated evaluator gives every expected total."""
    conversion = dmn.read_dmn(next((TCK / "0020-vacation-days").glob("*.dmn")))
    dmn.write_workbook(conversion, tmp_path / "tables" / "vacation.xlsx")
    compilation = compile_tables(tmp_path / "tables")
    total = compiled_module(compilation, "total_vacation_days")
    expected = {
        (16, 1): 27,
        (25, 5): 22,
        (25, 20): 24,
        (44, 30): 30,
        (50, 20): 24,
        (50, 30): 30,
        (60, 20): 30,
    }
    for (age, years), days in expected.items():
        result = total.evaluate(age=age, years_of_service=years)
        assert result.outputs[0] == days and result.matched == ("R1",)


def test_the_short_module_name_runs_the_runner(tmp_path: Path) -> None:
    """`python -m compiler.tck DIR` is the command the docs and the issue give."""
    import subprocess
    import sys

    if not TCK.is_dir():
        pytest.skip(ABSENT)
    (tmp_path / "0004-simpletable-U").symlink_to(TCK / "0004-simpletable-U")
    done = subprocess.run(
        [sys.executable, "-m", "compiler.tck", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "| 0004-simpletable-U | 3/3 | pass |" in done.stdout


def test_the_runner_reads_times_in_utc_as_naive_and_refuses_other_zones() -> None:
    """0036 passes xsd:time, dateTime and duration values, every one in UTC, and a
    duration of months (P5M), the format's years-and-months duration."""
    import datetime as dt
    import xml.etree.ElementTree as ET

    def value(xsi_type: str, text: str) -> tck.Expected:
        node = ET.fromstring(
            '<n xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<value xsi:type="xsd:{xsi_type}">{text}</value></n>'
        )
        return tck.parse_value(node)

    assert value("dateTime", "2018-07-30T16:12:00Z").value == dt.datetime(
        2018, 7, 30, 16, 12
    )
    assert value("time", "16:11:00").value == dt.time(16, 11)
    assert value("duration", "PT10H").value == dt.timedelta(hours=10)
    months = value("duration", "P1Y5M")
    assert months.type == "years and months duration"
    assert months.value.total == 17
    with pytest.raises(tck._Unexpressible):
        tck._input_value("x", value("time", "16:11:00+01:00"))


@pytest.mark.skipif(not TCK.is_dir(), reason=ABSENT)
def test_0036_decisions_over_paths_give_the_tcks_answers(tmp_path: Path) -> None:
    """Each of 0036's eight decisions, whose entries compare with a path
    (`> Complex.aNumber`, and in string and boolean columns `Complex.aString`,
    `not(Complex.aBoolean)`, read as `= complex.a_string`, `not(= ...)`; a
    years-and-months duration), answers every test."""
    folder = TCK / "0036-dt-variable-input"
    runner = tck._CaseRunner(folder, tmp_path)
    paths = {
        "Date",
        "Number",
        "Date and Time",
        "Days and Time Duration",
        "Time",
        "String",
        "Boolean",
        "Years and Months Duration",
    }
    checked = 0
    for test in tck.test_cases(folder):
        nodes = tck._children(test, "inputNode")
        inputs = {n.get("name", ""): tck.parse_value(n) for n in nodes}
        for node in tck._children(test, "resultNode"):
            if node.get("name", "").removeprefix("Compare ") in paths:
                assert runner.check(test.get("id", ""), node, inputs) is None
                checked += 1
    assert checked == 24
