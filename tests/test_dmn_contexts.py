"""DMN boxed contexts imported as chains of tables (`compiler/interop/dmn/contexts.py`)
and imported models read for their item definitions (`imports.py`): models built here,
compiled, evaluated; what is refused names the decision, its id and the entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.interop import dmn

from .test_dmn import clause, input_data, model, round_trip, rule, table_named
from .test_dmn_logic import compiled


def entry(name: str, value: str, type_ref: str = "") -> str:
    typed = f' typeRef="{type_ref}"' if type_ref else ""
    return (
        f'<contextEntry><variable id="v-{name}" name="{name}"{typed}/>{value}'
        "</contextEntry>"
    )


def result(value: str) -> str:
    return f"<contextEntry>{value}</contextEntry>"


def literal(text: str) -> str:
    return f"<literalExpression><text>{text}</text></literalExpression>"


def decision(name: str, context: str, type_ref: str = "number") -> str:
    return (
        f'<decision id="d-{name}" name="{name}">'
        f'<variable name="{name}" typeRef="{type_ref}"/>'
        f"<context>{context}</context></decision>"
    )


# A payment: a rate (a literal), a monthly amount (a table reading the rate and an
# inputData), and a result entry computed from the monthly amount.
MONTHLY = (
    "<decisionTable hitPolicy='UNIQUE'>"
    + clause("Loan Amount", "number")
    + '<output id="o1"/>'
    + rule("r1", ["&lt; 1000"], ["Loan Amount * Rate"])
    + rule("r2", ["&gt;= 1000"], ["Loan Amount * Rate / 2"])
    + "</decisionTable>"
)
PAYMENT = input_data("i1", "Loan Amount", "number") + decision(
    "Payment",
    entry("Rate", literal("0.1"), "number")
    + entry("Monthly", MONTHLY, "number")
    + result(literal("Monthly + 1")),
)


def test_each_entry_is_a_table_and_the_result_reads_them(tmp_path: Path) -> None:
    conversion = dmn.read_dmn(model(PAYMENT), "m.dmn")
    assert conversion.errors == ()
    assert [t.name for t in conversion.tables] == [
        "payment_rate",
        "payment_monthly",
        "payment",
    ]
    monthly = table_named(conversion, "payment_monthly")
    assert [(c.name, c.source_table) for c in monthly.inputs] == [
        ("loan_amount", None),
        ("payment_rate", "payment_rate"),
    ]
    assert monthly.source == "Context entry 'Monthly' of the decision 'Payment'"
    payment = table_named(conversion, "payment").inputs
    assert [c.source_table for c in payment] == ["payment_monthly"]
    evaluate = compiled(tmp_path, conversion)["payment"].evaluate  # type: ignore[attr-defined]
    assert evaluate(loan_amount=500).outputs[0] == pytest.approx(51)
    assert evaluate(loan_amount=2000).outputs[0] == pytest.approx(101)


def test_a_result_naming_the_last_entry_is_that_entry_and_contexts_nest(
    tmp_path: Path,
) -> None:
    """The result `Inner` is the last entry, itself a context whose result is its
    last entry: the decision's table is that entry's table; the entries above are
    tables, the inner one reading the outer one's."""
    inner = entry("Fee", literal("5"), "number") + entry(
        "Total", literal("Loan Amount * Rate + Fee"), "number"
    )
    body = input_data("i1", "Loan Amount", "number") + decision(
        "Charge",
        entry("Rate", literal("0.5"), "number")
        + entry("Inner", f"<context>{inner}{result(literal('Total'))}</context>")
        + result(literal("Inner")),
    )
    conversion = dmn.read_dmn(model(body), "m.dmn")
    assert conversion.errors == ()
    assert [t.name for t in conversion.tables] == [
        "charge_rate",
        "charge_fee",
        "charge",
    ]
    charge = compiled(tmp_path, conversion)["charge"].evaluate  # type: ignore[attr-defined]
    assert charge(loan_amount=10).outputs[0] == pytest.approx(10)
    first, second = round_trip(tmp_path, conversion)
    assert first == second


def test_a_context_without_a_result_is_a_table_of_one_output_per_entry(
    tmp_path: Path,
) -> None:
    body = input_data("i1", "Loan Amount", "number") + decision(
        "Summary",
        entry("Doubled", literal("Loan Amount * 2"), "number")
        + entry("Big", literal("Doubled &gt; 100"), "boolean"),
        type_ref="Any",
    )
    conversion = dmn.read_dmn(model(body), "m.dmn")
    assert conversion.errors == ()
    summary = table_named(conversion, "summary")
    assert summary.hit_policy.value == "FIRST"
    assert [r.id for r in summary.rules] == ["R1"]
    assert [(c.name, c.type.value) for c in summary.outputs] == [
        ("doubled", "number"),
        ("big", "boolean"),
    ]
    assert conversion.origins["summary"].output_names() == {
        "Doubled": "doubled",
        "Big": "big",
    }
    evaluate = compiled(tmp_path, conversion)["summary"].evaluate  # type: ignore[attr-defined]
    assert tuple(evaluate(loan_amount=80).outputs) == (160, True)


@pytest.mark.parametrize(
    ("context", "reason"),
    [
        (
            result(literal("1")) + entry("Rate", literal("2")),
            "an entry of its context has no name and is not the last",
        ),
        (entry("Rate", ""), "context entry 'Rate' has no value"),
        (
            entry("Rate", literal("1")) + entry("Rate", literal("2")),
            "its context has two entries named 'Rate'",
        ),
        (
            entry("f", "<functionDefinition/>") + result(literal("1")),
            "context entry 'f' defines a function",
        ),
        ("", "its context has no entries"),
    ],
)
def test_a_context_without_a_counterpart_is_refused_naming_the_entry(
    context: str, reason: str
) -> None:
    body = input_data("i1", "Loan Amount", "number") + decision("Payment", context)
    conversion = dmn.read_dmn(model(body), "m.dmn")
    assert conversion.tables == ()
    [error] = conversion.errors
    assert (error.element, error.name, error.id) == ("decision", "Payment", "d-Payment")
    assert reason in error.text


def test_an_entry_that_does_not_convert_leaves_its_decision_out() -> None:
    """The entry's own reason, under its decision's name (the decision's own, when
    the result is that entry); the context decision says which entry it misses; the
    entries that converted are not left behind (`payment_rate`)."""
    body = input_data("i1", "Loan Amount", "number") + decision(
        "Payment",
        entry("Rate", literal("0.1"), "number")
        + entry("Shown", literal("reverse([Rate])"), "number")
        + result(literal("Shown")),
        type_ref="string",
    )
    conversion = dmn.read_dmn(model(body), "m.dmn")
    assert conversion.tables == ()
    errors = {(e.name, e.id): e.text for e in conversion.errors}
    assert "unknown function 'reverse'" in errors[("Payment", "d-Payment")]
    uses = input_data("i1", "Loan Amount", "number") + decision(
        "Payment",
        entry("Rate", literal("0.1"), "number")
        + entry("Shown", literal("reverse([Rate])"), "number")
        + result(literal('Shown + "!"')),
        type_ref="string",
    )
    conversion = dmn.read_dmn(model(uses), "m.dmn")
    assert conversion.tables == ()
    errors = {(e.name, e.id): e.text for e in conversion.errors}
    assert "unknown function 'reverse'" in errors[("Payment Shown", "v-Shown")]
    assert errors[("Payment", "d-Payment")].endswith(
        "reads the decision 'Payment Shown', which is not converted, so this table "
        "is left out too"
    )


IMPORTED = (
    '<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" id="lib" '
    'name="Library" namespace="http://example.com/library">'
    '<itemDefinition name="tAmount"><typeRef>number</typeRef>'
    "<allowedValues><text>[0..5000]</text></allowedValues></itemDefinition>"
    '<itemDefinition name="tLoan"><itemComponent name="amount">'
    "<typeRef>tAmount</typeRef></itemComponent></itemDefinition>"
    "</definitions>"
)
IMPORTING = (
    '<import name="lib" namespace="http://example.com/library" '
    'importType="https://www.omg.org/spec/DMN/20230324/MODEL/"/>'
    + input_data("i1", "Loan Amount", "lib.tAmount")
    + '<decision id="d1" name="Band"><variable name="Band" typeRef="string"/>'
    "<decisionTable>"
    + clause("Loan Amount")
    + '<output id="o1"/>'
    + rule("r1", ["&lt; 1000"], ['"small"'])
    + rule("r2", ["&gt;= 1000"], ['"large"'])
    + "</decisionTable></decision>"
)


def test_imported_item_definitions_resolve_by_their_prefix(tmp_path: Path) -> None:
    (tmp_path / "library.dmn").write_text(IMPORTED)
    (tmp_path / "main.dmn").write_bytes(model(IMPORTING))
    conversion = dmn.read_dmn(tmp_path / "main.dmn")
    assert conversion.errors == ()
    [column] = table_named(conversion, "band").inputs
    assert column.type.value == "number" and column.values is not None
    [note] = [m for m in conversion.messages if m.element == "import"]
    assert (note.severity, note.name) == ("warning", "lib")
    assert note.text == "read 'library.dmn': its item definitions as lib.<name>"


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({}, "no .dmn file beside 'main.dmn' has the namespace"),
        ({"other.dmn": IMPORTED.replace("library", "elsewhere")}, "no .dmn file"),
    ],
)
def test_an_import_not_found_is_a_warning_and_its_names_unknown(
    tmp_path: Path, files: dict[str, str], reason: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "main.dmn").write_bytes(model(IMPORTING))
    conversion = dmn.read_dmn(tmp_path / "main.dmn")
    assert conversion.tables == ()
    [note] = [m for m in conversion.messages if m.element == "import"]
    assert note.severity == "warning" and reason in note.text
    [error] = conversion.errors
    assert error.name == "Band" and "unknown type 'lib.tAmount'" in error.text


def test_a_model_read_from_bytes_reads_no_import() -> None:
    conversion = dmn.read_dmn(model(IMPORTING), "m.dmn")
    [note] = [m for m in conversion.messages if m.element == "import"]
    assert note.text == "imported models are not read from bytes (no folder)"


def test_a_structured_imported_type_is_refused_as_structured(tmp_path: Path) -> None:
    (tmp_path / "library.dmn").write_text(IMPORTED)
    body = IMPORTING.replace('"lib.tAmount"', '"lib.tLoan"')
    (tmp_path / "main.dmn").write_bytes(model(body))
    conversion = dmn.read_dmn(tmp_path / "main.dmn")
    [error] = conversion.errors
    assert "the type 'lib.tLoan' is structured" in error.text


GREETER = (
    '<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" id="lib" '
    'name="Library" namespace="http://example.com/library">'
    '<itemDefinition name="tPerson"><itemComponent name="name">'
    "<typeRef>string</typeRef></itemComponent></itemDefinition>"
    '<businessKnowledgeModel id="b1" name="Greet"><encapsulatedLogic kind="FEEL">'
    '<formalParameter name="Person" typeRef="tPerson"/>'
    '<literalExpression><text>"Hello " + Person.name</text></literalExpression>'
    "</encapsulatedLogic></businessKnowledgeModel>"
    "</definitions>"
)


def test_an_imported_bkm_is_called_by_its_qualified_name(tmp_path: Path) -> None:
    """0086's shape: a context entry calls `lib.Greet(Who)`, a BKM of the imported
    model; its body is inlined, `Person.name` becoming the path input `Who.name`."""
    body = (
        '<import name="lib" namespace="http://example.com/library" '
        'importType="https://www.omg.org/spec/DMN/20230324/MODEL/"/>'
        + input_data("i1", "Who", "lib.tPerson")
        + decision(
            "Greeting",
            entry("Said", literal("lib.Greet(Who)"), "string")
            + result(literal('Said + "!"')),
            type_ref="string",
        )
    )
    (tmp_path / "library.dmn").write_text(GREETER)
    (tmp_path / "main.dmn").write_bytes(model(body))
    conversion = dmn.read_dmn(tmp_path / "main.dmn")
    assert conversion.errors == ()
    said = table_named(conversion, "greeting_said")
    assert said.rules[0].output_expressions[0] is not None
    assert said.rules[0].output_expressions[0].text == '("Hello " + who.name)'
    evaluate = compiled(tmp_path, conversion)["greeting"].evaluate  # type: ignore[attr-defined]
    assert evaluate(who={"name": "Ann"}).outputs[0] == "Hello Ann!"
