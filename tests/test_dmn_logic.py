"""DMN decision logic beyond decision tables, imported into version 2 of the format:
literal-expression decisions (a FIRST table of one all-`-` rule with a computed
output) and decision-table output entries that compute (computed outputs); what
import refuses, and how export writes them back."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from compiler.interop import dmn
from compiler.interop.dmn.expressions import split_names
from compiler.pipeline import compile_tables, load_tables

from .helpers import compiled_module
from .test_dmn import clause, input_data, model, round_trip, rule, table_named

# A decision table and a literal expression over it and an inputData, with names
# that hold spaces, an apostrophe and a hyphen.
VACATION = (
    input_data("i1", "Years of Service", "number")
    + input_data("i2", "Employee's age", "number")
    + '<decision id="d1" name="Extra-days case"><variable name="Extra-days case" typeRef="number"/>'
    "<decisionTable hitPolicy='FIRST'>"
    + clause("Employee's age", "number")
    + '<output id="o1"/>'
    + rule("r1", ["&gt;= 60"], ["5"])
    + rule("r2", ["-"], ["0"])
    + "</decisionTable></decision>"
    '<decision id="d2" name="Total days"><variable name="Total days" typeRef="number"/>'
    "<informationRequirement><requiredDecision href='#d1'/></informationRequirement>"
    "<literalExpression><text>22 +\n  max(Extra-days case, Years of Service / 10)"
    "</text></literalExpression></decision>"
)


def compiled(tmp_path: Path, conversion: dmn.Conversion) -> dict[str, object]:
    dmn.write_workbook(conversion, tmp_path / "tables" / "model.xlsx")
    compilation = compile_tables(tmp_path / "tables")
    return {t.name: compiled_module(compilation, t.name) for t in conversion.tables}


def test_a_literal_expression_is_a_one_rule_table_with_a_computed_output(
    tmp_path: Path,
) -> None:
    conversion = dmn.read_dmn(model(VACATION), "vacation.dmn")
    assert conversion.errors == ()
    total = table_named(conversion, "total_days")
    assert total.hit_policy.value == "FIRST"
    assert [c.name for c in total.inputs] == ["extra_days_case", "years_of_service"]
    assert total.inputs[0].source_table == "extra_days_case"
    assert [r.id for r in total.rules] == ["R1"]
    assert all(t.is_any for t in total.rules[0].inputs)
    assert total.outputs[0].per_rule
    formula = total.rules[0].output_expressions[0]
    assert formula is not None
    assert formula.text == "22 + max(extra_days_case, years_of_service / 10)"
    modules = compiled(tmp_path, conversion)
    evaluate = modules["total_days"].evaluate  # type: ignore[attr-defined]
    assert evaluate(years_of_service=30, employees_age=61).outputs[0] == 27
    assert evaluate(years_of_service=80, employees_age=30).outputs[0] == 30
    assert evaluate(years_of_service=None, employees_age=30).outputs[0] is None


def test_the_workbook_shows_the_computed_output(tmp_path: Path) -> None:
    conversion = dmn.read_dmn(model(VACATION), "vacation.dmn")
    dmn.write_workbook(conversion, tmp_path / "model.xlsx")
    sheet = load_workbook(tmp_path / "model.xlsx")["total_days"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert ["Rule", "extra_days_case", "years_of_service", "total_days"] in rows
    assert ["Kind", "from extra_days_case", "input", "computed output"] in rows
    assert [
        "R1",
        "-",
        "-",
        "22 + max(extra_days_case, years_of_service / 10)",
    ] in rows


def test_output_entries_that_compute_make_a_computed_output(tmp_path: Path) -> None:
    body = (
        input_data("i1", "Name", "string")
        + input_data("i2", "Children", "number")
        + '<decision id="d1" name="Description"><decisionTable>'
        + clause("Children", "number")
        + '<output id="o1" typeRef="string"/>'
        + rule("r1", ["0"], ['"no children"'])
        + rule("r2", ["&gt; 0"], ['Name + " has children"'])
        + "</decisionTable></decision>"
    )
    conversion = dmn.read_dmn(model(body), "m.dmn")
    assert conversion.errors == ()
    table = table_named(conversion, "description")
    assert [c.name for c in table.inputs] == ["children", "name"]  # read by an output
    assert table.outputs[0].per_rule
    evaluate = compiled(tmp_path, conversion)["description"].evaluate  # type: ignore[attr-defined]
    assert evaluate(children=2, name="Ann").outputs[0] == "Ann has children"
    assert evaluate(children=0, name="Ann").outputs[0] == "no children"


@pytest.mark.parametrize(
    ("logic", "reason"),
    [
        (
            "<decisionTable hitPolicy='COLLECT' aggregation='SUM'>"
            + clause("Age", "number")
            + '<output id="o1" typeRef="number"/>'
            + rule("r1", ["-"], ["Age + 1"])
            + "</decisionTable>",
            "uses names",
        ),
        (
            "<literalExpression><text>-Age ** 2</text></literalExpression>",
            "is not in FEEL-CR",
        ),
        (
            "<literalExpression><text>Age + Unknown</text></literalExpression>",
            "unknown name 'Unknown'",
        ),
        (
            '<literalExpression><text>Age + "x"</text></literalExpression>',
            "a number + a string is not defined",
        ),
        (
            "<literalExpression><text>Age > 3</text></literalExpression>",
            "gives boolean, but the output is number",
        ),
        (
            "<literalExpression><text></text></literalExpression>",
            "the literal expression is empty",
        ),
    ],
)
def test_what_feel_cr_cannot_type_is_refused_with_the_reason(
    logic: str, reason: str
) -> None:
    body = (
        input_data("i1", "Age", "number")
        + '<decision id="d1" name="Result"><variable name="Result" typeRef="number"/>'
        + logic
        + "</decision>"
    )
    conversion = dmn.read_dmn(model(body), "m.dmn")
    assert conversion.tables == ()
    [error] = conversion.errors
    assert (error.name, error.id) == ("Result", "d1")
    assert reason in error.text


def test_a_literal_expression_reading_a_refused_decision_is_refused() -> None:
    body = (
        input_data("i1", "Age", "number")
        + '<decision id="d1" name="Band"><relation/></decision>'
        + '<decision id="d2" name="Result"><variable name="Result" typeRef="number"/>'
        "<literalExpression><text>Band + Age</text></literalExpression></decision>"
    )
    conversion = dmn.read_dmn(model(body), "m.dmn")
    assert conversion.tables == ()
    assert any(
        m.name == "Result" and m.topic == "required decision not converted"
        for m in conversion.errors
    )


def test_names_are_found_longest_first_outside_strings() -> None:
    found = split_names(
        'Age group + "Age" + Age + x.Age + Agent', ["Age", "Age group", "Agent"]
    )
    assert found.names == ("Age group", "Age", "Agent")
    renamed = found.render({"Age": "age", "Age group": "age_group", "Agent": "agent"})
    assert renamed == 'age_group + "Age" + age + x.Age + agent'


def test_computed_outputs_survive_export_and_import(tmp_path: Path) -> None:
    first, second = round_trip(tmp_path, dmn.read_dmn(model(VACATION), "v.dmn"))
    assert first == second
    assert first["total_days"].outputs[0].per_rule


def test_export_writes_durations_in_words_as_feel(tmp_path: Path) -> None:
    """`14 days` is FEEL-CR's extension: the exported entry is standard FEEL, and
    the authored cell comes back on import."""
    from .helpers import write_tables
    from .workbooks import decision_table

    sheet = decision_table(
        "due",
        [("seen", "input", "date", None), ("due", "computed output", "date", None)],
        [("R1", "-", "seen + 14 days")],
        hit_policy="FIRST",
    )
    write_tables(tmp_path, {"due.xlsx": [sheet]})
    project, _ = load_tables(tmp_path / "tables")
    assert project is not None
    exported = dmn.export_dmn(project, (), "m")
    assert not [m for m in exported.messages if m.severity == "error"]
    assert exported.tables == ("due",)
    assert 'seen + duration("P14D")' in exported.xml
    back = dmn.read_dmn(exported.xml.encode(), "m.dmn")
    [table] = back.tables
    [expression] = table.rules[0].output_expressions
    assert expression is not None and expression.text == "seen + 14 days"


# A decision service: its output decision reads an input decision that has no logic
# (the service's caller passes it) and a table the service encapsulates.
SERVICE = (
    input_data("i1", "Grade", "string")
    + '<decision id="d1" name="Passed"><variable name="Passed" typeRef="boolean"/>'
    '<decisionTable hitPolicy="FIRST">'
    + clause("Grade", "string")
    + '<output id="o1"/>'
    + rule("r1", ['"A","B"'], ["true"])
    + rule("r2", ["-"], ["false"])
    + "</decisionTable></decision>"
    '<decision id="d2" name="Remark"><variable name="Remark"/></decision>'
    '<decision id="d3" name="Summary"><variable name="Summary" typeRef="string"/>'
    '<literalExpression><text>if Passed then Remark else "failed"</text>'
    "</literalExpression></decision>"
    '<decisionService id="s1" name="Report DS"><outputDecision href="#d3"/>'
    '<encapsulatedDecision href="#d1"/><inputDecision href="#d2"/>'
    '<inputData href="#i1"/></decisionService>'
)


def test_a_decision_service_is_a_table_reading_its_input_decisions(
    tmp_path: Path,
) -> None:
    conversion = dmn.read_dmn(model(SERVICE), "s.dmn")
    assert conversion.decisions["Report DS"] == "report_ds"
    assert "Summary" not in conversion.decisions  # outside the service, Remark is
    [refused] = [m for m in conversion.errors if m.name == "Summary"]  # required
    assert refused.topic == "required decision not converted"
    service = table_named(conversion, "report_ds")
    assert [(c.name, c.source_table) for c in service.inputs] == [
        ("passed", "passed"),
        ("remark", None),  # no typeRef: the expression types it (a warning says so)
    ]
    assert service.outputs[0].name == "summary"
    assert any(
        m.element == "decision service" and "only with string" in m.text
        for m in conversion.messages
    )
    evaluate = compiled(tmp_path, conversion)["report_ds"].evaluate  # type: ignore[attr-defined]
    assert evaluate(grade="A", remark="well done").outputs[0] == "well done"
    assert evaluate(grade="C", remark="well done").outputs[0] == "failed"


@pytest.mark.parametrize(
    ("service", "reason"),
    [
        ('<decisionService id="s1" name="DS"/>', "it has 0 output decisions"),
        (
            '<decisionService id="s1" name="DS"><outputDecision href="#d1"/>'
            '<outputDecision href="#d3"/></decisionService>',
            "it has 2 output decisions",
        ),
        (
            '<decisionService id="s1" name="DS"><outputDecision href="#nowhere"/>'
            "</decisionService>",
            "names a decision the model does not hold",
        ),
    ],
)
def test_services_import_cannot_convert_are_reported(service: str, reason: str) -> None:
    conversion = dmn.read_dmn(model(SERVICE.split("<decisionService")[0] + service))
    [error] = [m for m in conversion.errors if m.element == "decision service"]
    assert (error.name, error.id) == ("DS", "s1") and reason in error.text
