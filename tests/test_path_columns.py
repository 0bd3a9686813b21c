"""Version 2: path inputs (`claim.member.age`) outside `evaluate`: a Tests-sheet
column per path, `compile-rules run` reading a column named by the path, and the
decision service taking (and describing in OpenAPI) the structured input."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner, Result
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from compiler.cli import main
from compiler.serve.app import create_app
from compiler.serve.catalog import Service

from .helpers import compile_books, errors, run_generated_tests, write_tables
from .test_paths import BOOK
from .workbooks import decision_table, tests_sheet

CASES = [
    ("claim.member.age", "input"),
    ("claim.state", "input"),
    ("band", "expected"),
    ("expected rule", "expected rule"),
]


def _with_tests(*cases: list[object], columns: list[tuple[str, str]] = CASES) -> dict:
    return {"band.xlsx": [*BOOK["band.xlsx"], tests_sheet("band", columns, cases)]}


def test_a_tests_sheet_sets_path_inputs_by_a_column_per_path(tmp_path: Path) -> None:
    """Each path column's cell is that field; the cells of a row build the mapping
    `claim={"member": {"age": 12}, "state": "NY"}` (an empty cell: the field is
    null). The cases run at compile and in the generated pytest module."""
    book = _with_tests(
        ["T1", 12, "NY", "minor in NY", "R1"],
        ["T2", 40, None, "adult", "R2"],
        ["T3", None, None, "adult", "R2"],
    )
    compilation = compile_books(tmp_path, book)
    assert not errors(compilation.diagnostics)
    assert compilation.files is not None
    module = compilation.files["tests/test_band.py"]
    assert '{"claim": {"member": {"age": 12}, "state": "NY"}}' in module
    assert "3 passed" in run_generated_tests(compilation, tmp_path)


def test_a_case_the_table_does_not_answer_is_an_error_at_its_cell(
    tmp_path: Path,
) -> None:
    write_tables(tmp_path, _with_tests(["T1", 12, "NY", "adult", None]))
    result = CliRunner().invoke(main, ["lint", "--tables", str(tmp_path / "tables")])
    assert result.exit_code == 3
    assert "tables/band.xlsx:Sheet2!D5: error E423:" in result.stderr


def test_a_column_for_the_structured_input_itself_is_refused(tmp_path: Path) -> None:
    columns = [("claim", "input"), ("band", "expected")]
    write_tables(tmp_path, _with_tests(["T1", "x", "adult"], columns=columns))
    result = CliRunner().invoke(main, ["lint", "--tables", str(tmp_path / "tables")])
    assert result.exit_code == 3
    assert (
        "tables/band.xlsx:Sheet2!B3: error E303: 'claim' is not an input of 'band', "
        "but a structured input its paths read" in result.stderr
    )
    assert "hint: give each path a column of its own: claim.member.age, " in (
        result.stderr
    )


def test_run_reads_a_column_named_by_the_path(tmp_path: Path) -> None:
    tables = write_tables(tmp_path, BOOK)
    claims = tmp_path / "claims.csv"
    claims.write_text("id,claim.member.age,claim.state\n1,12,NY\n2,40,\n3,abc,NY\n")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        main,
        ["run", "band", "--tables", str(tables), "--input", str(claims)]
        + ["--output", str(out), "-q"],
    )
    assert result.exit_code == 4, result.output  # row 3 is rejected
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["id"], r["band"], r["matched"]) for r in rows] == [
        ("1", "minor in NY", "R1"),
        ("2", "adult", "R2"),
    ]
    rejected = (tmp_path / "out.errors.csv").read_text()
    assert "3,claim.member.age,abc," in rejected


def test_serve_takes_the_structured_input_and_describes_it(tmp_path: Path) -> None:
    sheet = decision_table(
        "cover",
        [
            ("claim.member.born", "required input", "date", None),
            ("claim.member.age", "input", "integer", None),
            ("covered", "output", "boolean", None),
        ],
        [
            ["R1", "< 2000-01-01", "-", "true"],
            ["R2", "-", "-", "false"],
        ],
        hit_policy="FIRST",
    )
    cases = tests_sheet(
        "cover",
        [("claim.member.born", "input"), ("covered", "expected")],
        [["T1", "1990-05-01", "true"]],
    )
    service = Service(write_tables(tmp_path, {"cover.xlsx": [sheet, cases]}))
    assert service.compile()
    with TestClient(create_app(service)) as client:
        spec = client.get("/openapi.json").json()
        validate(spec)
        body = spec["components"]["schemas"]["cover.Inputs"]
        claim = body["properties"]["claim"]
        assert body["required"] == ["claim"] and claim["type"] == "object"
        member = claim["properties"]["member"]
        assert member["required"] == ["born"]
        assert member["properties"]["born"]["format"] == "date"
        assert member["properties"]["age"]["type"] == ["integer", "null"]
        example = spec["paths"]["/decisions/cover"]["post"]["requestBody"]["content"][
            "application/json"
        ]["examples"]["T1"]["value"]
        assert example == {"claim": {"member": {"born": "1990-05-01"}}}
        answer = client.post("/decisions/cover", json=example)
        assert answer.status_code == 200, answer.text
        assert answer.json()["outputs"] == {"covered": True}
        later = {"claim": {"member": {"born": "2010-01-01", "age": 15.0}}}
        assert client.post("/decisions/cover", json=later).json()["outputs"] == {
            "covered": False
        }
        refused = client.post("/decisions/cover", json={"claim": 3})
        assert refused.status_code == 422
        assert refused.json()["error"]["input"] == "claim"
        listed = client.get("/tables").json()["tables"][0]["inputs"]
        assert [i["name"] for i in listed] == ["claim.member.born", "claim.member.age"]


def test_example_tests_are_generated_for_a_table_of_paths(tmp_path: Path) -> None:
    sheet = decision_table(
        "band",
        [
            ("claim.member.age", "input", "integer", "[0..130]"),
            ("claim.state", "input", "string", '"NY", "NJ"'),
            ("band", "output", "string", None),
        ],
        [
            ["R1", "< 18", '"NY"', '"minor NY"'],
            ["R2", "-", "-", '"other"'],
        ],
        hit_policy="FIRST",
    )
    compilation = compile_books(tmp_path, {"band.xlsx": [sheet]})
    assert compilation.files is not None
    examples = compilation.files["tests/examples/test_band.py"]
    assert '{"claim": {"member": {"age": 17}, "state": "NY"}}' in examples
    shown = run_generated_tests(compilation, tmp_path)
    assert " passed" in shown and "failed" not in shown


def test_serve_converts_a_years_and_months_field_of_a_structured_input(
    tmp_path: Path,
) -> None:
    """A path field of type years and months duration is ISO text (or the authors'
    words) inside the JSON object, as a plain input of that type is; text that is
    no such duration is a 422 naming the path."""
    sheet = decision_table(
        "recall",
        [
            ("member.since_screening", "input", "years and months duration", None),
            ("recall", "output", "boolean", None),
        ],
        [
            ["R1", ">= 2 years", "true"],
            ["R2", "-", "false"],
        ],
        hit_policy="FIRST",
    )
    service = Service(write_tables(tmp_path, {"recall.xlsx": [sheet]}))
    assert service.compile()
    with TestClient(create_app(service)) as client:
        spec = client.get("/openapi.json").json()
        validate(spec)
        member = spec["components"]["schemas"]["recall.Inputs"]["properties"]["member"]
        assert member["properties"]["since_screening"]["format"] == "duration"
        for given, recall in (("P2Y1M", True), ("18 months", False), (None, False)):
            answer = client.post(
                "/decisions/recall", json={"member": {"since_screening": given}}
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["outputs"] == {"recall": recall}, given
        bad = client.post(
            "/decisions/recall", json={"member": {"since_screening": "P3D"}}
        )
        assert bad.status_code == 422, bad.text
        error = bad.json()["error"]
        assert error["input"] == "member.since_screening" and error["value"] == "P3D"
        wrong = client.post(
            "/decisions/recall", json={"member": {"since_screening": 5}}
        )
        assert wrong.status_code == 422, wrong.text
        error = wrong.json()["error"]
        assert error["input"] == "member.since_screening", error
        assert error["message"].startswith("recall: member.since_screening=5 "), error


def test_eval_and_explain_take_path_inputs_by_their_paths(tmp_path: Path) -> None:
    """`eval band claim.member.age=12 claim.state=NY`: each path is named as its
    column heads it, and its value goes into the structured input; an error names
    the path, never the evaluator's `claim__member__age`."""
    tables = str(write_tables(tmp_path, BOOK))
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, [*args, "--tables", tables])

    shown = run("eval", "band", "claim.member.age=12", "claim.state=NY")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines() == ["band = 'minor in NY'", "matched: R1"]
    adult = run("eval", "band", "claim.member.age=40", "--json")
    assert adult.exit_code == 0, adult.output
    assert adult.stdout.strip() == '{"outputs": {"band": "adult"}, "matched": ["R2"]}'
    why = run("explain", "band", "claim.member.age=12", "claim.state=NY")
    assert why.exit_code == 0, why.output
    assert why.stdout.startswith('band: band = "minor in NY"')
    internal = run("eval", "band", "claim__member__age=12")
    assert internal.exit_code == 2
    assert "has no input 'claim__member__age'; did you mean 'claim.member.age'?" in (
        internal.stderr
    )
    assert "internal error" not in internal.output
    bad = run("eval", "band", "claim.member.age=x")
    assert bad.exit_code == 2
    assert "Error: claim.member.age='x': 'x' is not a whole number" in bad.stderr


def test_eval_names_a_path_outside_its_values_by_its_path(tmp_path: Path) -> None:
    sheet = decision_table(
        "adult",
        [
            ("member.age", "input", "integer", "[0..120]"),
            ("adult", "output", "boolean", None),
        ],
        [["R1", ">= 18", "true"], ["R2", "-", "false"]],
        hit_policy="FIRST",
    )
    tables = str(write_tables(tmp_path, {"adult.xlsx": [sheet]}))
    result = CliRunner().invoke(
        main, ["eval", "adult", "member.age=130", "--tables", tables]
    )
    assert result.exit_code == 2, result.output
    assert (
        "Error: adult: member.age=130 is not allowed; expected an int in [0..120]"
        in (result.stderr)
    )
