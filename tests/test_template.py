"""`compile-rules new`: a table sheet and an empty Tests sheet that compile as they are,
with styled frozen headers, widths and dropdowns; existing sheets are never replaced."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from compiler.authoring.new_table import (
    TemplateError,
    check_hit_policy,
    new_table,
    parse_column,
)
from compiler.cli import main
from compiler.diagnostics import Severity
from compiler.pipeline import compile_tables

from .helpers import write_tables
from .workbooks import decision_table

ROOT = Path(__file__).resolve().parents[1]
AGE = parse_column("age:integer")


def compiles(tables: Path) -> dict[str, str]:
    """The generated files; fails on any error or warning."""
    compilation = compile_tables(tables)
    problems = [d for d in compilation.diagnostics if d.severity > Severity.INFO]
    assert compilation.files is not None and not problems, "\n".join(
        d.format() for d in compilation.diagnostics
    )
    return compilation.files


def validations(ws: object) -> dict[str, str]:
    """sqref -> formula1 of a sheet's dropdowns."""
    return {
        str(dv.sqref): dv.formula1
        for dv in ws.data_validations.dataValidation  # type: ignore[attr-defined]
    }


def test_new_workbook_compiles_as_is(tmp_path: Path) -> None:
    tables = tmp_path / "tables"
    written = new_table(
        "knee_mri",
        [
            parse_column("age:integer=[0..130]"),
            parse_column("modality:string=CT, MRI"),
            parse_column("red_flags:boolean"),
            parse_column("cpt:code=73721, 73722"),
            parse_column("seen:date"),
        ],
        [parse_column("approved:boolean"), parse_column("reason:string")],
        tables / "knee.xlsx",
        hit_policy="first",
    )
    assert written.created and written.sheet == "knee_mri"
    files = compiles(tables)
    assert {"knee_mri.py", "knee_mri.md", "tests/test_knee_mri.py"} <= set(files)

    book = load_workbook(tables / "knee.xlsx")
    assert book.sheetnames == ["knee_mri", "knee_mri tests"]
    ws = book["knee_mri"]
    assert ws["B1"].value == "knee_mri" and ws["B2"].value == "FIRST"
    assert [ws.cell(6, c).value for c in range(1, 10)] == [
        "Rule",
        "age",
        "modality",
        "red_flags",
        "cpt",
        "seen",
        "approved",
        "reason",
        "Note",
    ]
    assert ws["A11"].value == "R1"
    assert [ws.cell(11, c).value for c in range(2, 9)] == [
        "-",
        "-",
        "-",
        "-",
        "-",
        "false",  # as the dropdown offers it (LibreOffice shows a boolean as 0)
        "example",
    ]
    assert ws.freeze_panes == "B11"
    assert ws["A6"].font.b and ws["B7"].font.b
    assert ws["A6"].font.name == "Calibri"  # no nameless font: a serif in LibreOffice
    assert ws.row_dimensions[11].height == 30  # the example's wrapped note: two lines
    assert ws["B6"].fill.start_color.rgb.endswith("DDEBF7")
    assert ws.column_dimensions["B"].width >= 14
    dropdowns = validations(ws)
    assert "HIT POLICY" not in dropdowns  # a real sqref, not a label
    assert dropdowns["B2"].startswith('"UNIQUE,FIRST,PRIORITY')
    assert dropdowns["B7:N7"] == '"input,required input,output,annotation"'
    assert dropdowns["B8:N8"] == (
        '"string,code,integer,number,boolean,date,duration,time,datetime,years and months duration"'
    )
    assert dropdowns["C11:C210"] == '"CT,MRI,-"'
    assert dropdowns["D11:D210"] == '"true,false,-"'
    assert dropdowns["E11:E210"] == '"73721,73722,-"'
    assert dropdowns["G11:G210"] == '"true,false,null"'
    assert "B11:B210" not in dropdowns  # a range is not a list

    tests = book["knee_mri tests"]
    assert [tests.cell(r, 1).value for r in (1, 3, 4)] == ["Tests", "Case", "Kind"]
    assert tests["B1"].value == "knee_mri"
    assert tests.max_row == 4  # no cases yet
    assert tests.freeze_panes == "B5"
    assert validations(tests)["C5:C204"] == '"CT,MRI,null"'


@pytest.mark.parametrize(
    ("policy", "outputs"),
    [
        ("UNIQUE", ["x:string"]),
        ("ANY", ["x:string"]),
        ("PRIORITY", ['level:string="high", "low"']),
        ("OUTPUT ORDER", ["level:string=high, low", "why:string"]),
        ("COLLECT", ["x:string"]),
        ("C+", ["points:integer"]),
        ("COLLECT MAX", ["until:date"]),
        ("COLLECT COUNT", ["n:integer"]),
        ("RULE ORDER", ["x:boolean"]),
    ],
)
def test_every_hit_policy_compiles(
    tmp_path: Path, policy: str, outputs: list[str]
) -> None:
    tables = tmp_path / "tables"
    new_table(
        "t",
        [parse_column("a:number")],
        [parse_column(o) for o in outputs],
        tables / "t.xlsx",
        hit_policy=policy,
    )
    compiles(tables)


def test_long_or_comma_lists_go_to_a_hidden_sheet(tmp_path: Path) -> None:
    tables = tmp_path / "tables"
    many = ", ".join(f'"diagnosis number {i}"' for i in range(20))
    new_table(
        "t",
        [parse_column(f"dx:string={many}"), parse_column('site:string="a, b", c')],
        [parse_column("ok:boolean")],
        tables / "t.xlsx",
    )
    compiles(tables)
    book = load_workbook(tables / "t.xlsx")
    lists = book["t lists"]
    assert lists.sheet_state == "hidden"
    assert lists["A3"].value == "diagnosis number 1"
    dropdowns = validations(book["t"])
    assert dropdowns["B11:B210"] == "'t lists'!$A$2:$A$22"
    assert dropdowns["C11:C210"] == "'t lists'!$B$2:$B$4"
    assert [lists.cell(r, 2).value for r in (2, 3, 4)] == ['"a, b"', "c", "-"]


def test_sheets_are_added_to_an_existing_workbook(tmp_path: Path) -> None:
    existing = decision_table(
        "band",
        hit_policy="FIRST",
        columns=[("age", "input", "integer", None), ("band", "output", "string", None)],
        rules=[("R1", "< 18", "child"), ("R2", "-", "adult")],
    )
    tables = write_tables(tmp_path, {"b.xlsx": {"Band": existing}})
    before = compiles(tables)
    written = new_table(
        "route",
        [parse_column("urgent:boolean")],
        [parse_column("queue:string")],
        tables / "b.xlsx",
    )
    assert not written.created
    after = compiles(tables)
    assert load_workbook(tables / "b.xlsx").sheetnames == [
        "Band",
        "route",
        "route tests",
    ]
    assert after["band.py"] == before["band.py"]
    assert after["band.md"] == before["band.md"]


def test_an_existing_sheet_is_never_replaced(tmp_path: Path) -> None:
    tables = write_tables(tmp_path, {"b.xlsx": {"route tests": [["notes"]]}})
    digest = hashlib.sha256((tables / "b.xlsx").read_bytes()).hexdigest()
    with pytest.raises(TemplateError, match="already has a sheet named 'route tests'"):
        new_table(
            "route",
            [parse_column("a:string")],
            [parse_column("q:string")],
            tables / "b.xlsx",
        )
    assert hashlib.sha256((tables / "b.xlsx").read_bytes()).hexdigest() == digest


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Age:integer", "snake_case"),
        ("age", "NAME:TYPE"),
        ("age:integr", "did you mean 'integer'"),
        ("age:integer=[10..1]", "Values"),
        ("class:string", "keyword"),
    ],
)
def test_bad_columns_are_refused(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        parse_column(text)


def test_policies_are_checked_before_writing(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="unknown hit policy"):
        check_hit_policy("FRIST")
    with pytest.raises(TemplateError, match="PRIORITY ranks rules"):
        new_table(
            "t", [AGE], [parse_column("x:string")], tmp_path / "t.xlsx", hit_policy="P"
        )
    with pytest.raises(TemplateError, match="COLLECT SUM needs"):
        new_table(
            "t", [AGE], [parse_column("x:string")], tmp_path / "t.xlsx", hit_policy="C+"
        )
    assert not (tmp_path / "t.xlsx").exists()


def test_cli_new(tmp_path: Path) -> None:
    tables = tmp_path / "tables"
    tables.mkdir()
    runner = CliRunner()
    args = ["new", "--tables", str(tables), "knee_mri", "--input", "age:integer"]
    result = runner.invoke(main, [*args, "--output", "approved:boolean"])
    assert result.exit_code == 0, result.output
    assert f"created {tables / 'knee_mri.xlsx'}" in result.stderr
    compiles(tables)
    again = runner.invoke(main, [*args, "--output", "approved:boolean"])
    assert again.exit_code == 2
    assert "already exists" in again.stderr
    second = runner.invoke(
        main,
        [
            "new",
            "--tables",
            str(tables),
            "hip_mri",
            "--input",
            "side:string=left, right",
            "--output",
            "ok:boolean",
            "--into",
            str(tables / "knee_mri.xlsx"),
        ],
    )
    assert second.exit_code == 0, second.output
    assert "added to" in second.stderr
    compiles(tables)
    no_output = runner.invoke(main, ["new", "--tables", str(tables), "x"])
    assert no_output.exit_code == 2 and "--input" in no_output.stderr
    no_output = runner.invoke(
        main, ["new", "--tables", str(tables), "x", "--input", "a:date"]
    )
    assert no_output.exit_code == 2 and "--output" in no_output.stderr


def test_cli_new_refuses_a_workbook_open_in_excel(tmp_path: Path) -> None:
    tables = tmp_path / "tables"
    tables.mkdir()
    (tables / "~$knee.xlsx").write_bytes(b"owner")
    result = CliRunner().invoke(
        main,
        [
            "new",
            "--tables",
            str(tables),
            "knee",
            "--input",
            "a:date",
            "--output",
            "ok:boolean",
            "--into",
            str(tables / "knee.xlsx"),
        ],
    )
    assert result.exit_code == 2 and "open in a spreadsheet" in result.stderr
    assert not (tables / "knee.xlsx").exists()


def test_adding_to_a_shipped_workbook_keeps_its_tables(tmp_path: Path) -> None:
    tables = tmp_path / "tables"
    tables.mkdir()
    for workbook in (ROOT / "tables").glob("*.xlsx"):
        shutil.copy2(workbook, tables / workbook.name)
    before = compile_tables(tables).files
    assert before is not None
    new_table(
        "contrast_route",
        [parse_column("gfr_ml_min:number=[0..200]")],
        [parse_column("route:string")],
        tables / "imaging_preface.xlsx",
    )
    after = compile_tables(tables).files
    assert after is not None
    assert {k: v for k, v in after.items() if k in before and k != "__init__.py"} == {
        k: v for k, v in before.items() if k != "__init__.py"
    }
    assert "contrast_route.py" in after
