"""Version 2: entries of string, code and boolean columns that name another input
(`= other`, `!= other`, `not(= other)`), `!=` and `not(...)` of one comparison in
the other columns, and what stays as version 1 reads it (a bare word is a string)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from compiler.cli import main
from compiler.interop import dmn
from compiler.pipeline import compile_tables, load_tables

from .helpers import (
    compile_books,
    compiled_module,
    errors,
    evaluator,
    load_books,
    write_tables,
)
from .test_dmn import clause, input_data, model, rule, tables_of
from .workbooks import Text, decision_table

DMN = "{https://www.omg.org/spec/DMN/20230324/MODEL/}"


def _book(columns: list[tuple[str, str, str, None]], rules: list[list[object]]) -> dict:
    return {"cmp.xlsx": [decision_table("cmp", columns, rules, hit_policy="FIRST")]}


STRINGS = _book(
    [
        ("state", "input", "string", None),
        ("home_state", "input", "string", None),
        ("where", "output", "string", None),
    ],
    [
        ["R1", Text("= home_state"), "-", '"home"'],
        ["R2", Text("!= home_state"), "-", '"away"'],
        ["R3", Text("not(= home_state)"), "-", '"unknown"'],
    ],
)


def test_a_string_entry_compares_with_another_input(tmp_path: Path) -> None:
    module = evaluator(tmp_path, STRINGS, "cmp")
    assert module.evaluate(state="NY", home_state="NY").outputs.where == "home"
    assert module.evaluate(state="NY", home_state="NJ").outputs.where == "away"
    # `!=` is a comparison: it needs both values; not(= ...) matches a missing one
    assert module.evaluate(state="NY").outputs.where == "unknown"
    assert module.evaluate(home_state="NY").outputs.where == "unknown"
    # like `= x` of a number, `= x` needs both: two missing values are not equal
    assert module.evaluate().outputs.where == "unknown"
    assert module.evaluate(state="NY", home_state="NY").matched == ("R1",)


def test_boolean_and_code_columns_name_inputs_and_paths(tmp_path: Path) -> None:
    """In a boolean column the bare name and not(name) read as DMN writes them
    (version 1 refuses both there); a code column compares with a path."""
    book = _book(
        [
            ("flag", "input", "boolean", None),
            ("expected_flag", "input", "boolean", None),
            ("code", "input", "code", None),
            ("claim.code", "input", "code", None),
            ("result", "output", "string", None),
        ],
        [
            ["R1", "expected_flag", "-", Text("= claim.code"), "-", '"both"'],
            ["R2", "not(expected_flag)", "-", "-", "-", '"flag differs"'],
            ["R3", "-", "-", "-", "-", '"code differs"'],
        ],
    )
    module = evaluator(tmp_path, book, "cmp")
    claim = {"code": "0042"}
    same = module.evaluate(flag=True, expected_flag=True, code="0042", claim=claim)
    assert same.outputs.result == "both"
    other = module.evaluate(flag=True, expected_flag=False, code="0042", claim=claim)
    assert other.outputs.result == "flag differs"
    code = module.evaluate(flag=False, expected_flag=False, code="42", claim=claim)
    assert code.outputs.result == "code differs"


def test_not_and_not_equal_around_a_comparison_of_numbers(tmp_path: Path) -> None:
    book = _book(
        [
            ("amount", "input", "number", None),
            ("limit", "input", "number", None),
            ("result", "output", "string", None),
        ],
        [
            ["R1", "!= limit", "-", '"differs"'],
            ["R2", "not(< limit)", "-", '"not below"'],
            ["R3", "-", "-", '"below"'],
        ],
    )
    module = evaluator(tmp_path, book, "cmp")
    assert module.evaluate(amount=5, limit=6).outputs.result == "differs"
    assert module.evaluate(amount=6, limit=6).outputs.result == "not below"
    assert module.evaluate(limit=6).outputs.result == "not below"  # not(): missing


def test_version_1_text_keeps_its_meaning_and_a_bare_name_is_warned(
    tmp_path: Path,
) -> None:
    """A bare word in a string column, a quoted `"= home_state"` and `= x` where x
    names no input stay strings; the bare name of an input gets W211 with the hint."""
    book = _book(
        [
            ("state", "input", "string", None),
            ("home_state", "input", "string", None),
            ("where", "output", "string", None),
        ],
        [
            ["R1", "home_state", "-", '"word"'],
            ["R2", Text('"= home_state"'), "-", '"quoted"'],
            ["R3", Text("= elsewhere"), "-", '"text"'],
            ["R4", "-", "-", "null"],
        ],
    )
    module = evaluator(tmp_path, book, "cmp")
    assert module.evaluate(state="home_state", home_state="x").outputs.where == "word"
    assert module.evaluate(state="NY", home_state="NY").outputs.where is None
    assert module.evaluate(state="= home_state").outputs.where == "quoted"
    assert module.evaluate(state="= elsewhere").outputs.where == "text"
    result = CliRunner().invoke(main, ["lint", "--tables", str(tmp_path / "tables")])
    assert result.exit_code == 0, result.stderr
    shown = result.stderr
    assert shown.count("W211") == 1
    assert "tables/cmp.xlsx:Sheet1!B7: warning W211: 'home_state' is read as" in shown
    assert "hint: to compare with the input, write = home_state" in shown


@pytest.mark.parametrize(
    ("column", "entry", "code", "says", "hint"),
    [
        ("B", "< home_state", "E208", "for equality only", "write = x"),
        ("B", "= age", "E207", "compares a string with a integer", "compare values"),
        ("B", "[home_state..x]", "E208", "is one comparison", "write = x"),
        ("D", "not([other_age..9])", "E208", "holds one comparison", "two rules"),
        ("D", "not(< other_age, 3)", "E208", "holds one comparison", "two rules"),
    ],
)
def test_entries_that_cannot_compare_are_errors_at_their_cell(
    tmp_path: Path, column: str, entry: str, code: str, says: str, hint: str
) -> None:
    cells = {"B": "-", "D": "-", column: Text(entry)}
    book = _book(
        [
            ("state", "input", "string", None),
            ("home_state", "input", "string", None),
            ("age", "input", "integer", None),
            ("other_age", "input", "integer", None),
            ("where", "output", "string", None),
        ],
        [["R1", cells["B"], "-", cells["D"], "-", '"x"']],
    )
    write_tables(tmp_path, book)
    result = CliRunner().invoke(main, ["lint", "--tables", str(tmp_path / "tables")])
    assert result.exit_code == 3
    assert f"tables/cmp.xlsx:Sheet1!{column}7: error {code}:" in result.stderr
    assert says in result.stderr and hint in result.stderr


def test_a_complete_exclusive_pair_has_no_findings(tmp_path: Path) -> None:
    """`= x` and `not(= x)` of a UNIQUE table are exclusive and complete: the derived
    column `state_vs_home_state` (equal, different, null) proves it exactly."""
    sheet = decision_table(
        "cmp",
        [
            ("state", "input", "string", None),
            ("home_state", "input", "string", None),
            ("where", "output", "string", None),
        ],
        [
            ["R1", Text("= home_state"), "-", '"home"'],
            ["R2", Text("not(= home_state)"), "-", '"away"'],
        ],
    )
    compilation = compile_books(tmp_path, {"cmp.xlsx": [sheet]})
    assert [d.code for d in compilation.diagnostics if d.code.startswith("A")] == []
    module = compiled_module(compilation, "cmp")
    assert module.evaluate(state="NY", home_state="NY").outputs.where == "home"


def test_a_finding_over_a_related_input_is_settled_by_inputs(tmp_path: Path) -> None:
    """When the input has entries of its own too, the analysis takes the derived
    column as independent of it; each finding is then settled by a search for
    inputs (`witness`): here every one is reached, so its example is plain inputs
    and it is not hedged (tests/test_witness.py has the hedged and dropped ones)."""
    from .test_witness import states_table

    compilation = compile_books(tmp_path, {"cmp.xlsx": [states_table()]})
    notes = [d.message for d in compilation.diagnostics if d.code.startswith("A")]
    assert notes and not any("this may be spurious" in m for m in notes)
    assert any("state_vs_home_state" in m for m in notes)  # where: the columns
    examples = [m.partition("for example ")[2] for m in notes]
    assert all(e and "state_vs_home_state" not in e for e in examples), examples


def test_export_writes_standard_feel_and_the_table_round_trips(tmp_path: Path) -> None:
    project, diagnostics = load_books(tmp_path / "a", STRINGS)
    assert project is not None and not errors(diagnostics)
    exported = dmn.export_dmn(project, (), "cmp")
    root = ET.fromstring(exported.xml)
    entries = [e.find(f"{DMN}text") for e in root.iter(f"{DMN}inputEntry")]
    texts = [e.text for e in entries if e is not None][::2]  # state's entries
    assert texts == ["home_state", "< home_state, > home_state", "not(home_state)"]
    again = dmn.read_dmn(exported.xml.encode(), "cmp.dmn")
    assert again.errors == (), again.errors
    dmn.write_workbook(again, tmp_path / "b" / "tables" / "cmp.xlsx")
    back, diagnostics = load_tables(tmp_path / "b" / "tables")
    assert back is not None and not errors(diagnostics)
    assert tables_of(back) == tables_of(project)


def test_import_reads_string_and_boolean_entries_naming_a_path(tmp_path: Path) -> None:
    """TCK 0036's shape: `Complex.aString` and `not(Complex.aString)` in a string
    column become `= complex.a_string` and `not(= complex.a_string)`."""
    body = (
        '<itemDefinition name="tComplex">'
        '<itemComponent name="aString"><typeRef>string</typeRef></itemComponent>'
        "</itemDefinition>"
        + input_data("i_c", "Complex", "tComplex")
        + input_data("i_s", "Another String", "string")
        + '<decision id="d" name="Compare String">'
        '<variable name="Compare String" typeRef="string"/>'
        '<decisionTable id="dt" hitPolicy="UNIQUE">'
        + clause("Another String", "string")
        + '<output id="o"/>'
        + rule("r1", ["Complex.aString"], ['"Same"'])
        + rule("r2", ["not(Complex.aString)"], ['"Different"'])
        + "</decisionTable></decision>"
    )
    conversion = dmn.read_dmn(model(body), "cmp.dmn")
    assert conversion.errors == ()
    dmn.write_workbook(conversion, tmp_path / "tables" / "cmp.xlsx")
    sheet = load_workbook(tmp_path / "tables" / "cmp.xlsx")["compare_string"]
    cells = [r[1].value for r in sheet.rows if r[0].value in ("R1", "R2")]
    assert cells == ["= complex.a_string", "not(= complex.a_string)"]
    module = compiled_module(compile_tables(tmp_path / "tables"), "compare_string")
    same = module.evaluate(another_string="Hi", complex={"a_string": "Hi"})
    assert same.outputs.compare_string == "Same"
    other = module.evaluate(another_string="Hello", complex={"a_string": "Hi"})
    assert other.outputs.compare_string == "Different"


def test_boolean_and_number_entries_round_trip(tmp_path: Path) -> None:
    """`!=` of a boolean (a `?` test in FEEL), `not(...)` of a comparison of
    numbers and `not(!= x)` come back as written, from the cells export keeps."""
    book = _book(
        [
            ("flag", "input", "boolean", None),
            ("expected_flag", "input", "boolean", None),
            ("amount", "input", "number", None),
            ("limit", "input", "number", None),
            ("answer", "output", "string", None),
        ],
        [
            ["R1", "!= expected_flag", "-", "not(< limit)", "-", '"a"'],
            ["R2", "not(!= expected_flag)", "-", "!= limit", "-", '"b"'],
            ["R3", "-", "-", "-", "-", '"c"'],
        ],
    )
    project, diagnostics = load_books(tmp_path / "a", book)
    assert project is not None and not errors(diagnostics)
    exported = dmn.export_dmn(project, (), "cmp")
    root = ET.fromstring(exported.xml)
    entries = [e.find(f"{DMN}text") for e in root.iter(f"{DMN}inputEntry")]
    texts = [e.text for e in entries if e is not None]
    assert texts[:4:2] == [
        "? != null and expected_flag != null and ? != expected_flag",
        "not(< limit)",
    ]
    assert texts[4] == "? = null or expected_flag = null or ? = expected_flag"
    again = dmn.read_dmn(exported.xml.encode(), "cmp.dmn")
    assert again.errors == (), again.errors
    dmn.write_workbook(again, tmp_path / "b" / "tables" / "cmp.xlsx")
    back, diagnostics = load_tables(tmp_path / "b" / "tables")
    assert back is not None and not errors(diagnostics)
    assert tables_of(back) == tables_of(project)
