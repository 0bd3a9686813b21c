"""Version 2: path outputs, an output column whose header is a path
(`rgb.red`): `Outputs` holds it flat (`rgb__red`) and gives the structure as a dict
(`outputs.rgb`); DMN import writes a structure inside a structure so (TCK 0035)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compiler.interop import dmn

from .helpers import (
    compile_books,
    compiled_module,
    errors,
    load_books,
    only,
    run_generated_tests,
)
from .test_dmn import input_data, model, round_trip, table_named
from .test_dmn_logic import compiled
from .workbooks import decision_table, tests_sheet

COLUMNS = [
    ("level", "input", "integer", None),
    ("rgb.red", "output", "integer", None),
    ("rgb.green", "computed output", "integer", None),
    ("rgb.alpha.value", "output", "number", None),
    ("name", "output", "string", None),
]
RULES = [
    ["R1", "< 10", "0", "level * 2", "0.5", '"dark"'],
    ["R2", "-", "255", "level", "1", '"light"'],
]


def _book(columns: list[Any] = COLUMNS, tests: bool = False) -> dict[str, Any]:
    sheets = [decision_table("colour", columns, RULES, hit_policy="FIRST")]
    if tests:
        sheets.append(
            tests_sheet(
                "colour",
                [("level", "input"), ("rgb.green", "expected"), ("name", "expected")],
                [["T1", 3, 6, '"dark"'], ["T2", 20, 20, '"light"']],
            )
        )
    return {"colour.xlsx": sheets}


def test_outputs_hold_the_paths_flat_and_give_each_structure_as_a_dict(
    tmp_path: Path,
) -> None:
    compilation = compile_books(tmp_path, _book())
    assert compilation.files is not None
    source = compilation.files["colour.py"]
    assert "class RgbFields(TypedDict):" in source
    assert "class RgbAlphaFields(TypedDict):" in source
    module: Any = compiled_module(compilation, "colour")
    outputs = module.evaluate(level=3).outputs
    assert outputs._fields == ("rgb__red", "rgb__green", "rgb__alpha__value", "name")
    assert (outputs.rgb__red, outputs.rgb__green, outputs.name) == (0, 6, "dark")
    assert outputs.rgb == {"red": 0, "green": 6, "alpha": {"value": 0.5}}
    outputs.rgb["red"] = 9  # a new dict each time: the result is not changed
    assert module.evaluate(level=3).outputs.rgb["red"] == 0
    assert module.explain(level=20).result.outputs.rgb["green"] == 20


def test_a_flat_multi_output_table_has_no_structure(tmp_path: Path) -> None:
    flat = [(c[0].replace(".", "_"), *c[1:]) for c in COLUMNS]
    compilation = compile_books(tmp_path, _book(flat))
    assert compilation.files is not None
    assert "TypedDict" not in compilation.files["colour.py"]
    assert "@property" not in compilation.files["colour.py"]


def test_a_tests_sheet_expects_a_path_output_by_its_path(tmp_path: Path) -> None:
    compilation = compile_books(tmp_path, _book(tests=True))
    assert errors(compilation.diagnostics) == []
    assert "passed" in run_generated_tests(compilation, tmp_path)


def test_an_output_and_a_field_of_it_are_refused(tmp_path: Path) -> None:
    clash = [*COLUMNS[:2], ("rgb", "output", "string", None)]
    _, diagnostics = load_books(tmp_path / "a", _book(clash))
    found = only(diagnostics, "E111")
    assert "rgb" in found.message and "rename one of them" in found.hint
    inner = [*COLUMNS, ("rgb.alpha", "output", "number", None)]
    _, diagnostics = load_books(tmp_path / "b", _book(inner))
    found = only(diagnostics, "E111")
    assert found.message == "invalid column name 'rgb.alpha.value'"
    assert "'rgb.alpha' is an output too" in found.hint


def test_a_path_in_an_annotation_or_from_column_is_refused(tmp_path: Path) -> None:
    columns = [*COLUMNS, ("a.b", "from other", "integer", None)]
    _, diagnostics = load_books(tmp_path, _book(columns))
    assert "only an output (or computed output)" in only(diagnostics, "E111").hint


def _entry(name: str, type_ref: str, value: str) -> str:
    return (
        f'<contextEntry><variable name="{name}" typeRef="{type_ref}"/>{value}'
        "</contextEntry>"
    )


def _literal(text: str) -> str:
    return f"<literalExpression><text>{text}</text></literalExpression>"


def test_import_writes_a_structure_in_a_structure_as_path_outputs(
    tmp_path: Path,
) -> None:
    """`Profile`: a context without a result entry whose entry `RGB` is a context
    without a result (a structure) and whose entry `Pair` names the structure
    decision `Pair of`: each leaf is a path output."""
    pair = (
        '<decision id="d0" name="Pair of"><variable name="Pair of"/><context>'
        + _entry("A", "number", _literal("R Value + 1"))
        + _entry("B", "number", _literal("R Value + 2"))
        + "</context></decision>"
    )
    profile = (
        '<decision id="d1" name="Profile"><variable name="Profile"/><context>'
        + _entry(
            "RGB",
            "",
            "<context>"
            + _entry("R", "number", _literal("R Value"))
            + _entry("G", "number", _literal("R Value * 2"))
            + "</context>",
        )
        + _entry("Name", "string", _literal('"colour"'))
        + _entry("Pair", "", _literal("Pair of"))
        + "</context></decision>"
    )
    body = input_data("i1", "R Value", "number") + pair + profile
    conversion = dmn.read_dmn(model(body), "m.dmn")
    assert conversion.errors == ()
    table = table_named(conversion, "profile")
    assert [c.header for c in table.outputs] == [
        "rgb.r",
        "rgb.g",
        "name",
        "pair.a",
        "pair.b",
    ]
    module: Any = compiled(tmp_path, conversion)["profile"]
    outputs = module.evaluate(r_value=3).outputs
    assert outputs.rgb == {"r": 3, "g": 6}
    assert outputs.pair == {"a": 4, "b": 5}
    assert outputs.name == "colour"


def test_evaluate_frame_gives_a_flat_column_per_path_output(tmp_path: Path) -> None:
    import pandas

    module: Any = compiled_module(compile_books(tmp_path, _book()), "colour")
    frame = module.evaluate_frame(pandas.DataFrame({"level": [3, 20]}))
    assert list(frame.columns[:4]) == [
        "rgb__red",
        "rgb__green",
        "rgb__alpha__value",
        "name",
    ]
    assert frame["rgb__green"].tolist() == [6, 20]


def test_export_dmn_writes_path_outputs_that_import_reads_back(tmp_path: Path) -> None:
    project, _ = load_books(tmp_path / "a", _book())
    assert project is not None
    exported = dmn.export_dmn(project, (), "colour")
    conversion = dmn.read_dmn(exported.xml.encode(), "colour.dmn")
    headers = [c.header for c in table_named(conversion, "colour").outputs]
    assert headers == ["rgb.red", "rgb.green", "rgb.alpha.value", "name"]
    first, second = round_trip(tmp_path / "b", conversion)
    assert first == second


def test_eval_explain_and_serve_show_path_outputs_by_their_paths(
    tmp_path: Path,
) -> None:
    """Outside Python the author's headers are what a reader sees: `eval` prints
    `rgb.red = 0`, `eval --json`, explain's JSON and the service answer the
    structure as a nested object (which the OpenAPI document describes), never
    the evaluator's flat `rgb__red`."""
    import json

    from click.testing import CliRunner
    from openapi_spec_validator import validate
    from starlette.testclient import TestClient

    from compiler.cli import main
    from compiler.serve.app import create_app
    from compiler.serve.catalog import Service

    from .helpers import write_tables

    tables = str(write_tables(tmp_path, _book()))
    nested = {"rgb": {"red": 0, "green": 6, "alpha": {"value": 0.5}}, "name": "dark"}
    runner = CliRunner()
    shown = runner.invoke(main, ["eval", "colour", "level=3", "--tables", tables])
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines()[0] == (
        "rgb.red = 0, rgb.green = 6, rgb.alpha.value = 0.5, name = 'dark'"
    )
    as_json = runner.invoke(
        main, ["eval", "colour", "level=3", "--tables", tables, "--json"]
    )
    assert json.loads(as_json.stdout)["outputs"] == nested
    why = runner.invoke(main, ["explain", "colour", "level=3", "--tables", tables])
    assert why.stdout.startswith("colour: rgb.red = 0, rgb.green = 6, ")
    why_json = runner.invoke(
        main, ["explain", "colour", "level=3", "--tables", tables, "--json"]
    )
    assert json.loads(why_json.stdout)["outputs"] == nested
    service = Service(Path(tables))
    assert service.compile()
    with TestClient(create_app(service)) as client:
        spec = client.get("/openapi.json").json()
        validate(spec)
        schema = spec["components"]["schemas"]["colour.Outputs"]
        assert schema["required"] == ["rgb", "name"]
        rgb = schema["properties"]["rgb"]
        assert rgb["type"] == "object" and rgb["required"] == ["red", "green", "alpha"]
        assert rgb["properties"]["alpha"]["properties"]["value"]["type"] == [
            "number",
            "null",
        ]
        answer = client.post("/decisions/colour", json={"level": 3})
        assert answer.status_code == 200, answer.text
        assert answer.json()["outputs"] == nested


def test_the_markdown_and_html_pages_head_path_columns_by_their_paths(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from compiler.cli import main

    from .helpers import write_tables

    compilation = compile_books(tmp_path / "a", _book(tests=True))
    assert compilation.files is not None
    page = compilation.files["colour.md"]
    assert "| rgb.alpha.value | output | number |" in page
    assert "| Rule | level | → rgb.red | → rgb.green | → rgb.alpha.value |" in page
    assert "| Case | level | → rgb.green | → name |" in page
    assert "rgb\\_\\_" not in page
    tables = write_tables(tmp_path / "b", _book())
    site = tmp_path / "site"
    result = CliRunner().invoke(
        main, ["report", "-q", "--tables", str(tables), str(site)]
    )
    assert result.exit_code == 0, result.output
    html = (site / "colour.html").read_text()
    assert "→ rgb.alpha.value</th>" in html and "rgb__" not in html
