"""How long the example search takes on a table with computed inputs (version 2).

    python bench/examples_computed.py [--rules 1000]

The table has a code column (250 codes, one per group of 4 rules), an age computed
from a date of birth, a duration since the last study (computed) and an entry that
names another input (`<= date_of_service`): per code, the 4 rules split the ages and
the durations. It is written as a workbook and read like any table. Prints the
seconds `analyse.examples` takes, the examples found and the rules without one.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compiler.checking import analyse  # noqa: E402
from compiler.pipeline import load_tables  # noqa: E402
from tests.test_expressions import with_expressions  # noqa: E402
from tests.workbooks import decision_table, write_workbook  # noqa: E402

_SPLITS = (
    ("< 18", "< 30 days", "<= date_of_service"),
    ("[18..64]", "< 30 days", "<= date_of_service"),
    (">= 65", "< 30 days", "<= date_of_service"),
    ("-", ">= 30 days", "-"),
)


def table(rules: int) -> list[list[Any]]:
    rows = []
    for i in range(rules):
        age, since, xray = _SPLITS[i % 4]
        code = f"{70000 + i // 4}"
        rows.append((f"R{i + 1}", code, "-", "-", "-", xray, age, since, f"r{i % 4}"))
    sheet = decision_table(
        "big_computed",
        [
            ("procedure_code", "required input", "code", None),
            ("date_of_service", "required input", "date", None),
            ("date_of_birth", "required input", "date", None),
            ("last_study", "required input", "date", None),
            ("xray_date", "required input", "date", None),
            ("age", "computed", "integer", None),
            ("since_last_study", "computed", "duration", None),
            ("band", "output", "string", None),
        ],
        rows,
        hit_policy="FIRST",
        defaults={"band": "none"},
    )
    return with_expressions(
        sheet,
        {
            6: "years and months duration(date_of_birth, date_of_service).years",
            7: "date_of_service - last_study",
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tables = Path(folder) / "tables"
        tables.mkdir()
        write_workbook(tables / "big.xlsx", {"Big": table(args.rules)})
        project, diagnostics = load_tables(tables)
    assert project is not None, diagnostics
    started = time.perf_counter()
    misses: dict[str, tuple[str, ...]] = {}
    found = analyse.examples(project, misses=misses)["big_computed"]
    seconds = time.perf_counter() - started
    rules = sum(1 for e in found if e.kind == "rule")
    missed = misses.get("big_computed", ())
    print(
        f"{args.rules} rules: {seconds:.2f} s, {len(found)} examples "
        f"({rules} rules decide by one), no example found for {len(missed)}"
    )


if __name__ == "__main__":
    main()
