"""Workbooks saved by LibreOffice compile to exactly the same code, and the workbooks
compile-rules writes (annotated copies, templates) open and round-trip in LibreOffice.
Skipped where LibreOffice (`soffice`) is not installed."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from compiler.annotate import PROBLEMS, annotate, lint
from compiler.pipeline import compile_tables
from compiler.template import new_table, parse_column

from .workbooks import decision_table, tests_sheet, values_sheet, write_workbook

ROOT = Path(__file__).resolve().parents[1]
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed")


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One LibreOffice user profile for the module (its first start is the slow one)."""
    return tmp_path_factory.mktemp("lo-profile")


def resave(source: Path, folder: Path, profile: Path) -> Path:
    """Open SOURCE in LibreOffice and save it as .xlsx into FOLDER (same file name)."""
    folder.mkdir(parents=True, exist_ok=True)
    assert SOFFICE is not None
    done = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(folder),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    target = folder / source.name
    assert done.returncode == 0 and target.is_file(), done.stdout + done.stderr
    return target


def files_of(tables: Path) -> dict[str, str]:
    compilation = compile_tables(tables)
    assert compilation.files is not None, "\n".join(
        d.format() for d in compilation.diagnostics
    )
    return compilation.files


def fixture_book(path: Path) -> Path:
    """Cells of every kind the reader treats specially."""
    table = decision_table(
        "imaging",
        hit_policy="FIRST",
        columns=[
            ("age", "input", "integer", "[0..130]"),
            ("weight", "input", "number", None),
            ("urgent", "input", "boolean", None),
            ("seen", "input", "date", None),
            ("cpt", "input", "code", None),
            ("marker", "input", "gender_marker", None),
            ("route", "output", "string", '"fast", "slow", "none"'),
            ("Note", "annotation", None, None),
        ],
        rules=[
            (
                "R1",
                "< 18",
                "[2.5..80)",
                True,
                dt.datetime(2025, 12, 18),
                "0042T",
                "-",
                "“fast”",
                "typographic quotes\nand a second line",
            ),
            ("R2", 18, "-", False, "> 2025-01-01", "[70450..70498]", '"X"', "slow", ""),
            ("R3", "-", 70.25, "-", "-", "M54.*", "not(null)", "slow", "prefix"),
            ("R4", "-", "-", "-", "-", "-", "-", "none", "catch-all"),
        ],
        defaults=None,
    )
    tests = tests_sheet(
        "imaging",
        [("age", "input"), ("seen", "input"), ("route", "expected")],
        [("T1", 5, dt.datetime(2025, 12, 18), "fast"), ("T2", 40, None, "slow")],
    )
    lists = values_sheet({"gender_marker": '"Male", "Female", "X", "Not specified"'})
    return write_workbook(path, {"Imaging": table, "Imaging tests": tests, "V": lists})


def test_a_fixture_saved_by_libreoffice_compiles_identically(
    tmp_path: Path, profile: Path
) -> None:
    original = fixture_book(tmp_path / "a" / "tables" / "imaging.xlsx")
    resave(original, tmp_path / "b" / "tables", profile)
    assert files_of(tmp_path / "b" / "tables") == files_of(tmp_path / "a" / "tables")


def test_the_shipped_workbooks_saved_by_libreoffice_compile_identically(
    tmp_path: Path, profile: Path
) -> None:
    folder = tmp_path / "tables"
    for workbook in sorted((ROOT / "tables").glob("*.xlsx")):
        resave(workbook, folder, profile)
    assert files_of(folder) == files_of(ROOT / "tables")


def test_annotated_copies_round_trip(tmp_path: Path, profile: Path) -> None:
    tables = tmp_path / "tables"
    broken = fixture_book(tables / "imaging.xlsx")
    book = load_workbook(broken)
    book["Imaging"]["B8"] = "<< 3"  # an error to annotate
    book.save(broken)
    _, diagnostics = lint(tables)
    annotate(tables, tmp_path / "annotated", diagnostics)
    again = resave(tmp_path / "annotated" / "imaging.xlsx", tmp_path / "lo", profile)
    book = load_workbook(again)
    assert book.sheetnames[0] == PROBLEMS
    assert "E2" in (book["Imaging"]["B8"].comment.text or "")
    links = [
        c.hyperlink.location
        for row in book[PROBLEMS].iter_rows()
        for c in row
        if c.hyperlink is not None
    ]
    assert "'Imaging'!B8" in [link.replace("$", "") for link in links if link]


def test_template_workbooks_round_trip_and_still_compile(
    tmp_path: Path, profile: Path
) -> None:
    tables = tmp_path / "a" / "tables"
    new_table(
        "knee_mri",
        [parse_column("age:integer=[0..130]"), parse_column('site:string="a, b", c')],
        [parse_column("approved:boolean")],
        tables / "knee.xlsx",
    )
    resave(tables / "knee.xlsx", tmp_path / "b" / "tables", profile)
    assert files_of(tmp_path / "b" / "tables") == files_of(tables)
    book = load_workbook(tmp_path / "b" / "tables" / "knee.xlsx")
    kinds = [dv.formula1 for dv in book["knee_mri"].data_validations.dataValidation]
    assert '"input,output,annotation"' in kinds
