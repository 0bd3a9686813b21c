"""Workbooks saved by LibreOffice compile to exactly the same code, and the workbooks
compile-rules writes (annotated copies, templates) open and round-trip in LibreOffice.
Skipped where LibreOffice (`soffice`) is not installed."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from compiler.authoring.annotate import FILLS, PROBLEMS, annotate, lint
from compiler.authoring.new_table import new_table, parse_column
from compiler.diagnostics import Severity
from compiler.pipeline import compile_tables

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


def problems_of(tables: Path) -> list[str]:
    """Every diagnostic of TABLES (the folder is named `tables` on both sides)."""
    return [d.format() for d in lint(tables)[1]]


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
        # no weight, cpt or marker: the catch-all decides (compile runs the cases)
        [("T1", 5, dt.datetime(2025, 12, 18), "none"), ("T2", 40, None, "none")],
    )
    lists = values_sheet({"gender_marker": '"Male", "Female", "X", "Not specified"'})
    return write_workbook(path, {"Imaging": table, "Imaging tests": tests, "V": lists})


def test_a_fixture_saved_by_libreoffice_compiles_identically(
    tmp_path: Path, profile: Path
) -> None:
    original = fixture_book(tmp_path / "a" / "tables" / "imaging.xlsx")
    resave(original, tmp_path / "b" / "tables", profile)
    assert files_of(tmp_path / "b" / "tables") == files_of(tmp_path / "a" / "tables")
    # and no new diagnostics: LibreOffice stores a typed TRUE as the formula TRUE()
    assert problems_of(tmp_path / "b" / "tables") == problems_of(
        tmp_path / "a" / "tables"
    )


def test_the_shipped_workbooks_saved_by_libreoffice_compile_identically(
    tmp_path: Path, profile: Path
) -> None:
    folder = tmp_path / "tables"
    for workbook in sorted((ROOT / "tables").glob("*.xlsx")):
        resave(workbook, folder, profile)
    assert files_of(folder) == files_of(ROOT / "tables")
    assert problems_of(folder) == problems_of(ROOT / "tables")


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
    red = FILLS[Severity.ERROR]
    assert book["Imaging"]["B8"].fill.start_color.rgb.endswith(red)
    assert book[PROBLEMS]["A5"].fill.start_color.rgb.endswith(red)


def test_a_formula_gets_its_value_when_libreoffice_saves_it(
    tmp_path: Path, profile: Path
) -> None:
    """openpyxl writes a formula without its value (E121); LibreOffice calculates and
    stores it, and the value is then used (W121)."""
    original = fixture_book(tmp_path / "a" / "tables" / "imaging.xlsx")
    book = load_workbook(original)
    book["Imaging"]["B10"] = "=9*2"  # R2's age, 18
    book.save(original)
    _, diagnostics = lint(original.parent)
    assert "E121" in [d.code for d in diagnostics]
    resave(original, tmp_path / "b" / "tables", profile)
    _, diagnostics = lint(tmp_path / "b" / "tables")
    formulas = [(d.code, d.location.cell) for d in diagnostics if d.code[1:4] == "121"]
    assert formulas == [("W121", "B10")]
    book = load_workbook(tmp_path / "b" / "tables" / "imaging.xlsx")
    assert book["Imaging"]["B10"].value == "=9*2"  # still a formula


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
    assert '"input,required input,output,annotation"' in kinds


def _system_python_with_uno() -> str | None:
    """The Python that has LibreOffice's `uno` module (Debian: python3-uno)."""
    for python in ("/usr/bin/python3", shutil.which("python3")):
        if python and Path(python).exists():
            found = subprocess.run(
                [python, "-c", "import uno"], capture_output=True, check=False
            )
            if found.returncode == 0:
                return python
    return None


UNO_PYTHON = _system_python_with_uno() if SOFFICE else None


def opened_in_calc(tmp_path: Path, *books: Path) -> dict[str, Any]:
    """What Calc shows for BOOKS (tests/libreoffice_uno.py, run by UNO_PYTHON)."""
    assert UNO_PYTHON is not None
    done = subprocess.run(
        [
            UNO_PYTHON,
            str(Path(__file__).with_name("libreoffice_uno.py")),
            str(tmp_path / "uno-profile"),
            *map(str, books),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    seen: dict[str, Any] = json.loads(done.stdout)
    return seen


needs_uno = pytest.mark.skipif(
    UNO_PYTHON is None, reason="LibreOffice's Python bridge (python3-uno) is missing"
)


@needs_uno
def test_an_annotated_copy_as_calc_shows_it(tmp_path: Path) -> None:
    tables = tmp_path / "tables"
    book = load_workbook(fixture_book(tables / "imaging.xlsx"))
    book["Imaging"]["B8"] = "<< 3"  # an error
    book["Imaging"]["K9"] = "scratch"  # a warning: a cell beside the rules
    book.save(tables / "imaging.xlsx")
    _, diagnostics = lint(tables)
    assert {str(d.severity) for d in diagnostics} == {"error", "warning", "info"}
    annotate(tables, tmp_path / "annotated", diagnostics)
    copy = tmp_path / "annotated" / "imaging.xlsx"
    seen = opened_in_calc(tmp_path, copy)[str(copy)]
    assert seen["sheets"][0] == PROBLEMS and seen["active"] == PROBLEMS
    problems = seen["sheet"][PROBLEMS]
    assert problems["frozen"] == [0, 4]  # the header row stays in view
    imaging = seen["sheet"]["Imaging"]
    placed = [d for d in diagnostics if d.location.sheet == "Imaging"]
    assert placed, diagnostics
    for d in placed:
        first = d.location.cell.split(":")[0]
        assert f"{d.code}: {d.message}" in imaging["comments"][first]
        assert imaging["fills"][first] == FILLS[d.severity]
    targets = sorted({target for _, target in problems["links"].values()})
    wanted = sorted({f"Imaging!{d.location.cell.split(':')[0]}" for d in placed})
    assert targets == wanted  # every link jumps to its cell
    assert imaging["fills"].get("C10") is None  # a cell without problems


@needs_uno
def test_a_template_as_calc_shows_it(tmp_path: Path) -> None:
    tables = tmp_path / "tables"
    new_table(
        "knee_mri",
        [parse_column("age:integer=[0..130]"), parse_column("red_flags:boolean")],
        [parse_column('site:string="left, knee", right')],
        tables / "knee.xlsx",
        hit_policy="FIRST",
    )
    path = tables / "knee.xlsx"
    seen = opened_in_calc(tmp_path, path)[str(path)]
    assert seen["sheets"][:2] == ["knee_mri", "knee_mri tests"]
    table = seen["sheet"]["knee_mri"]
    assert table["frozen"] == [1, 10]  # column A and the rows down to Default
    lists = {cells[0]: formula for formula, cells in table["validations"].items()}
    assert lists["B2"].startswith('"UNIQUE";"FIRST"')
    assert lists["B7"] == '"input";"required input";"output";"annotation"'
    assert lists["C11"] == '"true";"false";"-"'
    assert "knee_mri lists" in lists["D11"]  # a list with a comma: a lists sheet
    assert table["fills"]["A6"] == "DDEBF7"
    assert seen["sheet"]["knee_mri tests"]["frozen"] == [1, 4]
