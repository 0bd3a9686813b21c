"""The same tables give the same bytes: whatever the hash seed, time zone, locale,
working directory, or the order in which the workbooks were written to disk.

Each compile runs in its own process (`python -m compiler compile`) with the setting
changed, and the output folders are compared byte for byte.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .workbooks import Row, decision_table, tests_sheet, values_sheet, write_workbook

SETS = '"CT", "MRI", "PET", "X-ray", "Ultraschall ü", "émission", "🩻", "b", "a", "B"'


def books() -> dict[str, dict[str, list[Row]]]:
    """Workbooks whose output could depend on the environment if the compiler let it:
    value sets (hash order), floats (locale), dates and versions (time zone), text
    beyond ASCII (locale encoding), several files (directory order), chains and tests."""
    modality = ("modality", "input", "string", "kinds")
    return {
        "b/imaging.xlsx": {
            "Lists": values_sheet({"kinds": SETS}),
            "Scan v1": decision_table(
                "scan",
                [
                    modality,
                    ("age", "input", "number", "[0..130]"),
                    ("code", "input", "code", None),
                    ("dose", "output", "number", None),
                    ("note", "output", "string", None),
                ],
                [
                    ("R1", "CT, MRI, 🩻", "< 17.5", "[70450..70498]", 0.5, "child é"),
                    ("R2", 'not("PET", b, a)', ">= 17.5", "M54.*", 1.25, "adult"),
                    ("R3", "-", "-", "-", 1e-7, "any"),
                ],
                hit_policy="FIRST",
                metadata={
                    "Effective from": dt.date(2024, 1, 1),
                    "Effective to": dt.date(2024, 12, 31),
                },
            ),
            "Scan v2": decision_table(
                "scan",
                [
                    modality,
                    ("age", "input", "number", "[0..130]"),
                    ("code", "input", "code", None),
                    ("dose", "output", "number", None),
                    ("note", "output", "string", None),
                ],
                [
                    ("R1", "CT, MRI", "< 18", "-", 0.75, "child ü"),
                    ("R2", "-", "-", "-", 2.5, "any"),
                ],
                hit_policy="FIRST",
                metadata={"Effective from": dt.date(2025, 1, 1)},
            ),
        },
        "a/flags.xlsx": {
            "Flags": decision_table(
                "flags",
                [
                    ("note", "from scan", "string", None),
                    ("flag", "output", "string", '"high", "low"'),
                ],
                [("R1", "child é, child ü", "high"), ("R2", "-", "low")],
                hit_policy="PRIORITY",
            ),
            "Tests": tests_sheet(
                "flags",
                [
                    ("modality", "input"),
                    ("age", "input"),
                    ("as_of", "input"),
                    ("flag", "expected"),
                ],
                [
                    ("T1", "CT", 3, dt.date(2025, 6, 1), "high"),
                    ("T2", "PET", 40, dt.date(2025, 6, 1), "low"),
                ],
            ),
        },
        "c.xlsx": {
            "Count": decision_table(
                "counts",
                [
                    ("when", "input", "date", None),
                    ("ok", "input", "boolean", None),
                    ("n", "output", "integer", None),
                ],
                [("R1", "< 2025-03-01", "true", 1), ("R2", "-", "-", 2)],
                hit_policy="C+",
            ),
        },
    }


def write(root: Path, reverse: bool) -> Path:
    """The tables under ROOT/tables, files written in one order or the other."""
    tables = root / "tables"
    items = list(books().items())
    for name, sheets in reversed(items) if reverse else items:
        write_workbook(tables / name, sheets)
    return tables


def compile_in(
    cwd: Path, tables: Path, out: Path, env: dict[str, str]
) -> dict[str, bytes]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "compiler",
            "compile",
            "-q",
            "--tables",
            str(tables),
            "--out",
            str(out),
        ],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    found = {
        p.relative_to(
            cwd / out if not out.is_absolute() else out
        ).as_posix(): p.read_bytes()
        for p in sorted((cwd / out).rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert found
    return found


VARIANTS = {
    "hash seed 1": {"PYTHONHASHSEED": "1"},
    "hash seed 4242": {"PYTHONHASHSEED": "4242"},
    "time zone east": {"TZ": "Pacific/Kiritimati"},
    "time zone west": {"TZ": "Pacific/Pago_Pago"},
    "C locale": {"LC_ALL": "C", "LANG": "C"},
    "POSIX locale, no UTF-8 mode": {
        "LC_ALL": "POSIX",
        "PYTHONUTF8": "0",
        "PYTHONCOERCECLOCALE": "0",
    },
    "UTF-8 mode": {"PYTHONUTF8": "1", "LC_ALL": "C.UTF-8"},
}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    root = tmp_path_factory.mktemp("base")
    write(root, reverse=False)
    return compile_in(
        root,
        Path("tables"),
        Path("generated"),
        {"PYTHONHASHSEED": "0", "TZ": "UTC", "LC_ALL": "C.UTF-8"},
    )


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_same_bytes_under(
    variant: str, baseline: dict[str, bytes], tmp_path: Path
) -> None:
    write(tmp_path, reverse=False)
    assert (
        compile_in(tmp_path, Path("tables"), Path("generated"), VARIANTS[variant])
        == baseline
    )


def test_same_bytes_from_another_directory_and_file_order(
    baseline: dict[str, bytes], tmp_path: Path
) -> None:
    """Absolute paths from `/`, workbooks written in the reverse order."""
    tables = write(tmp_path / "elsewhere", reverse=True)
    out = tmp_path / "elsewhere" / "out"
    assert compile_in(Path("/"), tables, out, {"PYTHONHASHSEED": "random"}) == baseline


def test_the_fixture_exercises_what_it_claims(baseline: dict[str, bytes]) -> None:
    source = baseline["scan.py"].decode()
    for shown in ("émission", "🩻", "date(2024, 12, 31)", "1e-07", "17.5"):
        assert shown in source
    tests = sorted(n for n in baseline if n.startswith("tests/"))
    assert "tests/test_flags.py" in tests  # the Tests sheet
    assert "tests/examples/test_scan.py" in tests  # the analysis' examples
