"""Hardening, second round (issue 14): no silent wrong answers, no exit 123 for a
user's mistake, bounded resources. One test (or parametrized group) per class of
failure; each failed before its fix."""

from __future__ import annotations

import ast
import datetime as dt
import gc
import os
import re
import sys
import tracemalloc
import weakref
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from compiler.authoring.site import write_report
from compiler.cli import main
from compiler.diagnostics import Diagnostic
from compiler.emitting.loader import load_table, sibling
from compiler.pipeline import compile_tables, load_tables
from compiler.reading import workbook
from compiler.reading.sheets import BUILTIN_NAMES, GENERATED_NAMES, MAX_TABLE_NAME
from compiler.reading.sheets.common import VERSION_2_NAMES
from compiler.reading.workbook import EXCEL_ERRORS

from . import hostile
from .helpers import compiled_module, errors, evaluator, write_tables
from .workbooks import decision_table, tests_sheet, values_sheet

# -- Excel error values -----------------------------------------------------------------


def set_cell_xml(path: Path, sheet: int, ref: str, xml: str) -> None:
    """Replace the cell REF of the SHEET-th worksheet (1-based) by the XML of a cell
    (what openpyxl cannot write: cached formula values, errors)."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    name = f"xl/worksheets/sheet{sheet}.xml"
    text = parts[name].decode()
    pattern = re.compile(rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)')
    assert pattern.search(text), f"no cell {ref} in {name}"
    parts[name] = pattern.sub(lambda _: xml.replace("REF", ref), text, count=1).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for part, data in parts.items():
            archive.writestr(part, data)


def error_book(root: Path) -> Path:
    """A table with Values and Default rows, a Values sheet and a Tests sheet."""
    columns = [
        ("age", "input", "integer", "[0..130]"),
        ("kind", "input", "string", "kinds"),
        ("band", "output", "string", None),
    ]
    table = decision_table(
        "band",
        columns,
        [("R1", "< 18", "-", "child"), ("R2", ">= 18", "-", "adult")],
        hit_policy="FIRST",
        defaults={"band": "none"},
    )
    tests = tests_sheet(
        "band",
        [("age", "input"), ("band", "expected")],
        [("T1", 5, "child"), ("T2", 40, "adult")],
    )
    books = {"b.xlsx": {"Band": table, "Values": values_sheet({"kinds": "a, b"})}}
    books["t.xlsx"] = {"Tests": tests}
    return write_tables(root, books)


# (workbook, sheet number, cell): the table name, its hit policy, a column name, its kind and type,
# a Values entry, a Default, a rule's input and output, a Values-sheet list, a Tests
# input and expected value, and A1 (which says what a sheet is).
PLACES = [
    ("b.xlsx", 1, "B1"),
    ("b.xlsx", 1, "B2"),
    ("b.xlsx", 1, "B4"),
    ("b.xlsx", 1, "B5"),
    ("b.xlsx", 1, "B6"),
    ("b.xlsx", 1, "B7"),
    ("b.xlsx", 1, "D8"),
    ("b.xlsx", 1, "B9"),
    ("b.xlsx", 1, "D10"),
    ("b.xlsx", 2, "B3"),
    ("b.xlsx", 1, "A1"),
    ("t.xlsx", 1, "B5"),
    ("t.xlsx", 1, "C6"),
    ("t.xlsx", 1, "A1"),
]
SHEETS = {("b.xlsx", 1): "Band", ("b.xlsx", 2): "Values", ("t.xlsx", 1): "Tests"}
CACHED = '<c r="REF" t="e"><f>VLOOKUP(1,Z1:Z2,2,FALSE)</f><v>{error}</v></c>'
PLAIN = '<c r="REF" t="e"><v>{error}</v></c>'
TEXT = '<c r="REF" t="inlineStr"><is><t>{error}</t></is></c>'


def assert_error_named(tables: Path, book: str, sheet: int, ref: str) -> None:
    _, diagnostics = load_tables(tables)
    found = [d for d in errors(diagnostics) if d.code == "E122"]
    where = f"tables/{book}:{SHEETS[(book, sheet)]}!{ref}"
    assert [str(d.location) for d in found] == [where], diagnostics


@pytest.mark.parametrize("form", [CACHED, PLAIN, TEXT], ids=["cached", "plain", "text"])
@pytest.mark.parametrize(("book", "sheet", "ref"), PLACES)
def test_an_excel_error_in_any_cell_read_is_an_error_naming_it(
    tmp_path: Path, form: str, book: str, sheet: int, ref: str
) -> None:
    """Was: a formula's cached #N/A compiled as the string "#N/A" (a warning only)."""
    tables = error_book(tmp_path)
    set_cell_xml(tables / book, sheet, ref, form.format(error="#N/A"))
    assert_error_named(tables, book, sheet, ref)


@pytest.mark.parametrize("error", sorted(EXCEL_ERRORS))
def test_every_excel_error_value_is_an_error(tmp_path: Path, error: str) -> None:
    assert {"#N/A", "#REF!", "#SPILL!", "#CALC!", "#GETTING_DATA"} <= EXCEL_ERRORS
    tables = error_book(tmp_path)
    set_cell_xml(tables / "b.xlsx", 1, "D10", CACHED.format(error=error))
    assert_error_named(tables, "b.xlsx", 1, "D10")


def test_the_text_of_an_error_value_in_quotes_is_text(tmp_path: Path) -> None:
    tables = error_book(tmp_path)
    set_cell_xml(tables / "b.xlsx", 1, "D10", TEXT.format(error='"#N/A"'))
    project, diagnostics = load_tables(tables)
    assert project is not None and not errors(diagnostics), diagnostics
    assert project.decision("band").first.rules[1].outputs == ("#N/A",)


# -- names that collide with generated code ----------------------------------------------

DATED = {"Effective from": "2025-01-01"}


def dated_table(input_name: str, kind: str = "input") -> list[list[object]]:
    columns = [
        (input_name, kind, "integer", None),
        ("band", "output", "string", None),
    ]
    rules = [("R1", "< 18", "child"), ("R2", ">= 18", "adult")]
    return decision_table("band", columns, rules, hit_policy="FIRST", metadata=DATED)


@pytest.mark.parametrize(
    "name", ["date", "today", "mask", "type", "int", "len", "checked_mask", "str"]
)
def test_an_input_named_like_generated_code_is_refused(
    tmp_path: Path, name: str
) -> None:
    """Was: `date` or `today` compiled with no problems, then every evaluate raised
    TypeError ('int' object is not callable)."""
    tables = write_tables(tmp_path, {"b.xlsx": {"Band": dated_table(name)}})
    _, diagnostics = load_tables(tables)
    found = [d for d in errors(diagnostics) if d.code == "E111"]
    assert [str(d.location) for d in found] == ["tables/b.xlsx:Band!B5"], diagnostics
    assert name in found[0].hint and f"{name}_value" in found[0].hint


@pytest.mark.parametrize("name", ["zip", "id", "input", "format"])
def test_an_input_named_like_a_builtin_no_generated_code_calls_evaluates(
    tmp_path: Path, name: str
) -> None:
    sheet = dated_table(name)
    module = evaluator(tmp_path, {"b.xlsx": {"Band": sheet}}, "band")
    result = module.evaluate(**{name: 40}, as_of=dt.date(2025, 6, 1))
    assert result.outputs.band == "adult"


def test_an_output_may_take_such_a_name_and_still_evaluates(tmp_path: Path) -> None:
    """Outputs are fields of `Outputs`, never locals: `date`, `type` or `index` are
    fine there (an input of a table fed by one is refused, as above)."""
    columns = [
        ("age", "input", "integer", None),
        ("type", "output", "string", None),
        ("index", "output", "integer", None),
    ]
    rules = [("R1", "< 18", "child", 1), ("R2", ">= 18", "adult", 2)]
    sheet = decision_table("band", columns, rules, hit_policy="FIRST", metadata=DATED)
    module = evaluator(tmp_path, {"b.xlsx": {"Band": sheet}}, "band")
    result = module.evaluate(age=40, as_of=dt.date(2025, 6, 1))
    assert (result.outputs.type, result.outputs.index) == ("adult", 2)


def test_a_table_named_index_is_refused(tmp_path: Path) -> None:
    """Was: its page index.html overwrote the report's list of tables."""
    sheet = decision_table(
        "index",
        [("age", "input", "integer", None), ("band", "output", "string", None)],
        [("R1", "-", "x")],
    )
    _, diagnostics = load_tables(write_tables(tmp_path, {"i.xlsx": {"I": sheet}}))
    assert [d.code for d in errors(diagnostics)] == ["E101"]


def test_numbered_test_modules_never_take_another_tables_name(tmp_path: Path) -> None:
    """Was: the second Tests sheet of `a` and the Tests sheet of `a_2` both wrote
    tests/test_a_2.py, one silently lost."""
    columns = [("x", "input", "integer", None), ("y", "output", "integer", None)]
    books: dict[str, dict[str, list[list[object]]]] = {}
    for name in ("a", "a_2"):
        table = decision_table(name, columns, [("R1", "-", 1)])
        suite = tests_sheet(name, [("x", "input"), ("y", "expected")], [("T1", 1, 1)])
        books[f"{name}.xlsx"] = {"Table": table, "Tests": suite}
    books["a.xlsx"]["More tests"] = tests_sheet(
        "a", [("x", "input"), ("y", "expected")], [("T2", 2, 1)]
    )
    compilation = compile_tables(write_tables(tmp_path, books))
    assert compilation.files is not None
    modules = sorted(n for n in compilation.files if n.startswith("tests/test_a"))
    assert modules == ["tests/test_a.py", "tests/test_a_2.py", "tests/test_a_3.py"]
    assert "a_2 as table" in compilation.files["tests/test_a_2.py"]


def _body_names(source: str) -> set[str]:
    """Lowercase names the functions of SOURCE that take inputs read but do not take."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.args.kwonlyargs + node.args.args:
            params = {a.arg for a in node.args.args + node.args.kwonlyargs}
            if {"frame", "categorical"} >= params or {"mask"} >= params:
                continue  # evaluate_frame and the mask helpers take no input
            found |= {
                n.id
                for n in ast.walk(node)
                if isinstance(n, ast.Name) and n.id[:1].islower() and n.id not in params
            }
    return found


def test_generated_functions_use_only_names_an_input_cannot_take() -> None:
    """The audit behind GENERATED_NAMES and BUILTIN_NAMES: in the generated modules
    (the shipped tables and the golden ones), every lowercase name a function that
    takes inputs uses is refused as an input name (VERSION_2_NAMES in a table that
    uses version 2), or is a chained or computed input (a local holding the output of
    the table it comes from, or the value of its expression), or `value`, the local
    of `_compute_<name>`, whose parameters are only the inputs its expression reads."""
    root = Path(__file__).resolve().parents[1]
    sources = [
        *sorted((root / "generated").glob("[a-z]*.py")),
        *sorted((root / "tests" / "golden").glob("[a-z]*.py")),
    ]
    assert len(sources) > 20
    project, _ = load_tables(root / "tables")
    assert project is not None
    chained = {
        c.name
        for d in project.decisions
        for c in d.first.inputs
        if c.source_table or c.computed
    }
    chained |= {"obese", "risk"}  # the golden tables' chained inputs
    used = set().union(*(_body_names(p.read_text()) for p in sources))
    assert {"type", "int", "mask", "evaluation_date", "date", "feel"} <= used
    allowed = GENERATED_NAMES | BUILTIN_NAMES | VERSION_2_NAMES | {"value"}
    assert used - chained <= allowed


@pytest.mark.parametrize(
    ("name", "kind", "type_", "entry", "refused"),
    [
        ("feel", "input", "date", ">= other", True),  # was: AttributeError at run time
        ("timedelta", "required input", "duration", "> 14 days", True),
        ("time", "input", "time", "< 08:00", True),
        ("feel", "input", "integer", "> 1", False),  # version 1: feel is a fine name
        ("mask", "required input", "integer", "> 1", True),  # was: not checked
    ],
)
def test_an_input_cannot_take_a_name_its_generated_code_uses(
    tmp_path: Path, name: str, kind: str, type_: str, entry: str, refused: bool
) -> None:
    table = decision_table(
        "t",
        [
            (name, kind, type_, None),
            ("other", "input", "date", None),
            ("ok", "output", "boolean", None),
        ],
        # `>= other` is written in the other column: other >= the named input
        [("R1", "-", f">= {name}", True)]
        if entry == ">= other"
        else [("R1", entry, "-", True)],
        defaults={"ok": False},
    )
    compilation = compile_tables(write_tables(tmp_path, {"t.xlsx": [table]}))
    found = [d for d in errors(compilation.diagnostics) if d.code == "E111"]
    assert bool(found) is refused, compilation.diagnostics
    if refused:
        assert found[0].location.cell == "B3" and f"{name}_value" in found[0].hint


# -- a workbook that cannot be read is not a removed workbook ----------------------------


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception
    )
    return result.exit_code, result.output


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _dangling(path: Path) -> None:
    path.unlink()
    path.symlink_to(path.parent / ".git" / "annex" / "objects" / "missing")


def _folder(path: Path) -> None:
    path.unlink()
    path.mkdir()
    (path / "inside.txt").write_text("a folder, not a workbook")


def _device(path: Path) -> None:
    path.unlink()
    path.symlink_to("/dev/null")


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _lfs_pointer(path: Path) -> None:
    path.write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:"
        + "0" * 64
        + "\nsize 12345\n"
    )


@pytest.mark.parametrize(
    "spoil",
    [_dangling, _folder, _device, _fifo, _lfs_pointer],
    ids=["dangling-symlink", "folder", "device", "fifo", "lfs-pointer"],
)
def test_an_unreadable_workbook_is_an_error_and_nothing_is_removed(
    tmp_path: Path, spoil: Callable[[Path], None]
) -> None:
    """Was: a dangling symlink (an unfetched LFS or annex file), a folder or a device
    named *.xlsx was skipped without a word; compile then deleted that table's module
    and tests, exited 0, and check said current."""
    columns = [("age", "input", "integer", None), ("band", "output", "string", None)]
    books = {
        f"{name}.xlsx": {"T": decision_table(name, columns, [("R1", "-", "x")])}
        for name in ("band", "other")
    }
    tables = write_tables(tmp_path, books)
    out = tmp_path / "generated"
    assert cli("compile", "--tables", str(tables), "--out", str(out))[0] == 0
    before = snapshot(out)
    assert "band.py" in before
    spoil(tables / "band.xlsx")
    code, output = cli("compile", "--tables", str(tables), "--out", str(out))
    assert code == 3, output
    assert "tables/band.xlsx" in output and "E001" in output
    assert snapshot(out) == before
    code, output = cli("check", "--tables", str(tables), "--out", str(out))
    assert code != 0 and "current" not in output.replace("not current", ""), output


def test_a_workbook_without_permission_to_read_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(Root reads every file, so the refusal is simulated.)"""
    path = tmp_path / "band.xlsx"
    path.write_bytes(b"PK")

    def refuse(*_: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)
    found = workbook.read_workbook(path, "tables/band.xlsx")
    assert isinstance(found, Diagnostic) and found.code == "E001"
    assert "Permission denied" in found.message


def _refuse_listing(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """os.scandir of FOLDER raises PermissionError, as for a user without read
    permission (root reads every folder, so the suite simulates it as well)."""
    real = os.scandir

    def scandir(path: object = ".") -> object:
        if Path(os.fsdecode(path)).resolve() == folder.resolve():  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)


@pytest.mark.parametrize("how", ["simulated", "chmod"])
@pytest.mark.parametrize(
    "where", ["sub", "."], ids=["a-subfolder", "the-tables-folder"]
)
def test_a_folder_without_permission_to_read_is_an_error_and_nothing_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, where: str
) -> None:
    """Was: `rglob` skips a folder it cannot list without a word, so its tables were
    taken for removed ones: compile deleted their modules and exited 0 (and with a
    cached compilation of the folder without them, `check` said current)."""
    if how == "chmod" and os.geteuid() == 0:
        pytest.skip("root lists every folder; the simulated case covers root")
    columns = [("age", "input", "integer", None), ("band", "output", "string", None)]
    table = {"T": decision_table("other", columns, [("R1", "-", "x")])}
    tables = write_tables(tmp_path, {"other.xlsx": table})
    out = tmp_path / "generated"
    # A compilation of the folder without the subfolder, in the cache.
    assert cli("compile", "--tables", str(tables), "--out", str(out))[0] == 0
    sub = tables / "sub"
    write_tables(
        sub, {"band.xlsx": {"T": decision_table("band", columns, [("R1", "-", "x")])}}
    )
    (sub / "tables").rename(sub / "in")
    assert cli("compile", "--tables", str(tables), "--out", str(out))[0] == 0
    before = snapshot(out)
    assert "band.py" in before and "other.py" in before
    folder = sub / "in" if where == "sub" else tables
    shown = "tables/sub/in" if where == "sub" else "tables"
    if how == "chmod":
        folder.chmod(0)
    else:
        _refuse_listing(monkeypatch, folder)
    try:
        for command in ("compile", "check"):
            code, output = cli(command, "--tables", str(tables), "--out", str(out))
            assert code == 3, output
            assert f"{shown}: error E003: cannot read this folder" in output, output
            assert "Permission denied" in output and "Traceback" not in output
            assert snapshot(out) == before
    finally:
        folder.chmod(0o755)


def test_a_workbook_without_permission_is_an_error_and_nothing_is_removed(
    tmp_path: Path,
) -> None:
    """chmod 000 on a workbook (the reader's refusal is also simulated above)."""
    if os.geteuid() == 0:
        pytest.skip(
            "root reads every file; test_a_workbook_without_permission_to_read_is_an_error covers root"
        )
    columns = [("age", "input", "integer", None), ("band", "output", "string", None)]
    table = {"T": decision_table("band", columns, [("R1", "-", "x")])}
    tables = write_tables(tmp_path, {"band.xlsx": table})
    out = tmp_path / "generated"
    assert cli("compile", "--tables", str(tables), "--out", str(out))[0] == 0
    before = snapshot(out)
    (tables / "band.xlsx").chmod(0)
    try:
        for command in ("compile", "check"):
            code, output = cli(command, "--tables", str(tables), "--out", str(out))
            assert code == 3 and "tables/band.xlsx: error E001" in output, output
            assert "Permission denied" in output and "Traceback" not in output
            assert snapshot(out) == before
    finally:
        (tables / "band.xlsx").chmod(0o644)


# -- NaN: one meaning, missing -------------------------------------------------------------

NAN_TABLES = [
    ("number", None, "1", "not(1)"),
    ("number", None, "not(null)", "-"),
    ("number", "[0..100]", "< 50", ">= 50"),
    ("integer", "[0..130]", "< 18", ">= 18"),
    ("integer", None, "null", "not(null)"),
    ("string", None, "CT", "not(CT)"),
    ("code", None, "M54*", "-"),
]


@pytest.mark.parametrize(("type_", "values", "first", "second"), NAN_TABLES)
def test_nan_is_missing_in_evaluate_explain_and_evaluate_frame(
    tmp_path: Path, type_: str, values: str | None, first: str, second: str
) -> None:
    """Was: evaluate(x=nan) matched `not(null)` in a number column (NaN was a value)
    and raised InputError elsewhere, while evaluate_frame took NaN as missing."""
    pd = pytest.importorskip("pandas")
    np = pytest.importorskip("numpy")
    columns = [("x", "input", type_, values), ("y", "output", "string", None)]
    rules = [("R1", first, "a"), ("R2", second, "b"), ("R3", "-", "c")]
    sheet = decision_table("t", columns, rules, hit_policy="FIRST")
    module = evaluator(tmp_path, {"t.xlsx": {"T": sheet}}, "t")
    missing = module.evaluate(x=None)
    for nan in (float("nan"), np.float64("nan")):
        assert module.evaluate(x=nan) == missing
        assert module.explain(x=nan).result == missing
    frame = module.evaluate_frame(pd.DataFrame({"x": [np.nan, None]}))
    assert frame["matched"].tolist() == [missing.matched[0]] * 2


def test_nan_is_missing_in_run_on_parquet_as_in_evaluate(tmp_path: Path) -> None:
    """pyarrow, polars and Spark write NaN in a float column where an integer is
    missing: `run` decides such a row as `evaluate` does with None."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    columns = [
        ("age", "input", "integer", "[0..130]"),
        ("bmi", "input", "number", None),
        ("y", "output", "string", None),
    ]
    rules = [
        ("R1", "< 18", "not(null)", "a"),
        ("R2", "not(null)", "-", "b"),
        ("R3", "-", "-", "c"),
    ]
    sheet = decision_table("t", columns, rules, hit_policy="FIRST")
    tables = write_tables(tmp_path, {"t.xlsx": {"T": sheet}})
    nan = float("nan")
    ages, bmis = [12.0, nan, None, 40.0], [nan, 20.5, nan, None]
    pq.write_table(
        pa.table({"age": pa.array(ages), "bmi": pa.array(bmis)}),
        tmp_path / "in.parquet",
    )
    code, output = cli(
        "run",
        "--tables",
        str(tables),
        "t",
        "--input",
        str(tmp_path / "in.parquet"),
        "--output",
        str(tmp_path / "out.parquet"),
    )
    assert code == 0, output
    matched = pq.read_table(tmp_path / "out.parquet").column("matched").to_pylist()
    module = compiled_module(compile_tables(tables), "t")

    def scalar(value: float | None) -> float | None:
        return None if value is None or value != value else value

    expected = []
    for a, b in zip(ages, bmis, strict=True):
        age = scalar(a)
        expected.append(
            module.evaluate(
                age=None if age is None else int(age), bmi=scalar(b)
            ).matched[0]
        )
    nan_age = module.evaluate(age=nan, bmi=nan).matched[0]
    assert matched == expected and nan_age == expected[2]


# -- user errors that ended in exit 123 or a raw exception -------------------------------


def test_a_table_name_too_long_for_a_file_name_is_refused(tmp_path: Path) -> None:
    """Was: a valid name of 250 characters exited 123 ("File name too long")."""
    columns = [("age", "input", "integer", None), ("band", "output", "string", None)]
    ok, long = "t" * MAX_TABLE_NAME, "t" * 250
    books = {
        f"{n}.xlsx": {"T": decision_table(name, columns, [("R1", "-", "x")])}
        for n, name in (("ok", ok), ("long", long))
    }
    tables = write_tables(tmp_path, books)
    code, output = cli("compile", "--tables", str(tables), "--out", str(tmp_path / "g"))
    assert code == 3 and "Traceback" not in output, output
    assert "tables/long.xlsx:T!B1: error E101" in output
    assert "at most 100" in output and "ok.xlsx" not in output
    (tables / "long.xlsx").unlink()
    code, output = cli("compile", "--tables", str(tables), "--out", str(tmp_path / "g"))
    assert code == 0, output
    assert (tmp_path / "g" / f"{ok}.py").is_file()


def test_import_dmn_makes_names_a_file_system_holds(tmp_path: Path) -> None:
    name = "Eligibility for the programme of " + "very " * 60 + "long names"
    body = (
        f'<decision id="d" name="{name}"><decisionTable>'
        '<input><inputExpression typeRef="number"><text>x</text></inputExpression>'
        '</input><output id="o" name="y" typeRef="string"/>'
        '<rule id="r1"><inputEntry><text>-</text></inputEntry>'
        '<outputEntry><text>"a"</text></outputEntry></rule>'
        "</decisionTable></decision>"
    )
    xml = (
        '<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" '
        f'id="defs" name="m" namespace="http://example.com/m">{body}</definitions>'
    )
    source = tmp_path / "m.dmn"
    source.write_text(xml)
    tables = tmp_path / "tables"
    code, output = cli("import-dmn", str(source), "--tables", str(tables))
    assert code == 0, output
    compilation = compile_tables(tables)
    assert compilation.project is not None and compilation.files is not None
    (table,) = [d.name for d in compilation.project.decisions]
    assert table.startswith("eligibility_for_the_programme_of_very")
    assert len(table) <= MAX_TABLE_NAME


def test_two_sheets_whose_names_differ_in_case_are_refused(tmp_path: Path) -> None:
    """Was: openpyxl renamed the second to RULES1, and messages named that sheet,
    which does not exist."""
    columns = [("age", "input", "integer", None), ("band", "output", "string", None)]
    tables = write_tables(
        tmp_path,
        {"b.xlsx": {"Rules": decision_table("a", columns, [("R1", "-", "x")])}},
    )
    book = tables / "b.xlsx"
    with zipfile.ZipFile(book) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts["xl/worksheets/sheet2.xml"] = parts[sheet].replace(b">a<", b">b<")
    workbook_xml = parts["xl/workbook.xml"].decode()
    workbook_xml = re.sub(
        r"(<sheet [^>]*/>)",
        lambda m: (
            m.group(1)
            + m.group(1)
            .replace('"Rules"', '"RULES"')
            .replace("rId1", "rId9")
            .replace('sheetId="1"', 'sheetId="9"')
        ),
        workbook_xml,
    )
    parts["xl/workbook.xml"] = workbook_xml.encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    rels = rels.replace(
        "</Relationships>",
        '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet2.xml"/></Relationships>',
    )
    parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    parts["[Content_Types].xml"] = (
        parts["[Content_Types].xml"]
        .decode()
        .replace(
            "</Types>",
            '<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        .encode()
    )
    with zipfile.ZipFile(book, "w") as archive:
        for part, data in parts.items():
            archive.writestr(part, data)
    _, diagnostics = load_tables(tables)
    (found,) = errors(diagnostics)
    assert found.code == "E001" and str(found.location) == "tables/b.xlsx"
    assert "'Rules' and 'RULES'" in found.message
    assert "RULES1" not in " ".join(d.format() for d in diagnostics)


@pytest.mark.parametrize(
    "as_of",
    [
        dt.datetime(2025, 6, 1),
        dt.datetime(2025, 6, 1, tzinfo=dt.UTC),
        "2025-06-01",
        20250601,
        1.5,
    ],
    ids=["naive-datetime", "aware-datetime", "str", "int", "float"],
)
def test_as_of_that_is_not_a_date_is_an_input_error(
    tmp_path: Path, as_of: object
) -> None:
    """Was: a raw TypeError (comparing a datetime, a string or an int to a date)."""
    module = evaluator(tmp_path, {"b.xlsx": {"Band": dated_table("age")}}, "band")
    for call in (module.evaluate, module.explain):
        with pytest.raises(module.InputError) as caught:
            call(age=40, as_of=as_of)
        assert caught.value.name == "as_of" and "datetime.date" in str(caught.value)
    assert module.evaluate(age=40, as_of=dt.date(2025, 6, 1)).outputs.band == "adult"
    assert module.evaluate(age=40).outputs.band == "adult"  # today


def test_as_of_as_a_pandas_timestamp_is_an_input_error(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    module = evaluator(tmp_path, {"b.xlsx": {"Band": dated_table("age")}}, "band")
    with pytest.raises(module.InputError):
        module.evaluate(age=40, as_of=pd.Timestamp("2025-06-01"))


# -- load_table stays flat -------------------------------------------------------------------


def test_load_table_leaves_nothing_behind(tmp_path: Path) -> None:
    """Was: every call left its package in sys.modules (500 calls: 1,500 modules,
    +161 MiB), so a process that reloads tables grew without end."""
    pd = pytest.importorskip("pandas")
    module = evaluator(tmp_path, {"b.xlsx": {"Band": dated_table("age")}}, "band")
    compilation = compile_tables(tmp_path / "tables")
    assert compilation.files is not None
    files = compilation.files
    when = dt.date(2025, 6, 1)
    module.evaluate_frame(pd.DataFrame({"age": [40]}))  # pandas imported once
    str(module.explain(age=40, as_of=when))
    gc.collect()
    modules = len(sys.modules)
    first = weakref.ref(load_table(files, "band"))
    tracemalloc.start()
    try:
        for count in range(500):
            loaded = load_table(files, "band")
            assert loaded.evaluate(age=40, as_of=when).outputs.band == "adult"
            if count % 50 == 0:  # the lazy imports work without sys.modules
                frame = loaded.evaluate_frame(
                    pd.DataFrame({"age": [40], "as_of": [when]})
                )
                assert frame["band"].tolist() == ["adult"]
                assert loaded.explain(age=12, as_of=when).result.outputs.band == "child"
                assert sibling(loaded, "_runtime").InputError is loaded.InputError
            if count == 49:
                gc.collect()
                early = tracemalloc.get_traced_memory()[0]
            del loaded
        gc.collect()
        late = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(sys.modules) == modules
    assert first() is None
    assert late - early < 4 * 1024 * 1024, (early, late)


# -- output that can mislead or attack its reader ----------------------------------------------


def test_lint_annotate_writes_cell_text_as_text_never_as_a_formula(
    tmp_path: Path,
) -> None:
    """Was: a cell text starting with = became a live formula in the Problems sheet
    (`=HYPERLINK(...)`, a link)."""
    payload = '=HYPERLINK("http://evil.example","click")'
    columns = [("age", "input", "integer", None), ("band", "output", "integer", None)]
    sheet = decision_table("band", columns, [("R1", "-", 1)])
    tables = write_tables(tmp_path, {"b.xlsx": {"T": sheet}})
    payload_xml = payload.replace('"', "&quot;")
    set_cell_xml(tables / "b.xlsx", 1, "C6", TEXT.format(error=payload_xml))
    code, _ = cli("lint", "--tables", str(tables), "--annotate", str(tmp_path / "a"))
    assert code == 3
    book = load_workbook(tmp_path / "a" / "b.xlsx")
    problems = book.worksheets[0]
    cells = [c for row in problems.iter_rows() for c in row if c.value == payload]
    assert cells and all(c.data_type == "s" for c in cells)
    assert not [c for row in problems.iter_rows() for c in row if c.data_type == "f"]


HIDDEN = "\x1b[2K\r0 errors\u202e\x85"


def test_control_characters_in_a_file_name_are_shown_escaped(tmp_path: Path) -> None:
    """Was: a file name holding an escape sequence and a newline reached the terminal
    raw (it could erase the real error and print a fake "0 errors"), and --junit wrote
    XML that was not well-formed."""
    columns = [("age", "input", "integer", None), ("band", "output", "string", None)]
    sheet = decision_table("band", columns, [("R1", "x", "a")])  # an error: E2xx
    tables = write_tables(tmp_path, {f"b{HIDDEN}\nc.xlsx": {"T\u202e": sheet}})
    junit = tmp_path / "junit.xml"
    code, output = cli("check", "--tables", str(tables), "--junit", str(junit))
    assert code == 3
    for raw in ("\x1b", "\r", "\u202e", "\x85", "\nc.xlsx"):
        assert raw not in output
    assert "\\x1b[2K\\x0d0 errors\\u202e\\x85\\x0ac.xlsx" in output
    root = ET.parse(junit).getroot()  # well-formed
    assert "\\x1b" in ET.tostring(root, encoding="unicode")


def test_bidi_overrides_and_c1_controls_in_cell_text_are_shown_escaped(
    tmp_path: Path,
) -> None:
    """Was: raw in the Markdown mirror, the HTML report, `show` and diagnostics (the
    generated Python already escaped them)."""
    columns = [("age", "input", "integer", None), ("band", "output", "string", None)]
    text = "adult\u202e\u2066tluda\x85\x9b"
    sheet = decision_table("band", columns, [("R1", "-", text)], title=f"T{text}")
    tables = write_tables(tmp_path, {"b.xlsx": {"T": sheet}})
    compilation = compile_tables(tables)
    assert compilation.files is not None
    shown = [compilation.files["band.md"]]
    write_report(tables, tmp_path / "site")
    shown.append((tmp_path / "site" / "band.html").read_text())
    shown.append((tmp_path / "site" / "index.html").read_text())
    shown.append(cli("show", str(tables / "b.xlsx"))[1])
    bad = sheet[:-1] + [["R1", "x", text]]
    write_tables(tmp_path / "bad", {"b.xlsx": {"T": bad}})
    shown.append(cli("check", "--tables", str(tmp_path / "bad" / "tables"))[1])
    for page in shown:
        assert not any(ch in page for ch in "\u202e\u2066\x85\x9b"), page
    assert "\\u202e" in shown[0] and "\\u202e" in shown[1] and "\\u202e" in shown[3]


# -- Excel's own edge cases ----------------------------------------------------------------

DATE_STYLES = (
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/>'
    "</cellXfs></styleSheet>"
)


@pytest.mark.parametrize(
    ("serial", "epoch1904", "read"),
    [
        ("59", False, dt.datetime(1900, 2, 28)),
        ("60", False, None),  # 1900-02-29: Excel shows a day that does not exist
        ("61", False, dt.datetime(1900, 3, 1)),
        ("-5", False, None),  # Excel shows ####
        ("0", True, dt.datetime(1904, 1, 1)),  # was: a time of day, 00:00
        ("1", True, dt.datetime(1904, 1, 2)),
    ],
)
def test_date_serials_are_read_as_excel_shows_them_or_are_errors(
    tmp_path: Path, serial: str, epoch1904: bool, read: dt.datetime | None
) -> None:
    rows = f'<row r="1"><c r="A1" s="1"><v>{serial}</v></c></row>'
    parts: dict[str, str | bytes] = {"xl/styles.xml": DATE_STYLES}
    if epoch1904:
        parts["xl/workbook.xml"] = hostile.WORKBOOK.replace(
            "<sheets>", '<workbookPr date1904="1"/><sheets>'
        )
    path = tmp_path / "d.xlsx"
    path.write_bytes(hostile.with_parts(hostile.xlsx(hostile.sheet_xml(rows)), parts))
    book = workbook.read_workbook(path, "tables/d.xlsx")
    assert not isinstance(book, Diagnostic)
    (sheet,) = book.sheets
    if read is None:
        assert (1, 1) in sheet.errors and (1, 1) not in sheet.cells
    else:
        assert sheet.cells[(1, 1)] == read and not sheet.errors


# -- cells whose XML Excel never writes ----------------------------------------------------

DUPLICATES = {
    "same-row": hostile.inline_cell("B3", "c"),
    "formula": '<c r="B3" t="str"><f>"c"</f><v>c</v></c>',
    "empty": '<c r="B3"/>',
    "next-row-element": '</row><row r="3"><c r="B3" t="inlineStr"><is><t>c</t></is></c>',
    # A9 sets the column counter to A; the next cell, without a reference, is B3.
    "no-reference": '</row><row r="3"><c r="A9"/><c t="inlineStr"><is><t>c</t></is></c>',
}


def refused_at(root: Path, data: bytes, cell: str, says: str) -> None:
    """DATA, as tables/x.xlsx, is refused by the reader with an E001 naming Sheet1!CELL
    that SAYS so, with a hint; `compile` and `check` exit 3 with it, no traceback."""
    path = root / "tables" / "x.xlsx"
    path.parent.mkdir()
    path.write_bytes(data)
    found = workbook.read_workbook(path, "tables/x.xlsx")
    assert isinstance(found, Diagnostic), found
    assert (found.code, str(found.location)) == ("E001", f"tables/x.xlsx:Sheet1!{cell}")
    assert says in found.message and found.hint
    for command in ("compile", "check"):
        code, output = cli(command, "--tables", str(path.parent))
        assert code == 3 and "Traceback" not in output, output
        assert f"tables/x.xlsx:Sheet1!{cell}: error E001" in output
    code, output = cli("show", str(path))
    assert code == 3 and f"{path}:Sheet1!{cell}: {found.message}" in output, output


@pytest.mark.parametrize("second", list(DUPLICATES.values()), ids=list(DUPLICATES))
def test_a_cell_stored_twice_is_an_error_naming_it(tmp_path: Path, second: str) -> None:
    """Was: openpyxl kept the last of two `<c r="B3">` (here the input's name `a`
    became `c`) without a word. Also when the second is in another `<row>` element
    of the same row, or has no reference of its own (it is the cell after the last)."""
    refused_at(tmp_path, hostile.duplicate_cell(second), "B3", "stores this cell twice")


def test_cells_stored_once_in_any_order_are_read(tmp_path: Path) -> None:
    """Only a cell stored twice is refused: cells out of order and cells without a
    reference (the one after the last) are read as openpyxl places them."""
    rows = (
        '<row r="2"><c r="C2"><v>3</v></c><c r="A2"><v>1</v></c><c><v>2</v></c></row>'
        '<row r="1"><c r="A1"><v>0</v></c></row>'
    )
    path = tmp_path / "o.xlsx"
    path.write_bytes(hostile.xlsx(hostile.sheet_xml(rows)))
    book = workbook.read_workbook(path, "tables/o.xlsx")
    assert not isinstance(book, Diagnostic), book
    assert dict(book.sheets[0].cells) == {(2, 3): 3, (2, 1): 1, (2, 2): 2, (1, 1): 0}


@pytest.mark.parametrize("stored", ["2", "-1", "0.5", "true", "FALSE", " 1", "1e0"])
def test_a_boolean_cell_holding_neither_0_nor_1_is_an_error_naming_it(
    tmp_path: Path, stored: str
) -> None:
    """Was: 2 and -1 read as TRUE without a word, and 0.5 or `true` failed the whole
    workbook with "invalid literal for int()" naming no cell."""
    says = f"holds {stored!r}, not 0 or 1"
    refused_at(tmp_path, hostile.boolean_cell(stored), "B6", says)


def test_a_boolean_cell_without_a_reference_is_named(tmp_path: Path) -> None:
    rows = '<row r="4"><c r="A4"><v>1</v></c><c t="b"><v>7</v></c></row>'
    path = tmp_path / "b.xlsx"
    path.write_bytes(hostile.xlsx(hostile.sheet_xml(rows)))
    found = workbook.read_workbook(path, "tables/b.xlsx")
    assert isinstance(found, Diagnostic) and found.location.cell == "B4", found


@pytest.mark.parametrize(("stored", "read"), [("0", False), ("1", True)])
def test_boolean_cells_of_0_and_1_are_read(
    tmp_path: Path, stored: str, read: bool
) -> None:
    path = tmp_path / "b.xlsx"
    path.write_bytes(hostile.boolean_cell(stored))
    book = workbook.read_workbook(path, "tables/b.xlsx")
    assert not isinstance(book, Diagnostic), book
    assert book.sheets[0].cells[(6, 2)] is read
