"""`compile-rules serve`: the decision service, through a real HTTP client.

httpx talks to the ASGI app (Starlette's TestClient) for most tests, and to a real
uvicorn process on a loopback port for one. The OpenAPI document validates with
openapi-spec-validator; tests/test_serve_contract.py runs schemathesis from it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from compiler.checking import analyse
from compiler.cli import main
from compiler.emitting import codegen
from compiler.emitting.loader import result_json
from compiler.serve import log
from compiler.serve.app import create_app
from compiler.serve.catalog import Catalog, Limits, Service

from . import random_tables as R
from .workbooks import decision_table, tests_sheet, write_workbook

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shipped() -> Service:
    service = Service(ROOT / "tables")
    assert service.compile()
    return service


@pytest.fixture(scope="module")
def client(shipped: Service) -> Iterator[TestClient]:
    with TestClient(create_app(shipped)) as client:
        yield client


def bands(limit: int = 18, *, broken: bool = False) -> list[list[object]]:
    return decision_table(
        "band",
        hit_policy="FIRST",
        columns=[
            ("age", "input", "integer", "[0..130]"),
            ("band", "output", "string", None),
            ("Note", "annotation", None, None),
        ],
        rules=[
            ("R1", "<< 3" if broken else f"< {limit}", "child", "Policy 1.2"),
            ("R2", "-", "adult", ""),
        ],
    )


def coverage(year: int, covered: bool) -> list[list[object]]:
    return decision_table(
        "coverage",
        hit_policy="FIRST",
        columns=[
            ("seen", "input", "date", None),
            ("covered", "output", "boolean", None),
        ],
        rules=[("C1", "-", covered)],
        metadata={"Effective from": f"{year}-01-01", "Effective to": f"{year}-12-31"},
    )


def small_tables(root: Path, limit: int = 18) -> Path:
    tables = root / "tables"
    write_workbook(
        tables / "small.xlsx",
        {
            "Bands": bands(limit),
            "Band tests": tests_sheet(
                "band", [("age", "input"), ("band", "expected")], [("T1", 5, "child")]
            ),
            "2025": coverage(2025, False),
            "2026": coverage(2026, True),
        },
    )
    return tables


@pytest.fixture
def small(tmp_path: Path) -> Iterator[tuple[Service, TestClient]]:
    service = Service(small_tables(tmp_path), Limits(max_body=2000, max_batch=3))
    assert service.compile()
    with TestClient(create_app(service)) as client:
        yield service, client


# -- the contract -------------------------------------------------------------------


def test_the_openapi_document_validates_and_types_every_input(
    client: TestClient,
) -> None:
    doc = client.get("/openapi.json").json()
    validate(doc)  # OpenAPI 3.1, with its JSON Schema dialect
    assert doc["openapi"] == "3.1.0"
    schemas = doc["components"]["schemas"]
    document = schemas["imaging_guideline_document.Inputs"]
    age = document["properties"]["age_years"]
    assert (age["type"], age["minimum"], age["maximum"]) == ("integer", 0, 130)
    area = document["properties"]["body_area"]  # required: no null
    assert area["enum"][:2] == ["Abdomen", "Breast"] and None not in area["enum"]
    assert document["required"] == [
        "body_area",
        "age_years",
        "condition_in_pediatric_guidelines",
    ]
    lab_test = schemas["lab_policy_for_test.Inputs"]["properties"]["test"]
    assert lab_test["type"] == ["string", "null"]  # optional: its Default answers
    assert lab_test["enum"][-1] is None
    assert "required" not in schemas["lab_policy_for_test.Inputs"]
    assert (
        "guideline_set"
        not in schemas["imaging_guideline_document.Inputs"]["properties"]
    )
    lab = schemas["lab_policy_for_test.Inputs"]["properties"]
    assert lab["as_of"] == {
        "type": ["string", "null"],
        "format": "date",
        "description": "The date whose version is in force (default: today).",
    }
    assert schemas["imaging_guideline_set.Inputs"]["additionalProperties"] is False
    decide = doc["paths"]["/decisions/imaging_guideline_set"]["post"]
    examples = decide["requestBody"]["content"]["application/json"]["examples"]
    assert examples["T1"]["value"] == {
        "age_years": 17,
        "condition_in_pediatric_guidelines": True,
    }
    assert len(examples) == 8  # the cases of its Tests sheet
    assert {"200", "400", "404", "409", "413", "422", "500"} <= set(decide["responses"])
    for name in (
        "/decisions/lab_policy_for_test/batch",
        "/decisions/lab_policy_for_test/explain",
    ):
        assert name in doc["paths"]
    assert {"/tables", "/health", "/ready", "/openapi.json"} <= set(doc["paths"])


def test_every_tests_case_and_example_over_http_is_evaluate(
    client: TestClient, shipped: Service
) -> None:
    """Through the batch endpoint (and the single one for the first case), each
    case's answer is what the generated evaluate returns."""
    catalog = shipped.catalog
    assert catalog is not None
    project = catalog.project
    examples = analyse.examples(project)
    for name, table in catalog.tables.items():
        cases = [
            c.inputs + (("as_of", c.as_of),)
            for s in project.suites
            if s.table == name
            for c in s.cases
        ]
        cases += [e.inputs + (("as_of", e.as_of),) for e in examples.get(name, ())]
        bodies = []
        expected = []
        for inputs in cases:
            kwargs = {k: v for k, v in inputs if k != "as_of" or table.versioned}
            expected.append(result_json(table.module.evaluate(**kwargs)))
            bodies.append(
                {
                    k: v.isoformat() if isinstance(v, dt.date) else v
                    for k, v in kwargs.items()
                }
            )
        for start in range(0, len(bodies), 1000):
            answer = client.post(
                f"/decisions/{name}/batch", json=bodies[start : start + 1000]
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["results"] == expected[start : start + 1000]
        single = client.post(f"/decisions/{name}", json=bodies[0])
        assert single.json() == expected[0]


def test_explain_over_http(client: TestClient, shipped: Service) -> None:
    assert shipped.catalog is not None
    module = shipped.catalog.tables["imaging_guideline_document"].module
    body = {
        "body_area": "Head",
        "age_years": 12,
        "condition_in_pediatric_guidelines": True,
    }
    answer = client.post("/decisions/imaging_guideline_document/explain", json=body)
    assert answer.status_code == 200
    data = answer.json()
    assert data == module.explain(**body).to_json()
    assert data["matched"] == ["R5"]
    assert data["required"][0]["explanation"]["table"] == "imaging_guideline_set"
    rejected = {
        r["id"]: r["rejected_by"]["text"] for r in data["rules"] if r["rejected_by"]
    }
    assert rejected["R17"] == (
        'guideline_set = "Pediatric" is not "General" '
        "(tables/guideline_catalog.xlsx:Guideline document!B26)"
    )


def test_tables_health_and_readiness(client: TestClient, shipped: Service) -> None:
    assert shipped.catalog is not None
    listed = client.get("/tables").json()["tables"]
    assert [t["name"] for t in listed] == [
        d.name for d in shipped.catalog.project.decisions
    ]
    lab = next(t for t in listed if t["name"] == "lab_policy_for_test")
    assert lab["versioned"] and len(lab["versions"]) == 2
    assert lab["paths"]["explain"] == "/decisions/lab_policy_for_test/explain"
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready" and ready.json()["last_compile"]["ok"]


# -- errors -------------------------------------------------------------------------


def error(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert "Traceback" not in answer.text
    body: dict[str, Any] = answer.json()["error"]
    assert (body["status"], body["code"]) == (status, code)
    assert body["request_id"] == answer.headers["x-request-id"]
    return body


def test_422_names_the_input_and_its_allowed_values(client: TestClient) -> None:
    bad = error(
        client.post("/decisions/imaging_guideline_set", json={"age_years": 200}),
        422,
        "invalid_input",
    )
    assert bad["input"] == "age_years" and bad["value"] == 200
    assert bad["allowed"] == "an int in [0..130]"  # a required input: None is not
    missing = error(
        client.post(
            "/decisions/imaging_guideline_set",
            json={"condition_in_pediatric_guidelines": True},
        ),
        422,
        "invalid_input",
    )
    assert missing["input"] == "age_years" and missing["value"] is None
    assert "age_years=200 is not allowed" in bad["message"]
    typo = error(
        client.post("/decisions/imaging_guideline_set", json={"agee_years": 3}),
        422,
        "unknown_input",
    )
    assert "did you mean 'age_years'?" in typo["message"]
    text = error(
        client.post("/decisions/imaging_guideline_set", json={"age_years": "17"}),
        422,
        "invalid_input",
    )
    assert text["value"] == "17"
    date = error(
        client.post(
            "/decisions/lab_policy_for_test",
            json={"test": "PCA3", "as_of": "01/02/2026"},
        ),
        422,
        "invalid_input",
    )
    assert date["input"] == "as_of"
    for text in ("2026-01-01\n", "\u0662\u0660\u0662\u0666-01-01", "2026-02-30"):
        body = {"test": "PCA3", "as_of": text}
        answer = client.post("/decisions/lab_policy_for_test", json=body)
        assert error(answer, 422, "invalid_input")["input"] == "as_of"
    unversioned = error(
        client.post("/decisions/imaging_guideline_set", json={"as_of": "2026-01-01"}),
        422,
        "unknown_input",
    )
    assert unversioned["input"] == "as_of"
    error(
        client.post("/decisions/imaging_guideline_set", json=[1]), 422, "invalid_body"
    )
    # JSON Schema counts 17.0 an integer, so the service does too
    assert client.post(
        "/decisions/imaging_guideline_set",
        json={"age_years": 30.0, "condition_in_pediatric_guidelines": False},
    ).json()["matched"] == ["R3"]


def test_404_405_400_and_413(small: tuple[Service, TestClient]) -> None:
    _, client = small
    unknown = error(client.post("/decisions/bandd", json={}), 404, "unknown_table")
    assert "did you mean 'band'?" in unknown["message"] and "band" in unknown["tables"]
    error(client.get("/nowhere"), 404, "not_found")
    wrong = client.get("/decisions/band")
    error(wrong, 405, "method_not_allowed")
    assert wrong.headers["allow"] == "POST"
    error(client.post("/decisions/band", content=b"{age: 3}"), 400, "invalid_json")
    error(client.post("/decisions/band", content=b'{"age": NaN}'), 400, "invalid_json")
    error(
        client.post("/decisions/band", content=b'{"age": 1e999}'), 400, "invalid_json"
    )
    error(
        client.post("/decisions/band", content=b'{"age": 3}\xff'), 400, "invalid_json"
    )
    large = error(
        client.post("/decisions/band", content=b"[" + b"1," * 1500 + b"1]"),
        413,
        "too_large",
    )
    assert large["limit"] == 2000

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"age": 3, "x": "'
        for _ in range(30):
            yield b"y" * 100
        yield b'"}'

    error(client.post("/decisions/band", content=chunks()), 413, "too_large")


def test_batches_are_bounded_and_decided_whole(
    small: tuple[Service, TestClient],
) -> None:
    _, client = small
    ok = client.post("/decisions/band/batch", json=[{"age": 3}, {"age": 30}, {}])
    assert [r["matched"] for r in ok.json()["results"]] == [["R1"], ["R2"], ["R2"]]
    long = error(
        client.post("/decisions/band/batch", json=[{}] * 4), 422, "batch_too_large"
    )
    assert long["limit"] == 3
    bad = error(
        client.post("/decisions/band/batch", json=[{"age": 3}, {"age": -1}]),
        422,
        "invalid_input",
    )
    assert bad["case"] == 1 and bad["message"].startswith("case 1: band: age=-1")
    error(client.post("/decisions/band/batch", json={"age": 3}), 422, "invalid_body")


def test_versions_and_no_version_in_force(small: tuple[Service, TestClient]) -> None:
    _, client = small
    old = client.post("/decisions/coverage", json={"as_of": "2025-06-01"}).json()
    assert old == {"outputs": {"covered": False}, "matched": ["C1"]}
    seen = client.post(
        "/decisions/coverage", json={"seen": "2026-02-01", "as_of": "2026-06-01"}
    )
    assert seen.json()["outputs"] == {"covered": True}
    gone = error(
        client.post("/decisions/coverage", json={"as_of": "2024-06-01"}),
        422,
        "no_version",
    )
    assert (gone["input"], gone["value"]) == ("as_of", "2024-06-01")
    why = client.post(
        "/decisions/coverage/explain", json={"as_of": "2026-06-01"}
    ).json()
    assert (
        why["version"]["effective_from"] == "2026-01-01"
        and why["as_of"] == "2026-06-01"
    )


def test_409_for_an_ambiguous_unique_match() -> None:
    """Compiled tables cannot overlap (the analysis refuses them); a table built
    without the analysis can, and the service says which rules matched."""
    case = R.build_table(
        ["age"], "UNIQUE", [(["< 18"], ("high", 1)), (["< 65"], ("low", 2))]
    )
    service = Service(Path("unused"))
    files = codegen.generate(case.project, formatted=False)
    service.catalog = Catalog.load(case.project, files, Limits())
    with TestClient(create_app(service)) as client:
        clash = error(
            client.post("/decisions/random_table", json={"age": 10}), 409, "ambiguous"
        )
        assert clash["rules"] == ["R1", "R2"]
        error(
            client.post("/decisions/random_table/explain", json={"age": 10}),
            409,
            "ambiguous",
        )
        assert client.post("/decisions/random_table", json={"age": 30}).json()[
            "matched"
        ] == ["R2"]


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """What the service logs, as `serve` configures it, into a buffer."""
    saved = [
        (x, x.handlers[:], x.level, x.propagate, x.disabled)
        for x in (log.ACCESS, log.LOG)
    ]
    stream = io.StringIO()
    log.configure(stream=stream)
    yield stream
    for logger, handlers, level, propagate, disabled in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate, logger.disabled = propagate, disabled


def lines(stream: io.StringIO, logger: str) -> list[dict[str, Any]]:
    found = [json.loads(x) for x in stream.getvalue().splitlines()]
    return [x for x in found if x["logger"] == logger]


def test_an_unexpected_error_is_a_structured_500_and_logged(
    small: tuple[Service, TestClient],
    monkeypatch: pytest.MonkeyPatch,
    logged: io.StringIO,
) -> None:
    service, client = small
    assert service.catalog is not None

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("a bug with a secret path /etc/x")

    monkeypatch.setattr(service.catalog.tables["band"].module, "evaluate", broken)
    answer = client.post("/decisions/band", json={"age": 3})
    body = error(answer, 500, "internal")
    assert "secret" not in answer.text and "RuntimeError" not in answer.text
    (line,) = lines(logged, "compile_rules.serve")
    assert (
        line["event"] == "internal_error" and line["request_id"] == body["request_id"]
    )
    assert "RuntimeError: a bug with a secret path" in line["traceback"]
    (access,) = lines(logged, "compile_rules.access")
    assert access["status"] == 500


def test_access_log_lines_are_json(
    small: tuple[Service, TestClient], logged: io.StringIO
) -> None:
    _, client = small
    client.post("/decisions/band", json={"age": 3}, headers={"X-Request-Id": "abc-1"})
    client.get("/nowhere", headers={"X-Request-Id": "not a token\n{"})
    first, second = lines(logged, "compile_rules.access")
    assert first["request_id"] == "abc-1"
    assert (first["method"], first["path"], first["status"]) == (
        "POST",
        "/decisions/band",
        200,
    )
    assert first["ms"] >= 0 and first["bytes"] > 0 and first["client"] == "testclient"
    assert (second["path"], second["status"]) == ("/nowhere", 404)
    assert len(second["request_id"]) == 32  # a new one: the caller's was not a token


# -- reloading ----------------------------------------------------------------------


def test_reload_serves_the_last_good_tables_and_reports_errors(tmp_path: Path) -> None:
    tables = small_tables(tmp_path)
    service = Service(tables)
    assert service.compile()
    book = tables / "small.xlsx"
    with TestClient(create_app(service)) as client:
        assert client.post("/decisions/band", json={"age": 16}).json()["matched"] == [
            "R1"
        ]
        write_workbook(book, {"Bands": bands(broken=True)})
        assert not service.compile([book])
        ready = client.get("/ready").json()
        assert ready["status"] == "stale"
        (problem,) = ready["last_compile"]["errors"]
        assert problem["code"] == "E201" and problem["location"].endswith("Bands!B8")
        assert client.post("/decisions/band", json={"age": 16}).json()["matched"] == [
            "R1"
        ]
        write_workbook(book, {"Bands": bands(15)})
        assert service.compile([book])
        assert client.get("/ready").json()["status"] == "ready"
        assert client.post("/decisions/band", json={"age": 16}).json()["matched"] == [
            "R2"
        ]
        assert "coverage" not in client.get("/tables").text  # its sheets are gone
    assert not (tmp_path / "generated").exists()  # served from memory: nothing written


def test_not_ready_until_the_tables_compile(tmp_path: Path) -> None:
    tables = tmp_path / "tables"
    write_workbook(tables / "small.xlsx", {"Bands": bands(broken=True)})
    service = Service(tables)
    assert not service.compile()
    with TestClient(create_app(service)) as client:
        ready = client.get("/ready")
        assert ready.status_code == 503 and ready.json()["status"] == "not_ready"
        error(client.post("/decisions/band", json={}), 503, "not_ready")


def test_reload_on_a_real_save(tmp_path: Path) -> None:
    """The watcher thread (polling) picks up a save and swaps the tables in."""
    tables = small_tables(tmp_path)
    service = Service(tables)
    assert service.compile()
    first = service.catalog
    with TestClient(create_app(service, watch=True, reload_poll=True)) as client:
        time.sleep(1)  # the watcher is up
        write_workbook(tables / "small.xlsx", {"Bands": bands(15)})
        deadline = time.monotonic() + 30
        while service.catalog is first and time.monotonic() < deadline:
            time.sleep(0.2)
        assert service.catalog is not first, "no recompile within 30 s"
        assert client.post("/decisions/band", json={"age": 16}).json()["matched"] == [
            "R2"
        ]
    assert service._thread is None  # stopped with the app


# -- the command and a real server -------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_on_a_loopback_port(tmp_path: Path) -> None:
    tables = small_tables(tmp_path)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "compiler",
            "serve",
            "-q",
            "--tables",
            str(tables),
            "--port",
            str(port),
        ],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, "the server stopped"
            assert time.monotonic() < deadline, "the server did not start in 60 s"
            time.sleep(0.2)
        with httpx.Client(base_url=base) as http:
            assert http.post("/decisions/band", json={"age": 3}).json() == {
                "outputs": {"band": "child"},
                "matched": ["R1"],
            }
            validate(http.get("/openapi.json").json())
            assert http.post("/decisions/band", json={"age": -3}).status_code == 422
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    lines = [json.loads(x) for x in stderr.splitlines() if x.startswith("{")]
    access = [x for x in lines if x["logger"] == "compile_rules.access"]
    assert [(x["path"], x["status"]) for x in access][-3:] == [
        ("/decisions/band", 200),
        ("/openapi.json", 200),
        ("/decisions/band", 422),
    ]
    assert f"serving 2 table(s) on http://127.0.0.1:{port}" in stderr
    assert "Traceback" not in stderr


def test_serve_refuses_tables_with_errors(tmp_path: Path) -> None:
    tables = tmp_path / "tables"
    write_workbook(tables / "small.xlsx", {"Bands": bands(broken=True)})
    result = CliRunner().invoke(main, ["serve", "--tables", str(tables), "--port", "1"])
    assert result.exit_code == 3, result.output
    assert "E201" in result.stderr and "nothing to serve" in result.stderr


def test_serve_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            main,
            ["serve", "--tables", str(small_tables(tmp_path)), "--port", str(port)],
        )
    assert result.exit_code == 2, result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_a_years_and_months_duration_over_http(tmp_path: Path) -> None:
    """Version 2: a years-and-months input is ISO text (or the authors' words) in the
    JSON, typed `string`/`duration` in the OpenAPI document; the output comes back
    as ISO text; text that is no such duration is a 422 naming the input."""
    from .test_years_months import SCREENING

    tables = tmp_path / "tables"
    write_workbook(tables / "s.xlsx", {"Screening": SCREENING})
    service = Service(tables)
    assert service.compile()
    with TestClient(create_app(service)) as client:
        doc = client.get("/openapi.json").json()
        validate(doc)
        since = doc["components"]["schemas"]["screening_interval.Inputs"]["properties"][
            "since_last_screening"
        ]
        assert since["format"] == "duration" and "string" in str(since["type"])
        for given, status, next_in in (
            ("P1Y", "wait", "P6M"),
            ("2 years", "due", "P0M"),
            ("P3Y1M", "overdue", "P0M"),
        ):
            answer = client.post(
                "/decisions/screening_interval", json={"since_last_screening": given}
            )
            assert answer.status_code == 200, answer.text
            outputs = answer.json()["outputs"]
            assert (outputs["status"], outputs["next_in"]) == (status, next_in), given
        bad = error(
            client.post(
                "/decisions/screening_interval", json={"since_last_screening": "P3D"}
            ),
            422,
            "invalid_input",
        )
        assert bad["input"] == "since_last_screening" and bad["value"] == "P3D"
