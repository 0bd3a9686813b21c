"""`compile-rules lint` and `lint --annotate`: every diagnostic lands on its cell in a
copy of the workbook (comment, fill, a linked Problems sheet); sources stay untouched."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.comments import Comment

from compiler.authoring.annotate import FILLS, PROBLEMS, annotate, lint
from compiler.cli import main
from compiler.diagnostics import Severity

from .helpers import write_tables
from .workbooks import decision_table, tests_sheet

ROOT = Path(__file__).resolve().parents[1]

SHEET = "Bob's table"  # an apostrophe, to check link quoting


def broken_table() -> list[list[object]]:
    rows = decision_table(
        "age_band",
        hit_policy="FIRST",
        columns=[
            ("age", "input", "integer", "[0..130]"),
            ("modality", "input", "string", '"CT", "MRI"'),
            ("band", "output", "string", None),
            ("Note", "annotation", None, None),
        ],
        rules=[
            ("R1", "< 18", "MRl", "child", "typo in MRI"),  # row 8: E405 at C8
            ("R2", ">= 18", "CT", "adult", ""),  # row 9
            ("R3", ">= 18", "CT", "adult", "copied"),  # row 10: W406
            ("R4", "17", "MRI", "teen", ""),  # row 11: I132 at B11
        ],
    )
    return [*rows, [], ["R9", "< 5", "CT", "baby"]]  # row 13: W152


def write_broken(tmp_path: Path) -> Path:
    tests = tests_sheet(
        "age_band", [("age", "input"), ("band", "expected")], [("T1", 40, "adult")]
    )
    return write_tables(tmp_path, {"a.xlsx": {SHEET: broken_table(), "T": tests}})


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_lint_reports_like_check_and_exits_3_on_errors(tmp_path: Path) -> None:
    tables = write_broken(tmp_path)
    result = CliRunner().invoke(main, ["lint", "--tables", str(tables)])
    assert result.exit_code == 3, result.output
    assert "error E405" in result.stderr
    assert "warning W406" in result.stderr
    assert "warning W152" in result.stderr


def test_lint_is_clean_on_the_shipped_tables() -> None:
    result = CliRunner().invoke(main, ["lint", "-q", "--tables", str(ROOT / "tables")])
    assert result.exit_code == 0, result.output


def test_annotated_copy_marks_every_cell_and_leaves_the_source(tmp_path: Path) -> None:
    tables = write_broken(tmp_path)
    source = tables / "a.xlsx"
    before = digest(source)
    out = tmp_path / "annotated"
    result = CliRunner().invoke(
        main, ["lint", "-v", "--tables", str(tables), "--annotate", str(out)]
    )
    assert result.exit_code == 3, result.output
    assert f"wrote {out / 'a.xlsx'}" in result.stderr
    assert digest(source) == before

    book = load_workbook(out / "a.xlsx")
    assert book.sheetnames[0] == PROBLEMS
    assert book.active is not None and book.active.title == PROBLEMS
    ws = book[SHEET]
    red, amber, blue = (
        FILLS[s] for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)
    )
    assert ws["C8"].fill.start_color.rgb.endswith(red)
    comment = ws["C8"].comment
    assert comment is not None
    assert "error E405" in comment.text and "did you mean 'MRI'?" in comment.text
    assert ws["A10"].fill.start_color.rgb.endswith(amber)
    assert "W406" in ws["A10"].comment.text and "R2" in ws["A10"].comment.text
    assert ws["B11"].fill.start_color.rgb.endswith(blue)  # an info: shown with -v
    # the forgotten rule: the whole row is amber, the comment on its first cell
    assert all(ws[f"{c}13"].fill.start_color.rgb.endswith(amber) for c in "ABCDE")
    assert "W152" in ws["A13"].comment.text
    # cells without problems keep their look
    assert ws["B9"].fill.fill_type is None and ws["B9"].comment is None


def test_problems_sheet_links_to_each_cell(tmp_path: Path) -> None:
    tables = write_broken(tmp_path)
    _, diagnostics = lint(tables)
    annotate(tables, tmp_path / "out", diagnostics)
    book = load_workbook(tmp_path / "out" / "a.xlsx")
    ws = book[PROBLEMS]
    rows = {
        row[1].value: row
        for row in ws.iter_rows(min_row=5)
        if row[1].value  # the Code column
    }
    assert set(rows) >= {"E405", "W406", "I132", "W152"}
    link = rows["E405"][2].hyperlink
    assert link is not None and link.location == "'Bob''s table'!C8"
    w152 = rows["W152"][2].hyperlink
    assert w152 is not None and w152.location == "'Bob''s table'!A13"
    assert rows["E405"][0].fill.start_color.rgb.endswith(FILLS[Severity.ERROR])
    assert ws["A4"].font.b and ws["A4"].font.name == "Calibri"
    assert rows["W152"][2].font.name == "Calibri" and rows["W152"][2].font.u
    # wrapped messages get the rows' height (no application fits them on opening)
    assert ws.row_dimensions[rows["W152"][0].row].height == 30
    assert ws.row_dimensions[rows["E405"][0].row].height is None  # one line
    # internal links: a `location` attribute, no external relationship
    with zipfile.ZipFile(tmp_path / "out" / "a.xlsx") as archive:
        names = archive.namelist()
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
        rels = [n for n in names if n.startswith("xl/worksheets/_rels/sheet1")]
        external = "".join(archive.read(n).decode() for n in rels)
    assert "location=\"'Bob''s table'!C8\"" in xml
    assert "hyperlink" not in external


def test_existing_comments_are_kept(tmp_path: Path) -> None:
    tables = write_broken(tmp_path)
    book = load_workbook(tables / "a.xlsx")
    book[SHEET]["C8"].comment = Comment("reviewer: check this", "Ann")
    book.save(tables / "a.xlsx")
    _, diagnostics = lint(tables)
    annotate(tables, tmp_path / "out", diagnostics)
    text = load_workbook(tmp_path / "out" / "a.xlsx")[SHEET]["C8"].comment.text
    assert text.startswith("reviewer: check this") and "E405" in text


def test_a_clean_workbook_gets_an_empty_problems_sheet(tmp_path: Path) -> None:
    table = decision_table(
        "band",
        hit_policy="FIRST",
        columns=[("age", "input", "integer", None), ("band", "output", "string", None)],
        rules=[("R1", "< 18", "child"), ("R2", "-", "adult")],
    )
    tables = write_tables(tmp_path, {"b.xlsx": {"Band": table, PROBLEMS: [["x"]]}})
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["lint", "-q", "--tables", str(tables), "--annotate", str(out)]
    )
    assert result.exit_code == 0, result.output
    book = load_workbook(out / "b.xlsx")
    # a sheet already named Problems is kept; the new one gets another name
    assert book.sheetnames[:2] == [f"{PROBLEMS} (2)", "Band"]
    assert PROBLEMS in book.sheetnames


def test_unreadable_workbooks_are_skipped(tmp_path: Path) -> None:
    tables = write_broken(tmp_path)
    (tables / "broken.xlsx").write_bytes(b"not a zip")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["lint", "--tables", str(tables), "--annotate", str(out)]
    )
    assert result.exit_code == 3
    assert "E001" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.xlsx"]


def test_copies_may_not_go_into_the_tables_folder(tmp_path: Path) -> None:
    tables = write_broken(tmp_path)
    result = CliRunner().invoke(
        main, ["lint", "--tables", str(tables), "--annotate", str(tables / "x")]
    )
    assert result.exit_code == 2
    assert "outside the tables folder" in result.stderr


def test_annotating_the_shipped_workbooks(tmp_path: Path) -> None:
    """Infos are no problems unless -v asks for them: by default the copies have
    none; with -v, the note sheets' I001."""
    out = tmp_path / "review"
    result = CliRunner().invoke(
        main, ["lint", "-q", "--tables", str(ROOT / "tables"), "--annotate", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "(0 problem(s))" in result.stderr and "(2 problem(s))" not in result.stderr
    names = sorted(p.name for p in (ROOT / "tables").glob("*.xlsx"))
    assert sorted(p.name for p in out.glob("*.xlsx")) == names
    book = load_workbook(out / "imaging_preface.xlsx")
    rows = list(book[PROBLEMS].iter_rows(min_row=5, values_only=True))
    assert [row[3] for row in rows] == ["No problems."]
    verbose = CliRunner().invoke(
        main, ["lint", "-v", "--tables", str(ROOT / "tables"), "--annotate", str(out)]
    )
    assert verbose.exit_code == 0, verbose.output
    assert "wrote " + str(out / "imaging_preface.xlsx") + " (2 problem(s))" in (
        verbose.stderr
    )
    book = load_workbook(out / "imaging_preface.xlsx")
    codes = [row[1] for row in book[PROBLEMS].iter_rows(min_row=5, values_only=True)]
    assert codes == ["I001", "I001"]  # the About and Lists note sheets
