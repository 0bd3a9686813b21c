"""The generated package is typed: py.typed, Literal inputs, mypy --strict clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from compiler.pipeline import compile_tables
from tests.workbooks import decision_table, tests_sheet, write_workbook

ROOT = Path(__file__).resolve().parents[1]


def _mypy(target: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(target)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def fixture_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("typed")
    age = decision_table(
        "age_band",
        hit_policy="FIRST",
        columns=[
            ("age", "input", "integer", "[0..130]"),
            ("modality", "input", "string", "CT, MRI"),
            ("band", "output", "string", '"child", "adult"'),
        ],
        rules=[
            ("R1", "< 18", "-", "child"),
            ("R2", ">= 18", "CT", "adult"),
            ("R3", ">= 18", "MRI", "adult"),
        ],
    )
    fees = decision_table(
        "fees",
        hit_policy="C+",
        columns=[
            ("band", "from age_band", "string", "child, adult"),
            ("fee", "output", "number", None),
        ],
        rules=[("F1", "child", 10), ("F2", "-", 2.5)],
    )
    tests = tests_sheet(
        "fees",
        [("age", "input"), ("modality", "input"), ("fee", "expected")],
        [("T1", 10, "CT", 12.5)],
    )
    write_workbook(root / "tables" / "t.xlsx", {"Age": age, "Fees": fees, "T": tests})
    compilation = compile_tables(root / "tables")
    assert compilation.files is not None, compilation.diagnostics
    out = root / "typed_out"
    for name, text in compilation.files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text, encoding="utf-8")
    return out


def test_package_ships_py_typed(fixture_package: Path) -> None:
    assert (fixture_package / "py.typed").is_file()


def test_inputs_with_values_are_literal_types(fixture_package: Path) -> None:
    source = (fixture_package / "age_band.py").read_text(encoding="utf-8")
    assert 'modality: Literal["CT", "MRI"] | None = None' in source
    assert 'band: Literal["child", "adult"] | None' in source


def test_mypy_strict_passes_on_generated_fixture(fixture_package: Path) -> None:
    result = _mypy(fixture_package, fixture_package.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_catches_a_wrong_literal(fixture_package: Path) -> None:
    """The Literal types are real: a caller passing an unlisted value fails mypy."""
    caller = fixture_package.parent / "caller.py"
    caller.write_text(
        "from typed_out import age_band\n\nage_band.evaluate(age=3, modality='PET')\n",
        encoding="utf-8",
    )
    result = _mypy(caller, fixture_package.parent)
    assert result.returncode == 1
    assert "modality" in result.stdout


def test_mypy_strict_passes_on_shipped_generated() -> None:
    generated = ROOT / "generated"
    if not (generated / "__init__.py").is_file():
        pytest.skip("generated/ has not been compiled")
    result = _mypy(generated, ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_evaluate_frame_is_typed_with_pandas_types(fixture_package: Path) -> None:
    """A DataFrame in, a DataFrame out: a caller using the result as something else
    fails mypy (with `Any` it passed)."""
    caller = fixture_package.parent / "frame_caller.py"
    caller.write_text(
        "import pandas as pd\n\nfrom typed_out import age_band\n\n"
        "result: pd.DataFrame = age_band.evaluate_frame(pd.DataFrame({'age': [3]}))\n"
        "wrong: int = age_band.evaluate_frame(pd.DataFrame())\n",
        encoding="utf-8",
    )
    result = _mypy(caller, fixture_package.parent)
    assert result.returncode == 1, result.stdout
    [error] = [line for line in result.stdout.splitlines() if "error:" in line]
    assert (
        'frame_caller.py:6: error: Incompatible types in assignment (expression has type "DataFrame"'
        in error
    )
