"""Version 2: path inputs, a column whose header is a path into a structured input
(`claim.member.age`); `evaluate` takes the structured input as a mapping."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pandas
import pytest
from openpyxl import load_workbook

from compiler.interop import dmn
from compiler.model import DataType
from compiler.pipeline import compile_tables, load_tables

from .helpers import compile_books, compiled_module, errors, evaluator, load_books, only
from .test_dmn import clause, input_data, model, rule, tables_of
from .workbooks import decision_table

NUMBER = DataType.NUMBER


def _book(*columns: tuple[str, str, str, None], rules: list[list[object]]) -> dict:
    sheet = decision_table("band", list(columns), rules, hit_policy="FIRST")
    return {"band.xlsx": [sheet]}


BOOK = _book(
    ("claim.member.age", "input", "integer", None),
    ("claim.state", "input", "string", None),
    ("kind", "computed", "string", None),
    ("band", "output", "string", None),
    rules=[
        [
            "Expression",
            None,
            None,
            'if claim.member.age < 18 then "child" else "adult"',
            None,
        ],
        ["R1", "< 18", '"NY"', "-", '"minor in NY"'],
        ["R2", "-", "-", '"adult"', '"adult"'],
        ["R3", "-", "-", "-", '"other"'],
    ],
)


def test_evaluate_reads_the_paths_of_a_mapping(tmp_path: Path) -> None:
    module = evaluator(tmp_path, BOOK, "band")
    claim = {"member": {"age": 12}, "state": "NY"}
    assert module.evaluate(claim=claim).outputs.band == "minor in NY"
    assert module.evaluate(claim={"member": {"age": 40}}).outputs.band == "adult"
    # a missing field, or None along the way, is null (FEEL's paths): R1 does not
    # match, and the computed kind is "adult" (FEEL's `if` takes else on null)
    assert module.evaluate(claim={"member": None}).outputs.band == "adult"
    assert module.evaluate(claim={}).outputs.band == "adult"
    assert module.evaluate().outputs.band == "adult"
    assert module.explain(claim=claim).result.outputs.band == "minor in NY"


def test_a_leaf_or_a_step_of_the_wrong_type_is_an_input_error(tmp_path: Path) -> None:
    module = evaluator(tmp_path, BOOK, "band")
    with pytest.raises(module.InputError, match="claim__member__age='12'"):
        module.evaluate(claim={"member": {"age": "12"}})
    with pytest.raises(module.InputError, match="claim.member=3"):
        module.evaluate(claim={"member": 3})


def test_evaluate_frame_takes_a_column_per_path(tmp_path: Path) -> None:
    module = evaluator(tmp_path, BOOK, "band")
    frame = pandas.DataFrame(
        {
            "claim.member.age": pandas.Series([12, 40, None], dtype=object),
            "claim.state": ["NY", "CA", None],
        }
    )
    assert list(module.evaluate_frame(frame)["band"]) == [
        "minor in NY",
        "adult",
        "adult",
    ]


def test_a_path_names_an_input_column_of_identifiers(tmp_path: Path) -> None:
    book = _book(
        ("claim.Member", "input", "integer", None),
        ("claim.x", "from other", "string", None),
        rules=[["R1", "-", '"a"']],
    )
    found = errors(compile_books(tmp_path, book).diagnostics)
    assert {d.code for d in found} == {"E111"}
    assert len(found) == 2
    clash = _book(
        ("claim", "input", "integer", None),
        ("claim.age", "input", "integer", None),
        ("band", "output", "string", None),
        rules=[["R1", "-", "-", '"a"']],
    )
    found = only(compile_books(tmp_path / "2", clash).diagnostics, "E111")
    assert "also the structured input" in (found.hint or "")


def test_an_annotation_header_with_dots_stays_free_text(tmp_path: Path) -> None:
    """Annotation headers are any text (version 1): a dot there is no path."""
    book = _book(
        ("age", "input", "integer", None),
        ("band", "output", "string", None),
        ("See p. 12 (note).", "annotation", "string", None),
        rules=[["R1", "-", '"a"', "why"]],
    )
    assert not errors(compile_books(tmp_path, book).diagnostics)


# -- DMN: import reads paths into structured inputData, export writes them back -----

APPLICANT = (
    '<itemDefinition name="tApplicant">'
    '<itemComponent name="Monthly">'
    '<itemComponent name="Income"><typeRef>number</typeRef></itemComponent>'
    '<itemComponent name="Expenses"><typeRef>number</typeRef></itemComponent>'
    "</itemComponent>"
    '<itemComponent name="Age"><typeRef>tAge</typeRef></itemComponent>'
    "</itemDefinition>"
    '<itemDefinition name="tAge"><typeRef>number</typeRef>'
    "<allowedValues><text>[18..120]</text></allowedValues></itemDefinition>"
    + input_data("i_app", "Applicant data", "tApplicant")
    + '<decision id="d_ok" name="Affordable">'
    '<variable name="Affordable" typeRef="boolean"/>'
    '<decisionTable id="dt_ok" hitPolicy="FIRST">'
    + clause("Applicant data.Monthly.Income")  # no typeRef: the component's
    + clause("Applicant data.Age", "number")
    + '<output id="o_ok"/>'
    + rule("r1", ["&gt; 3000", "&gt;= 21"], ["true"])
    + rule("r2", ["-", "-"], ["false"])
    + "</decisionTable></decision>"
)


def test_import_reads_a_path_into_a_structured_input_data(tmp_path: Path) -> None:
    conversion = dmn.read_dmn(model(APPLICANT), "lending.dmn")
    assert conversion.errors == ()
    (table,) = conversion.tables
    assert [(c.name, c.header, c.type) for c in table.inputs] == [
        ("applicant_data__monthly__income", "applicant_data.monthly.income", NUMBER),
        ("applicant_data__age", "applicant_data.age", NUMBER),
    ]
    # the allowed values of the component's type are the column's Values
    assert table.inputs[1].values is not None
    assert conversion.fields == {
        ("Applicant data", "Monthly"): "monthly",
        ("Applicant data", "Age"): "age",
        ("Applicant data", "Monthly", "Income"): "income",
        ("Applicant data", "Monthly", "Expenses"): "expenses",
    }
    dmn.write_workbook(conversion, tmp_path / "tables" / "lending.xlsx")
    sheet = load_workbook(tmp_path / "tables" / "lending.xlsx")["affordable"]
    headers = [c.value for c in next(r for r in sheet.rows if r[0].value == "Rule")]
    assert headers[1:3] == ["applicant_data.monthly.income", "applicant_data.age"]
    compilation = compile_tables(tmp_path / "tables")
    module = compiled_module(compilation, "affordable")
    applicant = {"monthly": {"income": 4000}, "age": 30}
    assert module.evaluate(applicant_data=applicant).outputs.affordable is True
    applicant["age"] = 19
    assert module.evaluate(applicant_data=applicant).outputs.affordable is False


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("Applicant data.Height", "has no component 'Height'"),
        ("Applicant data.Monthly", "is a structure; a column reads one plain field"),
        ("Applicant data.Age.years", "whose type is not a structure"),
    ],
)
def test_a_path_import_cannot_read_is_reported(expression: str, says: str) -> None:
    body = APPLICANT.replace("Applicant data.Age", expression)
    conversion = dmn.read_dmn(model(body), "lending.dmn")
    assert conversion.tables == ()
    (error,) = conversion.errors
    assert error.topic == "structured input" and says in error.text


def test_path_inputs_round_trip_through_export_and_import(tmp_path: Path) -> None:
    """Export writes the structured inputData (`t_claim`, nested components) and the
    paths as input expressions; import reads back the same table."""
    project, diagnostics = load_books(tmp_path / "a", BOOK)
    assert project is not None and not errors(diagnostics)
    exported = dmn.export_dmn(project, (), "paths")
    assert not [m for m in exported.messages if m.severity == "error"]
    root = ET.fromstring(exported.xml)
    ns = "{https://www.omg.org/spec/DMN/20230324/MODEL/}"
    item = next(
        e for e in root.iter(f"{ns}itemDefinition") if e.get("name") == "t_claim"
    )
    member = next(c for c in item if c.get("name") == "member")
    assert [c.get("name") for c in member] == ["age"]
    (data,) = root.iter(f"{ns}inputData")
    assert data.get("name") == "claim"
    assert data[0].get("typeRef") == "t_claim"
    texts = [e.text for e in root.iter(f"{ns}text")]
    assert "claim.member.age" in texts and "claim.state" in texts
    again = dmn.read_dmn(exported.xml.encode(), "paths.dmn")
    assert again.errors == (), again.errors
    dmn.write_workbook(again, tmp_path / "b" / "tables" / "paths.xlsx")
    back, diagnostics = load_tables(tmp_path / "b" / "tables")
    assert back is not None and not errors(diagnostics)
    assert tables_of(back) == tables_of(project)


def test_an_entry_names_a_path_input(tmp_path: Path) -> None:
    """`> claim.limit` compares the input with the path input `claim.limit` (an
    entry naming another input, version 2)."""
    book = _book(
        ("amount", "input", "number", None),
        ("claim.limit", "input", "number", None),
        ("over", "output", "boolean", None),
        rules=[["R1", "> claim.limit", "-", "true"], ["R2", "-", "-", "false"]],
    )
    module = evaluator(tmp_path, book, "band")
    assert module.evaluate(amount=12, claim={"limit": 10}).outputs.over is True
    assert module.evaluate(amount=8, claim={"limit": 10}).outputs.over is False
    assert module.evaluate(amount=8, claim={}).outputs.over is False  # null: no match


def test_import_reads_an_entry_naming_a_path(tmp_path: Path) -> None:
    """TCK 0036's shape: an entry `> Applicant data.Age` in a number column names a
    path no input clause reads; it becomes a path input column of its own."""
    body = APPLICANT.replace(
        clause("Applicant data.Age", "number"), clause("Years", "number")
    ).replace("&gt;= 21", "&gt;= Applicant data.Age")
    body += input_data("i_years", "Years", "number")
    conversion = dmn.read_dmn(model(body), "lending.dmn")
    assert conversion.errors == ()
    (table,) = conversion.tables
    assert "applicant_data.age" in [c.header for c in table.inputs]
    dmn.write_workbook(conversion, tmp_path / "tables" / "lending.xlsx")
    module = compiled_module(compile_tables(tmp_path / "tables"), "affordable")
    applicant = {"monthly": {"income": 4000}, "age": 30}
    assert module.evaluate(applicant_data=applicant, years=31).outputs.affordable
    assert not module.evaluate(applicant_data=applicant, years=29).outputs.affordable
