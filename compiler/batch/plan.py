"""The plan of a run: what every chunk needs, picklable so that Dask workers get it
too. `make_plan` checks the options against the table and the input's schema before
any row is read: which columns the table takes, their types and Values, as of when.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import types
from dataclasses import dataclass, field
from typing import Protocol

import pyarrow as pa

from compiler.batch.columns import cell_message
from compiler.batch.sources import RunError
from compiler.diagnostics import CellError
from compiler.emitting.loader import load_table
from compiler.model import DataType, HitPolicy, Project, UnaryTests
from compiler.reading import cells
from compiler.reading.sheets import suggest


class Job(Protocol):
    """What the engines run: a Plan, or an `impact.Impact` (two plans)."""

    @property
    def dictionary(self) -> tuple[str, ...]: ...

    def output_schema(self, source: pa.Schema) -> pa.Schema: ...

    def coded_schema(self, schema: pa.Schema) -> pa.Schema | None: ...

    def decide(
        self, raw: pa.Table, schema: pa.Schema
    ) -> tuple[pa.Table, list[tuple[int, str, str, str]]]: ...


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: DataType
    many: bool = False  # version 2: a list output, a list per row


@dataclass(frozen=True, slots=True)
class Allowed:
    """The Values of one input of one version of a table that the run evaluates."""

    table: str
    version: int
    column: str
    type: DataType
    values: UnaryTests


@dataclass(frozen=True)
class Plan:
    table: str
    files: dict[str, str]  # the generated package: each process imports it from here
    inputs: tuple[Field, ...]  # what `evaluate` takes, `from` chains included
    outputs: tuple[Field, ...]
    shape: str  # "single", "multi" or "list", as the generated evaluate_frame says
    allowed: tuple[Allowed, ...]
    # the effective-dated tables of the chain: (table, ((from, to), ...) per version)
    versions: tuple[tuple[str, tuple[tuple[dt.date | None, dt.date | None], ...]], ...]
    as_of: dt.date | None = None  # one date for every row
    as_of_column: str | None = None  # or each row's own
    text: bool = False  # CSV output: lists as JSON text
    cells: bool = False  # CSV input: every value is text, read as `eval` reads it
    notes: tuple[str, ...] = ()  # warnings for the user, said before the run
    # Parquet string columns read as dictionaries: the table's string and code inputs
    dictionary: tuple[str, ...] = ()
    token: str = field(default="", compare=False)  # names the sources, for the cache

    # What an engine asks of a plan (and of `impact.Impact`, which runs two).

    def output_schema(self, source: pa.Schema) -> pa.Schema:
        from compiler.batch.chunks import output_schema

        return output_schema(source, self)

    def coded_schema(self, schema: pa.Schema) -> pa.Schema | None:
        from compiler.batch.chunks import coded_schema

        return coded_schema(schema, self)

    def decide(
        self, raw: pa.Table, schema: pa.Schema
    ) -> tuple[pa.Table, list[tuple[int, str, str, str]]]:
        from compiler.batch.chunks import decide_chunk

        return decide_chunk(raw, self, schema)


def make_plan(
    project: Project,
    files: dict[str, str],
    table: str,
    schema: pa.Schema,
    *,
    as_of: str | None = None,
    as_of_column: str | None = None,
    text: bool = False,
    cells: bool = False,
) -> Plan:
    """The plan to run TABLE over a file with SCHEMA. RunError (usage) when the
    options do not fit the table or the file."""
    chain = _chain(project, table)
    versions = tuple(
        (name, tuple((t.effective_from, t.effective_to) for t in d.versions))
        for name in chain
        if (d := project.decision(name)).versioned
    )
    names = list(schema.names)
    first = project.decision(table).first
    outputs = tuple(Field(c.name, c.type, c.many) for c in first.outputs)
    clash = [n for n in [*(f.name for f in outputs), "matched"] if n in names]
    if clash:
        raise RunError(
            f"the input already has column(s) {', '.join(map(repr, clash))}, which "
            f"{table} writes; rename or drop them",
            usage=True,
        )
    notes: list[str] = []
    when = _as_of_option(table, as_of, as_of_column, bool(versions))
    if versions and as_of is None and as_of_column is None:
        if "as_of" in names:
            as_of_column = "as_of"
        else:
            notes.append(
                f"{table} is effective-dated and no --as-of or --as-of-column was "
                f"given: every row is decided as of today, {dt.date.today()}"
            )
    if as_of_column is not None and as_of_column not in names:
        hint = suggest(as_of_column, names)
        raise RunError(
            f"--as-of-column {as_of_column!r}: the input has no such column"
            + (f"; {hint}" if hint else ""),
            usage=True,
        )
    day = when or dt.date.today()
    for name, spans in versions:
        if as_of_column is None and not any(_inside(day, span) for span in spans):
            raise RunError(
                f"no version of {name} is in force on {day}; pass another --as-of",
                usage=True,
            )
    # a path input's column is named by its path (`claim.member.age`), as
    # evaluate_frame takes it
    inputs = tuple(Field(c.header, c.type) for c in project.chain_inputs(table))
    months = [f.name for f in (*inputs, *outputs) if f.type is DataType.YEARS_MONTHS]
    if months:  # version 2: no Arrow column type for them yet
        raise RunError(
            f"{table}: run does not take years-and-months durations yet "
            f"({', '.join(months)}); call evaluate_frame from Python",
            usage=True,
        )
    for column in inputs:
        if column.name not in names:
            hint = suggest(column.name, names)
            notes.append(
                f"the input has no column {column.name!r}: it is missing in every row"
                + (f" ({hint})" if hint else "")
            )
    allowed = tuple(
        Allowed(name, index, c.header, c.type, c.values)
        for name in chain
        for index, version in enumerate(project.decision(name).versions)
        for c in version.inputs
        if not c.source_table and c.values is not None and not c.values.is_any
    )
    kinds = dict(zip(schema.names, schema.types, strict=True))
    dictionary = tuple(
        f.name
        for f in inputs
        if f.type in (DataType.STRING, DataType.CODE)
        and f.name in kinds
        and (
            pa.types.is_string(kinds[f.name]) or pa.types.is_large_string(kinds[f.name])
        )
    )
    sources = {
        k: v for k, v in files.items() if k.endswith(".py") and "/" not in k
    }  # the modules, not the tests
    token = hashlib.sha256(json.dumps([table, sources]).encode()).hexdigest()
    return Plan(
        table=table,
        files=sources,
        inputs=inputs,
        outputs=outputs,
        shape=_shape(project, table),
        allowed=allowed,
        versions=versions,
        as_of=when,
        as_of_column=as_of_column,
        text=text,
        cells=cells,
        notes=tuple(notes),
        dictionary=dictionary,
        token=token,
    )


def _as_of_option(
    table: str, as_of: str | None, as_of_column: str | None, versioned: bool
) -> dt.date | None:
    """--as-of as a date. Like `eval`, an unversioned table refuses both options:
    a date that changes nothing is more likely a mistaken table than intended."""
    if as_of is not None and as_of_column is not None:
        raise RunError("give --as-of or --as-of-column, not both", usage=True)
    if (as_of is not None or as_of_column is not None) and not versioned:
        option = "--as-of" if as_of is not None else "--as-of-column"
        raise RunError(
            f"{table!r} has no effective-dated versions; drop {option}", usage=True
        )
    if as_of is None:
        return None
    try:
        return cells.parse_date_text(as_of.strip())
    except CellError as exc:
        raise RunError(f"--as-of {as_of!r}: {cell_message(exc)}", usage=True) from None


def _chain(project: Project, table: str) -> list[str]:
    """TABLE and every table it requires, transitively, each once."""
    found: dict[str, None] = {}

    def visit(name: str) -> None:
        if name not in found:
            found[name] = None
            for required in project.decision(name).requires:
                visit(required)

    visit(table)
    return list(found)


def _shape(project: Project, table: str) -> str:
    """The shape of the generated evaluate_frame's result (see its docstring)."""
    first = project.decision(table).first
    if first.returns_list:
        return "list"
    if first.aggregation is not None or first.hit_policy is HitPolicy.ANY:
        return "multi"
    return "single"


def _inside(day: dt.date, span: tuple[dt.date | None, dt.date | None]) -> bool:
    start, end = span
    return (start is None or start <= day) and (end is None or day <= end)


_MODULES: dict[str, types.ModuleType] = {}
_LOADING = threading.Lock()


def evaluator(plan: Plan) -> types.ModuleType:
    """The generated module of the plan's table, imported once per process from the
    plan's sources, so that workers run exactly the code of the client's tables."""
    with _LOADING:
        module = _MODULES.get(plan.token)
        if module is None:
            module = _MODULES[plan.token] = load_table(plan.files, plan.table)
    return module
