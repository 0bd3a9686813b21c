"""DMN import and export (`compiler/interop/dmn/`): every namespace from 1.1 to 1.5, hit
policies and aggregations, Values and Defaults, annotations, requirements between
tables, names, types, what is reported instead of guessed, the written workbook, the
DMN 1.5 export, the round trip import -> export -> import, and the two commands.

Models are DMN XML written here as text; workbooks are built in code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from compiler.cli import main
from compiler.diagnostics import Location
from compiler.interop import dmn, tck
from compiler.model import (
    Aggregation,
    Column,
    Compare,
    DataType,
    Equals,
    HitPolicy,
    Interval,
    Project,
    Table,
    UnaryTests,
)
from compiler.pipeline import compile_tables, load_tables

from .helpers import compiled_module, errors, load_books, write_tables
from .workbooks import decision_table

NS = {
    "1.1": "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "1.2": "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "1.3": "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "1.4": "https://www.omg.org/spec/DMN/20211108/MODEL/",
    "1.5": "https://www.omg.org/spec/DMN/20230324/MODEL/",
}
TCK = tck.DEFAULT_TCK  # tests/dmn-tck, shipped with the repository


def model(body: str, version: str = "1.5") -> bytes:
    return (
        f'<definitions xmlns="{NS[version]}" id="defs" name="Test model" '
        f'namespace="http://example.com/test">{body}</definitions>'
    ).encode()


def input_data(ident: str, name: str, type_ref: str) -> str:
    return f'<inputData id="{ident}" name="{name}"><variable name="{name}" typeRef="{type_ref}"/></inputData>'


def rule(
    ident: str,
    inputs: list[str],
    outputs: list[str],
    notes: Sequence[str] = (),
    label: str = "",
) -> str:
    cells = "".join(f"<inputEntry><text>{t}</text></inputEntry>" for t in inputs)
    cells += "".join(f"<outputEntry><text>{t}</text></outputEntry>" for t in outputs)
    cells += "".join(
        f"<annotationEntry><text>{t}</text></annotationEntry>" for t in notes
    )
    labelled = f' label="{label}"' if label else ""
    return f'<rule id="{ident}"{labelled}>{cells}</rule>'


def clause(expression: str, type_ref: str = "", values: str = "") -> str:
    typed = f' typeRef="{type_ref}"' if type_ref else ""
    listed = f"<inputValues><text>{values}</text></inputValues>" if values else ""
    return f"<input><inputExpression{typed}><text>{expression}</text></inputExpression>{listed}</input>"


# A model exercising what import reads: a FIRST table with Values, a Default and an
# annotation column, required by a PRIORITY table with two outputs, dates, not(...)
# and ranges; names with spaces and camelCase.
TRIAGE = (
    '<itemDefinition name="tBand"><typeRef>string</typeRef>'
    '<allowedValues><text>"young", "old"</text></allowedValues></itemDefinition>'
    '<itemDefinition name="tTriage">'
    '<itemComponent name="Level"><typeRef>number</typeRef></itemComponent>'
    '<itemComponent name="isUrgent"><typeRef>boolean</typeRef></itemComponent>'
    "</itemDefinition>"
    + input_data("i_age", "Patient Age", "number")
    + input_data("i_symptom", "Symptom", "string")
    + input_data("i_onset", "Onset date", "date")
    + '<decision id="d_band" name="Age band" label="Age band (years)">'
    "<description>Guideline 4.2</description>"
    '<variable name="Age band" typeRef="tBand"/>'
    '<decisionTable id="dt_band" hitPolicy="FIRST">'
    + clause("Patient Age", "number", "[0..130]")
    + '<output id="o_band"><outputValues><text>"young", "old"</text></outputValues>'
    '<defaultOutputEntry><text>"young"</text></defaultOutputEntry></output>'
    '<annotation name="Why"/>'
    + rule("_0b1e", ["&lt; 65"], ['"young"'], ["under 65"], label="b1")
    + rule("_0b2e", ["&gt;= 65"], ['"old"'], ["65 and over"], label="b2")
    + "</decisionTable></decision>"
    '<decision id="d_triage" name="Triage">'
    '<variable name="Triage" typeRef="tTriage"/>'
    '<decisionTable id="dt_triage" hitPolicy="PRIORITY">'
    + clause("Age band", "string")
    + clause("Symptom", "string", '"cough", "chest pain", "stroke"')
    + clause("Onset date", "date")
    + '<output name="Level" id="o_level"><outputValues><text>1, 2, 3</text></outputValues></output>'
    '<output name="isUrgent" id="o_urgent"/>'
    + rule("t1", ['"old"', '"chest pain","stroke"', "-"], ["1", "true"])
    + rule(
        "t2",
        ["-", 'not("cough")', '[date("2024-01-01")..date("2024-12-31"))'],
        ["2", "true"],
    )
    + rule("t3", ["-", "-", "-"], ["3", "false"])
    + "</decisionTable></decision>"
)


def triage(version: str = "1.5") -> dmn.Conversion:
    return dmn.read_dmn(model(TRIAGE, version), "triage.dmn")


def table_named(conversion: dmn.Conversion, name: str) -> Table:
    return next(t for t in conversion.tables if t.name == name)


NOWHERE = Location("")


def plain(table: Table) -> Table:
    """TABLE without locations, to compare tables read from different places."""

    def column(c: Column) -> Column:
        return dataclasses.replace(c, location=NOWHERE, kind_cell="")

    return dataclasses.replace(
        table,
        location=NOWHERE,
        metadata_cells=(),
        inputs=tuple(column(c) for c in table.inputs),
        outputs=tuple(column(c) for c in table.outputs),
        annotations=tuple(column(c) for c in table.annotations),
        rules=tuple(
            dataclasses.replace(r, location=NOWHERE, input_cells=(), output_cells=())
            for r in table.rules
        ),
    )


def tables_of(project: Project) -> dict[str, Table]:
    return {d.name: plain(t) for d in project.decisions for t in d.versions}


def load_workbook_tables(
    tmp_path: Path, conversion: dmn.Conversion
) -> dict[str, Table]:
    tables = tmp_path / "tables"
    dmn.write_workbook(conversion, tables / "model.xlsx")
    project, diagnostics = load_tables(tables)
    assert project is not None and not errors(diagnostics), "\n".join(
        d.format() for d in diagnostics
    )
    return tables_of(project)


# -- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "identifier"),
    [
        ("Approval Status", "approval_status"),
        ("isAffordable", "is_affordable"),
        ("RiskCategory", "risk_category"),
        ("Student's name", "students_name"),
        ("Approved/Declined", "approved_declined"),
        ("HTTPStatus code", "http_status_code"),
        ("0004 table", "x_0004_table"),
        ("Größe", "grosse"),
        ("???", "x"),
    ],
)
def test_snake_case(name: str, identifier: str) -> None:
    assert dmn.snake_case(name) == identifier


def test_colliding_names_are_numbered_in_document_order() -> None:
    body = (
        input_data("a", "Age", "number")
        + input_data("b", "age", "number")
        + input_data("c", "class", "string")
        + input_data("d", "date", "date")
        + '<decision id="d1" name="Check"><decisionTable>'
        + clause("Age")
        + clause("age")
        + clause("class")
        + clause("date")
        + '<output id="o" typeRef="boolean"/>'
        + rule("r1", ["1", "2", '"x"', "-"], ["true"])
        + "</decisionTable></decision>"
        + '<decision id="d2" name="check"><decisionTable><output id="o2" typeRef="string"/>'
        + rule("r2", [], ['"y"'])
        + "</decisionTable></decision>"
    )
    conversion = dmn.read_dmn(model(body))
    assert [c.name for c in conversion.tables[0].inputs] == [
        "age",
        "age_2",
        "class_",
        "date_",
    ]
    assert [t.name for t in conversion.tables] == ["check", "check_2"]
    assert conversion.decisions == {"Check": "check", "check": "check_2"}


# -- FEEL --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "type_", "expected"),
    [
        ("-", DataType.NUMBER, UnaryTests()),
        ("", DataType.NUMBER, UnaryTests()),
        (
            "&gt;=18".replace("&gt;", ">"),
            DataType.NUMBER,
            UnaryTests((Compare(">=", 18.0),)),
        ),
        (
            '"Medium","Low"',
            DataType.STRING,
            UnaryTests((Equals("Medium"), Equals("Low"))),
        ),
        (
            'not("a", "b")',
            DataType.STRING,
            UnaryTests((Equals("a"), Equals("b")), negated=True),
        ),
        ("[1..5)", DataType.NUMBER, UnaryTests((Interval(1.0, 5.0, True, False),))),
        ("]1..5[", DataType.NUMBER, UnaryTests((Interval(1.0, 5.0, False, False),))),
        ("(-5..-1]", DataType.NUMBER, UnaryTests((Interval(-5.0, -1.0, False, True),))),
        (
            "<18, >=60",
            DataType.NUMBER,
            UnaryTests((Compare("<", 18.0), Compare(">=", 60.0))),
        ),
        ("true", DataType.BOOLEAN, UnaryTests((Equals(True),))),
        ("null", DataType.STRING, UnaryTests((Equals(None),))),
        ('!= "x"', DataType.STRING, UnaryTests((Equals("x"),), negated=True)),
        (
            '> date("2016-10-01")',
            DataType.DATE,
            UnaryTests((Compare(">", dt.date(2016, 10, 1)),)),
        ),
        ('@"2016-10-01"', DataType.DATE, UnaryTests((Equals(dt.date(2016, 10, 1)),))),
        ('"say \\"hi\\"\\n"', DataType.STRING, UnaryTests((Equals('say "hi"\n'),))),
        ("5", DataType.INTEGER, UnaryTests((Equals(5),))),
    ],
)
def test_unary_tests(text: str, type_: DataType, expected: UnaryTests) -> None:
    assert dmn.typed_tests(dmn.parse_unary_tests(text), type_) == expected


@pytest.mark.parametrize(
    ("text", "type_", "topic"),
    [
        ("> numB", DataType.NUMBER, "variable in a unary test"),
        ("[numB..numC]", DataType.NUMBER, "variable in a unary test"),
        ("Complex.aBoolean", DataType.BOOLEAN, "variable in a unary test"),
        ("? > 5", DataType.NUMBER, "FEEL expression"),
        ("count(x) > 1", DataType.NUMBER, "variable in a unary test"),
        # version 2 reads times and durations: in another type's column they are
        # a type mismatch (a years-and-months duration in a duration column too)
        ('time("10:00:00")', DataType.STRING, "type mismatch"),
        (
            'date and time("2020-01-01T10:00:00")',
            DataType.DATE,
            "type mismatch",
        ),
        ('@"P1D"', DataType.DATE, "type mismatch"),
        ('duration("P1Y")', DataType.DURATION, "type mismatch"),
        ('time("10:00:00Z")', DataType.TIME, "time or duration value"),
        ('< "m"', DataType.STRING, "comparison of strings or booleans"),
        ("5", DataType.STRING, "type mismatch"),
        ("5.5", DataType.INTEGER, "type mismatch"),
        ("[5..1]", DataType.NUMBER, "empty range"),
        ('"a", != "b"', DataType.STRING, "FEEL expression"),
        ('"\u201cquoted\u201d"', DataType.STRING, "string not representable"),
    ],
)
def test_what_feel_the_format_cannot_hold_is_unsupported(
    text: str, type_: DataType, topic: str
) -> None:
    with pytest.raises(dmn.Unsupported) as caught:
        dmn.typed_tests(dmn.parse_unary_tests(text), type_)
    assert caught.value.topic == topic


def test_literals() -> None:
    assert dmn.parse_literal('"Approved"') == "Approved"
    assert dmn.parse_literal("98.83") == Decimal("98.83")
    assert dmn.parse_literal("-1") == Decimal("-1")
    assert (
        dmn.parse_literal("") is None
    )  # Camunda writes an empty output entry for null
    with pytest.raises(dmn.Unsupported):
        dmn.parse_literal('Symptom + " is a cold symptom"')


# -- import ------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.2", "1.3", "1.4", "1.5"])
def test_import_reads_tables_values_defaults_annotations_and_requirements(
    version: str,
) -> None:
    conversion = triage(version)
    assert conversion.messages == ()
    band = table_named(conversion, "age_band")
    assert (band.hit_policy, band.title, band.source) == (
        HitPolicy.FIRST,
        "Age band (years)",
        "Guideline 4.2",
    )
    [age] = band.inputs
    assert (age.name, age.type, age.values) == (
        "patient_age",
        DataType.NUMBER,
        UnaryTests((Interval(0.0, 130.0),)),
    )
    [output] = band.outputs
    assert (output.name, output.type, output.value_list) == (
        "age_band",
        DataType.STRING,
        ("young", "old"),
    )
    assert (output.default, output.has_default) == ("young", True)
    assert [c.name for c in band.annotations] == ["Why"]
    assert [(r.id, r.annotations) for r in band.rules] == [
        ("b1", ("under 65",)),
        ("b2", ("65 and over",)),
    ]

    level = table_named(conversion, "triage")
    assert level.hit_policy is HitPolicy.PRIORITY
    band_input, symptom, onset = level.inputs
    assert (band_input.name, band_input.source_table, band_input.type) == (
        "age_band",
        "age_band",
        DataType.STRING,
    )
    assert symptom.value_list == ("cough", "chest pain", "stroke")
    assert onset.type is DataType.DATE
    assert [(c.name, c.type) for c in level.outputs] == [
        ("level", DataType.NUMBER),
        ("is_urgent", DataType.BOOLEAN),
    ]
    assert level.rules[1].inputs == (
        UnaryTests(),
        UnaryTests((Equals("cough"),), negated=True),
        UnaryTests(
            (Interval(dt.date(2024, 1, 1), dt.date(2024, 12, 31), True, False),)
        ),
    )
    assert level.rules[0].outputs == (1.0, True)
    assert dict(conversion.inputs) == {
        "Patient Age": "patient_age",
        "Symptom": "symptom",
        "Onset date": "onset_date",
    }
    assert conversion.origins["triage"].output_names() == {
        "Level": "level",
        "isUrgent": "is_urgent",
    }


def test_import_of_dmn_1_1_reads_qname_types_and_rule_descriptions() -> None:
    body = (
        input_data("i", "score", "feel:number")
        + '<decision id="d" name="Grade"><decisionTable hitPolicy="COLLECT" aggregation="SUM">'
        + clause("score", "feel:number")
        + '<output id="o" name="points" typeRef="feel:number"/>'
        + '<rule id="r1"><description>base</description><inputEntry><text>-</text></inputEntry>'
        "<outputEntry><text>1</text></outputEntry></rule>"
        + '<rule id="r2"><description>bonus</description><inputEntry><text>&gt; 90</text></inputEntry>'
        "<outputEntry><text>2</text></outputEntry></rule>"
        + "</decisionTable></decision>"
    )
    conversion = dmn.read_dmn(model(body, "1.1"))
    [grade] = conversion.tables
    assert (grade.hit_policy, grade.aggregation) == (HitPolicy.COLLECT, Aggregation.SUM)
    assert [c.name for c in grade.annotations] == ["Description"]
    assert [r.annotations for r in grade.rules] == [("base",), ("bonus",)]
    assert grade.inputs[0].type is DataType.NUMBER


@pytest.mark.parametrize(
    ("policy", "aggregation", "text"),
    [
        ("UNIQUE", None, "UNIQUE"),
        ("ANY", None, "ANY"),
        ("PRIORITY", None, "PRIORITY"),
        ("FIRST", None, "FIRST"),
        ("COLLECT", None, "COLLECT"),
        ("COLLECT", "SUM", "COLLECT SUM"),
        ("COLLECT", "MIN", "COLLECT MIN"),
        ("COLLECT", "MAX", "COLLECT MAX"),
        ("COLLECT", "COUNT", "COLLECT COUNT"),
        ("RULE ORDER", None, "RULE ORDER"),
        ("OUTPUT ORDER", None, "OUTPUT ORDER"),
    ],
)
def test_every_hit_policy_and_aggregation(
    policy: str, aggregation: str | None, text: str
) -> None:
    attribute = f' aggregation="{aggregation}"' if aggregation else ""
    body = (
        f'<decision id="d" name="Points"><decisionTable hitPolicy="{policy}"{attribute}>'
        + clause("x", "number")
        + '<output id="o" typeRef="number"><outputValues><text>1, 2</text></outputValues></output>'
        + rule("r1", ["&lt; 5"], ["1"])
        + rule("r2", ["&gt;= 5"], ["2"])
        + "</decisionTable></decision>"
    )
    [points] = dmn.read_dmn(model(body)).tables
    assert points.hit_policy_text == text


def test_camunda_style_plain_names_and_java_types() -> None:
    body = (
        '<decision id="d" name="Dish"><decisionTable>'
        + clause("season", "string")
        + clause("guestCount", "integer")
        + '<output id="o" name="dish" typeRef="string"/>'
        + rule("r1", ['"Fall"', "&lt;= 8"], ['"Spareribs"'])
        + rule("r2", ['"Winter"', "-"], [""])
        + "</decisionTable></decision>"
    )
    [dish] = dmn.read_dmn(model(body, "1.3")).tables
    assert [(c.name, c.type) for c in dish.inputs] == [
        ("season", DataType.STRING),
        ("guest_count", DataType.INTEGER),
    ]
    assert dish.rules[0].inputs[1] == UnaryTests((Compare("<=", 8),))
    assert dish.rules[1].outputs == (None,)


def test_output_type_is_taken_from_the_entries_when_nothing_declares_it() -> None:
    body = (
        '<decision id="d" name="Band"><decisionTable>'
        + clause("x", "number")
        + '<output id="o"/>'
        + rule("r1", ["&lt; 5"], ['"low"'])
        + rule("r2", ["&gt;= 5"], ['"high"'])
        + "</decisionTable></decision>"
    )
    conversion = dmn.read_dmn(model(body))
    assert conversion.tables[0].outputs[0].type is DataType.STRING
    [warning] = conversion.messages
    assert warning.severity == "warning" and "no typeRef" in warning.text


def test_a_table_that_leaves_inputs_unanswered_is_marked_partial() -> None:
    body = (
        '<decision id="d" name="Adult"><decisionTable>'
        + clause("age", "number")
        + '<output id="o" typeRef="boolean"/>'
        + rule("r1", ["&gt;= 18"], ["true"])
        + "</decisionTable></decision>"
    )
    conversion = dmn.read_dmn(model(body))
    assert conversion.tables[0].complete is False
    assert "Complete: no" in conversion.messages[0].text


@pytest.mark.parametrize(
    ("body", "element", "topic"),
    [
        (
            # version 2: a literal expression converts when FEEL-CR types it; here
            # `a` and `b` name nothing in the model
            '<decision id="d9" name="Total"><literalExpression><text>a + b</text></literalExpression></decision>',
            "decision",
            "FEEL expression",
        ),
        ('<decision id="d9" name="Total"><context/></decision>', "decision", "context"),
        (
            '<decision id="d9" name="Total"><invocation/></decision>',
            "decision",
            "invocation",
        ),
        ('<decision id="d9" name="Total"/>', "decision", "no decision logic"),
        (
            '<decisionService id="d9" name="Total"/>',
            "decision service",
            "decision service",
        ),
        (
            input_data("s", "applicant", "tApplicant")
            + '<itemDefinition name="tApplicant"><itemComponent name="age"><typeRef>number</typeRef>'
            "</itemComponent></itemDefinition>"
            + '<decision id="d9" name="Total"><decisionTable>'
            + clause("applicant.height", "number")  # tApplicant has no height
            + '<output id="o" typeRef="string"/>'
            + rule("r", ["&gt; 1"], ['"x"'])
            + "</decisionTable></decision>",
            "decision",
            "structured input",
        ),
        (
            '<decision id="d9" name="Total"><decisionTable>'
            + clause("a + b", "number")
            + '<output id="o" typeRef="string"/>'
            + rule("r", ["&gt; 1"], ['"x"'])
            + "</decisionTable></decision>",
            "decision",
            "FEEL input expression",
        ),
        (
            '<decision id="d9" name="Total"><decisionTable>'
            + clause("x", "tUnknown")
            + '<output id="o" typeRef="string"/>'
            + rule("r", ["-"], ['"x"'])
            + "</decisionTable></decision>",
            "decision",
            "unknown type",
        ),
    ],
)
def test_what_cannot_be_converted_is_reported_with_id_and_name(
    body: str, element: str, topic: str
) -> None:
    conversion = dmn.read_dmn(model(body))
    assert conversion.tables == ()
    found = [m for m in conversion.messages if m.severity == "error"]
    assert [(m.element, m.name, m.id, m.topic) for m in found][:1] == [
        (element, "Total", "d9", topic)
    ]
    assert "d9" in found[0].format("m.dmn") and "'Total'" in found[0].format("m.dmn")


def test_a_table_reading_a_decision_that_is_not_converted_is_left_out() -> None:
    """A required decision never becomes a plain input (TCK 0004-lending, 0087)."""
    body = (
        '<decision id="d1" name="Base days"><relation/></decision>'
        '<decision id="d2" name="Days"><decisionTable>'
        + clause("Base days", "number")
        + '<output id="o" typeRef="number"/>'
        + rule("r", ["-"], ["1"])
        + "</decisionTable></decision>"
    )
    conversion = dmn.read_dmn(model(body))
    assert conversion.tables == ()
    assert any(
        m.topic == "required decision not converted" and "Base days" in m.text
        for m in conversion.messages
    )


def test_an_input_reading_a_list_valued_table_is_reported() -> None:
    body = (
        '<decision id="d1" name="Codes"><decisionTable hitPolicy="COLLECT">'
        + clause("x", "number")
        + '<output id="o" typeRef="string"/>'
        + rule("r", ["-"], ['"a"'])
        + "</decisionTable></decision>"
        '<decision id="d2" name="Check"><decisionTable>'
        + clause("Codes", "string")
        + '<output id="o2" typeRef="boolean"/>'
        + rule("r2", ["-"], ["true"])
        + "</decisionTable></decision>"
    )
    conversion = dmn.read_dmn(model(body))
    assert [t.name for t in conversion.tables] == ["codes"]
    assert any(
        m.name == "Check" and m.topic == "list input" for m in conversion.messages
    )


def test_an_input_naming_one_output_of_a_compound_table_reads_that_output() -> None:
    body = (
        '<decision id="d1" name="Approval"><decisionTable>'
        + clause("age", "number")
        + '<output id="o1" name="Status" typeRef="string"/>'
        + '<output id="o2" name="Rate" typeRef="number"/>'
        + rule("r", ["-"], ['"ok"', "1"])
        + "</decisionTable></decision>"
        '<decision id="d2" name="Letter"><decisionTable>'
        + clause("Approval.Status", "string")
        + '<output id="o3" typeRef="string"/>'
        + rule("r2", ["-"], ['"Dear"'])
        + "</decisionTable></decision>"
    )
    conversion = dmn.read_dmn(model(body))
    letter = table_named(conversion, "letter")
    assert (letter.inputs[0].name, letter.inputs[0].source_table) == (
        "status",
        "approval",
    )


def test_two_columns_reading_one_input_are_reported() -> None:
    body = (
        '<decision id="d1" name="Range"><decisionTable>'
        + clause("age", "number")
        + clause("age", "number")
        + '<output id="o" typeRef="boolean"/>'
        + rule("r", ["&gt; 1", "&lt; 9"], ["true"])
        + "</decisionTable></decision>"
    )
    conversion = dmn.read_dmn(model(body))
    assert conversion.tables == ()
    assert conversion.errors[0].topic == "repeated input"


def test_unreadable_and_hostile_models_are_refused() -> None:
    assert dmn.read_dmn(b"<definitions", "x.dmn").errors[0].topic == "unreadable"
    assert "not a DMN" in dmn.read_dmn(b"<definitions/>", "x.dmn").errors[0].text
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        + model('<decision id="d" name="&b;"/>')
    )
    refused = dmn.read_dmn(bomb, "bomb.dmn")
    assert refused.tables == () and refused.errors[0].topic == "unreadable"


@pytest.mark.parametrize(
    ("rate_values", "codes"), [('"low", "high"', []), (None, []), ("", ["E415"])]
)
def test_priority_needs_values_on_one_output_not_on_every_output(
    tmp_path: Path, rate_values: str | None, codes: list[str]
) -> None:
    """As in DMN (TCK 0110, 0118), an output without Values takes no part in the
    priority; with no Values on any output there is no priority at all (E415)."""
    status_values = '"approved", "declined"' if rate_values != "" else None
    sheet = decision_table(
        "approval",
        [
            ("age", "input", "number", None),
            ("status", "output", "string", status_values),
            ("rate", "output", "string", rate_values or None),
        ],
        [("R1", ">= 18", "approved", "low"), ("R2", "-", "declined", "high")],
        hit_policy="PRIORITY",
    )
    _, diagnostics = load_books(tmp_path, {"book.xlsx": [sheet]})
    assert [d.code for d in errors(diagnostics)] == codes


# -- the workbook --------------------------------------------------------------------------


def test_the_workbook_reads_back_as_the_converted_tables(tmp_path: Path) -> None:
    conversion = triage()
    loaded = load_workbook_tables(tmp_path, conversion)
    assert loaded == {t.name: plain(t) for t in conversion.tables}


def test_the_workbook_keeps_the_dmn_names_visible(tmp_path: Path) -> None:
    path = tmp_path / "tables" / "model.xlsx"
    dmn.write_workbook(triage(), path)
    book = load_workbook(path)
    sheet = book["triage"]
    assert sheet["B1"].comment is not None and "d_triage" in sheet["B1"].comment.text
    header = next(row for row in sheet.iter_rows() if row[0].value == "Rule")
    assert [c.value for c in header] == [
        "Rule",
        "age_band",
        "symptom",
        "onset_date",
        "level",
        "is_urgent",
    ]
    assert header[5].comment is not None and "'isUrgent'" in header[5].comment.text
    notes = [row for row in book["DMN import"].iter_rows(values_only=True)]
    assert ("triage", "is_urgent", "output", "isUrgent", "o_urgent") in notes


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    body = (
        '<decision id="d" name="Note"><decisionTable>'
        + clause("x", "number")
        + '<output id="o" typeRef="string"/><annotation name="=SUM(A1)"/>'
        + rule("r1", ["-"], ['"=1+1"'], ["=A1"])
        + "</decisionTable></decision>"
    )
    conversion = dmn.read_dmn(model(body))
    loaded = load_workbook_tables(tmp_path, conversion)
    assert loaded["note"].rules[0].outputs == ("=1+1",)
    assert loaded["note"].rules[0].annotations == ("=A1",)
    assert loaded["note"].annotations[0].name == "=SUM(A1)"


def test_imported_tables_compile_and_evaluate_through_their_requirement(
    tmp_path: Path,
) -> None:
    tables = tmp_path / "tables"
    dmn.write_workbook(triage(), tables / "triage.xlsx")
    module = compiled_module(compile_tables(tables), "triage")
    result = module.evaluate(
        patient_age=70, symptom="stroke", onset_date=dt.date(2025, 3, 1)
    )
    assert (result.outputs.level, result.outputs.is_urgent) == (1.0, True)
    result = module.evaluate(
        patient_age=30, symptom="chest pain", onset_date=dt.date(2024, 6, 1)
    )
    assert result.matched == ("R2",)  # its DMN id, t2, is not its rule id


def test_rule_ids_come_from_the_label_or_description_else_r1_r2() -> None:
    """Never the DMN id, which modelers fill with UUIDs."""
    rules = (
        rule("_7f03803d-2636-40ab-8346-7fd7f38ab695", ["&lt; 18"], ['"a"'])
        + rule(
            "_887acecd-40fc-42da-9443-eeba476f5516", ["&lt; 30"], ['"b"'], label="Adult"
        )
        + '<rule id="_fe22a717"><description>R9</description>'
        '<inputEntry><text>&lt; 50</text></inputEntry><outputEntry><text>"c"</text></outputEntry></rule>'
        + '<rule id="_c047d896"><description>older than fifty years</description>'
        '<inputEntry><text>-</text></inputEntry><outputEntry><text>"d"</text></outputEntry></rule>'
    )
    body = (
        input_data("i", "age", "number")
        + '<decision id="d" name="band"><decisionTable hitPolicy="FIRST">'
        + clause("age", "number")
        + '<output id="o" name="band" typeRef="string"/>'
        + rules
        + "</decisionTable></decision>"
    )
    [band] = dmn.read_dmn(model(body, "1.1")).tables
    assert [r.id for r in band.rules] == ["R1", "Adult", "R9", "R4"]


# -- export ------------------------------------------------------------------------------

DMN = "{https://www.omg.org/spec/DMN/20230324/MODEL/}"

# Child order of each element, as the DMN 1.5 schema's sequences list it.
ORDER = {
    "definitions": ["itemDefinition", "decision", "inputData", "DMNDI"],
    "decision": [
        "description",
        "extensionElements",
        "variable",
        "informationRequirement",
        "decisionTable",
    ],
    "decisionTable": ["input", "output", "annotation", "rule"],
    "input": ["inputExpression", "inputValues"],
    "output": ["outputValues", "defaultOutputEntry"],
    "rule": ["inputEntry", "outputEntry", "annotationEntry"],
}


def check_order(element: ET.Element) -> None:
    local = element.tag.split("}")[-1]
    if local in ORDER:
        children = [c.tag.split("}")[-1] for c in element]
        positions = [ORDER[local].index(c) for c in children if c in ORDER[local]]
        assert positions == sorted(positions), f"{local}: {children}"
        if local != "definitions":
            assert len(positions) == len(children), f"{local}: {children}"
    for child in element:
        check_order(child)


EXPORTED = {
    "Bands": decision_table(
        "age_band",
        [
            ("age", "input", "integer", "[0..130]"),
            ("band", "output", "string", '"child", "adult \\"plus\\""'),
        ],
        [("R1", "< 18", "child"), ("R2", ">= 18", '"adult \\"plus\\""')],
        hit_policy="FIRST",
        title="Age band",
        metadata={"Source": "Policy 1.2"},
    ),
    "Visits": decision_table(
        "visit",
        [
            ("band", "from age_band", "string", None),
            ("visit_date", "input", "date", None),
            ("code", "input", "code", None),
            ("fee", "output", "number", None),
            ("Note", "annotation", None, None),
        ],
        [
            ("V1", "child", "[2025-01-01..2025-06-30]", "M54.*", 10.5, "first half"),
            ("V2", "-", "not(2025-12-25)", "[70450..70498]", 0.00001, ""),
        ],
        hit_policy="C+",
        defaults={"fee": 0},
    ),
}


def test_export_writes_dmn_1_5_that_follows_the_schema_order(tmp_path: Path) -> None:
    project, diagnostics = load_books(tmp_path, {"book.xlsx": EXPORTED})
    assert project is not None and not errors(diagnostics)
    exported = dmn.export_dmn(project, ["visit"], "Clinic")
    assert exported.tables == ("age_band", "visit")  # visit requires age_band
    root = ET.fromstring(exported.xml)
    assert root.tag == f"{DMN}definitions" and root.get("namespace")
    check_order(root)
    decisions = {d.get("name"): d for d in root.iter(f"{DMN}decision")}
    band = decisions["age_band"]
    assert band.get("label") == "Age band"
    assert band.findtext(f"{DMN}description") == "Policy 1.2"
    visit_table = decisions["visit"].find(f"{DMN}decisionTable")
    assert visit_table is not None
    assert (visit_table.get("hitPolicy"), visit_table.get("aggregation")) == (
        "COLLECT",
        "SUM",
    )
    requirements = [
        r[0].tag.split("}")[1] + r[0].get("href", "")
        for r in decisions["visit"].iter(f"{DMN}informationRequirement")
    ]
    assert requirements == [
        "requiredDecision#decision_age_band",
        "requiredInput#inputData_visit_date",
        "requiredInput#inputData_code",
    ]
    texts = [
        [e.findtext(f"{DMN}text") for e in r] for r in visit_table.iter(f"{DMN}rule")
    ]
    assert texts[0] == [
        '"child"',
        '[date("2025-01-01")..date("2025-06-30")]',
        'starts with(?, "M54.")',
        "10.5",
        "first half",
    ]
    assert texts[1][1:4] == [
        'not(date("2025-12-25"))',
        'string length(?) = 5 and ? >= "70450" and ? <= "70498"',
        "0.00001",
    ]
    band_rules = [
        [e.findtext(f"{DMN}text") for e in r] for r in band.iter(f"{DMN}rule")
    ]
    assert band_rules[1] == [">= 18", '"adult \\"plus\\""']
    inputs = {
        i.get("name"): i.findall(f"{DMN}variable")[0].get("typeRef")
        for i in root.iter(f"{DMN}inputData")
    }
    assert inputs == {"age": "number", "code": "string", "visit_date": "date"}
    assert [m.topic for m in exported.messages] == ["caveat"]  # integer
    authored = "{https://compile-rules/dmn/extensions}text"
    assert [e.get(authored) for r in visit_table.iter(f"{DMN}rule") for e in r] == [
        None,
        None,
        "M54.*",
        None,
        None,
        None,
        None,
        "[70450..70498]",
        None,
        None,
    ]
    again = dmn.read_dmn(exported.xml.encode(), "clinic.dmn")
    assert again.errors == ()  # the code tests read back from their cell text
    assert load_workbook_tables(tmp_path / "back", again) == tables_of(project)


RATE = [("x", "input", "number", None), ("r", "output", "number", "1, 2")]
VERSIONED = {
    "Old": decision_table(
        "rate", RATE, [("R1", "-", 1)], metadata={"Effective to": "2024-12-31"}
    ),
    "New": decision_table(
        "rate",
        RATE,
        [("R1", "< 5", 2), ("R2", "-", 1)],
        hit_policy="FIRST",
        metadata={"Effective from": "2025-01-01"},
        title="Rates from 2025",
    ),
    "Use": decision_table(
        "use",
        [("r", "from rate", "number", None), ("y", "output", "number", None)],
        [("U1", "-", 2)],
    ),
    "Plain": decision_table(
        "plain",
        [("x", "input", "number", None), ("z", "output", "number", None)],
        [("P1", "-", 3)],
    ),
}


def versions_of(project: Project) -> dict[str, list[Table]]:
    return {d.name: [plain(t) for t in d.versions] for d in project.decisions}


def test_export_writes_each_version_as_a_decision_with_its_dates(
    tmp_path: Path,
) -> None:
    project, _ = load_books(tmp_path, {"book.xlsx": VERSIONED})
    assert project is not None
    exported = dmn.export_dmn(project)
    assert exported.tables == ("plain", "rate")
    assert [(m.name, m.severity, m.topic) for m in exported.messages] == [
        ("use", "error", "versions"),  # DMN has no date to choose a version of rate by
    ]
    root = ET.fromstring(exported.xml)
    check_order(root)
    extension = "{https://compile-rules/dmn/extensions}version"
    versions = {
        d.get("name"): d.find(f"{DMN}extensionElements/{extension}")
        for d in root.iter(f"{DMN}decision")
    }
    assert list(versions) == ["plain", "rate to 2024-12-31", "rate from 2025-01-01"]
    assert versions["plain"] is None
    old, new = versions["rate to 2024-12-31"], versions["rate from 2025-01-01"]
    assert old is not None and old.attrib == {
        "table": "rate",
        "effectiveTo": "2024-12-31",
    }
    assert new is not None and new.attrib == {
        "table": "rate",
        "effectiveFrom": "2025-01-01",
    }


def test_effective_dated_tables_round_trip_through_import(tmp_path: Path) -> None:
    books = {k: v for k, v in VERSIONED.items() if k != "Use"}
    project, _ = load_books(tmp_path / "a", {"book.xlsx": books})
    assert project is not None
    exported = dmn.export_dmn(project)
    again = dmn.read_dmn(exported.xml.encode(), "exported.dmn")
    assert again.errors == ()
    assert [(t.name, t.location.sheet) for t in again.tables] == [
        ("plain", "plain"),
        ("rate", "rate to 2024-12-31"),
        ("rate", "rate from 2025-01-01"),
    ]
    tables = tmp_path / "b" / "tables"
    dmn.write_workbook(again, tables / "model.xlsx")
    reread, diagnostics = load_tables(tables)
    assert reread is not None and not errors(diagnostics)
    assert versions_of(reread) == versions_of(project)


def test_the_shipped_effective_dated_table_round_trips(tmp_path: Path) -> None:
    project, _ = load_tables(Path(__file__).resolve().parents[1] / "tables")
    assert project is not None
    exported = dmn.export_dmn(project, ["lab_policy_for_test"])
    assert not [m for m in exported.messages if m.severity == "error"]
    again = dmn.read_dmn(exported.xml.encode(), "exported.dmn")
    assert again.errors == ()
    tables = tmp_path / "tables"
    dmn.write_workbook(again, tables / "model.xlsx")
    reread, diagnostics = load_tables(tables)
    assert reread is not None and not errors(diagnostics)
    original = project.decision("lab_policy_for_test")
    assert len(original.versions) == 2
    assert [plain(t) for t in reread.decision("lab_policy_for_test").versions] == [
        plain(t) for t in original.versions
    ]


# -- round trip: import -> export -> import ------------------------------------------------


def round_trip(
    tmp_path: Path, conversion: dmn.Conversion
) -> tuple[dict[str, Table], dict[str, Table]]:
    """(tables read from the imported workbook, the same after export and re-import)."""
    first = load_workbook_tables(tmp_path / "first", conversion)
    project, _ = load_tables(tmp_path / "first" / "tables")
    assert project is not None
    exported = dmn.export_dmn(project, (), "round trip")
    assert not [m for m in exported.messages if m.severity == "error"]
    again = dmn.read_dmn(exported.xml.encode(), "exported.dmn")
    assert again.errors == ()
    return first, load_workbook_tables(tmp_path / "second", again)


@pytest.mark.parametrize("version", ["1.1", "1.2", "1.5"])
def test_round_trip_gives_the_same_tables(tmp_path: Path, version: str) -> None:
    body = (
        TRIAGE
        if version != "1.1"
        else TRIAGE.replace('<annotation name="Why"/>', "")
        .replace("<annotationEntry>", "<description>")
        .replace("</annotationEntry>", "</description>")
    )
    if version == "1.1":  # rule descriptions come before the entries
        body = body.replace(
            '<rule id="_0b1e" label="b1"><inputEntry><text>&lt; 65</text></inputEntry><outputEntry><text>"young"</text></outputEntry><description>under 65</description>',
            '<rule id="_0b1e" label="b1"><description>under 65</description><inputEntry><text>&lt; 65</text></inputEntry><outputEntry><text>"young"</text></outputEntry>',
        )
    first, second = round_trip(
        tmp_path, dmn.read_dmn(model(body, version), "triage.dmn")
    )
    assert first == second
    assert len(first) == 2


def test_the_tck_models_ship_with_the_repository() -> None:
    """The round trip below runs on them in every clone, never skipped."""
    assert TCK == Path(__file__).resolve().parent / "dmn-tck"
    assert len(sorted(TCK.glob("*/*.dmn"))) >= 20


@pytest.mark.parametrize("path", sorted(TCK.glob("*/*.dmn")), ids=lambda p: p.stem)
def test_round_trip_of_the_tck_models(tmp_path: Path, path: Path) -> None:
    conversion = dmn.read_dmn(path)
    if not conversion.tables:
        pytest.skip("no table of this model converts")
    first, second = round_trip(tmp_path, conversion)
    assert first == second


NATIVE = {
    "Band": decision_table(
        "age_band",
        [
            ("age", "input", "number", "[0..130]"),
            ("band", "output", "string", '"child", "adult"'),
            ("Note", "annotation", None, None),
        ],
        [("R1", "< 18", "child", "minors"), ("R2", ">= 18", "adult", "")],
        hit_policy="FIRST",
    ),
    "Plan": decision_table(
        "plan",
        [
            ("band", "from age_band", "string", None),
            ("seen", "input", "date", None),
            ("urgent", "input", "boolean", None),
            ("visits", "output", "number", "1, 2, 4"),
            ("reason", "output", "string", None),
        ],
        [
            ("P1", "adult", "[2025-01-01..2025-12-31]", True, 4, "null"),
            ("P2", "not(adult)", "-", "-", 2, "young"),
            ("P3", "-", "< 2025-01-01", False, 1, "old"),
        ],
        hit_policy="OUTPUT ORDER",
        defaults={"visits": 1, "reason": "none"},
        title="Visit plan",
    ),
}


def test_workbook_tables_survive_export_and_import(tmp_path: Path) -> None:
    project, diagnostics = load_books(tmp_path / "a", {"book.xlsx": NATIVE})
    assert project is not None and not errors(diagnostics)
    exported = dmn.export_dmn(project)
    assert exported.messages == ()
    again = dmn.read_dmn(exported.xml.encode(), "exported.dmn")
    assert again.messages == ()
    assert load_workbook_tables(tmp_path / "b", again) == tables_of(project)


# -- the commands ------------------------------------------------------------------------


def run(args: list[str], cwd: Path) -> Any:
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        return runner.invoke(main, args, catch_exceptions=False)


def test_import_dmn_writes_a_workbook_that_compiles(tmp_path: Path) -> None:
    (tmp_path / "triage.dmn").write_bytes(model(TRIAGE))
    result = run(["import-dmn", "triage.dmn"], tmp_path)
    assert result.exit_code == 0, result.output
    assert "wrote tables/triage.xlsx: 2 table(s) (age_band, triage)" in result.output
    assert compile_tables(tmp_path / "tables").ok
    again = run(["import-dmn", "triage.dmn"], tmp_path)
    assert again.exit_code == 2 and "--force" in again.output
    assert run(["import-dmn", "triage.dmn", "--force"], tmp_path).exit_code == 0


def test_import_dmn_flags_table_names_used_by_other_workbooks(tmp_path: Path) -> None:
    band = decision_table(
        "age_band",
        [("x", "input", "number", None), ("y", "output", "number", None)],
        [("R1", "-", 1)],
    )
    write_tables(tmp_path, {"mine.xlsx": [band]})
    (tmp_path / "triage.dmn").write_bytes(model(TRIAGE))
    result = run(["import-dmn", "triage.dmn"], tmp_path)
    assert (
        "the table name 'age_band' is already used at tables/mine.xlsx" in result.output
    )


def test_import_dmn_converts_the_rest_and_warns_unless_strict(tmp_path: Path) -> None:
    body = TRIAGE + '<decision id="x1" name="Total"><relation/></decision>'
    (tmp_path / "m.dmn").write_bytes(model(body))
    result = run(["import-dmn", "m.dmn", "--into", "out/m.xlsx"], tmp_path)
    assert result.exit_code == 0
    assert (
        "m.dmn: error: decision 'Total' (x1): its logic is a relation" in result.output
    )
    assert "1 part(s) of the model not converted" in result.output
    strict = run(
        ["import-dmn", "m.dmn", "--into", "out/strict.xlsx", "--strict"], tmp_path
    )
    assert strict.exit_code == 3 and not (tmp_path / "out" / "strict.xlsx").exists()


def test_import_dmn_exits_3_when_nothing_converts(tmp_path: Path) -> None:
    (tmp_path / "m.dmn").write_bytes(
        model('<decision id="x1" name="Total"><relation/></decision>')
    )
    result = run(["import-dmn", "m.dmn"], tmp_path)
    assert result.exit_code == 3
    assert "decision 'Total' (x1): its logic is a relation" in result.output
    assert not (tmp_path / "tables").exists()


def test_export_dmn_writes_the_named_tables(tmp_path: Path) -> None:
    write_tables(tmp_path, {"book.xlsx": EXPORTED})
    result = run(["export-dmn", "age_band", "--out", "model.dmn"], tmp_path)
    assert result.exit_code == 0, result.output
    assert "wrote model.dmn: 1 table(s) (age_band)" in result.output
    assert ET.parse(tmp_path / "model.dmn").getroot().get("name") == "model"
    unknown = run(["export-dmn", "age_bnd", "--out", "model.dmn"], tmp_path)
    assert unknown.exit_code == 2 and "did you mean 'age_band'" in unknown.output


def test_export_dmn_exits_3_when_it_leaves_a_table_out(tmp_path: Path) -> None:
    write_tables(tmp_path, {"book.xlsx": VERSIONED})
    result = run(["export-dmn", "--out", "model.dmn"], tmp_path)
    assert result.exit_code == 3, result.output
    assert "error: table 'use': not exported: it requires 'rate'" in result.output
    assert (
        "wrote model.dmn: 2 table(s) (plain, rate); not exported: use" in result.output
    )
    whole = run(["export-dmn", "rate", "plain", "--out", "two.dmn"], tmp_path)
    assert whole.exit_code == 0, whole.output
    assert "wrote two.dmn: 2 table(s) (plain, rate)" in whole.output


def test_export_dmn_exits_3_on_invalid_tables(tmp_path: Path) -> None:
    broken = decision_table(
        "bad",
        [("x", "input", "number", None), ("y", "output", "number", None)],
        [("R1", "abc", 1)],
    )
    write_tables(tmp_path, {"book.xlsx": {"Bad": broken}})
    result = run(["export-dmn", "--out", "model.dmn"], tmp_path)
    assert result.exit_code == 3
    assert not (tmp_path / "model.dmn").exists()
