"""DMN business knowledge models (BKMs) imported by inlining where decisions invoke
them (`compiler/interop/dmn/invocations.py`): a BKM's table or literal expression
becomes the invoking decision's logic with each parameter replaced by its binding;
what cannot be inlined is refused naming the decision and the BKM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from compiler.interop import dmn

from .test_dmn import clause, input_data, model, rule, table_named
from .test_dmn_logic import compiled

# A BKM `Band of` whose body is a decision table over its parameter `Age`, and a
# BKM `Fee` of literal-expression logic calling `Square` as a function.
BKMS = (
    '<businessKnowledgeModel id="b1" name="Band of"><encapsulatedLogic>'
    '<formalParameter name="Age" typeRef="number"/>'
    "<decisionTable hitPolicy='FIRST'>"
    + clause("Age")  # no typeRef: the parameter's
    + '<output id="bo" typeRef="string"/>'
    + rule("r1", ["&lt; 18"], ['"child"'])
    + rule("r2", ["-"], ['"adult"'])
    + "</decisionTable></encapsulatedLogic></businessKnowledgeModel>"
    '<businessKnowledgeModel id="b2" name="Square"><encapsulatedLogic>'
    '<formalParameter name="x" typeRef="number"/>'
    "<literalExpression><text>x ** 2</text></literalExpression>"
    "</encapsulatedLogic></businessKnowledgeModel>"
    '<businessKnowledgeModel id="b3" name="Fee"><encapsulatedLogic>'
    '<formalParameter name="Rate" typeRef="number"/>'
    '<formalParameter name="Count" typeRef="number"/>'
    "<context>"
    '<contextEntry><variable name="Base"/><literalExpression><text>Rate * 10'
    "</text></literalExpression></contextEntry>"
    "<contextEntry><literalExpression><text>Base + Square(Count - 1)"
    "</text></literalExpression></contextEntry>"
    "</context></encapsulatedLogic></businessKnowledgeModel>"
)
INPUTS = input_data("i1", "Applicant age", "number") + input_data(
    "i2", "Rate", "number"
)


def invocation(name: str, bindings: dict[str, str]) -> str:
    bound = "".join(
        f'<binding><parameter name="{p}"/><literalExpression><text>{t}</text>'
        "</literalExpression></binding>"
        for p, t in bindings.items()
    )
    return f"<invocation><literalExpression><text>{name}</text></literalExpression>{bound}</invocation>"


def decision(ident: str, name: str, type_ref: str, logic: str) -> str:
    return (
        f'<decision id="{ident}" name="{name}"><variable name="{name}" '
        f'typeRef="{type_ref}"/>{logic}</decision>'
    )


def test_an_explicit_binding_to_an_input_makes_the_bkm_table_its_own(
    tmp_path: Path,
) -> None:
    body = (
        INPUTS
        + BKMS
        + decision(
            "d1", "Band", "string", invocation("Band of", {"Age": "Applicant age"})
        )
    )
    conversion = dmn.read_dmn(model(body), "m.dmn")
    assert conversion.errors == ()
    band = table_named(conversion, "band")
    assert [(c.name, c.type.value) for c in band.inputs] == [
        ("applicant_age", "number")
    ]
    assert [c.name for c in band.outputs] == ["band"]
    module: Any = compiled(tmp_path, conversion)["band"]
    assert module.evaluate(applicant_age=12).outputs.band == "child"
    assert module.evaluate(applicant_age=40).outputs.band == "adult"


def test_a_binding_to_a_decision_is_a_from_column_and_each_invocation_a_copy(
    tmp_path: Path,
) -> None:
    """Two decisions invoke one BKM with different bindings: each gets its table."""
    body = (
        INPUTS
        + BKMS
        + decision(
            "d1", "Band", "string", invocation("Band of", {"Age": "Applicant age"})
        )
        + decision(
            "d2",
            "Older",
            "number",
            "<literalExpression><text>Applicant age + 50</text></literalExpression>",
        )
        + decision(
            "d3", "Older band", "string", invocation("Band of", {"Age": "Older"})
        )
    )
    conversion = dmn.read_dmn(model(body), "m.dmn")
    assert conversion.errors == ()
    older = table_named(conversion, "older_band")
    assert older.inputs[0].source_table == "older"
    modules: Any = compiled(tmp_path, conversion)
    assert modules["band"].evaluate(applicant_age=12).outputs.band == "child"
    older_module = modules["older_band"]
    assert older_module.evaluate(applicant_age=12).outputs.older_band == "adult"


def test_implicit_parameters_named_as_paths_read_the_structured_input(
    tmp_path: Path,
) -> None:
    """TCK 0037's shape: the parameter is named `Person.Age`, bound to that path."""
    body = (
        '<itemDefinition name="tPerson"><itemComponent name="Age"><typeRef>number'
        "</typeRef></itemComponent></itemDefinition>"
        + input_data("i1", "Person", "tPerson")
        + '<businessKnowledgeModel id="b1" name="Band of"><encapsulatedLogic>'
        '<formalParameter name="Person.Age" typeRef="number"/>'
        "<decisionTable>"
        + clause("Person.Age", "number")
        + '<output id="bo" typeRef="string"/>'
        + rule("r1", ["&lt; 18"], ['"child, " + string(Person.Age)'])
        + rule("r2", ["&gt;= 18"], ['"adult"'])
        + "</decisionTable></encapsulatedLogic></businessKnowledgeModel>"
        + decision(
            "d1", "Band", "string", invocation("Band of", {"Person.Age": "Person.Age"})
        )
    )
    conversion = dmn.read_dmn(model(body), "m.dmn")
    assert conversion.errors == ()
    band = table_named(conversion, "band")
    assert [c.header for c in band.inputs] == ["person.age"]
    module: Any = compiled(tmp_path, conversion)["band"]
    assert module.evaluate(person={"age": 12}).outputs.band == "child, 12"


def test_a_context_body_and_a_bkm_called_as_a_function_are_inlined(
    tmp_path: Path,
) -> None:
    """`Fee`: a context whose entry `Base` the result reads, calling `Square`."""
    body = (
        INPUTS
        + BKMS
        + decision(
            "d1",
            "Total fee",
            "number",
            invocation("Fee", {"Rate": "Rate", "Count": "Applicant age / 10"}),
        )
    )
    conversion = dmn.read_dmn(model(body), "m.dmn")
    assert conversion.errors == ()
    fee = table_named(conversion, "total_fee")
    formula = fee.rules[0].output_expressions[0]
    assert formula is not None
    assert formula.text == "(rate * 10) + (((applicant_age / 10) - 1) ** 2)"
    module: Any = compiled(tmp_path, conversion)["total_fee"]
    assert module.evaluate(rate=2, applicant_age=30).outputs.total_fee == 24


@pytest.mark.parametrize(
    ("logic", "reason"),
    [
        (
            invocation("Nothing", {}),
            "it invokes 'Nothing', which is not a business knowledge model",
        ),
        (
            invocation("Band of", {}),
            "it binds no value to the parameter 'Age' of business knowledge model "
            "'Band of' (b1)",
        ),
        (
            invocation("Band of", {"Age": "Applicant age", "Height": "1"}),
            "it binds 'Height', which is not a parameter of business knowledge "
            "model 'Band of' (b1)",
        ),
        (
            invocation("Peek", {"x": "Applicant age"}),
            "business knowledge model 'Peek' (b9): its body reads 'Rate', which is "
            "not one of its parameters",
        ),
    ],
)
def test_what_cannot_be_inlined_is_refused_naming_the_decision_and_the_bkm(
    logic: str, reason: str
) -> None:
    peek = (
        '<businessKnowledgeModel id="b9" name="Peek"><encapsulatedLogic>'
        '<formalParameter name="x" typeRef="number"/>'
        "<literalExpression><text>x + Rate</text></literalExpression>"
        "</encapsulatedLogic></businessKnowledgeModel>"
        '<businessKnowledgeModel id="b8" name="Banded"><encapsulatedLogic>'
        '<formalParameter name="Age" typeRef="number"/>'
        '<literalExpression><text>Band of(Age) + "!"</text></literalExpression>'
        "</encapsulatedLogic></businessKnowledgeModel>"
    )
    body = INPUTS + BKMS + peek + decision("d1", "Band", "string", logic)
    conversion = dmn.read_dmn(model(body), "m.dmn")
    assert conversion.tables == ()
    (error,) = conversion.errors
    assert (error.element, error.name, error.id) == ("decision", "Band", "d1")
    assert reason in error.text


def test_a_decision_reading_a_refused_invocation_is_left_out_too() -> None:
    body = (
        INPUTS
        + BKMS
        + decision("d1", "Band", "string", invocation("Band of", {}))
        + decision(
            "d2",
            "Shout",
            "string",
            '<informationRequirement><requiredDecision href="#d1"/>'
            "</informationRequirement>"
            "<literalExpression><text>upper case(Band)</text></literalExpression>",
        )
    )
    conversion = dmn.read_dmn(model(body), "m.dmn")
    assert conversion.tables == ()
    assert [(m.name, m.topic) for m in conversion.errors] == [
        ("Band", "invocation"),
        ("Shout", "required decision not converted"),
    ]


def test_a_bkm_no_decision_invokes_is_a_warning() -> None:
    body = (
        INPUTS
        + BKMS
        + decision(
            "d1", "Band", "string", invocation("Band of", {"Age": "Applicant age"})
        )
    )
    conversion = dmn.read_dmn(model(body), "m.dmn")
    assert conversion.errors == ()
    unused = [m for m in conversion.messages if m.element == "business knowledge model"]
    assert [(m.severity, m.name, m.id) for m in unused] == [
        ("warning", "Square", "b2"),
        ("warning", "Fee", "b3"),
    ]


def test_a_table_bkm_called_in_an_expression_is_a_decision_of_its_own(
    tmp_path: Path,
) -> None:
    """`Band of(Applicant age + 5) + "!"`: the BKM's table becomes a decision that
    the expression reads, its argument a literal decision that the table reads."""
    body = (
        INPUTS
        + BKMS
        + decision(
            "d1",
            "Band",
            "string",
            '<literalExpression><text>Band of(Applicant age + 5) + "!" + '
            "Band of(Applicant age)</text></literalExpression>",
        )
    )
    conversion = dmn.read_dmn(model(body), "m.dmn")
    assert conversion.errors == ()
    band = table_named(conversion, "band")
    assert [c.source_table for c in band.inputs] == ["band_band_of", "band_band_of_2"]
    inner = table_named(conversion, "band_band_of")
    assert [c.source_table for c in inner.inputs] == ["band_band_of_age"]
    module: Any = compiled(tmp_path, conversion)["band"]
    assert module.evaluate(applicant_age=15).outputs.band == "adult!child"
    assert module.evaluate(applicant_age=10).outputs.band == "child!child"
