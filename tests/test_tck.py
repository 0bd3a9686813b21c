"""DMN TCK conformance: every test case of the TCK's decision-table cases, imported
with import-dmn, compiled, and run through the generated evaluators (`compiler.interop.tck`).

0004-0008, 0010, 0020, 0039, 0088 and 0108-0119 must pass entirely. The other cases need
more than the workbook format holds (structured inputs, variables in unary tests, time
types): the tests it can express must pass, and
the rest are xfailed with the import's precise reason. `python -m compiler.interop.tck` prints
the same results as a pass table.
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
    "0020",  # version 2: Total Vacation Days, a literal expression over three tables
    "0039",  # version 2: a list input named as an entry, computed outputs in COLLECT
    "0088",  # version 2: a decision service, its input decision a plain input
    *(f"01{n:02d}" for n in range(8, 20)),
)
# The tests of the other cases the format can express (all others are unsupported).
EXPRESSIBLE = {
    "0017": {"003", "004"},  # dateCompare1, dateCompare2 (`> dateE`: version 2)
    "0036": set(),  # every table tests against Complex.x, a variable
}


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
    assert statuses["0017"] == "partial"
    assert "FAIL" not in statuses.values()
    table = tck.pass_table(rows)
    assert "| 0017-tableTests | 2/4 | partial | 001, 002: structured input" in table


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
