"""Property-based tests of the decision service from its own OpenAPI document.

schemathesis draws requests from the document the service serves for the shipped
tables: valid ones (every operation) and, for the decision operations, ones that
break the schema. The service must never answer 5xx, must answer only documented
status codes and content types with bodies that match the documented schemas, and
must refuse every request that breaks the schema. Bounded: a few examples per
operation (three per table, and three more), so that it takes about a minute on the
project's shared two cores.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from compiler.serve.app import create_app
from compiler.serve.catalog import Service

ROOT = Path(__file__).resolve().parents[1]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 4}  # per operation


@pytest.fixture(scope="module")
def api() -> schemathesis.BaseSchema:
    service = Service(ROOT / "tables")
    assert service.compile()
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(service))


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda m: m.value)
def test_the_service_keeps_its_contract(
    api: schemathesis.BaseSchema, mode: GenerationMode
) -> None:
    operations = [result.ok() for result in api.get_all_operations()]
    decisions = [o for o in operations if o.path.startswith("/decisions/")]
    assert len(operations) == len(decisions) + 3  # /tables, /health, /ready
    called = 0
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and operation.method.upper() != "POST":
            continue  # no body, no parameter: nothing to break

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES[mode],
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            nonlocal called
            called += 1
            case.call_and_validate(checks=CHECKS)

        run()
    assert called >= len(decisions) * EXAMPLES[mode] // 2
