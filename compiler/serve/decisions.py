"""One decision over HTTP: a JSON body in, the generated evaluator, a JSON body out.

The body is the inputs as a JSON object, by name (`as_of` too, for effective-dated
tables). JSON gives most values their Python type already; dates arrive as ISO text
and become `datetime.date`, and an integer column takes `17.0` as 17, as JSON
Schema counts it an integer. Everything else (types, Values, versions, UNIQUE) is
checked by the generated code itself, so the service accepts exactly what
`evaluate` accepts, and its errors name the input and its allowed values. Every
refusal is a `RequestError`, which the app turns into a structured JSON error.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import re
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from compiler import timetypes
from compiler.diagnostics import CellError
from compiler.emitting.loader import result_json
from compiler.emitting.runtime._explain import to_json
from compiler.model import DataType
from compiler.reading.sheets import suggest

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class RequestError(Exception):
    """What the service answers instead of a decision: an HTTP status, a stable
    `code` for programs, a message for people, and details (`input`, `allowed`...)."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "status": self.status,
                "code": self.code,
                "message": self.message,
                **self.details,
            }
        }


@dataclass(frozen=True, slots=True)
class ServedTable:
    """One table as the service calls it."""

    name: str
    module: types.ModuleType  # its generated module
    runtime: types.ModuleType  # the `_runtime` of its package: the errors it raises
    inputs: dict[str, DataType]  # every input a caller passes, by name
    versioned: bool  # whether it (or a table it requires) takes `as_of`
    # version 2: a structured input (`claim`) -> the paths its columns read below
    # it (`("member", "age")`) and their types; the caller passes it as an object
    structured: dict[str, tuple[tuple[tuple[str, ...], DataType], ...]] = field(
        default_factory=dict
    )


def parse_json(body: bytes) -> Any:
    """BODY as JSON; RequestError 400 when it is not JSON, or has a number JSON
    cannot carry back (NaN, Infinity, or too large for a float)."""

    def finite(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"the number {text[:40]} is too large")
        return value

    def refuse(text: str) -> Any:
        raise ValueError(f"{text} is not a JSON number")

    try:
        return json.loads(body, parse_float=finite, parse_constant=refuse)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError included
        raise RequestError(
            400, "invalid_json", f"the request body is not JSON: {exc}"
        ) from None


def arguments(table: ServedTable, inputs: Any) -> dict[str, Any]:
    """The keyword arguments of TABLE's `evaluate` for INPUTS, a JSON object."""
    if not isinstance(inputs, dict):
        raise RequestError(
            422,
            "invalid_body",
            f"{table.name}: the inputs must be a JSON object of input values by name, "
            f"not {_json_type(inputs)}",
            table=table.name,
        )
    kwargs: dict[str, Any] = {}
    for name, value in inputs.items():
        if name == "as_of" and table.versioned:
            kwargs["as_of"] = _date(table, "as_of", value, nullable=True)
            continue
        if name in table.structured:
            kwargs[name] = _structured(table, name, value)
            continue
        kind = table.inputs.get(name)
        if kind is None:
            raise _unknown_input(table, name)
        if kind is DataType.DATE and isinstance(value, str):
            value = _date(table, name, value)
        elif kind is DataType.YEARS_MONTHS and isinstance(value, str):
            value = _years_months(table, name, value)
        elif kind is DataType.INTEGER and isinstance(value, float):
            if value.is_integer():
                value = int(value)  # JSON Schema: 17.0 is an integer
        kwargs[name] = value
    return kwargs


def decide(table: ServedTable, inputs: Any) -> dict[str, Any]:
    """The result of TABLE on INPUTS, as `eval --json` prints it."""
    kwargs = arguments(table, inputs)
    return result_json(_call(table, table.module.evaluate, kwargs))


def explain(table: ServedTable, inputs: Any) -> dict[str, Any]:
    """The explanation of TABLE on INPUTS (`explain(...).to_json()`)."""
    kwargs = arguments(table, inputs)
    explanation = _call(table, table.module.explain, kwargs)
    data: dict[str, Any] = explanation.to_json()
    return data


def batch(table: ServedTable, cases: Any, limit: int) -> dict[str, Any]:
    """The results of CASES (a JSON array of at most LIMIT input objects), in order.
    A batch is decided whole: the first case that cannot be decided is the answer
    (its error, with `case`, its position from 0)."""
    if not isinstance(cases, list):
        raise RequestError(
            422,
            "invalid_body",
            f"{table.name}: a batch is a JSON array of input objects, "
            f"not {_json_type(cases)}",
            table=table.name,
        )
    if len(cases) > limit:
        raise RequestError(
            422,
            "batch_too_large",
            f"a batch holds at most {limit} cases; this one has {len(cases)}",
            limit=limit,
        )
    results: list[dict[str, Any]] = []
    for position, case in enumerate(cases):
        try:
            results.append(decide(table, case))
        except RequestError as exc:
            exc.message = f"case {position}: {exc.message}"
            exc.details["case"] = position
            raise
    return {"results": results}


def _call(
    table: ServedTable, function: Callable[..., Any], kwargs: dict[str, Any]
) -> Any:
    """FUNCTION(**KWARGS), its DecisionErrors as RequestErrors."""
    runtime = table.runtime
    try:
        return function(**kwargs)
    except runtime.InputError as exc:
        name = _header(table, exc.name)
        raise RequestError(
            422,
            "invalid_input",
            str(exc).replace(f"{exc.name}=", f"{name}=", 1),
            table=exc.table,
            input=name,
            value=to_json(exc.value),
            allowed=exc.allowed,
        ) from None
    except runtime.AmbiguousError as exc:
        raise RequestError(
            409, "ambiguous", str(exc), table=exc.table, rules=list(exc.rules)
        ) from None
    except runtime.NoVersionError as exc:
        raise RequestError(
            422,
            "no_version",
            str(exc),
            table=exc.table,
            input="as_of",
            value=exc.as_of.isoformat(),
        ) from None


def _header(table: ServedTable, name: str) -> str:
    """The input NAME as the request writes it: `member.age` for the path input
    the evaluator calls `member__age`."""
    root, _, rest = name.partition("__")
    if rest and root in table.structured:
        for fields, _kind in table.structured[root]:
            if "__".join(fields) == rest:
                return ".".join((root, *fields))
    return name


def _date(table: ServedTable, name: str, value: Any, nullable: bool = False) -> Any:
    if value is None and nullable:
        return None
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise RequestError(
        422,
        "invalid_input",
        f"{table.name}: {name}={value!r} is not a date; expected ISO text such as "
        "2026-01-31",
        table=table.name,
        input=name,
        value=value,
        allowed="a date as YYYY-MM-DD text" + (", or null" if nullable else ""),
    )


def _years_months(table: ServedTable, name: str, value: str) -> Any:
    """An ISO `P1Y6M` (or `18 months`) as the package's own YearsMonths."""
    try:
        months = timetypes.parse_years_months(value).total
    except CellError as exc:
        raise RequestError(
            422,
            "invalid_input",
            f"{table.name}: {name}={value!r}: {exc}",
            table=table.name,
            input=name,
            value=value,
            allowed="a years and months duration as ISO text such as P1Y6M",
        ) from None
    return table.runtime.YearsMonths(months)


def _structured(table: ServedTable, name: str, value: Any) -> Any:
    """The JSON object VALUE of the structured input NAME as `evaluate` takes it:
    a copy whose date fields (ISO text) are dates, whose years-and-months fields
    (ISO text or authors' words) are YearsMonths, and whole-number floats of
    integer fields are ints; the evaluator checks the rest (a step that is not an
    object, a field of the wrong type)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RequestError(
            422,
            "invalid_input",
            f"{table.name}: {name} must be a JSON object of its fields, not "
            f"{_json_type(value)}",
            table=table.name,
            input=name,
            value=to_json(value),
            allowed="a JSON object, or null",
        )
    copied: dict[str, Any] = copy.deepcopy(value)
    for fields, kind in table.structured[name]:
        node: Any = copied
        for step in fields[:-1]:
            node = node.get(step) if isinstance(node, dict) else None
        if not isinstance(node, dict) or fields[-1] not in node:
            continue
        leaf = node[fields[-1]]
        if kind is DataType.DATE and isinstance(leaf, str):
            node[fields[-1]] = _date(table, ".".join((name, *fields)), leaf)
        elif kind is DataType.YEARS_MONTHS and isinstance(leaf, str):
            node[fields[-1]] = _years_months(table, ".".join((name, *fields)), leaf)
        elif kind is DataType.INTEGER and isinstance(leaf, float) and leaf.is_integer():
            node[fields[-1]] = int(leaf)
    return copied


def _unknown_input(table: ServedTable, name: str) -> RequestError:
    names = [
        *table.inputs,
        *table.structured,
        *(["as_of"] if table.versioned else []),
    ]
    hint = suggest(name, names)
    listed = ", ".join(names) or "none"
    return RequestError(
        422,
        "unknown_input",
        f"{table.name!r} has no input {name!r}"
        + (f"; {hint}" if hint else f"; its inputs: {listed}"),
        table=table.name,
        input=name,
        allowed=listed,
    )


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "an object"
