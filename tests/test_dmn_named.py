"""Import and export of DMN entries that name other inputs (`> dateE`, `[numB..numC]`):
written as the format's version-2 entries over the table's inputs (`> date_e`), an
input only entries name given a column of its own, and written back as FEEL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import load_workbook

from compiler.interop import dmn
from compiler.pipeline import compile_tables

from .helpers import compiled_module
from .test_dmn import clause, input_data, model, round_trip, rule

WINDOW = (
    input_data("i_req", "Request date", "date")
    + input_data("i_start", "Window start", "date")
    + input_data("i_end", "Window end", "date")
    + input_data("i_amount", "Amount", "number")
    + input_data("i_limit", "Limit", "number")
    + '<decision id="d_w" name="Timing"><variable name="Timing" typeRef="string"/>'
    '<decisionTable hitPolicy="FIRST">'
    + clause("Request date", "date")
    + clause("Amount", "number")
    + '<output id="o1"/>'
    + rule("r1", ["[Window start..Window end]", "&lt;= Limit"], ['"in window"'])
    + rule("r2", ["&lt; Window start", "-"], ['"early"'])
    + rule("r3", ['(date("2025-01-01")..Window end]', "-"], ['"this year"'])
    + rule("r4", ["-", "-"], ['"other"'])
    + "</decisionTable></decision>"
)


def test_entries_naming_inputs_are_written_over_the_tables_inputs(
    tmp_path: Path,
) -> None:
    conversion = dmn.read_dmn(model(WINDOW), "window.dmn")
    assert conversion.errors == ()
    dmn.write_workbook(conversion, tmp_path / "tables" / "window.xlsx")
    sheet = load_workbook(tmp_path / "tables" / "window.xlsx")["timing"]
    rows = [r for r in sheet.iter_rows(values_only=True)]
    header = next(r for r in rows if r[0] == "Rule")
    # the inputs the entries name, which no clause reads, get columns of their own
    assert header == (
        "Rule",
        "request_date",
        "amount",
        "window_start",
        "window_end",
        "limit",
        "timing",
    )
    entries = {r[0]: r[1:3] for r in rows if r[0] in ("R1", "R2", "R3")}
    assert entries == {
        "R1": ("[window_start..window_end]", "<= limit"),
        "R2": ("< window_start", "-"),
        "R3": ("(2025-01-01..window_end]", "-"),
    }
    compilation = compile_tables(tmp_path / "tables")
    module = compiled_module(compilation, "timing")
    day = dt.date

    def timing(request: dt.date | None, amount: float | None = 10.0) -> str:
        result = module.evaluate(
            request_date=request,
            amount=amount,
            window_start=day(2025, 3, 1),
            window_end=day(2025, 3, 31),
            limit=100.0,
        )
        return str(result.outputs[0])

    assert timing(day(2025, 3, 1)) == "in window"
    assert timing(day(2025, 3, 31)) == "in window"
    assert timing(day(2025, 3, 31), 101.0) == "this year"
    assert timing(day(2025, 2, 28)) == "early"
    assert timing(day(2025, 1, 1)) == "early"
    assert timing(day(2025, 4, 1)) == "other"
    assert timing(None) == "other"  # null matches no comparison
    assert timing(day(2025, 3, 5), None) == "this year"


def test_entries_naming_inputs_survive_export_and_import(tmp_path: Path) -> None:
    conversion = dmn.read_dmn(model(WINDOW), "window.dmn")
    first, second = round_trip(tmp_path, conversion)
    assert first == second
    assert len(first["timing"].inputs) > 5  # the derived comparison columns


def test_an_entry_naming_what_is_not_an_input_is_refused() -> None:
    body = WINDOW.replace("&lt;= Limit", "&lt;= Limit * rate")
    conversion = dmn.read_dmn(model(body), "window.dmn")
    assert conversion.tables == ()
    (message,) = conversion.errors
    assert message.topic == "variable in a unary test"
    assert "'<= Limit * rate'" in message.text and "unknown name 'rate'" in message.text


def test_an_entry_naming_an_input_of_another_type_is_refused() -> None:
    body = WINDOW.replace("&lt;= Limit", "&lt;= Window start")
    (message,) = dmn.read_dmn(model(body), "window.dmn").errors
    assert message.topic == "variable in a unary test"
    assert "compares a number with a date" in message.text


def test_a_string_column_compares_with_an_input_for_equality_only() -> None:
    """`Favourite` in a string column is `= favourite` (version 2); an ordering of
    strings (`< Favourite`) has no entry of the format."""

    def body(entry: str) -> str:
        return (
            input_data("i_a", "Colour", "string")
            + input_data("i_b", "Favourite", "string")
            + '<decision id="d" name="Same"><variable name="Same" typeRef="boolean"/>'
            "<decisionTable>"
            + clause("Colour", "string")
            + '<output id="o"/>'
            + rule("r1", [entry], ["true"])
            + "</decisionTable></decision>"
        )

    assert dmn.read_dmn(model(body("Favourite")), "same.dmn").errors == ()
    (message,) = dmn.read_dmn(model(body("&lt; Favourite")), "same.dmn").errors
    assert message.topic == "variable in a unary test"
    assert "a string column compares with another input for equality only" in (
        message.text
    )
