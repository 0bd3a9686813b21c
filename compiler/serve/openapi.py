"""The OpenAPI 3.1 document of a decision service, made from the tables.

Per table, three operations (decide one case, a batch, explain one case) whose
request schema types every input as the generated `evaluate` does: its JSON type
(`null` for a missing value; a `required input` is listed in `required` and takes no
null), `enum` when the Values list every value, `minimum` and
`maximum` (exclusive for open ends) for integer and number ranges, `format: date`
for dates (ranges of dates and codes, which JSON Schema cannot compare, are in the
description), and no other property. The responses say what the service answers:
the outputs typed likewise, the matched rule ids, and the structured errors (`422`
for an input outside its type or Values, `409` for an ambiguous UNIQUE or ANY match,
`404` for an unknown table, `413` past the size limits, `400` for a body that is not
JSON). Request examples are the cases of the table's Tests sheets.
"""

from __future__ import annotations

import importlib.metadata
import re
from typing import Any

from compiler.emitting.runtime._explain import to_json
from compiler.model import (
    Aggregation,
    Column,
    DataType,
    Decision,
    Equals,
    HitPolicy,
    Interval,
    Project,
    Test,
    UnaryTests,
    Value,
    nest_paths,
)
from compiler.reading.cell_text import entry_text

_JSON = {
    DataType.STRING: "string",
    DataType.CODE: "string",
    DataType.INTEGER: "integer",
    DataType.NUMBER: "number",
    DataType.BOOLEAN: "boolean",
    DataType.DATE: "string",
    DataType.DURATION: "string",
    DataType.TIME: "string",
    DataType.DATETIME: "string",
    DataType.YEARS_MONTHS: "string",  # ISO 8601: P1Y6M
}
_MAX_EXAMPLES = 50  # per operation: the first cases of the Tests sheets
_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def document(project: Project, limits: Any) -> dict[str, Any]:
    """The OpenAPI document of PROJECT's tables, served under LIMITS (`Limits`)."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = dict(_SHARED)
    for decision in project.decisions:
        name = decision.name
        schemas[f"{name}.Inputs"] = inputs_schema(project, decision)
        schemas[f"{name}.Outputs"] = outputs_schema(decision)
        outputs: dict[str, Any] = _ref(f"{name}.Outputs")
        if decision.first.returns_list:
            outputs = {"type": "array", "items": outputs}
        rule_ids = list(dict.fromkeys(r.id for t in decision.versions for r in t.rules))
        schemas[f"{name}.Result"] = {
            "type": "object",
            "required": ["outputs", "matched"],
            "properties": {
                "outputs": outputs,
                "matched": {
                    "type": "array",
                    "items": {"type": "string", "enum": rule_ids}
                    if rule_ids
                    else {"type": "string"},
                },
            },
            "additionalProperties": False,
        }
        schemas[f"{name}.Explanation"] = {
            "allOf": [
                _ref("Explanation"),
                {
                    "type": "object",
                    "properties": {"table": {"const": name}, "outputs": outputs},
                },
            ]
        }
        paths.update(_operations(project, decision, limits))
    paths.update(_SERVICE_PATHS)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "compile-rules decision service",
            "version": _version(),
            "description": "Decisions of the tables compiled from "
            + ", ".join(project.workbooks)
            + ": one case, a batch, or the explanation of one case, through the "
            "generated evaluators. Inputs are JSON values by name; a missing input "
            "is null or absent, which a required input may not be (422).",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _version() -> str:
    try:
        return importlib.metadata.version("compile-rules")
    except (
        importlib.metadata.PackageNotFoundError
    ):  # pragma: no cover - run from a checkout
        return "0"


def _operations(project: Project, decision: Decision, limits: Any) -> dict[str, Any]:
    name = decision.name
    table = decision.first
    about = table.title or name
    source = f" Source: {table.source}." if table.source else ""
    policy = f"{table.hit_policy_text} hit policy."
    examples = _examples(project, name)
    errors = _error_responses(decision)
    single: dict[str, Any] = {"schema": _ref(f"{name}.Inputs")}
    if examples:
        single["examples"] = examples
    batch: dict[str, Any] = {
        "schema": {
            "type": "array",
            "items": _ref(f"{name}.Inputs"),
            "maxItems": limits.max_batch,
        }
    }
    if examples:
        batch["example"] = [e["value"] for e in examples.values()][:5]
    return {
        f"/decisions/{name}": {
            "post": {
                "operationId": f"decide_{name}",
                "tags": [name],
                "summary": about,
                "description": f"Decide one case of `{name}`. {policy}{source}",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": single},
                },
                "responses": {
                    "200": _json(
                        "The outputs and the matched rules.", _ref(f"{name}.Result")
                    ),
                    **errors,
                },
            }
        },
        f"/decisions/{name}/batch": {
            "post": {
                "operationId": f"decide_{name}_batch",
                "tags": [name],
                "summary": f"{about} (many cases)",
                "description": f"Decide up to {limits.max_batch} cases of `{name}` in "
                "one request; each result is in the position of its case. A batch is "
                "decided whole: when a case cannot be decided, the answer is its error, "
                "with `case` its position (from 0).",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": batch},
                },
                "responses": {
                    "200": _json(
                        "One result or error per case, in order.",
                        {
                            "type": "object",
                            "required": ["results"],
                            "properties": {
                                "results": {
                                    "type": "array",
                                    "items": _ref(f"{name}.Result"),
                                }
                            },
                            "additionalProperties": False,
                        },
                    ),
                    **errors,
                },
            }
        },
        f"/decisions/{name}/explain": {
            "post": {
                "operationId": f"explain_{name}",
                "tags": [name],
                "summary": f"Why {name} decides as it does",
                "description": "The version in force, the rules that decided with "
                "their cells, annotations and source, and for every other rule the "
                "first entry that rejected the input; for `from` inputs, the "
                "explanation of each required table.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": single},
                },
                "responses": {
                    "200": _json("The explanation.", _ref(f"{name}.Explanation")),
                    **errors,
                },
            }
        },
    }


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


def _error_responses(decision: Decision) -> dict[str, Any]:
    errors = {
        "400": "The body is not JSON.",
        "404": "No table of this name is served (any more).",
        "413": "The body is larger than the service takes.",
        "422": "An input is unknown, not of its type or outside its Values (the error "
        "names it and its allowed values), no version is in force on `as_of`, or a "
        "batch has more cases than the service takes.",
        "500": "A bug in the service: the error holds a request id to find it in the "
        "log; never a traceback.",
    }
    if any(
        t.hit_policy in (HitPolicy.UNIQUE, HitPolicy.ANY) for t in decision.versions
    ):
        errors["409"] = "Several rules match (UNIQUE), or the matches disagree (ANY)."
    return {code: _json(text, _ref("Error")) for code, text in sorted(errors.items())}


# -- inputs and outputs ----------------------------------------------------------


def inputs_schema(project: Project, decision: Decision) -> dict[str, Any]:
    """The request body of DECISION: every input a caller passes, and `as_of`."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for column in project.chain_inputs(decision.name):
        values = _merged_values(project, column)
        schema = value_schema(column.type, values, nullable=not column.required)
        if column.many:  # version 2: a list input, an array of its elements
            schema = _array(
                value_schema(column.type, values, nullable=False), not column.required
            )
        schema["description"] = (
            ("list of " if column.many else "")
            + column.type.value
            + (", required" if column.required else "")
            + (
                f"; Values: {entry_text(values, column.type)}"
                if values is not None
                else ""
            )
        )
        if column.path:  # version 2: a field of the structured input's object
            _place(properties, required, column.path, schema, column.required)
            continue
        properties[column.name] = schema
        if column.required:
            required.append(column.name)
    if project.chain_versioned(decision.name):
        properties["as_of"] = {
            "type": ["string", "null"],
            "format": "date",
            "description": "The date whose version is in force (default: today).",
        }
    found: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        found["required"] = required
    return {**found, "additionalProperties": False}


def _place(
    properties: dict[str, Any],
    required: list[str],
    path: tuple[str, ...],
    schema: dict[str, Any],
    needed: bool,
) -> None:
    """SCHEMA at PATH among PROPERTIES, each step an object that may hold other
    fields too (a claim record holds more than a table reads), null when not
    NEEDED (a required path input needs every step)."""
    head, *rest = path
    if not rest:
        properties[head] = schema
        if needed:
            required.append(head)
        return
    step = properties.setdefault(
        head,
        {
            "type": ["object", "null"],
            "description": "a structured input: an object whose fields paths read",
            "properties": {},
        },
    )
    if needed:
        step["type"] = "object"
        if head not in required:
            required.append(head)
    inner: list[str] = step.get("required", [])
    _place(step["properties"], inner, tuple(rest), schema, needed)
    if inner:
        step["required"] = inner


def _merged_values(project: Project, column: Column) -> UnaryTests | None:
    """COLUMN's Values over every version of the table that declares it (None when
    one of them has none): what the generated `evaluate` is typed with."""
    for decision in project.decisions:
        if column not in decision.first.inputs:
            continue
        same = [c for t in decision.versions for c in t.inputs if c.name == column.name]
        if any(c.values is None for c in same):
            return None
        tests: list[Test] = []
        for other in same:
            assert other.values is not None
            tests.extend(t for t in other.values.tests if t not in tests)
        return UnaryTests(tuple(tests))
    return column.values


def value_schema(
    type_: DataType, values: UnaryTests | None, *, nullable: bool = True
) -> dict[str, Any]:
    """The JSON Schema of a value of TYPE_ inside VALUES (null allowed when
    NULLABLE: not for a required input)."""
    json_type = _JSON[type_]
    schema: dict[str, Any] = {"type": [json_type, "null"] if nullable else json_type}
    null: list[Any] = [None] if nullable else []
    if type_ is DataType.DATE:
        schema["format"] = "date"
    if type_ is DataType.YEARS_MONTHS:
        schema["format"] = "duration"
    if values is None:
        return schema
    listed = [t.value for t in values.tests if isinstance(t, Equals)]
    if len(listed) == len(values.tests):
        return {**schema, "enum": [*(to_json(v) for v in listed), *null]}
    if type_ not in (DataType.INTEGER, DataType.NUMBER):
        return schema  # ranges of dates and codes: the description says them
    ranges = [_range(t) for t in values.tests if isinstance(t, Interval)]
    parts = ([{"enum": listed}] if listed else []) + ranges
    if len(parts) == 1:
        return {**schema, **parts[0]}
    return {
        "anyOf": [
            *([{"type": "null"}] if nullable else []),
            *({"type": json_type, **p} for p in parts),
        ],
    }


def _array(items: dict[str, Any], nullable: bool = True) -> dict[str, Any]:
    """The JSON Schema of a list (version 2) whose elements are ITEMS."""
    return {"type": ["array", "null"] if nullable else "array", "items": items}


def _range(test: Interval) -> dict[str, Any]:
    low = "minimum" if test.low_closed else "exclusiveMinimum"
    high = "maximum" if test.high_closed else "exclusiveMaximum"
    return {low: test.low, high: test.high}


def outputs_schema(decision: Decision) -> dict[str, Any]:
    """One `Outputs` object of DECISION: every output, typed, null allowed."""
    first = decision.first
    properties: dict[str, Any] = {}
    for index, column in enumerate(first.outputs):
        same = [t.outputs[index] for t in decision.versions]
        values: list[Value] = [c.default for c in same]
        values += [r.outputs[index] for t in decision.versions for r in t.rules]
        if all(c.enumerated for c in same):
            values += [v for c in same for v in c.value_list]
        kind = first.aggregation
        if column.many:  # version 2: a list output, an array (a tuple in Python)
            schema: dict[str, Any] = _array(
                value_schema(column.type, None, nullable=False)
            )
        elif kind is Aggregation.COUNT:
            schema = {"type": ["integer", "null"]}
        elif kind is Aggregation.SUM or not all(c.enumerated for c in same):
            schema = value_schema(column.type, None)
        else:
            enum = list(dict.fromkeys(to_json(v) for v in values if v is not None))
            schema = {**value_schema(column.type, None), "enum": [*enum, None]}
        _place_output(properties, column.path or (column.name,), schema)
    return _closed(properties)


def _closed(properties: dict[str, Any]) -> dict[str, Any]:
    """An object schema of PROPERTIES, all required, and nothing else."""
    return {**_object(properties), "additionalProperties": False}


def _place_output(
    properties: dict[str, Any], path: tuple[str, ...], schema: dict[str, Any]
) -> None:
    """SCHEMA at PATH among PROPERTIES: a path output (`rgb.red`) is a field of
    its structure's object, which always holds every field (null when unset)."""
    head, *rest = path
    if not rest:
        properties[head] = schema
        return
    step = properties.setdefault(head, _closed({}))
    _place_output(step["properties"], tuple(rest), schema)
    step["required"] = list(step["properties"])


def _examples(project: Project, name: str) -> dict[str, Any]:
    """The Tests-sheet cases of table NAME as request examples, by case id."""
    versioned = project.chain_versioned(name)
    paths = {c.name: c.path for c in project.chain_inputs(name) if c.path}
    examples: dict[str, Any] = {}
    for suite in project.suites:
        if suite.table != name:
            continue
        for case in suite.cases:
            if len(examples) >= _MAX_EXAMPLES:
                return examples
            value = _json_tree(nest_paths(case.inputs, paths))
            if versioned and case.as_of is not None:
                value["as_of"] = case.as_of.isoformat()
            key = re.sub(r"[^A-Za-z0-9._-]", "_", case.id) or "case"
            while key in examples:
                key += "_"
            examples[key] = {
                "summary": f"{case.id} ({case.location})",
                "value": value,
            }
    return examples


def _json_tree(value: dict[str, object]) -> dict[str, Any]:
    return {
        k: _json_tree(v) if isinstance(v, dict) else to_json(v)
        for k, v in value.items()
    }


# -- what every service has ------------------------------------------------------

_STRING = {"type": "string"}
_STRINGS = {"type": "array", "items": _STRING}
_DATE_OR_NULL = {"type": ["string", "null"], "format": "date"}


def _object(properties: dict[str, Any], *optional: str) -> dict[str, Any]:
    """An object schema of PROPERTIES, all required but OPTIONAL."""
    required = [name for name in properties if name not in optional]
    return {"type": "object", "required": required, "properties": properties}


_ERROR_CODES = (
    "invalid_json, invalid_body, unknown_input, invalid_input, no_version, ambiguous, "
    "unknown_table, too_large, batch_too_large, not_found, method_not_allowed, "
    "not_ready, internal"
)
_DETAILS = ("table", "input", "value", "allowed", "rules", "tables", "limit", "case")
_SHARED: dict[str, Any] = {
    "Error": _object(
        {
            "error": _object(
                {
                    "status": {"type": "integer"},
                    "code": {**_STRING, "description": _ERROR_CODES},
                    "message": _STRING,
                    "table": _STRING,
                    "input": _STRING,
                    "value": {},
                    "allowed": _STRING,
                    "rules": _STRINGS,
                    "tables": _STRINGS,
                    "limit": {"type": "integer"},
                    "case": {"type": "integer", "description": "batch: the case"},
                    "request_id": _STRING,
                },
                *_DETAILS,
                "request_id",
            )
        }
    ),
    "Entry": _object(
        {
            "input": _STRING,
            "value": {},
            "test": {**_STRING, "description": "`is >= 18`, `is not >= 18`"},
            "cell": _STRING,
            "text": _STRING,
        }
    ),
    "RuleExplanation": _object(
        {
            "id": _STRING,
            "location": _STRING,
            "status": {"enum": ["decided", "outranked", "rejected"]},
            "entries": {"type": "array", "items": _ref("Entry")},
            "rejected_by": {"oneOf": [_ref("Entry"), {"type": "null"}]},
            "annotations": {
                "type": "array",
                "items": _object({"column": _STRING, "text": _STRING}),
            },
            "text": _STRING,
        },
        "text",
    ),
    "Explanation": _object(
        {
            "table": _STRING,
            "hit_policy": _STRING,
            "version": _object(
                {
                    "sheet": _STRING,
                    "effective_from": _DATE_OR_NULL,
                    "effective_to": _DATE_OR_NULL,
                    "title": _STRING,
                    "source": _STRING,
                }
            ),
            "as_of": _DATE_OR_NULL,
            "inputs": {"type": "object"},
            "outputs": {"type": ["object", "array"]},
            "matched": _STRINGS,
            "rules": {"type": "array", "items": _ref("RuleExplanation")},
            "required": {
                "type": "array",
                "items": _object(
                    {"input": _STRING, "explanation": _ref("Explanation")}
                ),
            },
        }
    ),
    "Column": _object(
        {
            "name": _STRING,
            "type": {"enum": [t.value for t in DataType]},
            "values": {"type": ["string", "null"]},
        },
        "values",
    ),
    "Tables": _object(
        {
            "tables": {
                "type": "array",
                "items": _object(
                    {
                        "name": _STRING,
                        "title": _STRING,
                        "source": _STRING,
                        "hit_policy": _STRING,
                        "inputs": {"type": "array", "items": _ref("Column")},
                        "outputs": {"type": "array", "items": _ref("Column")},
                        "versioned": {"type": "boolean"},
                        "versions": {
                            "type": "array",
                            "items": _object(
                                {
                                    "sheet": _STRING,
                                    "effective_from": _DATE_OR_NULL,
                                    "effective_to": _DATE_OR_NULL,
                                }
                            ),
                        },
                        "requires": _STRINGS,
                        "paths": {"type": "object", "additionalProperties": _STRING},
                    }
                ),
            }
        }
    ),
    "Health": _object({"status": {"const": "ok"}}),
    "Readiness": _object(
        {
            "status": {"enum": ["ready", "stale", "not_ready"]},
            "tables": _STRINGS,
            "compiled_at": _STRING,
            "last_compile": {
                "oneOf": [
                    {"type": "null"},
                    _object(
                        {
                            "ok": {"type": "boolean"},
                            "at": _STRING,
                            "errors": {"type": "array", "items": {"type": "object"}},
                            "warnings": {"type": "array", "items": {"type": "object"}},
                        }
                    ),
                ]
            },
        },
        "compiled_at",
    ),
}

_SERVICE_PATHS: dict[str, Any] = {
    "/tables": {
        "get": {
            "operationId": "list_tables",
            "summary": "The tables served: inputs, outputs, versions, paths",
            "responses": {"200": _json("Every table served.", _ref("Tables"))},
        }
    },
    "/health": {
        "get": {
            "operationId": "health",
            "summary": "Liveness: the process answers",
            "responses": {"200": _json("The service is up.", _ref("Health"))},
        }
    },
    "/ready": {
        "get": {
            "operationId": "ready",
            "summary": "Readiness: tables are served, and how the last compilation went",
            "description": "`ready`: the tables compiled and are served. `stale`: "
            "with --reload, the last save had errors (listed in `last_compile`); the "
            "last good tables are still served. `not_ready` (503): no compilation "
            "has succeeded yet.",
            "responses": {
                "200": _json("Tables are served.", _ref("Readiness")),
                "503": _json("No tables are served yet.", _ref("Readiness")),
            },
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": {"200": _json("The OpenAPI document.", {"type": "object"})},
        }
    },
}


def table_list(project: Project) -> dict[str, Any]:
    """The body of `GET /tables`."""
    listed = []
    for decision in project.decisions:
        first = decision.first
        listed.append(
            {
                "name": decision.name,
                "title": first.title,
                "source": first.source,
                "hit_policy": first.hit_policy_text,
                "inputs": [
                    _column(c, _merged_values(project, c))
                    for c in project.chain_inputs(decision.name)
                ],
                "outputs": [_column(c, c.values) for c in first.outputs],
                "versioned": project.chain_versioned(decision.name),
                "versions": [
                    {
                        "sheet": str(t.location),
                        "effective_from": to_json(t.effective_from),
                        "effective_to": to_json(t.effective_to),
                    }
                    for t in decision.versions
                ],
                "requires": list(decision.requires),
                "paths": {
                    "decide": f"/decisions/{decision.name}",
                    "batch": f"/decisions/{decision.name}/batch",
                    "explain": f"/decisions/{decision.name}/explain",
                },
            }
        )
    return {"tables": listed}


def _column(column: Column, values: UnaryTests | None) -> dict[str, Any]:
    return {
        "name": column.header,  # a path input: its path, `claim.member.age`
        "type": column.type.value,
        "values": entry_text(values, column.type) if values is not None else None,
    }
